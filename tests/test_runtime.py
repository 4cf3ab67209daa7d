"""The channel-neutral runtime: the migrations start-up race, the sweeper lease, reminders and the purge
from the database, shared by several processes on one state directory."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Config
from bot.engine import Engine
from bot.knowledge import Knowledge
from bot.runtime import PURGE, SWEEPER, Runtime
from bot.storage import open_store
from bot.storage.migrations import MIGRATIONS
from tests.conftest import CACHE_ENV, CONTENT, ROOT
from tests.transcript import Clock

OPEN_STORE = "import sys; from bot.storage import open_store; open_store(sys.argv[1]).close()"


def test_processes_starting_together_on_a_new_state_directory_do_not_race(tmp_path: Path) -> None:
    for attempt in range(6):
        state = tmp_path / f"state{attempt}"
        processes = [subprocess.Popen([sys.executable, "-c", OPEN_STORE, str(state)], cwd=ROOT,
                                      stderr=subprocess.PIPE, text=True) for _ in range(3)]  # fmt: skip
        for process in processes:
            _, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
        store = open_store(state)
        assert store.version == len(MIGRATIONS)
        store.close()


def _runtime(state: Path, knowledge: Knowledge, clock: Clock) -> Runtime:
    engine = Engine(knowledge, open_store(state), channel="web", clock=clock)
    return Runtime(engine, Config(content_dir=CONTENT, state_dir=state), {}, watch=False)


def test_only_the_lease_holder_sweeps_and_a_dead_holder_is_replaced(
    tmp_path: Path, knowledge: Knowledge, clock: Clock
) -> None:
    first = _runtime(tmp_path, knowledge, clock)
    second = _runtime(tmp_path, knowledge, clock)
    try:
        assert first.sweep() is True
        assert second.sweep() is False, "two processes must not both sweep"
        assert first.sweep() is True, "the holder renews its lease"
        # The holder dies without releasing: its lease expires and the other takes over.
        store = second.engine.store
        later = datetime.now(UTC) + timedelta(minutes=5)
        assert store.acquire_lease(SWEEPER, second.holder, later, timedelta(seconds=30))
        assert not store.acquire_lease(SWEEPER, first.holder, later, timedelta(seconds=30))
        # The purge runs once a day whoever sweeps.
        assert not store.acquire_lease(PURGE, second.holder, later, timedelta(days=1))
        assert store.acquire_lease(PURGE, second.holder, later + timedelta(days=1, seconds=1), timedelta(days=1))
    finally:
        first.engine.store.close()
        second.engine.store.close()


async def test_web_and_telegram_at_once_on_one_state_directory(tmp_path: Path, clock: Clock) -> None:
    """`socialbot web` as its own process beside the Telegram bot on one state directory: a meeting booked on
    the web is notified in the developer's Telegram chat by the Telegram process, once."""
    import asyncio
    import json
    import os
    import urllib.request

    from tests.test_telegram import DEVELOPER, live_bot
    from tests.webserver import free_port

    async with live_bot(tmp_path, clock) as live:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SOCIALBOT_", "TELEGRAM_"))}
        env["SOCIALBOT_NOTIFY_SUNDSVALL"] = str(DEVELOPER)
        env[CACHE_ENV] = os.environ[CACHE_ENV]  # the suite's trained matcher
        web = subprocess.Popen([sys.executable, "-m", "bot", "--content", str(live.content_dir), "--state",
                                str(tmp_path / "state"), "web", "--port", str(port)], cwd=ROOT, env=env,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip

        def post(body: dict[str, object]) -> dict[str, object]:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/api/messages", json.dumps(body).encode(),
                                             headers={"Content-Type": "application/json"})  # fmt: skip
            with urllib.request.urlopen(request, timeout=30) as response:
                return dict(json.loads(response.read()))

        def book() -> None:
            import time

            deadline = time.monotonic() + 90  # the web process loads the content first
            while True:
                try:
                    first = post({"conversation": None, "text": "/start", "region": "sundsvall", "lang": "sv"})
                    break
                except OSError:
                    assert time.monotonic() < deadline, "socialbot web did not start"
                    time.sleep(0.1)
            conversation = first["conversation"]
            slots = post({"conversation": conversation, "text": "boka möte"})
            slot = next(b["data"] for r in slots["replies"] for b in r["buttons"] if b["data"].startswith("slot:"))  # type: ignore
            for event in ({"button": slot}, {"text": "Anna"}, {"text": "070-123 45 67"}, {"button": "confirm"}):
                post({"conversation": conversation, **event})

        try:
            await asyncio.to_thread(book)
            note = await live.api.wait_for_messages(DEVELOPER, 1, timeout=20)
            assert "Ny bokning" in note[0].text and "Anna" in note[0].text
            await asyncio.sleep(1.0)
            assert len(live.api.messages_to(DEVELOPER)) == 1, "delivered once, by one of the two processes"
        finally:
            web.terminate()
            _, err = web.communicate(timeout=30)
        assert web.returncode in (0, -15), err[-2000:]
        assert "Traceback" not in err, err[-2000:]


async def test_stopping_waits_for_a_sweep_still_inside_the_store(tmp_path: Path, knowledge: Knowledge, clock: Clock) -> None:
    """A sweep runs in a thread; cancelling its task does not stop the thread. stop() returned while the purge
    was still inside SQLite, the store was closed under it, and the process died of a segfault (CI)."""
    import threading

    runtime = _runtime(tmp_path, knowledge, clock)
    inside, finished = threading.Event(), threading.Event()
    sweep = runtime.sweep

    def slow_sweep() -> bool:
        inside.set()
        time.sleep(0.5)  # the purge of a large database
        done = sweep()
        finished.set()
        return done

    runtime.sweep = slow_sweep  # type: ignore[method-assign]
    try:
        await runtime.start()
        assert await asyncio.to_thread(inside.wait, 30)
        await runtime.stop()
        assert finished.is_set(), "stop() returned while the sweep was still running"
    finally:
        runtime.engine.store.close()


async def test_a_database_moved_under_a_running_bot_is_one_log_line_from_the_sweeps(
    tmp_path: Path, knowledge: Knowledge, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """tester-attack round 3: the background sweep met the moved database first and logged a full traceback
    ('sweep failed' … StoreReplaced), where the README promises one log line. The sweeps now log one clear line,
    stop touching the store, and the channel's own refusal (503 / exit 4) follows from engine.fatal."""
    from bot.storage.base import StoreGone
    from bot.storage.sqlite import DB_NAME

    runtime = _runtime(tmp_path, knowledge, clock)
    runtime.sweep_interval = 0.01
    runtime.delivery.poll = 0.01
    swept = asyncio.Event()
    sweep = runtime.sweep

    def counted_sweep() -> bool:
        try:
            return sweep()
        finally:  # the sweep ran once on the real file: its next run meets the moved one
            loop.call_soon_threadsafe(swept.set)

    loop = asyncio.get_running_loop()
    runtime.sweep = counted_sweep  # type: ignore[method-assign]
    try:
        with caplog.at_level(logging.INFO):
            await runtime.start()
            await asyncio.wait_for(swept.wait(), 60)
            os.rename(tmp_path / DB_NAME, tmp_path / "moved.sqlite3")
            deadline = time.monotonic() + 60
            while runtime.engine.fatal is None:
                assert time.monotonic() < deadline, "the sweeps never noticed the moved database"
                await asyncio.sleep(0.01)
            await runtime.stop()
        assert isinstance(runtime.engine.fatal, StoreGone)
        assert not any(r.exc_info for r in caplog.records), [r.getMessage() for r in caplog.records if r.exc_info]
        lost = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(lost) == 1, [r.getMessage() for r in lost]
        assert "deleted or replaced" in lost[0].getMessage() and "\n" not in lost[0].getMessage()
        assert not (tmp_path / DB_NAME).exists(), "no new, empty database was created"
    finally:
        runtime.engine.store.close()
