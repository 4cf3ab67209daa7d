"""One chat floods; do the others notice? Through the real PTB Application and the Bot API server in its own process.

40 quiet chats each ask a question every 2 seconds (20 messages a second in all, spread evenly, inside Telegram's
30). In the flood run one more chat sends 100 messages a second and Telegram gives it a 30 s flood-wait (a 429 for
that chat). Printed: the quiet chats' reply p99 in the quiet run and in the flood run, and their ratio, measured in
the same run for two set-ups:
  - before: python-telegram-bot's AIORateLimiter (a 429 halts every request, uncapped) and no limit on incoming
    messages per chat (what the bot had before issue 11);
  - after: the bot as deployed (PerChatRateLimiter, IncomingLimit).

    python bench/flood.py [--seconds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram.ext import AIORateLimiter  # noqa: E402

from bench.load import RemoteBotAPI  # noqa: E402
from bot.channels.ratelimit import IncomingLimit  # noqa: E402
from bot.channels.telegram import TelegramChannel  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.knowledge import Knowledge  # noqa: E402
from bot.storage import open_store  # noqa: E402

QUIET = [200_000 + i for i in range(40)]
FLOODER = 999_999
WAIT_FOR_ALL = 60.0  # seconds after the last message that a quiet chat's answer is waited for
QUESTIONS = ["vad är lönebidrag", "hur funkar arbetsträning", "vad gör coompanion", "what is work training"]


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.99) - 1)] if ordered else float("nan")


async def run(setup: str, flood: bool, seconds: float, knowledge: Knowledge) -> tuple[float, int]:
    """The quiet chats' p99 (seconds) and how many messages the flooder got answered."""
    quiet_pushed = 0
    state = Path(tempfile.mkdtemp(prefix="socialbot-flood-"))
    try:
        async with RemoteBotAPI() as api:
            engine = Engine(knowledge, open_store(state), channel="telegram")
            channel = TelegramChannel(engine, Config(content_dir=ROOT / "content", state_dir=state))
            before = setup == "before"
            application = channel.build(api.token, base_url=api.base_url, base_file_url=api.base_file_url,
                                        rate_limiter=AIORateLimiter(max_retries=3) if before else None)  # fmt: skip
            if before:
                channel.incoming = IncomingLimit(burst=float("inf"))
            async with application:
                await channel.on_startup(application)
                await application.start()
                await application.updater.start_polling(poll_interval=0, timeout=1)
                try:
                    await api.push([(chat, "/start sundsvall") for chat in [*QUIET, FLOODER]])
                    await api.drain()
                    await api.push([(chat, "Svenska") for chat in [*QUIET, FLOODER]])
                    await api.drain()
                    _, mark = await api.latencies(0)
                    if flood:
                        async with api.session.post("/fail", json={"method": "sendMessage", "status": 429,
                                                                   "retry_after": 30, "chat_id": FLOODER}):  # fmt: skip
                            pass
                    begin, tick, step = time.perf_counter(), 0, 2.0 / len(QUIET)
                    while tick * step < seconds:
                        await asyncio.sleep(max(0.0, begin + tick * step - time.perf_counter()))
                        batch = [(QUIET[tick % len(QUIET)], QUESTIONS[tick % len(QUESTIONS)])]
                        if flood:
                            batch += [(FLOODER, f"spam {tick} {i}") for i in range(5)]  # 100 a second
                        await api.push(batch)
                        tick += 1
                    quiet_pushed = tick
                    deadline = time.perf_counter() + WAIT_FOR_ALL
                    while True:  # every quiet message answered (or given up on)
                        async with api.session.get("/latency", params={"since": mark}) as response:
                            body = await response.json()
                        latencies, chats = body["latencies"], body["chats"]
                        answered = sum(chat != FLOODER for chat in chats)
                        if answered >= quiet_pushed or time.perf_counter() > deadline:
                            break
                        await asyncio.sleep(0.2)
                finally:
                    await application.updater.stop()
                    await application.stop()
                    await channel.on_shutdown(application)
            engine.store.close()
    finally:
        shutil.rmtree(state, ignore_errors=True)
    quiet = [latency for latency, chat in zip(latencies, chats, strict=True) if chat != FLOODER]
    quiet += [WAIT_FOR_ALL] * (quiet_pushed - len(quiet))  # never answered: counted as the longest wait
    return p99(quiet), sum(chat == FLOODER for chat in chats)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    knowledge = Knowledge.load(ROOT / "content", ROOT / "state" / "cache")
    print(
        f"40 quiet chats at 20 msg/s for {args.seconds:.0f} s; flood: one chat at 100 msg/s with a 30 s flood-wait"
    )
    results = {}
    for setup in ("before", "after"):
        quiet, _ = await run(setup, False, args.seconds, knowledge)
        flooded, answered = await run(setup, True, args.seconds, knowledge)
        results[setup] = (quiet, flooded)
        print(f"{setup:<7} quiet chats' p99: quiet run {quiet * 1000:7.0f} ms, while one chat floods "
              f"{flooded * 1000:7.0f} ms = {flooded / quiet:6.1f}x the quiet run "
              f"(flooder answered {answered} times)")  # fmt: skip
    print(
        f"target: p99 while flooding < 1 s: {'met' if results['after'][1] < 1.0 else 'NOT met'} "
        f"(before {results['before'][1]:.2f} s, after {results['after'][1]:.2f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
