"""`socialbot validate`: every content problem as `FILE:LINE: message`.

Loading checks each file and the rules between files. On top of that, every example phrasing is run
through the real matcher: an example that would be answered with another topic (or a "did you mean")
is reported at its own line, so staff see at once when a new example collides with another topic.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.content.loader import ContentError, load_content
from bot.content.model import Content
from bot.content.problems import Problem

if TYPE_CHECKING:
    from bot.matching import TopicMatcher


@dataclass(frozen=True)
class Report:
    content: Content | None
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        """No errors (warnings, e.g. a draft translation's gaps, do not make content unusable)."""
        return not any(not problem.warning for problem in self.problems)


def validate(directory: Path | str) -> Report:
    try:
        content = load_content(directory)
    except ContentError as exc:
        return Report(None, exc.problems)
    from bot.safety.crisis import crisis_problems

    return Report(content, sorted([*content.warnings, *routing_problems(content), *crisis_problems(content)]))


def routing_problems(content: Content, matcher: TopicMatcher | None = None) -> list[Problem]:
    """Every example that `matcher` (by default one trained on `content`) would not answer with its own topic."""
    from bot.matching import TopicMatcher

    matcher = matcher or TopicMatcher(content)
    problems = []
    for topic in content.topics.values():
        for lang, examples in topic.examples.items():
            for index, example in enumerate(examples):
                match = matcher.match(example, detect_language=False)
                if match.topic == topic.id and not match.did_you_mean:
                    continue
                if match.topic is None:
                    why = "would get no answer (it looks out of scope)"
                elif match.topic != topic.id:
                    why = f"would be answered with the topic '{match.topic}'"
                else:
                    why = f"is too close to {', '.join(repr(t) for t in match.did_you_mean if t != topic.id)}"
                line = topic.example_lines.get((lang, index), 1)
                # In a draft translation this is a warning: the content still works, the example just
                # teaches the matcher less; once the language is reviewed it is an error like in Swedish.
                problems.append(Problem(topic.example_files.get(lang, topic.file), line,
                                        f"the example '{example}' {why}: reword it",
                                        warning=content.is_draft(lang)))  # fmt: skip
    return problems
