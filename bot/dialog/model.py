"""The dialog's vocabulary: state, events in, replies and effects out, and the read-only view it gets.

All of it is plain frozen data, so a conversation can be stored as JSON, replayed in tests and compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, TypedDict, cast, get_args

# --- events: what a person did -------------------------------------------------------------------


@dataclass(frozen=True)
class TextMessage:
    text: str


@dataclass(frozen=True)
class ButtonPress:
    data: str  # as the channel received it: untrusted


@dataclass(frozen=True)
class CommandMessage:
    name: str  # without the slash, lower case
    argument: str = ""


@dataclass(frozen=True)
class Unsupported:
    kind: str  # sticker, photo, voice, document, location, edited, ...
    text: str = ""  # an edited message's new text: not read as a question, but checked for a crisis


@dataclass(frozen=True)
class SlotTaken:
    """Fed back by the engine when a booking lost the race for its slot."""

    slot: str


@dataclass(frozen=True)
class LimitReached:
    """Fed back by the engine when a booking would pass a limit (bot/booking/limits.py): the person's upcoming
    bookings ("person"), the person's bookings, cancellations and moves today ("changes") or the region's bookings
    today ("region"). Nothing was booked (or moved)."""

    reason: Literal["person", "changes", "region"]
    limit: int


@dataclass(frozen=True)
class ConfirmLost:
    """Fed back by the engine on the next message after a confirmation that never committed (the process died between
    the press and the booking): nothing was booked, so the times are offered again."""


Event = TextMessage | ButtonPress | CommandMessage | Unsupported | SlotTaken | LimitReached | ConfirmLost

# --- replies: what the bot says ------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    label: str
    data: str  # short (Telegram allows 64 bytes) and checked again when it comes back


# The data of a button that opens a private chat with the bot (offered only where the chat is not private):
# the channel shows it as a link (Telegram: https://t.me/<bot>), or leaves it out if it has none.
OPEN_PRIVATE_CHAT = "private"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str


@dataclass(frozen=True)
class Reply:
    text: str
    choices: tuple[Choice, ...] = ()
    attachment: Attachment | None = None
    lang: str | None = None  # the language the text is written in (a BCP 47 tag), for lang/dir on the web


# --- effects: what must change outside the conversation ------------------------------------------


@dataclass(frozen=True)
class CreateBooking:
    booking_id: str
    region: str
    slot: str  # slot key, UTC
    name: str | None
    phone: str | None  # E.164, or None for "reach me in this chat"
    lang: str


@dataclass(frozen=True)
class CancelBooking:
    booking_id: str


@dataclass(frozen=True)
class MoveBooking:
    booking_id: str
    slot: str


@dataclass(frozen=True)
class DeleteEverything:
    """Forget this conversation: state, settings and bookings (future ones are cancelled first)."""


@dataclass(frozen=True)
class Record:
    """An anonymous statistics event. Carries no text unless `unanswered` (scrubbed before storing)."""

    action: str  # "question", "fallback", "booking", "moved", "cancelled", "deleted", ...
    topic: str | None = None
    band: str | None = None
    unanswered: str | None = None
    lang: str | None = None  # the question's language when it differs from the chat's


Effect = CreateBooking | CancelBooking | MoveBooking | DeleteEverything | Record

# --- the world as the dialog may see it ----------------------------------------------------------


@dataclass(frozen=True)
class BookingInfo:
    booking_id: str
    region: str
    slot: str
    name: str | None
    phone: str | None


@dataclass(frozen=True)
class View:
    """A read-only snapshot the engine loads before each step: the dialog does no I/O of its own."""

    now: datetime
    taken: Mapping[str, frozenset[str]] = field(default_factory=dict)  # region -> slot keys already booked
    my_bookings: tuple[BookingInfo, ...] = ()  # this conversation's upcoming bookings
    # region -> the booking limit a new booking there would pass now (bot/booking/limits.py): read as a booking starts
    limits: Mapping[str, LimitReached] = field(default_factory=dict)


# --- the channel, as far as the dialog must know it ----------------------------------------------


@dataclass(frozen=True)
class Capabilities:
    """What the channel can keep, so that the dialog never promises more.

    The engine sets it from the channel; the dialog reads it (never the channel's name).
    """

    can_push: bool = True  # the bot can send a message later (reminders, "reach me here in the chat")
    has_commands: bool = True  # typed /commands exist (else the dialog names buttons and words instead)
    max_button_data: int = 64  # bytes allowed in one button's data (Telegram's limit is 64)
    # A chat with one person. In a group, members would share one conversation: bookings and everything
    # personal are refused there, with an offer to go on in a private chat.
    private_chat: bool = True


TELEGRAM = Capabilities(can_push=True, has_commands=True, max_button_data=64)
TERMINAL = Capabilities(can_push=False, has_commands=True, max_button_data=64)
WEB = Capabilities(can_push=False, has_commands=False, max_button_data=64)
CHANNEL_CAPABILITIES: Mapping[str, Capabilities] = {"telegram": TELEGRAM, "terminal": TERMINAL, "web": WEB}


def capabilities_for(channel: str) -> Capabilities:
    """The capabilities of a channel by name; an unknown channel (tests) gets Telegram's."""
    return CHANNEL_CAPABILITIES.get(channel, TELEGRAM)


# --- state ---------------------------------------------------------------------------------------

# Where a conversation stands: "idle", or a flow's step ("flow.step"). The steps are declared in
# bot/dialog/flows.py, one module per flow.
FlowName = Literal[
    "idle",
    "choose_region",
    "booking.slot", "booking.name", "booking.contact", "booking.phone", "booking.confirm",
    "move.slot", "move.confirm",
    "cancel.confirm",
    "delete.confirm",
]  # fmt: skip
FLOW_NAMES: frozenset[str] = frozenset(get_args(FlowName))


class FlowData(TypedDict, total=False):
    """A flow's own values (stored as JSON with the state); every key belongs to some flow."""

    pending: str  # onboarding: what the person wanted before we had to ask for the region
    wish: str | None  # onboarding: the time a pending booking was wished for ("torsdag efter lunch")
    pending_lang: str | None  # onboarding: the language the pending question was written in, if not the chat's
    slots: list[str]  # slot keys offered on the page shown now
    after: str  # the last slot key shown: the next page starts after it
    pages: list[str]  # the first key of each page shown before, for "earlier times"
    slot: str  # the chosen slot
    name: str | None  # the first name, None: skipped
    phone: str | None  # E.164, None: reached in the chat
    reach: Literal["chat", "phone"]
    booking: str  # the booking being moved or cancelled
    back_to: FlowName  # where the confirmation's corrections return to
    booked: str  # idle, for the next message only: the slot just booked (a "Ja, boka" sent twice books nothing new)




@dataclass(frozen=True)
class State:
    lang: str | None = None
    region: str | None = None
    flow: FlowName = "idle"
    data: FlowData = field(default_factory=lambda: FlowData())  # the flow's own values, JSON-serialisable
    open: tuple[str, ...] = ()  # button data that may change something, offered in the last replies
    updated: str | None = None  # ISO time of the last event, for the idle timeout
    last_topic: str | None = None  # the topic answered last: not sent again in full right after
    # The question (scrubbed) the last answer was for, kept only until the next event: a 👎 sends it to review.
    asked: str | None = None
    # The engine's own (bot/engine.py), never the dialog's: a confirmation under way ({"pressed": time}) or just made
    # ({"booking": id, "slot": key, "told": bool}), so that a press lost in a crash is told on the next message and a
    # second press of the same confirm gives the same booking.
    confirming: dict[str, Any] | None = None
    # The buttons of the last replies, (label, data): a label typed instead of pressed is that button (the web and
    # Telegram send only the text), checked as a press would be.
    shown: tuple[tuple[str, str], ...] = ()

    def with_(self, **changes: Any) -> State:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "lang": self.lang,
            "region": self.region,
            "flow": self.flow,
            "data": self.data,
            "open": list(self.open),
            "updated": self.updated,
            "last_topic": self.last_topic,
            "asked": self.asked,
            "confirming": self.confirming,
            "shown": [list(pair) for pair in self.shown],
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> State:
        """Rebuild a stored state; anything unexpected falls back to a fresh conversation's values."""
        lang = value.get("lang")
        region = value.get("region")
        flow = value.get("flow")
        data = value.get("data")
        open_ = value.get("open")
        updated = value.get("updated")
        last_topic = value.get("last_topic")
        asked = value.get("asked")
        confirming = value.get("confirming")
        shown = value.get("shown")
        return cls(
            lang=lang if isinstance(lang, str) else None,
            region=region if isinstance(region, str) else None,
            flow=cast(FlowName, flow) if isinstance(flow, str) and flow in FLOW_NAMES else "idle",
            data=cast(FlowData, data) if isinstance(data, dict) else FlowData(),
            open=tuple(x for x in open_ if isinstance(x, str)) if isinstance(open_, list) else (),
            updated=updated if isinstance(updated, str) else None,
            last_topic=last_topic if isinstance(last_topic, str) else None,
            asked=asked if isinstance(asked, str) else None,
            confirming=confirming if isinstance(confirming, dict) else None,
            shown=tuple((p[0], p[1]) for p in (shown if isinstance(shown, list) else ())
                        if isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)),
        )


@dataclass(frozen=True)
class Outcome:
    state: State | None  # None: the conversation is to be forgotten (after /delete)
    replies: tuple[Reply, ...]
    effects: tuple[Effect, ...] = ()
