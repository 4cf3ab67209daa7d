"""SQLite's WAL checkpoints happen in the runtime's thread, never inside a reply's commit (issue 11's tail): SQLite's
automatic checkpoint copies the WAL into the database and syncs both inside the COMMIT that fills the WAL, so that
one reply waited for it."""

from __future__ import annotations

import asyncio
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Config
from bot.dialog.model import State
from bot.engine import Engine
from bot.knowledge import Knowledge
from bot.runtime import Runtime
from bot.storage.base import StoreGone
from bot.storage.sqlite import DB_NAME, SQLiteStore, open_sqlite
from tests.conftest import CONTENT
from tests.transcript import Clock

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _write_pages(store: SQLiteStore, pages: int, now: datetime = NOW) -> None:
    """About `pages` WAL pages: one commit per conversation, each state filling most of a page of its own."""
    for index in range(pages):
        store.save_state(f"telegram:{index}", State(lang="sv", data={"note": f"{index} " + "x" * 3000}), now)


def _wal_pages(store: SQLiteStore) -> int:
    """How far the WAL file has ever grown, in pages (it is reused from its start after a complete checkpoint)."""
    page_size = store.conn.execute("PRAGMA page_size").fetchone()[0]
    return max(0, (os.path.getsize(store.path + "-wal") - 32) // (page_size + 24))


def test_by_default_sqlite_checkpoints_by_itself(tmp_path: Path) -> None:
    """A store nobody checkpoints (the tools, the tests) keeps SQLite's own: the WAL stays near 1,000 pages."""
    store = open_sqlite(tmp_path)
    try:
        _write_pages(store, 1500)
        assert _wal_pages(store) < 1300
    finally:
        store.close()


def test_once_a_thread_checkpoints_a_commit_never_does_and_the_thread_copies_everything(
    tmp_path: Path,
) -> None:
    store = open_sqlite(tmp_path)
    database = tmp_path / DB_NAME
    try:
        store.checkpoint()
        _write_pages(store, 1500)
        assert _wal_pages(store) > 1400, "a commit checkpointed at 1,000 pages"
        before = database.stat().st_size
        store.checkpoint()
        assert database.stat().st_size > before + 1000 * 4096, (
            "the checkpoint copied the WAL into the database"
        )
        copy = tmp_path / "copy"
        copy.mkdir()
        shutil.copy(database, copy / DB_NAME)  # the database file alone, without its WAL, holds every change
        alone = SQLiteStore(copy / DB_NAME)
        try:
            state = alone.load_state("telegram:1499")
            assert state is not None and state.data["note"].startswith("1499 ")
        finally:
            alone.close()
        _write_pages(store, 10)  # the next commit starts the WAL over
        assert store.load_state("telegram:1") is not None
    finally:
        store.close()


def test_a_checkpoint_never_writes_into_a_database_file_that_replaced_ours(tmp_path: Path) -> None:
    store = open_sqlite(tmp_path)
    try:
        _write_pages(store, 5)
        os.rename(tmp_path / DB_NAME, tmp_path / "moved.sqlite3")
        SQLiteStore(tmp_path / DB_NAME).close()  # a new, empty database at our path
        with pytest.raises(StoreGone):
            store.checkpoint()
    finally:
        store.close()


async def test_the_runtime_checkpoints_in_its_thread(
    tmp_path: Path, knowledge: Knowledge, clock: Clock
) -> None:
    """The runtime calls `checkpoint` (whose copying the test above shows) from its thread, again and again."""
    engine = Engine(knowledge, open_sqlite(tmp_path), channel="telegram", clock=clock)
    store = engine.store
    assert isinstance(store, SQLiteStore)
    runtime = Runtime(engine, Config(content_dir=CONTENT, state_dir=tmp_path), {}, watch=False,
                      checkpoint_interval=0.05)  # fmt: skip
    await runtime.start()
    try:
        await asyncio.to_thread(
            _write_pages, store, 50, clock()
        )  # the engine's time: the sweep's purge keeps them
        done = runtime.checkpoints
        async with asyncio.timeout(300):  # waits on the condition, however slow the machine
            while runtime.checkpoints < done + 2:
                await asyncio.sleep(0.05)
        assert store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] > 1000, (
            "commits no longer checkpoint"
        )
    finally:
        await runtime.stop()
        store.close()
