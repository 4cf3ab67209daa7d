"""The channel-neutral runtime: the migrations start-up race, the sweeper lease, reminders and the purge
from the database, shared by several processes on one state directory."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import Config
from bot.engine import Engine
from bot.knowledge import Knowledge
from bot.runtime import PURGE, SWEEPER, Runtime
from bot.storage import open_store
from bot.storage.migrations import MIGRATIONS
from tests.conftest import CONTENT, ROOT
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
