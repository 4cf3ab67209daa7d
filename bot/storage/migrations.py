"""Versioned schema migrations. Append to MIGRATIONS; never edit one that has shipped."""

from __future__ import annotations

import sqlite3

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
        day TEXT NOT NULL,
        region TEXT,
        lang TEXT,
        text TEXT NOT NULL             -- scrubbed of personal data before it is written
    );
    CREATE INDEX unanswered_day ON unanswered (day);
    CREATE TABLE hash_keys (
        month TEXT PRIMARY KEY,        -- 2026-11: the key used for that month's conversation hashes
        secret BLOB NOT NULL
    );
    """,
    # 2: the outbox (notifications and reminders, sent after the change commits) and leases (one sweeper)
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
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
]


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to the newest schema, one transaction per step. Returns the version.

    The version is read inside the write transaction: two processes starting together on a new state
    directory queue on the lock, and the second finds the work done instead of creating the tables again."""
    while True:
        conn.execute("BEGIN IMMEDIATE")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version >= len(MIGRATIONS):
            conn.execute("COMMIT")
            break
        number, script = version + 1, MIGRATIONS[version]
        try:
            for statement in script.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return conn.execute("PRAGMA user_version").fetchone()[0]
