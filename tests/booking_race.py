"""The booking race both multi-worker tests drive (tests/test_workers.py over the engine, tests/test_web_workers.py
over HTTP): a person always picks the first free time, which everyone else wants too, and double-clicks the
confirmation so that it reaches both workers at the same moment, until one confirmation wins."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

ASKS_TO_CONFIRM = "Stämmer det här?"
BOOKED = "Klart!"
TAKEN = "hann någon annan boka"


@dataclass(frozen=True)
class Answer:
    text: str  # every reply's text, one per line
    buttons: list[str]  # every button's data


def book_the_first_free_time(
    answer: Answer, *, press: Callable[[str], Answer], say: Callable[[str], Answer],
    confirm_on: Callable[[int], Answer], phone: str, steps: int, who: str,
) -> None:  # fmt: skip
    """From `answer` (one offering times), until a booking is confirmed. `confirm_on(0)` and `confirm_on(1)`
    press "confirm" on the first and the second worker; they are called at once."""
    for _step in range(steps):
        slots = [b for b in answer.buttons if b.startswith("slot:")]
        if ASKS_TO_CONFIRM in answer.text:
            with ThreadPoolExecutor(2) as both:
                answers = list(both.map(confirm_on, (0, 1)))
            done = [a for a in answers if BOOKED in a.text]
            assert len(done) <= 1, "one confirmation, one booking"
            if done:
                return
            lost = [a for a in answers if TAKEN in a.text]
            assert lost, [a.text for a in answers]
            answer = lost[0]
        elif slots:
            answer = press(slots[0])
        elif "förnamn" in answer.text:
            answer = say("Anna")
        elif "telefonnummer" in answer.text:
            answer = say(phone)
        elif "reach:chat" in answer.buttons:
            answer = press("reach:chat")
        else:
            raise AssertionError(f"{who}: unexpected {answer.text!r} {answer.buttons}")
    raise AssertionError(f"{who} never got a time")
