"""A throwaway PostgreSQL cluster from Debian's binaries, for the tests and the benches.

    python3 tests/pgcluster.py start DIR   # prints the URL to put in SOCIALBOT_TEST_DATABASE_URL
    python3 tests/pgcluster.py stop DIR

initdb refuses to run as root, so as root the cluster belongs to the `postgres` user. It listens on a free
port of 127.0.0.1 and on a unix socket inside DIR; fsync is off because the data is thrown away.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

BIN = Path(os.environ.get("SOCIALBOT_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _as_owner(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(directory: Path) -> str:
    """Create and start a cluster in `directory`; return a URL to it (over the unix socket)."""
    directory.mkdir(parents=True, exist_ok=True)
    data = directory / "data"
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    subprocess.run(
        _as_owner([str(BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                   "--no-locale", "--no-sync"]),
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    port = _free_port()
    options = (
        f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=200 -c shared_buffers=64MB"
    )
    subprocess.run(
        _as_owner([str(BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(directory / "log"), "-w",
                   "-t", "60", "start"]),
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return f"postgresql://postgres@/postgres?host={directory}&port={port}"


def stop(directory: Path) -> None:
    subprocess.run(
        _as_owner([str(BIN / "pg_ctl"), "-D", str(directory / "data"), "-m", "immediate", "-w", "stop"]),
        check=False, stdout=subprocess.DEVNULL,
    )  # fmt: skip


if __name__ == "__main__":
    command, where = sys.argv[1], Path(sys.argv[2])
    if command == "start":
        print(start(where))
    else:
        stop(where)
