"""The dialog promises only what the channel can keep (issue 13): chat reach and chat reminders only where
the channel can write later; typed words instead of /commands where a channel has none."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.dialog.model import TELEGRAM, TERMINAL, WEB, Capabilities, capabilities_for
from bot.engine import Engine
from bot.knowledge import Knowledge
from tests.transcript import Clock, TestBot


@pytest.fixture
def webbot(knowledge: Knowledge, tmp_path: Path, clock: Clock) -> TestBot:
    bot = TestBot(knowledge, tmp_path / "state", clock, capabilities=WEB)
    yield bot
    bot.close()


def test_engine_sets_capabilities_from_the_channel(knowledge: Knowledge, tmp_path: Path) -> None:
    from bot.storage import open_store

    store = open_store(tmp_path / "s")
    try:
        assert Engine(knowledge, store, channel="telegram").capabilities == TELEGRAM
        assert Engine(knowledge, store, channel="terminal").capabilities.can_push is False
        assert Engine(knowledge, store, channel="web").capabilities == WEB
        custom = Capabilities(can_push=False, has_commands=False, max_button_data=32)
        assert Engine(knowledge, store, channel="web", capabilities=custom).capabilities == custom
    finally:
        store.close()
    assert capabilities_for("telegram").can_push and not capabilities_for("terminal").can_push
    assert TERMINAL.has_commands and not WEB.has_commands


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_without_push_the_meeting_is_a_phone_call_and_the_calendar_reminds(webbot: TestBot, lang: str) -> None:
    webbot.onboard(lang, "sundsvall")
    webbot.send("/book")
    webbot.press_data(webbot.slot_choices()[0].data)
    webbot.send("Anna")
    # no "here in the chat" choice: nobody could write to this person later
    assert "reach:chat" not in {c.data for c in webbot.choices}
    assert all("chatten" not in label and "chat" not in label.lower() for label in webbot.labels)
    assert ("ringer upp dig" if lang == "sv" else "will call you") in webbot.text
    webbot.send("070-123 45 67")
    assert ("Stämmer det här?" if lang == "sv" else "Is this right?") in webbot.text
    assert "/delete" not in webbot.text and "/privacy" not in webbot.text
    assert ('"radera mina uppgifter"' if lang == "sv" else '"delete my data"') in webbot.text
    webbot.press_data("confirm")
    text = webbot.text
    assert ("Klart!" if lang == "sv" else "Done!") in text
    assert ("kalenderfilen" if lang == "sv" else "calendar file") in text.lower()
    assert "dagen före" not in text and "day before" not in text
    assert "/mybookings" not in text and ('"mina bokningar"' if lang == "sv" else '"my bookings"') in text
    ics = next(r.attachment for r in webbot.replies if r.attachment)
    assert b"BEGIN:VALARM" in ics.content  # the promised calendar alarm is really in the file
    booked = webbot.store.upcoming(webbot.clock())
    assert booked[0].phone == "+46701234567"


def test_typed_command_words_work_where_there_are_no_commands(webbot: TestBot) -> None:
    webbot.onboard("sv", "sundsvall")
    webbot.book_first_slot(name="Anna", phone="070-123 45 67")
    webbot.send("mina bokningar")
    assert "Dina bokade möten" in webbot.text
    webbot.send("radera mina uppgifter")
    assert "raderar allt" in webbot.text
    webbot.press("Nej")
    webbot.send("integritet")
    assert webbot.replies and "/privacy" not in webbot.text


def test_with_push_the_chat_stays_an_option_and_reminders_are_promised(testbot: TestBot) -> None:
    testbot.onboard("sv", "sundsvall")
    testbot.send("/book")
    testbot.press_data(testbot.slot_choices()[0].data)
    testbot.send("Anna")
    assert "reach:chat" in {c.data for c in testbot.choices}
    testbot.press_data("reach:chat")
    testbot.press_data("confirm")
    assert "påminnelse här dagen före" in testbot.text and "/mybookings" in testbot.text


def test_button_data_fits_the_channel(knowledge: Knowledge, tmp_path: Path, clock: Clock) -> None:
    small = Capabilities(can_push=True, has_commands=True, max_button_data=40)
    bot = TestBot(knowledge, tmp_path / "state", clock, capabilities=small)
    try:
        bot.onboard("sv", "sundsvall")
        seen = list(bot.choices)
        bot.book_first_slot(name="Anna")
        seen += bot.choices
        bot.send("/mybookings")
        seen += bot.choices
        assert seen and all(len(c.data.encode()) <= small.max_button_data for c in seen)
    finally:
        bot.close()
