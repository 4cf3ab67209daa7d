"""Load on `socialbot web`, beside a bare aiohttp endpoint measured in the same run on the same machine.

    .venv/bin/python bench/web_load.py [--seconds 5] [--concurrency 32]

Both servers run as their own processes. The bare endpoint reads the JSON body and answers a fixed JSON
reply: the framework's own cost. `socialbot web` answers real questions from the content through the whole
stack (rate limits, the dialog, the matcher, SQLite). Each simulated person has their own conversation and
address (X-Forwarded-For, with --trust-proxy, as behind the TLS proxy), so the per-address and
per-conversation limits hold as in production without throttling the benchmark itself.

Prints: throughput (closed loop) of each and the ratio; latency percentiles at a steady 100 requests per
second (open loop); the bot's RSS. Targets: ratio >= 0.60, p99 < 50 ms at 100 req/s, RSS < 150 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ["vad är lönebidrag", "hur startar jag ett socialt företag", "vad är arbetsträning",
             "kan jag få hjälp att hitta jobb", "vad gör Coompanion", "what is a social enterprise",
             "hur får jag betalt", "vem kan jag prata med", "vad är ett arbetsintegrerande socialt företag",
             "jag vill boka ett möte"]  # fmt: skip

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


MENU = "<menu button>"  # the cheapest real request: the web layer, the engine and SQLite, no matcher


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_up(url: str, timeout: float = 120.0) -> None:
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
    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.url = url
        self.people: list[tuple[str | None, str]] = []  # (conversation, address)

    async def prepare(self, session: aiohttp.ClientSession, people: int) -> None:
        for index in range(people):
            address = f"10.{index // 65536}.{index // 256 % 256}.{index % 256}"
            async with session.post(self.url, json={"conversation": None, "text": "/start", "region": "sundsvall",
                                                    "lang": "sv"}, headers={"X-Forwarded-For": address}) as response:  # fmt: skip
                body = await response.json()
            self.people.append((body.get("conversation"), address))

    async def ask(self, session: aiohttp.ClientSession, person: tuple[str | None, str], question: str) -> float:
        conversation, address = person
        event = {"button": "menu"} if question == MENU else {"text": question}
        started = time.perf_counter()
        async with session.post(self.url, json={"conversation": conversation, **event},
                                headers={"X-Forwarded-For": address}) as response:  # fmt: skip
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"{self.name}: HTTP {response.status}")
        return time.perf_counter() - started


async def throughput(target: Target, seconds: float, concurrency: int, menu: bool = False) -> float:
    people = itertools.cycle(target.people)
    questions = itertools.cycle([MENU] if menu else QUESTIONS)
    done = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                await target.ask(session, next(people), next(questions))
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done / (time.perf_counter() - started)


async def steady(target: Target, rate: float, seconds: float) -> list[float]:
    people = itertools.cycle(target.people)
    questions = itertools.cycle(QUESTIONS)
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:
        tasks = []
        start = time.perf_counter()
        for index in range(int(rate * seconds)):
            delay = start + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)

            async def one(person: tuple[str | None, str], question: str) -> None:
                latencies.append(await target.ask(session, person, question))

            tasks.append(asyncio.create_task(one(next(people), next(questions))))
        await asyncio.gather(*tasks)
    return sorted(latencies)


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))] * 1000


def rss_mb(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--people", type=int, default=800, help="conversations (and addresses) taking turns")
    args = parser.parse_args()
    bare_port, bot_port = free_port(), free_port()
    state = tempfile.mkdtemp(prefix="web-load-")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("SOCIALBOT_SMTP_HOST", "TELEGRAM_BOT_TOKEN", "SOCIALBOT_DATABASE_URL"):
        env.pop(name, None)
    log = (Path(state) / "web.log").open("w")  # the bot's log, for a look when something fails
    bare = subprocess.Popen([sys.executable, "-c", BARE, str(bare_port)], env=env)
    bot = subprocess.Popen([sys.executable, "-m", "bot", "--content", str(ROOT / "content"), "--state", state, "web",
                            "--port", str(bot_port), "--trust-proxy"], env=env, stderr=log)  # fmt: skip
    try:
        targets = [Target("bare aiohttp", f"http://127.0.0.1:{bare_port}/api/messages"),
                   Target("socialbot web", f"http://127.0.0.1:{bot_port}/api/messages")]  # fmt: skip
        for target in targets:
            await wait_up(target.url)
            async with aiohttp.ClientSession() as session:
                await target.prepare(session, args.people)
            await throughput(target, 1.0, args.concurrency)  # warm up: caches, the matcher's first calls
        rates = {t.name: await throughput(t, args.seconds, args.concurrency) for t in targets}
        menu_rate = await throughput(targets[1], args.seconds, args.concurrency, menu=True)
        latencies = {t.name: await steady(t, 100.0, args.seconds) for t in targets}
        rss, peak = rss_mb(bot.pid)
    finally:
        for process in (bare, bot):
            process.terminate()
        for process in (bare, bot):
            process.wait(timeout=20)
        log.close()
    bare_rate, bot_rate = rates["bare aiohttp"], rates["socialbot web"]
    print(f"throughput, closed loop, {args.concurrency} clients, {args.seconds:.0f} s each:")
    for name, rate in rates.items():
        print(f"  {name:<14} {rate:8.0f} req/s")
    ratio = bot_rate / bare_rate
    print(f"  ratio socialbot/bare: {ratio:.2f} (target >= 0.60)")
    print(f"  socialbot web, menu button presses (no matcher): {menu_rate:.0f} req/s, "
          f"ratio {menu_rate / bare_rate:.2f}: the web layer's own share of the cost")
    print("latency at a steady 100 req/s (ms):")
    for name, values in latencies.items():
        print(f"  {name:<14} p50 {percentile(values, 0.5):6.1f}  p90 {percentile(values, 0.9):6.1f}  "
              f"p99 {percentile(values, 0.99):6.1f}  max {values[-1] * 1000:6.1f}  (n={len(values)})")  # fmt: skip
    p99 = percentile(latencies["socialbot web"], 0.99)
    print(f"socialbot web RSS {rss:.0f} MB (peak {peak:.0f} MB, target < 150)")
    ok = ratio >= 0.60 and p99 < 50 and peak < 150
    print("OK" if ok else "BELOW TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
