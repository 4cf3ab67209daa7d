"""End-to-end load: many simulated chats through the real PTB Application and the local Bot API server.

Prints, for socialbot and for a baseline measured in the same run (an echo bot on the same PTB stack and
server, i.e. the cost of Telegram plumbing alone):
  - throughput: messages per second handled end to end (update pushed -> every reply received), all chats
    sending as fast as they can;
  - latency at a steady 30 messages per second (Telegram's own limit for one bot): median and p99;
  - peak memory (RSS) of the process.
The rate limiter is off here on purpose: this measures our capacity; in production Telegram's limits bind.

    python bench/load.py [--chats 200] [--messages 3000] [--paced 600]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.channels.telegram import TelegramChannel  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.knowledge import Knowledge  # noqa: E402
from bot.storage import open_store  # noqa: E402
from tests.fake_botapi import FakeBotAPI  # noqa: E402

TOKEN = "123456:BENCH-token_for-the-fake-api"
QUESTIONS = [
    "vad är ett socialt företag", "hur funkar lönebidrag", "jag vill jobba", "what is work training",
    "kan jag förlora min sjukersättning", "hur startar man ett socialt företag", "vad gör coompanion",
    "vad blir det för väder", "who can I contact", "vad är arbetsträning",
]  # fmt: skip


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run_socialbot(api: FakeBotAPI, state: Path):  # type: ignore[no-untyped-def]
    config = Config(content_dir=ROOT / "content", state_dir=state)
    engine = Engine(Knowledge.load(config.content_dir), open_store(state), channel="telegram")
    channel = TelegramChannel(engine, config)
    application = channel.build(api.token, base_url=api.base_url, base_file_url=api.base_file_url, rate_limit=False)
    return application, channel


async def run_echo(api: FakeBotAPI, state: Path):  # type: ignore[no-untyped-def]
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await context.bot.send_message(update.effective_chat.id, update.effective_message.text)

    application = (ApplicationBuilder().token(api.token).base_url(api.base_url).base_file_url(api.base_file_url)
                   .concurrent_updates(64).build())  # fmt: skip
    application.add_handler(MessageHandler(filters.TEXT, echo))
    return application, None


async def measure(name: str, factory, chats: int, messages: int, paced: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    state = Path(tempfile.mkdtemp(prefix="socialbot-load-"))
    try:
        async with FakeBotAPI(token=TOKEN) as api:
            application, channel = await factory(api, state)
            async with application:
                if channel:
                    await channel.on_startup(application)
                await application.start()
                await application.updater.start_polling(poll_interval=0, timeout=1)
                chat_ids = [100_000 + i for i in range(chats)]
                if channel:  # everyone has chosen language and region before the measured part
                    for chat in chat_ids:
                        api.push_command(chat, "start", "sundsvall")
                    await _drain(api, chats, 0)
                    for chat in chat_ids:
                        api.push_text(chat, "Svenska")
                    await _drain(api, 2 * chats, 0)

                # 1) throughput: everything at once
                questions = itertools.cycle(QUESTIONS)
                before = len(api.sent)
                start = time.perf_counter()
                for i in range(messages):
                    api.push_text(chat_ids[i % chats], next(questions))
                await _drain(api, messages, before)
                throughput = messages / (time.perf_counter() - start)

                # 2) latency at a steady rate: push one message every 1/30 s, time until its reply
                latencies = await _paced(api, chat_ids, paced, rate=30.0)
                await application.updater.stop()
                await application.stop()
                if channel:
                    await channel.on_shutdown(application)
    finally:
        shutil.rmtree(state, ignore_errors=True)
    ordered = sorted(latencies)
    result = {
        "throughput": throughput,
        "median_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000,
    }
    print(f"{name:<28} {throughput:8.0f} msg/s   at 30 msg/s: median {result['median_ms']:6.2f} ms, "
          f"p99 {result['p99_ms']:6.2f} ms")  # fmt: skip
    return result


async def _drain(api: FakeBotAPI, expected_chats_served: int, before: int, timeout: float = 120) -> None:
    """Wait until every pushed update is confirmed and the bot has gone quiet."""
    deadline = time.perf_counter() + timeout
    seen = -1
    while time.perf_counter() < deadline:
        await asyncio.sleep(0.02)
        if not api.pending_updates and len(api.sent) == seen and len(api.sent) - before >= 1:
            return
        seen = len(api.sent)
    raise TimeoutError("the bot did not finish in time")


async def _paced(api: FakeBotAPI, chat_ids: list[int], count: int, rate: float) -> list[float]:
    latencies: list[float] = []
    questions = itertools.cycle(QUESTIONS)
    interval = 1.0 / rate
    start = time.perf_counter()
    for i in range(count):
        chat = chat_ids[i % len(chat_ids)]
        target = start + i * interval
        await asyncio.sleep(max(0.0, target - time.perf_counter()))
        sent_before = len(api.messages_to(chat))
        pushed = time.monotonic()
        api.push_text(chat, next(questions))
        asyncio.get_running_loop().create_task(_await_reply(api, chat, sent_before, pushed, latencies))
    while len(latencies) < count:
        await asyncio.sleep(0.05)
    return latencies


async def _await_reply(api: FakeBotAPI, chat: int, sent_before: int, pushed: float, out: list[float]) -> None:
    replies = await api.wait_for_messages(chat, sent_before + 1, timeout=30)
    out.append(replies[sent_before].time - pushed)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--paced", type=int, default=600, help="messages in the 30 msg/s latency run")
    args = parser.parse_args()
    print(f"{args.chats} chats, {args.messages} messages for throughput, {args.paced} paced at 30 msg/s")
    base = await measure("baseline: echo bot (PTB only)", run_echo, args.chats, args.messages, args.paced)
    rss_base = rss_mb()
    ours = await measure("socialbot", run_socialbot, args.chats, args.messages, args.paced)
    rss = rss_mb()
    print(f"ratio socialbot/baseline: throughput {ours['throughput'] / base['throughput']:.2f}x, "
          f"p99 latency {ours['p99_ms'] / base['p99_ms']:.2f}x")  # fmt: skip
    print(f"peak RSS: {rss_base:.0f} MB after the baseline, {rss:.0f} MB after socialbot (whole process)")
    print(f"targets: >= 300 msg/s {'met' if ours['throughput'] >= 300 else 'NOT met'}; "
          f"p99 < 50 ms at 30 msg/s {'met' if ours['p99_ms'] < 50 else 'NOT met'}; "
          f"RSS < 150 MB {'met' if rss < 150 else 'NOT met'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
