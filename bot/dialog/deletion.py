"""Deleting everything about a conversation (/delete): one confirmation, then nothing is left."""

from __future__ import annotations

from bot.dialog import manage
from bot.dialog.flow import Step
from bot.dialog.model import Choice, DeleteEverything, FlowData, Record
from bot.dialog.turn import Turn


def ask_delete(turn: Turn) -> None:
    if turn.refuse_personal():
        return
    turn.go("delete.confirm", FlowData(), ("delete:yes", "delete:no"))
    turn.say(
        turn.t("confirm_delete"),
        [Choice(turn.t("button_yes_delete"), "delete:yes"), Choice(turn.t("button_no"), "delete:no")],
    )


def delete(turn: Turn, value: str) -> None:
    if value != "yes":
        turn.leave_flow()
        turn.say(turn.t("not_deleted"), turn.menu_choices())
        return
    turn.effects += [DeleteEverything(), Record("deleted")]
    turn.forget = True
    turn.say(turn.t("deleted"))


def text_delete(turn: Turn, text: str, folded: str) -> bool:
    answer = manage.yes_no(folded)
    if answer is None:
        return False
    delete(turn, "yes" if answer else "no")
    return True


STEPS = (Step("delete.confirm", "delete", ask_delete, text_delete, {"delete": delete}),)
