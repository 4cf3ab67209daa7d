"""socialbot's matcher beside a strong simple baseline, on every evaluation set, in one run.

The baseline (bot/matching/baseline.py) is a character 2-5-gram TF-IDF + logistic regression trained on
the same content with the out-of-scope examples as a class, its probability threshold chosen by
cross-validation over the content. Both are scored on each set in tests/eval that has topics (the
original questions and the fresh set written blind), overall and per kind of question.

    python bench/baselines.py [--misses] [SET.yaml ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.content import load_content  # noqa: E402
from bot.matching import TopicMatcher  # noqa: E402
from bot.matching.baseline import CharNgramBaseline  # noqa: E402
from bot.matching.evaluation import Question, Score, evaluate, load_questions  # noqa: E402

SETS = (ROOT / "tests/eval/questions.yaml", ROOT / "tests/eval/fresh.yaml")
TARGET_IN, TARGET_OUT, LEAD = 0.96, 0.95, 0.03  # the targets: both sets, ahead by 3 points


def table(name: str, ours: Score, base: Score) -> list[str]:
    lines = [f"\n{name}", f"  {'':<22} {'baseline':>20}   {'socialbot':>20}   {'lead':>7}"]
    rows = [
        ("in-scope top-1", base.in_scope, ours.in_scope),
        ("out-of-scope fallback", base.out_of_scope, ours.out_of_scope),
    ]
    rows += [(f"  kind {kind}", base.kinds[kind], ours.kinds[kind]) for kind in sorted(ours.kinds)]
    for label, b, o in rows:
        lines.append(f"  {label:<22} {b!s:>20}   {o!s:>20}   {(o.rate - b.rate) * 100:+6.1f}")
    return lines


def verdict(ours: Score, base: Score) -> list[str]:
    """What is short of the targets, as sentences (empty when every target is met)."""
    short = []
    if ours.accuracy < TARGET_IN:
        short.append(f"in-scope {ours.accuracy:.3f} < {TARGET_IN}")
    if ours.fallback < TARGET_OUT:
        short.append(f"out-of-scope {ours.fallback:.3f} < {TARGET_OUT}")
    if ours.accuracy < base.accuracy + LEAD:
        short.append(f"in-scope lead {ours.accuracy - base.accuracy:+.3f} < {LEAD}")
    if ours.fallback < base.fallback + LEAD:
        short.append(f"out-of-scope lead {ours.fallback - base.fallback:+.3f} < {LEAD}")
    return short


def did_you_mean(matcher: TopicMatcher, questions: list[Question]) -> str:
    """How "did you mean" (the calibrated margin) plays out: wrong answers turned into a choice holding a
    right topic, right answers delayed by a choice, out-of-scope questions answered with a choice."""
    rescued = delayed = out = shown = 0
    for question in questions:
        match = matcher.match(question.text, detect_language=False)
        if not match.did_you_mean:
            continue
        shown += 1
        if question.topic is None:
            out += 1
        elif question.accepts(match.topic):
            delayed += 1
        elif any(question.accepts(topic) for topic in match.did_you_mean):
            rescued += 1
    return (f"  did you mean (margin {matcher.margin:.2f}): shown {shown}x; wrong answers turned into a "
            f"choice with the right topic {rescued}, right answers delayed {delayed}, out of scope {out}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path, default=list(SETS))
    parser.add_argument("--misses", action="store_true", help="print every question socialbot gets wrong")
    args = parser.parse_args()
    content = load_content(ROOT / "content")
    start = time.perf_counter()
    matcher = TopicMatcher(content)
    built = time.perf_counter() - start
    start = time.perf_counter()
    baseline = CharNgramBaseline(content)
    print(f"socialbot built in {built:.1f} s; baseline built in {time.perf_counter() - start:.1f} s "
          f"(threshold p >= {baseline.threshold:.2f})")  # fmt: skip
    failed = False
    for path in args.sets:
        questions = load_questions(path)
        ours = evaluate(lambda text: matcher.match(text).topic, questions)
        base = evaluate(baseline.topic, questions)
        print("\n".join(table(f"{path.name}: {len(questions)} questions", ours, base)))
        print(did_you_mean(matcher, questions))
        short = verdict(ours, base)
        print("  targets: " + ("met" if not short else "NOT met: " + "; ".join(short)))
        failed |= bool(short)
        if args.misses:
            print("\n".join("    " + miss for miss in ours.misses))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
