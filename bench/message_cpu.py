"""CPU time per message, by component, through the real engine (SQLite), in this process.

    .venv/bin/python bench/message_cpu.py [--mix load|typed|both] [--messages 600] [--rounds 3]

Wall-clock latency on a shared machine says more about the other users than about us; the CPU time a
message costs (time.process_time) holds on a loaded machine. Two mixes:
- load: bench/load.py's ten questions in 50 chats that have chosen Sundsvall and Swedish (the Telegram tail);
- typed: every evaluation question of tests/eval once, in turn (bench/web_load.py's typed mix: no text twice).
Each component's time is its own (exclusive): the matcher's figure leaves out the language detection it
calls, storage is every call into the store (transactions included), "dialog and engine" is the rest.
The median of `--rounds` rounds is printed, each round a fresh pass over `--messages` messages.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import QUESTIONS  # noqa: E402
from bench.web_load import questions as typed_questions  # noqa: E402
from bot.dialog.model import CommandMessage, TextMessage  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.knowledge import Knowledge  # noqa: E402
from bot.storage import open_store  # noqa: E402

COMPONENTS = ("crisis check", "language detection", "matcher", "storage", "dialog and engine")


class Clock:
    """Exclusive process time per component: a component's time stops while a nested one runs."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self._stack: list[list[Any]] = []  # [name, started]

    @contextmanager
    def on(self, name: str) -> Iterator[None]:
        now = time.process_time()
        if self._stack:
            outer = self._stack[-1]
            self.spent[outer[0]] += now - outer[1]
        self._stack.append([name, now])
        try:
            yield
        finally:
            now = time.process_time()
            self.spent[name] += now - self._stack.pop()[1]
            if self._stack:
                self._stack[-1][1] = now

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.on(name):
                return function(*args, **kwargs)

        return timed


def instrument(engine: Engine, clock: Clock) -> None:
    knowledge = engine.knowledge
    if knowledge.crisis is not None:
        knowledge.crisis.check = clock.wrap("crisis check", knowledge.crisis.check)  # type: ignore[method-assign]
    matcher: Any = knowledge.matcher
    matcher.detector.detect = clock.wrap("language detection", matcher.detector.detect)
    matcher.match = clock.wrap("matcher", matcher.match)
    store: Any = engine.store
    for name in ("load_state", "save_state", "record_event", "record_unanswered", "conversation_hash",
                 "names_of", "taken", "bookings_of", "enqueue", "execute", "person_hash"):  # fmt: skip
        setattr(store, name, clock.wrap("storage", getattr(store, name)))
    transaction = store.transaction

    @contextmanager
    def timed_transaction() -> Iterator[None]:
        manager = transaction()
        with clock.on("storage"):
            manager.__enter__()
        try:
            yield
        except BaseException:
            with clock.on("storage"):
                if not manager.__exit__(*sys.exc_info()):
                    raise
        else:
            with clock.on("storage"):
                manager.__exit__(None, None, None)

    store.transaction = timed_transaction


def run(mix: str, messages: int, rounds: int, cache: Path) -> None:
    state = Path(tempfile.mkdtemp(prefix="message-cpu-"))
    engine = Engine(Knowledge.load(ROOT / "content", cache), open_store(state), channel="telegram")
    chats = [f"telegram:{100_000 + i}" for i in range(50)]
    for chat in chats:  # as bench/load.py: language and region chosen before the measured part
        engine.handle(chat, CommandMessage("start", "sundsvall"))
        engine.handle(chat, TextMessage("Svenska"))
    texts = QUESTIONS if mix == "load" else typed_questions()
    source = itertools.cycle(texts)
    for i in range(min(100, messages)):  # warm: first-use loads (the language model), caches of the load mix
        engine.handle(chats[i % len(chats)], TextMessage(next(source)))
    clock = Clock()
    instrument(engine, clock)
    per_round: list[dict[str, float]] = []
    for _ in range(rounds):
        clock.spent.clear()
        with clock.on("dialog and engine"):
            for i in range(messages):
                engine.handle(chats[i % len(chats)], TextMessage(next(source)))
        per_round.append({name: clock.spent[name] / messages * 1000 for name in COMPONENTS})
    print(f"{mix} mix: {len(texts)} distinct texts, {messages} messages x {rounds} rounds; "
          f"CPU ms per message (median of rounds):")  # fmt: skip
    total = [sum(r.values()) for r in per_round]
    for name in COMPONENTS:
        value = statistics.median(r[name] for r in per_round)
        print(f"  {name:<20} {value:6.3f}")
    print(
        f"  {'total':<20} {statistics.median(total):6.3f}   (rounds: {', '.join(f'{t:.3f}' for t in total)})"
    )
    engine.store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mix", choices=("load", "typed", "both"), default="both")
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "socialbot-bench-cache",
                        help="the trained matcher and calibrated indexes, kept between runs")  # fmt: skip
    args = parser.parse_args()
    print(f"load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    for mix in ("load", "typed") if args.mix == "both" else (args.mix,):
        run(mix, args.messages, args.rounds, args.cache)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
