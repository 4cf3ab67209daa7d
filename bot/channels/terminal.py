"""The terminal chat: the same dialog as Telegram, one message per line on stdin.

Buttons are printed as numbered choices; the person answers with the number or the label. Works with
piped stdin, so a whole conversation can be scripted (the user's lines are echoed to make a transcript).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.dialog.model import ButtonPress, Choice, CommandMessage, Event, Reply, State, TextMessage
from bot.engine import Engine, Notification, notification_text
from bot.matching.normalize import fold

# Words that end the terminal chat (when no flow is open: inside one, they first stop the flow).
EXIT_WORDS = frozenset(["exit", "quit", "avsluta"])
LEAVING = "Hej då! / Goodbye! (Det du har bokat finns kvar. / Your bookings are kept.)"


def parse_input(line: str, choices: Sequence[Choice]) -> Event:
    """A typed line becomes a command, a button press (by number or label) or a text message."""
    text = line.strip()
    if text.startswith("/") and len(text) > 1 and not text[1:2].isspace():
        name, _, argument = text[1:].partition(" ")
        return CommandMessage(name.split("@")[0].lower(), argument)
    if text.isdigit() and 1 <= int(text) <= len(choices):
        return ButtonPress(choices[int(text) - 1].data)
    folded = fold(text)
    for choice in choices:
        if folded and fold(choice.label) == folded:
            return ButtonPress(choice.data)
    return TextMessage(line)


def render(reply: Reply) -> str:
    lines = [reply.text]
    if reply.choices:
        lines.append("  " + "  ".join(f"[{i}] {c.label}" for i, c in enumerate(reply.choices, 1)))
    return "\n".join(lines)


class TerminalNotifier:
    """In the terminal, the business developer's notification is shown on stderr."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def notify(self, notification: Notification) -> None:
        text = notification_text(notification)
        print(f"(to the business developer) {text.replace(chr(10), ' | ')}", file=self.out)


def run_chat(engine: Engine, *, conversation: str = "terminal:local", lang: str | None = None,
             region: str | None = None, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout,
             files_dir: Path | None = None) -> int:  # fmt: skip
    interactive = stdin.isatty()
    state = engine.store.load_state(conversation)
    if lang or region:
        base = state or State()
        state = base.with_(lang=lang or base.lang, region=region or base.region)
        engine.store.save_state(conversation, state, engine.clock())
    choices: list[Choice] = []

    def show(replies: list[Reply]) -> None:
        nonlocal choices
        for reply in replies:
            print(render(reply), file=stdout)
            if reply.attachment and files_dir:
                files_dir.mkdir(parents=True, exist_ok=True)
                path = files_dir / reply.attachment.filename
                path.write_bytes(reply.attachment.content)
                print(f"  (file saved: {path})", file=stdout)
            print(file=stdout)
            if reply.choices:
                choices = list(reply.choices)

    first = "/start" if state is None else "/menu"
    show(engine.handle(conversation, parse_input(first, choices)))
    while True:
        if interactive:
            print("> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            return 0
        line = line.rstrip("\n")
        if not interactive:
            print(f"> {line}", file=stdout)
        if not line.strip() and interactive:
            continue
        if fold(line) in EXIT_WORDS:
            current = engine.store.load_state(conversation)
            if current is None or current.flow == "idle":
                print(LEAVING, file=stdout)
                return 0
        show(engine.handle(conversation, parse_input(line, choices)))
