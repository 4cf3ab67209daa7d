"""The booking flow: a time, a first name (or none), how to be reached, and a confirmation.

booking.slot -> booking.name -> booking.contact -> booking.phone -> booking.confirm
(booking.contact is skipped where the channel cannot write later: then the meeting is a phone call.)
Every step takes buttons and free text, and has Back and Cancel. The slot pages are shared with moving a
booking (bot/dialog/manage.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from bot.booking.calendar import meeting_ics
from bot.booking.phone import format_phone, read_phone
from bot.booking.slots import parse_slot_key, slot_key, upcoming_slots
from bot.content import Region
from bot.dialog import onboarding, texts
from bot.dialog.flow import Step
from bot.dialog.formatting import ZONE, format_day, format_list, meeting_place, parse_key, small_talk
from bot.dialog.model import Attachment, Choice, CreateBooking, FlowData, FlowName, Record
from bot.dialog.turn import Turn
from bot.dialog.when import TimeWish, matching, read_wish
from bot.matching.normalize import STOPWORDS, fold

SLOTS_PER_PAGE = 6
MAX_PLACE_WORDS = 6  # "ja tack jag tar den första tiden"
MAX_UPCOMING_BOOKINGS = 3  # per conversation: enough for real use, a brake on someone filling the calendar
MAX_NAME = 40
ALL_SLOTS = 500  # more than any horizon holds: "every free slot"
_MINUTE = timedelta(minutes=1)
_SEQUENCE_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

# The words read at the booking's steps are content (content/words.yaml and each language's `words:`);
# these are the repository's own, for tests and tools that have no content loaded.
YES, NO = texts.word_set("yes", split=True), texts.word_set("no", split=True)
SKIP_NAME, STOP = texts.word_set("skip_name"), texts.word_set("stop")
_NAME_INTRO = re.compile(
    r"^(?:(?:hej|hi|hello)[,!. ]+)?(?:jag heter|mitt namn är|mitt namn ar|namnet är|namnet ar|jag är|jag ar|"
    r"det är|det ar|my name is|my name's|i am|i'm|im|it's|its|call me|kalla mig|name is|name|namn)[: ]+(.+)$",
    re.IGNORECASE,
)
_NAME = re.compile(r"^[^\W\d_]+(?:[ '’\-.][^\W\d_]+){0,3}\.?$")
_NAME_ENDS = frozenset(["fran", "from", "bor", "live", "lives", "living", "born", "fodd", "och"])
MAX_NAME_WORDS = 3  # without "jag heter"/"my name is", longer texts are sentences, not names
_TRAILING = re.compile(r"[\s,.!]+(?:tack|thanks|thank you|thx)?[\s,.!]*$", re.IGNORECASE)


# --- starting, and the pages of free times -------------------------------------------------------------


def start(turn: Turn, wish: str | None = None) -> None:
    """The booking's intro and its times: those fitting `wish` ("torsdag efter lunch") if one was written."""
    if turn.refuse_personal():
        return
    if turn.state.region is None:
        onboarding.ask_region(turn, pending="book", wish=wish, pending_lang=turn.speaking)
        return
    if len(turn.ctx.view.my_bookings) >= MAX_UPCOMING_BOOKINGS:
        turn.leave_flow()
        turn.say(
            turn.t("booking_limit", max=MAX_UPCOMING_BOOKINGS, mybookings=turn.cmd("mybookings")),
            [Choice(turn.t("button_mybookings"), "mybookings"), *turn.menu_choices()],
        )
        return
    reached = turn.ctx.view.limits.get(turn.state.region)
    if reached is not None:  # checked again at confirmation (race-safe); here so nobody fills in the form in vain
        limit_reached(turn, reached.reason, reached.limit)
        return
    region = turn.region
    intro = turn.t(
        "book_intro",
        contact_name=region.contact.name,
        contact_role=region.contact.role[turn.lang],
        region=region.name[turn.lang],
        minutes=region.availability.meeting_minutes,
        place=turn.place_text(),
    )
    if region.contact.confirmed is None:  # staff have not confirmed the person yet: say so
        intro += "\n\n" + turn.t("book_intro_unconfirmed", contact_name=region.contact.name)
    turn.say(intro)
    turn.go("booking.slot", FlowData())
    if wish and names_a_time(wish):
        turn.update(slots=[])
        text_slot(turn, wish, fold(wish))
    else:
        first_page(turn)


def free_slots(turn: Turn, after: datetime | None = None, limit: int = SLOTS_PER_PAGE) -> list[datetime]:
    taken = [parse_slot_key(k) for k in turn.taken()]
    return upcoming_slots(turn.region.availability, turn.now, taken, after=after, limit=limit)


def still_open(turn: Turn, key: str) -> bool:
    """The slot has not passed (with the region's lead time) and nobody else has it."""
    start_at = parse_key(key)
    if start_at is None or key in turn.taken():
        return False
    return start_at in free_slots(turn, after=start_at.replace(second=0) - _MINUTE, limit=1)


def first_page(turn: Turn, intro: str = "choose_time") -> None:
    slots = free_slots(turn)
    if not slots:
        no_slots(turn)
        return
    turn.update(pages=[])
    show_page(turn, [slot_key(s) for s in slots], intro)


def no_slots(turn: Turn) -> None:
    region = turn.region
    turn.leave_flow()
    turn.say(
        turn.t("no_slots", contact_name=region.contact.name, contact_phone=region.contact.phone),
        turn.menu_choices(),
    )


def show_page(turn: Turn, keys: list[str], intro: str, more: bool = True) -> None:
    pages = list(turn.data.get("pages", []))
    turn.update(slots=keys, after=keys[-1])
    opened = [f"slot:{k}" for k in keys]
    choices = [Choice(turn.when(k), f"slot:{k}") for k in keys]
    if more:
        choices.append(Choice(turn.t("button_later"), "book:later"))
        opened.append("book:later")
    if pages:
        choices.append(Choice(turn.t("button_earlier"), "book:earlier"))
        opened.append("book:earlier")
    choices += turn.step_choices(back=False)  # the first step of its flow: Cancel leaves
    turn.set(open=tuple(opened))
    turn.say(turn.t(intro), choices)


def later(turn: Turn) -> None:
    after = parse_key(turn.data.get("after"))
    slots = free_slots(turn, after=after) if after else []
    current = list(turn.data.get("slots", []))
    if not slots:
        region = turn.region
        turn.say(turn.t("no_more_slots", contact_name=region.contact.name, contact_phone=region.contact.phone))
        if current:
            show_page(turn, current, "choose_time", more=False)
        else:
            no_slots(turn)
        return
    pages = [*turn.data.get("pages", []), current[0]] if current else list(turn.data.get("pages", []))
    turn.update(pages=pages)
    show_page(turn, [slot_key(s) for s in slots], "book_later_times")


def earlier(turn: Turn) -> None:
    pages = list(turn.data.get("pages", []))
    if not pages:
        turn.say(turn.t("earliest_already"))
        show_page(turn, list(turn.data.get("slots", [])), "choose_time")
        return
    first = parse_key(pages.pop())
    turn.update(pages=pages)
    slots = free_slots(turn, after=first - _MINUTE) if first else free_slots(turn)
    if not slots:
        first_page(turn)
        return
    show_page(turn, [slot_key(s) for s in slots], "choose_time")


def page_button(turn: Turn, value: str) -> None:
    if value == "later":
        later(turn)
    elif value == "earlier":
        earlier(turn)


def prompt_slot(turn: Turn) -> None:
    keys = [k for k in turn.data.get("slots", []) if k not in turn.taken()]
    if keys:
        show_page(turn, keys, "choose_time")
    else:
        first_page(turn)


def pick(turn: Turn, key: str) -> None:
    """A slot button, or a time written in words that named one."""
    if key not in turn.data.get("slots", []) and not still_open(turn, key):
        turn.say(turn.t("choice_closed"))
        prompt_slot(turn)
        return
    if not still_open(turn, key):
        slot_gone(turn)
        return
    if turn.state.flow == "move.slot":
        from bot.dialog import manage  # the move flow shares these pages

        turn.update(slot=key)
        manage.prompt_move_confirm(turn)
        return
    turn.update(slot=key)
    if "name" not in turn.data:
        prompt_name(turn)
    else:  # came back after losing a slot or to change the time, or gave the name before the time
        after_name(turn)


def slot_gone(turn: Turn, passed: bool = False) -> None:
    """The chosen time was taken by someone else (or has passed): offer the next free ones."""
    turn.say(turn.t("slot_passed" if passed else "slot_taken"))
    flow: FlowName = "move.slot" if turn.state.flow.startswith("move") else "booking.slot"
    data = {k: v for k, v in turn.data.items() if k not in ("slot", "slots", "after", "pages")}
    turn.go(flow, FlowData(**data))  # type: ignore[typeddict-item]
    first_page(turn, "choose_time")


def text_slot(turn: Turn, text: str, folded: str) -> bool:
    """'torsdag efter lunch', 'den 3:e kl 13', 'next Monday at 10', 'tisdag 9.45', 'earlier', 'another day'."""
    today = turn.now.astimezone(ZONE).date()
    shown = list(turn.data.get("slots", []))
    if text.strip().isdecimal() and 1 <= int(text) <= len(shown):
        pick(turn, shown[int(text) - 1])  # "1": the first time shown, as the terminal reads a number
        return True
    if read_phone(text).e164:
        return early_details(turn, text)
    wish = read_wish(text, today)
    place = place_in_list(folded, len(shown)) if wish.empty else None
    if place is not None:
        pick(turn, shown[place])
        return True
    if wish.empty:
        return early_details(turn, text)
    if wish.page == "earlier" and not wish.has_day:
        earlier(turn)
        return True
    if wish.page == "later" and not wish.has_day and wish.hour is None:
        later(turn)
        return True
    offered = [s for s in (parse_key(k) for k in turn.data.get("slots", [])) if s is not None]
    found = matching(wish, offered, today) if wish.hour is not None and not wish.has_day else []
    if not found:
        found = matching(wish, free_slots(turn, limit=ALL_SLOTS), today)
    if len(found) == 1 and (wish.hour is not None or (wish.has_day and wish.part is not None)):
        pick(turn, slot_key(found[0]))
        return True
    if found:
        turn.update(pages=[*turn.data.get("pages", []), *turn.data.get("slots", [])[:1]])
        show_page(turn, [slot_key(s) for s in found[:SLOTS_PER_PAGE]], "times_that_day")
        return True
    if wish.has_day:
        not_that_day(turn, wish, today)
        return True
    turn.say(turn.t("no_time_like_that"))
    prompt_slot(turn)
    return True


def place_in_list(folded: str, shown: int) -> int | None:
    """0 for "den första" / "ja tack den forsta" / "the first one", -1 for "den sista": a short message naming one
    place in the list shown (words.yaml place_1 ... place_last) with nothing else than words asking for it, so that
    "har ni andra tider" is no choice."""
    words = folded.split()
    if not shown or not words or len(words) > MAX_PLACE_WORDS:
        return None
    said = f" {folded} "
    named = {kind: {w for phrase in texts.word_set(kind) if f" {phrase} " in said for w in phrase.split()}
             for kind in texts.kinds("place_") if kind != "place_filler"}  # fmt: skip
    named = {kind: found for kind, found in named.items() if found}
    if len(named) != 1:
        return None
    (kind, found), = named.items()
    asking = texts.word_set("place_filler", split=True) | texts.word_set("yes", split=True) | {
        w for small in texts.SMALL_TALK_KINDS for w in texts.word_set(small, split=True)}  # fmt: skip
    if any(w not in found and w not in asking for w in words):
        return None
    place = kind.removeprefix("place_")
    if place == "last":
        return -1
    return int(place) - 1 if int(place) <= shown else None


def wished_day(wish: TimeWish, today: date) -> date:
    """The day a wish names: its date, or the next such weekday (from next Monday for "next Friday")."""
    if wish.day is not None:
        return wish.day
    first = today + timedelta(days=7 - today.weekday()) if wish.next_week else today + timedelta(days=1)
    return first + timedelta(days=((wish.weekday or 0) - first.weekday()) % 7)


def not_that_day(turn: Turn, wish: TimeWish, today: date) -> None:
    """No free time fits a wish that names a day. If that day has free times at other hours, those; if it has
    none at all ("fredag", and nobody meets on Fridays), an honest "no free times on Friday" and the times of
    the nearest days that have some."""
    free = free_slots(turn, limit=ALL_SLOTS)
    that_day = matching(replace(wish, hour=None, minute=None, part=None), free, today)
    if that_day:
        turn.say(turn.t("no_time_like_that"))
        show_page(turn, [slot_key(s) for s in that_day[:SLOTS_PER_PAGE]], "times_that_day")
        return
    day = wished_day(wish, today)
    by_day: dict[date, list[datetime]] = {}
    for slot in free:
        by_day.setdefault(slot.astimezone(ZONE).date(), []).append(slot)
    before = [d for d in by_day if d < day][-1:]
    after = [d for d in by_day if d > day][: 2 - len(before) if before else 2]
    nearest = [*before, *after]  # the nearest free day before and the nearest after (or two after)
    if not nearest:
        no_slots(turn)
        return
    names = format_list([format_day(d, turn.lang) for d in nearest], turn.lang)
    turn.say(turn.t("no_times_on_day", day=format_day(day, turn.lang), days=names))
    per_day = SLOTS_PER_PAGE // len(nearest)
    keys = [slot_key(s) for d in nearest for s in by_day[d][:per_day]]
    show_page(turn, keys, "choose_time")


def introduction(text: str, keywords: frozenset[str]) -> tuple[str, str] | None:
    """("Amina", "vill boka") for "jag heter Amina och vill boka": a name given with what the person wants."""
    text = " ".join(text.split())
    introduced = _NAME_INTRO.match(text)
    if introduced is None:
        return None
    kind, name = read_name(text, keywords)
    if kind != "name" or not name:
        return None
    rest = introduced.group(1)[len(name):] if introduced.group(1).startswith(name) else ""
    rest = re.sub(r"^[\s,.!]*(?:och|and|,)?\s*", "", rest).strip()
    return name, rest


def early_details(turn: Turn, text: str) -> bool:
    """A name ("jag heter Amina") or a phone number written before a time is chosen: kept for later, and
    the times offered again, so nobody gets the fallback for answering the next question early."""
    if turn.state.flow != "booking.slot":
        return False
    reading = read_phone(text)
    if reading.e164:
        turn.update(phone=reading.e164, reach="phone")
        turn.say(turn.t("kept_choose_time_first"))
        prompt_slot(turn)
        return True
    introduced = introduction(text, turn.ctx.content.keywords)
    name = introduced[0] if introduced is not None else bare_name(turn, text)
    if name is not None:
        turn.update(name=name)
        turn.say(turn.t("kept_choose_time_first"))
        prompt_slot(turn)
        return True
    return False


def bare_name(turn: Turn, text: str) -> str | None:
    """"Lars Nilsson", "فاطمة" typed while the times are shown: a name written as names are (each word with a
    capital, or in a script without capitals), that is no greeting, button word or question the content answers."""
    kind, name = read_name(text, turn.ctx.content.keywords)
    if kind != "name" or not name or _NAME_INTRO.match(text):
        return None
    if not all(word[0].isupper() or word[0].lower() == word[0].upper() for word in name.split()):
        return None
    folded = fold(text)
    if small_talk(text, folded) or folded in texts.label_forms(turn.ctx.content):
        return None
    return name if turn.ctx.matcher.match(text).topic is None else None


def names_a_time(text: str) -> bool:
    """'torsdag', 'kl 13', 'next Monday at 10': the text names a day or a time of day."""
    wish = read_wish(text, date(2000, 1, 1))  # any day will do: only whether it names a time matters
    return wish.has_day or wish.hour is not None


# --- the name ------------------------------------------------------------------------------------------


def prompt_name(turn: Turn) -> None:
    turn.go("booking.name", open_=("skip",))
    turn.say(turn.t("ask_name"), [Choice(turn.t("button_skip"), "skip"), *turn.step_choices()])


def read_name(text: str, keywords: frozenset[str]) -> tuple[str, str | None]:
    """("name", the name) | ("skip", None) | ("stop", None) | ("not", None) for text at the name step.

    Any alphabet is a name (Åsa, Nguyễn, Al-Hassan, O'Brien, محمد); a word that is also a word ("Hope",
    "Rose") is a name here. Questions, yes/no and refusals are never names.
    """
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    folded = fold(text)
    yes, no = texts.word_set("yes", split=True), texts.word_set("no", split=True)
    skip_name, stop = texts.word_set("skip_name"), texts.word_set("stop")
    if folded and (folded in skip_name or folded in no):
        return "skip", None
    if folded and folded in stop:
        return "stop", None
    if "?" in text or folded in yes:
        return "not", None
    introduced = _NAME_INTRO.match(text)
    candidate = _TRAILING.sub("", introduced.group(1) if introduced else text).strip(" ,.!")
    if introduced:  # "jag heter Anna och bor i Sundsvall": the name ends where the sentence goes on
        kept: list[str] = []
        for word in re.split(r"[\s,]+", candidate):
            if kept and (fold(word) in STOPWORDS or fold(word) in _NAME_ENDS):
                break
            kept.append(word)
        candidate = " ".join(kept).strip(" ,.!")
    if len(candidate) < 2 or len(candidate) > MAX_NAME or not _NAME.match(candidate):
        return "not", None  # one letter ("I", "a") is a typo or a word, never a first name
    if not all(ch.isalpha() or unicodedata.category(ch).startswith("M") or not ch.isalnum() for ch in candidate):
        return "not", None  # "A²": a superscript or other number sign is no letter of a name
    words = fold(candidate).split()
    if words and fold(candidate) in skip_name | stop:
        return "skip", None
    if not introduced:
        if any(w in keywords for w in words):
            return "not", None  # "lönebidrag" at the name step is a question
        if names_a_time(text):
            return "not", None  # "torsdag", "kl 13": a time, not a name
        if len(candidate.split()) > 1 and any(w in STOPWORDS for w in words):
            return "not", None  # "vad är asf", "hur gör jag"
        if len(candidate.split()) > MAX_NAME_WORDS:
            return "not", None
    return "name", candidate


def text_name(turn: Turn, text: str, folded: str) -> bool:
    kind, name = read_name(text, turn.ctx.content.keywords)
    if kind == "name" and fold(text) in texts.label_forms(turn.ctx.content):
        return False  # "fortsätt", "Avbryt", "Meny": a button's word, never kept as a name
    if kind == "not" and read_phone(text).e164:  # "070 555 1234" before the name: kept, and the name asked again
        turn.update(phone=read_phone(text).e164, reach="phone")
        turn.say(turn.t("kept_phone_ask_name"))
        prompt_name(turn)
        return True
    if kind == "not" and names_a_time(text):
        return new_time(turn, text, folded)  # "kan vi ta torsdag istället": the times again, the rest kept
    if kind == "skip":
        skip_name(turn, "")
    elif kind == "stop":
        cancel(turn)
    elif kind == "name":
        turn.update(name=name)
        after_name(turn)
    else:
        return False
    return True


def skip_name(turn: Turn, value: str) -> None:
    turn.update(name=None)
    after_name(turn)


def after_name(turn: Turn) -> None:
    if "reach" in turn.data:  # the way to be reached is known (a correction, or a number given early)
        prompt_confirm(turn)
    else:
        prompt_contact(turn)


# --- how to be reached ---------------------------------------------------------------------------------

CHAT_WORDS = frozenset(fold(w) for w in ("chatten", "här i chatten", "i chatten", "chat", "here", "här",
                                         "in the chat", "here in the chat", "skriv", "write"))  # fmt: skip
CALL_WORDS = frozenset(fold(w) for w in ("ring", "ring mig", "call", "call me", "telefon", "phone", "samtal"))


def prompt_contact(turn: Turn) -> None:
    if not turn.can.can_push or not turn.can.private_chat:  # nobody can write to them here later: a phone call
        prompt_phone(turn)
        return
    turn.go("booking.contact", open_=("reach:chat", "reach:phone"))
    turn.say(
        turn.t("ask_contact", contact_name=turn.region.contact.name),
        [
            Choice(turn.t("button_contact_chat"), "reach:chat"),
            Choice(turn.t("button_contact_phone"), "reach:phone"),
            *turn.step_choices(),
        ],
    )


def reach_button(turn: Turn, value: str) -> None:
    if value == "phone":
        prompt_phone(turn)
    else:
        turn.update(phone=None, reach="chat")
        prompt_confirm(turn)


def text_contact(turn: Turn, text: str, folded: str) -> bool:
    if read_phone(text).e164 or read_phone(text).problem != "none":
        return text_phone(turn, text, folded)
    if folded in CHAT_WORDS:
        reach_button(turn, "chat")
    elif folded in CALL_WORDS:
        reach_button(turn, "phone")
    else:
        return late_details(turn, text, folded, prompt_contact)
    return True


def new_time(turn: Turn, text: str, folded: str) -> bool:
    """A day or time typed after the time was chosen ("nej, torsdag istället" at the name or phone question): back to
    the times, reading the new wish there; the name and number given so far are kept."""
    turn.go("booking.slot")
    turn.update(slots=[])
    return text_slot(turn, text, folded)


def late_details(turn: Turn, text: str, folded: str, prompt: Callable[[Turn], None]) -> bool:
    """At the contact or phone question: a new day or time, or a first name ("Lars") given late, is taken (the name
    said back, and the question asked again), never the fallback."""
    if names_a_time(text) and not read_phone(text).e164:
        return new_time(turn, text, folded)
    introduced = introduction(text, turn.ctx.content.keywords)
    name = introduced[0] if introduced is not None else bare_name(turn, text)
    if name is None:
        return False
    turn.update(name=name)
    turn.say(turn.t("kept_name_ask_phone", name=name))
    prompt(turn)
    return True


def prompt_phone(turn: Turn) -> None:
    turn.go("booking.phone")
    prompt = turn.t("ask_phone")
    if not turn.can.can_push:
        prompt = turn.t("phone_needed", contact_name=turn.region.contact.name) + " " + prompt
    turn.say(prompt, turn.step_choices())


def text_phone(turn: Turn, text: str, folded: str) -> bool:
    reading = read_phone(text)
    if reading.e164:
        turn.update(phone=reading.e164, reach="phone")
        prompt_confirm(turn)
        return True
    if reading.problem == "not_personal":
        turn.say(turn.t("phone_not_personal"), turn.step_choices())
        return True
    if reading.problem == "invalid":
        turn.say(turn.t("bad_phone"), turn.step_choices())
        return True
    if turn.can.can_push and folded in CHAT_WORDS:
        reach_button(turn, "chat")
        return True
    return late_details(turn, text, folded, prompt_phone)


def back_from_phone(turn: Turn) -> FlowName | None:
    return "booking.contact" if turn.can.can_push else "booking.name"


# --- confirming ----------------------------------------------------------------------------------------

# Corrections at the confirmation, by what they name: "nej, namnet är fel", "change the time".
CORRECTIONS: dict[FlowName, frozenset[str]] = {
    "booking.slot": frozenset("tid tiden tiderna time dag dagen day datum date when".split()),
    "booking.name": frozenset("namn namnet name heter".split()),
    "booking.phone": frozenset("nummer numret number telefon telefonnummer telefonnumret phone mobil".split()),
    "booking.contact": frozenset("kontakt kontakten contact reach chatten chat".split()),
}


def prompt_confirm(turn: Turn) -> None:
    data = turn.data
    region = turn.region
    phone = data.get("phone")
    slot = data.get("slot", "")
    turn.go("booking.confirm", open_=("confirm", "change"))
    turn.say(
        turn.t(
            "confirm_booking",
            contact_name=region.contact.name,
            when=turn.when(slot),
            place=turn.place_text(phone),
            name=data.get("name") or turn.t("name_none"),
            reach=format_phone(phone) if phone else turn.t("reach_chat"),
            retention=turn.ctx.retention_days,
            delete=turn.cmd("delete"),
            privacy=turn.cmd("privacy"),
        ),
        [
            Choice(turn.t("button_confirm"), "confirm"),
            Choice(turn.t("button_change"), "change"),
            *turn.step_choices(),
        ],
    )


def correction(folded: str) -> FlowName | None:
    words = set(folded.split())
    for step, names in CORRECTIONS.items():
        if words & names:
            return step
    return None


def go_back_to(turn: Turn, step: FlowName) -> None:
    """Return to an earlier step from the confirmation; once answered, it comes back to the confirmation."""
    turn.update(back_to="booking.confirm")
    if step == "booking.slot":
        turn.go("booking.slot")
        first_page(turn)
    elif step == "booking.name":
        prompt_name(turn)
    elif step == "booking.phone":
        prompt_phone(turn)
    else:
        prompt_contact(turn)


def fits_chosen(turn: Turn, text: str) -> bool:
    """'ja, tisdag passar': the time named is the one already chosen (a yes, not a change)."""
    chosen = parse_key(turn.data.get("slot"))
    today = turn.now.astimezone(ZONE).date()
    return chosen is not None and bool(matching(read_wish(text, today), [chosen], today))


def text_confirm(turn: Turn, text: str, folded: str) -> bool:
    words = set(folded.split())
    if names_a_time(text) and not read_phone(text).e164 and not fits_chosen(turn, text):
        # "nej vänta, kan vi ta fredag istället": back to the times, reading the new wish there
        turn.update(back_to="booking.confirm")
        turn.go("booking.slot")
        text_slot(turn, text, folded)
        return True
    yes, no = texts.word_set("yes", split=True), texts.word_set("no", split=True)
    step = correction(folded)
    if step is not None and (words & no or words & {"andra", "change", "byt", "byta", "annan", "another", "fel",
                                                   "wrong", "ny", "new", "rätta", "ratta", "fix"}):  # fmt: skip
        go_back_to(turn, step)
        return True
    reading = read_phone(text)
    if reading.e164:  # a new number written straight away
        turn.update(phone=reading.e164, reach="phone")
        prompt_confirm(turn)
        return True
    if len(words) > 4 or not words & (yes | no):
        return False
    if words & yes and not words & no:
        book(turn)
    else:
        turn.say(turn.t("what_to_change"), change_choices(turn))
    return True


def change_choices(turn: Turn) -> list[Choice]:
    choices = [
        Choice(turn.t("button_change_time"), "fix:time"),
        Choice(turn.t("button_change_name"), "fix:name"),
        Choice(turn.t("button_change_contact"), "fix:contact"),
    ]
    turn.set(open=(*turn.state.open, "fix:time", "fix:name", "fix:contact"))
    return [*choices, *turn.step_choices()]


def change_button(turn: Turn, value: str) -> None:
    turn.say(turn.t("what_to_change"), change_choices(turn))


def fix_button(turn: Turn, value: str) -> None:
    step: FlowName = {"time": "booking.slot", "name": "booking.name"}.get(value, "booking.contact")  # type: ignore[assignment]
    if step == "booking.contact" and not turn.can.can_push:
        step = "booking.phone"
    go_back_to(turn, step)


def back_from_confirm(turn: Turn) -> FlowName | None:
    if turn.data.get("reach") == "phone":
        return "booking.phone"
    return "booking.contact" if turn.can.can_push else "booking.name"


def book(turn: Turn, value: str = "") -> None:
    data = turn.data
    key = data.get("slot")
    if not key or key in turn.taken():
        slot_gone(turn)
        return
    if not still_open(turn, key):
        slot_gone(turn, passed=True)
        return
    region = turn.region
    booking_id = turn.ctx.new_id()
    turn.effects.append(CreateBooking(booking_id, region.id, key, data.get("name"), data.get("phone"), turn.lang))
    turn.effects.append(Record("booking"))
    turn.leave_flow()
    turn.update(booked=key)  # a confirmation sent twice (a double tap, a resend) is told it is booked, never books again
    turn.say(
        turn.t(
            "booked",
            contact_name=region.contact.name,
            when=turn.when(key),
            place=turn.place_text(data.get("phone")),
            reminder=turn.t("reminder_chat" if turn.can.can_push else "reminder_calendar"),
            mybookings=turn.cmd("mybookings"),
        ),
        turn.menu_choices(),
        calendar_file(turn, booking_id, parse_slot_key(key), data.get("phone")),
    )


LIMIT_TEXTS = {"person": "booking_limit_person", "changes": "booking_limit_changes", "region": "booking_limit_region"}


def limit_reached(turn: Turn, reason: str, limit: int) -> None:
    """The engine refused the booking at a limit (bot/booking/limits.py): nothing is booked; say so kindly, with the
    person to call instead."""
    region = turn.region
    turn.leave_flow()
    turn.say(
        turn.t(LIMIT_TEXTS.get(reason, "booking_limit_region"), max=limit,
               region=region.name[turn.lang], contact_name=region.contact.name,
               contact_phone=region.contact.phone),
        turn.menu_choices(),
    )  # fmt: skip


def confirm_lost(turn: Turn) -> None:
    """The last confirmation never committed (a crash): say so, and offer the times again; the name and the contact
    are kept, and a chosen time comes back to the confirmation."""
    turn.say(turn.t("confirm_lost"))
    if turn.state.flow != "booking.confirm" or turn.state.region is None:
        turn.leave_flow()
        turn.main_menu()
        return
    go_back_to(turn, "booking.slot")


def calendar_file(turn: Turn, booking_id: str, start_at: datetime, phone: str | None, *, sequence: int = 0,
                  cancel: bool = False, region: Region | None = None) -> Attachment:  # fmt: skip
    """The meeting as a calendar file; the same UID with a higher SEQUENCE updates it, METHOD:CANCEL
    removes it, so the person's calendar follows a move or a cancellation."""
    region = region or turn.region
    title = turn.t("calendar_title", contact_name=region.contact.name)
    ics = meeting_ics(
        uid=f"{booking_id}@socialbot",
        start=start_at.astimezone(ZONE),
        minutes=region.availability.meeting_minutes,
        summary=title,
        description=f"{region.contact.name}, {region.contact.role[turn.lang]}, {region.contact.organisation}. "
        f"{region.contact.phone}",
        location=meeting_place(region, turn.lang, phone),
        now=turn.now,
        sequence=sequence,
        cancel=cancel,
    )
    return Attachment("meeting.ics", ics, "text/calendar")


def update_sequence(turn: Turn, cancel: bool = False) -> int:
    """A calendar update's SEQUENCE: seconds since 2026, so every later change of a meeting is higher;
    a cancellation is the last word about a meeting, so it is one higher still."""
    return max(1, int((turn.now - _SEQUENCE_EPOCH).total_seconds())) + (1 if cancel else 0)


def cancel(turn: Turn) -> None:
    """Leave the booking flow and say so: nothing is thrown away silently."""
    turn.leave_flow()
    turn.say(stopped(turn), turn.menu_choices())


def stopped(turn: Turn) -> str:
    """What stopping a booking says: "nothing is booked", or, for someone with meetings booked already, that those
    stay (never "nothing is booked" above a booked meeting)."""
    booked = turn.ctx.view.my_bookings if turn.can.private_chat else ()
    if not booked:
        return turn.t("cancelled_booking")
    return turn.t("cancelled_booking_kept", when=format_list([turn.when(b.slot) for b in booked], turn.lang))


STEPS = (
    Step("booking.slot", "booking", prompt_slot, text_slot, {"slot": pick, "book": page_button}),
    Step("booking.name", "booking", prompt_name, text_name, {"skip": skip_name}, lambda turn: "booking.slot"),
    Step("booking.contact", "booking", prompt_contact, text_contact, {"reach": reach_button},
         lambda turn: "booking.name"),
    Step("booking.phone", "booking", prompt_phone, text_phone, {}, back_from_phone),
    Step("booking.confirm", "booking", prompt_confirm, text_confirm,
         {"confirm": book, "change": change_button, "fix": fix_button}, back_from_confirm),
)  # fmt: skip
