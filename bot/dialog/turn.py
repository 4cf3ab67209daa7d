"""One step's working memory, shared by the core and every flow: the state so far, replies, effects.

The flows (onboarding, booking, manage, deletion) are functions of a `Turn`; the core (bot/dialog/core.py)
is a `Turn` that also answers questions and shows menus, which the flows reach through the hooks below.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.content import Content, Region
from bot.dialog import texts
from bot.dialog.formatting import format_slot, meeting_place
from bot.dialog.model import (
    OPEN_PRIVATE_CHAT,
    TELEGRAM,
    Attachment,
    BookingInfo,
    Capabilities,
    Choice,
    Effect,
    FlowData,
    FlowName,
    Reply,
    State,
    View,
)
from bot.matching import Matcher
from bot.safety.crisis import CrisisDetector

# Button kinds (the data before ":") that act for one person: a booking, one's bookings, deleting one's data.
# Outside a private chat they are refused and offered as one "go on in a private chat" button.
PERSONAL_BUTTONS = frozenset(
    ["book", "slot", "skip", "reach", "confirm", "change", "fix", "mybookings", "cancelbooking", "move", "delete"]
)


def is_personal(data: str) -> bool:
    return data.partition(":")[0] in PERSONAL_BUTTONS


@dataclass(frozen=True)
class Context:
    content: Content
    matcher: Matcher
    view: View
    new_id: Callable[[], str] = field(default=lambda: "b0")  # the engine passes a random id maker
    retention_days: int = 90
    capabilities: Capabilities = TELEGRAM  # what the channel can keep; the engine sets it
    crisis: CrisisDetector | None = None  # notices a person in crisis, before anything else


class Turn:
    def __init__(self, state: State, ctx: Context) -> None:
        self.state = state
        self.ctx = ctx
        self.replies: list[Reply] = []
        self.effects: list[Effect] = []
        self.forget = False
        self.speaking: str | None = None  # set while answering a question written in another language

    # --- reading ------------------------------------------------------------------------------

    @property
    def lang(self) -> str:
        """The language this turn speaks: the chat's, or for one answer the language the question was in."""
        return self.speaking or self.state.lang or "sv"

    @property
    def region(self) -> Region:
        return self.ctx.content.region(self.state.region)

    @property
    def can(self) -> Capabilities:
        return self.ctx.capabilities

    @property
    def now(self) -> datetime:
        return self.ctx.view.now

    @property
    def data(self) -> FlowData:
        return self.state.data

    def t(self, key: str, **values: object) -> str:
        content = self.ctx.content
        if key in content.texts:
            return content.text(key, self.lang, **values)
        return texts.text(key, self.lang, **values)

    def cmd(self, name: str) -> str:
        """How the person reaches a command on this channel: '/mybookings', or the words to write."""
        return texts.command_hint(name, self.lang, self.can.has_commands)

    def when(self, key: str) -> str:
        return format_slot(key, self.lang)

    def place_text(self, phone: str | None = "") -> str:
        """How the meeting happens; `phone` None means the person chose to be reached in the chat."""
        return meeting_place(self.region, self.lang, phone)

    def taken(self) -> frozenset[str]:
        return self.ctx.view.taken.get(self.region.id, frozenset())

    def find_booking(self, booking_id: object) -> BookingInfo | None:
        return next((b for b in self.ctx.view.my_bookings if b.booking_id == booking_id), None)

    # --- writing ------------------------------------------------------------------------------

    def say(self, text: str, choices: Sequence[Choice] = (), attachment: Attachment | None = None,
            lang: str | None = None) -> None:  # fmt: skip
        """One reply; `lang` is the language its text is written in (by default the turn's).

        Outside a private chat, buttons for personal things become one "go on in a private chat" button."""
        if not self.can.private_chat and any(is_personal(c.data) for c in choices):
            kept = [c for c in choices if not is_personal(c.data) and c.data != OPEN_PRIVATE_CHAT]
            choices = [Choice(self.t("button_private"), OPEN_PRIVATE_CHAT), *kept]
        self.replies.append(Reply(text, tuple(choices), attachment, lang=lang or self.lang))

    def refuse_personal(self) -> bool:
        """Outside a private chat (a group), nothing personal happens: say so kindly and offer a private chat.

        True when refused. Members of a group share one conversation, so a booking, one's bookings or
        deleting one's data there would be everybody's."""
        if self.can.private_chat:
            return False
        if self.state.flow != "idle" and self.state.flow != "choose_region":
            self.leave_flow()
        self.say(self.t("in_private"), [Choice(self.t("button_private"), OPEN_PRIVATE_CHAT)])
        return True

    def language_choices(self) -> list[Choice]:
        """A button for every language the content speaks, each named in its own language."""
        content = self.ctx.content
        return [Choice(content.language(code).name, f"lang:{code}") for code in content.languages]

    def set(self, **changes: Any) -> None:
        self.state = self.state.with_(**changes)

    def go(self, flow: FlowName, data: FlowData | None = None, open_: Sequence[str] = ()) -> None:
        """Move to a step; its buttons that change data are `open_` (all others are refused)."""
        self.set(flow=flow, data=self.state.data if data is None else data, open=tuple(open_))

    def update(self, **values: Any) -> None:
        """Add values to the flow's data."""
        self.set(data={**self.state.data, **values})

    def leave_flow(self) -> None:
        self.set(flow="idle", data=FlowData(), open=())

    # --- shared buttons -----------------------------------------------------------------------

    def menu_choices(self) -> list[Choice]:
        return [Choice(self.t("button_menu"), "menu")]

    def step_choices(self, back: bool = True) -> list[Choice]:
        """Back and Cancel: on every step of every flow."""
        choices = [Choice(self.t("button_back"), "back")] if back else []
        return [*choices, Choice(self.t("button_cancel"), "cancel")]

    # --- hooks the core fills in --------------------------------------------------------------

    def main_menu(self) -> None:
        raise NotImplementedError

    def resume(self, pending: str, wish: str | None = None) -> None:
        """Carry on with what the person wanted before we had to ask for the region."""
        raise NotImplementedError

    def question(self, text: str, folded: str) -> None:
        raise NotImplementedError

    def follow_words(self, kind: str, text: str, folded: str) -> None:
        """What `kind` words (cancel_booking, move_booking) asked runs in the language they were written in."""
        raise NotImplementedError
