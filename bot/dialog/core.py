"""The dialog: a pure state machine. `step(state, event, context)` -> `Outcome(state, replies, effects)`.

It knows nothing of Telegram, terminals or databases. Whatever it needs from the world comes in the
`Context` (content, matcher, a read-only `View` with the clock and bookings, the channel's capabilities),
and whatever must change in the world goes out as effects that the engine applies in one transaction.

The core handles what holds at every step: a crisis first, commands, navigation, questions and small
talk. The flows' own steps (prompt, buttons, free text, Back) are declared in bot/dialog/flows.py, one
module per flow; the core looks the conversation's step up there.

Button data is never trusted. Navigation buttons (language, menus, topics) only ever show something, so
they are accepted whenever they name something that exists; the region button only where the region may
change (not in the middle of a booking, whose developer it would switch). Buttons that change data (a
slot, confirm, cancel a booking, delete) must be among `state.open`, offered by the current step: a
forged, stale or replayed press changes nothing and gets a polite "no longer open".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from bot.content import Topic
from bot.content.languages import same_language
from bot.content.model import PLACEHOLDER
from bot.dialog import booking, deletion, manage, onboarding, texts
from bot.dialog.flows import STEPS
from bot.dialog.formatting import (
    clean_text,
    format_list,
    format_when,
    idle_too_long,
    meeting_place,
    small_talk,
)
from bot.dialog.model import (
    OPEN_PRIVATE_CHAT,
    ButtonPress,
    Choice,
    CommandMessage,
    ConfirmLost,
    Event,
    LimitReached,
    Outcome,
    Record,
    SlotTaken,
    State,
    Unsupported,
)
from bot.dialog.turn import Context, Turn, is_personal
from bot.language import MIN_WORDS, main_script
from bot.matching import Match
from bot.matching.normalize import fold
from bot.privacy.scrub import scrub
from bot.safety.crisis import CrisisHit

__all__ = ["IDLE_TIMEOUT", "Context", "format_when", "meeting_place", "step"]

IDLE_TIMEOUT = timedelta(minutes=30)
MAX_TEXT = 2000  # longer messages are read from the start; the matcher reads even less
CRISIS_OVERLAP = 200  # characters the crisis check's windows over a long message share
MIN_REST = 3  # words besides a crisis signal that can make a question of their own
FEEDBACK = "helpful:"  # button data of 👍 / 👎 under an answer: helpful:yes:<topic> or helpful:no:<topic>
WISH_WORDS = 8  # a short message without "?" naming an action is a wish ("jag vill avboka tisdag"), not a question
SENTENCE_END = re.compile(r"[.!?؟።፧;\n]+")  # Latin, Arabic and Ge'ez sentence ends
END_READ = 600  # characters at the end of a long paste searched for its question
LONG_ANSWER = 400
# "Sorry, I don't know" switches the reply's language from a message in Latin letters only when it is this long: a
# few English words ("[Sticker: 🐻 thumbs up]") in a Swedish chat are answered in Swedish.
FALLBACK_WORDS = 5  # characters: an answer this long is not sent again right after itself

MENUS: dict[str, tuple[str, ...]] = {
    "about": ("social-enterprise", "wise", "enterprises", "project"),
    "jobseeker": ("find-work", "who-can-join", "pay-and-terms", "wage-subsidy", "work-training",
                  "rehabilitation", "benefits", "enterprises"),
    "founder": ("start", "business-idea", "business-plan", "legal-form", "funding", "selling", "handbook",
                "coompanion", "network"),
    "support": ("support-overview", "arbetsformedlingen", "forsakringskassan", "samordningsforbundet",
                "naringslivsbolaget", "municipality", "region", "coompanion"),
}  # fmt: skip
# The words for leaving a step, going back and the /commands are content (content/words.yaml, every language).


def step(state: State | None, event: Event, ctx: Context) -> Outcome:
    """Handle one event. Every event gets at least one reply."""
    return Dialog(state or State(), ctx).run(event)


class Dialog(Turn):
    just_booked: str | None = None  # the slot booked by the event before this one

    def run(self, event: Event) -> Outcome:
        if self.state.flow != "idle" and idle_too_long(self.state.updated, self.now, IDLE_TIMEOUT):
            was_booking = STEPS[self.state.flow].flow == "booking"
            self.leave_flow()
            booked = self.ctx.view.my_bookings if was_booking and self.can.private_chat else ()
            if booked:  # never "nothing is booked" above a booked meeting
                self.say(self.t("idle_reset_kept", when=format_list([self.when(b.slot) for b in booked], self.lang)))
            else:
                self.say(self.t("idle_reset"))
            if isinstance(event, ButtonPress):  # a press on the old flow's buttons: show where we are now
                self.main_menu()
                return self.finish()
        if not self.can.private_chat and self.in_flow and STEPS[self.state.flow].flow != "region":
            self.leave_flow()  # a personal flow left from before (a group): it never goes on there
        self.just_booked = self.data.get("booked") if self.state.flow == "idle" else None
        if self.just_booked is not None:  # remembered for this one message only
            self.set(data={k: v for k, v in self.data.items() if k != "booked"})
            if idle_too_long(self.state.updated, self.now, IDLE_TIMEOUT):
                self.just_booked = None
        self.dispatch(event)
        return self.finish()

    def finish(self) -> Outcome:
        if not self.replies:  # a safety net: the promise is that every event gets a reply
            self.main_menu()
        if self.forget:
            return Outcome(None, tuple(self.replies), tuple(self.effects))
        shown = tuple((c.label, c.data) for r in self.replies for c in r.choices if c.data != OPEN_PRIVATE_CHAT)
        self.set(updated=self.now.isoformat(), shown=shown)
        return Outcome(self.state, tuple(self.replies), tuple(self.effects))

    def dispatch(self, event: Event) -> None:
        if self.state.asked is not None and not (isinstance(event, ButtonPress) and event.data.startswith(FEEDBACK)):
            self.set(asked=None)  # the question lives only as long as the 👍 / 👎 under its answer
        if isinstance(event, Unsupported):
            hit = self.crisis_in(event.text) if event.text else None
            if hit is not None:  # a message edited into a plea for help gets the numbers, like a new one
                self.crisis(hit)
                return
            self.say(self.t("edited" if event.kind == "edited" else "only_text"))
            self.reprompt()
        elif isinstance(event, SlotTaken):
            booking.slot_gone(self)
        elif isinstance(event, LimitReached):
            booking.limit_reached(self, event.reason, event.limit)
        elif isinstance(event, ConfirmLost):
            booking.confirm_lost(self)
        elif isinstance(event, CommandMessage):
            self.command(event.name.lower(), event.argument.strip())
        elif isinstance(event, ButtonPress):
            self.button(event.data)
        else:
            self.text(event.text)

    # --- flows -----------------------------------------------------------------------------------

    @property
    def in_flow(self) -> bool:
        return self.state.flow != "idle"

    def reprompt(self) -> None:
        """Show where the open flow stands (after an aside), or the menu button when there is none."""
        if not self.in_flow:
            if self.state.lang is None:
                onboarding.welcome(self)
            elif not self.replies or not self.replies[-1].choices:
                self.say(self.t("what_now"), self.menu_choices())
            return
        current = STEPS[self.state.flow]
        if current.flow != "region":
            self.say(self.t(f"still_{current.flow}"))
        current.prompt(self)

    def back(self) -> None:
        if not self.in_flow:
            self.say(self.t("nothing_to_cancel"), self.menu_choices())
            return
        target = STEPS[self.state.flow].back(self)
        if target is None:
            self.cancel_flow()
            return
        self.go(target)
        STEPS[target].prompt(self)

    def cancel_flow(self) -> None:
        if not self.in_flow:
            self.say(self.t("nothing_to_cancel"), self.menu_choices())
            return
        self.abandon()
        self.main_menu_short()

    def abandon(self) -> None:
        """Leave the open flow and say so: a booking is never thrown away silently."""
        if self.in_flow:
            flow = STEPS[self.state.flow].flow
            self.leave_flow()
            self.say(booking.stopped(self) if flow == "booking" else self.t(f"cancelled_{flow}"))

    def main_menu_short(self) -> None:
        self.say(self.t("what_now"), self.menu_choices())

    # --- menus -----------------------------------------------------------------------------------

    def main_menu(self) -> None:
        if self.state.lang is None:
            onboarding.welcome(self)
            return
        choices = [
            Choice(self.t(f"menu_{name}"), f"menu:{name}") for name in ("about", "jobseeker", "founder", "support")
        ]
        choices.append(Choice(self.t("menu_person"), "menu:person"))
        self.say(self.t("menu"), choices)

    def to_menu(self) -> None:
        self.abandon()
        self.main_menu()

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

    def resume(self, pending: str, wish: str | None = None) -> None:
        if pending == "book":
            self.start_booking(wish)
        elif pending == "meeting":
            self.no_booking_to_manage()
        elif pending.startswith("topic:") and pending[6:] in self.ctx.content.topics:
            self.show_topic(self.ctx.content.topics[pending[6:]])
        else:
            self.main_menu()

    # --- actions that leave the open flow (and say so) -------------------------------------------

    def start_booking(self, wish: str | None = None, asked_in: str | None = None) -> None:
        """A booking, with the time wished for if one was written; started by a message in another of our
        languages, it runs in that language (or, where one or two words do not say which, offers it)."""
        self.abandon()
        self.follow_language(asked_in)
        booking.start(self, wish)

    def follow_language(self, asked_in: str | None) -> None:
        """A flow started by a message in another content language runs in that language: the chat switches,
        says so, and offers the way back with one button. Where the language is not sure (one or two words in
        a shared script), the switch is offered instead, so a flow never changes language half-way."""
        content = self.ctx.content
        before = self.state.lang
        if before is None:
            return
        if self.speaking and not same_language(self.speaking, before):
            self.set(lang=self.speaking)
            self.speaking = None
            self.say(self.t("language_followed"), [Choice(content.language(before).name, f"lang:{before}")])
        elif asked_in in content.languages and not same_language(asked_in, before):
            name = content.language(asked_in).name
            self.say(content.text("other_language_hint", asked_in, language=f"“{name}”"),
                     [Choice(name, f"lang:{asked_in}")], lang=asked_in)  # fmt: skip

    def my_bookings(self) -> None:
        self.abandon()
        manage.my_bookings(self)

    def ask_delete(self) -> None:
        self.abandon()
        deletion.ask_delete(self)

    def ask_region(self) -> None:
        if self.state.flow == "choose_region":
            onboarding.prompt_region(self)
            return
        self.abandon()
        onboarding.ask_region(self)

    def aside(self, show: Callable[[], None]) -> None:
        """Something shown in the middle of a flow: the flow stays open and is offered again."""
        before = self.state.flow
        show()
        if before != "idle" and self.state.flow == before:
            self.reprompt()

    # --- commands --------------------------------------------------------------------------------

    def command(self, name: str, argument: str) -> None:
        if name == "start":
            payload = argument.lower()
            self.abandon()
            if payload in self.ctx.content.regions:
                self.set(region=payload)
            if self.state.lang is None:
                onboarding.welcome(self)
            elif self.state.region is None:
                onboarding.ask_region(self)
            else:
                self.main_menu()
            return
        if self.state.lang is None and name not in ("privacy", "delete", "help"):
            self.set(lang="sv")
        handlers: dict[str, Callable[[], None]] = {
            "help": lambda: self.aside(lambda: self.show_topic_named("help")),
            "hjalp": lambda: self.aside(lambda: self.show_topic_named("help")),
            "menu": self.to_menu,
            "meny": self.to_menu,
            "region": self.ask_region,
            "kommun": self.ask_region,
            "language": lambda: self.aside(lambda: onboarding.ask_language(self)),
            "sprak": lambda: self.aside(lambda: onboarding.ask_language(self)),
            "book": self.start_booking,
            "boka": self.start_booking,
            "mybookings": self.my_bookings,
            "privacy": lambda: self.aside(lambda: self.show_topic_named("privacy")),
            "delete": self.ask_delete,
            "cancel": self.cancel_flow,
            "avbryt": self.cancel_flow,
            "back": self.back,
            "tillbaka": self.back,
        }
        handler = handlers.get(name)
        if handler is None:
            self.say(self.t("unknown_command"))
            self.reprompt()
        else:
            handler()

    # --- buttons ---------------------------------------------------------------------------------

    def button(self, data: str) -> None:
        data = data[: self.can.max_button_data]
        kind, _, value = data.partition(":")
        content = self.ctx.content
        current = STEPS.get(self.state.flow)
        if data in ("book", "topic:book-meeting"):
            self.speaking = self.pressed_in(data)  # "احجز موعداً" under an Arabic answer: the booking in Arabic
        if kind == "lang" and value in content.languages:
            self.aside(lambda: onboarding.choose_language(self, value))
        elif kind == "region" and value in content.regions and self.state.flow in ("idle", "choose_region"):
            onboarding.choose_region(self, value)
        elif not self.can.private_chat and is_personal(data):
            self.refuse_personal()
        elif data == "back":
            self.back()
        elif data == "cancel":
            self.cancel_flow()
        elif current is not None and kind in current.buttons and data in self.state.open:
            current.buttons[kind](self, value)
        elif not self.in_flow and data in self.state.open and kind in ("cancelbooking", "move"):
            (manage.ask_cancel if kind == "cancelbooking" else manage.start_move)(self, value)
        elif not self.in_flow and data in self.state.open and data.startswith(FEEDBACK):
            self.feedback(value)
        elif data == "topic:contact" and (self.state.lang is None or self.state.region is None):
            # "Talk to a person" before onboarding (offered with the crisis answer): never a dead end.
            lang = self.state.lang or "sv"
            self.say("\n\n".join(self.contact_lines(lang)),
                     self.language_choices() if self.state.lang is None else [])  # fmt: skip
            if self.state.lang is not None:
                onboarding.ask_region(self)
        elif self.state.lang is None:
            onboarding.welcome(self)
        elif data == "resume":
            self.reprompt() if self.in_flow else self.main_menu()
        elif data == "menu":
            self.to_menu()
        elif kind == "menu" and (value in MENUS or value == "person"):
            self.submenu(value)
        elif kind == "topic" and value in content.topics:
            topic = content.topics[value]
            if topic.kind == "action":
                self.show_topic(topic)
            else:
                self.aside(lambda: self.show_topic(topic))
        elif data == "book":
            self.start_booking()
        elif data == "mybookings":
            self.my_bookings()
        elif data == "none":
            self.say(self.t("none_of_them", contact_name=self.region.contact.name), self.fallback_choices())
        else:
            self.say(self.t("choice_closed"))
            self.reprompt_or_menu()

    def pressed_in(self, data: str) -> str | None:
        """The language of the pressed button's label, as it was shown (the buttons under an answer given in the
        question's language are in that language), or None when it was not shown or is no text of ours."""
        label = next((shown for shown, pressed in self.state.shown if pressed == data), None)
        content = self.ctx.content
        kind, _, value = data.partition(":")
        for code in content.languages if label is not None else ():
            written: str | None
            if kind == "topic" and value in content.topics:
                written = content.topics[value].title[code]
            else:
                written = content.text(f"button_{data}", code) if f"button_{data}" in content.texts else None
            if written == label:
                return code
        return None

    def reprompt_or_menu(self) -> None:
        if self.in_flow:
            STEPS[self.state.flow].prompt(self)
        else:
            self.say(self.t("what_now"), self.menu_choices())

    # --- free text -------------------------------------------------------------------------------

    def text(self, raw: str) -> None:
        text = clean_text(raw)
        if not text:
            self.say(self.t("empty"))
            self.reprompt()
            return
        whole = text
        if len(text) > MAX_TEXT:
            last = self.question_at_end(text)
            if last is not None:  # a long story ending in "Min fråga är: kan jag få lönebidrag?": that question
                text = last
                self.say(self.t("too_long_end"))
            else:
                text = text[:MAX_TEXT]
                self.say(self.t("too_long") + " " + self.t("ask_again_briefly"))
        # "jag vill inte säga" at the name step declines to give a name; anything else is checked first
        declines = self.state.flow == "booking.name" and fold(text) in texts.word_set("skip_name")
        crisis = self.crisis_in(whole) if not declines else None
        if crisis is not None:
            self.crisis(crisis)
            self.also_answer(crisis, text)
            return
        folded = fold(text)
        if self.typed_button(folded):
            return
        if self.just_booked is not None and self.confirms(folded):
            self.already_booked(self.just_booked)  # "Ja, boka" sent twice: booked once, and said so
            return
        if self.state.lang is None and not self.first_words(text, folded):
            return
        wish = "?" not in text and len(folded.split()) <= WISH_WORDS
        if wish and not self.in_flow and manage.by_words(self, text, folded):
            return  # "avboka", "jag vill avboka", "cancel it": as the buttons under /mybookings do
        if not self.in_flow and manage.by_wish(self, text, self.just_booked):
            return  # "kan vi ta onsdag efter lunch istället" right after booking: that meeting moved
        if wish and self.state.flow.startswith(("move.", "cancel.")) and manage.changed_mind(self, text, folded):
            return  # "jag vill avboka" while moving: the move is left, and cancelling is asked
        if folded in texts.word_set("leave"):
            self.cancel_flow()
            return
        if folded in texts.word_set("back") and self.in_flow:
            self.back()
            return
        commands = texts.command_phrases()
        if folded in commands:  # "mina bokningar", "delete my data": the words for /commands
            self.command(commands[folded], "")
            return
        current = STEPS.get(self.state.flow)
        if current is not None and current.text(self, text, folded):
            return
        wished = onboarding.language_wish(folded)
        if wished and wished in self.ctx.content.languages:
            self.aside(lambda: onboarding.choose_language(self, wished))
            return
        if self.region_by_text(text, folded):
            return
        kind = small_talk(text, folded)
        if kind:
            if not (kind == "ok" and self.in_flow):  # "ok" mid-booking: the step again, not "write if you wonder"
                self.say(self.t(kind), [] if self.in_flow else self.menu_choices())
            self.reprompt()
            return
        self.aside(lambda: self.question(text, folded))

    def typed_button(self, folded: str) -> bool:
        """A button's label or number typed rather than pressed, where the channel cannot tell: the label of a
        button just shown, in any of our languages ("Avbryt", "Ändra", "Cancel", "Västervik", "ሱንድስቫል",
        "fortsätt" under the crisis answer mid-flow: never a name), is that button, and "1" under a crisis answer
        given before a language was chosen is its first button, "talk to a person" (never the welcome again)."""
        forms = texts.label_forms(self.ctx.content)
        for label, data in self.state.shown:
            if folded == fold(label) or folded in forms.get(fold(label), ()):
                self.button(data)  # checked as a press is: a closed or forged choice changes nothing
                return True
        if self.state.lang is None and folded.isdigit() and "topic:contact" in self.state.open:
            shown = ["topic:contact", *(c.data for c in self.language_choices())]
            if 1 <= int(folded) <= len(shown):
                self.set(open=())
                self.button(shown[int(folded) - 1])
                return True
        return False

    def confirms(self, folded: str) -> bool:
        """"Ja, boka", "yes, book it", "ja": the confirmation's words (its button label in any of our languages, or
        only yes words)."""
        words = folded.split()
        confirm = {fold(label) for label in self.ctx.content.texts["button_confirm"].values()}
        return bool(words) and (folded in confirm or all(w in texts.word_set("yes", split=True) for w in words))

    def already_booked(self, key: str) -> None:
        """Only the message right after the booking: a "boka" after this one starts a new booking."""
        self.say(self.t("already_booked", when=self.when(key)), self.menu_choices())

    def follow_words(self, kind: str, text: str, folded: str) -> None:
        """Cancelling or moving asked in another of our languages runs in it, as a booking does: the language whose
        `kind` words were written, where the chat's own language has no such words there."""
        said_in = texts.languages_saying(kind, folded)
        if not said_in or self.lang in said_in or any(same_language(code, self.lang) for code in said_in):
            return
        asked_in = said_in[0]
        if len(said_in) == 1 and self.sure_of_language(text):
            self.speaking = asked_in
        self.follow_language(asked_in)

    def sure_of_language(self, text: str) -> bool:
        """A message says which language it is in when it has three words, or is in a script of one language
        of ours (Ge'ez, Thai ...): "ok tack" or "lönebidrag?" never switch the language. Arabic letters are
        shared by Arabic, Persian and Pashto, Cyrillic by Ukrainian and Russian: one or two such words (a
        town's name, "مرسی") do not say which of them (a Persian "سوندسوال" was once taken for Pashto)."""
        return len(text.split()) >= MIN_WORDS or main_script(text) not in ("latin", "arabic", "cyrillic", None)

    def notice(self, code: str) -> None:
        """Someone writing in a language the content lacks: in that language, which languages we speak
        (the buttons) and how to reach a person."""
        notice = self.ctx.content.notices[code]
        contact = self.region.contact
        text = PLACEHOLDER.sub(
            lambda m: {"contact_name": contact.name, "contact_phone": contact.phone}.get(m.group(1), m.group(0)),
            notice.text,
        )
        self.say(text, self.language_choices(), lang=code)

    def first_words(self, text: str, folded: str) -> bool:
        """Before a language is chosen: take it from the text (or ask). False: the text was handled."""
        wished = onboarding.language_wish(folded)
        detected = wished or (self.ctx.matcher.language(text) if folded else None)
        content = self.ctx.content
        if (detected is not None and not wished and detected not in content.languages and detected in content.notices
                and self.sure_of_language(text)):  # fmt: skip
            self.notice(detected)
            return False
        if detected is None or detected not in self.ctx.content.languages or (
            not wished and small_talk(text, folded)
        ):
            onboarding.welcome(self)
            return False
        self.set(lang=detected)
        if wished:
            self.say(self.t("language_set"))
            if self.state.region is None:
                onboarding.ask_region(self)
            else:
                self.main_menu()
            return False
        return True

    def region_by_text(self, text: str, folded: str) -> bool:
        """"byt kommun", "jag bor i Västervik", "I live in Sundsvall now": the region, by writing.

        False when the text goes on after saying where ("jag bor i Västervik, hur hittar jag jobb?"): the
        region is taken and the rest is answered as a question."""
        if folded in onboarding.CHANGE_REGION:
            self.ask_region()
            return True
        region_id = onboarding.region_named(self, folded)
        if region_id is None or not (onboarding.says_where_they_live(folded) or folded == fold(region_id)):
            return False
        goes_on = "?" in text or len(folded.split()) > 5
        if region_id == self.state.region:
            if folded == fold(region_id) or goes_on:
                return False  # "sundsvall" alone, already chosen: maybe a question about the town
            self.say(self.t("region_already", region=self.region.name[self.lang]))
            self.reprompt()
            return True
        if self.in_flow and self.state.flow != "choose_region":
            self.abandon()  # the booking was for the other region's developer
            onboarding.choose_region(self, region_id)
            return True
        onboarding.choose_region(self, region_id)
        return not goes_on

    # --- questions and answers -------------------------------------------------------------------

    def question(self, text: str, folded: str) -> None:
        match = self.ctx.matcher.match(text)
        if match.topic is None:
            match = self.clear_sentence(text) or match
        if self.in_flow and self.turns_down(text, folded, match):
            self.cancel_flow()  # "nej jag vill inte ha något möte ändå": a stop, never a wish to book
            return
        content = self.ctx.content
        asked = match.lang
        if asked and asked not in content.languages and asked in content.notices and self.sure_of_language(text):
            self.effects.append(Record("fallback", band=match.band, lang=asked))  # a language we lack: no text kept
            self.notice(asked)
            return
        if asked in content.languages and not same_language(asked, self.lang) and self.sure_of_language(text) and (
            match.topic is not None or main_script(text) != "latin" or len(text.split()) >= FALLBACK_WORDS
        ):
            self.speaking = asked  # answered in the question's language; the chat offers to switch
        # Text typed inside a flow may hold a name or a number: it is never kept as an unanswered question.
        keep_text = text if not self.in_flow else None
        if match.topic is None and not self.in_flow and self.introduced(text):
            return
        if match.topic is None and not self.can.private_chat and booking.names_a_time(text):
            self.refuse_personal()  # "torsdag kl 13" in a group: a time to book, which happens in private
            return
        if match.topic is None and self.meeting_wished(text, match) and self.wants_meeting(text, match):
            self.effects.append(Record("question", topic="book-meeting", band=match.band, lang=self.speaking))
            return  # "I'd like an appointment next Monday at 10", just under the matcher's bar
        if match.topic is None or self.angry(text, folded):
            self.effects.append(Record("fallback", band=match.band, unanswered=keep_text, lang=self.speaking))
            if not folded or self.angry(text, folded):
                self.speaking = None  # "😡😭🙏", "din jävla skitbot": said kindly, in the chat's language
                self.frustrated()
                return
            self.fallback()
            return
        # Counted in the language it was written in when that is not the chat's (answered in it, too).
        self.effects.append(Record("question", topic=match.topic, band=match.band, lang=self.speaking))
        if keep_text is not None:
            self.set(asked=scrub(keep_text, [r.contact.name for r in self.ctx.content.regions.values()]))
        if self.meeting_wished(text, match) and self.wants_meeting(text, match):
            return  # "kan vi ses på torsdag efter lunch": a booking, at the time wished for
        if match.did_you_mean:
            topics = self.ctx.content.topics
            choices = [Choice(topics[t].title[self.lang], f"topic:{t}") for t in match.did_you_mean]
            choices.append(Choice(self.t("button_none"), "none"))
            self.say(self.t("did_you_mean"), choices)
            return
        topic = self.ctx.content.topics[match.topic]
        if topic.id == "privacy" and texts.has_phrase("delete_data", folded):
            self.ask_delete()  # "ta bort allt ni har om mig": what /delete does, with its confirmation
            return
        if topic.id == "cancel-booking" and not self.in_flow and manage.by_words(self, text, folded):
            return
        if topic.id == "cancel-booking" and self.state.flow.startswith("booking."):
            self.cancel_flow()  # "avboka mötet" while booking: stop this booking (nothing is booked yet)
            return
        if topic.kind == "action" and self.in_flow and self.state.flow != "choose_region":
            self.say(self.t("already_in_flow"))
            return
        self.show_topic(topic, match)

    def question_at_end(self, text: str) -> str | None:
        """The question a long paste ends with ("Min fråga är: kan jag få lönebidrag?"): its last sentence with a "?" or
        a question word, where the content answers it clearly."""
        sentences = [s.strip() for s in SENTENCE_END.split(text[-END_READ:]) if s.strip()][1:]  # the first is cut
        asking = [s for s in sentences if f"{s}?" in text or texts.has_phrase("question", fold(s))]
        if not asking:
            return None
        match = self.ctx.matcher.match(asking[-1])
        return asking[-1] if match.topic is not None and not match.did_you_mean else None

    def clear_sentence(self, text: str) -> Match | None:
        """The one sentence of a longer message that asks something clearly ("Hello. I live in Sundsvall. I want
        to find work." in Tigrinya, where the greeting and the place drown the wish): the last such sentence,
        as a question usually comes last. Greetings and sentences naming the municipality are passed over."""
        sentences = [s.strip() for s in SENTENCE_END.split(text) if s.strip()]
        if len(sentences) < 2:
            return None
        for sentence in reversed(sentences):
            folded = fold(sentence)
            if not folded or small_talk(sentence, folded) or onboarding.region_named(self, folded):
                continue
            match = self.ctx.matcher.match(sentence)
            if match.topic is not None and not match.did_you_mean:
                return match
        return None

    def turns_down(self, text: str, folded: str, match: Match) -> bool:
        """"nej jag vill inte ha något möte ändå", "no, I don't want a meeting after all" inside a booking (or "jag vill
        inte flytta det" inside a move): the flow's own wish, negated (content/words.yaml `negation`, every language)."""
        own = {"booking": "book-meeting", "move": "cancel-booking", "cancel": "cancel-booking"}.get(STEPS[self.state.flow].flow)
        if own is None or "?" in text or not texts.has_phrase("negation", folded):
            return False
        leaning = {match.topic, *match.did_you_mean} if match.topic else set(dict(match.ranking[:1]))
        return own in leaning

    def angry(self, text: str, folded: str) -> bool:
        """Swearing or an insult at the bot that asks nothing ("you stupid useless bot"); "din dumma bot, hur får jag
        lönebidrag?" asks, and is answered."""
        return texts.has_phrase("frustration", folded) and "?" not in text and not texts.has_phrase("question", folded)

    def frustrated(self) -> None:
        """Distress or anger at the bot ("😡😡😭🙏", "din jävla skitbot du fattar ingenting", "???"): a short kind line
        and a person, never a cold "I don't know"."""
        self.say(self.t("frustrated"), [Choice(self.t("menu_person"), "topic:contact"), *self.menu_choices()])

    def meeting_wished(self, text: str, match: Match) -> bool:
        """A meeting asked for: the booking topic, or a day or time named where the matcher leans to meeting
        someone ("kan jag få en tid på onsdag förmiddag", "can I come by on Tuesday morning" by someone with no
        booking to move, "jag vill prata med någon på torsdag")."""
        if match.topic == "book-meeting":
            return True
        if not booking.names_a_time(text):
            return False
        leaning = {match.topic, *match.did_you_mean} if match.topic else set(dict(match.ranking[:1]))
        return "book-meeting" in leaning or ("cancel-booking" in leaning and not self.ctx.view.my_bookings)

    def wants_meeting(self, text: str, match: Match) -> bool:
        """A wish to meet, perhaps with a time ("kan vi ses på torsdag efter lunch", "can we meet on Thursday
        afternoon"): the booking starts and goes straight to the times that fit, asking the region first if
        needed (the wish is kept until then). False where a booking cannot start from here."""
        wish = text if booking.names_a_time(text) else None
        if self.state.flow == "choose_region":  # booked once the municipality is chosen (asked again by aside())
            self.update(pending="book", wish=wish, pending_lang=self.speaking)
            return True
        if self.in_flow:
            return False
        self.start_booking(wish, asked_in=match.lang)
        return True

    def introduced(self, text: str) -> bool:
        """"jag heter Amina och vill boka": a name with a wish. The wish is answered (a booking starts with the
        name kept), or the person is greeted by name; never the fallback. The name is kept only in a booking."""
        found = booking.introduction(text, self.ctx.content.keywords)
        if found is None:
            return False
        name, rest = found
        wish = self.ctx.matcher.match(rest) if rest else None
        if wish is not None and wish.topic is None:
            return False  # "jag heter Zlatan, vad blir vädret": the question goes on to the fallback (and review)
        if wish is not None and wish.topic == "book-meeting":
            self.start_booking()
            if self.state.flow == "booking.slot":
                self.update(name=name)
            return True
        self.say(self.t("hello_name", name=name), self.menu_choices())
        if wish is not None and wish.topic is not None:
            self.effects.append(Record("question", topic=wish.topic, band=wish.band))
            self.show_topic(self.ctx.content.topics[wish.topic], wish)
        return True

    def crisis_in(self, text: str) -> CrisisHit | None:
        """The whole message is checked, also past the part read as a question: a plea at the end of a long
        paste must never be missed. Overlapping windows, so that no phrase is cut in two."""
        if self.ctx.crisis is None:
            return None
        step = MAX_TEXT - CRISIS_OVERLAP
        for start in range(0, max(len(text) - CRISIS_OVERLAP, 1), step):
            hit = self.ctx.crisis.check(text[start:start + MAX_TEXT])
            if hit is not None:
                return hit
        return None

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
        langs = list(dict.fromkeys(code for code in langs if code in answers)) or ["sv"]
        lang = self.state.lang or ("en" if langs[0] == "en" else "sv")
        parts = [answers[code].strip() for code in langs]
        parts += self.contact_lines(lang)
        choices = [Choice(texts.text("menu_person", lang), "topic:contact")]
        if self.in_flow:
            parts.append(texts.text("crisis_flow_kept", lang))
            choices += [Choice(texts.text("button_continue", lang), "resume"),
                        Choice(texts.text("button_cancel", lang), "cancel")]  # fmt: skip
        elif self.state.lang is None:
            choices += self.language_choices()
            self.set(open=("topic:contact",))  # a typed "1" is that first button (typed_button)
        else:
            choices += self.menu_choices()
        self.say("\n\n".join(parts), choices)

    def also_answer(self, hit: CrisisHit, text: str) -> None:
        """A crisis signal in a message that also asks something the content answers confidently ("jag vill
        inte leva på bidrag, kan jag få jobb?"): after the numbers, the answer too, never instead of them."""
        assert self.ctx.crisis is not None
        rest = self.ctx.crisis.rest(text, hit)
        if self.in_flow or self.state.lang is None or self.state.region is None or len(rest.split()) < MIN_REST:
            return
        if "?" not in text and not texts.has_phrase("question", fold(rest)):
            return  # "…, waan baqayaa" ("I'm afraid"): a statement, never a topic matched from a clause of it
        match = self.ctx.matcher.match(rest)
        if match.topic is None or match.did_you_mean:
            return
        topic = self.ctx.content.topics[match.topic]
        if topic.kind == "action":  # booking or cancelling never starts from a crisis message
            return
        self.effects.append(Record("question", topic=match.topic, band=match.band, lang=self.speaking))
        self.show_topic(topic, match)

    def contact_lines(self, lang: str) -> list[str]:
        """Who to talk to: the region's contact, or every region's (named) while no region is chosen."""
        regions = [self.region] if self.state.region is not None else list(self.ctx.content.regions.values())
        lines = []
        for region in regions:
            contact = region.contact
            line = texts.text("crisis_contact", lang, contact_name=contact.name,
                              contact_role=contact.role[lang],
                              contact_phone=contact.phone)  # fmt: skip
            lines.append(line if len(regions) == 1 else f"{region.name[lang]}: {line}")
        return lines

    def fallback(self) -> None:
        if self.state.region is None:  # never a region's contact before the person has said where they live
            regions = self.ctx.content.regions.values()
            names = format_list([r.name[self.lang] for r in regions], self.lang)
            self.say(self.t("fallback_no_region", regions=names),
                     [*(Choice(r.name[self.lang], f"region:{r.id}") for r in regions), *self.menu_choices()])  # fmt: skip
            return
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
            if match is not None and self.can.private_chat and not self.ctx.view.my_bookings:
                self.no_booking_to_manage()  # "var är mötet", "can I bring my dog": nothing to cancel
            else:
                self.my_bookings()
            return
        # An answer that differs by region, or names the region's contact: asked for the region first (the
        # question is kept and answered then), never silently answered for the first region.
        region_specific = any(region is not None or PLACEHOLDER.search(text) for (region, _), text in topic.answers.items())
        if self.state.region is None and region_specific:
            if self.state.flow == "choose_region":
                self.update(pending=f"topic:{topic.id}", pending_lang=self.speaking)  # answered once it is chosen
                if not self.replies:
                    onboarding.prompt_region(self)
                return
            if self.in_flow:
                self.say(self.t("choose_region_first"))
                return
            onboarding.ask_region(self, pending=f"topic:{topic.id}", pending_lang=self.speaking)
            return
        answer = topic.answer(self.region, self.lang)
        written_in = topic.answer_lang(self.region, self.lang)
        if self.ctx.content.is_draft(written_in) and written_in not in ("sv", "en"):
            # A translation nobody has checked yet says so, in its own language, and who can help.
            answer += "\n\n" + self.ctx.content.text("draft_answer", written_in, contact_name=self.region.contact.name)
        topics = self.ctx.content.topics
        choices = [Choice(topics[r].title[self.lang], f"topic:{r}") for r in topic.related if r in topics]
        choices.append(Choice(self.t("button_menu"), "menu"))
        if self.state.last_topic == topic.id and len(answer) > LONG_ANSWER:
            # The same long answer again, right after itself: said again (nobody should have to scroll back),
            # with a short line before it, and a person offered beside what is near it.
            contact = self.region.contact
            answer = self.t("same_answer_again", contact_name=contact.name, contact_phone=contact.phone) + "\n\n" + answer
            if not any(c.data == "topic:contact" for c in choices):
                choices.insert(-1, Choice(self.t("button_contact"), "topic:contact"))
        if self.speaking and self.state.lang:
            # Answered in the question's language: offer the switch as a button, and the hint names that button
            # (naming the chat language's command words told an Arabic reader to write "change language").
            button = self.ctx.content.language(self.speaking).name
            answer += "\n\n" + self.t("other_language_hint", language=f"“{button}”")
            choices.insert(0, Choice(button, f"lang:{self.speaking}"))
        self.set(last_topic=topic.id)
        if not self.in_flow:  # "did this help?": one tap, never required
            feedback = (f"{FEEDBACK}yes:{topic.id}", f"{FEEDBACK}no:{topic.id}")
            choices[-1:-1] = [Choice(self.t("button_helpful"), feedback[0]),
                              Choice(self.t("button_unhelpful"), feedback[1])]  # fmt: skip
            self.set(open=(*(d for d in self.state.open if not d.startswith(FEEDBACK)), *feedback))
        self.say(answer, choices, lang=written_in)

    def no_booking_to_manage(self) -> None:
        """A question that reads like cancelling or moving ("var är mötet", "can I bring my dog to the meeting")
        from someone with no booking: an honest "you have no booking", what the meetings are, and who to ask."""
        if self.state.region is None:
            if self.state.flow == "choose_region":
                self.update(pending="meeting")
                if not self.replies:
                    onboarding.prompt_region(self)
            elif not self.in_flow:
                onboarding.ask_region(self, pending="meeting")
            else:
                self.say(self.t("choose_region_first"))
            return
        region = self.region
        contact = region.contact
        self.say(
            self.t("no_booking_to_manage") + "\n\n"
            + self.t("meeting_info", contact_name=contact.name, contact_role=contact.role[self.lang],
                     minutes=region.availability.meeting_minutes, place=self.place_text(),
                     contact_phone=contact.phone),
            [Choice(self.t("button_book"), "book"), Choice(self.t("button_contact"), "topic:contact"),
             *self.menu_choices()],
        )  # fmt: skip

    def feedback(self, value: str) -> None:
        """👍 or 👎 under an answer: counted per topic. A 👎 sends the question to staff's review list and offers
        other topics, the contact and a booking."""
        verdict, _, topic_id = value.partition(":")
        asked = self.state.asked
        self.set(open=tuple(d for d in self.state.open if not d.startswith(FEEDBACK)), asked=None)  # one tap
        if verdict == "yes":
            self.effects.append(Record("helpful", topic=topic_id))
            self.say(self.t("feedback_thanks"), self.menu_choices())
            return
        self.effects.append(Record("unhelpful", topic=topic_id, unanswered=asked))
        topics = self.ctx.content.topics
        others = [t for t, _ in self.ctx.matcher.match(asked).ranking] if asked else []
        if topic_id in topics:
            others += topics[topic_id].related
        others = [t for t in dict.fromkeys(others) if t != topic_id and t in topics][:3]
        contact = self.region.contact
        self.say(self.t("feedback_sorry", contact_name=contact.name, contact_phone=contact.phone),
                 [*(Choice(topics[t].title[self.lang], f"topic:{t}") for t in others), *self.fallback_choices()])  # fmt: skip
