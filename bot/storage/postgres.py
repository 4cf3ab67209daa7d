"""The PostgreSQL store: the shared database when several workers, on one machine or several, serve one bot.

psycopg 3 with its connection pool. A connection is borrowed for one statement, or for as long as a
transaction or a conversation lock lasts; while a thread holds one, every statement of that thread runs
on it, so a message's reads and writes see one another. Conversation locks are session advisory locks
(`pg_advisory_lock`): held by the database, released by it if a worker dies, and waited for by every
other worker that gets the same conversation's next message.

While a conversation lock is held its connection is in psycopg's pipeline mode, so that a message costs about
three round trips to the server, not one per statement: the lock goes together with the first read (loading the
state), a transaction's BEGIN, its writes whose results nobody reads (`write`) and its COMMIT go together, and the
unlock goes alone (`locked_state` takes the lock and reads the state; `conversation_lock` alone waits for the
lock before it returns). A statement whose result is read (`execute`) sends what is queued and waits, so reads and
errors come in the order the code expects. The server runs pipelined statements one after another in order; the
state is read by its own statement after the lock is granted, so it sees the last holder's commit.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool

from bot.dialog.model import State
from bot.privacy.keys import MonthlyKey
from bot.storage.base import Result, Store
from bot.storage.migrations import migrate_postgresql

log = logging.getLogger(__name__)
LOCK_TIMEOUT = "10s"  # a conversation or row locked longer than this is an error and an apology, not a hang
APPLICATION_NAME = "socialbot"  # how the workers' connections show in pg_stat_activity
CONVERSATION_LOCKS = 0x50C1  # the first key of two-key advisory locks: this bot's conversations
BOOKING_LOCKS = 0x50C2  # the first key of the locks that serialise booking limits (Store.serialize)
UNFINISHED = (TransactionStatus.INTRANS, TransactionStatus.INERROR)  # a transaction left open, failed or not


@lru_cache(maxsize=512)
def _placeholders(sql: str) -> str:
    """Our SQL uses `?` (SQLite's style); psycopg wants `%s`, and a literal % doubled."""
    return sql.replace("%", "%%").replace("?", "%s")


def conversation_key(conversation: str) -> int:
    """A stable signed 32-bit number per conversation, the second key of its advisory lock."""
    return int.from_bytes(hashlib.blake2b(conversation.encode(), digest_size=4).digest(), "big", signed=True)


def _configure(conn: psycopg.Connection) -> None:
    conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")


class PostgresStore(Store):
    backend = "postgresql"
    errors = (psycopg.Error,)
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, *, keys_dir: Path | None = None, min_size: int = 1, max_size: int = 10) -> None:
        self.url = url
        self.keys = MonthlyKey(keys_dir)
        self.pool = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            # The URL may name the connections itself (?application_name=...: one bot's among several on a server).
            kwargs={"autocommit": True, "application_name": conninfo_to_dict(url).get("application_name",
                                                                                    APPLICATION_NAME)},
            configure=_configure,
            open=False,
            name="socialbot",
        )
        self.pool.open(wait=True, timeout=30)
        self._local = threading.local()  # this thread's borrowed connection and transaction depth
        with self._connection() as conn:
            self.version = migrate_postgresql(conn)

    def close(self) -> None:
        self.pool.close()

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """This thread's connection if it holds one, else one borrowed from the pool until the block ends."""
        held = getattr(self._local, "conn", None)
        if held is not None:
            yield held
            return
        with self.pool.connection() as conn:
            self._local.conn = conn
            try:
                yield conn
            finally:
                self._local.conn = None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._connection() as conn:
            depth = getattr(self._local, "depth", 0)
            pipeline: psycopg.Pipeline | None = getattr(self._local, "pipeline", None)
            self._local.depth = depth + 1
            try:
                if depth:
                    yield
                elif pipeline is None:
                    # A transaction of its own, in a pipeline of its own: BEGIN, the writes and COMMIT go in one
                    # exchange as the pipeline ends (psycopg's own transaction() waits for the BEGIN, and again before
                    # the COMMIT, in pipeline mode).
                    try:
                        with conn.pipeline() as own:
                            self._local.pipeline = own
                            conn.execute("BEGIN")
                            yield
                            conn.execute("COMMIT")
                    except BaseException:
                        if not conn.broken and conn.info.transaction_status in UNFINISHED:
                            conn.execute("ROLLBACK")  # (out of pipeline mode by now)
                        raise
                    finally:
                        self._local.pipeline = None
                else:
                    # Inside a conversation's pipeline, which goes on after the transaction: its COMMIT is waited for.
                    conn.execute("BEGIN")
                    try:
                        yield
                        conn.execute("COMMIT")
                        pipeline.sync()
                    except BaseException:
                        _roll_back(conn, pipeline)
                        raise
            finally:
                self._local.depth = depth

    @contextmanager
    def conversation_lock(self, conversation: str) -> Iterator[None]:
        with self._conversation_pipeline(conversation) as pipeline:
            pipeline.sync()  # held from here
            yield

    @contextmanager
    def locked_state(self, conversation: str) -> Iterator[State | None]:
        with self._conversation_pipeline(conversation):
            yield self.load_state(conversation)  # the lock and the read go in one round trip

    @contextmanager
    def _conversation_pipeline(self, conversation: str) -> Iterator[psycopg.Pipeline]:
        """The conversation's advisory lock, queued, on this thread's connection in pipeline mode until it is released."""
        with self._connection() as conn, conn.pipeline() as pipeline:
            outer = getattr(self._local, "pipeline", None)
            self._local.pipeline = pipeline
            key = [CONVERSATION_LOCKS, conversation_key(conversation)]
            try:
                conn.execute("SELECT pg_advisory_lock(%s, %s)", key)
                yield pipeline
            finally:
                self._local.pipeline = outer
                # A broken connection's session ended on the server, and its locks with it; the pool drops it.
                if not conn.broken:
                    if not getattr(self._local, "depth", 0) and conn.info.transaction_status in UNFINISHED:
                        _roll_back(conn, pipeline)  # never leave a half transaction behind on a pooled connection
                    conn.execute("SELECT pg_advisory_unlock(%s, %s)", key)  # the pipeline's end sends it and waits

    def serialize(self, *names: str) -> None:
        """Transaction advisory locks, taken in one order (so two bookings never wait on each other in a circle) and
        released by the commit: a second worker counts only after the first one's booking is in."""
        with self._connection() as conn:
            for name in sorted(set(names)):
                conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", [BOOKING_LOCKS, conversation_key(name)])

    def execute(self, sql: str, params: Sequence[object] = ()) -> Result:
        with self._connection() as conn:
            cursor = conn.execute(_placeholders(sql), list(params))
            pipeline: psycopg.Pipeline | None = getattr(self._local, "pipeline", None)
            if pipeline is not None:
                pipeline.sync()  # send what is queued and wait: the result is read now
            rows = cursor.fetchall() if cursor.description is not None else []
            return Result(rows, cursor.rowcount)

    def write(self, sql: str, params: Sequence[object] = ()) -> None:
        """In a conversation's pipeline the statement is only queued: it goes with the next read or the COMMIT, and
        an error in it rolls the transaction back there."""
        if getattr(self._local, "pipeline", None) is None:
            self.execute(sql, params)
            return
        with self._connection() as conn:
            conn.execute(_placeholders(sql), list(params))

    def tables(self) -> list[str]:
        rows = self.query(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'schema_version' "
            "ORDER BY tablename"
        )
        return [name for (name,) in rows]

    def _describe(self, table: str) -> list[tuple[str, str]]:
        rows = self.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            [table],
        )
        return [(name, kind) for name, kind in rows]

    def scrub_disk(self) -> None:
        """Deleted rows are unreachable through SQL at once; autovacuum reclaims their space. Nothing to do."""

    def insert_rows(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        """Rows in one round trip per batch; ids are kept, and each identity's counter moves past them."""
        identity = [name for (name,) in self.query(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ? AND is_identity = 'YES'", [table])]  # fmt: skip
        overriding = " OVERRIDING SYSTEM VALUE" if set(identity) & set(columns) else ""
        sql = f"INSERT INTO {table} ({', '.join(columns)}){overriding} VALUES ({', '.join('?' * len(columns))})"
        with self.transaction(), self._connection() as conn, conn.cursor() as cursor:
            cursor.executemany(_placeholders(sql), rows)
            for column in identity:
                self.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                    f"COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
                )

    def _is_unique_violation(self, exc: Exception) -> bool:
        return isinstance(exc, pg_errors.UniqueViolation)

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return self.execute(sql, params).fetchall()


def _roll_back(conn: psycopg.Connection, pipeline: psycopg.Pipeline) -> None:
    """After a failure inside a pipelined transaction: send what is still queued (its errors belong to the failure
    already being raised), then roll back whatever transaction is left open, aborted or not."""
    with suppress(psycopg.Error):
        pipeline.sync()
    if conn.info.transaction_status in UNFINISHED:
        try:
            conn.execute("ROLLBACK")
            pipeline.sync()
        except psycopg.Error as exc:  # a broken connection: the pool throws it away
            log.warning("rollback failed: %s", type(exc).__name__)
