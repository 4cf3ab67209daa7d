"""The SQLite store, through sqlite-utils.

One connection per Store, in autocommit mode, with every change inside an explicit
`BEGIN IMMEDIATE` transaction: writers queue on SQLite's lock instead of failing half-way, and a crash
between two writes leaves either both or neither.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.booking.slots import slot_key
from bot.dialog.model import BookingInfo, State
from bot.privacy.keys import MonthlyKey
from bot.storage.migrations import migrate

log = logging.getLogger(__name__)
DB_NAME = "socialbot.sqlite3"
_INSERTS: dict[tuple[str, tuple[str, ...], str | None], str] = {}  # SQL text per table and column set


class SlotUnavailable(Exception):
    """The slot was booked by someone else first."""


class StoreReplaced(sqlite3.DatabaseError):
    """The database file was deleted or replaced under the running bot: writing on would write into the void
    (an unlinked file) or mix two databases, so every transaction is refused until a restart."""


@dataclass(frozen=True)
class Booking:
    id: str
    conversation: str
    region: str
    slot: str
    name: str | None
    phone: str | None
    lang: str
    status: str
    reminded: str = ""

    def info(self) -> BookingInfo:
        return BookingInfo(self.id, self.region, self.slot, self.name, self.phone)


@dataclass(frozen=True)
class OutboxItem:
    """A message to send once the change that made it has committed (see bot/notify)."""

    key: str  # one change, one key: enqueuing the same key again is a no-op
    kind: str  # notification, reminder, report
    transport: str  # telegram, email
    recipient: str
    payload: dict[str, Any]
    conversation: str | None = None
    at_most_once: bool = False  # reminders: better none than two after a crash mid-send


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    item: OutboxItem
    attempts: int  # including the one now claimed


@dataclass(frozen=True)
class Unanswered:
    """A kept question the bot could not answer, scrubbed of personal data."""

    id: int
    day: str  # UTC, 2026-11-23
    region: str | None
    lang: str | None  # the chat's language when it was asked
    text: str


def _key_at(moment: datetime) -> str:
    """The slot key of the minute `moment` falls in: slot keys sort as time, so this bounds queries."""
    return slot_key(moment.astimezone(UTC).replace(second=0, microsecond=0))


def private_dir(directory: Path) -> Path:
    """The state directory, created 0700 (and tightened to it): it holds personal data and the statistics key."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if directory.stat().st_mode & 0o077:
        os.chmod(directory, 0o700)
    return directory


def open_store(state_dir: Path | str) -> Store:
    return Store(private_dir(Path(state_dir)) / DB_NAME)


def _identity(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


class Store:
    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        on_disk = self.path != ":memory:"
        if on_disk:
            # 0600 from the first byte; SQLite gives the -wal and -shm files the database's mode.
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            os.chmod(self.path, 0o600)
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=10.0, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable at checkpoints, never corrupt
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten, not left in free pages
        self.version = migrate(conn)
        self.db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()  # one connection, possibly shared by threads: one user at a time
        self._depth = 0
        self._identity = _identity(self.path) if on_disk else None
        self.keys = MonthlyKey(Path(self.path).parent if on_disk else None)

    def check_file(self) -> None:
        """Raise StoreReplaced when the file at our path is no longer the one we opened."""
        if self._identity is not None and _identity(self.path) != self._identity:
            raise StoreReplaced(f"the database file {self.path} was deleted or replaced while the bot ran")

    def scrub_disk(self) -> None:
        """Move everything from the WAL into the database file and empty the WAL, so that deleted data (overwritten
        there by secure_delete) is not left in old WAL frames. Called right after /delete."""
        with self._lock:
            busy, _, _ = self.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:  # a reader (a statistics report) holds an old snapshot: the next checkpoint finishes it
            log.warning("WAL checkpoint after a deletion was blocked by a reader")

    def close(self) -> None:
        self.db.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside happen together or not at all. Nested use joins the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self.check_file()
            conn = self.db.conn
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

    def _insert(self, table: str, row: dict[str, object], replace_on: str | None = None) -> None:
        """INSERT (or upsert on `replace_on`) with plain SQL: on the hot path, sqlite-utils' insert and upsert
        introspect the table on every call, which the profile showed as a third of the time per message."""
        columns = tuple(row)
        sql = _INSERTS.get((table, columns, replace_on))
        if sql is None:
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            if replace_on:
                updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != replace_on)
                sql += f" ON CONFLICT ({replace_on}) DO UPDATE SET {updates}"
            _INSERTS[(table, columns, replace_on)] = sql
        self.db.conn.execute(sql, list(row.values()))

    # --- conversations --------------------------------------------------------------------------

    def load_state(self, conversation: str) -> State | None:
        with self._lock:
            row = self.db.execute("SELECT state FROM conversations WHERE key = ?", [conversation]).fetchone()
        if row is None:
            return None
        try:
            value = json.loads(row[0])
        except (TypeError, ValueError):
            return State()  # a damaged row must not lock a person out: start afresh
        return State.from_json(value) if isinstance(value, dict) else State()

    def save_state(self, conversation: str, state: State, now: datetime) -> None:
        with self.transaction():
            self._insert(
                "conversations",
                {
                    "key": conversation,
                    "state": json.dumps(state.to_json(), ensure_ascii=False),
                    "updated": now.isoformat(),
                },
                replace_on="key",
            )

    def delete_conversation(self, conversation: str, now: datetime) -> list[Booking]:
        """Remove everything tied to the conversation. Returns its upcoming bookings (to notify about)."""
        with self.transaction():
            upcoming = self.bookings_of(conversation, now)
            self.db.execute("DELETE FROM bookings WHERE conversation = ?", [conversation])
            self.db.execute("DELETE FROM conversations WHERE key = ?", [conversation])
            # Reminders not yet sent go too; the developer's notices (the cancellations) still go out.
            self.db.execute(
                "DELETE FROM outbox WHERE conversation = ? AND kind = 'reminder' AND status IN ('pending', 'sending')",
                [conversation],
            )
        return upcoming

    def unlink_events(self, conversation: str, now: datetime) -> str:
        """Give the conversation's events this month a random stand-in for its hash, so they still count as one
        conversation but nothing (not even the key) links them to the chat any more. Earlier months' keys are
        already gone. Returns the stand-in, for events recorded in the same step."""
        stand_in = secrets.token_hex(8)
        with self.transaction():
            self.db.execute(
                "UPDATE events SET conversation = ? WHERE conversation = ? AND hour >= ?",
                [stand_in, self.conversation_hash(conversation, now), now.astimezone(UTC).strftime("%Y-%m")],
            )
        return stand_in

    # --- bookings -------------------------------------------------------------------------------

    def taken(self, now: datetime) -> dict[str, frozenset[str]]:
        """Booked slot keys from now on, per region."""
        taken: dict[str, set[str]] = {}
        with self._lock:
            rows = self.db.execute(
                "SELECT region, slot FROM bookings WHERE status = 'booked' AND slot >= ?", [_key_at(now)]
            ).fetchall()
        for region, slot in rows:
            taken.setdefault(region, set()).add(slot)
        return {region: frozenset(slots) for region, slots in taken.items()}

    def bookings_of(self, conversation: str, now: datetime) -> list[Booking]:
        return self._bookings(
            "conversation = ? AND status = 'booked' AND slot >= ? ORDER BY slot", [conversation, _key_at(now)]
        )

    def upcoming(self, now: datetime, region: str | None = None) -> list[Booking]:
        where, params = "status = 'booked' AND slot >= ?", [_key_at(now)]
        if region:
            where, params = where + " AND region = ?", [*params, region]
        return self._bookings(where + " ORDER BY slot", params)

    def booking(self, booking_id: str) -> Booking | None:
        found = self._bookings("id = ?", [booking_id])
        return found[0] if found else None

    def _bookings(self, where: str, params: list[object]) -> list[Booking]:
        with self._lock:
            rows = self.db.execute(
                f"SELECT id, conversation, region, slot, name, phone, lang, status, reminded FROM bookings WHERE {where}",
                params,
            ).fetchall()
        return [Booking(*row) for row in rows]

    def create_booking(self, booking: Booking, now: datetime) -> None:
        row = {**booking.__dict__, "created": now.isoformat(), "updated": now.isoformat()}
        with self.transaction():
            try:
                self._insert("bookings", row)
            except sqlite3.IntegrityError as exc:
                raise SlotUnavailable(booking.slot) from exc

    def cancel_booking(self, conversation: str, booking_id: str, now: datetime) -> Booking | None:
        """Cancel one's own booking; someone else's id changes nothing and returns None."""
        with self.transaction():
            found = self._bookings(
                "id = ? AND conversation = ? AND status = 'booked'", [booking_id, conversation]
            )
            if not found:
                return None
            self.db.execute(
                "UPDATE bookings SET status = 'cancelled', updated = ? WHERE id = ?",
                [now.isoformat(), booking_id],
            )
        return found[0]

    def move_booking(self, conversation: str, booking_id: str, slot: str, now: datetime) -> Booking | None:
        with self.transaction():
            found = self._bookings(
                "id = ? AND conversation = ? AND status = 'booked'", [booking_id, conversation]
            )
            if not found:
                return None
            try:
                self.db.execute(
                    "UPDATE bookings SET slot = ?, reminded = '', updated = ? WHERE id = ?",
                    [slot, now.isoformat(), booking_id],
                )
            except sqlite3.IntegrityError as exc:
                raise SlotUnavailable(slot) from exc
        return found[0]

    def mark_reminded(self, booking_id: str, which: str) -> None:
        with self.transaction():
            booking = self.booking(booking_id)
            if booking and which not in booking.reminded.split(","):
                reminded = ",".join(filter(None, [*booking.reminded.split(","), which]))
                self.db.execute("UPDATE bookings SET reminded = ? WHERE id = ?", [reminded, booking_id])

    # --- anonymous statistics -------------------------------------------------------------------

    def conversation_hash(self, conversation: str, now: datetime) -> str:
        """A keyed hash whose key changes every month, so months cannot be linked to each other or to a chat.
        The key is kept outside the database (bot.privacy.keys)."""
        return hmac.new(self.keys.key(now), conversation.encode(), hashlib.sha256).hexdigest()[:16]

    def record_event(
        self,
        *,
        conversation_hash: str,
        now: datetime,
        region: str | None,
        lang: str | None,
        channel: str,
        action: str,
        topic: str | None = None,
        band: str | None = None,
    ) -> None:
        with self.transaction():
            self._insert(
                "events",
                {
                    "hour": now.astimezone(UTC).strftime("%Y-%m-%dT%H"),
                    "conversation": conversation_hash,
                    "region": region,
                    "lang": lang,
                    "channel": channel,
                    "action": action,
                    "topic": topic,
                    "band": band,
                },
            )

    def record_unanswered(self, *, now: datetime, region: str | None, lang: str | None, text: str) -> None:
        with self.transaction():
            self._insert(
                "unanswered",
                {
                    "day": now.astimezone(UTC).strftime("%Y-%m-%d"),
                    "region": region,
                    "lang": lang,
                    "text": text,
                },
            )

    def unanswered_questions(self) -> list[Unanswered]:
        """Every kept question the bot could not answer, oldest first (for `socialbot review`)."""
        with self._lock:
            rows = self.db.execute(
                "SELECT rowid, day, region, lang, text FROM unanswered ORDER BY rowid"
            ).fetchall()
        return [Unanswered(*row) for row in rows]

    def delete_unanswered(self, ids: Iterable[int]) -> int:
        """Drop questions staff have dealt with; returns how many were still there."""
        ids = list(ids)
        with self.transaction():
            return sum(self.db.execute("DELETE FROM unanswered WHERE rowid = ?", [i]).rowcount for i in ids)

    def purge(self, now: datetime, retention_days: int) -> dict[str, int]:
        """Delete what is older than the retention period; aggregate counts in `events` stay."""
        cutoff = now - timedelta(days=retention_days)
        counts = {}
        with self.transaction():
            counts["unanswered"] = self.db.execute(
                "DELETE FROM unanswered WHERE day < ?", [cutoff.astimezone(UTC).strftime("%Y-%m-%d")]
            ).rowcount
            # Finished or cancelled bookings lose their personal details; the row stays for the calendar.
            counts["bookings"] = self.db.execute(
                "DELETE FROM bookings WHERE (slot < ? OR status = 'cancelled') AND updated < ?",
                [_key_at(cutoff), cutoff.isoformat()],
            ).rowcount
            counts["hash_keys"] = int(self.keys.expire(now))
            counts["conversations"] = self.db.execute(
                "DELETE FROM conversations WHERE updated < ?", [cutoff.isoformat()]
            ).rowcount
            counts["outbox"] = self.db.execute(
                "DELETE FROM outbox WHERE status IN ('sent', 'dropped', 'failed') AND finished < ?",
                [cutoff.isoformat()],
            ).rowcount
        return counts

    # --- outbox and leases ----------------------------------------------------------------------

    def enqueue(self, items: list[OutboxItem], now: datetime, due: datetime | None = None) -> int:
        """Add messages to send (in the caller's transaction, if any). Returns how many were new."""
        added = 0
        when = due.astimezone(UTC).isoformat() if due else ""  # "": at once (sorts before every time)
        with self.transaction():
            for item in items:
                added += self.db.execute(
                    "INSERT OR IGNORE INTO outbox (key, kind, transport, recipient, conversation, payload, "
                    "at_most_once, due, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [item.key, item.kind, item.transport, item.recipient, item.conversation,
                     json.dumps(item.payload, ensure_ascii=False), int(item.at_most_once), when,
                     now.astimezone(UTC).isoformat()],
                ).rowcount  # fmt: skip
        return added

    def claim_outbox(self, transports: list[str], now: datetime, claim_for: timedelta,
                     limit: int = 20) -> list[OutboxEntry]:  # fmt: skip
        """Take due messages for these transports to send. A claim is atomic, so two processes never send
        the same row; one left 'sending' by a crashed process is taken over after `claim_for`, unless it is
        at-most-once (a reminder): that one is closed as 'dropped' instead of being sent a second time."""
        if not transports:
            return []
        stamp = now.astimezone(UTC).isoformat()
        marks = ", ".join("?" * len(transports))
        entries: list[OutboxEntry] = []
        with self.transaction():
            rows = self.db.execute(
                "SELECT id, key, kind, transport, recipient, conversation, payload, at_most_once, status, "
                f"attempts FROM outbox WHERE transport IN ({marks}) AND ((status = 'pending' AND due <= ?) "
                "OR (status = 'sending' AND claimed_until < ?)) ORDER BY due, id LIMIT ?",
                [*transports, stamp, stamp, limit],
            ).fetchall()
            until = (now + claim_for).astimezone(UTC).isoformat()
            for (id_, key, kind, transport, recipient, conversation, payload, once, status, attempts) in rows:
                if status == "sending" and once:
                    self.db.execute(
                        "UPDATE outbox SET status = 'dropped', payload = '{}', finished = ?, "
                        "error = 'interrupted mid-send' WHERE id = ?", [stamp, id_])  # fmt: skip
                    continue
                self.db.execute(
                    "UPDATE outbox SET status = 'sending', claimed_until = ?, attempts = attempts + 1 WHERE id = ?",
                    [until, id_],
                )
                item = OutboxItem(key, kind, transport, recipient, json.loads(payload), conversation, bool(once))
                entries.append(OutboxEntry(id_, item, attempts + 1))
        return entries

    def outbox_done(self, entry_id: int, now: datetime, status: str = "sent", error: str | None = None) -> None:
        """Sent, dropped (not worth trying again) or failed (gave up): the payload's personal data goes."""
        with self.transaction():
            self.db.execute(
                "UPDATE outbox SET status = ?, payload = '{}', finished = ?, claimed_until = NULL, error = ? "
                "WHERE id = ?", [status, now.astimezone(UTC).isoformat(), error, entry_id])  # fmt: skip

    def outbox_retry(self, entry_id: int, due: datetime, error: str) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE outbox SET status = 'pending', due = ?, claimed_until = NULL, error = ? WHERE id = ?",
                [due.astimezone(UTC).isoformat(), error, entry_id],
            )

    def drop_outbox(self, transport: str, recipient: str, kind: str, now: datetime, error: str) -> int:
        """Close every unsent message of a kind to one recipient (a person who blocked the bot)."""
        with self.transaction():
            return self.db.execute(
                "UPDATE outbox SET status = 'dropped', payload = '{}', finished = ?, error = ? "
                "WHERE transport = ? AND recipient = ? AND kind = ? AND status = 'pending'",
                [now.astimezone(UTC).isoformat(), error, transport, recipient, kind],
            ).rowcount

    def outbox_counts(self) -> dict[str, int]:
        with self._lock:
            rows = self.db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall()
        return {status: count for status, count in rows}

    def next_outbox_due(self, transports: list[str]) -> datetime | None:
        if not transports:
            return None
        marks = ", ".join("?" * len(transports))
        with self._lock:
            row = self.db.execute(
                f"SELECT MIN(COALESCE(claimed_until, due)) FROM outbox WHERE transport IN ({marks}) "
                "AND status IN ('pending', 'sending')", transports).fetchone()  # fmt: skip
        if not row or row[0] is None:
            return None
        return datetime.fromisoformat(row[0]) if row[0] else datetime.min.replace(tzinfo=UTC)

    def acquire_lease(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew the named lease; True while `holder` has it. A lease not renewed expires."""
        stamp = now.astimezone(UTC).isoformat()
        with self.transaction():
            self.db.execute(
                "INSERT INTO leases (name, holder, expires) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                "holder = excluded.holder, expires = excluded.expires "
                "WHERE leases.holder = excluded.holder OR leases.expires < ?",
                [name, holder, (now + ttl).astimezone(UTC).isoformat(), stamp],
            )
            row = self.db.execute("SELECT holder FROM leases WHERE name = ?", [name]).fetchone()
        return bool(row and row[0] == holder)

    def release_lease(self, name: str, holder: str) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", [name, holder])
