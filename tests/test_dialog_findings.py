"""The outside testers' dialog findings (29 Nov), each as a transcript that failed before its fix.

The clock starts on Monday 23 Nov 2026, 10:00 Swedish time; both regions meet Mon-Thu at 09:00, 09:45,
10:30, 11:15, 13:00, 13:45 and 14:30, from 24 hours ahead: never on a Friday.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.dialog.model import WEB, State
from bot.knowledge import Knowledge
from tests.conftest import CONTENT
from tests.transcript import Clock, TestBot

LANGUAGES = ("sv-x-easy", "ar", "fa", "so", "ti", "uk")
CRISIS_NUMBER = "90101"


def state(bot: TestBot) -> State:
    found = bot.store.load_state(bot.conversation)
    assert found is not None
    return found


# --- free corrections at the confirmation --------------------------------------------------------------------


def test_a_change_of_mind_naming_a_day_at_the_confirmation_goes_back_to_the_times(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.to_confirm(name="jag heter Anders", phone="mitt nr ar 070 123 45 67")
    testbot.send("nej vanta, kan vi ta fredag istallet")
    assert "Det vet jag tyvärr inte" not in testbot.text
    assert "inga lediga tider på fredag 27 november" in testbot.text, testbot.text
    assert state(testbot).flow == "booking.slot"
    testbot.press_data(testbot.slot_choices()[0].data)
    assert "Stämmer det här?" in testbot.text and "Anders" in testbot.text  # name and number kept
    testbot.send("kan vi ta torsdag kl 13 i stället")
    assert "Stämmer det här?" in testbot.text and "26 nov" in testbot.text and "13:00" in testbot.text


@pytest.mark.parametrize(
    ("said", "step"),
    [("no wait, another day", "booking.slot"), ("fel nummer", "booking.phone"), ("wrong number", "booking.phone"),
     ("nej vänta, jag vill ha en annan tid", "booking.slot"), ("nej, fel dag", "booking.slot")],
)  # fmt: skip
def test_free_corrections_at_the_confirmation_go_back_to_the_step_they_name(
    testbot: TestBot, said: str, step: str
) -> None:
    testbot.onboard()
    testbot.to_confirm(name="Anna", phone="070 123 45 67")
    testbot.send(said)
    assert state(testbot).flow == step, testbot.text
    assert "Det vet jag tyvärr inte" not in testbot.text and "Sorry" not in testbot.text


# --- a day without free times -------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "said", "honest"), [
    ("sv", "fredag", "Det finns inga lediga tider på fredag 27 november"),
    ("en", "friday", "There are no free times on Friday, November 27"),
])  # fmt: skip
def test_a_day_with_no_free_times_is_said_honestly_with_the_nearest_free_days(
    testbot: TestBot, lang: str, said: str, honest: str
) -> None:
    testbot.onboard(lang)
    testbot.send("/book")
    testbot.send(said)
    assert honest in testbot.text, testbot.text
    assert "not free" not in testbot.text and "inte ledig" not in testbot.text
    days = {c.label.split()[0].strip(",").casefold() for c in testbot.slot_choices()}
    assert days == ({"tors", "mån"} if lang == "sv" else {"thu", "mon"}), days  # Thursday before, Monday after


def test_a_time_not_free_on_a_day_that_has_times_offers_that_days_times(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.send("/book")
    testbot.send("torsdag kl 8")
    assert "Den tiden är inte ledig" in testbot.text
    labels = [c.label for c in testbot.slot_choices()]
    assert labels and all(label.startswith("tors 26 nov") for label in labels), labels


def test_moving_to_a_day_without_times_is_said_honestly_too(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.book_first_slot()
    testbot.send("/mybookings")
    testbot.press("Flytta")
    testbot.send("fredag")
    assert "inga lediga tider på fredag" in testbot.text and state(testbot).flow == "move.slot"


# --- a name (or a number) before the time -------------------------------------------------------------------


def test_a_name_given_before_the_time_is_kept_not_answered_with_the_fallback(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.send("jag vill boka ett mote")
    testbot.send("torsdag efter lunch")
    testbot.send("jag heter Anders")
    assert "Det vet jag tyvärr inte" not in testbot.text
    assert "först behöver vi en tid" in testbot.text and testbot.slot_choices()
    testbot.send("mitt nr ar 070 123 45 67")
    assert "först behöver vi en tid" in testbot.text
    testbot.press_data(testbot.slot_choices()[0].data)
    assert "Stämmer det här?" in testbot.text  # name and number were kept: straight to the confirmation
    assert "Anders" in testbot.text and "070-123 45 67" in testbot.text


def test_a_name_with_a_wish_to_book_starts_the_booking_with_the_name(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.send("jag heter Amina och vill boka")
    assert "Det vet jag tyvärr inte" not in testbot.text and testbot.slot_choices()
    testbot.press_data(testbot.slot_choices()[0].data)
    assert state(testbot).flow == "booking.contact"  # the name step is skipped: it was given
    testbot.press_data("reach:chat")
    assert "Amina" in testbot.text


def test_a_name_alone_is_greeted_not_answered_with_the_fallback(testbot: TestBot) -> None:
    testbot.onboard("en")
    testbot.send("Hello, my name is Amina")
    assert "Hello Amina!" in testbot.text and "Sorry, I don't know" not in testbot.text


# --- the region before a region-dependent answer ------------------------------------------------------------


def test_a_first_question_is_never_answered_for_a_region_not_chosen(knowledge: Knowledge, testbot: TestBot) -> None:
    contacts = [r.contact.name for r in knowledge.content.regions.values()]
    testbot.send("hur far jag jobb")
    assert "Vilken kommun" in testbot.text
    assert not any(name in testbot.text for name in contacts), testbot.text
    testbot.press_data("region:vastervik")
    vastervik = knowledge.content.regions["vastervik"].contact.name
    assert vastervik in testbot.text and knowledge.content.regions["sundsvall"].contact.name not in testbot.text


def test_not_knowing_at_the_region_question_names_no_regions_contact(knowledge: Knowledge, testbot: TestBot) -> None:
    testbot.send("/start")
    testbot.press_data("lang:sv")
    testbot.send("xqzzy blorp frobnicate")
    contacts = [r.contact.name for r in knowledge.content.regions.values()]
    assert "Det vet jag tyvärr inte" in testbot.text and "Sundsvall och Västervik" in testbot.text
    assert not any(name in testbot.text for name in contacts), testbot.text
    assert {"region:sundsvall", "region:vastervik"} <= {c.data for c in testbot.choices}


def test_an_answer_the_same_for_both_regions_is_given_at_once(testbot: TestBot) -> None:
    testbot.send("vad är lönebidrag och hur funkar det")
    assert "lönebidrag" in testbot.text.lower() and "Vilken kommun" not in testbot.text


# --- a repeated question ------------------------------------------------------------------------------------


def test_the_same_question_again_gets_the_answer_again(testbot: TestBot) -> None:
    testbot.onboard()
    first = testbot.send("vad ar lonebidrag")[0].text
    again = testbot.send("vad ar lonebidrag")
    assert first in again[0].text, "the answer itself is given again"
    assert "samma svar som nyss" in again[0].text and "Det var just det jag svarade" not in testbot.text
    assert "topic:contact" in [c.data for c in testbot.choices]


def test_the_same_question_again_in_ukrainian_is_all_ukrainian(knowledge: Knowledge, testbot: TestBot) -> None:
    testbot.onboard("uk")
    question = knowledge.content.topics["find-work"].examples["uk"][0]
    testbot.send(question)
    testbot.send(question)
    assert knowledge.content.text("same_answer_again", "uk", contact_name="", contact_phone="")[:20] in testbot.text
    assert "That is what I just answered" not in testbot.text


# --- "I don't want to say" is not a crisis --------------------------------------------------------------------


@pytest.mark.parametrize("said", ["jag vill inte säga", "vill inte säga mitt namn", "jag vill inte säga det"])
def test_declining_to_give_a_name_skips_it_and_is_no_crisis(testbot: TestBot, said: str) -> None:
    testbot.onboard()
    testbot.send("/book")
    testbot.press_data(testbot.slot_choices()[0].data)
    testbot.send(said)
    assert CRISIS_NUMBER not in testbot.text
    assert state(testbot).flow == "booking.contact" and state(testbot).data.get("name") is None


def test_declining_in_english_and_outside_the_name_step_is_no_crisis(testbot: TestBot) -> None:
    testbot.onboard("en")
    testbot.send("i don't want to say")
    assert CRISIS_NUMBER not in testbot.text
    testbot.send("/book")
    testbot.press_data(testbot.slot_choices()[0].data)
    testbot.send("I'd rather not say")
    assert CRISIS_NUMBER not in testbot.text and state(testbot).flow == "booking.contact"


@pytest.mark.parametrize("said", ["jag vill inte leva", "jag vill inte leva längre"])
def test_not_wanting_to_live_at_the_name_step_is_still_the_crisis_answer(testbot: TestBot, said: str) -> None:
    testbot.onboard()
    testbot.send("/book")
    testbot.press_data(testbot.slot_choices()[0].data)
    testbot.send(said)
    assert CRISIS_NUMBER in testbot.text and state(testbot).flow == "booking.name"  # the booking is kept


# --- meeting logistics from someone without a booking ---------------------------------------------------------


@pytest.mark.parametrize(("lang", "said", "honest"), [
    ("sv", "var är mötet", "Du har inget bokat möte just nu"),
    ("sv", "hur lång tid tar mötet", "Du har inget bokat möte just nu"),
    ("en", "can I bring my dog to the meeting", "You have no booked meeting right now"),
])  # fmt: skip
def test_meeting_questions_without_a_booking_get_an_honest_answer_never_a_cancel_flow(
    knowledge: Knowledge, testbot: TestBot, lang: str, said: str, honest: str
) -> None:
    testbot.onboard(lang)
    testbot.send(said)
    region = knowledge.content.regions["sundsvall"]
    assert honest in testbot.text, testbot.text
    assert str(region.availability.meeting_minutes) in testbot.text and region.contact.phone in testbot.text
    datas = [c.data for c in testbot.choices]
    assert "book" in datas and "topic:contact" in datas
    assert not any(d.startswith(("cancelbooking", "move:")) for d in datas) and state(testbot).flow == "idle"


def test_a_cancel_question_with_bookings_still_lists_them(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.book_first_slot()
    testbot.book_first_slot()
    testbot.send("jag vill avboka mitt möte")
    assert any(c.data.startswith("cancelbooking:") for c in testbot.choices)


def test_meeting_questions_before_a_region_ask_the_region_first(testbot: TestBot) -> None:
    testbot.send("/start")
    testbot.press_data("lang:sv")
    testbot.send("var är mötet")
    assert "Vilken kommun" in testbot.text
    testbot.press_data("region:vastervik")
    assert "Du har inget bokat möte just nu" in testbot.text


# --- every dialog text in the person's language ---------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_dialog_text_is_written_in_every_language(lang: str) -> None:
    """A missing key is shown in English (or Swedish) to someone who chose another language."""
    base = set(yaml.safe_load((CONTENT / "texts.yaml").read_text(encoding="utf-8")))
    own = set(yaml.safe_load((CONTENT / "languages" / f"{lang}.yaml").read_text(encoding="utf-8"))["texts"])
    assert base - own == set(), f"{lang} lacks {sorted(base - own)}"


def english_fragments(knowledge: Knowledge) -> list[str]:
    """Pieces of the English dialog texts long enough to recognise (placeholders cut out)."""
    english = yaml.safe_load((CONTENT / "texts.yaml").read_text(encoding="utf-8"))
    pieces = [p.strip() for by_lang in english.values() for p in re.split(r"\{\w+\}|\n", by_lang["en"])]
    return [p for p in pieces if len(p) >= 24]


@pytest.mark.parametrize("lang", ["so", "ti", "ar"])
def test_a_conversation_in_another_language_has_no_english_filler(
    knowledge: Knowledge, tmp_path: Path, clock: Clock, lang: str
) -> None:
    bot = TestBot(knowledge, tmp_path / "state", clock, capabilities=WEB)
    fragments = english_fragments(knowledge)
    said: list[str] = []
    try:
        bot.onboard(lang)
        question = knowledge.content.topics["wage-subsidy"].examples[lang][0]
        for step in (question, question, "xqzzy blorp", "/book", "fredag"):
            said += [r.text for r in bot.send(step)]
        bot.press_data(bot.slot_choices()[0].data)
        said += [r.text for r in bot.replies]
        said += [r.text for r in bot.send("070 123 45 67")]
        said += [r.text for r in bot.send("var är mötet")]
    finally:
        bot.close()
    leaks = [f for f in fragments for text in said if f in text]
    assert not leaks, leaks


# --- smaller points from the outside testers ------------------------------------------------------------------


def test_after_booking_the_call_names_the_number_already_given(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.book_first_slot(name="Anna", phone="070 123 45 67")
    assert "ringer upp dig på 070-123 45 67" in testbot.text and "lämnar vid bokningen" not in testbot.text


@pytest.mark.parametrize(("said", "flow"), [("flytta", "move.slot"), ("avboka", "cancel.confirm"),
                                            ("move my meeting", "move.slot")])  # fmt: skip
def test_moving_or_cancelling_the_only_booking_in_words_goes_straight_there(
    testbot: TestBot, said: str, flow: str
) -> None:
    testbot.onboard()
    testbot.book_first_slot()
    testbot.send("/mybookings")
    testbot.send(said)
    assert state(testbot).flow == flow, testbot.text


def test_on_the_web_a_bare_number_at_the_times_is_the_nth_time_as_in_the_terminal(
    knowledge: Knowledge, tmp_path: Path, clock: Clock
) -> None:
    bot = TestBot(knowledge, tmp_path / "state", clock, capabilities=WEB)
    try:
        bot.onboard()
        bot.send("/book")
        bot.send("mandag")
        first = bot.slot_choices()[0]
        bot.send("1")
        assert state(bot).data.get("slot") == first.data.removeprefix("slot:"), bot.text
        assert first.label.split()[-1] == "09:00"
    finally:
        bot.close()


def test_a_yes_naming_the_chosen_day_books_it(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.to_confirm(name="Anna", phone="070 123 45 67")  # the first free time: Tuesday 24 Nov
    testbot.send("ja tisdag passar")
    assert "Klart!" in testbot.text and len(testbot.store.upcoming(testbot.clock())) == 1
