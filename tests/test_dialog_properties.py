"""Property-based tests of the dialog through the real engine and store (hypothesis stateful testing).

Random sequences of messages, valid, stale and forged button presses, commands, restarts and clock jumps
across several conversations. After every step: every event got a reply, every state loads, no slot is
booked twice, no booking is lost or visible to another conversation, and /delete leaves nothing.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from bot.dialog.model import ButtonPress, Choice, CommandMessage, TextMessage, Unsupported
from bot.knowledge import Knowledge
from tests.conftest import CONTENT, shared_cache
from tests.transcript import Clock, TestBot


@functools.cache
def knowledge() -> Knowledge:
    """Loaded at the first example, from the run's matcher cache. Not at import: a load while collecting (no
    cache yet) was kept in memory, so conftest's `matcher_cache` found it there, wrote no cache files, and every
    `socialbot` process the tests start trained the matcher again (a minute each on a loaded machine)."""
    return Knowledge.load(CONTENT, cache_dir=shared_cache())

CONVERSATIONS = st.sampled_from(["p:1", "p:2", "p:3"])
TEXTS = st.one_of(
    st.sampled_from(["vad är lönebidrag", "jag vill boka ett möte", "hej", "avbryt", "Anna", "070-123 45 67",
                     "ja", "nej", "how do I start", "12345", "sundsvall", "", "🙂", "vad blir vädret"]),
    st.text(max_size=60),
)  # fmt: skip
FORGED = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["confirm", "yes", "delete:yes", "skip", "reach:chat", "book:later", "cancel", "menu:nope"]),
    st.builds(lambda p, s: p + s, st.sampled_from(["slot:", "cancelbooking:", "move:", "topic:", "lang:", "region:"]),
              st.text(max_size=20)),
)  # fmt: skip
COMMANDS = st.sampled_from(["start", "menu", "book", "mybookings", "region", "language", "privacy", "help",
                            "delete", "cancel", "nonsense"])  # fmt: skip


class DialogMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="socialbot-prop-"))
        self.clock = Clock()
        self.bot = TestBot(knowledge(), self.directory, self.clock)
        self.choices: dict[str, list[Choice]] = {}
        self.deleted: set[str] = set()
        self.expected: dict[
            str, tuple[str, str]
        ] = {}  # booking id -> (slot, conversation), from notifications
        self.seen_notifications = 0

    def teardown(self) -> None:
        self.bot.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _handle(self, conversation: str, event: object) -> None:
        replies = self.bot.handle(event, conversation)  # asserts at least one reply
        assert all(reply.text.strip() for reply in replies), f"an empty reply to {event!r}"
        for notification in self.bot.notifier.sent[self.seen_notifications :]:
            booking = notification.booking
            if notification.kind == "cancelled":
                self.expected.pop(booking.id, None)
            else:
                self.expected[booking.id] = (booking.slot, booking.conversation)
        self.seen_notifications = len(self.bot.notifier.sent)
        offered = [c for r in replies for c in r.choices]
        if offered:
            self.choices[conversation] = offered
        if self.bot.store.load_state(conversation) is None:  # only /delete leaves no state behind
            self.deleted.add(conversation)
            # Past meetings go without a cancellation notice; everything of this conversation is gone.
            self.expected = {k: v for k, v in self.expected.items() if v[1] != conversation}
        else:
            self.deleted.discard(conversation)

    @rule(conversation=CONVERSATIONS, text=TEXTS)
    def send_text(self, conversation: str, text: str) -> None:
        self._handle(conversation, TextMessage(text))

    @rule(conversation=CONVERSATIONS, data=st.data())
    def press_offered(self, conversation: str, data: st.DataObject) -> None:
        offered = self.choices.get(conversation)
        if not offered:
            return
        choice = data.draw(st.sampled_from(offered))
        self._handle(conversation, ButtonPress(choice.data))

    @rule(conversation=CONVERSATIONS, other=CONVERSATIONS, data=st.data())
    def press_someone_elses(self, conversation: str, other: str, data: st.DataObject) -> None:
        offered = self.choices.get(other)
        if offered:
            self._handle(conversation, ButtonPress(data.draw(st.sampled_from(offered)).data))

    @rule(conversation=CONVERSATIONS, forged=FORGED)
    def press_forged(self, conversation: str, forged: str) -> None:
        self._handle(conversation, ButtonPress(forged))

    @rule(
        conversation=CONVERSATIONS,
        name=COMMANDS,
        argument=st.sampled_from(["", "sundsvall", "vastervik", "x"]),
    )
    def command(self, conversation: str, name: str, argument: str) -> None:
        self._handle(conversation, CommandMessage(name, argument))

    @rule(conversation=CONVERSATIONS, kind=st.sampled_from(["sticker", "voice", "photo", "edited"]))
    def unsupported(self, conversation: str, kind: str) -> None:
        self._handle(conversation, Unsupported(kind))

    @rule(conversation=CONVERSATIONS)
    def book_the_first_free_slot(self, conversation: str) -> None:
        self._handle(conversation, CommandMessage("start", "sundsvall"))
        self._handle(conversation, ButtonPress("lang:sv"))
        self._handle(conversation, CommandMessage("book"))
        slots = [c for c in self.choices.get(conversation, []) if c.data.startswith("slot:")]
        if slots:
            for data in (slots[0].data, "skip", "reach:chat", "confirm"):
                self._handle(conversation, ButtonPress(data))

    @rule(conversation=CONVERSATIONS)
    def delete_everything(self, conversation: str) -> None:
        self._handle(conversation, CommandMessage("delete"))
        self._handle(conversation, ButtonPress("delete:yes"))
        assert conversation in self.deleted
        db = self.bot.store.db
        for table in ("conversations", "bookings"):
            column = "key" if table == "conversations" else "conversation"
            left = db.execute(f"SELECT count(*) FROM {table} WHERE {column} = ?", [conversation]).fetchone()[
                0
            ]
            assert left == 0, f"/delete left {left} row(s) in {table}"

    @rule()
    def restart(self) -> None:
        self.bot.restart()

    @rule(minutes=st.integers(min_value=1, max_value=3 * 24 * 60))
    def clock_jump(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

    # --- invariants ------------------------------------------------------------------------------

    @invariant()
    def states_load(self) -> None:
        for conversation in ("p:1", "p:2", "p:3"):
            state = self.bot.store.load_state(conversation)
            if conversation in self.deleted:
                assert state is None
            assert state is None or isinstance(state.flow, str)

    @invariant()
    def no_slot_is_booked_twice(self) -> None:
        doubles = self.bot.store.db.execute(
            "SELECT region, slot, count(*) FROM bookings WHERE status = 'booked' GROUP BY region, slot HAVING count(*) > 1"
        ).fetchall()
        assert not doubles

    @invariant()
    def no_booking_is_lost(self) -> None:
        rows = self.bot.store.db.execute(
            "SELECT id, slot, conversation FROM bookings WHERE status = 'booked'"
        )
        assert {row[0]: (row[1], row[2]) for row in rows.fetchall()} == self.expected

    @invariant()
    def bookings_are_only_offered_to_their_owner(self) -> None:
        owners = dict(self.bot.store.db.execute("SELECT id, conversation FROM bookings").fetchall())
        for conversation, offered in self.choices.items():
            for choice in offered:
                kind, _, value = choice.data.partition(":")
                if kind in ("cancelbooking", "move") and value in owners:
                    assert owners[value] == conversation


TestDialogProperties = DialogMachine.TestCase
TestDialogProperties.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None, suppress_health_check=list(HealthCheck)
)
