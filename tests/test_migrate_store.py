"""`socialbot migrate-store`: a bot's SQLite state moved into PostgreSQL, whole, through the real command;
afterwards the same statistics come out of either backend and every conversation continues."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from bot.knowledge import Knowledge
from bot.stats.report import build_report
from bot.storage import OutboxItem, SQLiteStore, Store, open_store
from tests.test_cli import socialbot
from tests.test_stats import random_store
from tests.transcript import Clock, TestBot


def _everything(store: Store, like: Store | None = None) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, comparable across backends (bytes as bytes, rows sorted), in the columns
    that `like` has (PostgreSQL numbers the unanswered questions in a column, SQLite by its rowid)."""
    dump = {}
    for table in store.tables():
        columns = (like or store).columns(table)
        rows = store.query(f"SELECT {', '.join(columns)} FROM {table}")
        dump[table] = sorted(
            (tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows), key=repr
        )
    return dump


def _report(store: Store) -> object:
    return build_report(store, None, None, {}, {"sundsvall": "S", "vastervik": "V"},
                        {"sundsvall": "Sundsvall", "vastervik": "Västervik"})  # fmt: skip


def test_migrate_store_moves_everything_and_the_bot_carries_on(
    knowledge: Knowledge, tmp_path: Path, clock: Clock, postgres_url: str
) -> None:
    state = tmp_path / "state"
    bot = TestBot(knowledge, state, clock)
    for who in ("telegram:1", "web:abc"):
        bot.onboard(conversation=who)
        bot.send("vad är lönebidrag", who)
        bot.send("hur fiskar man lax", who)  # unanswered
    bot.book_first_slot(name="Anna", phone="070-123 45 67", conversation="telegram:1")
    bot.store.enqueue([OutboxItem("change-1", "notification", "email", "dev@example.se", {"n": 1})], clock())
    bot.store.acquire_lease("sweeper", "old-host", clock(), timedelta(seconds=30))
    random_store(bot.store, random.Random(7))  # statistics over several weeks
    before = _everything(bot.store)
    bot.close()
    assert before["bookings"] and before["events"] and before["unanswered"] and before["outbox"]

    done = socialbot("migrate-store", "--to", postgres_url, state=state)
    assert done.returncode == 0, done.stderr
    assert "1 bookings" in done.stdout

    target = open_store(state, postgres_url)
    source = SQLiteStore(state / "socialbot.sqlite3")
    try:
        assert _everything(target, like=source) == before, "every row of every table, as it was"
        assert _report(target) == _report(source), "the same statistics from either backend"
        # The identity counter moved past the copied ids: new outbox rows do not collide.
        assert target.enqueue([OutboxItem("change-2", "notification", "email", "dev@example.se", {})], clock())
    finally:
        target.close()
        source.close()

    again = socialbot("migrate-store", "--to", postgres_url, state=state)
    assert again.returncode == 1 and "already has data" in again.stderr, "never merged into a used database"

    moved = TestBot(knowledge, tmp_path / "unused", clock, url=postgres_url)
    try:
        moved.send("/mybookings", "telegram:1")
        assert "Dina bokade möten" in moved.text, moved.text
        assert moved.store.bookings_of("telegram:1", clock())[0].name == "Anna"
        moved.send("/book", "web:abc")  # the conversation goes on where it was, in the language it chose
        assert moved.slot_choices(), moved.text
        assert moved.store.load_state("web:abc").region == "sundsvall"  # type: ignore[union-attr]
    finally:
        moved.close()


def test_migrate_store_needs_a_target_and_a_source(tmp_path: Path) -> None:
    missing = socialbot("migrate-store", state=tmp_path / "nothing")
    assert missing.returncode == 2 and "postgresql://" in missing.stderr
    nothing = socialbot("migrate-store", "--to", "postgresql://x@/y", state=tmp_path / "nothing")
    assert nothing.returncode == 2 and "no SQLite database" in nothing.stderr
