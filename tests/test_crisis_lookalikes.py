"""The outside user tester's crisis findings (30 Nov): look-alikes that got only the crisis answer, a missed
"children unsafe at home", and a crisis message that also asks something answerable. Transcripts."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.dialog.model import WEB
from bot.knowledge import Knowledge
from tests.transcript import Clock, TestBot

CRISIS_NUMBER = "90101"


@pytest.mark.parametrize(("lang", "said"), [
    ("sv", "vill inte jobba mer i lagret"),
    ("sv", "min chef slog rekord igen"),
    ("en", "i dont want to work in the warehouse anymore"),
])  # fmt: skip
def test_work_sentences_that_look_like_a_crisis_get_no_crisis_answer(testbot: TestBot, lang: str, said: str) -> None:
    testbot.onboard(lang)
    testbot.send(said)
    assert CRISIS_NUMBER not in testbot.text, testbot.text


@pytest.mark.parametrize(("lang", "said"), [
    ("sv", "jag vill inte leva på försörjningsstöd, kan jag få ett jobb i ett socialt företag?"),
    ("en", "i dont want to live on welfare, how do i find a job at a social enterprise?"),
])  # fmt: skip
def test_a_crisis_signal_with_an_answerable_question_gets_the_numbers_and_the_answer(
    testbot: TestBot, lang: str, said: str
) -> None:
    testbot.onboard(lang)
    testbot.send(said)
    assert CRISIS_NUMBER in testbot.replies[0].text  # the numbers first, never dropped
    answer = "\n\n".join(r.text for r in testbot.replies[1:])
    assert answer and CRISIS_NUMBER not in answer, testbot.text
    assert "Det vet jag tyvärr inte" not in answer and "Sorry" not in answer


@pytest.mark.parametrize("said", ["jag vill inte leva längre", "orkar inte mer", "i dont want to live anymore"])
def test_a_crisis_alone_gets_only_the_crisis_answer(testbot: TestBot, said: str) -> None:
    testbot.onboard()
    testbot.send(said)
    assert CRISIS_NUMBER in testbot.text
    assert len(testbot.replies) == 1, testbot.text


@pytest.mark.parametrize("said", ["barnen är inte trygga hemma hos oss", "my kids are not safe at home"])
def test_children_unsafe_at_home_gets_the_crisis_answer(testbot: TestBot, said: str) -> None:
    testbot.onboard()
    testbot.send(said)
    assert CRISIS_NUMBER in testbot.text and "020-50 50 50" in testbot.text


# --- a button typed instead of pressed after the crisis answer -----------------------------------------------


def test_the_continue_buttons_word_typed_after_a_crisis_mid_booking_is_the_button_not_a_name(
    testbot: TestBot,
) -> None:
    testbot.onboard()
    testbot.send("/book")
    testbot.press_data(testbot.slot_choices()[0].data)
    testbot.send("jag vill inte leva längre")
    assert CRISIS_NUMBER in testbot.text
    testbot.send("Fortsätt")  # the label of the button under the crisis answer, typed
    found = testbot.store.load_state(testbot.conversation)
    assert found is not None and found.flow == "booking.name" and found.data.get("name") is None, testbot.text
    testbot.send("Karin")
    found = testbot.store.load_state(testbot.conversation)
    assert found is not None and found.data.get("name") == "Karin"


def test_on_the_web_one_after_a_first_message_crisis_is_talk_to_a_person_not_the_welcome(
    knowledge: Knowledge, tmp_path: Path, clock: Clock
) -> None:
    bot = TestBot(knowledge, tmp_path / "state", clock, capabilities=WEB)
    try:
        bot.send("vill inte leva längre")
        assert CRISIS_NUMBER in bot.text and bot.choices[0].data == "topic:contact"
        bot.send("1")
        assert "Magnus Riklander" in bot.text and "Elisabeth Johansson" in bot.text, bot.text
        assert "Vilket språk" not in bot.text.split("\n\n")[0]
    finally:
        bot.close()


def test_cancel_the_meeting_during_a_booking_stops_the_booking(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.send("/book")
    testbot.send("avboka mötet")
    assert "redan" not in testbot.text, testbot.text
    found = testbot.store.load_state(testbot.conversation)
    assert found is not None and found.flow == "idle"
