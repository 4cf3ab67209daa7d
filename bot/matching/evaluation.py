"""Scoring a matcher on an evaluation set: in-scope top-1, out-of-scope fallback, and both per kind.

An evaluation set is a YAML list of questions written by someone who never saw the content (tests/eval):
`q`, `topic` (None = out of scope), `also` (other topics a careful human accepts), `lang`, and in the
newer sets `kind` (short, long, name, mixed for in-scope; near, far for out of scope). Anything that
maps a question to a topic or None can be scored, so socialbot and a baseline are measured alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

LONG_WORDS = 25  # a message this long counts as "long" in a set that has no `kind`


@dataclass(frozen=True)
class Question:
    text: str
    topic: str | None
    also: tuple[str, ...] = ()
    lang: str = ""
    kind: str = ""

    def accepts(self, topic: str | None) -> bool:
        if self.topic is None:
            return topic is None
        return topic is not None and topic in (self.topic, *self.also)


@dataclass
class Tally:
    right: int = 0
    total: int = 0

    @property
    def rate(self) -> float:
        return self.right / self.total if self.total else 0.0

    def add(self, right: bool) -> None:
        self.right += right
        self.total += 1

    def __str__(self) -> str:
        return f"{self.rate * 100:5.1f} % ({self.right}/{self.total})"


@dataclass
class Score:
    in_scope: Tally = field(default_factory=Tally)
    out_of_scope: Tally = field(default_factory=Tally)
    kinds: dict[str, Tally] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.in_scope.rate

    @property
    def fallback(self) -> float:
        return self.out_of_scope.rate


def load_questions(path: Path) -> list[Question]:
    items: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    questions = []
    for item in items:
        topic = item.get("topic")
        kind = item.get("kind") or _kind(str(item["q"]), topic)
        questions.append(Question(str(item["q"]), topic, tuple(item.get("also") or ()),
                                  str(item.get("lang", "")), kind))  # fmt: skip
    return questions


def _kind(text: str, topic: str | None) -> str:
    if topic is None:
        return "out"
    return "long" if len(text.split()) >= LONG_WORDS else "short"


def evaluate(match: Callable[[str], str | None], questions: Iterable[Question]) -> Score:
    """Ask `match` every question; a topic for an out-of-scope question or a wrong topic is a miss."""
    score = Score()
    for question in questions:
        got = match(question.text)
        right = question.accepts(got)
        (score.in_scope if question.topic else score.out_of_scope).add(right)
        score.kinds.setdefault(question.kind, Tally()).add(right)
        if not right:
            score.misses.append(
                f"[{question.kind}] {question.topic or 'out of scope'}, got {got}: {question.text}"
            )
    return score
