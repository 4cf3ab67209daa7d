"""Choose the matcher's threshold (and regularisation) by cross-validation over the content's own examples.

Each fold hides a fifth of the example phrasings and out-of-scope examples, trains on the rest, and asks
the hidden ones: in-scope examples should get their topic, out-of-scope ones no topic. The threshold that
does best on both at once is printed; the evaluation set in tests/eval is never looked at here.

    python bench/calibrate.py [--folds 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.content import Content, load_content  # noqa: E402
from bot.matching import linear  # noqa: E402
from bot.matching.matcher import OUT_OF_SCOPE, TopicMatcher  # noqa: E402


def folds(content: Content, k: int, seed: int = 7) -> list[tuple[Content, list[tuple[str, str | None]]]]:
    items = [(t, lang, e) for t, lang, e in content.examples()]
    items += [(OUT_OF_SCOPE, lang, e) for lang, es in content.out_of_scope.items() for e in es]
    random.Random(seed).shuffle(items)
    out = []
    for i in range(k):
        held = set(items[i::k])
        topics = {
            tid: dataclasses.replace(t, examples={lang: tuple(e for e in t.examples[lang] if (tid, lang, e) not in held)
                                                  for lang in t.examples})
            for tid, t in content.topics.items()
        }  # fmt: skip
        oos = {
            lang: tuple(e for e in es if (OUT_OF_SCOPE, lang, e) not in held)
            for lang, es in content.out_of_scope.items()
        }
        questions = [(e, None if t == OUT_OF_SCOPE else t) for t, _, e in items[i::k]]
        out.append((dataclasses.replace(content, topics=topics, out_of_scope=oos), questions))
    return out


Row = tuple[str | None, str, float, float, float]


def outcomes(matcher: TopicMatcher, questions: list[tuple[str, str | None]]) -> list[Row]:
    """(gold, best topic, its score, out-of-scope score, unknown share) per question; thresholds come after."""
    rows = []
    for text, gold in questions:
        scores = matcher.scores(text)
        oos = scores.pop(OUT_OF_SCOPE, float("-inf"))
        best = max(scores, key=scores.__getitem__)
        rows.append((gold, best, scores[best], oos, matcher.unknown_share(text)))
    return rows


def rates(rows: list[Row], threshold: float, penalty: float) -> tuple[float, float]:
    """Held-out in-scope accuracy and out-of-scope fallback, deciding as TopicMatcher.match does."""
    right_in = n_in = right_out = n_out = 0
    for gold, best, score, oos, unknown in rows:
        predicted = best if score - penalty * unknown >= threshold and score > oos else None
        if gold is None:
            n_out += 1
            right_out += predicted is None
        else:
            n_in += 1
            right_in += predicted == gold
    return right_in / max(n_in, 1), right_out / max(n_out, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    content = load_content(ROOT / "content")
    splits = folds(content, args.folds)
    best = None
    for c in (0.3, 1.0, 3.0):
        linear.C = c
        rows = [row for fold, questions in splits for row in outcomes(TopicMatcher(fold), questions)]
        for penalty in (0.0, 0.3, 0.6, 1.0):
            for step in range(-10, 6):
                threshold = step / 10
                accuracy, fallback = rates(rows, threshold, penalty)
                if best is None or min(accuracy, fallback) > best[0]:
                    best = (min(accuracy, fallback), c, penalty, threshold, accuracy, fallback)
            _, bc, bp, bt, ba, bf = best
            print(f"C={c:<4} penalty={penalty}: best so far C={bc} penalty={bp} threshold={bt:+.1f} "
                  f"(held-out in-scope {ba:.3f}, out-of-scope {bf:.3f})")  # fmt: skip
    _, c, penalty, threshold, accuracy, fallback = best
    print(f"\nchosen: C={c} UNKNOWN_PENALTY={penalty} THRESHOLD={threshold:+.1f} "
          f"(held-out in-scope {accuracy:.3f}, out-of-scope fallback {fallback:.3f})")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
