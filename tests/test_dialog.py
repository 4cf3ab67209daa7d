"""Whole conversations through the real engine and dialog, read as transcripts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from bot.dialog.core import IDLE_TIMEOUT
from bot.dialog.model import ButtonPress, CommandMessage, TextMessage, Unsupported
from tests.transcript import Clock, TestBot


def test_first_contact_asks_language_then_region_and_remembers(testbot: TestBot) -> None:
    testbot.send("/start")
    assert "Vilket språk" in testbot.text and "Which language" in testbot.text
    testbot.press("Svenska")
    assert "Vilken kommun" in testbot.text
    testbot.press("Västervik")
    assert "Västervik" in testbot.text
    testbot.send("vad är ett socialt företag")
    assert testbot.store.load_state("test:1").region == "vastervik"
    assert "Meny" in testbot.labels


def test_swedish_greeting_to_answer_to_booking_to_cancellation(testbot: TestBot) -> None:
    testbot.onboard("sv", "sundsvall")
    testbot.send("hur funkar lönebidrag")
    assert "lönebidrag" in testbot.text.lower()
    assert any(c.data.startswith("topic:") for c in testbot.choices), "related topics are offered"

    testbot.send("jag vill boka ett möte")
    assert "Magnus Riklander" in testbot.text
    slots = testbot.slot_choices()
    assert len(slots) == 6
    testbot.press_data(slots[0].data)
    assert "förnamn" in testbot.text
    testbot.send("Anna")
    testbot.press("Ring mig")
    testbot.send("070-123 45 67")
    assert "Stämmer det här?" in testbot.text and "070-123 45 67" in testbot.text and "Anna" in testbot.text
    testbot.press("Ja, boka")
    assert "Klart!" in testbot.text
    ics = [r.attachment for r in testbot.replies if r.attachment]
    assert ics and b"TZID=Europe/Stockholm" in ics[0].content
    assert [n.kind for n in testbot.notifier.sent] == ["booked"]
    assert testbot.notifier.sent[0].booking.phone == "+46701234567"

    testbot.send("/mybookings")
    assert "Dina bokade möten" in testbot.text
    testbot.press("Avboka")
    testbot.press("Ja, avboka")
    assert "avbokat" in testbot.text
    assert [n.kind for n in testbot.notifier.sent] == ["booked", "cancelled"]
    testbot.send("/mybookings")
    assert "inga bokade möten" in testbot.text


def test_english_in_vastervik_books_with_elisabeth(testbot: TestBot) -> None:
    testbot.onboard("en", "vastervik")
    testbot.send("what is a social enterprise")
    assert "social enterprise" in testbot.text.lower()
    testbot.press_data("book")
    assert "Elisabeth Johansson" in testbot.text
    testbot.press_data(testbot.slot_choices()[1].data)
    testbot.press("Skip")
    testbot.press("Here in the chat")
    assert "Is this right?" in testbot.text and "(no name)" in testbot.text
    testbot.press("Yes, book it")
    assert "Done!" in testbot.text
    assert testbot.store.upcoming(testbot.clock())[0].region == "vastervik"


def test_a_question_in_the_middle_of_booking_is_answered_and_the_flow_stays(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.send("/book")
    testbot.press_data(testbot.slot_choices()[0].data)
    testbot.send("vad är arbetsträning?")
    assert len(testbot.replies) >= 2
    assert "arbetsträning" in testbot.replies[0].text.lower()
    assert "håller fortfarande på att boka" in testbot.text
    testbot.send("Sara")
    assert "Hur vill du" in testbot.text


def test_restart_between_two_messages_continues_where_it_was(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.send("/book")
    slot = testbot.slot_choices()[2]
    testbot.press_data(slot.data)
    testbot.restart()
    testbot.send("Kim")
    assert "Hur vill du" in testbot.text
    testbot.press("Här i chatten")
    testbot.press("Ja, boka")
    booked = testbot.store.upcoming(testbot.clock())
    assert [b.slot for b in booked] == [slot.data.removeprefix("slot:")]


def test_idle_conversation_returns_to_the_menu_with_a_note(testbot: TestBot, clock: Clock) -> None:
    testbot.onboard()
    testbot.send("/book")
    slot = testbot.slot_choices()[0]
    clock.advance(seconds=IDLE_TIMEOUT.total_seconds() + 60)
    testbot.press_data(slot.data)
    assert "avbröt" in testbot.text
    assert testbot.store.load_state("test:1").flow == "idle"
    assert not testbot.store.upcoming(clock())


def test_cancel_word_leaves_any_flow(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.send("/book")
    testbot.send("avbryt")
    assert "avbröt" in testbot.text
    assert testbot.store.load_state("test:1").flow == "idle"


def test_forged_and_stale_buttons_change_nothing(testbot: TestBot) -> None:
    testbot.onboard()
    for data in (
        "confirm",
        "slot:20261201T0800Z",
        "cancelbooking:xyz",
        "delete:yes",
        "topic:nope",
        "x" * 500,
        "",
    ):
        testbot.press_data(data)
        assert testbot.replies, data
    assert not testbot.store.upcoming(testbot.clock())
    assert testbot.store.load_state("test:1") is not None
    testbot.press_data("delete:yes")
    assert "inte öppet längre" in testbot.text


def test_double_tap_on_confirm_books_once(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.to_confirm()
    testbot.press_data("confirm")
    testbot.press_data("confirm")
    assert "är bekräftad" in testbot.text, "the same confirm again: the same booking, told again"
    assert len(testbot.store.upcoming(testbot.clock())) == 1
    assert len(testbot.notifier.sent) == 1


def test_fallback_offers_a_way_forward(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.send("vad blir det för väder i morgon")
    assert "vet jag tyvärr inte" in testbot.text
    assert {"menu", "topic:contact", "book"} <= {c.data for c in testbot.choices}


def test_unsupported_messages_and_unknown_commands_get_friendly_answers(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.sticker()
    assert "bara läsa text" in testbot.text
    testbot.handle(Unsupported("edited"))
    assert "ändrade meddelanden" in testbot.text
    testbot.send("/fly")
    assert "kommandot känner jag inte" in testbot.text
    testbot.handle(TextMessage(""))
    assert "tomt" in testbot.text


def test_change_language_and_region(testbot: TestBot) -> None:
    testbot.onboard("sv", "sundsvall")
    testbot.send("/language")
    testbot.press("English")
    assert "English" in testbot.text
    testbot.send("/region")
    testbot.press("Västervik")
    testbot.send("who can I contact")
    assert "Elisabeth Johansson" in testbot.text


def test_deep_link_sets_the_region(testbot: TestBot) -> None:
    testbot.handle(CommandMessage("start", "vastervik"))
    testbot.press("English")
    assert testbot.store.load_state("test:1").region == "vastervik"
    assert "Which municipality" not in testbot.text


def test_question_before_region_is_answered_after_choosing_it(testbot: TestBot) -> None:
    testbot.send("/start")
    testbot.press("Svenska")
    testbot.send("vem kan jag kontakta")
    if "Vilken kommun" in testbot.text:
        testbot.press("Sundsvall")
    assert "Magnus Riklander" in testbot.text


def test_english_question_in_a_swedish_chat_gets_a_hint(testbot: TestBot) -> None:
    testbot.onboard("sv")
    testbot.send("how do I start a social enterprise")
    assert "“English”" in testbot.text  # the hint names the button that switches
    assert any(c.data == "lang:en" for c in testbot.choices)


def test_a_booking_cannot_be_seen_or_cancelled_from_another_conversation(testbot: TestBot) -> None:
    testbot.onboard(conversation="test:alice")
    testbot.book_first_slot(conversation="test:alice")
    booking = testbot.store.upcoming(testbot.clock())[0]
    testbot.onboard(conversation="test:mallory")
    testbot.send("/mybookings", conversation="test:mallory")
    assert "inga bokade möten" in testbot.text
    for data in (f"cancelbooking:{booking.id}", f"move:{booking.id}", "yes"):
        testbot.press_data(data, conversation="test:mallory")
    assert testbot.store.booking(booking.id).status == "booked"
    assert testbot.store.cancel_booking("test:mallory", booking.id, testbot.clock()) is None


def test_move_a_booking(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.book_first_slot()
    testbot.send("/mybookings")
    testbot.press("Flytta")
    new_slot = testbot.slot_choices()[3]
    testbot.press_data(new_slot.data)
    assert "Flytta mötet från" in testbot.text
    testbot.press("Ja, flytta")  # a move is confirmed with its own words, not "Ja, boka"
    assert "flyttat" in testbot.text
    booked = testbot.store.upcoming(testbot.clock())
    assert [b.slot for b in booked] == [new_slot.data.removeprefix("slot:")]
    assert [n.kind for n in testbot.notifier.sent] == ["booked", "moved"]


def test_later_times_page_forward(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.send("/book")
    first = [c.data for c in testbot.slot_choices()]
    testbot.press("Senare tider")
    later = [c.data for c in testbot.slot_choices()]
    assert later and min(later) > max(first)


def test_bad_phone_number_is_asked_again(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.send("/book")
    testbot.press_data(testbot.slot_choices()[0].data)
    testbot.press("Hoppa över")
    testbot.press("Ring mig")
    testbot.send("12345")
    assert "inte ut som ett telefonnummer" in testbot.text  # international numbers are welcome now
    testbot.send("0701234567")
    assert "Stämmer det här?" in testbot.text


def test_delete_removes_everything_and_notifies_the_developer(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.book_first_slot(phone="070-123 45 67")
    testbot.send("/delete")
    testbot.press("Ja, radera allt")
    assert "raderat" in testbot.text
    assert testbot.store.load_state("test:1") is None
    assert testbot.store.bookings_of("test:1", testbot.clock()) == []
    assert testbot.notifier.sent[-1].kind == "cancelled"
    rows = testbot.store.db.execute("SELECT count(*) FROM bookings").fetchone()[0]
    assert rows == 0


def test_every_kind_of_event_gets_a_reply_even_before_onboarding(testbot: TestBot) -> None:
    for event in (
        ButtonPress("slot:garbage"),
        Unsupported("voice"),
        CommandMessage("menu"),
        TextMessage("🙂"),
    ):
        assert testbot.handle(event, conversation="test:new")


def test_a_phone_meeting_booked_to_the_chat_does_not_promise_a_call(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.to_confirm()
    assert "ringer upp dig" not in testbot.text and "hör av sig till dig här i chatten" in testbot.text
    testbot.press_data("confirm")
    ics = next(r.attachment for r in testbot.replies if r.attachment)
    assert b"ringer upp" not in ics.content


def test_booking_intro_says_the_contact_is_named_by_the_project_until_staff_confirm(
    testbot: TestBot, tmp_path: Path, clock: Clock
) -> None:
    testbot.onboard("sv", "sundsvall")
    testbot.send("/book")
    assert "Projektet har angett Magnus Riklander som kontaktperson" in testbot.text
    assert "bekräftar mötet" in testbot.text

    content = testbot.knowledge.content
    region = content.regions["vastervik"]
    confirmed = replace(region, contact=replace(region.contact, confirmed=date(2026, 11, 30)))
    knowledge = replace(testbot.knowledge, content=replace(content, regions={**content.regions, "vastervik": confirmed}))
    other = TestBot(knowledge, tmp_path / "confirmed", clock)
    try:
        other.onboard("en", "vastervik")
        other.send("/book")
        assert "You can book a meeting with Elisabeth Johansson" in other.text
        assert "not been confirmed" not in other.text
    finally:
        other.close()
