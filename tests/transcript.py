"""A test driver that makes dialog tests read like transcripts (after errbot's `testbot`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.channels.terminal import parse_input
from bot.dialog.model import ButtonPress, Capabilities, Choice, Event, Reply, Unsupported
from bot.engine import Engine, Notification
from bot.knowledge import Knowledge
from bot.storage import Store, open_store

# A Monday morning in Swedish winter time, far enough from holidays and the DST change.
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class RecordingNotifier:
    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def notify(self, notification: Notification) -> None:
        self.sent.append(notification)


class TestBot:
    """One conversation (or several, by `conversation=`) against a real engine and store (SQLite, or PostgreSQL by `url`)."""

    __test__ = False  # not a test class for pytest

    def __init__(
        self, knowledge: Knowledge, state_dir: Path, clock: Clock, conversation: str = "test:1",
        capabilities: Capabilities | None = None, url: str | None = None,  # PostgreSQL, or None: SQLite
    ) -> None:
        self.knowledge = knowledge
        self.capabilities = capabilities  # None: the engine's default for a test channel (Telegram's)
        self.state_dir = state_dir
        self.clock = clock
        self.conversation = conversation
        self.url = url
        self.notifier = RecordingNotifier()
        self.replies: list[Reply] = []
        self._start()

    def _start(self) -> None:
        self.store: Store = open_store(self.state_dir, self.url)
        self.engine = Engine(
            self.knowledge, self.store, channel="test", notifier=self.notifier, clock=self.clock,
            capabilities=self.capabilities,
        )

    def restart(self) -> None:
        """Close everything and start again from the database, as after a crash or deploy."""
        self.store.close()
        self._start()

    def close(self) -> None:
        self.store.close()

    # --- talking -----------------------------------------------------------------------------

    def handle(self, event: Event, conversation: str | None = None) -> list[Reply]:
        self.replies = self.engine.handle(conversation or self.conversation, event)
        assert self.replies, f"no reply to {event!r}"
        return self.replies

    def send(self, text: str, conversation: str | None = None) -> list[Reply]:
        """What a person types: a command, or text (numbers are *not* taken as buttons here)."""
        event = parse_input(text, ())
        return self.handle(event, conversation)

    def press(self, label: str, conversation: str | None = None) -> list[Reply]:
        """Press the button whose label contains `label` (case-insensitive) among the last replies."""
        choice = self.choice(label)
        return self.handle(ButtonPress(choice.data), conversation)

    def press_data(self, data: str, conversation: str | None = None) -> list[Reply]:
        return self.handle(ButtonPress(data), conversation)

    def sticker(self) -> list[Reply]:
        return self.handle(Unsupported("sticker"))

    # --- looking -----------------------------------------------------------------------------

    @property
    def text(self) -> str:
        return "\n\n".join(r.text for r in self.replies)

    @property
    def choices(self) -> list[Choice]:
        return [c for r in self.replies for c in r.choices]

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self.choices]

    def choice(self, label: str) -> Choice:
        for choice in self.choices:
            if label.casefold() in choice.label.casefold():
                return choice
        raise AssertionError(f"no button like {label!r}; buttons are {self.labels}")

    def slot_choices(self) -> list[Choice]:
        return [c for c in self.choices if c.data.startswith("slot:")]

    def onboard(self, lang: str = "sv", region: str = "sundsvall", conversation: str | None = None) -> None:
        self.send("/start", conversation)
        self.press_data(f"lang:{lang}", conversation)
        self.press_data(f"region:{region}", conversation)

    def to_confirm(self, name: str | None = None, phone: str | None = None, slot: str | None = None,
                   conversation: str | None = None) -> str:  # fmt: skip
        """Walk the booking flow up to "Stämmer det här?"; returns the chosen slot's button data."""
        self.send("/book", conversation)
        slot = slot or self.slot_choices()[0].data
        self.press_data(slot, conversation)
        if name:
            self.send(name, conversation)
        else:
            self.press_data("skip", conversation)
        if phone:
            if "reach:phone" in {c.data for c in self.choices}:  # channels that cannot push ask at once
                self.press_data("reach:phone", conversation)
            self.send(phone, conversation)
        else:
            self.press_data("reach:chat", conversation)
        assert "Stämmer det här?" in self.text or "Is this right?" in self.text, self.text
        return slot

    def book_first_slot(self, name: str | None = "Anna", phone: str | None = None,
                        conversation: str | None = None) -> str:  # fmt: skip
        """Walk the whole booking flow; returns the booked slot's button data."""
        slot = self.to_confirm(name, phone, conversation=conversation)
        self.press_data("confirm", conversation)
        return slot


def all_text(replies: Iterable[Reply]) -> str:
    return "\n\n".join(r.text for r in replies)
