"""The dialog: a pure state machine. `step(state, event, context)` -> `Outcome(state, replies, effects)`.

It knows nothing of Telegram, terminals or databases. Whatever it needs from the world comes in the
`Context` (content, matcher, a read-only `View` with the clock and bookings), and whatever must change in
the world goes out as effects that the engine applies in one transaction.

Button data is never trusted. Navigation buttons (language, region, menus, topics) only ever show
something, so they are accepted whenever they name something that exists. Buttons that change data
(a slot, confirm, cancel a booking, delete) must be among `state.open`, the choices offered last: a
forged, stale or replayed press changes nothing and gets a polite "no longer open".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.booking.calendar import meeting_ics
from bot.booking.phone import format_swedish_phone, parse_swedish_phone
from bot.booking.slots import parse_slot_key, slot_key, upcoming_slots
from bot.content import Content, Region, Topic
from bot.dialog import texts
from bot.dialog.model import (
    TELEGRAM,
    Attachment,
    BookingInfo,
    ButtonPress,
    CancelBooking,
    Capabilities,
    Choice,
    CommandMessage,
    CreateBooking,
    DeleteEverything,
    Effect,
    Event,
    MoveBooking,
    Outcome,
    Record,
    Reply,
    SlotTaken,
    State,
    Unsupported,
    View,
)
from bot.matching import Match, Matcher
from bot.matching.normalize import fold
from bot.safety.crisis import CrisisDetector, CrisisHit

IDLE_TIMEOUT = timedelta(minutes=30)
MAX_TEXT = 2000  # longer messages are read from the start; the matcher reads even less
SLOTS_PER_PAGE = 6
MAX_UPCOMING_BOOKINGS = 3  # per conversation: enough for real use, a brake on someone filling the calendar
ZONE = ZoneInfo("Europe/Stockholm")

MENUS: dict[str, tuple[str, ...]] = {
    "about": ("social-enterprise", "wise", "enterprises", "project"),
    "jobseeker": ("find-work", "who-can-join", "pay-and-terms", "wage-subsidy", "work-training",
                  "rehabilitation", "benefits", "enterprises"),
    "founder": ("start", "business-idea", "business-plan", "legal-form", "funding", "selling", "handbook",
                "coompanion", "network"),
    "support": ("support-overview", "arbetsformedlingen", "forsakringskassan", "samordningsforbundet",
                "naringslivsbolaget", "municipality", "region", "coompanion"),
}  # fmt: skip
YES = frozenset(
    [
        "ja",
        "japp",
        "jo",
        "jaa",
        "okej",
        "ok",
        "yes",
        "yep",
        "yeah",
        "y",
        "sure",
        "absolut",
        "gärna",
        "garna",
        "boka",
    ]
)
NO = frozenset(["nej", "nä", "na", "no", "nope", "n"])
LEAVE = frozenset(["avbryt", "avsluta", "stopp", "stop", "sluta", "cancel", "quit", "exit", "abort"])
_INVISIBLE = {"Cc", "Cf", "Co", "Cs", "Cn"}


@dataclass(frozen=True)
class Context:
    content: Content
    matcher: Matcher
    view: View
    new_id: Callable[[], str] = field(default=lambda: "b0")  # the engine passes a random id maker
    retention_days: int = 90
    capabilities: Capabilities = TELEGRAM  # what the channel can keep; the engine sets it
    crisis: CrisisDetector | None = None  # notices a person in crisis, before anything else


def step(state: State | None, event: Event, ctx: Context) -> Outcome:
    """Handle one event. Every event gets at least one reply."""
    return _Turn(state or State(), ctx).run(event)


class _Turn:
    """One step's working memory: the state so far, replies and effects collected on the way."""

    def __init__(self, state: State, ctx: Context) -> None:
        self.state = state
        self.ctx = ctx
        self.replies: list[Reply] = []
        self.effects: list[Effect] = []
        self.forget = False

    # --- plumbing -------------------------------------------------------------------------------

    @property
    def lang(self) -> str:
        return self.state.lang or "sv"

    @property
    def region(self) -> Region:
        return self.ctx.content.region(self.state.region)

    @property
    def can(self) -> Capabilities:
        return self.ctx.capabilities

    def t(self, key: str, **values: object) -> str:
        return texts.text(key, self.lang, **values)

    def cmd(self, name: str) -> str:
        """How the person reaches a command on this channel: '/mybookings', or the words to write."""
        return texts.command_hint(name, self.lang, self.can.has_commands)

    def say(self, text: str, choices: Sequence[Choice] = (), attachment: Attachment | None = None) -> None:
        self.replies.append(Reply(text, tuple(choices), attachment))

    def set(self, **changes: object) -> None:
        self.state = self.state.with_(**changes)

    def leave_flow(self) -> None:
        self.set(flow="idle", data={}, open=())

    def run(self, event: Event) -> Outcome:
        now = self.ctx.view.now
        if self.state.flow != "idle" and _idle_too_long(self.state.updated, now):
            self.leave_flow()
            self.say(self.t("idle_reset"))
            if isinstance(event, ButtonPress):  # a press on the old flow's buttons: show where we are now
                self.main_menu()
                return self.finish(now)
        self.dispatch(event)
        return self.finish(now)

    def finish(self, now: datetime) -> Outcome:
        if not self.replies:  # a safety net: the promise is that every event gets a reply
            self.main_menu()
        if self.forget:
            return Outcome(None, tuple(self.replies), tuple(self.effects))
        self.set(updated=now.isoformat())
        return Outcome(self.state, tuple(self.replies), tuple(self.effects))

    def dispatch(self, event: Event) -> None:
        if isinstance(event, Unsupported):
            self.say(self.t("edited" if event.kind == "edited" else "only_text"), self.reprompt_choices())
        elif isinstance(event, SlotTaken):
            self.slot_taken()
        elif isinstance(event, CommandMessage):
            self.command(event.name.lower(), event.argument.strip())
        elif isinstance(event, ButtonPress):
            self.button(event.data)
        else:
            self.text(event.text)

    # --- first contact, language and region ----------------------------------------------------

    def welcome(self) -> None:
        self.set(open=())
        choices = [Choice(name, f"lang:{code}") for code, name in texts.LANGUAGE_NAMES.items()]
        self.say(texts.text("welcome", "sv") + "\n\n" + texts.text("welcome", "en"), choices)

    def ask_region(self, pending: str | None = None) -> None:
        data = {"pending": pending} if pending else {}
        self.set(flow="choose_region", data=data, open=())
        choices = [Choice(r.name[self.lang], f"region:{r.id}") for r in self.ctx.content.regions.values()]
        self.say(self.t("choose_region"), choices)

    def choose_language(self, lang: str) -> None:
        first_time = self.state.lang is None
        self.set(lang=lang)
        if self.state.region is None:
            self.ask_region(self.state.data.get("pending"))
        elif not first_time:
            self.say(self.t("language_set"), self.menu_choices())
        else:
            self.main_menu()

    def choose_region(self, region_id: str) -> None:
        pending = self.state.data.get("pending") if self.state.flow == "choose_region" else None
        self.set(region=region_id)
        if self.state.flow == "choose_region":
            self.leave_flow()
        if pending:
            self.say(self.t("region_set", region=self.region.name[self.lang]))
            self.resume(pending)
        else:
            self.say(self.t("region_set", region=self.region.name[self.lang]), self.menu_choices())

    def resume(self, pending: str) -> None:
        """Carry on with what the person wanted before we had to ask for the region."""
        if pending == "book":
            self.start_booking()
        elif pending.startswith("topic:") and pending[6:] in self.ctx.content.topics:
            self.show_topic(self.ctx.content.topics[pending[6:]])
        else:
            self.main_menu()

    # --- menus ----------------------------------------------------------------------------------

    def menu_choices(self) -> list[Choice]:
        return [Choice(self.t("button_menu"), "menu")]

    def main_menu(self) -> None:
        if self.state.lang is None:
            self.welcome()
            return
        choices = [
            Choice(self.t(f"menu_{name}"), f"menu:{name}")
            for name in ("about", "jobseeker", "founder", "support")
        ]
        choices.append(Choice(self.t("menu_person"), "menu:person"))
        self.say(self.t("menu"), choices)

    def submenu(self, name: str) -> None:
        if name == "person":
            choices = [
                Choice(self.t("button_contact"), "topic:contact"),
                Choice(self.t("button_book"), "book"),
                Choice(self.t("button_mybookings"), "mybookings"),
            ]
        else:
            topics = self.ctx.content.topics
            choices = [Choice(topics[t].title[self.lang], f"topic:{t}") for t in MENUS[name] if t in topics]
        choices.append(Choice(self.t("button_menu"), "menu"))
        self.say(self.t("submenu"), choices)

    def reprompt_choices(self) -> list[Choice]:
        """The buttons that make sense after an aside: those of the open flow, else the menu."""
        if self.state.flow == "idle":
            return self.menu_choices()
        return [Choice(self.t("button_cancel"), "cancel")]

    # --- commands -------------------------------------------------------------------------------

    def command(self, name: str, argument: str) -> None:
        if name == "start":
            payload = argument.lower()
            if payload in self.ctx.content.regions:
                self.set(region=payload)
            self.leave_flow()
            if self.state.lang is None:
                self.welcome()
            elif self.state.region is None:
                self.ask_region()
            else:
                self.main_menu()
            return
        if self.state.lang is None and name not in ("privacy", "delete", "help"):
            self.set(lang="sv")
        handlers: dict[str, Callable[[], None]] = {
            "help": lambda: self.show_topic_named("help"),
            "hjalp": lambda: self.show_topic_named("help"),
            "menu": self.to_menu,
            "meny": self.to_menu,
            "region": self.ask_region,
            "kommun": self.ask_region,
            "language": self.ask_language,
            "sprak": self.ask_language,
            "book": self.start_booking,
            "boka": self.start_booking,
            "mybookings": self.my_bookings,
            "privacy": lambda: self.show_topic_named("privacy"),
            "delete": self.ask_delete,
            "cancel": self.cancel_flow,
            "avbryt": self.cancel_flow,
        }
        handler = handlers.get(name)
        if handler is None:
            self.say(self.t("unknown_command"), self.reprompt_choices())
        else:
            handler()

    def to_menu(self) -> None:
        self.leave_flow()
        self.main_menu()

    def ask_language(self) -> None:
        choices = [Choice(name, f"lang:{code}") for code, name in texts.LANGUAGE_NAMES.items()]
        self.say("Välj språk / Choose language", choices)

    def cancel_flow(self) -> None:
        if self.state.flow == "idle":
            self.say(self.t("nothing_to_cancel"), self.menu_choices())
        else:
            self.leave_flow()
            self.say(self.t("cancelled_flow"), self.menu_choices())

    # --- buttons --------------------------------------------------------------------------------

    def button(self, data: str) -> None:
        data = data[: self.can.max_button_data]
        kind, _, value = data.partition(":")
        content = self.ctx.content
        if kind == "lang" and value in content.languages:
            self.choose_language(value)
        elif kind == "region" and value in content.regions:
            self.choose_region(value)
        elif data in self.state.open:
            self.open_choice(kind, value)
        elif self.state.lang is None:
            self.welcome()
        elif data == "menu":
            self.to_menu()
        elif kind == "menu" and (value in MENUS or value == "person"):
            self.submenu(value)
        elif kind == "topic" and value in content.topics:
            self.show_topic(content.topics[value])
        elif data == "book":
            self.start_booking()
        elif data == "mybookings":
            self.my_bookings()
        elif data == "cancel":
            self.cancel_flow()
        elif data == "resume":
            if self.state.flow == "idle":
                self.main_menu()
            else:
                self.remind_flow()
        elif data == "none":
            self.say(self.t("none_of_them", contact_name=self.region.contact.name), self.fallback_choices())
        else:
            self.say(self.t("choice_closed"), self.current_choices())

    def current_choices(self) -> list[Choice]:
        """Offer again what is open now, so that a stale press leads somewhere useful."""
        flow = self.state.flow
        if flow in ("booking.slot", "move.slot"):
            return self.slot_choices(self.state.data.get("slots", []), with_later=True)
        return self.reprompt_choices()

    def open_choice(self, kind: str, value: str) -> None:
        flow = self.state.flow
        if kind == "slot":
            self.pick_slot(value)
        elif kind == "book" and value == "later":
            self.offer_slots(after=self.state.data.get("after"), later=True)
        elif kind == "skip" and flow == "booking.name":
            self.set(data={**self.state.data, "name": None})
            self.ask_contact()
        elif kind == "reach" and flow == "booking.contact":
            if value == "phone":
                self.ask_phone()
            else:
                self.set(data={**self.state.data, "phone": None, "reach": "chat"})
                self.confirm_booking()
        elif kind == "confirm" and flow == "booking.confirm":
            self.book()
        elif kind == "confirm" and flow == "move.confirm":
            self.move()
        elif kind == "cancelbooking":
            self.ask_cancel(value)
        elif kind == "move":
            self.start_move(value)
        elif kind == "yes" and flow == "cancel.confirm":
            self.cancel_booking()
        elif kind == "no" and flow == "cancel.confirm":
            self.leave_flow()
            self.say(self.t("kept"), self.menu_choices())
        elif kind == "delete" and flow == "delete.confirm":
            self.delete(value == "yes")
        else:
            self.say(self.t("choice_closed"), self.current_choices())

    # --- free text ------------------------------------------------------------------------------

    def text(self, raw: str) -> None:
        text = _clean(raw)
        if not text:
            self.say(self.t("empty"), self.reprompt_choices())
            return
        if len(text) > MAX_TEXT:
            text = text[:MAX_TEXT]
            self.say(self.t("too_long"))
        crisis = self.ctx.crisis.check(text) if self.ctx.crisis else None
        if crisis is not None:
            self.crisis(crisis)
            return
        folded = fold(text)
        if self.state.lang is None:
            detected = self.ctx.matcher.language(text) if folded else None
            if detected is None or _small_talk(folded):
                self.welcome()
                return
            self.set(lang=detected)
        if folded in LEAVE:
            self.cancel_flow()
            return
        if folded in _COMMAND_PHRASES:  # "mina bokningar", "delete my data": what a web chat has for /commands
            self.command(_COMMAND_PHRASES[folded], "")
            return
        flow = self.state.flow
        handler = {
            "choose_region": self.text_region,
            "booking.name": self.text_name,
            "booking.phone": self.text_phone,
            "booking.contact": self.text_phone,
            "booking.confirm": self.text_yes_no,
            "move.confirm": self.text_yes_no,
            "cancel.confirm": self.text_yes_no,
            "delete.confirm": self.text_yes_no,
        }.get(flow)
        if handler is None or not handler(text, folded):
            self.question(text, folded)
            if flow != "idle" and self.state.flow == flow:
                self.remind_flow()

    def text_region(self, text: str, folded: str) -> bool:
        for region in self.ctx.content.regions.values():
            names = {fold(region.id), fold(region.name["sv"]), fold(region.name["en"])}
            if folded in names or any(n in folded.split() for n in names):
                self.choose_region(region.id)
                return True
        return False

    def text_name(self, text: str, folded: str) -> bool:
        if folded in YES | NO or not _looks_like_name(text) or self.clearly_a_question(text):
            return False
        self.set(data={**self.state.data, "name": " ".join(text.split())[:40]})
        self.ask_contact()
        return True

    def text_phone(self, text: str, folded: str) -> bool:
        phone = parse_swedish_phone(text)
        if phone:
            self.set(data={**self.state.data, "phone": phone, "reach": "phone"})
            self.confirm_booking()
            return True
        if sum(ch.isdigit() for ch in text) >= 5:  # meant as a number, but not a valid one
            self.say(self.t("bad_phone"), [Choice(self.t("button_cancel"), "cancel")])
            return True
        return False

    def text_yes_no(self, text: str, folded: str) -> bool:
        words = set(folded.split())
        if len(words) > 3 or not (words & (YES | NO)):
            return False
        yes = bool(words & YES) and not (words & NO)
        flow = self.state.flow
        if flow == "booking.confirm":
            self.book() if yes else self.cancel_flow()
        elif flow == "move.confirm":
            self.move() if yes else self.cancel_flow()
        elif flow == "cancel.confirm":
            self.cancel_booking() if yes else self.open_choice("no", "")
        elif flow == "delete.confirm":
            self.delete(yes)
        return True

    def clearly_a_question(self, text: str) -> bool:
        """A name-shaped text that is still a question: "lönebidrag?" or one naming a topic's keyword."""
        return "?" in text or any(word in self.ctx.content.keywords for word in fold(text).split())

    def remind_flow(self) -> None:
        """After answering an aside, show where the open flow stands so the person is never stuck."""
        flow = self.state.flow
        if flow == "choose_region":
            self.ask_region(self.state.data.get("pending"))
        elif flow in ("booking.slot", "move.slot"):
            slots = self.state.data.get("slots", [])
            self.say(self.t("still_booking", prompt=""), self.slot_choices(slots, with_later=True))
        elif flow == "booking.name":
            self.say(self.t("still_booking", prompt=self.t("ask_name")), self.name_choices())
        elif flow == "booking.contact":
            self.say(
                self.t("still_booking", prompt=self.t("ask_contact", contact_name=self.region.contact.name)),
                self.contact_choices(),
            )
        elif flow == "booking.phone":
            self.say(
                self.t("still_booking", prompt=self.t("ask_phone")),
                [Choice(self.t("button_cancel"), "cancel")],
            )
        elif flow in ("booking.confirm", "move.confirm"):
            self.say(self.t("still_booking", prompt=""), self.confirm_choices())
        elif flow == "cancel.confirm":
            self.ask_cancel(self.state.data.get("booking", ""))
        elif flow == "delete.confirm":
            self.ask_delete()

    # --- questions and answers ------------------------------------------------------------------

    def question(self, text: str, folded: str) -> None:
        kind = _small_talk(folded)
        if kind:
            self.say(self.t(kind), self.menu_choices())
            return
        match = self.ctx.matcher.match(text)
        if match.topic is None:
            self.effects.append(Record("fallback", band=match.band, unanswered=text))
            self.fallback()
            return
        self.effects.append(Record("question", topic=match.topic, band=match.band))
        if match.did_you_mean:
            topics = self.ctx.content.topics
            choices = [Choice(topics[t].title[self.lang], f"topic:{t}") for t in match.did_you_mean]
            choices.append(Choice(self.t("button_none"), "none"))
            self.say(self.t("did_you_mean"), choices)
            return
        self.show_topic(self.ctx.content.topics[match.topic], match)

    def crisis(self, hit: CrisisHit) -> None:
        """The numbers first, calmly; an offer of a person; and whatever we were doing kept as it was."""
        self.effects.append(Record("crisis"))  # counted, never with the text
        crisis = self.ctx.content.crisis
        answers = crisis.answer if crisis else texts.CRISIS_FALLBACK
        langs = [hit.lang] if hit.lang in answers else []
        if self.state.lang is not None:
            langs.append(self.state.lang)
        elif hit.lang not in ("sv", "en"):  # before a language is chosen: also the two we speak
            langs += ["sv", "en"]
        langs = list(dict.fromkeys(lang for lang in langs if lang in answers)) or ["sv"]
        lang = self.state.lang or ("en" if langs[0] == "en" else "sv")
        parts = [answers[code].strip() for code in langs]
        if self.state.region is not None:
            contact = self.region.contact
            parts.append(texts.text("crisis_contact", lang, contact_name=contact.name,
                                    contact_role=contact.role[lang], contact_phone=contact.phone))  # fmt: skip
        choices = [Choice(texts.text("menu_person", lang), "topic:contact")]
        if self.state.flow != "idle":
            parts.append(texts.text("crisis_flow_kept", lang))
            choices += [Choice(texts.text("button_continue", lang), "resume"), *self.reprompt_choices()]
        elif self.state.lang is None:
            choices += [Choice(name, f"lang:{code}") for code, name in texts.LANGUAGE_NAMES.items()]
        else:
            choices += self.menu_choices()
        self.say("\n\n".join(parts), choices)

    def fallback(self) -> None:
        region = self.region
        self.say(
            self.t(
                "fallback",
                region=region.name[self.lang],
                contact_name=region.contact.name,
                contact_phone=region.contact.phone,
            ),
            self.fallback_choices(),
        )

    def fallback_choices(self) -> list[Choice]:
        return [
            Choice(self.t("button_menu"), "menu"),
            Choice(self.t("button_contact"), "topic:contact"),
            Choice(self.t("button_book"), "book"),
        ]

    def show_topic_named(self, topic_id: str) -> None:
        self.show_topic(self.ctx.content.topics[topic_id])

    def show_topic(self, topic: Topic, match: Match | None = None) -> None:
        if topic.id == "book-meeting":
            self.start_booking()
            return
        if topic.id == "cancel-booking":
            self.my_bookings()
            return
        region_specific = any(region is not None for region, _ in topic.answers)
        if self.state.region is None and region_specific:
            self.ask_region(pending=f"topic:{topic.id}")
            return
        answer = topic.answer(self.region, self.lang)
        if match and match.lang and match.lang != self.lang:
            answer += "\n\n" + self.t("other_language_hint", language=self.cmd("language"))
        topics = self.ctx.content.topics
        choices = [Choice(topics[r].title[self.lang], f"topic:{r}") for r in topic.related if r in topics]
        choices.append(Choice(self.t("button_menu"), "menu"))
        self.say(answer, choices)

    # --- booking --------------------------------------------------------------------------------

    def start_booking(self) -> None:
        if self.state.region is None:
            self.ask_region(pending="book")
            return
        upcoming = self.ctx.view.my_bookings
        if len(upcoming) >= MAX_UPCOMING_BOOKINGS:
            self.my_bookings()
            return
        region = self.region
        self.say(
            self.t(
                "book_intro",
                contact_name=region.contact.name,
                contact_role=region.contact.role[self.lang],
                region=region.name[self.lang],
                minutes=region.availability.meeting_minutes,
                place=self.place_text(),
            )
        )
        self.set(flow="booking.slot", data={})
        self.offer_slots()

    def taken(self) -> frozenset[str]:
        return self.ctx.view.taken.get(self.region.id, frozenset())

    def place_text(self, phone: str | None = "") -> str:
        """How the meeting happens; `phone` None means the person chose to be reached in the chat."""
        return meeting_place(self.region, self.lang, phone)

    def offer_slots(self, after: str | None = None, later: bool = False) -> None:
        region = self.region
        after_time = _parse_key(after)
        taken = [parse_slot_key(k) for k in self.taken()]
        slots = upcoming_slots(
            region.availability, self.ctx.view.now, taken, after=after_time, limit=SLOTS_PER_PAGE
        )
        keys = [slot_key(s) for s in slots]
        if not keys:
            if later and self.state.data.get("slots"):
                keys = self.state.data["slots"]  # no later times: keep offering the ones we have
            else:
                self.leave_flow()
                self.say(
                    self.t("no_slots", contact_name=region.contact.name, contact_phone=region.contact.phone),
                    self.menu_choices(),
                )
                return
        data = {**self.state.data, "slots": keys, "after": keys[-1]}
        self.set(data=data, open=(*(f"slot:{k}" for k in keys), "book:later"))
        if self.state.flow not in ("booking.slot", "move.slot"):
            self.set(flow="booking.slot")
        self.say(
            self.t("book_later_times" if later else "choose_time"), self.slot_choices(keys, with_later=True)
        )

    def slot_choices(self, keys: Sequence[str], with_later: bool) -> list[Choice]:
        choices = [Choice(self.when(k), f"slot:{k}") for k in keys]
        if with_later:
            choices.append(Choice(self.t("button_later"), "book:later"))
        choices.append(Choice(self.t("button_cancel"), "cancel"))
        return choices

    def when(self, key: str) -> str:
        return format_when(parse_slot_key(key), self.lang)

    def pick_slot(self, key: str) -> None:
        if key not in self.state.data.get("slots", []):
            self.say(self.t("choice_closed"), self.current_choices())
            return
        if key in self.taken():
            self.slot_taken()
            return
        data = {**self.state.data, "slot": key}
        if self.state.flow == "move.slot":
            self.set(flow="move.confirm", data=data, open=("confirm",))
            old = self.find_booking(data.get("booking"))
            self.say(
                self.t("confirm_move", old=self.when(old.slot) if old else "?", when=self.when(key)),
                self.confirm_choices(),
            )
        elif "reach" in data:  # came back after losing a slot: name and contact are already known
            self.set(data=data)
            self.confirm_booking()
        else:
            self.set(flow="booking.name", data=data, open=("skip",))
            self.say(self.t("ask_name"), self.name_choices())

    def name_choices(self) -> list[Choice]:
        return [Choice(self.t("button_skip"), "skip"), Choice(self.t("button_cancel"), "cancel")]

    def ask_contact(self) -> None:
        if not self.can.can_push:  # nobody can write to them here later: the meeting is a phone call
            self.ask_phone()
            return
        self.set(flow="booking.contact", open=("reach:chat", "reach:phone"))
        self.say(self.t("ask_contact", contact_name=self.region.contact.name), self.contact_choices())

    def ask_phone(self) -> None:
        self.set(flow="booking.phone", open=())
        prompt = self.t("ask_phone")
        if not self.can.can_push:
            prompt = self.t("phone_needed", contact_name=self.region.contact.name) + " " + prompt
        self.say(prompt, [Choice(self.t("button_cancel"), "cancel")])

    def contact_choices(self) -> list[Choice]:
        return [
            Choice(self.t("button_contact_chat"), "reach:chat"),
            Choice(self.t("button_contact_phone"), "reach:phone"),
            Choice(self.t("button_cancel"), "cancel"),
        ]

    def confirm_choices(self) -> list[Choice]:
        return [Choice(self.t("button_confirm"), "confirm"), Choice(self.t("button_cancel"), "cancel")]

    def confirm_booking(self) -> None:
        data = self.state.data
        region = self.region
        phone = data.get("phone")
        self.set(flow="booking.confirm", open=("confirm",))
        self.say(
            self.t(
                "confirm_booking",
                contact_name=region.contact.name,
                when=self.when(data["slot"]),
                place=self.place_text(phone),
                name=data.get("name") or self.t("name_none"),
                reach=format_swedish_phone(phone) if phone else self.t("reach_chat"),
                retention=self.ctx.retention_days,
                delete=self.cmd("delete"),
                privacy=self.cmd("privacy"),
            ),
            self.confirm_choices(),
        )

    def book(self) -> None:
        data = self.state.data
        key = data.get("slot")
        if not key or key in self.taken():
            self.slot_taken()
            return
        region = self.region
        booking_id = self.ctx.new_id()
        self.effects.append(
            CreateBooking(booking_id, region.id, key, data.get("name"), data.get("phone"), self.lang)
        )
        self.effects.append(Record("booking"))
        self.leave_flow()
        start = parse_slot_key(key)
        self.say(
            self.t(
                "booked",
                contact_name=region.contact.name,
                when=self.when(key),
                place=self.place_text(data.get("phone")),
                reminder=self.t("reminder_chat" if self.can.can_push else "reminder_calendar"),
                mybookings=self.cmd("mybookings"),
            ),
            self.menu_choices(),
            self.calendar_file(booking_id, start, data.get("phone")),
        )

    def calendar_file(self, booking_id: str, start: datetime, phone: str | None) -> Attachment:
        region = self.region
        title = {"sv": "Möte med", "en": "Meeting with"}[self.lang]
        ics = meeting_ics(
            uid=f"{booking_id}@socialbot",
            start=start.astimezone(ZONE),
            minutes=region.availability.meeting_minutes,
            summary=f"{title} {region.contact.name}",
            description=f"{region.contact.name}, {region.contact.role[self.lang]}, {region.contact.organisation}. "
            f"{region.contact.phone}",
            location=self.place_text(phone),
            now=self.ctx.view.now,
        )
        return Attachment("meeting.ics", ics, "text/calendar")

    def slot_taken(self) -> None:
        flow = "move.slot" if self.state.flow.startswith("move") else "booking.slot"
        self.say(self.t("slot_taken"))
        data = {k: v for k, v in self.state.data.items() if k not in ("slot", "slots", "after")}
        self.set(flow=flow, data=data)
        self.offer_slots()

    # --- my bookings: list, cancel, move --------------------------------------------------------

    def my_bookings(self) -> None:
        bookings = self.ctx.view.my_bookings
        if not bookings:
            self.leave_flow()
            self.say(self.t("no_bookings"), [Choice(self.t("button_book"), "book"), *self.menu_choices()])
            return
        lines = [self.t("my_bookings")]
        choices: list[Choice] = []
        contacts = self.ctx.content.regions
        for booking in bookings:
            when = self.when(booking.slot)
            who = contacts[booking.region].contact.name if booking.region in contacts else booking.region
            lines.append(f"- {when}: {who}")
            choices.append(
                Choice(self.t("button_cancel_booking", when=when), f"cancelbooking:{booking.booking_id}")
            )
            choices.append(Choice(self.t("button_move_booking", when=when), f"move:{booking.booking_id}"))
        choices += self.menu_choices()
        self.set(flow="idle", data={}, open=tuple(c.data for c in choices if c.data != "menu"))
        self.say("\n".join(lines), choices)

    def find_booking(self, booking_id: object) -> BookingInfo | None:
        return next((b for b in self.ctx.view.my_bookings if b.booking_id == booking_id), None)

    def ask_cancel(self, booking_id: str) -> None:
        booking = self.find_booking(booking_id)
        if booking is None:
            self.say(self.t("choice_closed"), [Choice(self.t("button_mybookings"), "mybookings")])
            return
        self.set(flow="cancel.confirm", data={"booking": booking_id}, open=("yes", "no"))
        self.say(
            self.t("confirm_cancel", when=self.when(booking.slot)),
            [Choice(self.t("button_yes_cancel"), "yes"), Choice(self.t("button_no_keep"), "no")],
        )

    def cancel_booking(self) -> None:
        booking = self.find_booking(self.state.data.get("booking"))
        self.leave_flow()
        if booking is None:
            self.say(self.t("choice_closed"), [Choice(self.t("button_mybookings"), "mybookings")])
            return
        self.effects += [CancelBooking(booking.booking_id), Record("cancelled")]
        contact = self.ctx.content.region(booking.region).contact
        self.say(
            self.t("booking_cancelled", when=self.when(booking.slot), contact_name=contact.name),
            self.menu_choices(),
        )

    def start_move(self, booking_id: str) -> None:
        booking = self.find_booking(booking_id)
        if booking is None:
            self.say(self.t("choice_closed"), [Choice(self.t("button_mybookings"), "mybookings")])
            return
        self.set(region=booking.region, flow="move.slot", data={"booking": booking_id})
        self.say(self.t("move_choose", when=self.when(booking.slot)))
        self.offer_slots()

    def move(self) -> None:
        data = self.state.data
        booking = self.find_booking(data.get("booking"))
        key = data.get("slot")
        if booking is None:
            self.leave_flow()
            self.say(self.t("choice_closed"), [Choice(self.t("button_mybookings"), "mybookings")])
            return
        if not key or key in self.taken():
            self.slot_taken()
            return
        self.effects += [MoveBooking(booking.booking_id, key), Record("moved")]
        self.leave_flow()
        contact = self.ctx.content.region(booking.region).contact
        self.say(
            self.t("booking_moved", when=self.when(key), contact_name=contact.name),
            self.menu_choices(),
            self.calendar_file(booking.booking_id, parse_slot_key(key), booking.phone),
        )

    # --- personal data --------------------------------------------------------------------------

    def ask_delete(self) -> None:
        self.set(flow="delete.confirm", data={}, open=("delete:yes", "delete:no"))
        self.say(
            self.t("confirm_delete"),
            [Choice(self.t("button_yes_delete"), "delete:yes"), Choice(self.t("button_no"), "delete:no")],
        )

    def delete(self, yes: bool) -> None:
        if not yes:
            self.leave_flow()
            self.say(self.t("not_deleted"), self.menu_choices())
            return
        self.effects += [DeleteEverything(), Record("deleted")]
        self.forget = True
        self.say(self.t("deleted"))


# --- small pure helpers ----------------------------------------------------------------------------


def meeting_place(region: Region, lang: str, phone: str | None = "") -> str:
    """The region's words for how a meeting happens. A phone meeting with someone who chose to be reached
    in the chat gets a line that does not promise a call to a number they never gave."""
    if phone is None and region.place_kind == "phone":
        return texts.text("place_chat", lang, contact_name=region.contact.name)
    return region.fill(region.place[lang], lang)


def format_when(start: datetime, lang: str) -> str:
    """'tis 1 dec kl. 09:00' / 'Tue 1 Dec at 09:00', in Swedish time."""
    local = start.astimezone(ZONE)
    day = texts.WEEKDAY_NAMES[lang][local.weekday()]
    month = texts.MONTH_NAMES[lang][local.month - 1]
    at = "kl." if lang == "sv" else "at"
    return f"{day} {local.day} {month} {at} {local:%H:%M}"


def _parse_key(key: object) -> datetime | None:
    if not isinstance(key, str):
        return None
    try:
        return parse_slot_key(key)
    except ValueError:
        return None


def _idle_too_long(updated: str | None, now: datetime) -> bool:
    if not updated:
        return False
    try:
        return now - datetime.fromisoformat(updated) > IDLE_TIMEOUT
    except (ValueError, TypeError):
        return True


def _clean(text: str) -> str:
    """Drop control, format (zero-width, bidi) and unassigned characters; keep letters, emoji, newlines."""
    kept = (ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in _INVISIBLE)
    return re.sub(r"[ \t]+", " ", "".join(kept)).strip()


_SMALL_TALK = {kind: frozenset(fold(w) for w in words) for kind, words in texts.SMALL_TALK.items()}
_COMMAND_PHRASES = {
    fold(words): name for name, by_lang in texts.COMMAND_WORDS.items() for words in by_lang.values()
}
_FILLER = frozenset(["och", "and", "du", "you", "sa", "so", "mycket", "much", "very"])


def _small_talk(folded: str) -> str | None:
    """'greeting', 'thanks' or 'bye' for a short message made only of such words."""
    words = folded.split()
    if not words or len(words) > 4:
        return None
    for kind in ("bye", "thanks", "greeting"):  # "hej då" is a goodbye, not a greeting
        vocabulary = _SMALL_TALK[kind]
        if any(w in vocabulary for w in words) and all(w in vocabulary or w in _FILLER for w in words):
            return kind
    return None


_NAME = re.compile(r"^[^\W\d_]+(?:[ '\-][^\W\d_]+){0,2}$")


def _looks_like_name(text: str) -> bool:
    text = " ".join(text.split())
    return 0 < len(text) <= 40 and bool(_NAME.match(text))
