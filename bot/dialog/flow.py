"""What a flow's step is: its prompt, its buttons, its free-text reader, and where Back leads.

In the spirit of python-telegram-bot's ConversationHandler `states` table: each flow module declares its
steps, and bot/dialog/flows.py puts them in one table, so a step is read and changed in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.dialog.model import FlowName
from bot.dialog.turn import Turn

Prompt = Callable[[Turn], None]
TextReader = Callable[[Turn, str, str], bool]  # (turn, text, folded) -> was it an answer to this step?
ButtonHandler = Callable[[Turn, str], None]  # (turn, value after "kind:")
Back = Callable[[Turn], FlowName | None]


def no_text(turn: Turn, text: str, folded: str) -> bool:
    return False


def leave(turn: Turn) -> FlowName | None:
    return None


@dataclass(frozen=True)
class Step:
    name: FlowName
    flow: str  # "booking", "move", "cancel", "delete", "region": names the flow in notices
    prompt: Prompt  # says the step's question with its buttons (Back, Cancel) and opens those buttons
    text: TextReader = no_text
    buttons: Mapping[str, ButtonHandler] = field(default_factory=dict)  # kind -> handler, when open
    back: Back = leave  # the step Back returns to; None: Back leaves the flow (told, nothing changed)
