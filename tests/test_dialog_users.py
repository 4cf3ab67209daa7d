"""The outside user tester's open findings (30 Nov), each as a transcript that failed before its fix.

The clock starts on Monday 23 Nov 2026, 10:00 Swedish time (tests/transcript.py START); both regions meet
Mon-Thu at 09:00, 09:45, 10:30, 11:15, 13:00, 13:45 and 14:30, from 24 hours ahead, never on a Friday: the first
free time is Tuesday 24 Nov 10:30. Nothing here reads the real date or time of day.
"""

from __future__ import annotations

import pytest

from bot.dialog.model import State
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
    testbot.send(yes)  # a yes before saying which cancels nothing
    assert len(upcoming(testbot)) == 2
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
