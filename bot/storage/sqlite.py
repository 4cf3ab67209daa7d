"""The SQLite store: the embedded default, one file under the state directory.

One connection per Store, in autocommit mode, with every change inside an explicit
`BEGIN IMMEDIATE` transaction: writers queue on SQLite's lock instead of failing half-way, and a crash
between two writes leaves either both or neither.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.privacy.keys import MonthlyKey
from bot.storage.base import Result, Store, StoreGone
from bot.storage.migrations import migrate_sqlite

log = logging.getLogger(__name__)
DB_NAME = "socialbot.sqlite3"
# SQLite's own automatic checkpoint (normally at 1,000 WAL pages) once `checkpoint` is called from a thread: only a
# safety net should those calls stop, so that the WAL stays bounded.
FALLBACK_CHECKPOINT_PAGES = 10_000


class StoreReplaced(sqlite3.DatabaseError, StoreGone):
    """The database file was deleted or replaced under the running bot: writing on would write into the void
    (an unlinked file) or mix two databases, so every transaction is refused until a restart."""


def private_dir(directory: Path) -> Path:
    """The state directory, created 0700 (and tightened to it): it holds personal data and the statistics key."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if directory.stat().st_mode & 0o077:
        os.chmod(directory, 0o700)
    return directory


def _identity(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


class SQLiteStore(Store):
    backend = "sqlite"
    errors = (sqlite3.Error,)
    row_id = "rowid"

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        on_disk = self.path != ":memory:"
        if on_disk:
            # 0600 from the first byte; SQLite gives the -wal and -shm files the database's mode.
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            os.chmod(self.path, 0o600)
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=10.0, check_same_thread=False)
        _switch_to_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable at checkpoints, never corrupt
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten, not left in free pages
        self.version = migrate_sqlite(conn)
        self.conn = conn
        self._db: Any = None
        self._lock = threading.RLock()  # one connection, possibly shared by threads: one user at a time
        self._depth = 0
        self._conversations: dict[str, tuple[threading.Lock, int]] = {}  # lock, holders + waiters
        self._conversations_guard = threading.Lock()
        self._identity = _identity(self.path) if on_disk else None
        self._checkpointer: sqlite3.Connection | None = None  # `checkpoint`'s own connection, opened at its first call
        self._checkpoint_lock = threading.Lock()
        self.keys = MonthlyKey(Path(self.path).parent if on_disk else None)

    @property
    def db(self) -> Any:
        """sqlite-utils' Database over the connection, for tools and tests. Imported when first asked for: the bot
        itself uses the connection only, and the module costs a long-running process some 3 MB."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    def check_file(self) -> None:
        """Raise StoreReplaced when the file at our path is no longer the one we opened."""
        if self._identity is not None and _identity(self.path) != self._identity:
            raise StoreReplaced(f"the database file {self.path} was deleted or replaced while the bot ran")

    def scrub_disk(self) -> None:
        """Move everything from the WAL into the database file and empty the WAL, so that deleted data (overwritten
        there by secure_delete) is not left in old WAL frames. Called right after /delete."""
        with self._lock:
            busy, _, _ = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:  # a reader (a statistics report) holds an old snapshot: the next checkpoint finishes it
            log.warning("WAL checkpoint after a deletion was blocked by a reader")

    def checkpoint(self) -> None:
        """A PASSIVE checkpoint on a connection of its own, for a thread beside the bot: it neither waits for the bot's
        writes nor holds them up. Without it SQLite checkpoints inside the COMMIT that fills the WAL to 1,000 pages, so
        about one reply in 250 paid the copy and two fsyncs (5-20 ms on the test machine's disk: issue 11's tail). The
        first call moves that automatic checkpoint out to FALLBACK_CHECKPOINT_PAGES."""
        if self._identity is None:
            return  # in memory: no WAL
        with self._checkpoint_lock:
            self.check_file()  # a new file at our path is not ours to write into
            if self._checkpointer is None:
                with self._lock:
                    self.conn.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_CHECKPOINT_PAGES}")
                self._checkpointer = sqlite3.connect(self.path, isolation_level=None, timeout=1.0,
                                                     check_same_thread=False)  # fmt: skip
                self._checkpointer.execute("PRAGMA synchronous=NORMAL")  # as the bot's: the WAL synced, then the file
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def close(self) -> None:
        with self._checkpoint_lock:
            if self._checkpointer is not None:
                self._checkpointer.close()
                self._checkpointer = None
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self.check_file()
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")
            finally:
                self._depth = 0

    @contextmanager
    def conversation_lock(self, conversation: str) -> Iterator[None]:
        """A lock per conversation within this process (an SQLite file serves one process's workers)."""
        with self._conversations_guard:
            lock, users = self._conversations.get(conversation, (threading.Lock(), 0))
            self._conversations[conversation] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._conversations_guard:
                lock, users = self._conversations[conversation]
                if users == 1:
                    del self._conversations[conversation]
                else:
                    self._conversations[conversation] = (lock, users - 1)

    def execute(self, sql: str, params: Sequence[object] = ()) -> Result:
        with self._lock:
            cursor = self.conn.execute(sql, list(params))
            return Result(cursor.fetchall(), cursor.rowcount)

    def tables(self) -> list[str]:
        rows = self.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        return [name for (name,) in rows if not name.startswith("sqlite_")]

    def _describe(self, table: str) -> list[tuple[str, str]]:
        return [(row[1], row[2]) for row in self.query(f"PRAGMA table_info({table})")]

    def _is_unique_violation(self, exc: Exception) -> bool:
        return isinstance(exc, sqlite3.IntegrityError)

    def events_between(self, low: str, high: str) -> list[tuple[object, ...]]:
        with self._reader() as conn:
            return conn.execute(
                "SELECT hour, conversation, region, lang, action, topic, band, channel FROM events WHERE hour >= ? AND hour < ?",
                [low, high],
            ).fetchall()

    def unanswered_between(self, low: str, high: str) -> list[tuple[object, ...]]:
        with self._reader() as conn:
            return conn.execute(
                "SELECT day, text FROM unanswered WHERE day >= ? AND day <= ? AND reason = 'fallback'", [low, high]
            ).fetchall()

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection of our own: a report never writes and never waits for the bot's lock."""
        if self.path == ":memory:":
            with self._lock:
                yield self.conn
            return
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        try:
            yield conn
        finally:
            conn.close()


def open_sqlite(state_dir: Path | str) -> SQLiteStore:
    return SQLiteStore(private_dir(Path(state_dir)) / DB_NAME)


def _switch_to_wal(conn: sqlite3.Connection, attempts: int = 50) -> None:
    """Turn WAL on. Switching a new file's journal mode needs the file to itself and does not wait on the busy
    timeout, so processes opening a new state directory together take turns here."""
    for attempt in range(attempts):
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05 + 0.01 * attempt)
