"""Versioned schema migrations, one description for every backend.

Append to MIGRATIONS; never edit one that has shipped. Each step is SQL that SQLite and PostgreSQL both
understand (TEXT, INTEGER, partial unique indexes, CHECK, ON CONFLICT), with a few `{words}` in braces for
the types the two spell differently (DIALECTS below). Statements are separated by ";" (so no ";" inside a
comment). Both backends run every step in its own transaction and re-read the version after taking the
database's write lock, so processes starting together on a new database migrate it exactly once.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

DIALECTS: dict[str, dict[str, str]] = {
    "sqlite": {
        "bytes": "BLOB",
        "serial": "INTEGER PRIMARY KEY AUTOINCREMENT",  # an id that is never reused
        "row_id": "",  # SQLite numbers every row itself (rowid)
    },
    "postgresql": {
        "bytes": "BYTEA",
        "serial": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        "row_id": "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ",
    },
}

MIGRATIONS: list[str] = [
    # 1: conversations, bookings, anonymous events, unanswered questions, hashing keys
    """
    CREATE TABLE conversations (
        key TEXT PRIMARY KEY,          -- channel-qualified chat key, e.g. "telegram:12345"
        state TEXT NOT NULL,           -- the dialog state as JSON
        updated TEXT NOT NULL
    );
    CREATE TABLE bookings (
        id TEXT PRIMARY KEY,
        conversation TEXT NOT NULL,
        region TEXT NOT NULL,
        slot TEXT NOT NULL,            -- UTC slot key, e.g. 20261201T0800Z (sorts as time)
        name TEXT,
        phone TEXT,
        lang TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('booked', 'cancelled')),
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        reminded TEXT NOT NULL DEFAULT ''  -- reminders already sent, e.g. "24h,2h"
    );
    -- The guarantee that a slot is never booked twice lives here, not in application code.
    CREATE UNIQUE INDEX bookings_one_per_slot ON bookings (region, slot) WHERE status = 'booked';
    CREATE INDEX bookings_conversation ON bookings (conversation);
    CREATE TABLE events (
        hour TEXT NOT NULL,            -- UTC, to the hour: 2026-11-23T14
        conversation TEXT NOT NULL,    -- keyed hash, its key rotating monthly: links nothing to a chat
        region TEXT,
        lang TEXT,
        channel TEXT NOT NULL,
        action TEXT NOT NULL,
        topic TEXT,
        band TEXT
    );
    CREATE INDEX events_hour ON events (hour);
    CREATE TABLE unanswered (
        {row_id}day TEXT NOT NULL,
        region TEXT,
        lang TEXT,
        text TEXT NOT NULL             -- scrubbed of personal data before it is written
    );
    CREATE INDEX unanswered_day ON unanswered (day);
    CREATE TABLE hash_keys (
        month TEXT PRIMARY KEY,        -- 2026-11: the key used for that month's conversation hashes
        secret {bytes} NOT NULL
    );
    """,
    # 2: the outbox (notifications and reminders, sent after the change commits) and leases (one sweeper)
    """
    CREATE TABLE outbox (
        id {serial},
        key TEXT NOT NULL UNIQUE,      -- one change, one row: enqueuing it again changes nothing
        kind TEXT NOT NULL,            -- notification, reminder, report, ...
        transport TEXT NOT NULL,       -- telegram, email
        recipient TEXT NOT NULL,       -- chat id or e-mail address
        conversation TEXT,             -- whose it is, so /delete can drop a pending reminder
        payload TEXT NOT NULL,         -- JSON, emptied once sent
        at_most_once INTEGER NOT NULL DEFAULT 0,  -- 1: a send cut short by a crash is not repeated
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'dropped', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        due TEXT NOT NULL,             -- ISO UTC: not before
        claimed_until TEXT,            -- while 'sending': another process may take it over after this
        created TEXT NOT NULL,
        finished TEXT,
        error TEXT                     -- the last failure's short reason (never message text)
    );
    CREATE INDEX outbox_due ON outbox (status, due);
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,         -- e.g. "sweeper": only its holder sweeps reminders and purges
        holder TEXT NOT NULL,
        expires TEXT NOT NULL          -- ISO UTC
    );
    """,
    # 3: the statistics' hashing key moves out of the database (bot.privacy.keys): beside the events it linked them
    # back to chats
    """
    DROP TABLE hash_keys;
    """,
    # 4: why a question is up for review: the bot had no answer ('fallback'), or the person said the answer did not
    # help ('unhelpful'); the statistics' "unanswered" are the fallbacks only
    """
    ALTER TABLE unanswered ADD COLUMN reason TEXT NOT NULL DEFAULT 'fallback'
    """,
    # 5: booking limits (bot/booking/limits.py): who booked, as a keyed hash of the Telegram user or the web address
    # (never the address), emptied once the meeting has passed. Counted in the booking's own transaction.
    """
    ALTER TABLE bookings ADD COLUMN person TEXT;
    CREATE INDEX bookings_person ON bookings (person, status, slot);
    CREATE INDEX bookings_region_created ON bookings (region, created)
    """,
    # 6: every booking, cancellation and move, by whom (the keyed hash of 5, no conversation, no booking id), for the
    # limit on changes per person and day (bot/booking/limits.py) and the alerts' "by one person"; purged after two days
    """
    CREATE TABLE booking_changes (
        person TEXT NOT NULL,
        region TEXT NOT NULL,
        kind TEXT NOT NULL,            -- booked, cancelled, moved
        at TEXT NOT NULL               -- ISO UTC
    );
    CREATE INDEX booking_changes_person ON booking_changes (person, at);
    CREATE INDEX booking_changes_region ON booking_changes (region, at)
    """,
]


def statements(number: int, dialect: str) -> list[str]:
    """The SQL statements of migration `number` (1-based) for one backend."""
    script = MIGRATIONS[number - 1].format(**DIALECTS[dialect])
    return [statement.strip() for statement in script.split(";") if statement.strip()]


def migrate_sqlite(conn: sqlite3.Connection) -> int:
    """Bring an SQLite database to the newest schema, one transaction per step. Returns the version."""
    while True:
        conn.execute("BEGIN IMMEDIATE")  # the write lock first, then the version: a second process waits
        try:
            version: int = conn.execute("PRAGMA user_version").fetchone()[0]
            if version >= len(MIGRATIONS):
                conn.execute("COMMIT")
                return version
            for statement in statements(version + 1, "sqlite"):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


# Any fixed number: the advisory lock that makes PostgreSQL workers starting together migrate once.
MIGRATION_LOCK = 0x50C1A1B07


def migrate_postgresql(conn: psycopg.Connection) -> int:
    """Bring a PostgreSQL schema to the newest version. DDL is transactional there, so each step is one
    transaction, taken under an advisory lock: other workers wait and then find nothing left to do."""
    while True:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [MIGRATION_LOCK])
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM schema_version").fetchone()
            version = row[0] if row else 0
            if version >= len(MIGRATIONS):
                return version
            for statement in statements(version + 1, "postgresql"):
                conn.execute(statement)  # our own SQL, not user input
            if row:
                conn.execute("UPDATE schema_version SET version = %s", [version + 1])
            else:
                conn.execute("INSERT INTO schema_version (version) VALUES (%s)", [version + 1])
