"""The topic matcher: a linear classifier over word stems and character n-grams, honest about doubt.

Every example phrasing, keyword and title in the content is a training example for its topic; the
out-of-scope examples train a class of their own, so "what's the weather" lands there instead of on the
nearest real topic. A question gets the topic with the highest decision value, unless that value is
below `threshold` or the out-of-scope class wins: then the bot says it does not know. Words the content
has never seen count against a question ("boka tid på vårdcentralen" is not a booking question). When the
runner-up is within `margin` of the winner it asks "did you mean A or B?". Both numbers are chosen by
cross-validation over the content's own examples (bench/calibrate.py), never on the evaluation set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.content.model import Content
from bot.language import LanguageDetector
from bot.matching.analysis import Analyzer
from bot.matching.linear import LinearModel

OUT_OF_SCOPE = "__out_of_scope__"
MAX_QUESTION_CHARS = 500  # a pasted essay is cut: the first lines say what it is about
# Chosen by bench/calibrate.py (5-fold cross-validation over the content's examples, best on both
# held-out in-scope accuracy and out-of-scope fallback at once). Rerun it after large content changes.
THRESHOLD = -0.4
UNKNOWN_PENALTY = 1.0  # per share of the question's words that the content has never seen
MARGIN = 0.12


@dataclass(frozen=True)
class Match:
    """What the matcher made of a question. `topic` is None when the bot should not pretend to know."""

    topic: str | None
    score: float
    did_you_mean: tuple[str, ...] = ()  # two or more close topics, best first, when unsure between them
    lang: str | None = None  # the language the question seems to be written in
    ranking: tuple[tuple[str, float], ...] = ()  # best real topics with scores, for debugging

    @property
    def band(self) -> str:
        """A coarse score band for anonymous statistics."""
        return "high" if self.score >= 0.3 else "medium" if self.score >= 0.0 else "low"


class Matcher(Protocol):
    def match(self, text: str) -> Match: ...

    def language(self, text: str) -> str | None: ...


class TopicMatcher:
    """Matches questions to a `Content`'s topics."""

    def __init__(self, content: Content, *, threshold: float = THRESHOLD, margin: float = MARGIN,
                 unknown_penalty: float = UNKNOWN_PENALTY, cache_dir: Path | None = None) -> None:  # fmt: skip
        self.threshold = threshold
        self.margin = margin
        self.unknown_penalty = unknown_penalty
        training: list[tuple[str, str | None, str]] = []  # topic, language, text
        for topic in content.topics.values():
            for lang, examples in topic.examples.items():
                training += [(topic.id, lang, text) for text in examples]
            training += [(topic.id, None, word) for word in topic.keywords]
            # A variant such as easy Swedish (sv-x-easy) is matched with its base language's examples.
            training += [(topic.id, lang, title) for lang, title in topic.title.items() if "-" not in lang]
        for lang, examples in content.out_of_scope.items():
            training += [(OUT_OF_SCOPE, lang, text) for text in examples]
        self.analyzer = Analyzer(((lang, text) for _, lang, text in training), content.synonyms)
        vectors = [self.analyzer.vector(text) for _, _, text in training]
        self.model = LinearModel.cached(vectors, [topic for topic, _, _ in training], cache_dir)
        # Languages worth telling apart: the content's own (variants such as sv-x-easy are read as their
        # base language) and those with a notice. Swedish and English by the content's vocabulary.
        known = {code.split("-")[0] for code in content.language_info} | set(content.languages)
        self.detector = LanguageDetector(known | set(content.notices), self.analyzer.language, cache_dir)

    def tokens(self, text: str) -> list[str]:
        return self.analyzer.tokens(text[:MAX_QUESTION_CHARS])

    def language(self, text: str) -> str | None:
        return self.detector.detect(text[:MAX_QUESTION_CHARS])

    def scores(self, text: str) -> dict[str, float]:
        """Every topic's decision value (the out-of-scope class included)."""
        values = self.model.scores(self.analyzer.vector(text[:MAX_QUESTION_CHARS]))
        return dict(zip(self.model.classes, values.tolist(), strict=True))

    def unknown_share(self, text: str) -> float:
        """The share of the question's meaningful words that appear nowhere in the content."""
        return self.analyzer.unknown_share(text[:MAX_QUESTION_CHARS])

    def match(self, text: str, *, detect_language: bool = True) -> Match:
        vector, unknown = self.analyzer.analyse(text[:MAX_QUESTION_CHARS])  # the words are read once
        scores = dict(zip(self.model.classes, self.model.scores(vector).tolist(), strict=True))
        out_of_scope = scores.pop(OUT_OF_SCOPE, float("-inf"))
        ranking = tuple(sorted(scores.items(), key=lambda item: -item[1])[:3])
        lang = self.language(text) if detect_language else None
        if not ranking:
            return Match(None, 0.0, lang=lang)
        best_topic, best = ranking[0]
        if best - self.unknown_penalty * unknown < self.threshold or out_of_scope >= best:
            return Match(None, best, lang=lang, ranking=ranking)
        close = tuple(t for t, s in ranking if s >= self.threshold and best - s <= self.margin)
        return Match(
            best_topic, best, did_you_mean=close if len(close) > 1 else (), lang=lang, ranking=ranking
        )
