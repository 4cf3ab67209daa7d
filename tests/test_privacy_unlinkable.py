"""The anonymous events cannot be joined to a named booking from the database alone (the outside attacker's F13):
a booking row has a region and a time, and if the booking's event carried the conversation's hash at that hour,
anyone with the database (or a backup) would find every event of that person, the crisis answer included."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from bot.knowledge import Knowledge
from bot.storage.base import UNLINKED_ACTIONS, UNLINKED_HOUR
from bot.storage.sqlite import DB_NAME
from tests.transcript import Clock, TestBot

NAME = "Linkina"
PHONE = "070-565 65 65"
Query = Callable[[str, Sequence[object]], list[tuple[object, ...]]]


@pytest.fixture
def sqlite_testbot(knowledge: Knowledge, tmp_path: Path, clock: Clock) -> Iterator[TestBot]:
    bot = TestBot(knowledge, tmp_path / "state", clock)
    yield bot
    bot.close()


def _crisis_then_booking(testbot: TestBot, who: str) -> None:
    testbot.onboard(region="vastervik", conversation=who)
    testbot.send("vad är lönebidrag", who)
    testbot.send("jag vill ta livet av mig", who)
    testbot.send("jag har ett beroende, alkohol", who)
    testbot.book_first_slot(name=NAME, phone=PHONE, conversation=who)


def _attack(query: Query) -> None:
    """The attacker's join, with nothing but the tables: it must lead from the booking to no other event."""
    assert query("SELECT count(*) FROM events WHERE action = 'crisis'", [])[0][0] == 1, "no crisis answer recorded"
    [(region, created)] = query("SELECT region, created FROM bookings WHERE name = ?", [NAME])
    day = str(created)[:10]
    # by the booking's hour (as F13 did), or more loosely by its day
    candidates = query(
        "SELECT conversation FROM events WHERE action = 'booking' AND region = ? AND hour LIKE ?", [region, f"{day}%"]
    )
    assert candidates, "the booking was not counted at all"
    for (digest,) in candidates:
        actions = [a for (a,) in query("SELECT action FROM events WHERE conversation = ?", [digest])]
        assert actions == ["booking"], f"the booking's event links to {actions}"
    # the crisis answer is not linkable to the booking, nor to the person's other events
    [(crisis, hour)] = query("SELECT conversation, hour FROM events WHERE action = 'crisis'", [])
    assert [a for (a,) in query("SELECT action FROM events WHERE conversation = ?", [crisis])] == ["crisis"]
    assert str(hour).endswith(UNLINKED_HOUR), f"the crisis event keeps its hour: {hour}"
    # the conversation's other events still count as one conversation
    linked = query(
        f"SELECT count(DISTINCT conversation) FROM events WHERE action NOT IN ({', '.join('?' * len(UNLINKED_ACTIONS))})",
        sorted(UNLINKED_ACTIONS),
    )
    assert linked[0][0] == 1


def test_a_named_booking_cannot_be_joined_to_the_events_from_the_sqlite_file(sqlite_testbot: TestBot) -> None:
    _crisis_then_booking(sqlite_testbot, "web:127.0.0.221")
    sqlite_testbot.store.checkpoint()
    # read as an attacker with a copy of the file would: sqlite3, no key, no bot code
    with sqlite3.connect(sqlite_testbot.state_dir / DB_NAME) as db:
        _attack(lambda sql, params: db.execute(sql, list(params)).fetchall())


def test_booking_and_crisis_events_carry_no_conversation_hash_on_every_backend(any_testbot: TestBot) -> None:
    _crisis_then_booking(any_testbot, "telegram:77")
    _attack(lambda sql, params: any_testbot.store.query(sql, params))
    # a /delete is as unlinkable as the booking (its stand-in hash keeps the chat's other events one conversation)
    any_testbot.send("/delete", "telegram:77")
    any_testbot.press("Ja, radera allt", "telegram:77")
    [(digest,)] = any_testbot.store.query("SELECT conversation FROM events WHERE action = 'deleted'")
    assert any_testbot.store.query("SELECT count(*) FROM events WHERE conversation = ?", [digest]) == [(1,)]
