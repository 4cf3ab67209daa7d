"""The conversation engine: the one place where the pure dialog meets storage, statistics and notifications.

Every channel (terminal, Telegram, tests) calls `Engine.handle(conversation, event)` and shows the replies.
The engine loads the state and a read-only view, runs one dialog step, and applies the step's effects and
the new state in a single transaction. If a booking loses the race for its slot, the transaction is rolled
back and the dialog is asked again with `SlotTaken`, so the person gets a polite offer of other times.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from bot.booking.limits import (
    Alert,
    BookingRefused,
    Limits,
    admit,
    admit_move,
    cap_alert,
    changed,
    passed,
    rate_alert,
)
from bot.booking.slots import parse_slot_key
from bot.dialog import texts
from bot.dialog.core import Context, format_when, step
from bot.dialog.model import (
    Attachment,
    BookingInfo,
    ButtonPress,
    CancelBooking,
    Capabilities,
    CommandMessage,
    ConfirmLost,
    CreateBooking,
    DeleteEverything,
    Event,
    LimitReached,
    MoveBooking,
    Outcome,
    Record,
    Reply,
    SlotTaken,
    State,
    TextMessage,
    Unsupported,
    View,
    capabilities_for,
)
from bot.knowledge import Knowledge
from bot.privacy.scrub import scrub_names
from bot.storage import Booking, OutboxItem, SlotUnavailable, Store
from bot.storage.base import ERASURE, StoreGone

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Notification:
    """A change the business developer must hear about."""

    kind: Literal["booked", "moved", "cancelled"]
    booking: Booking
    old_slot: str | None = None
    erased: bool = False  # a /delete's cancellation: it carries no name or phone (README: /delete)


class Notifier(Protocol):
    def notify(self, notification: Notification) -> None: ...


# Turns a change into outbox rows, written in the change's own transaction (see bot/runtime.py).
OutboxRouter = Callable[[Notification, datetime], list[OutboxItem]]
# Turns an alert for the admins (an unusual booking rate) into outbox rows (see bot/runtime.py).
AlertRouter = Callable[[Alert, datetime], list[OutboxItem]]
# Turns a reply's file (the person's calendar file) into outbox rows, or [] where the reply carries it itself.
FileRouter = Callable[[str, Attachment, datetime], list[OutboxItem]]
# A file waits this long for the channel to say its replies went out (Engine.replied), so that it follows them; after
# a crash it goes anyway, from whichever process delivers.
FILE_FALLBACK = timedelta(seconds=20)


class NoNotifier:
    def notify(self, notification: Notification) -> None:
        log.info("booking %s: %s (no notifier configured)", notification.booking.id, notification.kind)


def notification_text(notification: Notification) -> str:
    """What the business developer reads (in Swedish: they are Swedish staff)."""
    booking = notification.booking
    when = format_when(parse_slot_key(booking.slot), "sv")
    if notification.erased:  # the person erased their data: the time, the region and the booking id only
        return (f"Avbokning: mötet {when} är avbokat\nPersonen har raderat sina uppgifter i chatten.\n"
                f"Region: {booking.region}\nBokning: {booking.id}")  # fmt: skip
    who = booking.name or "(inget namn)"
    reach = booking.phone or "i chatten med boten"
    headline = {
        "booked": f"Ny bokning {when}",
        "moved": f"Bokning flyttad till {when}"
        + (
            f" (var {format_when(parse_slot_key(notification.old_slot), 'sv')})"
            if notification.old_slot
            else ""
        ),
        "cancelled": f"Avbokning: mötet {when} är avbokat",
    }[notification.kind]
    lang = {"sv": "svenska", "en": "engelska"}.get(booking.lang, booking.lang)
    return f"{headline}\nNamn: {who}\nKontakt: {reach}\nSpråk: {lang}\nBokning: {booking.id}"


# The statistics' name for each kind of incoming event that is not a question.
EVENT_KINDS: dict[type, str] = {ButtonPress: "button", CommandMessage: "command", Unsupported: "unsupported",
                                TextMessage: "text"}  # fmt: skip
MESSAGE_ACTIONS = ("question", "fallback", "button", "command", "unsupported", "text")


@dataclass
class Settings:
    retention_days: int = 90
    keep_unanswered: bool = True
    limits: Limits = field(default_factory=Limits)  # how much one person, and one region in a day, may book (bot/booking/limits.py)


class _LazyView(View):
    """The view, read from storage only when the dialog looks: a question (most messages) needs neither the booked
    slots nor the person's bookings, and those two queries were on every message's path (the load bench's tail)."""

    def __init__(self, now: datetime, taken: Callable[[], Mapping[str, frozenset[str]]],
                 mine: Callable[[], tuple[BookingInfo, ...]],
                 limits: Callable[[], Mapping[str, LimitReached]] = dict) -> None:  # fmt: skip
        object.__setattr__(self, "now", now)
        object.__setattr__(self, "_loaders", (taken, mine, limits))
        object.__setattr__(self, "_loaded", {})

    def _get(self, which: int) -> Any:
        loaded: dict[int, Any] = self.__dict__["_loaded"]
        if which not in loaded:
            loaded[which] = self.__dict__["_loaders"][which]()
        return loaded[which]

    @property
    def taken(self) -> Mapping[str, frozenset[str]]:
        return self._get(0)  # type: ignore[no-any-return]

    @property
    def my_bookings(self) -> tuple[BookingInfo, ...]:
        return self._get(1)  # type: ignore[no-any-return]

    @property
    def limits(self) -> Mapping[str, LimitReached]:
        return self._get(2)  # type: ignore[no-any-return]


class Engine:
    def __init__(
        self,
        knowledge: Knowledge,
        store: Store,
        *,
        channel: str,
        notifier: Notifier | None = None,
        clock: Clock | None = None,
        settings: Settings | None = None,
        capabilities: Capabilities | None = None,
    ) -> None:
        self.store = store
        self.fatal: Exception | None = None  # set when the store must not be used any more (StoreGone)
        self.channel = channel
        # What the channel can keep (push later, commands, button size); the dialog promises no more.
        self.capabilities = capabilities or capabilities_for(channel)
        self.notifier = notifier or NoNotifier()  # told after the commit (a terminal prints; a runtime wakes)
        self.outbox: OutboxRouter | None = None
        self.alerts: AlertRouter | None = None  # None: alerts are only logged
        self.files: FileRouter | None = None  # None: files go with the replies
        self._awaiting: set[str] = set()  # conversations whose replies the channel has yet to confirm (`replied`)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.settings = settings or Settings()
        self.knowledge = knowledge

    @property
    def knowledge(self) -> Knowledge:
        return self._knowledge

    @knowledge.setter
    def knowledge(self, knowledge: Knowledge) -> None:
        """Swapped whole on reload: a conversation never sees half old and half new content."""
        self._knowledge = knowledge
        self._scrub = scrub_names(knowledge.people())

    def handle(self, conversation: str, event: Event, capabilities: Capabilities | None = None, *,
               person: str | None = None, acknowledge: bool = True) -> list[Reply]:  # fmt: skip
        """One event in, the replies out. Storage trouble gets an apology, never a crash or half a change.

        `capabilities` overrides the channel's for this event (a Telegram group is not a private chat).
        `person`: who is writing, as the booking limits count people (the web: its address); by default the
        conversation (Telegram: in a private chat, the user).
        `acknowledge=False`: the channel calls `replied(conversation)` once the replies are out; until then a booking
        just made counts as not told, and is told on the next message if the process dies first."""
        handled = self._locked(conversation, event, capabilities, person, acknowledge, existing_only=False)
        assert handled is not None  # (only existing_only gives None)
        return handled[0]

    def handle_existing(self, conversation: str, event: Event, *, person: str | None = None,
                        acknowledge: bool = True) -> tuple[list[Reply], State | None] | None:  # fmt: skip
        """`handle` for a channel whose conversations are started apart from their first event (the web): None when
        the conversation is unknown (never started, or deleted), else the replies and the conversation's state after
        them (None once deleted). Both read under the message's own lock, in the round trips it costs anyway. After a
        storage error: the apology, and the state as it was (an empty one if even that could not be read)."""
        return self._locked(conversation, event, None, person, acknowledge, existing_only=True)

    def _locked(self, conversation: str, event: Event, capabilities: Capabilities | None, person: str | None,
                acknowledge: bool, existing_only: bool) -> tuple[list[Reply], State | None] | None:  # fmt: skip
        before: State | None = None
        try:
            with self.store.locked_state(conversation) as before:  # its next message waits, in every worker
                if existing_only and before is None:
                    return None
                return self._handle(conversation, before, event, capabilities or self.capabilities,
                                    person or conversation, acknowledge)  # fmt: skip
        except self.store.errors as exc:
            # Locked by another process beyond the wait, disk full, I/O error: the transaction was rolled
            # back, so nothing is half written; the person is asked to try again.
            log.error("storage error while handling an event: %s", type(exc).__name__)
            if isinstance(exc, StoreGone):
                self.fatal = exc  # the channel stops the process: nothing is written into a lost database
            apology = Reply(texts.text("technical_error", "sv") + "\n\n" + texts.text("technical_error", "en"))
            return [apology], before or State()

    def _handle(self, conversation: str, state: State | None, event: Event, capabilities: Capabilities, person: str,
                acknowledge: bool) -> tuple[list[Reply], State | None]:  # fmt: skip
        """The replies, and the state saved for the conversation (None: it is gone)."""
        now = self.clock()
        kind = EVENT_KINDS.get(type(event), "other")
        lead: list[Reply] = []
        if state is not None and state.confirming:
            lead, event, again = self._after_confirm(conversation, state, event, now)
            if again:
                return lead, self.store.load_state(conversation)  # (a confirm pressed twice: rare)
        press = isinstance(event, ButtonPress) and event.data == "confirm"
        if state is not None and state.flow == "booking.confirm" and (press or isinstance(event, TextMessage)):
            # Its own commit before the step: if the process dies before the booking's commit, the next message
            # says so (ConfirmLost) instead of leaving the person thinking they have booked.
            state = state.with_(confirming={"pressed": now.isoformat()})
            self.store.save_state(conversation, state, now)
        outcome = self._step(conversation, state, event, now, capabilities, person)
        try:
            notifications, replies, saved = self._apply(conversation, state, outcome, now, kind, person, acknowledge)
        except SlotUnavailable as lost:
            log.info("slot lost a race; offering others")
            outcome = self._step(conversation, state, SlotTaken(str(lost)), now, capabilities, person)
            notifications, replies, saved = self._apply(conversation, state, outcome, now, kind, person, acknowledge)
        except BookingRefused as refused:
            log.info("booking refused at the %s limit", refused.reason)  # never who: the log has no personal data
            outcome = self._step(conversation, state, LimitReached(refused.reason, refused.limit), now, capabilities,
                                 person)
            notifications, replies, saved = self._apply(conversation, state, outcome, now, kind, person, acknowledge)
            if refused.alert is not None:
                with self.store.transaction():
                    self._alert(refused.alert, now)
        for notification in notifications:
            try:
                self.notifier.notify(notification)
            except Exception:  # a notification must never undo or hide a booking
                log.exception("could not notify about booking %s", notification.booking.id)
        return lead + replies, saved

    def _after_confirm(self, conversation: str, state: State, event: Event,
                       now: datetime) -> tuple[list[Reply], Event, bool]:  # fmt: skip
        """What the last confirmation left to say (State.confirming): a booking made but perhaps never told (the
        process died before the reply went out), a second press of the same confirm (the same booking again, never a
        second one), or a press that never committed (ConfirmLost: the times again). Returns the replies to put first,
        the event to handle, and whether that is all."""
        mark = state.confirming or {}
        press = isinstance(event, ButtonPress) and event.data == "confirm"
        if "booking" in mark:
            booking = self.store.booking(str(mark["booking"]))
            if booking is None or booking.status != "booked":
                return [], event, False
            again = press and state.flow == "idle"  # (a move's own confirm is another flow's)
            if not again and mark.get("told"):
                return [], event, False
            lang = state.lang or booking.lang or "sv"
            region = self.knowledge.content.regions.get(booking.region)
            told = Reply(self.knowledge.content.text(
                "confirm_went_through", lang, when=format_when(parse_slot_key(booking.slot), lang),
                contact_name=region.contact.name if region else ""), lang=lang)  # fmt: skip
            if again and not mark.get("told"):
                self.store.save_state(conversation, state.with_(confirming={**mark, "told": True}), now)
            return [told], event, again
        if "pressed" in mark and state.flow == "booking.confirm" and not press:
            if isinstance(event, CommandMessage):  # a command is still done; the times are not shown on top of it
                lang = state.lang or "sv"
                return [Reply(self.knowledge.content.text("confirm_lost", lang), lang=lang)], event, False
            return [], ConfirmLost(), False
        return [], event, False

    def replied(self, conversation: str) -> None:
        """The channel has sent the replies of `handle(..., acknowledge=False)`: the booking counts as told, and its
        calendar file (waiting in the outbox to follow the replies) goes now."""
        if conversation not in self._awaiting:
            return  # nearly every message: nothing to write
        self._awaiting.discard(conversation)
        try:
            with self.store.locked_state(conversation) as state, self.store.transaction():
                mark = state.confirming if state is not None else None
                if state is not None and mark and "booking" in mark and not mark.get("told"):
                    self.store.save_state(conversation, state.with_(confirming={**mark, "told": True}), self.clock())
                self.store.release_outbox(conversation, "calendar")
        except self.store.errors as exc:  # the next message tells the booking again: better twice than never
            log.error("storage error after replying: %s", type(exc).__name__)
            return
        wake = getattr(self.notifier, "wake", None)
        if callable(wake):
            wake()

    def view(self, conversation: str, now: datetime, person: str | None = None) -> View:
        return _LazyView(
            now,
            lambda: self.store.taken(now),
            lambda: tuple(b.info() for b in self.store.bookings_of(conversation, now)),
            lambda: self._limits_passed(person or conversation, now),
        )

    def _limits_passed(self, person: str, now: datetime) -> dict[str, LimitReached]:
        """Per region, the booking limit a new booking by `person` would pass now (read as a booking starts)."""
        hashed = self.store.person_hash(person)
        found = {region: passed(self.store, self.settings.limits, region, hashed, now)
                 for region in self.knowledge.content.regions}  # fmt: skip
        return {region: LimitReached(*reached) for region, reached in found.items() if reached is not None}

    def _step(self, conversation: str, state: State | None, event: Event, now: datetime,
              capabilities: Capabilities, person: str | None = None) -> Outcome:  # fmt: skip
        context = Context(
            content=self.knowledge.content,
            matcher=self.knowledge.matcher,
            crisis=self.knowledge.crisis,
            view=self.view(conversation, now, person),
            new_id=lambda: secrets.token_urlsafe(6),
            retention_days=self.settings.retention_days,
            capabilities=capabilities,
        )
        return step(state, event, context)

    def _apply(self, conversation: str, before: State | None, outcome: Outcome, now: datetime,
               event_kind: str | None, person: str | None = None,
               acknowledge: bool = True) -> tuple[list[Notification], list[Reply], State | None]:  # fmt: skip
        """Write the step's effects and new state together. Raises SlotUnavailable or BookingRefused with nothing
        written. Returns the notifications, the replies (without the files that go through the outbox) and the state
        saved (None: none, the conversation is gone)."""
        notifications: list[Notification] = []
        made: Booking | None = None
        replies = list(outcome.replies)
        after = outcome.state
        region = (after or before or State()).region
        lang = (after or before or State()).lang
        effects = list(outcome.effects)
        if event_kind and not any(
            isinstance(e, Record) and e.action in ("question", "fallback") for e in effects
        ):
            effects.insert(0, Record(event_kind))  # every message counts, even a button press
        stand_in: str | None = None
        erased: set[int] = set()  # the notices of a /delete: once sent, nothing of them may stay on disk
        with self.store.transaction():
            for effect in effects:
                if isinstance(effect, CreateBooking):
                    booking = Booking(
                        effect.booking_id,
                        conversation,
                        effect.region,
                        effect.slot,
                        effect.name,
                        effect.phone,
                        effect.lang,
                        "booked",
                    )
                    hashed = self.store.person_hash(person or conversation)
                    region_name = self._region_name(effect.region)
                    admit(self.store, self.settings.limits, effect.region, region_name, hashed, now)
                    self.store.create_booking(booking, now, person=hashed)
                    notifications.append(Notification("booked", booking))
                    made = booking
                    for alert in (self._changed(person or conversation, effect.region, "booked", now),
                                  rate_alert(self.store, self.settings.limits, effect.region, region_name, now),
                                  cap_alert(self.store, self.settings.limits, effect.region, region_name, now)):
                        if alert is not None:
                            self._alert(alert, now)
                elif isinstance(effect, CancelBooking):
                    cancelled = self.store.cancel_booking(conversation, effect.booking_id, now)
                    if cancelled:  # never refused (the time goes back to others), but it counts as a change
                        notifications.append(Notification("cancelled", cancelled))
                        self._changed(person or conversation, cancelled.region, "cancelled", now, tell=True)
                elif isinstance(effect, MoveBooking):
                    current = self.store.booking(effect.booking_id)
                    if current is not None and current.conversation == conversation:
                        admit_move(self.store, self.settings.limits, current.region,
                                   self._region_name(current.region), self.store.person_hash(person or conversation),
                                   now)  # fmt: skip
                    old = self.store.move_booking(conversation, effect.booking_id, effect.slot, now)
                    if old:
                        moved = Booking(**{**old.__dict__, "slot": effect.slot})
                        notifications.append(Notification("moved", moved, old_slot=old.slot))
                        self._changed(person or conversation, old.region, "moved", now, tell=True)
                elif isinstance(effect, DeleteEverything):
                    names = self.store.names_of(conversation)
                    for booking in self.store.delete_conversation(conversation, now):
                        # only the bookings the developer was told of; without name or phone (not even in the outbox)
                        anonymous = replace(booking, name=None, phone=None)
                        notifications.append(Notification("cancelled", anonymous, erased=True))
                        erased.add(id(notifications[-1]))
                        # /delete forgets the conversation, not today's count of the person's changes
                        self._changed(person or conversation, booking.region, "cancelled", now, tell=True)
                    if names:  # the names given in the bookings, in questions asked before them too
                        self.store.rescrub_unanswered(scrub_names(names))
                    # the chat's events keep counting, but under a stand-in that links them to nothing
                    stand_in = self.store.unlink_events(conversation, now)
                elif isinstance(effect, Record):
                    self._record(conversation, effect, region, lang, now, stand_in)
            if self.outbox is not None and notifications:
                # In the same transaction as the booking: a crash after the commit loses no notice.
                self.store.enqueue([replace(item, kind=ERASURE) if id(n) in erased else item
                                    for n in notifications for item in self.outbox(n, now)], now)  # fmt: skip
            replies = self._route_files(conversation, replies, now, acknowledge)
            if after is not None:
                # The last booking made is remembered: told on the next message if its reply never went out (then
                # it counts as told), and the same booking again if its confirm is pressed again.
                last = before.confirming if before is not None and before.confirming else {}
                confirming = ({"booking": made.id, "slot": made.slot, "told": acknowledge} if made
                              else {**last, "told": True} if "booking" in last else None)  # fmt: skip
                after = after.with_(confirming=confirming)
                self.store.save_state(conversation, after, now)
        if made is not None and not acknowledge:
            self._awaiting.add(conversation)
        if stand_in is not None:
            self.store.scrub_disk()  # nothing of the deleted chat left in the WAL once /delete has answered
        return notifications, replies, after

    def _route_files(self, conversation: str, replies: list[Reply], now: datetime, acknowledge: bool) -> list[Reply]:
        """Files the channel's runtime sends through the outbox (Telegram: the person's calendar file) leave the
        replies and go into the outbox in this transaction, so a crash right after the commit does not lose them."""
        if self.files is None:
            return replies
        routed: list[Reply] = []
        for reply in replies:
            items = self.files(conversation, reply.attachment, now) if reply.attachment is not None else []
            if items:
                # After the replies (Engine.replied releases it), or on its own after FILE_FALLBACK.
                self.store.enqueue(items, now, due=None if acknowledge else datetime.now(UTC) + FILE_FALLBACK)
                reply = replace(reply, attachment=None)
                if not acknowledge:
                    self._awaiting.add(conversation)
            routed.append(reply)
        return routed

    def _changed(self, person: str, region: str, kind: str, now: datetime, *, tell: bool = False) -> Alert | None:
        """Count a booking, cancellation or move against the person's changes limit; with `tell`, alert the admins
        when it reaches the limit (a booking's alert goes with the others)."""
        alert = changed(self.store, self.settings.limits, region, self._region_name(region),
                        self.store.person_hash(person), kind, now)  # fmt: skip
        if tell and alert is not None:
            self._alert(alert, now)
        return alert

    def _region_name(self, region: str) -> str:
        found = self.knowledge.content.regions.get(region)
        return found.name["sv"] if found else region

    def _alert(self, alert: Alert, now: datetime) -> None:
        """To the admins through the outbox, once per window (the key names it); without a runtime, to the log."""
        items = self.alerts(alert, now) if self.alerts is not None else []
        if not items or self.store.enqueue(items, now):
            log.warning("alert: %s", alert.text)

    def _record(self, conversation: str, record: Record, region: str | None, lang: str | None, now: datetime,
                stand_in: str | None = None) -> None:  # fmt: skip
        lang = record.lang or lang  # a question in another language counts in that language
        self.store.record_event(
            conversation_hash=stand_in or self.store.conversation_hash(conversation, now),
            now=now, region=region, lang=lang, channel=self.channel,
            action=record.action, topic=record.topic, band=record.band,
        )  # fmt: skip
        if record.unanswered and self.settings.keep_unanswered:
            reason = "unhelpful" if record.action == "unhelpful" else "fallback"  # 👎: answered, but wrongly
            self.store.record_unanswered(
                now=now, region=region, lang=lang, reason=reason,
                # the names this person gave when booking are theirs, even where they stand alone
                text=scrub_names(self.store.names_of(conversation))(self._scrub(record.unanswered)),
            )
