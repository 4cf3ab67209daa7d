"""The outside user tester's round-2 dialog findings (30 Nov, /work/notes/tester-users2.md), each as a transcript
that failed before its fix.

The clock starts on Monday 23 Nov 2026, 10:00 Swedish time (tests/transcript.py START); both regions meet Mon-Thu at
09:00, 09:45, 10:30, 11:15, 13:00, 13:45 and 14:30, from 24 hours ahead, never on a Friday: the first free time is
Tuesday 24 Nov 10:30. Nothing here reads the real date or time of day.
"""

from __future__ import annotations

import pytest

from bot.dialog.formatting import format_slot
from bot.knowledge import Knowledge
from tests.test_dialog_users import state, upcoming
from tests.transcript import TestBot

CRISIS_NUMBER = "90101"


def to_confirm(bot: TestBot) -> str:
    """Up to the confirmation in any language (tests/transcript.py's walk checks the sv/en texts)."""
    bot.send("/book")
    slot = bot.slot_choices()[0].data
    bot.press_data(slot)
    bot.press_data("skip")
    bot.press_data("reach:chat")
    assert state(bot).flow == "booking.confirm", bot.text
    return slot


def book(bot: TestBot) -> str:
    slot = to_confirm(bot)
    bot.press_data("confirm")
    return slot


def first_line(knowledge: Knowledge, key: str, lang: str) -> str:
    """A text's words up to its first placeholder: what is said whatever fills it in."""
    return knowledge.content.text(key, lang).split("{")[0]


# --- U1-a: "jag vill avboka" while moving a meeting leaves the move and asks to cancel ------------------------


@pytest.mark.parametrize(("lang", "move", "cancel", "yes"),
                         [("sv", "jag vill flytta motet till tisdag", "jag vill avboka", "ja"),
                          ("en", "i want to move my meeting", "i want to cancel it", "yes"),
                          ("uk", "хочу перенести зустріч", "я хочу скасувати зустріч", "так")])  # fmt: skip
def test_cancelling_in_words_while_moving_leaves_the_move_and_asks_to_cancel(knowledge: Knowledge, testbot: TestBot,
                                                                              lang: str, move: str, cancel: str,
                                                                              yes: str) -> None:  # fmt: skip
    testbot.onboard(lang)
    book(testbot)
    testbot.send(move)
    assert state(testbot).flow == "move.slot", testbot.text
    testbot.send(cancel)
    assert state(testbot).flow == "cancel.confirm", testbot.text
    labels = testbot.labels
    assert knowledge.content.text("button_yes_cancel", lang) in labels and knowledge.content.text("button_no_keep", lang) in labels
    testbot.send(yes)
    assert upcoming(testbot) == [], testbot.text


def test_moving_in_words_at_the_cancel_question_moves_instead(testbot: TestBot) -> None:
    testbot.onboard()
    slot = testbot.book_first_slot()
    testbot.send("avboka")
    assert state(testbot).flow == "cancel.confirm"
    testbot.send("nej flytta den till onsdag")
    assert state(testbot).flow == "move.slot", testbot.text
    assert all(c.label.startswith("ons 25 nov.") for c in testbot.slot_choices()), testbot.text
    assert upcoming(testbot) == [slot.removeprefix("slot:")]


# --- U1-b: "nej jag vill inte ha något möte ändå" during a booking is a stop --------------------------------------


@pytest.mark.parametrize(("lang", "said"), [("sv", "nej jag vill inte ha nagot mote anda"),
                                            ("sv", "jag vill inte boka något möte"),
                                            ("en", "no I don't want a meeting after all"),
                                            ("uk", "ні, я не хочу зустрічі")])  # fmt: skip
def test_saying_no_to_the_meeting_in_words_during_a_booking_stops_it(knowledge: Knowledge, testbot: TestBot,
                                                                      lang: str, said: str) -> None:  # fmt: skip
    testbot.onboard(lang)
    testbot.send("/book")
    testbot.press_data(testbot.slot_choices()[0].data)
    testbot.send(said)
    assert state(testbot).flow == "idle", testbot.text
    assert knowledge.content.text("cancelled_booking", lang) in testbot.text
    assert knowledge.content.text("already_in_flow", lang) not in testbot.text
    assert upcoming(testbot) == []


def test_a_question_about_meetings_with_not_in_it_is_still_answered_mid_booking(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.send("/book")
    testbot.press_data(testbot.slot_choices()[0].data)
    testbot.send("kan jag inte boka ett möte på fredag?")  # a question, not a stop
    assert state(testbot).flow != "idle", testbot.text


# --- U5-a: a confirmation sent twice, and the stop message beside a booked meeting -------------------------------


@pytest.mark.parametrize(("lang", "again"), [("sv", "Ja, boka"), ("sv", "ja"), ("sv", "yes, book it"),
                                             ("en", "Yes, book it"), ("uk", "так")])  # fmt: skip
def test_a_confirmation_sent_twice_is_told_it_is_booked_and_starts_nothing(knowledge: Knowledge, testbot: TestBot,
                                                                           lang: str, again: str) -> None:  # fmt: skip
    testbot.onboard(lang)
    slot = to_confirm(testbot)
    testbot.send(again)
    assert upcoming(testbot) == [slot.removeprefix("slot:")], testbot.text
    testbot.send(again)  # the double tap, or a resend on a bad connection
    assert first_line(knowledge, "already_booked", lang) in testbot.text, testbot.text
    assert state(testbot).flow == "idle" and state(testbot).lang == lang, testbot.text  # no new booking, no switch
    assert upcoming(testbot) == [slot.removeprefix("slot:")]
    testbot.send("/mybookings")
    assert "Inget är bokat" not in testbot.text and "Nothing was booked" not in testbot.text


@pytest.mark.parametrize("lang", ["sv", "en", "ar"])
def test_stopping_a_new_booking_beside_a_booked_meeting_says_that_meeting_stays(knowledge: Knowledge,
                                                                                 testbot: TestBot, lang: str) -> None:  # fmt: skip
    testbot.onboard(lang)
    slot = book(testbot)
    testbot.send("/book")
    testbot.send("/mybookings")
    assert knowledge.content.text("cancelled_booking", lang) not in testbot.text, testbot.text
    kept = testbot.replies[0].text
    assert kept.startswith(first_line(knowledge, "cancelled_booking_kept", lang)), testbot.text
    assert format_slot(slot.removeprefix("slot:"), lang) in kept, kept


@pytest.mark.parametrize("booked_before", [True, False])
def test_a_new_booking_left_idle_never_says_nothing_is_booked_above_a_booked_meeting(knowledge: Knowledge,
                                                                                    testbot: TestBot,
                                                                                    booked_before: bool) -> None:  # fmt: skip
    testbot.onboard()
    slot = book(testbot) if booked_before else None
    testbot.send("/book")
    testbot.clock.advance(hours=2)
    testbot.send("hej")
    if slot is not None:
        assert knowledge.content.text("idle_reset", "sv") not in testbot.text, testbot.text
        assert format_slot(slot.removeprefix("slot:"), "sv") in testbot.replies[0].text, testbot.text
    else:
        assert knowledge.content.text("idle_reset", "sv") in testbot.text, testbot.text


def test_stopping_a_booking_with_nothing_booked_still_says_nothing_is_booked(knowledge: Knowledge,
                                                                             testbot: TestBot) -> None:  # fmt: skip
    testbot.onboard()
    testbot.send("/book")
    testbot.send("/mybookings")
    assert knowledge.content.text("cancelled_booking", "sv") in testbot.text


# --- U1-f, U4-b: a day and part of the day in the move flow and in every content language -----------------------


@pytest.mark.parametrize(("lang", "said", "day"),
                         [("sv", "jag vill flytta mitt mote till onsdag efter lunch", "ons 25 nov."),
                          ("en", "can I move my meeting to wednesday afternoon", "Wed, Nov 25")])  # fmt: skip
def test_moving_to_a_day_after_lunch_offers_that_days_afternoon(testbot: TestBot, lang: str, said: str,
                                                                day: str) -> None:  # fmt: skip
    testbot.onboard(lang)
    testbot.book_first_slot()
    testbot.send(said)
    times = [c.label for c in testbot.slot_choices()]
    assert state(testbot).flow == "move.slot" and times, testbot.text
    assert all(t.startswith(day) and t[-5:] >= "13:00" for t in times), testbot.text


THURSDAY_AFTERNOON = [("sv", "torsdag efter lunch"), ("en", "thursday afternoon"), ("uk", "в четвер після обіду"),
                      ("so", "Khamiista galabta"), ("ti", "ሓሙስ ድሕሪ ቐትሪ"), ("fa", "پنجشنبه بعد از ظهر"),
                      ("ar", "يوم الخميس بعد الظهر"), ("sv-x-easy", "torsdag efter lunch")]  # fmt: skip


@pytest.mark.parametrize(("lang", "said"), THURSDAY_AFTERNOON)
def test_thursday_afternoon_at_the_times_in_every_language_shows_thursday_afternoon(testbot: TestBot, lang: str,
                                                                                   said: str) -> None:  # fmt: skip
    testbot.onboard(lang, "vastervik")
    testbot.send("/book")
    testbot.send(said)
    found = state(testbot)
    assert found.flow == "booking.slot" and found.last_topic is None, testbot.text  # never a topic's answer
    slots = [c.data for c in testbot.slot_choices()]
    assert slots and all(s.startswith("slot:20261126T") and s[-5:-1] >= "1200" for s in slots), testbot.text


@pytest.mark.parametrize(("lang", "said", "weekday"), [("fa", "سه‌شنبه صبح", "20261124T"),  # Tuesday, not Saturday
                                                       ("ar", "الأربعاء", "20261125T"), ("uk", "у середу зранку", "20261125T"),
                                                       ("so", "Isniinta", "20261130T"), ("ti", "ሰሉስ ንግሆ", "20261124T")])  # fmt: skip
def test_a_weekday_at_the_times_in_other_languages_offers_that_day(testbot: TestBot, lang: str, said: str,
                                                                   weekday: str) -> None:  # fmt: skip
    testbot.onboard(lang)
    testbot.send("/book")
    testbot.send(said)
    slots = [c.data for c in testbot.slot_choices()]
    assert slots and all(s.startswith(f"slot:{weekday}") for s in slots), testbot.text
    if " " in said:  # the morning too: before 12:00 Swedish time, 11:00 UTC
        assert all(s[-5:-1] < "1100" for s in slots), testbot.text


@pytest.mark.parametrize(("lang", "said"), [("uk", "пізніше"), ("ar", "لاحقا"), ("so", "waqti kale"), ("sv", "senare")])
def test_later_at_the_times_in_other_languages_shows_the_next_times(testbot: TestBot, lang: str, said: str) -> None:
    testbot.onboard(lang)
    testbot.send("/book")
    first = [c.data for c in testbot.slot_choices()]
    testbot.send(said)
    later = [c.data for c in testbot.slot_choices()]
    assert later and later[0] > first[-1] and state(testbot).last_topic is None, testbot.text


@pytest.mark.parametrize(("lang", "said"), [("ar", "الساعة ١٣"), ("fa", "ساعت ۱۳")])
def test_a_clock_time_in_arabic_or_persian_digits_picks_that_time(testbot: TestBot, lang: str, said: str) -> None:
    testbot.onboard(lang)
    testbot.send("/book")
    testbot.send(said)
    assert state(testbot).flow == "booking.name" and state(testbot).data.get("slot") == "20261124T1200Z", testbot.text


def test_before_lunch_is_the_morning_never_the_earlier_page(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.send("/book")
    testbot.send("innan lunch")
    slots = [c.data for c in testbot.slot_choices()]
    assert slots and all(s[-5:-1] < "1100" for s in slots), testbot.text


# --- U1-c, U1-d, the name at the phone step, a new day at the name/phone step ------------------------------------


@pytest.mark.parametrize(("lang", "number"), [("sv", "070 555 1234"), ("en", "0705551234"), ("ar", "+46 70 555 12 34")])
def test_a_phone_number_at_the_name_question_is_kept_and_the_name_asked_again(knowledge: Knowledge, testbot: TestBot,
                                                                             lang: str, number: str) -> None:  # fmt: skip
    testbot.onboard(lang)
    testbot.send("/book")
    testbot.press_data(testbot.slot_choices()[0].data)
    testbot.send(number)
    assert knowledge.content.text("kept_phone_ask_name", lang) in testbot.text, testbot.text
    assert state(testbot).flow == "booking.name" and state(testbot).data.get("phone") == "+46705551234"
    testbot.send("Lars")
    assert state(testbot).flow == "booking.confirm" and "070-555 12 34" in testbot.text, testbot.text


def test_a_changed_number_in_a_sentence_at_the_name_question_is_taken(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.send("/book")
    testbot.press_data(testbot.slot_choices()[0].data)
    testbot.send("andra telefonnumret till 073-111 22 33")
    assert state(testbot).data.get("phone") == "+46731112233", testbot.text
    assert "Riklander (072" not in testbot.text  # never the contact answer


@pytest.mark.parametrize(("lang", "name"), [("sv", "Lars Nilsson"), ("en", "Lars")])
def test_a_full_name_at_the_times_is_kept(knowledge: Knowledge, testbot: TestBot, lang: str, name: str) -> None:
    testbot.onboard(lang)
    testbot.send("/book")
    testbot.send(name)
    assert knowledge.content.text("kept_choose_time_first", lang) in testbot.text, testbot.text
    assert state(testbot).data.get("name") == name


@pytest.mark.parametrize(("lang", "name"), [("sv", "Lars"), ("en", "my name is Lars"), ("uk", "Олена")])
def test_a_first_name_at_the_phone_question_is_kept_and_the_number_asked_again(knowledge: Knowledge,
                                                                               testbot: TestBot, lang: str,
                                                                               name: str) -> None:  # fmt: skip
    testbot.onboard(lang)
    testbot.send("/book")
    testbot.press_data(testbot.slot_choices()[0].data)
    testbot.press_data("skip")
    testbot.press_data("reach:phone")
    testbot.send(name)
    said = name.split()[-1]
    assert knowledge.content.text("kept_name_ask_phone", lang, name=said) in testbot.text, testbot.text
    assert state(testbot).flow == "booking.phone" and state(testbot).data.get("name") == said
    testbot.send("070 123 45 67")
    assert state(testbot).flow == "booking.confirm" and said in testbot.text


@pytest.mark.parametrize(("step", "said", "day"), [("name", "kan vi ta torsdag istället", "20261126T"),
                                                   ("phone", "nej vänta, onsdag efter lunch", "20261125T1"),
                                                   ("name", "can we do thursday instead", "20261126T")])  # fmt: skip
def test_a_new_day_at_the_name_or_phone_question_changes_the_day(testbot: TestBot, step: str, said: str,
                                                                 day: str) -> None:  # fmt: skip
    testbot.onboard()
    testbot.send("/book")
    testbot.press_data(testbot.slot_choices()[0].data)
    if step == "phone":
        testbot.send("Anna")
        testbot.press_data("reach:phone")
    testbot.send(said)
    slots = [c.data for c in testbot.slot_choices()]
    assert state(testbot).flow == "booking.slot" and slots, testbot.text
    assert all(s.startswith(f"slot:{day}") for s in slots), testbot.text
    testbot.press_data(slots[0])
    assert state(testbot).data.get("slot") == slots[0].removeprefix("slot:")
    assert state(testbot).data.get("name") == ("Anna" if step == "phone" else None)


# --- U5-b: switching the language in words, in every language ---------------------------------------------------


@pytest.mark.parametrize(("chat", "said", "wished"), [("sv", "byt till engelska", "en"), ("sv", "på engelska", "en"),
                                                      ("sv", "kan du skriva på arabiska", "ar"),
                                                      ("sv", "byt språk till lätt svenska", "sv-x-easy"),
                                                      ("en", "switch to ukrainian please", "uk"),
                                                      ("ar", "تكلم بالانجليزية", "en"), ("uk", "пишіть шведською", "sv"),
                                                      ("en", "english please", "en")])  # fmt: skip
def test_asking_for_a_language_in_words_switches_to_it(testbot: TestBot, chat: str, said: str, wished: str) -> None:
    testbot.onboard(chat)
    testbot.send(said)
    assert state(testbot).lang == wished, testbot.text


@pytest.mark.parametrize(("chat", "said"), [("en", "i don't speak swedish very well"),
                                            ("sv", "finns det sfi på arabiska")])  # fmt: skip
def test_a_sentence_naming_a_language_is_no_switch(testbot: TestBot, chat: str, said: str) -> None:
    testbot.onboard(chat)
    testbot.send(said)
    assert state(testbot).lang == chat, testbot.text


# --- U4-a: a crisis statement gets only the crisis answer --------------------------------------------------------


@pytest.mark.parametrize(("lang", "said"), [("so", "Ninkaygu wuu i garaacaa, waan baqayaa"),
                                            ("sv", "Ninkaygu wuu i garaacaa, waan baqayaa")])  # fmt: skip
def test_a_crisis_statement_gets_only_the_crisis_answer(testbot: TestBot, lang: str, said: str) -> None:
    testbot.onboard(lang, "vastervik")
    testbot.send(said)
    assert CRISIS_NUMBER in testbot.replies[0].text
    assert len(testbot.replies) == 1 and state(testbot).last_topic is None, testbot.text


# --- U5-e, U5-c, U5-f, U5-d ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "said"), [("sv", "ta bort allt ni har om mig"), ("en", "please remove all my data"),
                                            ("sv", "radera allt om mig")])  # fmt: skip
def test_asking_to_delete_everything_in_words_asks_the_delete_confirmation(testbot: TestBot, lang: str,
                                                                           said: str) -> None:  # fmt: skip
    testbot.onboard(lang)
    testbot.book_first_slot()
    testbot.send(said)
    assert "delete:yes" in {c.data for c in testbot.choices}, testbot.text
    testbot.press_data("delete:yes")
    assert testbot.store.load_state(testbot.conversation) is None and upcoming(testbot) == []


@pytest.mark.parametrize(("lang", "said"), [("sv", "😡😡😭🙏"), ("sv", "din jävla skitbot du fattar ingenting"),
                                            ("sv", "???"), ("en", "you stupid useless bot")])  # fmt: skip
def test_distress_emoji_and_insults_get_a_kind_line_and_a_person(knowledge: Knowledge, testbot: TestBot, lang: str,
                                                                 said: str) -> None:  # fmt: skip
    testbot.onboard(lang)
    testbot.send(said)
    assert knowledge.content.text("frustrated", lang) in testbot.text, testbot.text
    assert "topic:contact" in {c.data for c in testbot.choices}
    assert knowledge.content.text("fallback", lang, region="Sundsvall").split(".")[0] not in testbot.text


def test_an_insult_with_a_question_gets_the_answer(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.send("din dumma bot, hur får jag lönebidrag?")
    assert state(testbot).last_topic == "wage-subsidy", testbot.text


def test_a_sticker_described_in_english_in_a_swedish_chat_is_answered_in_swedish(testbot: TestBot) -> None:
    testbot.onboard("sv")
    testbot.send("[Sticker: 🐻 thumbs up]")
    assert {r.lang for r in testbot.replies} == {"sv"} and state(testbot).lang == "sv", testbot.text


def test_a_long_paste_ending_in_a_question_answers_that_question(knowledge: Knowledge, testbot: TestBot) -> None:
    testbot.onboard()
    story = "Jag har varit sjukskriven länge och jobbat på lager innan dess. " * 100
    testbot.send(story + "Min fråga är: kan jag få lönebidrag på ett socialt företag?")
    assert knowledge.content.text("too_long_end", "sv") in testbot.text
    assert state(testbot).last_topic == "wage-subsidy", testbot.text


def test_a_long_paste_without_a_clear_question_at_the_end_asks_to_re_ask_briefly(knowledge: Knowledge,
                                                                                 testbot: TestBot) -> None:  # fmt: skip
    testbot.onboard()
    testbot.send("Jag har varit sjukskriven länge och jobbat på lager innan dess. " * 100)
    assert knowledge.content.text("ask_again_briefly", "sv") in testbot.text, testbot.text


# --- 9. cancelling or moving asked in another of our languages runs in it -----------------------------------------


def test_cancelling_asked_in_ukrainian_in_an_english_chat_runs_in_ukrainian(knowledge: Knowledge,
                                                                            testbot: TestBot) -> None:  # fmt: skip
    testbot.onboard("en")
    testbot.book_first_slot()
    testbot.send("я хочу скасувати зустріч")
    assert state(testbot).flow == "cancel.confirm" and state(testbot).lang == "uk", testbot.text
    assert testbot.replies[-1].lang == "uk" and "lang:en" in {c.data for c in testbot.choices}
    testbot.send("так")
    assert upcoming(testbot) == [] and testbot.replies[-1].lang == "uk"


def test_moving_asked_in_swedish_in_an_english_chat_runs_in_swedish(testbot: TestBot) -> None:
    testbot.onboard("en")
    testbot.book_first_slot()
    testbot.send("jag vill flytta mitt möte till onsdag")
    assert state(testbot).flow == "move.slot" and state(testbot).lang == "sv", testbot.text
    assert all(c.label.startswith("ons 25 nov.") for c in testbot.slot_choices()), testbot.text


def test_one_word_cancelling_in_another_language_offers_it_and_runs_in_the_chats(testbot: TestBot) -> None:
    testbot.onboard("en")
    testbot.book_first_slot()
    testbot.send("відмінити")  # one Cyrillic word: offered, never switched by itself
    assert state(testbot).flow == "cancel.confirm" and state(testbot).lang == "en", testbot.text
    assert "lang:uk" in {c.data for c in testbot.choices}
