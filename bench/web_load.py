"""Load on `socialbot web`, beside a bare aiohttp endpoint measured in the same run on the same machine.

    .venv/bin/python bench/web_load.py [--seconds 3] [--rounds 3] [--concurrency 32]

Both servers run as their own processes. The bare endpoint reads the JSON body and answers a fixed JSON
reply: the framework's own cost. `socialbot web` answers through the whole stack (rate limits, the dialog,
the crisis check, language detection, the matcher, SQLite). Each simulated person has their own
conversation and address (X-Forwarded-For, with --trust-proxy, as behind the TLS proxy), so the
per-address and per-conversation limits hold as in production without throttling the benchmark itself.

Two request mixes, reported apart:
- typed questions: the evaluation questions of tests/eval (written by people who never saw the content;
  Swedish, English, mixed, and Arabic, Persian, Somali, Tigrinya, Ukrainian), each sent once in turn,
  so nothing is answered from a cache of the same text;
- button presses ("menu"): the web layer, the engine and SQLite, no matcher.

Throughput is a closed loop (`--concurrency` clients), measured in rounds that alternate bare, typed and
buttons, so a change in the machine's load hits all three alike; the ratio is the median over rounds.
Beside each rate, the server's own CPU time per request (user + system, from /proc): unlike the rates, it holds
when the machine is shared, and says where a request's cost lies. Latency is an open loop at a steady 100
requests per second. RSS is the bot's, after the load, in a
process started on a state directory whose caches exist (the ordinary restart; the first start trains
the matcher and reduces the language model into the cache, in child processes). `uptime` is printed
before and after: the figures mean little without the machine's load beside them.

Targets (issue 13): typed questions >= 0.60 of the bare throughput, p99 < 50 ms at 100 req/s, RSS < 150 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scale import cpu_seconds  # noqa: E402

EVAL = ROOT / "tests" / "eval"
BUTTON = "<menu button>"  # the cheapest real request: the web layer, the engine and SQLite, no matcher

BARE = textwrap.dedent(
    """
    import json, sys
    from aiohttp import web
    REPLY = {"conversation": "x" * 22, "lang": "sv", "dir": "ltr",
             "replies": [{"text": "Ett svar " * 40, "buttons": [{"label": "Meny", "data": "menu"}], "file": None}]}
    async def messages(request):
        body = json.loads(await request.read())
        return web.json_response(REPLY if isinstance(body, dict) else {"error": "x"})
    app = web.Application(client_max_size=65536)
    app.router.add_post("/api/messages", messages)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
    """
)


def questions() -> list[str]:
    """Every evaluation question once, languages interleaved as they come (sorted files, stable order)."""
    files = [EVAL / "questions.yaml", EVAL / "fresh.yaml", *sorted((EVAL / "languages").glob("*.yaml"))]
    found: list[str] = []
    for path in files:
        found += [
            item["q"] for item in yaml.safe_load(path.read_text(encoding="utf-8")) or [] if item.get("q")
        ]
    return list(dict.fromkeys(found))  # distinct


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


async def wait_up(url: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.post(url, json={"conversation": None, "text": "/start"}) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(url)


class Target:
    def __init__(self, name: str, url: str, pid: int) -> None:
        self.name = name
        self.url = url
        self.pid = pid  # the server's process
        self.people: list[tuple[str | None, str]] = []  # (conversation, address)

    async def prepare(self, session: aiohttp.ClientSession, people: int) -> None:
        for index in range(people):
            address = f"10.{index // 65536}.{index // 256 % 256}.{index % 256}"
            async with session.post(self.url, json={"conversation": None, "text": "/start", "region": "sundsvall",
                                                    "lang": "sv"}, headers={"X-Forwarded-For": address}) as response:  # fmt: skip
                body = await response.json()
            self.people.append((body.get("conversation"), address))

    async def ask(
        self, session: aiohttp.ClientSession, person: tuple[str | None, str], question: str
    ) -> float:
        conversation, address = person
        event = {"button": "menu"} if question == BUTTON else {"text": question}
        started = time.perf_counter()
        async with session.post(self.url, json={"conversation": conversation, **event},
                                headers={"X-Forwarded-For": address}) as response:  # fmt: skip
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"{self.name}: HTTP {response.status}")
        return time.perf_counter() - started


async def throughput(
    target: Target, messages: itertools.cycle[str], seconds: float, concurrency: int
) -> tuple[float, float]:
    """Requests per second, and the server's CPU milliseconds per request."""
    people = itertools.cycle(target.people)
    done = 0
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                await target.ask(session, next(people), next(messages))
                done += 1

        started, cpu = time.perf_counter(), cpu_seconds([target.pid])
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done / (time.perf_counter() - started), (cpu_seconds([target.pid]) - cpu) / done * 1000


async def steady(target: Target, messages: itertools.cycle[str], rate: float, seconds: float) -> list[float]:
    people = itertools.cycle(target.people)
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=400)) as session:
        tasks = []
        start = time.perf_counter()
        for index in range(int(rate * seconds)):
            delay = start + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)

            async def one(person: tuple[str | None, str], message: str) -> None:
                latencies.append(await target.ask(session, person, message))

            tasks.append(asyncio.create_task(one(next(people), next(messages))))
        await asyncio.gather(*tasks)
    return sorted(latencies)


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))] * 1000


def rss_mb(pid: int) -> tuple[float, float]:
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def start_bot(state: str, port: int, env: dict[str, str], log: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "bot", "--content", str(ROOT / "content"), "--state", state, "web",
                             "--port", str(port), "--trust-proxy"], env=env, stderr=log)  # fmt: skip


async def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per round and mix")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--people", type=int, default=2000, help="conversations (and addresses) taking turns")
    args = parser.parse_args()
    typed = questions()
    print(f"before: {uptime()}")
    bare_port, bot_port = free_port(), free_port()
    state = tempfile.mkdtemp(prefix="web-load-")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("SOCIALBOT_SMTP_HOST", "TELEGRAM_BOT_TOKEN", "SOCIALBOT_DATABASE_URL"):
        env.pop(name, None)
    log = (Path(state) / "web.log").open("w")  # the bot's log, for a look when something fails
    first = start_bot(state, bot_port, env, log)  # fills the cache, as the first start in production does
    try:
        await wait_up(f"http://127.0.0.1:{bot_port}/api/messages")
        _, first_peak = rss_mb(first.pid)
    finally:
        first.terminate()
        first.wait(timeout=30)
    bare = subprocess.Popen([sys.executable, "-c", BARE, str(bare_port)], env=env)
    bot = start_bot(state, bot_port, env, log)
    try:
        bare_target = Target("bare aiohttp", f"http://127.0.0.1:{bare_port}/api/messages", bare.pid)
        bot_target = Target("socialbot web", f"http://127.0.0.1:{bot_port}/api/messages", bot.pid)
        for target in (bare_target, bot_target):
            await wait_up(target.url)
            async with aiohttp.ClientSession() as session:
                await target.prepare(session, args.people)
        cycle_typed, cycle_buttons = itertools.cycle(typed), itertools.cycle([BUTTON])
        for target, messages in (
            (bare_target, cycle_typed),
            (bot_target, cycle_typed),
            (bot_target, cycle_buttons),
        ):
            await throughput(target, messages, 1.0, args.concurrency)  # warm up (the rate and CPU are not kept)
        warm_rss, _ = rss_mb(bot.pid)
        rounds: list[tuple[float, float, float]] = []
        cpu: list[tuple[float, float, float]] = []  # ms per request: bare, typed, buttons
        for _ in range(args.rounds):  # interleaved: bare, typed, buttons, bare, ...
            bare_rate, bare_cpu = await throughput(bare_target, cycle_typed, args.seconds, args.concurrency)
            typed_rate, typed_cpu = await throughput(bot_target, cycle_typed, args.seconds, args.concurrency)
            button_rate, button_cpu = await throughput(bot_target, cycle_buttons, args.seconds, args.concurrency)
            rounds.append((bare_rate, typed_rate, button_rate))
            cpu.append((bare_cpu, typed_cpu, button_cpu))
        latency = {
            "bare aiohttp": await steady(bare_target, cycle_typed, 100.0, args.seconds * 2),
            "socialbot web, typed": await steady(bot_target, cycle_typed, 100.0, args.seconds * 2),
            "socialbot web, buttons": await steady(bot_target, cycle_buttons, 100.0, args.seconds * 2),
        }
        rss, peak = rss_mb(bot.pid)
        bare_rss, _ = rss_mb(bare.pid)
    finally:
        for process in (bare, bot):
            process.terminate()
        for process in (bare, bot):
            process.wait(timeout=30)
        log.close()
    after = uptime()
    typed_ratio = statistics.median(t / b for b, t, _ in rounds)
    button_ratio = statistics.median(m / b for b, _, m in rounds)
    print(f"typed questions: {len(typed)} distinct evaluation questions (sv, en, mixed, ar, fa, so, ti, uk), "
          f"each in turn; buttons: 'menu'")  # fmt: skip
    print(
        f"throughput, closed loop, {args.concurrency} clients, {args.rounds} interleaved rounds of {args.seconds:.0f} s:"
    )
    for index, ((bare_rate, typed_rate, button_rate), (bare_cpu, typed_cpu, button_cpu)) in enumerate(
        zip(rounds, cpu, strict=True), 1
    ):
        print(f"  round {index}: bare {bare_rate:6.0f} req/s {bare_cpu:5.2f} ms CPU/req | typed {typed_rate:5.0f} "
              f"({typed_rate / bare_rate:.2f}) {typed_cpu:5.2f} ms | buttons {button_rate:5.0f} "
              f"({button_rate / bare_rate:.2f}) {button_cpu:5.2f} ms")  # fmt: skip
    print(f"  ratio socialbot/bare, median: typed questions {typed_ratio:.2f} (target >= 0.60), "
          f"button presses {button_ratio:.2f}")  # fmt: skip
    bare_ms, typed_ms, button_ms = (statistics.median(c[i] for c in cpu) for i in range(3))
    print(f"  server CPU per request, median: bare {bare_ms:.2f} ms, typed {typed_ms:.2f} ms "
          f"({bare_ms / typed_ms:.3f} of typed is the framework's), buttons {button_ms:.2f} ms")  # fmt: skip
    print("latency at a steady 100 req/s (ms):")
    for name, values in latency.items():
        print(f"  {name:<23} p50 {percentile(values, 0.5):6.1f}  p90 {percentile(values, 0.9):6.1f}  "
              f"p99 {percentile(values, 0.99):6.1f}  max {values[-1] * 1000:6.1f}  (n={len(values)})")  # fmt: skip
    p99 = percentile(latency["socialbot web, typed"], 0.99)
    print(f"RSS of socialbot web: after warm-up {warm_rss:.0f} MB, after the load {rss:.0f} MB (peak {peak:.0f}; "
          f"the first start, filling the cache: peak {first_peak:.0f}) (target < 150); bare aiohttp {bare_rss:.0f} MB")  # fmt: skip
    print(f"after:  {after}")
    ok = typed_ratio >= 0.60 and p99 < 50 and warm_rss < 150
    print("OK" if ok else "BELOW TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
