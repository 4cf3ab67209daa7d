"""The matcher scored on an evaluation set written independently of the content's examples.

tests/eval/questions.yaml: real-world-style questions with the topic a careful human would choose (or
null for out of scope). This test fails when in-scope top-1 accuracy or the out-of-scope fallback rate
drops below 90%. `python -m tests.test_eval` prints the figures and the misses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.content.model import Content
from bot.knowledge import Knowledge
from bot.matching.normalize import fold

EVAL = Path(__file__).parent / "eval" / "questions.yaml"
FLOOR = 0.90


@dataclass
class Score:
    in_scope: int = 0
    in_scope_right: int = 0
    out_of_scope: int = 0
    out_of_scope_right: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.in_scope_right / self.in_scope

    @property
    def fallback(self) -> float:
        return self.out_of_scope_right / self.out_of_scope


def load_eval() -> list[dict]:
    return yaml.safe_load(EVAL.read_text(encoding="utf-8"))


def evaluate(knowledge: Knowledge, items: list[dict]) -> Score:
    score = Score()
    for item in items:
        match = knowledge.matcher.match(item["q"])
        if item["topic"] is None:
            score.out_of_scope += 1
            score.out_of_scope_right += match.topic is None
            if match.topic is not None:
                score.misses.append(f"out of scope, got {match.topic} ({match.score:.2f}): {item['q']}")
        else:
            score.in_scope += 1
            right = match.topic in {item["topic"], *item.get("also", [])}
            score.in_scope_right += right
            if not right:
                score.misses.append(f"{item['topic']}, got {match.topic} ({match.score:.2f}): {item['q']}")
    return score


def test_eval_set_is_big_and_varied_enough() -> None:
    items = load_eval()
    assert len(items) >= 400
    assert sum(i["topic"] is None for i in items) >= 80
    assert sum(i["lang"] == "en" for i in items) >= 100
    assert sum(i.get("variant") in ("ascii", "typo") for i in items) >= 60


def test_eval_questions_are_not_copied_from_the_content(knowledge: Knowledge) -> None:
    content: Content = knowledge.content
    examples = {fold(text) for _, _, text in content.examples()}
    examples |= {fold(t) for texts in content.out_of_scope.values() for t in texts}
    copied = [i["q"] for i in load_eval() if fold(i["q"]) in examples]
    assert not copied, f"evaluation questions found in content: {copied}"


def test_matcher_accuracy_and_fallback_on_the_eval_set(knowledge: Knowledge) -> None:
    score = evaluate(knowledge, load_eval())
    report = f"in-scope top-1 {score.accuracy:.3f}, out-of-scope fallback {score.fallback:.3f}"
    assert score.accuracy >= FLOOR and score.fallback >= FLOOR, report + "\n" + "\n".join(score.misses)


if __name__ == "__main__":
    from tests.conftest import CONTENT

    result = evaluate(Knowledge.load(CONTENT), load_eval())
    print("\n".join(result.misses))
    print(f"in-scope top-1 accuracy: {result.in_scope_right}/{result.in_scope} = {result.accuracy:.3f}")
    print(
        f"out-of-scope fallback:   {result.out_of_scope_right}/{result.out_of_scope} = {result.fallback:.3f}"
    )
