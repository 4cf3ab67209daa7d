"""Two people confirming the same slot at the same moment: one booking, one polite offer of other times."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import pytest

from bot.dialog.model import ButtonPress
from bot.engine import Engine
from bot.knowledge import Knowledge
from bot.storage import Store, open_store
from tests.transcript import Clock, RecordingNotifier, TestBot


@pytest.fixture
def testbot(any_testbot: TestBot) -> TestBot:
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_testbot


def racing(store: Store, barrier: threading.Barrier) -> Store:
    """The real store, whose first read of taken slots waits until both people have read: the worst
    interleaving, where both see the slot free."""
    read = store.taken
    armed = [True]

    def taken(now: datetime) -> dict[str, frozenset[str]]:
        result = read(now)
        if armed:
            armed.clear()
            barrier.wait(timeout=10)
        return result

    store.taken = taken  # type: ignore[method-assign]
    return store


def _to_confirm(bot: TestBot, conversation: str, slot: str) -> None:
    bot.onboard(conversation=conversation)
    bot.to_confirm(slot=slot, conversation=conversation)


def test_two_people_confirm_the_same_slot_at_once(
    knowledge: Knowledge, tmp_path: Path, clock: Clock, store_url: str | None
) -> None:
    setup = TestBot(knowledge, tmp_path, clock, url=store_url)
    setup.onboard(conversation="test:a")
    setup.send("/book", "test:a")
    slot = setup.slot_choices()[0].data
    _to_confirm(setup, "test:a", slot)
    _to_confirm(setup, "test:b", slot)
    setup.close()

    barrier = threading.Barrier(2)
    notifier = RecordingNotifier()
    engines = []
    for _ in range(2):  # two stores: two workers (on SQLite, two connections to one file)
        store = racing(open_store(tmp_path, store_url), barrier)
        engines.append(Engine(knowledge, store, channel="test", notifier=notifier, clock=clock))
    results: dict[str, str] = {}

    def confirm(engine: Engine, conversation: str) -> None:
        replies = engine.handle(conversation, ButtonPress("confirm"))
        results[conversation] = "\n".join(r.text for r in replies)

    threads = [
        threading.Thread(target=confirm, args=(e, c))
        for e, c in zip(engines, ("test:a", "test:b"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(results) == 2
    winners = [c for c, text in results.items() if "Klart!" in text]
    losers = [c for c, text in results.items() if "hann någon annan boka" in text]
    assert len(winners) == 1 and len(losers) == 1, results
    booked = engines[0].store.upcoming(clock())
    assert len(booked) == 1 and booked[0].conversation == winners[0]
    assert len(notifier.sent) == 1
    # The loser keeps their answers and is offered other times, none of them the lost slot.
    loser_state = engines[0].store.load_state(losers[0])
    assert loser_state.flow == "booking.slot"
    assert slot not in [f"slot:{k}" for k in loser_state.data["slots"]]
    for engine in engines:
        engine.store.close()


def test_losing_a_slot_and_picking_another_goes_straight_to_confirm(testbot: TestBot) -> None:
    testbot.onboard(conversation="test:a")
    testbot.send("/book", "test:a")
    slot = testbot.slot_choices()[0].data
    _to_confirm(testbot, "test:a", slot)
    testbot.onboard(conversation="test:b")
    testbot.book_first_slot(conversation="test:b")  # takes the same first slot first
    testbot.press_data("confirm", "test:a")
    assert "hann någon annan boka" in testbot.text
    testbot.press_data(testbot.slot_choices()[0].data, "test:a")
    assert "Stämmer det här?" in testbot.text
    testbot.press_data("confirm", "test:a")
    assert "Klart!" in testbot.text
    assert len(testbot.store.upcoming(testbot.clock())) == 2
