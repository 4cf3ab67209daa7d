"""Content and its matcher, loaded together and swapped together on reload."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.content import Content, load_content
from bot.matching import TopicMatcher
from bot.safety.crisis import CrisisDetector, detector_for


@dataclass(frozen=True)
class Knowledge:
    content: Content
    matcher: TopicMatcher
    crisis: CrisisDetector | None = None

    @classmethod
    def load(cls, directory: Path | str, cache_dir: Path | None = None) -> Knowledge:
        """Raises `ContentError` (with FILE:LINE problems) when the content cannot be used.

        With `cache_dir`, the trained matcher is kept there and reused while the content is unchanged.
        """
        from bot.dialog import texts

        content = load_content(directory)
        texts.use(content.texts, content.words)  # texts said without the dialog; the words the dialog reads
        return cls(content, TopicMatcher(content, cache_dir=cache_dir), detector_for(content, cache_dir))

    def people(self) -> list[str]:
        """Names of the people in the content, which the statistics must never keep."""
        return [region.contact.name for region in self.content.regions.values()]
