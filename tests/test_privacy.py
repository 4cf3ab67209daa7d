"""What the bot keeps: nothing that identifies a person outside the conversation state and bookings,
and after /delete nothing at all. Unanswered questions are scrubbed before they are stored."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.storage.migrations import MIGRATIONS
from tests.transcript import TestBot

PHONE = "070-123 45 67"
PERSONAL_TABLES = {"conversations", "bookings"}  # the only places a chat key or phone may be


def _tables(testbot: TestBot) -> list[str]:
    rows = testbot.store.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return [name for (name,) in rows if not name.startswith("sqlite_")]


def _dump(testbot: TestBot, table: str) -> str:
    rows = testbot.store.db.execute(f"SELECT * FROM {table}").fetchall()
    return "\n".join(" ".join("" if v is None else str(v) for v in row) for row in rows)


def _converse(testbot: TestBot, who: str) -> None:
    testbot.onboard(conversation=who)
    testbot.send("vad är lönebidrag", who)
    testbot.send(f"jag heter Zlatan Personsson och mitt nummer är {PHONE}, vad blir vädret", who)
    testbot.send("19850709-1234 zlatan@example.se, hur deklarerar jag skatten på min bil", who)
    testbot.send("Magnus Riklander sa åt mig att fråga om fiske i älven", who)
    testbot.book_first_slot(name="Zlatan", phone=PHONE, conversation=who)


def test_every_table_is_free_of_personal_data_outside_state_and_bookings(testbot: TestBot) -> None:
    people = [f"telegram:{1000 + i}" for i in range(3)]
    for who in people:
        _converse(testbot, who)
    tables = _tables(testbot)
    assert {"events", "unanswered", "hash_keys", "conversations", "bookings"} <= set(tables)
    digits = re.sub(r"\D", "", PHONE)
    for table in tables:
        if table in PERSONAL_TABLES:
            continue
        text = _dump(testbot, table)
        for who in people:
            assert who not in text and who.split(":")[1] not in text, f"a chat id in {table}"
        for secret in (
            "Zlatan",
            "Personsson",
            "Riklander",
            "zlatan@example.se",
            "850709",
            digits,
            "+46701234567",
        ):
            assert secret.lower() not in text.lower(), f"{secret!r} in {table}"
    unanswered = _dump(testbot, "unanswered")
    assert "[telefon]" in unanswered and "[personnummer]" in unanswered and "[e-post]" in unanswered
    assert "vädret" in unanswered, "the question itself is kept for the staff"


def test_delete_leaves_only_anonymous_counts(testbot: TestBot) -> None:
    _converse(testbot, "telegram:42")
    _converse(testbot, "telegram:43")
    events_before = testbot.store.db.execute("SELECT count(*) FROM events").fetchone()[0]
    testbot.send("/delete", "telegram:42")
    testbot.press("Ja, radera allt", "telegram:42")
    for table in PERSONAL_TABLES:
        assert "telegram:42" not in _dump(testbot, table)
    assert "telegram:43" in _dump(testbot, "conversations"), "other people's data stays"
    events_after = testbot.store.db.execute("SELECT count(*) FROM events").fetchone()[0]
    assert events_after == events_before + 3, (
        "the counts stay, plus the /delete command, the press and the deletion"
    )
    deleted = testbot.store.db.execute("SELECT count(*) FROM events WHERE action = 'deleted'").fetchone()[0]
    assert deleted == 1


def test_keeping_unanswered_texts_can_be_switched_off(testbot: TestBot) -> None:
    testbot.engine.settings.keep_unanswered = False
    testbot.onboard()
    testbot.send("vad blir det för väder")
    assert _dump(testbot, "unanswered") == ""
    assert (
        testbot.store.db.execute("SELECT count(*) FROM events WHERE action = 'fallback'").fetchone()[0] == 1
    )


def test_purge_removes_old_texts_and_finished_bookings_but_keeps_counts(testbot: TestBot) -> None:
    _converse(testbot, "telegram:7")
    testbot.clock.advance(days=120)
    counts = testbot.store.purge(testbot.clock(), retention_days=90)
    assert counts["unanswered"] >= 1 and counts["bookings"] == 1
    assert _dump(testbot, "unanswered") == "" and _dump(testbot, "bookings") == ""
    assert testbot.store.db.execute("SELECT count(*) FROM events").fetchone()[0] > 0


def test_monthly_hash_keys_unlink_months(testbot: TestBot) -> None:
    now = testbot.clock()
    november = testbot.store.conversation_hash("telegram:5", now)
    assert november == testbot.store.conversation_hash("telegram:5", now + timedelta(days=1))
    december = testbot.store.conversation_hash("telegram:5", now + timedelta(days=40))
    assert november != december
    testbot.store.purge(now + timedelta(days=40), retention_days=90)
    months = [m for (m,) in testbot.store.db.execute("SELECT month FROM hash_keys").fetchall()]
    assert months == [(now + timedelta(days=40)).strftime("%Y-%m")], "last month's key is gone for good"


def test_schema_is_versioned(testbot: TestBot) -> None:
    assert testbot.store.version == len(MIGRATIONS)
