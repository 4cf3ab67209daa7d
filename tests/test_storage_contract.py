"""The storage contract, checked on every backend (SQLite, and PostgreSQL when a server is configured):
the same calls give the same results, and the guarantees the engine relies on hold on each."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.dialog.model import State
from bot.knowledge import Knowledge
from bot.storage import Booking, OutboxItem, SlotUnavailable, Store, open_store
from bot.storage.migrations import MIGRATIONS
from tests.transcript import Clock, TestBot

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SLOT = "20261201T0800Z"
TABLES = {"conversations", "bookings", "events", "unanswered", "outbox", "leases"}


@pytest.fixture
def open_worker(tmp_path: Path, store_url: str | None) -> Iterator[Callable[[], Store]]:
    """Opens one more store on the same database, as another worker would."""
    opened: list[Store] = []

    def open_one() -> Store:
        opened.append(open_store(tmp_path / "state", store_url))
        return opened[-1]

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture
def store(open_worker: Callable[[], Store]) -> Store:
    return open_worker()


def booking(id_: str, conversation: str = "test:1", slot: str = SLOT, region: str = "sundsvall") -> Booking:
    return Booking(id_, conversation, region, slot, "Anna", "+46701234567", "sv", "booked")


def in_threads(count: int, work: Callable[[int], object]) -> list[object]:
    """Run work(0..count-1) in threads started together; their results in order."""
    results: list[object] = [None] * count
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            start.wait(timeout=10)
            results[index] = work(index)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


# --- schema ----------------------------------------------------------------------------------------


def test_a_new_database_gets_the_newest_schema(store: Store) -> None:
    assert store.version == len(MIGRATIONS)
    assert set(store.tables()) >= TABLES


def test_workers_starting_together_migrate_once(open_worker: Callable[[], Store]) -> None:
    stores = in_threads(4, lambda _: open_worker())
    assert all(isinstance(s, Store) and s.version == len(MIGRATIONS) for s in stores)


def test_reopening_keeps_everything(open_worker: Callable[[], Store]) -> None:
    first = open_worker()
    first.create_booking(booking("b1"), NOW)
    first.close()
    again = open_worker()
    assert [b.id for b in again.upcoming(NOW)] == ["b1"]


# --- conversations ---------------------------------------------------------------------------------


def test_state_round_trip_and_damaged_state(store: Store) -> None:
    assert store.load_state("test:1") is None
    store.save_state("test:1", State(lang="en", region="vastervik", flow="booking.slot", data={"å": [1]}), NOW)
    loaded = store.load_state("test:1")
    assert loaded is not None and (loaded.lang, loaded.region, loaded.flow, loaded.data) == (
        "en", "vastervik", "booking.slot", {"å": [1]}
    )
    store.save_state("test:1", State(lang="sv"), NOW)  # the upsert replaces
    assert store.load_state("test:1").lang == "sv"  # type: ignore[union-attr]
    with store.transaction():
        store.execute("UPDATE conversations SET state = ? WHERE key = ?", ["{not json", "test:1"])
    assert store.load_state("test:1") == State(), "a damaged row starts afresh instead of locking someone out"


# --- transactions ----------------------------------------------------------------------------------


def test_a_failed_transaction_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.create_booking(booking("b1"), NOW)
        store.save_state("test:1", State(lang="sv"), NOW)
        raise RuntimeError("crash between the writes")
    assert store.upcoming(NOW) == [] and store.load_state("test:1") is None


def test_nested_transactions_join_the_outer_one(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        with store.transaction():
            store.create_booking(booking("b1"), NOW)
        assert [b.id for b in store.upcoming(NOW)] == ["b1"], "visible inside"
        raise RuntimeError
    assert store.upcoming(NOW) == [], "rolled back with the outer one"


def test_another_worker_sees_nothing_before_commit(open_worker: Callable[[], Store]) -> None:
    writer, reader = open_worker(), open_worker()
    with writer.transaction():
        writer.create_booking(booking("b1"), NOW)
        if writer.backend == "postgresql":  # SQLite's reader shares nothing but the file: it could wait
            assert reader.upcoming(NOW) == []
    assert [b.id for b in reader.upcoming(NOW)] == ["b1"]


# --- bookings --------------------------------------------------------------------------------------


def test_a_slot_is_booked_once(store: Store) -> None:
    store.create_booking(booking("b1"), NOW)
    with pytest.raises(SlotUnavailable):
        store.create_booking(booking("b2", "test:2"), NOW)
    store.create_booking(booking("b3", "test:2", region="vastervik"), NOW)  # another region's calendar
    assert store.taken(NOW) == {"sundsvall": frozenset({SLOT}), "vastervik": frozenset({SLOT})}
    assert store.cancel_booking("test:2", "b1", NOW) is None, "someone else's booking stays"
    assert store.cancel_booking("test:1", "b1", NOW).id == "b1"  # type: ignore[union-attr]
    store.create_booking(booking("b2", "test:2"), NOW)  # a cancelled slot is free again
    assert [(b.id, b.conversation) for b in store.upcoming(NOW, "sundsvall")] == [("b2", "test:2")]


def test_racing_for_one_slot_one_wins(open_worker: Callable[[], Store]) -> None:
    workers = [open_worker() for _ in range(4)]

    def book(index: int) -> str:
        try:
            workers[index].create_booking(booking(f"b{index}", f"test:{index}"), NOW)
            return "won"
        except SlotUnavailable:
            return "lost"

    assert sorted(in_threads(4, book)) == ["lost", "lost", "lost", "won"]  # type: ignore[type-var]
    assert len(workers[0].upcoming(NOW)) == 1


def test_moving_into_a_taken_slot_changes_nothing(store: Store) -> None:
    other = "20261201T0900Z"
    store.create_booking(booking("b1"), NOW)
    store.create_booking(booking("b2", "test:2", slot=other), NOW)
    with pytest.raises(SlotUnavailable):
        store.move_booking("test:2", "b2", SLOT, NOW)
    assert store.booking("b2").slot == other  # type: ignore[union-attr]
    assert store.move_booking("test:2", "b2", "20261202T0800Z", NOW).slot == other  # type: ignore[union-attr]
    assert store.booking("b2").slot == "20261202T0800Z"  # type: ignore[union-attr]
    assert store.bookings_of("test:2", NOW)[0].id == "b2"
    assert store.upcoming(datetime(2026, 12, 3, tzinfo=UTC)) == [], "past meetings are not upcoming"


def test_a_reminder_is_claimed_by_exactly_one_worker(open_worker: Callable[[], Store]) -> None:
    workers = [open_worker() for _ in range(4)]
    workers[0].create_booking(booking("b1"), NOW)
    claims = in_threads(4, lambda i: workers[i].claim_reminder("b1", "24h"))
    assert sorted(claims) == [False, False, False, True]  # type: ignore[type-var]
    assert workers[0].claim_reminder("b1", "2h") and not workers[1].claim_reminder("b1", "2h")
    assert workers[0].booking("b1").reminded == "24h,2h"  # type: ignore[union-attr]
    workers[0].move_booking("test:1", "b1", "20261202T0800Z", NOW)
    assert workers[1].claim_reminder("b1", "24h"), "a moved meeting is reminded again"


def test_one_conversation_at_a_time_across_workers(open_worker: Callable[[], Store]) -> None:
    first = open_worker()
    # SQLite serves one process: its workers are threads sharing the store. PostgreSQL: separate stores.
    second = open_worker() if first.backend == "postgresql" else first
    inside: list[str] = []
    overlap: list[bool] = []

    def handle(index: int) -> None:
        with (first, second)[index].conversation_lock("web:abc"):
            overlap.append(bool(inside))
            inside.append("x")
            time.sleep(0.15)
            inside.pop()

    in_threads(2, handle)
    assert overlap == [False, False], "the second message waited for the first"
    with first.conversation_lock("web:abc"), second.conversation_lock("web:other"):
        pass  # another conversation does not wait


def test_each_message_sees_the_last_ones_state_across_workers(open_worker: Callable[[], Store]) -> None:
    """`locked_state` takes the lock and reads the state (PostgreSQL: in one round trip): the read must come after the
    lock is granted, or two workers would both start from the same state and one message would be lost."""
    first = open_worker()
    second = open_worker() if first.backend == "postgresql" else first
    per_worker = 15

    def handle(index: int) -> None:
        store = (first, second)[index]
        for _ in range(per_worker):
            with store.locked_state("web:count") as state, store.transaction():
                seen = list((state or State()).open)
                store.save_state("web:count", State(open=(*seen, f"{index}")), NOW)

    in_threads(2, handle)
    final = first.load_state("web:count")
    assert final is not None and sorted(final.open) == ["0"] * per_worker + ["1"] * per_worker


def test_a_failed_write_undoes_the_whole_message_and_frees_the_conversation(
    open_worker: Callable[[], Store],
) -> None:
    """A statement whose result nobody reads may be sent late (PostgreSQL: with the COMMIT); its error still rolls back
    everything the message wrote, and the connection and the lock are clean for the next message."""
    store = open_worker()
    store.save_state("web:w", State(flow="idle"), NOW)
    with pytest.raises(store.errors), store.locked_state("web:w") as state, store.transaction():
        assert state is not None and state.flow == "idle"
        store.save_state("web:w", State(flow="booking.name"), NOW)
        store.record_event(conversation_hash="h", now=NOW, region=None, lang="sv", channel="web",
                           action="question")  # fmt: skip
        store.write("INSERT INTO leases (name, holder, expires) VALUES (?, NULL, ?)", ["x", "never"])
    assert store.load_state("web:w") == State(flow="idle")
    assert store.query("SELECT COUNT(*) FROM events") == [(0,)]
    other = open_worker() if store.backend == "postgresql" else store
    with other.locked_state("web:w") as state, other.transaction():  # not left locked, nor half in a transaction
        other.save_state("web:w", State(flow="booking.name"), NOW)
        assert other.load_state("web:w") == State(flow="booking.name"), "a message reads its own writes"
    assert store.load_state("web:w") == State(flow="booking.name")


def test_a_lease_is_held_by_exactly_one_worker(open_worker: Callable[[], Store]) -> None:
    workers = [open_worker() for _ in range(4)]
    ttl = timedelta(seconds=30)
    held = in_threads(4, lambda i: workers[i].acquire_lease("sweeper", f"w{i}", NOW, ttl))
    assert sorted(held) == [False, False, False, True]  # type: ignore[type-var]
    holder = held.index(True)
    other = (holder + 1) % 4
    assert workers[holder].acquire_lease("sweeper", f"w{holder}", NOW + ttl / 2, ttl), "renewed"
    assert not workers[other].acquire_lease("sweeper", f"w{other}", NOW + ttl, ttl)
    assert workers[other].acquire_lease("sweeper", f"w{other}", NOW + ttl * 2, ttl), "an expired lease moves"
    workers[other].release_lease("sweeper", f"w{other}")
    assert workers[holder].acquire_lease("sweeper", f"w{holder}", NOW + ttl * 2, ttl)


def outbox_item(number: int, kind: str = "notification", conversation: str | None = None) -> OutboxItem:
    once = kind == "reminder"  # as bot/notify makes them: better no reminder than two
    return OutboxItem(f"change-{number}", kind, "email", "dev@example.se", {"n": number}, conversation, once)


def test_every_outbox_message_is_claimed_by_one_worker(open_worker: Callable[[], Store]) -> None:
    workers = [open_worker() for _ in range(3)]
    assert workers[0].enqueue([outbox_item(n) for n in range(40)], NOW) == 40
    assert workers[1].enqueue([outbox_item(0)], NOW) == 0, "the same change again adds nothing"

    def drain(index: int) -> list[int]:
        claimed: list[int] = []
        while batch := workers[index].claim_outbox(["email"], NOW, timedelta(minutes=1), limit=3):
            claimed += [entry.item.payload["n"] for entry in batch]
            for entry in batch:
                workers[index].outbox_done(entry.id, NOW)
        return claimed

    claims = in_threads(3, drain)
    every = [n for claimed in claims for n in claimed]  # type: ignore[attr-defined]
    assert sorted(every) == list(range(40)), "each message once, none lost"
    assert workers[0].outbox_counts() == {"sent": 40}


def test_outbox_retry_takeover_and_delete(store: Store) -> None:
    store.enqueue([outbox_item(1), outbox_item(2, "reminder", "test:1")], NOW)
    first, _reminder = store.claim_outbox(["email"], NOW, timedelta(minutes=1))
    assert first.attempts == 1 and store.claim_outbox(["email"], NOW, timedelta(minutes=1)) == []
    store.outbox_retry(first.id, NOW + timedelta(minutes=5), "connection refused")
    assert store.next_outbox_due(["email"]) == NOW + timedelta(minutes=1), "the reminder's claim runs out first"
    later = NOW + timedelta(minutes=10)
    # The crashed sender's at-most-once reminder is dropped, the notification is tried again.
    again = store.claim_outbox(["email"], later, timedelta(minutes=1))
    assert [(e.item.key, e.attempts) for e in again] == [("change-1", 2)]
    assert store.outbox_counts() == {"dropped": 1, "sending": 1}
    store.enqueue([outbox_item(3, "reminder", "test:1")], NOW)
    store.delete_conversation("test:1", NOW)
    assert "change-3" not in str(store.query("SELECT key FROM outbox")), "/delete drops pending reminders"


# --- privacy ---------------------------------------------------------------------------------------


def test_delete_and_purge_leave_nothing_personal(store: Store) -> None:
    store.create_booking(booking("b1"), NOW)
    store.create_booking(booking("b2", slot="20261202T0800Z"), NOW)
    store.save_state("test:1", State(lang="sv"), NOW)
    store.record_unanswered(now=NOW, region="sundsvall", lang="sv", text="vad blir vädret")
    gone = store.delete_conversation("test:1", NOW)
    assert sorted(b.id for b in gone) == ["b1", "b2"]
    for table in store.tables():
        assert "test:1" not in str(store.query(f"SELECT * FROM {table}")), table
    later = NOW + timedelta(days=120)
    store.record_event(conversation_hash="h", now=NOW, region=None, lang=None, channel="test", action="text")
    counts = store.purge(later, retention_days=90)
    assert counts["unanswered"] == 1
    assert store.query("SELECT * FROM unanswered") == []
    assert store.query("SELECT count(*) FROM events") == [(1,)], "anonymous counts stay"


def test_delete_drops_the_developers_unsent_notices_and_owes_a_cancellation_only_where_told(store: Store) -> None:
    def notice(change: str, booking_id: str) -> OutboxItem:  # keyed as bot/notify/messages.py keys them
        return OutboxItem(f"{change}:{booking_id}:{SLOT}:{NOW.isoformat()}:email:dev@example.se", "notification",
                          "email", "dev@example.se", {"body": "Namn: Anna Kontakt: +46701234567"})  # fmt: skip

    store.create_booking(booking("untold"), NOW)
    store.create_booking(booking("told", slot="20261202T0800Z"), NOW)
    store.create_booking(booking("cancelled", slot="20261203T0800Z"), NOW)
    store.create_booking(booking("other", conversation="test:2", slot="20261204T0800Z"), NOW)
    store.enqueue([notice("booked", "told"), notice("booked", "cancelled")], NOW)
    for entry in store.claim_outbox(["email"], NOW, timedelta(minutes=1)):
        store.outbox_done(entry.id, NOW)  # the developer heard of these two
    store.cancel_booking("test:1", "cancelled", NOW)
    store.enqueue([notice("booked", "untold"), notice("cancelled", "cancelled"), notice("booked", "other")], NOW)
    gone = store.delete_conversation("test:1", NOW)
    assert sorted(b.id for b in gone) == ["cancelled", "told"], "a booking never heard of needs no cancellation"
    pending = store.query("SELECT key FROM outbox WHERE status = 'pending'")
    assert [key.split(":")[1] for (key,) in pending] == ["other"], "only another chat's notice still waits"
    assert "Anna" not in str(store.query("SELECT payload FROM outbox WHERE key NOT LIKE 'booked:other:%'"))


def test_monthly_hash_key(store: Store) -> None:
    assert store.conversation_hash("a", NOW) == store.conversation_hash("a", NOW + timedelta(days=1))
    assert store.conversation_hash("a", NOW) != store.conversation_hash("b", NOW)
    assert store.conversation_hash("a", NOW) != store.conversation_hash("a", NOW + timedelta(days=40))


def test_workers_sharing_a_state_directory_hash_alike_when_a_month_begins(
    open_worker: Callable[[], Store],
) -> None:
    workers = [open_worker() for _ in range(4)]
    december = NOW + timedelta(days=10)
    hashes = in_threads(4, lambda i: workers[i].conversation_hash("web:abc", december))
    assert len(set(hashes)) == 1, "one key per month for every worker, or one person counts as several"


# --- the engine on each backend --------------------------------------------------------------------


def test_a_crash_after_the_booking_row_leaves_no_half_booking(
    any_testbot: TestBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = any_testbot
    bot.onboard()
    bot.to_confirm(name="Anna", phone="070-123 45 67")
    error = bot.store.errors[0]

    def crash(*args: object, **kwargs: object) -> None:
        raise error("disk I/O error")  # as if the database failed after the booking row was written

    monkeypatch.setattr(bot.store, "save_state", crash)
    bot.press_data("confirm")
    assert bot.store.upcoming(bot.clock()) == [], "the booking row was rolled back with the state"
    assert bot.notifier.sent == [], "nobody was told about a booking that does not exist"
    monkeypatch.undo()
    bot.press_data("confirm")
    assert "Klart!" in bot.text and len(bot.store.upcoming(bot.clock())) == 1


def test_a_lost_database_connection_costs_one_apology_not_a_crash(
    knowledge: Knowledge, tmp_path: Path, clock: Clock, postgres_url: str
) -> None:
    """PostgreSQL restarted or a connection cut (a failover, an idle timeout in a proxy): the message at hand
    gets an apology and changes nothing, and the next one works on a fresh connection."""
    import psycopg

    # Its own connections' name: other tests on the same server (xdist) keep theirs.
    name = f"socialbot_cut_{uuid.uuid4().hex[:8]}"
    bot = TestBot(knowledge, tmp_path, clock, url=f"{postgres_url}&application_name={name}")
    try:
        bot.onboard()
        bot.to_confirm(name="Anna", phone="070-123 45 67")
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            cut = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s", [name]
            ).fetchone()
        assert cut and cut[0] >= 1
        bot.press_data("confirm")
        assert "försök igen" in bot.text.lower(), bot.text
        assert bot.store.upcoming(bot.clock()) == []
        bot.press_data("confirm")
        assert "Klart!" in bot.text and len(bot.store.upcoming(bot.clock())) == 1
    finally:
        bot.close()
