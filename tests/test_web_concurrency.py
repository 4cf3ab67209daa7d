"""`socialbot web` answers in several threads at once: the matcher and the crisis check must give each
thread the answer it would give alone (snowball stemmers, for one, keep their word inside themselves)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path

import yaml

from bot.knowledge import Knowledge
from bot.matching import analysis, normalize
from bot.safety import crisis

EVAL = Path(__file__).parent / "eval"


def clear_caches() -> None:
    """So that the threads really stem and compare words instead of reading earlier results."""
    for cached in (normalize.stems, crisis._stems, crisis._word_matches, analysis.char_grams):
        cached.cache_clear()  # type: ignore[attr-defined]


def test_threads_at_once_answer_as_one_thread_alone(knowledge: Knowledge) -> None:
    questions = [item["q"] for name in ("questions.yaml", "fresh.yaml")
                 for item in yaml.safe_load((EVAL / name).read_text(encoding="utf-8"))][:400]  # fmt: skip

    def answer(text: str) -> tuple[object, ...]:
        match = knowledge.matcher.match(text)
        hit = knowledge.crisis.check(text) if knowledge.crisis else None
        return match.topic, round(match.score, 6), match.lang, hit

    clear_caches()
    alone = [answer(q) for q in questions]
    clear_caches()
    results: dict[int, tuple[object, ...]] = {}
    errors: list[BaseException] = []

    def worker(share: int) -> Callable[[], None]:
        def run() -> None:
            try:
                for index in range(share, len(questions), 4):
                    results[index] = answer(questions[index])
            except BaseException as error:  # reported below
                errors.append(error)

        return run

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show at once
    try:
        threads = [threading.Thread(target=worker(share)) for share in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors, errors[:3]
    assert [results[i] for i in range(len(questions))] == alone
