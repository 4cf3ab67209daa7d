"""`socialbot ask "hej"` start-up: wall time of the whole command, warm (caches filled), beside a baseline.

The baseline is the interpreter itself starting and importing numpy (what any numeric Python tool pays),
run interleaved with the command so that the ratio holds on a loaded machine. Then, in one process, the
phases: imports, loading the content, the matcher (from its cache), the crisis detector (from its cache).

    python bench/startup.py [--rounds 7] [--state DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.5  # seconds, warm (the figure)

PHASES = """
import sys, time
from pathlib import Path
t0 = time.perf_counter()
from bot.content import load_content
from bot.matching import TopicMatcher
from bot.safety.crisis import detector_for
import bot.dialog.core
t1 = time.perf_counter()
content = load_content(sys.argv[1])
t2 = time.perf_counter()
TopicMatcher(content, cache_dir=Path(sys.argv[2]))
t3 = time.perf_counter()
detector_for(content, Path(sys.argv[2]))
t4 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3)
"""


def run(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env, cwd=ROOT)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--state", help="state directory (default: a new one; the first run fills its cache)")
    args = parser.parse_args()
    state = Path(args.state or tempfile.mkdtemp(prefix="socialbot-startup-"))
    env = dict(os.environ, SOCIALBOT_STATE=str(state), SOCIALBOT_CONTENT=str(ROOT / "content"))
    ask = [sys.executable, "-m", "bot", "ask", "hej"]
    baseline = [sys.executable, "-c", "import numpy"]
    cold = run(ask, env)  # fills the cache when it is empty
    asks, bases = [], []
    for _ in range(args.rounds):
        bases.append(run(baseline, env))
        asks.append(run(ask, env))
    phases = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", PHASES, str(ROOT / "content"), str(state / "cache")],
                             check=True, capture_output=True, text=True, cwd=ROOT).stdout  # fmt: skip
        phases.append([float(x) for x in out.split()])
    ask_median, base_median = statistics.median(asks), statistics.median(bases)
    print(
        f"uptime: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (load 1/5/15 min)"
    )
    print(f"first run (cache {'filled' if cold > 2 * ask_median else 'already warm'}): {cold:.2f} s")
    print(
        f"socialbot ask hej, warm: median {ask_median:.2f} s, min {min(asks):.2f} s over {args.rounds} runs"
    )
    print(f"baseline (python -c 'import numpy'): median {base_median:.2f} s, min {min(bases):.2f} s")
    print(
        f"ratio ask/baseline: {ask_median / base_median:.1f}x (median), {min(asks) / min(bases):.1f}x (min)"
    )
    names = ("imports", "content", "matcher (cached)", "crisis detector (cached)")
    for name, values in zip(names, zip(*phases, strict=True), strict=True):
        print(f"  {name:26} {statistics.median(values):.2f} s")
    verdict = "met" if min(asks) < TARGET else "NOT met"
    print(f"target warm < {TARGET} s: {verdict} (fastest run; the median shows the machine's load)")
    return 0 if min(asks) < TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
