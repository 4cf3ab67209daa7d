"""Matcher speed: latency per question (median, p99) and questions per second, beside a naive baseline.

The baseline is what one would write first: rapidfuzz's `process.extractOne` over every example phrasing.
Both are measured in the same run on the same questions, so the ratio means something on a noisy machine.
With --scale N the content is grown to N times as many topics (copies with their own words), to show how
the cost grows.

    python bench/matcher.py [--scale 10] [--rounds 3] [--cache DIR] [--set fresh]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from rapidfuzz import fuzz, process  # noqa: E402

from bot.content import Content, load_content  # noqa: E402
from bot.matching import TopicMatcher  # noqa: E402
from bot.matching.normalize import fold  # noqa: E402


def scaled(content: Content, factor: int) -> Content:
    """`factor` times the topics: each copy's examples get a made-up word of its own, so they stay distinct."""
    if factor <= 1:
        return content
    topics = dict(content.topics)
    for copy in range(1, factor):
        for topic in content.topics.values():
            word = f"kopia{copy}x{topic.id.replace('-', '')}"
            examples = {
                lang: tuple(f"{text} {word}" for text in texts) for lang, texts in topic.examples.items()
            }
            new_id = f"{topic.id}-{copy}"
            topics[new_id] = dataclasses.replace(topic, id=new_id, examples=examples, related=())
    return dataclasses.replace(content, topics=topics)


CLOCK = time.perf_counter  # --cpu: time.thread_time, the CPU time of this thread (blind to other processes)


def timed(function: Callable[[str], object], questions: list[str], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        for question in questions:
            start = CLOCK()
            function(question)
            samples.append(CLOCK() - start)
    return samples


def report(name: str, samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    median = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    qps = len(ordered) / sum(ordered)
    print(f"{name:<34} median {median:7.3f} ms   p99 {p99:7.3f} ms   {qps:9.0f} questions/s")
    return median, p99, qps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1, help="grow the content to this many times the topics")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache", type=Path, help="keep the trained matcher here (a rerun loads it)")
    parser.add_argument("--set", default="questions", help="evaluation set in tests/eval (questions, fresh)")
    parser.add_argument("--cpu", action="store_true", help="time CPU used, not wall time (a loaded machine)")
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.thread_time if args.cpu else time.perf_counter

    content = scaled(load_content(ROOT / "content"), args.scale)
    questions = [
        item["q"] for item in yaml.safe_load((ROOT / f"tests/eval/{args.set}.yaml").read_text("utf-8"))
    ]
    examples = [(fold(text), topic) for topic, _, text in content.examples()]
    choices = [text for text, _ in examples]

    start = time.perf_counter()
    matcher = TopicMatcher(content, cache_dir=args.cache)
    build = time.perf_counter() - start
    for question in questions:  # warm caches (spelling corrections, stems) as a running bot would have
        matcher.match(question)

    def naive(question: str) -> object:
        return process.extractOne(fold(question), choices, scorer=fuzz.WRatio)

    print(
        f"uptime: load {' '.join(f'{x:.2f}' for x in os.getloadavg())}; timing {'CPU' if args.cpu else 'wall'}"
    )
    print(f"content: {len(content.topics)} topics, {len(choices)} examples; {len(questions)} questions x "
          f"{args.rounds} rounds; matcher built in {build * 1000:.0f} ms")  # fmt: skip
    base = report("baseline (extractOne, WRatio)", timed(naive, questions, args.rounds))
    ours = report("socialbot matcher", timed(matcher.match, questions, args.rounds))
    alone = report("  of it without language detection", timed(
        lambda q: matcher.match(q, detect_language=False), questions, args.rounds))  # fmt: skip
    report("  language detection alone", timed(matcher.language, questions, args.rounds))
    print(f"ratio ours/baseline: median {ours[0] / base[0]:.2f}x, p99 {ours[1] / base[1]:.2f}x, "
          f"throughput {ours[2] / base[2]:.2f}x")  # fmt: skip
    print(f"target p99 < 2 ms: {'met' if ours[1] < 2.0 else 'NOT met'} "
          f"(without language detection: {'met' if alone[1] < 2.0 else 'NOT met'})")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
