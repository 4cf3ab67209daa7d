"""End-to-end load: many simulated chats through the real PTB Application and the local Bot API server.

Prints, for socialbot and for a baseline measured in the same run (an echo bot on the same PTB stack and
server, i.e. the cost of Telegram plumbing alone):
  - throughput: messages per second handled end to end (update pushed -> every reply received), all chats
    sending as fast as they can;
  - latency at a steady rate (default 25 messages per second, inside Telegram's 30 for one bot): median and p99;
  - the CPU time of this process per message in that steady part (the whole PTB stack and the bot; the Bot API
    server runs in a process of its own): unlike latency, it holds on a loaded machine;
  - peak memory (RSS) of the process.
The two are measured in pairs (baseline, then socialbot) several times; the p99 ratio is reported per pair and as
the median of the pairs, since one run's p99 rests on its three slowest replies.
The rate limiter is off here on purpose: this measures our capacity; in production Telegram's limits bind.

    python bench/load.py [--chats 200] [--messages 3000] [--paced 300] [--rate 25] [--pairs 3] [--unfrozen]
                         [--same-client]

Each run also prints the garbage collector's pauses during the paced part; `--unfrozen` adds, in every round, a
socialbot run without the start-up gc.freeze(), to show what the freeze changes on the same machine at the same time.
socialbot sends through its own HTTP client (aiohttp, bot/channels/http.py), the baseline through PTB's default HTTPX;
`--same-client` adds, in every round, the echo bot on socialbot's client: the ratio against it is the engine's and the
adapter's own cost, without the difference between the two clients.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import resource
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.channels.http import AiohttpRequest  # noqa: E402
from bot.channels.telegram import TelegramChannel  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.knowledge import Knowledge  # noqa: E402
from bot.storage import open_store  # noqa: E402

TOKEN = "123456:BENCH-token_for-the-fake-api"
QUESTIONS = [
    "vad är ett socialt företag", "hur funkar lönebidrag", "jag vill jobba", "what is work training",
    "kan jag förlora min sjukersättning", "hur startar man ett socialt företag", "vad gör coompanion",
    "vad blir det för väder", "who can I contact", "vad är arbetsträning",
]  # fmt: skip


def _uptime() -> str:
    """The machine's load averages, printed beside the figures: the machine may be shared."""
    return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RemoteBotAPI:
    """The Bot API server running in its own process (bench/botapi_process.py), driven over loopback."""

    def __init__(self) -> None:
        self.port, self.control = _free_port(), _free_port()
        self.token = TOKEN
        self.base_url = f"http://127.0.0.1:{self.port}/bot"
        self.base_file_url = f"http://127.0.0.1:{self.port}/file/bot"

    async def __aenter__(self) -> RemoteBotAPI:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "bench" / "botapi_process.py"), "--token", TOKEN, "--port", str(self.port),
            "--control-port", str(self.control), stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert self.process.stdout is not None
        await asyncio.wait_for(self.process.stdout.readline(), timeout=30)
        self.session = aiohttp.ClientSession(f"http://127.0.0.1:{self.control}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()
        self.process.terminate()
        await self.process.wait()

    async def push(self, messages: list[tuple[int, str]]) -> None:
        async with self.session.post("/push", json={"messages": messages}) as response:
            response.raise_for_status()

    async def status(self) -> dict[str, int]:
        async with self.session.get("/status") as response:
            return await response.json()

    async def latencies(self, since: int) -> tuple[list[float], int]:
        async with self.session.get("/latency", params={"since": since}) as response:
            body = await response.json()
            return body["latencies"], body["pushed"]

    async def drain(self, timeout: float = 300) -> None:
        """Wait until every pushed update is confirmed and nothing more is being sent."""
        deadline = time.perf_counter() + timeout
        seen = -1
        while time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
            status = await self.status()
            if not status["pending"] and status["sent"] == seen:
                return
            seen = status["sent"]
        raise TimeoutError("the bot did not finish in time")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def run_socialbot(api: RemoteBotAPI, state: Path):  # type: ignore[no-untyped-def]
    config = Config(content_dir=ROOT / "content", state_dir=state)
    # As deployed: the matcher is trained in a child process into the cache, so the bot never loads sklearn.
    engine = Engine(
        Knowledge.load(config.content_dir, config.cache_dir), open_store(state), channel="telegram"
    )
    channel = TelegramChannel(engine, config)
    application = channel.build(
        api.token, base_url=api.base_url, base_file_url=api.base_file_url, rate_limit=False
    )
    return application, channel


async def run_socialbot_unfrozen(api: RemoteBotAPI, state: Path):  # type: ignore[no-untyped-def]
    """socialbot as before the start-up `gc.freeze()`: every full collection walks the content's objects."""
    application, channel = await run_socialbot(api, state)
    on_startup = channel.on_startup

    async def startup_then_unfreeze(app) -> None:  # type: ignore[no-untyped-def]
        await on_startup(app)
        gc.unfreeze()

    channel.on_startup = startup_then_unfreeze
    return application, channel


class GcPauses:
    """The garbage collector's pauses while it is installed (gc.callbacks), in ms, by generation."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []
        self._start = 0.0

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.pauses.append((info["generation"], (time.perf_counter() - self._start) * 1000))

    def summary(self) -> str:
        full = [ms for generation, ms in self.pauses if generation == 2]
        return (f"gc {len(self.pauses)} pauses, {sum(ms for _, ms in self.pauses):.0f} ms in all, longest "
                f"{max((ms for _, ms in self.pauses), default=0):.1f} ms; {len(full)} full, longest "
                f"{max(full, default=0):.1f} ms")  # fmt: skip


async def run_echo(api: RemoteBotAPI, state: Path):  # type: ignore[no-untyped-def]
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await context.bot.send_message(update.effective_chat.id, update.effective_message.text)

    application = (ApplicationBuilder().token(api.token).base_url(api.base_url).base_file_url(api.base_file_url)
                   .concurrent_updates(64).build())  # fmt: skip
    application.add_handler(MessageHandler(filters.TEXT, echo))
    return application, None


async def run_echo_aiohttp(api: RemoteBotAPI, state: Path):  # type: ignore[no-untyped-def]
    """The echo bot on socialbot's own HTTP client (bot/channels/http.py) instead of PTB's HTTPX: what is left of the
    gap when both bots pay the same plumbing, i.e. the engine and the adapter alone."""
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await context.bot.send_message(update.effective_chat.id, update.effective_message.text)

    application = (ApplicationBuilder().token(api.token).base_url(api.base_url).base_file_url(api.base_file_url)
                   .request(AiohttpRequest(256)).get_updates_request(AiohttpRequest(1))
                   .concurrent_updates(64).build())  # fmt: skip
    application.add_handler(MessageHandler(filters.TEXT, echo))
    return application, None


async def measure(
    name: str, factory, chats: int, messages: int, paced: int, rate: float = 30.0
) -> dict[str, float]:  # type: ignore[no-untyped-def]
    state = Path(tempfile.mkdtemp(prefix="socialbot-load-"))
    gc.collect()  # the bots of earlier runs are garbage by now: a full pass over them must not land in this run
    try:
        async with RemoteBotAPI() as api:
            application, channel = await factory(api, state)
            async with application:
                if channel:
                    await channel.on_startup(application)
                await application.start()
                await application.updater.start_polling(poll_interval=0, timeout=1)
                try:
                    chat_ids = [100_000 + i for i in range(chats)]
                    if channel:  # everyone has chosen language and region before the measured part
                        await api.push([(chat, "/start sundsvall") for chat in chat_ids])
                        await api.drain()
                        await api.push([(chat, "Svenska") for chat in chat_ids])
                        await api.drain()

                    # 1) throughput: everything at once
                    questions = itertools.cycle(QUESTIONS)
                    start = time.perf_counter()
                    await api.push([(chat_ids[i % chats], next(questions)) for i in range(messages)])
                    await api.drain()
                    throughput = messages / (time.perf_counter() - start)

                    # 2) latency at a steady rate
                    _, mark = await api.latencies(0)
                    begin = time.perf_counter()
                    cpu = time.process_time()
                    with GcPauses() as pauses:
                        for i in range(paced):
                            await asyncio.sleep(max(0.0, begin + i / rate - time.perf_counter()))
                            await api.push([(chat_ids[i % chats], next(questions))])
                        await api.drain()
                    cpu = time.process_time() - cpu
                    latencies, _ = await api.latencies(mark)
                finally:
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
        "cpu_ms": cpu / paced * 1000,
    }
    print(f"{name:<30} {throughput:8.0f} msg/s   at {rate:.0f} msg/s: median {result['median_ms']:6.2f} ms, "
          f"p99 {result['p99_ms']:6.2f} ms  ({len(ordered)} replies timed); CPU {result['cpu_ms']:.2f} ms per "
          f"message; {pauses.summary()}")  # fmt: skip
    return result


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--paced", type=int, default=300, help="messages in the steady-rate latency run")
    parser.add_argument("--rate", type=float, default=25.0, help="messages per second in the latency run")
    parser.add_argument("--pairs", type=int, default=3, help="paired runs (baseline, then socialbot)")
    parser.add_argument("--same-client", action="store_true",
                        help="also run, in every round, the echo bot on socialbot's HTTP client (aiohttp)")
    parser.add_argument("--unfrozen", action="store_true",
                        help="also run socialbot without its start-up gc.freeze() in every round")  # fmt: skip
    args = parser.parse_args()
    print(f"{args.chats} chats, {args.messages} messages for throughput, {args.paced} paced at {args.rate:.0f} msg/s, "
          f"{args.pairs} paired runs")  # fmt: skip
    ratios, medians, cpus, rss_base, rss = [], [], [], 0.0, 0.0
    unfrozen: list[float] = []
    same_client: list[tuple[float, float, float]] = []  # socialbot / echo on the same client: p99, median, CPU
    ours: dict[str, float] = {}
    base: dict[str, float] = {}
    for _pair in range(args.pairs):
        base = await measure(
            "baseline: echo bot (PTB only)", run_echo, args.chats, args.messages, args.paced, args.rate
        )
        rss_base = max(rss_base, rss_mb())
        if args.unfrozen:  # interleaved in the same round, so that both see the same machine
            other = await measure("socialbot without gc.freeze", run_socialbot_unfrozen, args.chats, args.messages,
                                  args.paced, args.rate)  # fmt: skip
            unfrozen.append(other["p99_ms"] / base["p99_ms"])
        if args.same_client:
            twin = await measure("echo bot on socialbot's client", run_echo_aiohttp, args.chats, args.messages,
                                 args.paced, args.rate)  # fmt: skip
        ours = await measure("socialbot", run_socialbot, args.chats, args.messages, args.paced, args.rate)
        if args.same_client:
            same_client.append((ours["p99_ms"] / twin["p99_ms"], ours["median_ms"] / twin["median_ms"],
                                ours["cpu_ms"] / twin["cpu_ms"]))  # fmt: skip
        rss = rss_mb()
        ratios.append(ours["p99_ms"] / base["p99_ms"])
        medians.append(ours["median_ms"] / base["median_ms"])
        cpus.append(ours["cpu_ms"] / base["cpu_ms"])
        print(f"  pair: throughput {ours['throughput'] / base['throughput']:.2f}x, median latency "
              f"{medians[-1]:.2f}x, p99 latency {ratios[-1]:.2f}x, CPU per message {cpus[-1]:.2f}x"
              + (f" (without gc.freeze {unfrozen[-1]:.2f}x)" if unfrozen else "") + f"   [{_uptime()}]")  # fmt: skip
    p99_ratio = statistics.median(ratios)
    print(f"ratio socialbot/baseline, median of {len(ratios)} pairs: median latency {statistics.median(medians):.2f}x, "
          f"p99 latency {p99_ratio:.2f}x (pairs: {', '.join(f'{r:.2f}' for r in ratios)}), "
          f"CPU per message {statistics.median(cpus):.2f}x")  # fmt: skip
    if unfrozen:
        print(f"  without gc.freeze: p99 latency {statistics.median(unfrozen):.2f}x "
              f"(pairs: {', '.join(f'{r:.2f}' for r in unfrozen)})")  # fmt: skip
    if same_client:
        print(f"  against the echo bot on socialbot's own client (aiohttp): p99 latency "
              f"{statistics.median(r[0] for r in same_client):.2f}x, median latency "
              f"{statistics.median(r[1] for r in same_client):.2f}x, CPU per message "
              f"{statistics.median(r[2] for r in same_client):.2f}x")  # fmt: skip
    print(f"peak RSS: {rss_base:.0f} MB after the baseline, {rss:.0f} MB after socialbot (whole process)")
    print(f"targets: >= 300 msg/s {'met' if ours['throughput'] >= 300 else 'NOT met'}; "
          f"p99 within 1.5x the bare bot {'met' if p99_ratio <= 1.5 else 'NOT met'}; "
          f"RSS < 150 MB {'met' if rss < 150 else 'NOT met'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
