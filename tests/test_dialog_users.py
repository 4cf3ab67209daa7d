"""The outside user tester's open findings (30 Nov), each as a transcript that failed before its fix.

The clock starts on Monday 23 Nov 2026, 10:00 Swedish time (tests/transcript.py START); both regions meet
Mon-Thu at 09:00, 09:45, 10:30, 11:15, 13:00, 13:45 and 14:30, from 24 hours ahead, never on a Friday: the first
free time is Tuesday 24 Nov 10:30. Nothing here reads the real date or time of day.
"""

from __future__ import annotations

import pytest

from bot.dialog.model import State
from bot.knowledge import Knowledge
from tests.transcript import TestBot


def state(bot: TestBot) -> State:
    found = bot.store.load_state(bot.conversation)
    assert found is not None
    return found


def upcoming(bot: TestBot) -> list[str]:
    return [b.slot for b in bot.store.upcoming(bot.clock())]


# --- 1. cancelling in words at /mybookings, as the buttons do ---------------------------------------------------


@pytest.mark.parametrize(("lang", "said", "yes"), [("sv", "avboka", "ja"), ("sv", "jag vill avboka", "ja"),
                                                   ("en", "cancel it", "yes"), ("uk", "скасувати", "так"),
                                                   ("ar", "إلغاء", "نعم")])  # fmt: skip
def test_cancelling_the_only_booking_in_words_then_yes_cancels_it(testbot: TestBot, lang: str, said: str,
                                                                  yes: str) -> None:  # fmt: skip
    testbot.onboard()
    testbot.book_first_slot()
    testbot.press_data(f"lang:{lang}")
    testbot.send("/mybookings")
    testbot.send(said)
    assert state(testbot).flow == "cancel.confirm", testbot.text
    testbot.send(yes)
    assert upcoming(testbot) == [], testbot.text
    testbot.send("/mybookings")
    assert state(testbot).open == ("book",) or "cancelbooking" not in " ".join(state(testbot).open)


@pytest.mark.parametrize(("lang", "said", "which", "yes"),
                         [("sv", "jag vill avboka", "Vilket möte vill du avboka?", "ja"),
                          ("en", "i want to cancel", "Which meeting do you want to cancel?", "yes"),
                          ("uk", "скасувати", "Яку зустріч ви хочете скасувати?", "так")])  # fmt: skip
def test_cancelling_in_words_with_several_bookings_asks_which_and_confirms(
    testbot: TestBot, lang: str, said: str, which: str, yes: str
) -> None:
    testbot.onboard()
    first = testbot.book_first_slot()
    testbot.book_first_slot()
    testbot.press_data(f"lang:{lang}")
    testbot.send("/mybookings")
    testbot.send(said)
    assert which in testbot.text, testbot.text
    cancels = [c.data for c in testbot.choices if c.data.startswith("cancelbooking:")]
    assert len(cancels) == 2 and not any(c.data.startswith("move:") for c in testbot.choices)
    testbot.send(yes)  # a yes before saying which cancels nothing, and asks again
    assert len(upcoming(testbot)) == 2 and which in testbot.text, testbot.text
    testbot.send(said)
    testbot.press_data(cancels[1])
    testbot.send(yes)
    assert upcoming(testbot) == [first.removeprefix("slot:")], testbot.text


@pytest.mark.parametrize(("said", "yes"), [("avboka mötet 11:15", "ja"), ("cancel the meeting at 11:15", "yes")])
def test_cancelling_in_words_naming_the_time_of_one_of_several_goes_to_that_one(testbot: TestBot, said: str,
                                                                                 yes: str) -> None:  # fmt: skip
    testbot.onboard()
    first, second = testbot.book_first_slot(), testbot.book_first_slot()
    assert second.endswith("T1015Z")  # Tuesday 11:15 Swedish time
    testbot.send(said)
    assert state(testbot).flow == "cancel.confirm" and "11:15" in testbot.text, testbot.text
    testbot.send(yes)
    assert upcoming(testbot) == [first.removeprefix("slot:")]


# --- 2. a wish to meet written as a sentence with a time -----------------------------------------------------


@pytest.mark.parametrize(("said", "thursday"), [("kan vi ses på torsdag efter lunch", "tors 26 nov."),
                                                ("can we meet on Thursday afternoon", "Thu, Nov 26")])  # fmt: skip
def test_a_wish_to_meet_at_a_time_as_the_first_message_books_at_that_time(testbot: TestBot, said: str,
                                                                         thursday: str) -> None:  # fmt: skip
    testbot.send(said)
    assert state(testbot).flow == "choose_region", testbot.text  # asked where first, never a did-you-mean
    testbot.press_data("region:sundsvall")
    times = [c.label for c in testbot.slot_choices()]
    assert times and all(t.startswith(thursday) and t[-5:] >= "13:00" for t in times), testbot.text


@pytest.mark.parametrize(("lang", "said", "day"), [("sv", "kan vi ses pa torsdag", "tors 26 nov."),
                                                   ("sv", "kan vi ses på torsdag efter lunch", "tors 26 nov."),
                                                   ("sv", "jag vill prata med någon på torsdag", "tors 26 nov."),
                                                   ("sv", "kan jag få en tid på onsdag förmiddag", "ons 25 nov."),
                                                   ("en", "can we meet on thursday", "Thu, Nov 26"),
                                                   ("en", "can I come by on tuesday morning", "Tue, Nov 24")])  # fmt: skip
def test_a_wish_to_meet_naming_a_day_offers_that_days_times(testbot: TestBot, lang: str, said: str,
                                                            day: str) -> None:  # fmt: skip
    testbot.onboard(lang)
    testbot.send(said)
    times = [c.label for c in testbot.slot_choices()]
    assert state(testbot).flow == "booking.slot" and times, testbot.text
    assert all(t.startswith(day) for t in times), testbot.text


@pytest.mark.parametrize(("lang", "said", "honest"), [("sv", "kan vi ses på fredag", "inga lediga tider på fredag"),
                                                      ("en", "can we meet on friday", "no free times on Friday")])  # fmt: skip
def test_a_wish_to_meet_on_a_day_without_times_says_so_and_offers_the_nearest(testbot: TestBot, lang: str,
                                                                              said: str, honest: str) -> None:  # fmt: skip
    testbot.onboard(lang)
    testbot.send(said)
    assert honest in testbot.text and testbot.slot_choices(), testbot.text


@pytest.mark.parametrize(("said", "slot"), [("can we meet on thursday at 13", "20261126T1200Z"),
                                           ("I'd like an appointment next monday at 13", "20261130T1200Z"),
                                           ("kan vi ses tisdag kl 13", "20261124T1200Z")])  # fmt: skip
def test_a_wish_to_meet_with_one_free_time_goes_on_to_the_name(testbot: TestBot, said: str, slot: str) -> None:
    testbot.onboard("sv" if said.startswith("kan") else "en")
    testbot.send(said)
    assert state(testbot).flow == "booking.name" and state(testbot).data.get("slot") == slot, testbot.text


# --- 3. a first question before the region, answered as asked and in its own language ------------------------

TIGRINYA_FIND_WORK = "ሰላም። ኣብ ሱንድስቫል እየ ዝቕመጥ። ስራ ክረክብ ደልየ ኣለኹ።"  # "Hello. I live in Sundsvall. I want to find work."


def test_a_first_question_in_tigrinya_is_answered_with_its_own_topic_once_the_region_is_chosen(
    testbot: TestBot,
) -> None:
    testbot.send(TIGRINYA_FIND_WORK)
    assert state(testbot).flow == "choose_region", testbot.text
    testbot.press_data("region:sundsvall")
    assert state(testbot).last_topic == "find-work", testbot.text
    assert testbot.replies[-1].lang == "ti"


@pytest.mark.parametrize(("chat", "asked", "said"), [("sv", "en", "how can I find a job here"),
                                                     ("en", "sv", "hur kan jag hitta ett jobb här")])  # fmt: skip
def test_a_question_in_another_language_before_the_region_is_answered_in_that_language(
    testbot: TestBot, chat: str, asked: str, said: str
) -> None:
    testbot.send("/start")
    testbot.press_data(f"lang:{chat}")
    testbot.send(said)
    testbot.press_data("region:vastervik")
    assert state(testbot).last_topic == "find-work", testbot.text
    assert testbot.replies[-1].lang == asked, testbot.text
    assert f"lang:{asked}" in {c.data for c in testbot.choices}  # the switch is offered with the answer


# --- 4. a flow started in another of our languages runs in that language -------------------------------------


def test_a_booking_started_in_arabic_in_an_english_chat_runs_in_arabic(testbot: TestBot) -> None:
    testbot.onboard("en", "vastervik")
    testbot.send("أريد أن أحجز موعدا يوم الخميس")  # "I want to book a meeting on Thursday"
    assert "lang:en" in {c.data for c in testbot.choices}, testbot.text  # the way back, one button
    assert {r.lang for r in testbot.replies} == {"ar"}, testbot.text
    testbot.press_data(testbot.slot_choices()[0].data)
    assert {r.lang for r in testbot.replies} == {"ar"}
    testbot.send("فاطمة")
    testbot.send("+46 73 123 45 67")
    assert state(testbot).flow == "booking.confirm" and {r.lang for r in testbot.replies} == {"ar"}, testbot.text
    testbot.press_data("confirm")
    assert {r.lang for r in testbot.replies} == {"ar"}


def test_a_booking_started_in_english_in_a_swedish_chat_runs_in_english(testbot: TestBot) -> None:
    testbot.onboard("sv")
    testbot.send("I would like to book a meeting please")
    assert state(testbot).lang == "en" and "lang:sv" in {c.data for c in testbot.choices}, testbot.text
    testbot.press_data(testbot.slot_choices()[0].data)
    assert "What is your first name?" in testbot.text


def test_a_booking_asked_in_two_arabic_words_offers_arabic_and_then_runs_in_it(testbot: TestBot) -> None:
    testbot.onboard("en", "vastervik")
    testbot.send("أريد موعد")  # two words in a script Persian shares: not sure enough to switch by itself
    assert "lang:ar" in {c.data for c in testbot.choices}, testbot.text
    testbot.press_data("lang:ar")
    assert state(testbot).flow == "booking.slot" and testbot.replies[-1].lang == "ar", testbot.text
    testbot.press_data(testbot.slot_choices()[0].data)
    assert testbot.replies[-1].lang == "ar"


# --- 5. a button's label typed as text is that button, in every content language ------------------------------

LANGS = ("sv", "en", "sv-x-easy", "ar", "fa", "so", "ti", "uk")


@pytest.mark.parametrize("lang", LANGS)
def test_typed_menu_and_step_labels_work_as_the_buttons(knowledge: Knowledge, testbot: TestBot, lang: str) -> None:
    content = knowledge.content

    def label(key: str) -> str:  # the content's own words, as the buttons show them
        return content.text(key, lang)

    testbot.onboard(lang)
    testbot.send(label("button_menu"))
    testbot.send(label("menu_jobseeker"))
    assert "topic:find-work" in {c.data for c in testbot.choices}, testbot.text
    testbot.send("/book")
    testbot.send(testbot.slot_choices()[1].label)  # the second time, as its button says it
    assert state(testbot).flow == "booking.name" and state(testbot).data.get("slot") == "20261124T1015Z"
    testbot.send(label("button_skip"))
    assert state(testbot).flow == "booking.contact" and state(testbot).data.get("name") is None, testbot.text
    testbot.send(label("button_back"))
    assert state(testbot).flow == "booking.name", testbot.text
    testbot.send(label("button_skip"))
    testbot.send(label("button_contact_chat"))
    assert state(testbot).flow == "booking.confirm", testbot.text
    testbot.send(label("button_change"))
    assert "fix:time" in {c.data for c in testbot.choices}, testbot.text
    testbot.send(label("button_change_time"))
    assert state(testbot).flow == "booking.slot", testbot.text
    testbot.send(label("button_cancel"))
    assert state(testbot).flow == "idle" and testbot.store.upcoming(testbot.clock()) == []
    assert content.text("cancelled_booking", lang) in testbot.text


@pytest.mark.parametrize("lang", LANGS)
def test_a_typed_region_name_as_its_button_says_it_chooses_the_region(knowledge: Knowledge, testbot: TestBot,
                                                                      lang: str) -> None:  # fmt: skip
    testbot.send("/start")
    testbot.press_data(f"lang:{lang}")
    shown = knowledge.content.regions["vastervik"].name[lang]  # "Вестервік (Västervik)", "Västervik"
    testbot.send(shown.split(" (")[0])
    assert state(testbot).region == "vastervik", testbot.text


def test_a_label_typed_in_another_of_our_languages_works_too(testbot: TestBot) -> None:
    testbot.onboard("sv")
    testbot.to_confirm(name="Anna", phone="070 123 45 67")
    testbot.send("Change")  # the English label of "Ändra"
    assert "fix:time" in {c.data for c in testbot.choices}, testbot.text
    testbot.send("Avbryt")
    assert state(testbot).flow == "idle" and "Inget är bokat" in testbot.text


@pytest.mark.parametrize(("lang", "word"), [("sv", "fortsätt"), ("sv", "Avbryt"), ("en", "Menu"), ("uk", "Продовжити"),
                                           ("ar", "متابعة")])  # fmt: skip
def test_a_buttons_word_at_the_name_step_is_never_kept_as_the_name(testbot: TestBot, lang: str, word: str) -> None:
    testbot.onboard(lang)
    testbot.send("/book")
    testbot.press_data(testbot.slot_choices()[0].data)
    testbot.send(word)
    assert "name" not in state(testbot).data, testbot.text


# --- 6. from closing.md: corrections, days without times, early names, the region first ----------------------


@pytest.mark.parametrize(("lang", "said", "honest"),
                         [("sv", "nej vänta, kan vi ta fredag istället", "inga lediga tider på fredag"),
                          ("en", "no wait, can we do friday instead", "no free times on Friday")])  # fmt: skip
def test_a_new_day_at_the_confirmation_changes_the_time_without_pressing_change(testbot: TestBot, lang: str,
                                                                                said: str, honest: str) -> None:  # fmt: skip
    testbot.onboard(lang)
    testbot.to_confirm(name="Anna", phone="070 123 45 67")
    testbot.send(said)
    assert honest in testbot.text and state(testbot).flow == "booking.slot", testbot.text
    testbot.press_data(testbot.slot_choices()[0].data)
    assert state(testbot).flow == "booking.confirm" and "Anna" in testbot.text  # the rest was kept


@pytest.mark.parametrize(("lang", "name", "kept"), [("sv", "Lars Nilsson", "först behöver vi en tid"),
                                                    ("en", "my name is Lars", "first we need a time"),
                                                    ("en", "Lars", "first we need a time"),
                                                    ("ar", "فاطمة", None)])  # fmt: skip
def test_a_name_typed_at_the_times_is_kept_never_the_fallback(knowledge: Knowledge, testbot: TestBot, lang: str,
                                                              name: str, kept: str | None) -> None:  # fmt: skip
    testbot.onboard(lang)
    testbot.send("/book")
    testbot.send(name)
    assert (kept or knowledge.content.text("kept_choose_time_first", lang)) in testbot.text, testbot.text
    assert knowledge.content.text("fallback", lang).split(".")[0] not in testbot.text
    testbot.press_data(testbot.slot_choices()[0].data)
    assert state(testbot).flow == "booking.contact" and state(testbot).data.get("name") in name, testbot.text


@pytest.mark.parametrize(("said", "lang"), [("hur far jag jobb", "sv"), ("how do I find a job", "en"),
                                            ("як знайти роботу", "uk")])  # fmt: skip
def test_a_first_question_that_differs_by_region_asks_the_region_first(knowledge: Knowledge, testbot: TestBot,
                                                                       said: str, lang: str) -> None:  # fmt: skip
    regions = knowledge.content.regions
    testbot.send(said)
    assert state(testbot).flow == "choose_region", testbot.text
    assert not any(r.contact.name in testbot.text for r in regions.values()), testbot.text
    testbot.press_data("region:vastervik")
    assert regions["vastervik"].contact.name in testbot.text and regions["sundsvall"].contact.name not in testbot.text
    assert testbot.replies[-1].lang == lang


def test_the_book_button_under_an_arabic_answer_in_an_english_chat_books_in_arabic(testbot: TestBot) -> None:
    testbot.onboard("en", "vastervik")
    testbot.send("كيف أحصل على عمل في شركة اجتماعية")  # "how do I get work in a social enterprise", answered in Arabic
    assert testbot.replies[-1].lang == "ar", testbot.text
    book = next(c for c in testbot.choices if c.data in ("book", "topic:book-meeting"))
    testbot.press_data(book.data)
    assert state(testbot).lang == "ar" and state(testbot).flow == "booking.slot", testbot.text
    assert {r.lang for r in testbot.replies} == {"ar"}


@pytest.mark.parametrize(("lang", "said"), [("sv", "ok"), ("en", "okay"), ("uk", "добре")])
def test_ok_at_the_times_shows_the_times_again_without_a_contradicting_reply(knowledge: Knowledge, testbot: TestBot,
                                                                             lang: str, said: str) -> None:  # fmt: skip
    testbot.onboard(lang)
    testbot.send("/book")
    testbot.send(said)
    assert knowledge.content.text("ok", lang) not in testbot.text, testbot.text
    assert state(testbot).flow == "booking.slot" and testbot.slot_choices()
