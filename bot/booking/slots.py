"""Free meeting slots for a business developer, computed from opening hours and Swedish days off.

Everything here is pure: the current time is always passed in, so results are reproducible and testable.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Europe/Stockholm"

_KEY_FORMAT = "%Y%m%dT%H%MZ"
# [0-9], not \d: \d also matches other scripts' digits, and button data is untrusted.
_KEY_RE = re.compile(r"[0-9]{8}T[0-9]{4}Z")


@dataclass(frozen=True)
class Availability:
    """When a business developer takes meetings; times are local wall-clock times in `timezone`."""

    weekdays: frozenset[int]  # 0 = Monday
    hours: tuple[tuple[time, time], ...]  # opening windows, [start, end)
    meeting_minutes: int
    lead_time: timedelta  # earliest bookable start is now + lead_time
    horizon: timedelta  # latest bookable start is now + horizon
    away: tuple[tuple[date, date], ...]  # inclusive date ranges
    timezone: str = DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        # Availability comes from hand-edited content, so fail loudly on nonsense instead of offering none.
        if not self.weekdays or not all(isinstance(d, int) and 0 <= d <= 6 for d in self.weekdays):
            raise ValueError(f"weekdays must be a non-empty set of 0..6, got {self.weekdays!r}")
        if self.meeting_minutes <= 0:
            raise ValueError(f"meeting_minutes must be positive, got {self.meeting_minutes}")
        if self.lead_time < timedelta(0) or self.horizon < timedelta(0):
            raise ValueError("lead_time and horizon must not be negative")
        for start, end in self.hours:
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("opening hours are local wall-clock times and must be naive")
            if start >= end:
                raise ValueError(f"opening window must end after it starts: {start}-{end}")
        ordered = sorted(self.hours)
        for (_, end), (start, _) in pairwise(ordered):
            if start < end:
                raise ValueError("opening windows must not overlap")
        for first, last in self.away:
            if first > last:
                raise ValueError(f"away range ends before it starts: {first}..{last}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:  # ValueError: malformed keys like "../x"
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc

    @property
    def zone(self) -> ZoneInfo:
        """The availability's time zone."""
        return ZoneInfo(self.timezone)

    def is_away(self, day: date) -> bool:
        """True if `day` falls inside one of the away ranges."""
        return any(first <= day <= last for first, last in self.away)


@lru_cache(maxsize=64)
def _days_off(year: int) -> frozenset[date]:
    """Swedish public holidays plus the eves that are de facto days off, for one year."""
    days = set(_public_holidays(year))
    # Julafton, nyårsafton and midsommarafton are not statutory holidays but are treated as Sundays by the
    # Annual Leave Act. Add them by rule: only recent `holidays` releases have a "de_facto" category for them.
    days.add(date(year, 12, 24))
    days.add(date(year, 12, 31))
    june_19 = date(year, 6, 19)
    days.add(june_19 + timedelta(days=(4 - june_19.weekday()) % 7))  # Friday between 19 and 25 June
    return frozenset(days)


# The last change to Swedish public holidays: Nationaldagen in, Annandag pingst out.
CURRENT_HOLIDAY_LAW = 2005


def _public_holidays(year: int) -> set[date]:
    """Sweden's public holidays (lag 1989:253), the days the `holidays` library's Sweden gives (tests compare
    them for every year from 2005 to 2100, the last the library covers). The rules of the law in force are written out here because
    importing `holidays` loads the calendars of every country: some 15 MB in every bot process, for some
    twenty dates a year. Years under older rules (statistics of the past) still ask the library."""
    if year < CURRENT_HOLIDAY_LAW:
        import holidays

        # include_sundays=False on purpose: older `holidays` releases list every Sunday as a Swedish holiday;
        # whether weekends are bookable is decided by Availability.weekdays, not by the holiday calendar.
        return set(holidays.country_holidays("SE", years=year, categories=(holidays.PUBLIC,),
                                             include_sundays=False))  # fmt: skip
    easter = _easter(year)
    return {
        date(year, 1, 1),  # nyårsdagen
        date(year, 1, 6),  # trettondedag jul
        easter - timedelta(days=2),  # långfredagen
        easter,  # påskdagen
        easter + timedelta(days=1),  # annandag påsk
        date(year, 5, 1),  # första maj
        easter + timedelta(days=39),  # Kristi himmelsfärdsdag
        easter + timedelta(days=49),  # pingstdagen
        date(year, 6, 6),  # Sveriges nationaldag
        _first_saturday(date(year, 6, 20)),  # midsommardagen
        _first_saturday(date(year, 10, 31)),  # alla helgons dag
        date(year, 12, 25),  # juldagen
        date(year, 12, 26),  # annandag jul
    }


def _first_saturday(day: date) -> date:
    return day + timedelta(days=(5 - day.weekday()) % 7)


def _easter(year: int) -> date:
    """Easter Sunday in the Gregorian calendar (the anonymous algorithm of Meeus, Jones and Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 (the algorithm's own name)
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


def is_swedish_day_off(day: date) -> bool:
    """True for Swedish public holidays and julafton, nyårsafton, midsommarafton (not plain Sundays)."""
    return day in _days_off(day.year)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


def _instant(wall: datetime, zone: ZoneInfo) -> datetime | None:
    """The one UTC instant a local wall-clock time denotes, or None if DST skips or repeats it."""
    first = wall.replace(tzinfo=zone, fold=0)
    # fold=0 and fold=1 disagree exactly for times in the spring gap and in the repeated autumn hour.
    if first.utcoffset() != wall.replace(tzinfo=zone, fold=1).utcoffset():
        return None
    return first.astimezone(UTC)


def _day_slots(avail: Availability, day: date, zone: ZoneInfo) -> Iterator[datetime]:
    """Meeting starts on `day`, in order, as UTC instants; back-to-back inside each window."""
    length = timedelta(minutes=avail.meeting_minutes)
    for window_start, window_end in sorted(avail.hours):
        # Step in wall-clock time so a 09:00 meeting stays 09:00 local on both sides of a DST change.
        wall = datetime.combine(day, window_start)
        last_wall = datetime.combine(day, window_end)
        while wall + length <= last_wall:
            start = _instant(wall, zone)
            end = _instant(wall + length, zone)
            # Only night windows can touch a DST change: skip meetings whose start or end is ambiguous or
            # missing, or that a change would lengthen or shorten, so a meeting always lasts `length`.
            if start is not None and end is not None and end - start == length:
                yield start
            wall += length


def upcoming_slots(
    avail: Availability,
    now: datetime,
    taken: Collection[datetime] = (),
    *,
    after: datetime | None = None,
    limit: int = 6,
) -> list[datetime]:
    """The next `limit` free meeting starts, in order, as aware datetimes in the availability's zone.

    `taken` starts are compared as instants (any zone); `after` is exclusive and pages to later slots.
    """
    _require_aware(now, "now")
    if after is not None:
        _require_aware(after, "after")
    for moment in taken:
        _require_aware(moment, "taken slot")
    if limit <= 0:
        return []

    zone = avail.zone
    # Work in UTC: adding a timedelta to a zoned datetime is wall-clock arithmetic (24 h from a Saturday
    # noon before the autumn change would be 25 real hours), and same-zone comparisons ignore DST folds.
    now_utc = now.astimezone(UTC)
    earliest = now_utc + avail.lead_time
    latest = now_utc + avail.horizon
    after_utc = after.astimezone(UTC) if after is not None else None
    busy = {moment.astimezone(UTC) for moment in taken}

    first_day = max(earliest, after_utc or earliest).astimezone(zone).date()
    last_day = latest.astimezone(zone).date()
    found: list[datetime] = []
    day = first_day
    while day <= last_day:
        if day.weekday() in avail.weekdays and not avail.is_away(day) and not is_swedish_day_off(day):
            for start in _day_slots(avail, day, zone):
                if start < earliest or (after_utc is not None and start <= after_utc) or start in busy:
                    continue
                if start > latest:
                    return found
                found.append(start.astimezone(zone))
                if len(found) == limit:
                    return found
        day += timedelta(days=1)
    return found


def slot_key(start: datetime) -> str:
    """Canonical, zone-independent name of a slot, e.g. "20261201T0800Z" (minute precision, UTC)."""
    _require_aware(start, "start")
    if start.second or start.microsecond:
        # A key with the seconds dropped would name a different instant than the slot it came from.
        raise ValueError(f"slot start must be a whole minute, got {start!r}")
    return start.astimezone(UTC).strftime(_KEY_FORMAT)


def parse_slot_key(key: str) -> datetime:
    """Inverse of `slot_key`: an aware UTC datetime. Raises ValueError for anything else (untrusted input)."""
    if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
        raise ValueError(f"not a slot key: {key!r}")
    return datetime.strptime(key, _KEY_FORMAT).replace(tzinfo=UTC)  # strptime rejects 20261301 etc.
