"""Booking limits: one person must not drain a calendar, and an unusual rate of bookings is told to the admins.

Counted in the database, inside the booking's own transaction (after `Store.serialize`), so the limits hold with
several workers on one PostgreSQL database as well as in one SQLite process:
- a person (the Telegram user, which in a private chat is the conversation; on the web the client's address) has at
  most `per_person` upcoming bookings, however many conversations they open. Only a keyed hash of the person is
  stored with the booking, and only until the meeting has passed (Store.purge);
- a region takes at most `per_region_day` bookings made in one day (Swedish time), whoever makes them: the rest of
  the calendar stays for the people who call;
- a person makes at most `changes_per_day` changes a day (Swedish time): bookings, cancellations and moves together,
  each of which sends the business developer a notice. Past it a booking or a move is refused (a cancellation never
  is: the time goes back to others); the admins are told. Counted in `booking_changes` (a keyed hash, kept two days);
- more than `alert_per_hour` bookings made in a region within an hour, or the day's cap reached, is reported to the
  admins once per hour (per day for the cap), with counts only: no names, numbers, addresses or hashes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # light to import: the configuration reads the limits
    from bot.storage import Store

ZONE = ZoneInfo("Europe/Stockholm")
Reason = Literal["person", "changes", "region"]


@dataclass(frozen=True)
class Limits:
    """0 turns a limit (or the alert) off."""

    per_person: int = 3  # upcoming bookings per person, across all their conversations
    per_region_day: int = 10  # bookings made per region per day, by everyone together
    alert_per_hour: int = 4  # more bookings than this in a region within an hour: the admins are told
    changes_per_day: int = 6  # bookings, cancellations and moves per person and day, each a notice to the developer

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Limits:
        """SOCIALBOT_MAX_BOOKINGS_PER_PERSON, SOCIALBOT_MAX_BOOKINGS_PER_DAY, SOCIALBOT_ALERT_BOOKINGS_PER_HOUR,
        SOCIALBOT_MAX_CHANGES_PER_PERSON_DAY. Raises ValueError on a value that is not a whole number of 0 or more."""
        values: dict[str, int] = {}
        for field, name in (("per_person", "SOCIALBOT_MAX_BOOKINGS_PER_PERSON"),
                            ("per_region_day", "SOCIALBOT_MAX_BOOKINGS_PER_DAY"),
                            ("alert_per_hour", "SOCIALBOT_ALERT_BOOKINGS_PER_HOUR"),
                            ("changes_per_day", "SOCIALBOT_MAX_CHANGES_PER_PERSON_DAY")):  # fmt: skip
            raw = env.get(name, "").strip()
            if raw:
                if not raw.isdigit():
                    raise ValueError(f"{name} must be a whole number (0 turns it off), not {raw!r}")
                values[field] = int(raw)
        return cls(**values)


@dataclass(frozen=True)
class Alert:
    """A message for the admins. `key` names the window, so the same alert is queued once per window."""

    key: str
    text: str


class BookingRefused(Exception):
    """A booking would pass a limit; raised inside the booking's transaction, so nothing is written."""

    def __init__(self, reason: Reason, limit: int, alert: Alert | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.limit = limit
        self.alert = alert


def web_person(address: str) -> str:
    """Who a web client is, for the limits: its address; an IPv6 address by its /64, which one subscriber usually
    holds whole (one device can take any address in it)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"web:{address}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"web:{ip.ipv4_mapped}"
        return f"web:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"web:{ip}"


def day_start(now: datetime) -> datetime:
    """Midnight in Sweden, the start of the day the per-region cap counts."""
    local = now.astimezone(ZONE)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def passed(store: Store, limits: Limits, region: str, person: str, now: datetime) -> tuple[Reason, int] | None:
    """The limit a new booking by `person` (a hash) in `region` would pass now, with its value; None if none. Read
    when a booking starts, so that nobody writes their name and number to be refused; `admit` counts again, under
    the locks, when the booking is made."""
    if limits.per_person and store.upcoming_of_person(person, now) >= limits.per_person:
        return "person", limits.per_person
    if changes_passed(store, limits, person, now):
        return "changes", limits.changes_per_day
    if limits.per_region_day and _day_count(store, region, now)[0] >= limits.per_region_day \
            and not day_cap_lifted(store, region, now):
        return "region", limits.per_region_day
    return None


def admit(store: Store, limits: Limits, region: str, region_name: str, person: str, now: datetime) -> None:
    """Inside the booking's transaction, before its insert: raise BookingRefused if the booking would pass a limit."""
    store.serialize(f"region:{region}", f"person:{person}")
    reason = passed(store, limits, region, person, now)
    if reason is None:
        return
    if reason[0] == "person":
        raise BookingRefused("person", limits.per_person)
    if reason[0] == "changes":
        raise BookingRefused("changes", limits.changes_per_day, changes_alert(store, limits, region, region_name, now))
    raise BookingRefused("region", limits.per_region_day, cap_alert(store, limits, region, region_name, now))


def changes_passed(store: Store, limits: Limits, person: str, now: datetime) -> bool:
    """Whether `person` has made as many changes today as a day allows."""
    return bool(limits.changes_per_day) and store.changes_since(person, day_start(now)) >= limits.changes_per_day


def admit_move(store: Store, limits: Limits, region: str, region_name: str, person: str, now: datetime) -> None:
    """Inside a move's transaction: raise BookingRefused past the changes limit (a move notifies the developer too)."""
    store.serialize(f"person:{person}")
    if changes_passed(store, limits, person, now):
        raise BookingRefused("changes", limits.changes_per_day, changes_alert(store, limits, region, region_name, now))


def changed(store: Store, limits: Limits, region: str, region_name: str, person: str, kind: str,
            now: datetime) -> Alert | None:  # fmt: skip
    """After a booking, cancellation or move, in its transaction: count it; the alert when it reaches the limit."""
    store.record_change(person, region, kind, now)
    if not changes_passed(store, limits, person, now):
        return None
    return changes_alert(store, limits, region, region_name, now)


def changes_alert(store: Store, limits: Limits, region: str, region_name: str, now: datetime) -> Alert | None:
    """Someone reached the day's changes limit: the admins hear it once an hour per region, with counts only."""
    if not limits.changes_per_day:
        return None
    most = store.most_changes_by_one(region, day_start(now))
    return Alert(
        f"changes:{region}:{now.astimezone(UTC):%Y-%m-%dT%H}",
        f"Ovanligt många ändringar i {region_name}: {most} i dag av samma person (bokningar, avbokningar och "
        f"flyttar; gränsen är {limits.changes_per_day} per person och dag). Varje ändring skickar ett meddelande "
        f"till kontaktpersonen. Fler bokningar och flyttar från den personen tas inte emot i dag; "
        f"den får kontaktpersonens telefonnummer. Se över bokningarna med `socialbot bookings --region {region}`; "
        f"gränsen ändras med SOCIALBOT_MAX_CHANGES_PER_PERSON_DAY.",
    )


def cap_alert(store: Store, limits: Limits, region: str, region_name: str, now: datetime) -> Alert | None:
    """After a booking, in its transaction (and at a refusal): the alert that the region's day cap is reached, once
    a day. Bookings are refused from the start of a booking on, so the admins hear it when the cap is reached."""
    if not limits.per_region_day or day_cap_lifted(store, region, now):
        return None
    made, most = _day_count(store, region, now)
    if made < limits.per_region_day:
        return None
    return Alert(
        f"day-cap:{region}:{day_start(now):%Y-%m-%d}",
        f"Bokningstaket är nått i {region_name}: {made} bokningar i dag (högst {most} av samma person). "
        f"Chatten tar inte emot fler bokningar i {region_name} förrän i morgon; den som försöker får "
        f"kontaktpersonens telefonnummer. En admin kan häva taket för resten av dagen med /liftcap {region} "
        f"(eller `socialbot bookings --lift-cap {region}`); taket ändras med SOCIALBOT_MAX_BOOKINGS_PER_DAY.",
    )


def _day_count(store: Store, region: str, now: datetime) -> tuple[int, int]:
    return store.bookings_made(region, day_start(now), cancelled=False)


# --- an admin lifts a region's day cap for the rest of the day -------------------------------------------------------

LIFTED = "day-cap-lifted"  # a lease named per region and day, held by the admin who lifted it, until midnight


def _lift_name(region: str, now: datetime) -> str:
    return f"{LIFTED}:{region}:{day_start(now):%Y-%m-%d}"


def lift_day_cap(store: Store, region: str, by: str, now: datetime) -> bool:
    """Lift `region`'s day cap until midnight (Swedish time), for every worker. False if it was lifted today already
    (by someone else). `by` names the admin, as the log and the other admins are told."""
    local = day_start(now)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(), ZONE)  # 23 or 25 h away on a DST day
    return store.acquire_lease(_lift_name(region, now), by, now, midnight - now)


def lift_holder(store: Store, region: str, now: datetime) -> str | None:
    """Who lifted `region`'s day cap today (None: nobody)."""
    return store.lease_holder(_lift_name(region, now), now)


def day_cap_lifted(store: Store, region: str, now: datetime) -> bool:
    return lift_holder(store, region, now) is not None


def rate_alert(store: Store, limits: Limits, region: str, region_name: str, now: datetime) -> Alert | None:
    """After a booking, in its transaction: an alert when the last hour has more bookings than usual (once an hour)."""
    if not limits.alert_per_hour:
        return None
    made, _ = store.bookings_made(region, now - timedelta(hours=1))
    if made <= limits.alert_per_hour:
        return None
    # (a cancelled booking has lost its person: the changes say who made how many)
    most = store.most_changes_by_one(region, now - timedelta(hours=1), "booked")
    return Alert(
        f"rate:{region}:{now.astimezone(UTC):%Y-%m-%dT%H}",
        f"Ovanligt många bokningar i {region_name}: {made} den senaste timmen (varning vid fler än "
        f"{limits.alert_per_hour}), högst {most} av samma person. Se över bokningarna med "
        f"`socialbot bookings --region {region}`.",
    )
