"""The crisis check's cost per message, beside the plain way of finding signals, in the same run.

Every typed message is checked for a crisis before anything else, so its cost is paid on every question.
The detector looks up which signal words a message's words can be (an index of exact words, longer forms,
stems and typos) and checks only the signals whose words are all there; the plain way checks every signal
whose first letters appear in the message. Both are run interleaved on the evaluation questions (each
measured on a fresh detector, so that no word is remembered from the other's run), then the full check
(signals + the nearest crisis example) and the matcher for scale.

    python bench/crisis.py [--rounds 3]
    python bench/crisis.py --against main   # this tree's full check beside main's, message by message
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.content import load_content  # noqa: E402
from bot.matching import TopicMatcher  # noqa: E402
from bot.matching.evaluation import load_questions  # noqa: E402
from bot.safety import crisis  # noqa: E402
from bot.safety.crisis import CrisisDetector, Signal, _in_order, _squeeze, normalise, word_starts  # noqa: E402


def plain_scan(detector: CrisisDetector) -> Callable[[str], Signal | None]:
    """Every signal in turn, skipping those whose first two letters no word of the message starts with."""

    def scan(text: str) -> Signal | None:
        norm = normalise(text)
        words = tuple(_squeeze(w) for w in norm.split())
        squashed = norm.replace(" ", "")
        openings = {w[:2] for w in words}
        for signal in detector.signals:
            if not signal.words:
                if signal.in_squashed(squashed, word_starts(norm)):
                    return signal
            elif signal.opening in openings and _in_order(signal.words, words):
                return signal
        return None

    return scan


def timings(
    function: Callable[[str], object], texts: list[str], clock: Callable[[], float] = time.perf_counter
) -> list[float]:
    out = []
    for text in texts:
        start = clock()
        function(text)
        out.append((clock() - start) * 1000)
    return out


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"mean {statistics.mean(values):6.3f} ms  median {statistics.median(values):6.3f} ms  p99 {p99:6.3f} ms"


def fresh_detector(content_dir: Path, cache: Path) -> CrisisDetector:
    crisis._DETECTORS.clear()
    crisis._word_matches.cache_clear()
    crisis._stems.cache_clear()
    crisis._squeeze.cache_clear()
    detector = crisis.detector_for(load_content(content_dir), cache)
    assert detector is not None
    return detector


def reference_check(ref: str, workdir: Path) -> Callable[[str], object]:
    """The full check of another commit (its bot/safety/crisis.py and content/), beside this tree's code."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "content", "bot/safety/crisis.py",
                              "bot/matching/normalize.py"],
                             check=True, capture_output=True).stdout  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(workdir, filter="data")
    spec = importlib.util.spec_from_file_location("crisis_reference", workdir / "bot/safety/crisis.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    detector = module.detector_for(load_content(workdir / "content"), workdir)
    assert detector is not None
    return detector.check  # type: ignore[no-any-return]


def paired(ref: str, texts: dict[str, list[str]]) -> None:
    """This tree's full check against `ref`'s, message by message, which goes first alternating, in CPU time
    of this thread: the ratio holds on a loaded machine."""
    with tempfile.TemporaryDirectory() as workdir:
        theirs = reference_check(ref, Path(workdir))
        ours = fresh_detector(ROOT / "content", ROOT / "state" / "cache").check
        for name, batch in texts.items():
            mine: list[float] = []
            other: list[float] = []
            for i, text in enumerate(batch):
                first, second = (ours, theirs) if i % 2 else (theirs, ours)
                a, b = timings(first, [text], time.thread_time)[0], timings(second, [text], time.thread_time)[0]
                mine.append(a if first is ours else b)
                other.append(b if first is ours else a)
            print(f"{name:<28} {ref}: {summary(other)}")
            print(f"{'':<28} this tree: {summary(mine)}  ratio this/{ref}: "
                  f"{statistics.mean(mine) / statistics.mean(other):.2f} (means), "
                  f"{statistics.median(mine) / statistics.median(other):.2f} (medians)")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", metavar="REF", help="compare the full check with a commit's (e.g. main)")
    args = parser.parse_args()
    if args.against:
        print(f"uptime: load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        sets = {"questions + fresh (sv, en)": ("questions", "fresh")}
        sets |= {f"languages/{path.stem}": (f"languages/{path.stem}",)
                 for path in sorted((ROOT / "tests/eval/languages").glob("*.yaml"))}  # fmt: skip
        batches = {name: [q.text for n in files for q in load_questions(ROOT / f"tests/eval/{n}.yaml")] * args.rounds
                   for name, files in sets.items()}  # fmt: skip
        paired(args.against, batches)
        return 0
    content_dir, cache = ROOT / "content", ROOT / "state" / "cache"
    texts = [
        q.text for name in ("questions", "fresh") for q in load_questions(ROOT / f"tests/eval/{name}.yaml")
    ]
    indexed: list[float] = []
    plain: list[float] = []
    for _ in range(args.rounds):  # interleaved, each on a detector that has seen none of the words
        plain += timings(plain_scan(fresh_detector(content_dir, cache)), texts)
        indexed += timings(fresh_detector(content_dir, cache).signal_in, texts)
    detector = fresh_detector(content_dir, cache)
    full = timings(detector.check, texts)
    matcher = TopicMatcher(load_content(content_dir), cache_dir=cache)
    match = timings(lambda text: matcher.match(text, detect_language=False), texts)
    print(
        f"uptime: load {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {len(texts)} messages x {args.rounds}"
    )
    print(f"signals, plain scan      {summary(plain)}")
    print(f"signals, indexed         {summary(indexed)}")
    print(f"ratio plain/indexed: mean {statistics.mean(plain) / statistics.mean(indexed):.1f}x")
    print(f"full crisis check        {summary(full)}  (signals + nearest example, first sight of each word)")
    print(f"matcher (no language)    {summary(match)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
