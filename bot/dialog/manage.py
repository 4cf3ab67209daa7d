"""Managing one's bookings: the list, cancelling one, moving one to another free time.

cancel.confirm; move.slot -> move.confirm. Cancelling and moving send a calendar file that updates the
person's calendar (METHOD:CANCEL, or the same UID with a higher SEQUENCE).
"""

from __future__ import annotations

from bot.booking.slots import parse_slot_key
from bot.dialog import booking, texts
from bot.dialog.flow import Step
from bot.dialog.formatting import ZONE
from bot.dialog.model import CancelBooking, Choice, FlowData, MoveBooking, Record
from bot.dialog.turn import Turn
from bot.dialog.when import matching, read_wish
from bot.matching.normalize import fold


def my_bookings(turn: Turn) -> None:
    if turn.refuse_personal():
        return
    bookings = turn.ctx.view.my_bookings
    if not bookings:
        turn.leave_flow()
        turn.say(turn.t("no_bookings"), [Choice(turn.t("button_book"), "book"), *turn.menu_choices()])
        return
    lines = [turn.t("my_bookings")]
    choices: list[Choice] = []
    contacts = turn.ctx.content.regions
    for item in bookings:
        when = turn.when(item.slot)
        who = contacts[item.region].contact.name if item.region in contacts else item.region
        lines.append(f"- {when}: {who}")
        choices.append(Choice(turn.t("button_cancel_booking", when=when), f"cancelbooking:{item.booking_id}"))
        choices.append(Choice(turn.t("button_move_booking", when=when), f"move:{item.booking_id}"))
    if len(bookings) >= booking.MAX_UPCOMING_BOOKINGS:
        lines.append("")
        lines.append(turn.t("booking_limit_note", max=booking.MAX_UPCOMING_BOOKINGS))
    choices += turn.menu_choices()
    turn.go("idle", FlowData(), [c.data for c in choices if c.data != "menu"])
    turn.say("\n".join(lines), choices)


def by_words(turn: Turn, text: str, folded: str) -> bool:
    """Cancelling or moving a booking asked in words ("avboka", "jag vill avboka", "cancel it", "flytta mötet på
    tisdag"; content/words.yaml cancel_booking and move_booking, every language), as the buttons do: with one
    booking, or a day or time that names one of several, straight to its confirmation; with several, which one.
    Right under the list of bookings, a word for leaving ("avbryt", "скасувати") also means cancelling one."""
    if not turn.can.private_chat:
        return False
    listed = any(data.startswith("cancelbooking:") for data in turn.state.open)
    kind = asked(folded)
    if kind is None and listed and folded in texts.word_set("leave"):
        kind = "cancel"
    elif kind is None and listed and yes_no(folded) and not any(data.startswith("move:") for data in turn.state.open):
        kind = "cancel"  # "ja" under "which meeting do you want to cancel?": which one is still to say
    if kind is None:
        return False
    bookings = turn.ctx.view.my_bookings  # read only now: the words come first, and most messages have none of them
    if not bookings:
        return False
    turn.follow_words(f"{kind}_booking", text, folded)  # "я хочу скасувати зустріч" in an English chat: in Ukrainian
    chosen = list(bookings)
    today = turn.now.astimezone(ZONE).date()
    named = booking.names_a_time(text)
    if len(chosen) > 1 and named:
        starts = {parse_slot_key(b.slot): b for b in bookings}
        chosen = [starts[s] for s in matching(read_wish(text, today), list(starts), today)] or chosen
    if len(chosen) == 1:
        if kind == "cancel":
            ask_cancel(turn, chosen[0].booking_id)
        else:  # "flytta mötet till onsdag efter lunch": the times that fit, unless the words named the meeting itself
            itself = named and matching(read_wish(text, today), [parse_slot_key(chosen[0].slot)], today)
            start_move(turn, chosen[0].booking_id, None if itself or not named else text)
        return True
    button, prefix = ("button_cancel_booking", "cancelbooking") if kind == "cancel" else ("button_move_booking", "move")
    choices = [Choice(turn.t(button, when=turn.when(b.slot)), f"{prefix}:{b.booking_id}") for b in chosen]
    turn.go("idle", FlowData(), [c.data for c in choices])
    turn.say(turn.t(f"which_booking_{kind}"), [*choices, *turn.menu_choices()])
    return True


def by_wish(turn: Turn, text: str, just_booked: str | None) -> bool:
    """"kan vi ta onsdag efter lunch istället", "can we do wednesday afternoon instead?" right after a booking or
    under /mybookings' list: a day or time wished without the word "flytta" moves that meeting, to the times fitting
    the wish. Elsewhere such words are a question or a new booking, as before."""
    listed = any(data.startswith(("move:", "cancelbooking:")) for data in turn.state.open)
    if (just_booked is None and not listed) or len(text.split()) > WISH_WORDS or not booking.names_a_time(text):
        return False
    bookings = turn.ctx.view.my_bookings
    chosen = [b for b in bookings if b.slot == just_booked] or list(bookings)
    if len(chosen) != 1:
        return False  # which of several meetings is still to say: the words are read as before
    start_move(turn, chosen[0].booking_id, text)
    return True


def asked(folded: str) -> str | None:
    """"cancel" or "move" for a text with the words for cancelling or moving a booking (every language), else None."""
    if texts.has_phrase("cancel_booking", folded):
        return "cancel"
    if texts.has_phrase("move_booking", folded):
        return "move"
    return None


def changed_mind(turn: Turn, text: str, folded: str) -> bool:
    """"jag vill avboka" while moving a meeting (or "flytta den istället" at "cancel it?"): the open flow is left and
    the other one asked for, for the same meeting, so nobody believes a meeting cancelled that is still booked."""
    kind = asked(folded)
    current = "move" if turn.state.flow.startswith("move.") else "cancel"
    booking_id = turn.data.get("booking")
    if kind is None or kind == current or not booking_id:
        return False
    turn.follow_words(f"{kind}_booking", text, folded)
    if kind == "cancel":
        ask_cancel(turn, booking_id)
    else:
        start_move(turn, booking_id, text if booking.names_a_time(text) else None)
    return True


def closed(turn: Turn) -> None:
    turn.say(turn.t("choice_closed"), [Choice(turn.t("button_mybookings"), "mybookings")])


# --- cancelling ----------------------------------------------------------------------------------------


def ask_cancel(turn: Turn, booking_id: str) -> None:
    if turn.refuse_personal():
        return
    found = turn.find_booking(booking_id)
    if found is None:
        closed(turn)
        return
    turn.go("cancel.confirm", FlowData(booking=booking_id), ("yes", "no"))
    turn.say(
        turn.t("confirm_cancel", when=turn.when(found.slot)),
        [Choice(turn.t("button_yes_cancel"), "yes"), Choice(turn.t("button_no_keep"), "no")],
    )


def prompt_cancel(turn: Turn) -> None:
    ask_cancel(turn, turn.data.get("booking", ""))


def cancel_booking(turn: Turn, value: str = "") -> None:
    found = turn.find_booking(turn.data.get("booking"))
    turn.leave_flow()
    if found is None:
        closed(turn)
        return
    turn.effects += [CancelBooking(found.booking_id), Record("cancelled")]
    region = turn.ctx.content.region(found.region)
    update = booking.calendar_file(turn, found.booking_id, parse_slot_key(found.slot), found.phone,
                                   sequence=booking.update_sequence(turn, cancel=True), cancel=True,
                                   region=region)  # fmt: skip
    turn.say(
        turn.t("booking_cancelled", when=turn.when(found.slot), contact_name=region.contact.name),
        turn.menu_choices(),
        update,
    )


def keep(turn: Turn, value: str = "") -> None:
    turn.leave_flow()
    turn.say(turn.t("kept"), turn.menu_choices())


def text_yes_no_cancel(turn: Turn, text: str, folded: str) -> bool:
    answer = yes_no(folded)
    if answer is None:
        return False
    cancel_booking(turn) if answer else keep(turn)
    return True


def yes_no(folded: str) -> bool | None:
    words = set(folded.split())
    yes, no = texts.word_set("yes", split=True), texts.word_set("no", split=True)
    if len(words) > 3 or not words & (yes | no):
        return None
    return bool(words & yes) and not words & no


WISH_WORDS = 12  # "can we do wednesday afternoon instead, if that works for you?" is still a wish


# --- moving --------------------------------------------------------------------------------------------


def start_move(turn: Turn, booking_id: str, wish: str | None = None) -> None:
    """The times to move a meeting to: those fitting `wish` ("till onsdag efter lunch") if one was written."""
    if turn.refuse_personal():
        return
    found = turn.find_booking(booking_id)
    if found is None:
        closed(turn)
        return
    turn.set(region=found.region)
    turn.go("move.slot", FlowData(booking=booking_id))
    turn.say(turn.t("move_choose", when=turn.when(found.slot)))
    if wish:
        turn.update(slots=[])
        booking.text_slot(turn, wish, fold(wish))
    else:
        booking.first_page(turn)


def prompt_move_confirm(turn: Turn) -> None:
    found = turn.find_booking(turn.data.get("booking"))
    key = turn.data.get("slot", "")
    turn.go("move.confirm", open_=("confirm",))
    turn.say(
        turn.t("confirm_move", old=turn.when(found.slot) if found else "?", when=turn.when(key)),
        [Choice(turn.t("button_yes_move"), "confirm"), *turn.step_choices()],
    )


def move(turn: Turn, value: str = "") -> None:
    found = turn.find_booking(turn.data.get("booking"))
    key = turn.data.get("slot")
    if found is None:
        turn.leave_flow()
        closed(turn)
        return
    if not key or key in turn.taken():
        booking.slot_gone(turn)
        return
    if not booking.still_open(turn, key):
        booking.slot_gone(turn, passed=True)
        return
    turn.effects += [MoveBooking(found.booking_id, key), Record("moved")]
    turn.leave_flow()
    contact = turn.ctx.content.region(found.region).contact
    turn.say(
        turn.t("booking_moved", when=turn.when(key), contact_name=contact.name),
        turn.menu_choices(),
        booking.calendar_file(turn, found.booking_id, parse_slot_key(key), found.phone,
                               sequence=booking.update_sequence(turn)),
    )


def text_move_confirm(turn: Turn, text: str, folded: str) -> bool:
    answer = yes_no(folded)
    if answer is None:
        return False
    if answer:
        move(turn)
    else:
        turn.leave_flow()
        turn.say(turn.t("move_not_done"), turn.menu_choices())
    return True


STEPS = (
    Step("cancel.confirm", "cancel", prompt_cancel, text_yes_no_cancel, {"yes": cancel_booking, "no": keep}),
    Step("move.slot", "move", booking.prompt_slot, booking.text_slot, {"slot": booking.pick,
                                                                       "book": booking.page_button}),
    Step("move.confirm", "move", prompt_move_confirm, text_move_confirm, {"confirm": move},
         lambda turn: "move.slot"),
)  # fmt: skip
