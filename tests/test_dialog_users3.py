"""The outside user tester's round-3 dialog findings (30 Nov, /work/notes/tester-users3.md), each as a transcript
that failed before its fix.

The clock starts on Monday 23 Nov 2026, 10:00 Swedish time (tests/transcript.py START); nothing here reads the real
date or time of day.
"""

from __future__ import annotations

import pytest

from tests.test_dialog_users import state, upcoming
from tests.test_dialog_users2 import to_confirm
from tests.transcript import TestBot

# --- U2-a: a language named as something to learn is no switch ---------------------------------------------------


@pytest.mark.parametrize(("chat", "said"), [("en", "i want to learn swedish"), ("en", "I am studying Swedish"),
                                            ("sv", "jag vill lära mig engelska"), ("sv", "jag pluggar svenska"),
                                            ("uk", "я хочу вивчати шведську")])  # fmt: skip
def test_a_language_to_learn_is_no_switch(testbot: TestBot, chat: str, said: str) -> None:
    testbot.onboard(chat)
    testbot.send(said)
    assert state(testbot).lang == chat, testbot.text


def test_a_language_to_learn_mid_booking_is_no_switch_and_the_booking_goes_on(testbot: TestBot) -> None:
    testbot.onboard("en")
    testbot.send("/book")
    testbot.send("i want to learn swedish")
    assert state(testbot).lang == "en", testbot.text
    assert state(testbot).flow == "booking.slot", testbot.text


@pytest.mark.parametrize(("chat", "said", "wished"), [("en", "write in Swedish", "sv"), ("sv", "på svenska tack", "sv"),
                                                      ("en", "på svenska tack", "sv"),
                                                      ("sv", "byt till engelska", "en")])  # fmt: skip
def test_asking_to_write_in_a_language_still_switches(testbot: TestBot, chat: str, said: str, wished: str) -> None:
    testbot.onboard(chat)
    testbot.send(said)
    assert state(testbot).lang == wished, testbot.text


# --- U5-a: a time chosen by its place in the list ----------------------------------------------------------------


@pytest.mark.parametrize(("lang", "said", "place"), [("sv", "den forsta", 0), ("sv", "ja tack den forsta", 0),
                                                     ("sv", "den första tiden", 0), ("sv", "den andra", 1),
                                                     ("sv", "tredje", 2), ("sv", "den sista", -1),
                                                     ("en", "the first one", 0), ("en", "the second one please", 1),
                                                     ("en", "the last one", -1),
                                                     ("uk", "перший", 0)])  # fmt: skip
def test_a_time_chosen_by_its_place_in_the_list_picks_that_button(testbot: TestBot, lang: str, said: str,
                                                                  place: int) -> None:  # fmt: skip
    testbot.onboard(lang)
    testbot.send("/book")
    shown = [c.data for c in testbot.slot_choices()]
    assert len(shown) >= 3, testbot.text
    testbot.send(said)
    assert state(testbot).data.get("slot") == shown[place].removeprefix("slot:"), testbot.text
    assert state(testbot).flow == "booking.name", testbot.text


@pytest.mark.parametrize("said", ["har ni andra tider", "första december"])
def test_a_place_word_in_a_longer_wish_is_no_choice(testbot: TestBot, said: str) -> None:
    testbot.onboard("sv")
    testbot.send("/book")
    testbot.send(said)
    assert state(testbot).flow == "booking.slot" and "slot" not in state(testbot).data, testbot.text


# --- U1-a: a day or time wished with a meeting booked moves it, without the word "flytta" ------------------------


def book(bot: TestBot) -> str:
    slot = to_confirm(bot)
    bot.press_data("confirm")
    assert upcoming(bot) == [slot.removeprefix("slot:")], bot.text
    return slot


WEDNESDAY_AFTERNOON = ("slot:20261125T1200Z", "slot:20261125T1245Z", "slot:20261125T1330Z")  # 13:00-14:30 Swedish


@pytest.mark.parametrize(("lang", "said"), [("sv", "kan vi ta onsdag efter lunch istallet"),
                                            ("en", "can we do wednesday afternoon instead?")])  # fmt: skip
@pytest.mark.parametrize("where", ["right after booking", "at mybookings"])
def test_a_day_wished_beside_a_booked_meeting_offers_to_move_it_there(testbot: TestBot, lang: str, said: str,
                                                                      where: str) -> None:  # fmt: skip
    testbot.onboard(lang)
    booked = book(testbot)
    if where == "at mybookings":
        testbot.send("tack")
        testbot.send("/mybookings")
    testbot.send(said)
    shown = [c.data for c in testbot.slot_choices()]
    assert state(testbot).flow == "move.slot" and shown, testbot.text
    assert all(s in WEDNESDAY_AFTERNOON for s in shown), testbot.text
    testbot.press_data(shown[0])
    testbot.press_data("confirm")
    moved = [b.slot for b in testbot.store.upcoming(testbot.clock())]
    assert moved == [shown[0].removeprefix("slot:")] and booked not in moved, testbot.text
