"""The storage interface and everything both backends share: the SQL is written once, with `?` for
parameters, and each backend supplies a connection, its transactions and its locks.

Guarantees every backend keeps (tests/test_storage_contract.py checks them on each):
- `transaction()`: the writes inside happen together or not at all; nested use joins the outer one.
- A slot is booked at most once: a unique index on (region, slot) of booked rows, not application code.
- `conversation_lock(key)`: one conversation's messages are handled one at a time, by every process
  sharing the store (SQLite: in this process; PostgreSQL: an advisory lock, across workers).
  `locked_state(key)` is that lock and the state together: the state read is never older than the last
  holder's commit, even when a backend sends both at once (PostgreSQL: in one round trip).
- `write(sql)`: a statement whose result nobody reads may be sent later (PostgreSQL: with the next read or the
  COMMIT), but in order, and its error still rolls back the whole transaction.
- `claim_reminder` and `claim_lease`: of several workers asking at once, exactly one gets a yes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.booking.slots import slot_key
from bot.dialog.model import BookingInfo, State
from bot.privacy.keys import MonthlyKey, person_key

# Events that must not link to the rest of a conversation: a booking row (name, phone) has a region and a time, and
# a hash on its event, or an hour beside it, would let anyone holding the database join the booking to every event
# of that chat, the crisis answer included (the outside attacker's F13). These get a random hash of their own and the
# day only (Swedish, like the report's days).
UNLINKED_ACTIONS = frozenset({"booking", "moved", "cancelled", "deleted", "crisis"})
UNLINKED_DAY = ZoneInfo("Europe/Stockholm")
UNLINKED_HOUR = "T11"  # 12:00 or 13:00 in Sweden: the same day there as in UTC

BOOKING_COLUMNS = "id, conversation, region, slot, name, phone, lang, status, reminded"


class StoreGone(Exception):
    """Marks an error after which the store must not be used any more (its file deleted or replaced under the running
    bot): the engine apologises and the channel stops the process. Backends raise a subclass of their driver's error
    and of this."""


class SlotUnavailable(Exception):
    """The slot was booked by someone else first."""


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


ERASURE = "erasure"  # the kind of a developer's notice made by a /delete: once sent, the disk is scrubbed again


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
    reason: str = "fallback"  # or "unhelpful": answered, but the person said it did not help


def key_at(moment: datetime) -> str:
    """The slot key of the minute `moment` falls in: slot keys sort as time, so this bounds queries."""
    return slot_key(moment.astimezone(UTC).replace(second=0, microsecond=0))


class Result:
    """What a statement gave back, read before the connection goes back to its owner."""

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows


class Store(ABC):
    """Conversations, bookings and anonymous statistics, on one backend."""

    backend: str  # "sqlite" or "postgresql"
    version: int  # the schema version after migrating
    # The driver's errors (DB-API's `Error`): the engine apologises for these instead of crashing.
    errors: tuple[type[Exception], ...]
    # Appended to a SELECT that claims rows other workers may claim at the same moment: PostgreSQL locks
    # the rows and skips those another worker holds; SQLite's write transaction serialises anyway.
    skip_locked: str = ""
    row_id = "id"  # the unanswered table's row number (SQLite: its implicit rowid)
    keys: MonthlyKey  # the statistics' hashing key, kept outside the database (bot.privacy.keys)

    # --- what a backend supplies ----------------------------------------------------------------

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """All writes inside happen together or not at all. Nested use joins the outer transaction."""

    @abstractmethod
    def conversation_lock(self, conversation: str) -> AbstractContextManager[None]:
        """Hold while handling one message: the conversation's next message waits for this one."""

    @contextmanager
    def locked_state(self, conversation: str) -> Iterator[State | None]:
        """`conversation_lock` and `load_state` in one, for handling a message: a backend may send both at once."""
        with self.conversation_lock(conversation):
            yield self.load_state(conversation)

    @abstractmethod
    def execute(self, sql: str, params: Sequence[object] = ()) -> Result:
        """Run one statement (`?` for parameters) inside the current transaction, or on its own."""

    @abstractmethod
    def tables(self) -> list[str]:
        """The names of the application's tables (for the privacy tests and migrate-store)."""

    @abstractmethod
    def _is_unique_violation(self, exc: Exception) -> bool: ...

    def check_file(self) -> None:
        """Raise StoreGone when the store must not be used any more (SQLite: its file deleted or replaced)."""
        return None  # a server database (PostgreSQL) has no file to lose

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read-only query, for reports and tests."""
        return self.execute(sql, params).fetchall()

    def write(self, sql: str, params: Sequence[object] = ()) -> None:
        """Run a statement whose result nobody reads. A backend may send it later, with the next statement whose result
        is read or with the COMMIT (PostgreSQL, in a conversation's pipeline); its error then comes from there, so a
        statement whose error the caller handles (a unique violation) goes through `execute`."""
        self.execute(sql, params)

    def _insert(self, table: str, row: dict[str, object], replace_on: str | None = None, *,
                deferred: bool = False) -> None:  # fmt: skip
        """INSERT, or upsert on `replace_on`, with plain SQL that both backends understand. `deferred`: through
        `write`, for rows whose insert cannot fail on a constraint the caller handles."""
        columns = tuple(row)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        if replace_on:
            updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != replace_on)
            sql += f" ON CONFLICT ({replace_on}) DO UPDATE SET {updates}"
        (self.write if deferred else self.execute)(sql, list(row.values()))

    # --- conversations --------------------------------------------------------------------------

    def load_state(self, conversation: str) -> State | None:
        row = self.execute("SELECT state FROM conversations WHERE key = ?", [conversation]).fetchone()
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
                deferred=True,
            )

    def delete_conversation(self, conversation: str, now: datetime) -> list[Booking]:
        """Remove everything tied to the conversation, its developer's notices not yet sent too (they name the
        person). Returns the bookings the developer must hear are cancelled: the upcoming ones they were told of (or
        that were never queued: no outbox), and the earlier cancelled ones whose dropped cancellation they still
        owe. The caller sends those without name or phone."""
        with self.transaction():
            owed, untold = self._drop_notices(conversation)
            upcoming = [b for b in self.bookings_of(conversation, now) if b.id not in untold]
            upcoming += [b for b in self._bookings("conversation = ? AND status = 'cancelled'", [conversation])
                         if b.id in owed]  # fmt: skip
            self.execute("DELETE FROM bookings WHERE conversation = ?", [conversation])
            self.execute("DELETE FROM conversations WHERE key = ?", [conversation])
            # The person's own messages (reminders, calendar files), sent or not, go too: a sent row still names the
            # chat. The developer's notices (the cancellations) carry no conversation and still go.
            self.execute("DELETE FROM outbox WHERE conversation = ?", [conversation])
        return upcoming

    def _drop_notices(self, conversation: str) -> tuple[set[str], set[str]]:
        """Delete the developer's notices about the conversation's bookings that are not sent yet (pending, or being
        sent: a send in flight finds its row gone and is not retried). Returns the ids of the bookings whose
        cancellation was dropped though the developer was (or may have been) told of the booking, and the ids with
        booking notices none of which reached the developer: they never heard of those bookings."""
        ids = {booking_id for (booking_id,) in self.query("SELECT id FROM bookings WHERE conversation = ?",
                                                           [conversation])}  # fmt: skip
        if not ids:
            return set(), set()
        told: set[str] = set()
        queued: set[str] = set()
        owed: set[str] = set()  # cancellations dropped unsent
        drop: list[int] = []
        # The key names the change and the booking first (bot/notify/messages.py): "booked:<id>:<slot>:…".
        for row_id, key, status in self.query(
            "SELECT id, key, status FROM outbox WHERE kind IN ('notification', ?)", [ERASURE]
        ):
            change, _, rest = str(key).partition(":")
            booking_id = rest.partition(":")[0]
            if booking_id not in ids or change not in ("booked", "moved", "cancelled"):
                continue
            if change != "cancelled":
                queued.add(booking_id)
                if status in ("sent", "sending"):
                    told.add(booking_id)
            if status in ("pending", "sending"):
                drop.append(row_id)
                if change == "cancelled":
                    owed.add(booking_id)
        for row_id in drop:
            self.execute("DELETE FROM outbox WHERE id = ?", [row_id])
        return told & owed, queued - told

    def names_of(self, conversation: str) -> set[str]:
        """The first names the conversation gave in its bookings: scrubbed from its unanswered questions."""
        rows = self.query("SELECT name FROM bookings WHERE conversation = ? AND name IS NOT NULL", [conversation])
        return {name for (name,) in rows if name}

    def rescrub_unanswered(self, scrub: Callable[[str], str]) -> int:
        """Run the stored unanswered questions through `scrub` again (after /delete: with the person's names, which
        may have come after the question). Returns how many changed."""
        changed = 0
        with self.transaction():
            for row_id, text in self.query(f"SELECT {self.row_id}, text FROM unanswered"):
                scrubbed = scrub(text)
                if scrubbed != text:
                    changed += self.execute(
                        f"UPDATE unanswered SET text = ? WHERE {self.row_id} = ?", [scrubbed, row_id]
                    ).rowcount
        return changed

    def unlink_events(self, conversation: str, now: datetime) -> str:
        """Give the conversation's events this month a random stand-in for its hash, so they still count as one
        conversation but nothing (not even the key) links them to the chat any more. Earlier months' keys are
        already gone. Returns the stand-in, for events recorded in the same step."""
        stand_in = secrets.token_hex(8)
        with self.transaction():
            self.execute(
                "UPDATE events SET conversation = ? WHERE conversation = ? AND hour >= ?",
                [stand_in, self.conversation_hash(conversation, now), now.astimezone(UTC).strftime("%Y-%m")],
            )
        return stand_in

    @abstractmethod
    def scrub_disk(self) -> None:
        """Called right after /delete: make sure deleted rows are not left readable in the backend's files."""

    def checkpoint(self) -> None:
        """Write what the backend keeps ahead of its main file into it, off a reply's path: a runtime calls this from a
        thread every second or so (SQLite: its WAL). A server database (PostgreSQL) does this itself."""
        return None

    # --- bookings -------------------------------------------------------------------------------

    def taken(self, now: datetime) -> dict[str, frozenset[str]]:
        """Booked slot keys from now on, per region."""
        taken: dict[str, set[str]] = {}
        rows = self.query("SELECT region, slot FROM bookings WHERE status = 'booked' AND slot >= ?", [key_at(now)])
        for region, slot in rows:
            taken.setdefault(region, set()).add(slot)
        return {region: frozenset(slots) for region, slots in taken.items()}

    def bookings_of(self, conversation: str, now: datetime) -> list[Booking]:
        return self._bookings(
            "conversation = ? AND status = 'booked' AND slot >= ? ORDER BY slot", [conversation, key_at(now)]
        )

    def upcoming(self, now: datetime, region: str | None = None) -> list[Booking]:
        where, params = "status = 'booked' AND slot >= ?", [key_at(now)]
        if region:
            where, params = where + " AND region = ?", [*params, region]
        return self._bookings(where + " ORDER BY slot, id", params)

    def booking(self, booking_id: str) -> Booking | None:
        found = self._bookings("id = ?", [booking_id])
        return found[0] if found else None

    def _bookings(self, where: str, params: Sequence[object]) -> list[Booking]:
        return [Booking(*row) for row in self.query(f"SELECT {BOOKING_COLUMNS} FROM bookings WHERE {where}", params)]

    def create_booking(self, booking: Booking, now: datetime, person: str | None = None) -> None:
        """`person`: the keyed hash that the booking limits count by (`person_hash`)."""
        row = {**booking.__dict__, "created": now.isoformat(), "updated": now.isoformat(), "person": person}
        with self.transaction():
            try:
                self._insert("bookings", row)
            except self.errors as exc:
                if self._is_unique_violation(exc):
                    raise SlotUnavailable(booking.slot) from exc
                raise

    def cancel_booking(self, conversation: str, booking_id: str, now: datetime) -> Booking | None:
        """Cancel one's own booking; someone else's id changes nothing and returns None."""
        with self.transaction():
            found = self._bookings("id = ? AND conversation = ? AND status = 'booked'", [booking_id, conversation])
            if not found:
                return None
            self.execute(  # a cancelled booking counts for no one: its person hash goes at once
                "UPDATE bookings SET status = 'cancelled', person = NULL, updated = ? WHERE id = ?",
                [now.isoformat(), booking_id],
            )
        return found[0]

    def move_booking(self, conversation: str, booking_id: str, slot: str, now: datetime) -> Booking | None:
        with self.transaction():
            found = self._bookings("id = ? AND conversation = ? AND status = 'booked'", [booking_id, conversation])
            if not found:
                return None
            try:
                self.execute(
                    "UPDATE bookings SET slot = ?, reminded = '', updated = ? WHERE id = ?",
                    [slot, now.isoformat(), booking_id],
                )
            except self.errors as exc:
                if self._is_unique_violation(exc):
                    raise SlotUnavailable(slot) from exc
                raise
        return found[0]

    # --- booking limits (bot/booking/limits.py) ---------------------------------------------------

    def person_hash(self, person: str) -> str:
        """A keyed hash of who books (a Telegram user, a web address): the limits count by it, and neither the
        address nor the key is ever in the database (bot.privacy.keys.person_key)."""
        key: bytes | None = self.__dict__.get("_person_key")
        if key is None:
            key = self.__dict__["_person_key"] = person_key(self.keys.path.parent if self.keys.path else None)
        return hmac.new(key, b"person:" + person.encode(), hashlib.sha256).hexdigest()[:32]

    def serialize(self, *names: str) -> None:
        """Inside a transaction: hold the named locks until it ends, so that counting and then writing is not raced by
        another worker. SQLite's BEGIN IMMEDIATE already lets one writer in at a time; PostgreSQL overrides this."""
        return None  # SQLite: nothing more to do

    def upcoming_of_person(self, person: str, now: datetime) -> int:
        row = self.execute(
            "SELECT COUNT(*) FROM bookings WHERE person = ? AND status = 'booked' AND slot >= ?", [person, key_at(now)]
        ).fetchone()
        return int(row[0]) if row else 0

    def bookings_made(self, region: str, since: datetime, cancelled: bool = True) -> tuple[int, int]:
        """Bookings made in the region since then, and the most of them made by one person. Cancelled ones count
        only with `cancelled` (activity for the hourly alert; not for the daily cap, or booking and cancelling
        would shut a region for everyone)."""
        live = "" if cancelled else " AND status <> 'cancelled'"
        rows = self.query(
            f"SELECT COUNT(*) FROM bookings WHERE region = ? AND created >= ?{live} GROUP BY COALESCE(person, id)",
            [region, since.astimezone(UTC).isoformat()],
        )
        return sum(count for (count,) in rows), max((count for (count,) in rows), default=0)

    def record_change(self, person: str, region: str, kind: str, now: datetime) -> None:
        """A booking, cancellation or move by `person` (a hash), for the changes limit; kept two days (purge)."""
        self.write("INSERT INTO booking_changes (person, region, kind, at) VALUES (?, ?, ?, ?)",
                   [person, region, kind, now.astimezone(UTC).isoformat()])  # fmt: skip

    def changes_since(self, person: str, since: datetime) -> int:
        """How many bookings, cancellations and moves `person` made since then, in every region."""
        found = self.query("SELECT COUNT(*) FROM booking_changes WHERE person = ? AND at >= ?",
                           [person, since.astimezone(UTC).isoformat()])  # fmt: skip
        return int(found[0][0])

    def most_changes_by_one(self, region: str, since: datetime, kind: str | None = None) -> int:
        """The most changes (of `kind`, else of every kind) one person made in the region since then."""
        kinds = " AND kind = ?" if kind else ""
        found = self.query(f"SELECT COUNT(*) FROM booking_changes WHERE region = ? AND at >= ?{kinds} "
                           "GROUP BY person ORDER BY 1 DESC LIMIT 1",
                           [region, since.astimezone(UTC).isoformat(), *([kind] if kind else [])])  # fmt: skip
        return int(found[0][0]) if found else 0

    def claim_reminder(self, booking_id: str, which: str) -> bool:
        """Mark reminder `which` ("24h", "2h") as sent; True only for the one caller that marked it, so of
        several workers sweeping at once exactly one sends it. The reminded column is replaced in one
        conditional UPDATE, which both backends run atomically per row."""
        with self.transaction():
            booking = self.booking(booking_id)
            if booking is None or booking.status != "booked" or which in booking.reminded.split(","):
                return False
            reminded = ",".join(filter(None, [*booking.reminded.split(","), which]))
            changed = self.execute(
                "UPDATE bookings SET reminded = ? WHERE id = ? AND reminded = ?",
                [reminded, booking_id, booking.reminded],
            ).rowcount
        return changed == 1

    def mark_reminded(self, booking_id: str, which: str) -> None:
        self.claim_reminder(booking_id, which)

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
        """One anonymous event; the hash and the hour are replaced for `UNLINKED_ACTIONS` (see there)."""
        hour = now.astimezone(UTC).strftime("%Y-%m-%dT%H")
        if action in UNLINKED_ACTIONS:
            conversation_hash = secrets.token_hex(8)
            hour = now.astimezone(UNLINKED_DAY).date().isoformat() + UNLINKED_HOUR
        with self.transaction():
            self._insert(
                "events",
                {
                    "hour": hour,
                    "conversation": conversation_hash,
                    "region": region,
                    "lang": lang,
                    "channel": channel,
                    "action": action,
                    "topic": topic,
                    "band": band,
                },
                deferred=True,
            )

    def record_unanswered(self, *, now: datetime, region: str | None, lang: str | None, text: str,
                          reason: str = "fallback") -> None:  # fmt: skip
        day = now.astimezone(UTC).strftime("%Y-%m-%d")
        with self.transaction():
            self._insert(
                "unanswered", {"day": day, "region": region, "lang": lang, "text": text, "reason": reason},
                deferred=True,
            )

    def unanswered_questions(self) -> list[Unanswered]:
        """Every kept question the bot could not answer, oldest first (for `socialbot review`)."""
        rows = self.query(
            f"SELECT {self.row_id}, day, region, lang, text, reason FROM unanswered ORDER BY {self.row_id}"
        )
        return [Unanswered(*row) for row in rows]

    def delete_unanswered(self, ids: Iterable[int]) -> int:
        """Drop questions staff have dealt with; returns how many were still there."""
        with self.transaction():
            return sum(
                self.execute(f"DELETE FROM unanswered WHERE {self.row_id} = ?", [i]).rowcount for i in list(ids)
            )

    def events_between(self, low: str, high: str) -> list[tuple[Any, ...]]:
        """(hour, conversation, region, lang, action, topic, band, channel) with low <= hour < high, for the report."""
        return self.query(
            "SELECT hour, conversation, region, lang, action, topic, band, channel FROM events WHERE hour >= ? AND hour < ?",
            [low, high],
        )

    def unanswered_between(self, low: str, high: str) -> list[tuple[Any, ...]]:
        """(day, text) of the questions the bot could not answer with low <= day <= high, for the report."""
        return self.query(
            "SELECT day, text FROM unanswered WHERE day >= ? AND day <= ? AND reason = 'fallback'", [low, high]
        )

    def purge(self, now: datetime, retention_days: int) -> dict[str, int]:
        """Delete what is older than the retention period; aggregate counts in `events` stay."""
        cutoff = now - timedelta(days=retention_days)
        counts = {}
        with self.transaction():
            counts["unanswered"] = self.execute(
                "DELETE FROM unanswered WHERE day < ?", [cutoff.astimezone(UTC).strftime("%Y-%m-%d")]
            ).rowcount
            # Finished or cancelled bookings lose their personal details; the row stays for the calendar.
            counts["bookings"] = self.execute(
                "DELETE FROM bookings WHERE (slot < ? OR status = 'cancelled') AND updated < ?",
                [key_at(cutoff), cutoff.isoformat()],
            ).rowcount
            # The limits need a person's hash only while the meeting is ahead: it goes once the meeting has passed.
            counts["person_hashes"] = self.execute(
                "UPDATE bookings SET person = NULL WHERE person IS NOT NULL AND slot < ?", [key_at(now)]
            ).rowcount
            # The changes limit counts one Swedish day: two days of rows are all it ever reads.
            counts["booking_changes"] = self.execute(
                "DELETE FROM booking_changes WHERE at < ?", [(now - timedelta(days=2)).astimezone(UTC).isoformat()]
            ).rowcount
            counts["hash_keys"] = int(self.keys.expire(now))
            counts["conversations"] = self.execute(
                "DELETE FROM conversations WHERE updated < ?", [cutoff.isoformat()]
            ).rowcount
            counts["outbox"] = self.execute(
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
                added += self.execute(
                    "INSERT INTO outbox (key, kind, transport, recipient, conversation, payload, "
                    "at_most_once, due, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
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
            rows = self.query(
                "SELECT id, key, kind, transport, recipient, conversation, payload, at_most_once, status, "
                f"attempts FROM outbox WHERE transport IN ({marks}) AND ((status = 'pending' AND due <= ?) "
                f"OR (status = 'sending' AND claimed_until < ?)) ORDER BY due, id LIMIT ?{self.skip_locked}",
                [*transports, stamp, stamp, limit],
            )
            until = (now + claim_for).astimezone(UTC).isoformat()
            for (id_, key, kind, transport, recipient, conversation, payload, once, status, attempts) in rows:
                if status == "sending" and once:
                    self.execute(
                        "UPDATE outbox SET status = 'dropped', payload = '{}', finished = ?, "
                        "error = 'interrupted mid-send' WHERE id = ?", [stamp, id_])  # fmt: skip
                    continue
                self.execute(
                    "UPDATE outbox SET status = 'sending', claimed_until = ?, attempts = attempts + 1 WHERE id = ?",
                    [until, id_],
                )
                item = OutboxItem(key, kind, transport, recipient, json.loads(payload), conversation, bool(once))
                entries.append(OutboxEntry(id_, item, attempts + 1))
        return entries

    def outbox_done(self, entry_id: int, now: datetime, status: str = "sent", error: str | None = None) -> None:
        """Sent, dropped (not worth trying again) or failed (gave up): the payload's personal data goes."""
        with self.transaction():
            self.execute(
                "UPDATE outbox SET status = ?, payload = '{}', finished = ?, claimed_until = NULL, error = ? "
                "WHERE id = ?", [status, now.astimezone(UTC).isoformat(), error, entry_id])  # fmt: skip

    def outbox_retry(self, entry_id: int, due: datetime, error: str) -> None:
        with self.transaction():
            self.execute(
                "UPDATE outbox SET status = 'pending', due = ?, claimed_until = NULL, error = ? WHERE id = ?",
                [due.astimezone(UTC).isoformat(), error, entry_id],
            )

    def drop_outbox(self, transport: str, recipient: str, kind: str, now: datetime, error: str) -> int:
        """Close every unsent message of a kind to one recipient (a person who blocked the bot)."""
        with self.transaction():
            return self.execute(
                "UPDATE outbox SET status = 'dropped', payload = '{}', finished = ?, error = ? "
                "WHERE transport = ? AND recipient = ? AND kind = ? AND status = 'pending'",
                [now.astimezone(UTC).isoformat(), error, transport, recipient, kind],
            ).rowcount

    def release_outbox(self, conversation: str, kind: str) -> None:
        """Make the conversation's pending messages of a kind due now (a file that waited for the replies)."""
        with self.transaction():
            self.write(
                "UPDATE outbox SET due = '' WHERE conversation = ? AND kind = ? AND status = 'pending'",
                [conversation, kind],
            )

    def outbox_counts(self) -> dict[str, int]:
        return {status: count for status, count in self.query("SELECT status, COUNT(*) FROM outbox GROUP BY status")}

    def next_outbox_due(self, transports: list[str]) -> datetime | None:
        if not transports:
            return None
        marks = ", ".join("?" * len(transports))
        row = self.execute(
            f"SELECT MIN(COALESCE(claimed_until, due)) FROM outbox WHERE transport IN ({marks}) "
            "AND status IN ('pending', 'sending')", transports).fetchone()  # fmt: skip
        if not row or row[0] is None:
            return None
        return datetime.fromisoformat(row[0]) if row[0] else datetime.min.replace(tzinfo=UTC)

    def acquire_lease(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew the named lease; True while `holder` has it. A lease not renewed expires. One
        conditional upsert: of several workers asking at once, the database lets exactly one through."""
        stamp = now.astimezone(UTC).isoformat()
        with self.transaction():
            self.execute(
                "INSERT INTO leases (name, holder, expires) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                "holder = excluded.holder, expires = excluded.expires "
                "WHERE leases.holder = excluded.holder OR leases.expires < ?",
                [name, holder, (now + ttl).astimezone(UTC).isoformat(), stamp],
            )
            row = self.execute("SELECT holder FROM leases WHERE name = ?", [name]).fetchone()
        return bool(row and row[0] == holder)

    def lease_holder(self, name: str, now: datetime) -> str | None:
        """Who holds the named lease now (None: nobody, or it has expired)."""
        row = self.execute("SELECT holder FROM leases WHERE name = ? AND expires >= ?",
                           [name, now.astimezone(UTC).isoformat()]).fetchone()  # fmt: skip
        return str(row[0]) if row else None

    def release_lease(self, name: str, holder: str) -> None:
        with self.transaction():
            self.execute("DELETE FROM leases WHERE name = ? AND holder = ?", [name, holder])

    # --- whole tables, for migrate-store --------------------------------------------------------

    def columns(self, table: str) -> list[str]:
        """The table's column names in schema order."""
        return [name for name, _ in self._describe(table)]

    @abstractmethod
    def _describe(self, table: str) -> list[tuple[str, str]]:
        """(column, declared type) of each column of `table`."""

    def rows(self, table: str, columns: list[str], batch: int = 1000) -> Iterator[list[tuple[Any, ...]]]:
        """Every row of `table` (those columns), in batches."""
        rows = self.query(f"SELECT {', '.join(columns)} FROM {table}")
        for start in range(0, len(rows), batch):
            yield rows[start : start + batch]

    def insert_rows(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        """Insert rows as they are, ids included (in the caller's transaction)."""
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        with self.transaction():
            for row in rows:
                self.execute(sql, row)
