"""Scaling out: the web channel with one and two `socialbot web` workers on PostgreSQL, and one on SQLite,
measured in one run on this machine, with the ratios.

    .venv/bin/python bench/scale.py [--seconds 5] [--clients 32] [--rounds 5]

Each worker is a real `socialbot web` process, in a session of its own (PostgreSQL is in its own too). The load
comes from one client process (this one: plain asyncio on kept-alive connections with pre-built requests,
bench/http_client.py, so that it takes little CPU) playing many people at once: each starts a conversation, asks
questions and presses buttons, and
every request goes to the next worker in turn, as behind a round-robin proxy, so every conversation hops
between workers. People are told apart by X-Forwarded-For (the workers run with --trust-proxy, as behind
the proxy) so that the per-address rate limit sees many people, not one. PostgreSQL is a throwaway cluster
from tests/pgcluster.py (or $SOCIALBOT_TEST_DATABASE_URL); each configuration gets a fresh database.

The setups run side by side and take turns in short slices; ratios are medians of slices taken one right after
the other, so a neighbour's load falls on all alike. Beside the measured ratio it prints the cores each process
kept busy, what everyone else on the machine took meanwhile, and the ceiling that the CPU per request sets on 2
free cores: on a machine shared with others, the measured ratio says how the bot scales with the CPU it got, and
the ceiling what 2 cores of its own would give.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_client import Client  # noqa: E402
from tests.pgcluster import _free_port, start, stop  # noqa: E402

QUESTIONS = [
    "vad är lönebidrag", "hur får jag jobb", "vad är ett socialt företag", "kan jag praktisera",
    "what is work training", "jag vill starta företag", "vad kostar det", "hur fungerar arbetsträning",
]  # fmt: skip
PER_CONVERSATION = 6  # within the web channel's per-conversation burst


TICKS = os.sysconf("SC_CLK_TCK")
POSTMASTER: list[int] = []  # our own cluster's server process, whose children serve the workers


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (from /proc; a gone process counts 0)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores, everyone's processes), from /proc/stat."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / TICKS  # user..steal, less idle and iowait


def postgres_pids() -> list[int]:
    """The PostgreSQL backends of our own cluster (none counted when the cluster is someone else's)."""
    if not POSTMASTER:
        return []
    children = Path(f"/proc/{POSTMASTER[0]}/task/{POSTMASTER[0]}/children")
    with contextlib.suppress(OSError):
        return [POSTMASTER[0], *(int(pid) for pid in children.read_text().split())]
    return []


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


@contextmanager
def postgres_server() -> Iterator[str]:
    url = os.environ.get("SOCIALBOT_TEST_DATABASE_URL", "").strip()
    if url:
        import psycopg

        with psycopg.connect(url) as conn:  # a server on this machine: its postmaster is a backend's parent
            row = conn.execute("SELECT pg_backend_pid()").fetchone()
        with contextlib.suppress(OSError):
            POSTMASTER.append(int(Path(f"/proc/{row[0] if row else 0}/stat").read_text().rsplit(")", 1)[1].split()[1]))
        yield url
        return
    directory = Path(tempfile.mkdtemp(prefix="scale-pg-"))
    try:
        url = start(directory)
        POSTMASTER.append(int((directory / "data" / "postmaster.pid").read_text().split()[0]))
        yield url
    finally:
        stop(directory)
        shutil.rmtree(directory, ignore_errors=True)


def fresh_database(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")  # type: ignore[arg-type]
        conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path=f"/{name}"))


def start_workers(count: int, state: Path, url: str | None) -> tuple[list[subprocess.Popen[bytes]], list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALBOT_")}
    if url:
        env["SOCIALBOT_DATABASE_URL"] = url
    processes, bases = [], []
    for _ in range(count):
        port = _free_port()
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "bot", "--state", str(state), "web", "--port", str(port), "--trust-proxy"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            # Its own session, as each worker is its own systemd unit in production: Linux shares the CPU between
            # sessions (autogroups) first, so workers started in this one would split this session's share between
            # them, and a second worker could never get more CPU than the first one had alone on a busy machine.
            start_new_session=True,
        ))  # fmt: skip
        bases.append(f"http://127.0.0.1:{port}")
    return processes, bases


async def wait_healthy(bases: list[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        for base in bases:
            while True:
                try:
                    async with session.get(base + "/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{base} did not become healthy")
                await asyncio.sleep(0.2)


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


TEXT_FIELDS = [b',"text":' + _json(question) + b"}" for question in QUESTIONS]  # request bodies, pre-encoded


async def drive(bases: list[str], seconds: float, clients: int, sticky: bool = False) -> dict[str, float]:
    """Many people at once for `seconds`; returns throughput and latency. Each request goes to the next
    worker in turn, or with `sticky` each person stays with one worker (as behind a sticky proxy). The client is
    bench/http_client.py: kept-alive connections and pre-built requests, so that it takes little of the CPU."""
    turn = itertools.cycle(range(len(bases)))
    latencies: list[float] = []
    failures = 0
    people = itertools.count()
    stop_at = time.monotonic() + seconds
    opened: list[Client] = []

    async def person() -> None:
        nonlocal failures
        rng = random.Random()
        connections = [Client(base) for base in bases]  # this person's kept-alive connection to each worker
        opened.extend(connections)
        while time.monotonic() < stop_at:
            who = next(people)
            headers = f"X-Forwarded-For: 10.{who // 65536 % 256}.{who // 256 % 256}.{who % 256}\r\n".encode()
            conversation = b"null"
            buttons: list[str] = []
            mine = next(turn)
            for _ in range(PER_CONVERSATION):
                if buttons and rng.random() < 0.3:
                    body = b'{"conversation":' + conversation + b',"button":' + _json(rng.choice(buttons)) + b"}"
                else:
                    body = b'{"conversation":' + conversation + rng.choice(TEXT_FIELDS)
                client = connections[mine if sticky else next(turn)]
                began = time.perf_counter()
                status, raw = await client.send(client.post_json("/api/messages", body, headers))
                latencies.append(time.perf_counter() - began)
                if status != 200:
                    failures += 1
                    break
                answer = json.loads(raw)
                if answer["conversation"] is None:
                    break
                conversation = _json(answer["conversation"])
                buttons = [b["data"] for r in answer["replies"] for b in r.get("buttons", [])][:4]

    began = time.perf_counter()
    try:
        await asyncio.gather(*(person() for _ in range(clients)))
    finally:
        for client in opened:
            client.close()
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "failures": failures,
        "seconds": elapsed,
        "per_second": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
    }


@contextmanager
def running(workers: int, url: str | None, cache: Path) -> Iterator[tuple[list[str], list[int]]]:
    """`workers` web workers on one store, with the trained matcher copied in so that none trains."""
    state = Path(tempfile.mkdtemp(prefix="scale-"))
    shutil.copytree(cache, state / "cache")
    processes, bases = start_workers(workers, state, url)
    try:
        asyncio.run(wait_healthy(bases))
        yield bases, [process.pid for process in processes]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        shutil.rmtree(state, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per slice")
    parser.add_argument("--clients", type=int, default=32, help="people talking at the same moment")
    parser.add_argument("--rounds", type=int, default=5, help="slices per setup, taken in turn; medians reported")
    parser.add_argument("--sticky", action="store_true", help="each person stays with one worker")
    parser.add_argument("--only", help="comma-separated setups to run (for a quick look)")
    args = parser.parse_args()

    cache = Path(tempfile.mkdtemp(prefix="scale-cache-"))
    subprocess.run([sys.executable, "-m", "bot", "--state", str(cache), "ask", "hej"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, env={k: v for k, v in os.environ.items() if not k.startswith("SOCIALBOT_")})  # fmt: skip
    results: dict[str, list[dict[str, float]]] = {}
    with postgres_server() as server, contextlib.ExitStack() as stack:
        # Every setup runs side by side, idle but for its turn, and the turns alternate in short slices:
        # a neighbour's load on this shared machine then falls on all setups alike, not on one.
        setups = {
            "sqlite-1": stack.enter_context(running(1, None, cache / "cache")),
            "postgresql-1": stack.enter_context(running(1, fresh_database(server, "scale_one"), cache / "cache")),
            "postgresql-2": stack.enter_context(running(2, fresh_database(server, "scale_two"), cache / "cache")),
        }
        if args.only:
            setups = {name: setup for name, setup in setups.items() if name in args.only.split(",")}
        print(f"before: {uptime()}")
        for bases, _ in setups.values():
            asyncio.run(drive(bases, 2.0, args.clients))  # warm-up
        for _ in range(args.rounds):
            for name, (bases, pids) in setups.items():
                # CPU per request of each part: on 2 cores, two workers gain only as far as the workers' share
                # of all the CPU a request costs (the database and this client share the same cores).
                database = postgres_pids() if name.startswith("postgresql") else []
                processes = [[pid] for pid in pids] + [database]
                before = [cpu_seconds(group) for group in processes] + [time.process_time(), machine_busy()]
                result = asyncio.run(drive(bases, args.seconds, args.clients, args.sticky))
                after = [cpu_seconds(group) for group in processes] + [time.process_time(), machine_busy()]
                used = [ended - began for began, ended in zip(before, after, strict=True)]
                *workers, database_s, client_s, machine_s = used
                requests, seconds = max(result["requests"], 1), result["seconds"]
                result["worker_ms"] = 1000 * sum(workers) / requests
                result["database_ms"] = 1000 * database_s / requests
                result["client_ms"] = 1000 * client_s / requests
                # Cores each process kept busy during the slice, and what everyone else on the machine took meanwhile.
                for index, worker_s in enumerate(workers, 1):
                    result[f"worker{index}_cores"] = worker_s / seconds
                result["database_cores"] = database_s / seconds
                result["client_cores"] = client_s / seconds
                result["others_cores"] = max(0.0, machine_s - sum(workers) - database_s - client_s) / seconds
                results.setdefault(name, []).append(result)
        print(f"after:  {uptime()}")
    shutil.rmtree(cache, ignore_errors=True)

    summary = {name: {key: statistics.median(r[key] for r in runs) for key in runs[0]} for name, runs in results.items()}
    print(f"{'setup':<14} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'failed':>7}   CPU ms per request:"
          f" {'workers':>7} {'database':>8} {'client':>6}")  # fmt: skip
    for name, r in summary.items():
        print(f"{name:<14} {r['per_second']:>8.1f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['requests']:>9.0f} "
              f"{r['failures']:>7.0f}   {'':>19} {r['worker_ms']:>7.2f} {r['database_ms']:>8.2f} {r['client_ms']:>6.2f}")  # fmt: skip
    print("cores kept busy during a slice (medians; 2 cores in all, shared with everyone on the machine):")
    for name, r in summary.items():
        workers = " + ".join(f"{r[key]:.2f}" for key in sorted(r) if key.startswith("worker") and key.endswith("_cores"))
        print(f"  {name:<14} workers {workers:<12} database {r['database_cores']:.2f}  client {r['client_cores']:.2f}"
              f"  everyone else {r['others_cores']:.2f}")  # fmt: skip

    def paired(a: str, b: str) -> float:
        """The median of the ratios of slices taken one right after the other."""
        return statistics.median(x["per_second"] / y["per_second"] for x, y in zip(results[a], results[b], strict=True))

    ratios = {}
    if {"postgresql-1", "postgresql-2"} <= results.keys():
        ratios["two_vs_one"] = paired("postgresql-2", "postgresql-1")
        print(f"two PostgreSQL workers / one: {ratios['two_vs_one']:.2f}x (goal >= 1.5x on 2 cores)")
    if {"postgresql-1", "sqlite-1"} <= results.keys():
        ratios["pg_vs_sqlite"] = paired("postgresql-1", "sqlite-1")
        print(f"one PostgreSQL worker / one SQLite worker: {ratios['pg_vs_sqlite']:.2f}x")
    one, two = summary.get("postgresql-1"), summary.get("postgresql-2")
    if one and two and one["database_ms"] > 0:
        # The ceiling from CPU alone, whatever the neighbours: one worker does at most one core's worth (the GIL); two
        # workers at most what the 2 cores give at the CPU a request costs all parts together (the database's and
        # this client's too, unless the people are elsewhere).
        worker = one["worker_ms"]
        with_client = two["worker_ms"] + two["database_ms"] + two["client_ms"]
        without = two["worker_ms"] + two["database_ms"]
        print(f"CPU ceiling on 2 free cores, one worker filling its core: two workers / one at most "
              f"{2 * worker / with_client:.2f}x with this client on the same cores, "
              f"{2 * worker / without:.2f}x with the people elsewhere")  # fmt: skip
    print(json.dumps({"summary": summary, **ratios}))


if __name__ == "__main__":
    main()
