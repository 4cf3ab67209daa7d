"""Hypothesis: random free text, buttons and commands at any step of any flow (issue 10).

After every event: there is an answer; an open booking is never lost silently (it continues, is booked,
or the person is told it stopped); nothing that is not a name is ever stored as a name.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from bot.content.loader import load_content
from bot.dialog import texts
from bot.dialog.booking import NO, SKIP_NAME, STOP, YES
from bot.dialog.model import ButtonPress, CommandMessage, TextMessage
from bot.matching.normalize import fold
from tests.conftest import CONTENT
from tests.test_dialog_properties import knowledge
from tests.transcript import Clock, TestBot

WORDS = st.sampled_from([
    "ja", "nej", "ok", "tack", "👍", "skip", "nej tack", "glöm det", "never mind", "tillbaka", "back", "avbryt",
    "jag heter Anders", "my name is Amina", "Hope", "Åsa", "محمد", "O'Brien", "070 123 45 67", "0900-123 45 67",
    "+358 40 1234567", "mitt nummer är 070-123 45 67", "torsdag efter lunch", "den 3:e kl 13", "next Monday at 10",
    "tidigare", "senare", "vad är lönebidrag?", "lönebidrag", "nej, namnet är fel", "change the time",
    "byt kommun", "jag bor i Västervik", "english please", "på svenska tack", "mina bokningar", "hej",
    "12345", "", "vad blir vädret", "orkar inte mer", "Anna Maria Lind", "fel nummer", "ändra", "meny",
])  # fmt: skip
TEXTS = st.one_of(WORDS, st.text(max_size=40), st.builds(lambda a, b: f"{a} {b}", WORDS, WORDS))
COMMANDS = st.sampled_from(["start", "menu", "book", "mybookings", "region", "language", "privacy", "help",
                            "delete", "cancel", "back", "nonsense"])  # fmt: skip
FORGED = st.sampled_from(["confirm", "change", "fix:name", "fix:time", "skip", "reach:chat", "reach:phone",
                          "book:later", "book:earlier", "region:vastervik", "back", "cancel", "resume",
                          "slot:20261201T0800Z", "delete:yes", "yes", "no"])  # fmt: skip
_CONTENT = load_content(CONTENT)  # the texts only: the matcher is loaded at the first example (knowledge())
NOTICES = [_CONTENT.text(key, lang).split("{")[0] for key in ("cancelled_booking", "cancelled_booking_kept", "idle_reset", "idle_reset_kept")
           for lang in _CONTENT.languages]  # the person may have changed the language  # fmt: skip
NOT_NAMES = frozenset(YES | NO | SKIP_NAME | STOP)


class FlowMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="socialbot-flow-"))
        self.bot = TestBot(knowledge(), self.directory, Clock())

    @initialize(lang=st.sampled_from(["sv", "en"]), into=st.integers(0, 4))
    def start_a_booking(self, lang: str, into: int) -> None:
        self.bot.onboard(lang, "sundsvall")
        self.bot.send("/book")
        steps = [lambda: self.bot.press_data(self.bot.slot_choices()[0].data),
                 lambda: self.bot.send("Anna"), lambda: self.bot.press_data("reach:phone"),
                 lambda: self.bot.send("070-123 45 67")]  # fmt: skip
        for walk in steps[:into]:
            walk()

    def teardown(self) -> None:
        self.bot.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _event(self, event: object) -> None:
        before = self.bot.store.load_state(self.bot.conversation)
        booked_before = len(self.bot.store.upcoming(self.bot.clock()))
        replies = self.bot.handle(event)  # asserts that there is an answer
        assert all(r.text.strip() for r in replies)
        after = self.bot.store.load_state(self.bot.conversation)
        was_booking = before is not None and before.flow.startswith("booking.")
        still_booking = after is not None and after.flow.startswith("booking.")
        if was_booking and not still_booking:
            booked = len(self.bot.store.upcoming(self.bot.clock())) > booked_before
            told = any(notice in self.bot.text for notice in NOTICES)
            no_times = texts.text("no_slots", "sv").split(".")[0] in self.bot.text
            assert booked or told or no_times, f"a booking vanished silently after {event!r}: {self.bot.text}"

    @rule(text=TEXTS)
    def write(self, text: str) -> None:
        self._event(TextMessage(text))

    @rule(index=st.integers(0, 20))
    def press_offered(self, index: int) -> None:
        choices = self.bot.choices
        if choices:
            self._event(ButtonPress(choices[index % len(choices)].data))

    @rule(data=FORGED)
    def press_forged(self, data: str) -> None:
        self._event(ButtonPress(data))

    @rule(name=COMMANDS)
    def command(self, name: str) -> None:
        self._event(CommandMessage(name))

    @invariant()
    def only_names_are_names(self) -> None:
        current = self.bot.store.load_state(self.bot.conversation)
        name = current.data.get("name") if current else None
        for booking in self.bot.store.upcoming(self.bot.clock()):
            assert booking.name is None or _is_a_name(booking.name), booking.name
        assert name is None or _is_a_name(name), name


def _is_a_name(name: str) -> bool:
    folded = fold(name)
    return (
        0 < len(name) <= 40
        and "?" not in name
        and not any(ch.isdigit() for ch in name)
        and folded not in NOT_NAMES
        and not (folded and folded.split()[0] in {"jag", "my", "det", "i"})
    )


FlowMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=20, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)  # fmt: skip
TestFlows = FlowMachine.TestCase
