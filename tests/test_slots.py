"""Behaviour of the free-slot finder: opening hours, Swedish days off, DST, paging and slot keys."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.booking import slots as slots_module
from bot.booking.slots import (
    Availability,
    is_swedish_day_off,
    parse_slot_key,
    slot_key,
    upcoming_slots,
)

SE = ZoneInfo("Europe/Stockholm")
WEEKDAYS = frozenset(range(5))
MON_TO_SAT = frozenset(range(6))
EVERY_DAY = frozenset(range(7))


def avail(
    *,
    weekdays: frozenset[int] = WEEKDAYS,
    hours: tuple[tuple[time, time], ...] = ((time(9), time(10)),),
    minutes: int = 60,
    lead: timedelta = timedelta(0),
    horizon: timedelta = timedelta(days=30),
    away: tuple[tuple[date, date], ...] = (),
) -> Availability:
    return Availability(
        weekdays=weekdays,
        hours=hours,
        meeting_minutes=minutes,
        lead_time=lead,
        horizon=horizon,
        away=away,
    )


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SE)


def dates(slots: list[datetime]) -> list[date]:
    return [s.date() for s in slots]


# --- daylight saving time ---------------------------------------------------------------------------


def test_autumn_dst_keeps_local_time_and_changes_offset() -> None:
    # Summer time ends Sunday 2026-10-25: 09:00 is 07:00Z the Friday before and 08:00Z the Monday after.
    slots = upcoming_slots(avail(), local(2026, 10, 22, 12), limit=2)
    assert slots == [local(2026, 10, 23, 9), local(2026, 10, 26, 9)]
    assert [s.utcoffset() for s in slots] == [timedelta(hours=2), timedelta(hours=1)]
    assert [s.astimezone(UTC) for s in slots] == [
        datetime(2026, 10, 23, 7, tzinfo=UTC),
        datetime(2026, 10, 26, 8, tzinfo=UTC),
    ]
    assert all(s.hour == 9 and s.minute == 0 for s in slots)


def test_spring_dst_keeps_local_time_and_changes_offset() -> None:
    # Summer time starts Sunday 2027-03-28 (Easter Sunday): Good Friday 26th and Easter Monday 29th are off.
    slots = upcoming_slots(avail(), local(2027, 3, 24, 12), limit=2)
    assert slots == [local(2027, 3, 25, 9), local(2027, 3, 30, 9)]
    assert [s.utcoffset() for s in slots] == [timedelta(hours=1), timedelta(hours=2)]
    assert [s.astimezone(UTC) for s in slots] == [
        datetime(2027, 3, 25, 8, tzinfo=UTC),
        datetime(2027, 3, 30, 7, tzinfo=UTC),
    ]


@pytest.mark.parametrize(
    ("now", "boundary"),
    [
        # Noon the day before a change plus 24 real hours is 11:00 local in autumn and 13:00 in spring.
        (local(2026, 10, 24, 12), local(2026, 10, 25, 11)),
        (local(2026, 3, 28, 12), local(2026, 3, 29, 13)),
    ],
)
def test_lead_time_and_horizon_are_real_durations_across_dst(now: datetime, boundary: datetime) -> None:
    hourly = ((time(8), time(18)),)
    a = avail(weekdays=EVERY_DAY, hours=hourly, lead=timedelta(hours=24), horizon=timedelta(days=3))
    assert upcoming_slots(a, now, limit=1) == [boundary]
    b = avail(weekdays=EVERY_DAY, hours=hourly, horizon=timedelta(hours=24))
    assert upcoming_slots(b, now, limit=100)[-1] == boundary


def test_now_in_another_zone_is_the_same_instant() -> None:
    now = local(2026, 10, 22, 12)
    a = avail()
    assert upcoming_slots(a, now) == upcoming_slots(a, now.astimezone(ZoneInfo("America/New_York")))
    assert upcoming_slots(a, now) == upcoming_slots(a, now.astimezone(UTC))


def test_returned_slots_are_in_the_availability_zone() -> None:
    slots = upcoming_slots(avail(), datetime(2026, 11, 1, tzinfo=UTC))
    assert slots
    assert all(s.tzinfo == SE for s in slots)


def test_night_window_skips_meetings_distorted_by_spring_gap() -> None:
    # 2026-03-29 02:00-03:00 does not exist: 01:00-02:00 would end at a missing time, 02:00 does not exist.
    a = avail(weekdays=EVERY_DAY, hours=((time(1), time(5)),))
    slots = upcoming_slots(a, local(2026, 3, 28, 12), limit=3)
    assert slots == [local(2026, 3, 29, 3), local(2026, 3, 29, 4), local(2026, 3, 30, 1)]
    assert [s.utcoffset() for s in slots] == [timedelta(hours=2)] * 3


def test_night_meeting_shortened_by_spring_gap_is_skipped() -> None:
    # 01:30-03:00 local on 2026-03-29 would last only 30 real minutes.
    a = avail(weekdays=EVERY_DAY, hours=((time(0), time(6)),), minutes=90)
    slots = upcoming_slots(a, local(2026, 3, 28, 12), limit=3)
    assert slots == [local(2026, 3, 29, 0), local(2026, 3, 29, 3), local(2026, 3, 29, 4, 30)]


def test_night_window_skips_meetings_in_repeated_autumn_hour() -> None:
    # 2026-10-25 02:00-03:00 happens twice; no meeting may start or end inside it or lose/gain an hour.
    a = avail(weekdays=EVERY_DAY, hours=((time(0), time(5)),))
    slots = upcoming_slots(a, local(2026, 10, 24, 12), limit=4)
    assert slots == [
        local(2026, 10, 25, 0),
        local(2026, 10, 25, 3),
        local(2026, 10, 25, 4),
        local(2026, 10, 26, 0),
    ]
    for s in slots:
        assert s.astimezone(UTC) + timedelta(hours=1) == (s + timedelta(hours=1)).astimezone(UTC)


# --- days off ---------------------------------------------------------------------------------------


def test_christmas_new_year_and_epiphany_are_skipped() -> None:
    # Monday-Saturday so that Saturday 26 Dec and Saturday 2 Jan would be offered if they were workdays.
    a = avail(weekdays=MON_TO_SAT)
    slots = upcoming_slots(a, local(2026, 12, 22, 12), limit=8)
    assert dates(slots) == [
        date(2026, 12, 23),
        # 24 julafton, 25 juldagen, 26 annandag jul (a Saturday), 27 Sunday not a weekday
        date(2026, 12, 28),
        date(2026, 12, 29),
        date(2026, 12, 30),
        # 31 nyårsafton, 1 nyårsdagen
        date(2027, 1, 2),
        date(2027, 1, 4),
        date(2027, 1, 5),
        # 6 trettondedag jul
        date(2027, 1, 7),
    ]


def test_midsummer_eve_and_day_are_skipped() -> None:
    slots = upcoming_slots(avail(weekdays=MON_TO_SAT), local(2027, 6, 23, 12), limit=2)
    assert dates(slots) == [date(2027, 6, 24), date(2027, 6, 28)]


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 12, 24),
        date(2026, 12, 25),
        date(2026, 12, 26),
        date(2026, 12, 31),
        date(2027, 1, 1),
        date(2027, 1, 6),
        date(2027, 3, 26),  # långfredagen
        date(2027, 3, 29),  # annandag påsk
        date(2027, 5, 1),
        date(2027, 5, 6),  # Kristi himmelsfärdsdag
        date(2026, 6, 6),
        date(2026, 6, 19),  # midsommarafton 2026
        date(2027, 6, 25),  # midsommarafton 2027
        date(2027, 6, 26),
        date(2027, 11, 6),  # alla helgons dag
    ],
)
def test_day_off(day: date) -> None:
    assert is_swedish_day_off(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 12, 23),
        date(2027, 1, 5),
        date(2027, 6, 24),
        date(2026, 11, 8),  # an ordinary Sunday: weekends are governed by Availability.weekdays
        date(2026, 11, 7),  # an ordinary Saturday
    ],
)
def test_not_day_off(day: date) -> None:
    assert not is_swedish_day_off(day)


def test_eves_do_not_depend_on_the_library_de_facto_category(monkeypatch: pytest.MonkeyPatch) -> None:
    # Older `holidays` releases have no "de_facto" category; the eves must still be days off.
    real = holidays.country_holidays

    def public_only(*args: object, **kwargs: object) -> object:
        kwargs.pop("categories", None)
        return real(*args, categories=(holidays.PUBLIC,), **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(holidays, "country_holidays", public_only)
    slots_module._days_off.cache_clear()
    try:
        for day in (date(2026, 12, 24), date(2026, 12, 31), date(2026, 6, 19), date(2027, 6, 25)):
            assert is_swedish_day_off(day), day
        assert not is_swedish_day_off(date(2027, 6, 24))
    finally:
        slots_module._days_off.cache_clear()


@pytest.mark.parametrize("year", range(2000, 2041))
def test_midsummer_eve_is_the_friday_between_19_and_25_june(year: int) -> None:
    (friday,) = [date(year, 6, d) for d in range(19, 26) if date(year, 6, d).weekday() == 4]
    assert is_swedish_day_off(friday)  # midsommarafton
    assert is_swedish_day_off(friday + timedelta(days=1))  # midsommardagen
    assert not is_swedish_day_off(friday - timedelta(days=1))
    assert not is_swedish_day_off(friday - timedelta(days=7))


def test_ordinary_sunday_is_offered_when_sundays_are_working_days() -> None:
    slots = upcoming_slots(avail(weekdays=frozenset({6})), local(2026, 11, 2, 12), limit=1)
    assert slots == [local(2026, 11, 8, 9)]


# --- rules -----------------------------------------------------------------------------------------


def test_windows_are_cut_into_whole_back_to_back_meetings() -> None:
    a = avail(hours=((time(13), time(16)), (time(9), time(11))), minutes=45)
    slots = upcoming_slots(a, local(2026, 11, 1, 12), limit=7)
    # 09:00-11:00 holds two 45-minute meetings (10:30 would overrun); 13:00-16:00 holds four.
    assert [s.time() for s in slots[:6]] == [
        time(9),
        time(9, 45),
        time(13),
        time(13, 45),
        time(14, 30),
        time(15, 15),
    ]
    assert slots[6] == local(2026, 11, 3, 9)


def test_away_ranges_are_inclusive() -> None:
    a = avail(away=((date(2026, 11, 9), date(2026, 11, 11)),))
    slots = upcoming_slots(a, local(2026, 11, 5, 12), limit=3)
    assert dates(slots) == [date(2026, 11, 6), date(2026, 11, 12), date(2026, 11, 13)]


def test_lead_time() -> None:
    a = avail(hours=((time(9), time(12)),), lead=timedelta(hours=2))
    assert upcoming_slots(a, local(2026, 11, 2, 8, 30), limit=1) == [local(2026, 11, 2, 11)]
    # A start exactly at now + lead_time is allowed.
    assert upcoming_slots(a, local(2026, 11, 2, 7), limit=1) == [local(2026, 11, 2, 9)]
    assert upcoming_slots(a, local(2026, 11, 2, 7, 1), limit=1) == [local(2026, 11, 2, 10)]


def test_horizon_is_inclusive_and_limits_results() -> None:
    a = avail(hours=((time(9), time(12)),), horizon=timedelta(days=2))
    slots = upcoming_slots(a, local(2026, 11, 2, 9), limit=100)
    assert slots[0] == local(2026, 11, 2, 9)
    assert slots[-1] == local(2026, 11, 4, 9)
    assert len(slots) == 7


def test_horizon_shorter_than_lead_time_gives_nothing() -> None:
    a = avail(lead=timedelta(days=3), horizon=timedelta(days=2))
    assert upcoming_slots(a, local(2026, 11, 2, 9)) == []


def test_taken_slots_are_skipped_whatever_their_zone() -> None:
    a = avail(hours=((time(9), time(12)),))
    taken = [
        datetime(2026, 11, 2, 8, tzinfo=UTC),  # 09:00 local
        local(2026, 11, 2, 11).astimezone(ZoneInfo("Asia/Tokyo")),
        datetime(2026, 11, 2, 10, 30, tzinfo=UTC),  # not a slot: irrelevant
    ]
    slots = upcoming_slots(a, local(2026, 11, 2, 7), taken, limit=2)
    assert slots == [local(2026, 11, 2, 10), local(2026, 11, 3, 9)]


def test_taken_accepts_any_collection() -> None:
    a = avail()
    now = local(2026, 11, 2, 7)
    first = upcoming_slots(a, now, limit=1)[0]
    for taken in ({first}, frozenset({first}), (first,), [first]):
        assert upcoming_slots(a, now, taken, limit=1)[0] > first


def test_paging_with_after_continues_where_the_page_ended() -> None:
    a = avail(hours=((time(9), time(12)), (time(13), time(15))))
    now = local(2026, 11, 2, 7)
    everything = upcoming_slots(a, now, limit=12)
    page1 = upcoming_slots(a, now, limit=4)
    page2 = upcoming_slots(a, now, after=page1[-1], limit=4)
    page3 = upcoming_slots(a, now, after=page2[-1].astimezone(UTC), limit=4)
    assert page1 + page2 + page3 == everything
    assert len(set(everything)) == 12


def test_after_is_exclusive_and_later_than_lead_time() -> None:
    a = avail(hours=((time(9), time(12)),))
    now = local(2026, 11, 2, 7)
    assert upcoming_slots(a, now, after=local(2026, 11, 2, 10), limit=1) == [local(2026, 11, 2, 11)]
    # "Later dates": jump ahead to the following week.
    assert upcoming_slots(a, now, after=local(2026, 11, 8, 23, 59), limit=1) == [local(2026, 11, 9, 9)]
    # An `after` earlier than the lead time changes nothing.
    assert upcoming_slots(a, now, after=local(2020, 1, 1)) == upcoming_slots(a, now)


def test_limit() -> None:
    a = avail(hours=((time(9), time(12)),))
    now = local(2026, 11, 2, 7)
    assert len(upcoming_slots(a, now)) == 6
    assert len(upcoming_slots(a, now, limit=1)) == 1
    assert upcoming_slots(a, now, limit=0) == []
    assert upcoming_slots(a, now, limit=20)[:6] == upcoming_slots(a, now)


def test_naive_datetimes_are_rejected() -> None:
    a = avail()
    with pytest.raises(ValueError):
        upcoming_slots(a, datetime(2026, 11, 2, 7))
    with pytest.raises(ValueError):
        upcoming_slots(a, local(2026, 11, 2, 7), after=datetime(2026, 11, 3))
    with pytest.raises(ValueError):
        upcoming_slots(a, local(2026, 11, 2, 7), [datetime(2026, 11, 2, 9)])


@pytest.mark.parametrize(
    "changes",
    [
        {"weekdays": frozenset({7})},
        {"weekdays": frozenset()},
        {"hours": ((time(10), time(9)),)},
        {"hours": ((time(9), time(11)), (time(10), time(12)))},
        {"minutes": 0},
        {"lead": timedelta(hours=-1)},
        {"away": ((date(2026, 11, 5), date(2026, 11, 4)),)},
    ],
)
def test_invalid_availability_is_rejected(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        avail(**changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("zone", ["Mars/Base", "../etc/passwd", ""])
def test_unknown_timezone_is_rejected(zone: str) -> None:
    with pytest.raises(ValueError):
        Availability(WEEKDAYS, ((time(9), time(10)),), 60, timedelta(0), timedelta(days=1), (), zone)


# --- property tests --------------------------------------------------------------------------------

QUARTERS = st.integers(min_value=0, max_value=24 * 4)


@st.composite
def availabilities(draw: st.DrawFn) -> Availability:
    cuts = sorted(draw(st.sets(QUARTERS, min_size=2, max_size=4)))
    pairs = list(zip(cuts[::2], cuts[1::2], strict=False))
    hours = tuple(
        (time(a // 4, a % 4 * 15), time(23, 59) if b == 96 else time(b // 4, b % 4 * 15)) for a, b in pairs
    )
    first_away = draw(st.dates(date(2026, 1, 1), date(2028, 12, 31)))
    away = draw(st.lists(st.integers(0, 20), max_size=2))
    return Availability(
        weekdays=frozenset(draw(st.sets(st.integers(0, 6), min_size=1))),
        hours=hours,
        meeting_minutes=draw(st.sampled_from([15, 30, 45, 60, 90])),
        lead_time=timedelta(minutes=draw(st.integers(0, 3 * 24 * 60))),
        horizon=timedelta(hours=draw(st.integers(0, 24 * 21))),
        away=tuple(
            (first_away + timedelta(days=7 * i), first_away + timedelta(days=7 * i + n))
            for i, n in enumerate(away)
        ),
    )


NOWS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.sampled_from([UTC, SE])
)


def _unique_local(moment: datetime) -> bool:
    """True if the local wall time of `moment` occurs exactly once (not in a DST gap or repeated hour)."""
    loc = moment.astimezone(SE)
    return loc.utcoffset() == loc.replace(fold=1 - loc.fold).utcoffset()


def _is_valid_slot(a: Availability, now: datetime, start: datetime) -> bool:
    """An independent statement of every rule a slot must obey."""
    length = timedelta(minutes=a.meeting_minutes)
    loc = start.astimezone(SE)
    wall = loc.replace(tzinfo=None)
    end_loc = (start + length).astimezone(SE)
    now = now.astimezone(UTC)  # durations are real time, not wall-clock time
    if not (now + a.lead_time <= start <= now + a.horizon):
        return False
    if loc.weekday() not in a.weekdays or is_swedish_day_off(loc.date()):
        return False
    if any(first <= loc.date() <= last for first, last in a.away):
        return False
    if not (_unique_local(start) and _unique_local(start + length)):
        return False
    if end_loc.replace(tzinfo=None) != wall + length:
        return False
    for w_start, w_end in a.hours:
        begin = datetime.combine(loc.date(), w_start)
        if begin <= wall and wall + length <= datetime.combine(loc.date(), w_end):
            return (wall - begin) % length == timedelta(0)
    return False


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=availabilities(), now=NOWS, limit=st.integers(1, 10), data=st.data())
def test_every_slot_obeys_every_rule(a: Availability, now: datetime, limit: int, data: st.DataObject) -> None:
    first = upcoming_slots(a, now, limit=limit)
    taken = data.draw(st.sets(st.sampled_from(first))) if first else set()
    after = data.draw(st.none() | st.sampled_from(first)) if first else None
    slots = upcoming_slots(a, now, taken, after=after, limit=limit)

    assert len(slots) <= limit
    assert slots == sorted(set(slots))
    for start in slots:
        assert start.tzinfo == SE
        assert start not in taken
        assert after is None or start > after
        assert _is_valid_slot(a, now, start), start


@settings(max_examples=150, deadline=None)
@given(a=availabilities(), now=NOWS)
def test_no_valid_slot_is_missed(a: Availability, now: datetime) -> None:
    # Brute force over every quarter hour up to the horizon (Stockholm offsets are whole hours, so the
    # local quarter-hour grid is the UTC one); the finder must return exactly the valid ones.
    a = replace(a, horizon=min(a.horizon, timedelta(days=4)))
    now_utc = now.astimezone(UTC)
    start = now_utc.replace(minute=now_utc.minute // 15 * 15, second=0, microsecond=0)
    candidates = []
    while start <= now_utc + a.horizon:
        if _is_valid_slot(a, now, start):
            candidates.append(start)
        start += timedelta(minutes=15)
    assert upcoming_slots(a, now, limit=1000) == candidates


# --- slot keys -------------------------------------------------------------------------------------


def test_slot_key_is_utc() -> None:
    assert slot_key(local(2026, 12, 1, 9)) == "20261201T0800Z"
    assert slot_key(local(2027, 6, 1, 9)) == "20270601T0700Z"
    assert slot_key(datetime(2026, 12, 1, 8, tzinfo=UTC)) == "20261201T0800Z"


def test_slot_key_round_trips_as_the_same_instant() -> None:
    for start in upcoming_slots(avail(), local(2026, 10, 22, 12), limit=6):
        parsed = parse_slot_key(slot_key(start))
        assert parsed == start
        assert parsed.tzinfo == UTC


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)))
def test_slot_key_round_trip_property(moment: datetime) -> None:
    moment = moment.replace(second=0, microsecond=0)
    assert parse_slot_key(slot_key(moment)) == moment


def test_slot_key_rejects_naive_and_sub_minute_times() -> None:
    with pytest.raises(ValueError):
        slot_key(datetime(2026, 12, 1, 9))
    with pytest.raises(ValueError):
        slot_key(local(2026, 12, 1, 9, 0, 30))


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "20261201T0800",
        "20261201T0800Z ",
        " 20261201T0800Z",
        "20261201T0800Z\n",
        "2026-12-01T08:00Z",
        "20261301T0800Z",
        "20260230T0800Z",
        "20261201T2460Z",
        "20261201T0800z",
        "٢٠٢٦١٢٠١T٠٨٠٠Z",  # Arabic-Indic digits
        "20261201T0800Z;DROP TABLE",
        "x" * 10_000,
        None,
        b"20261201T0800Z",
        20261201,
    ],
)
def test_parse_slot_key_rejects_garbage(garbage: object) -> None:
    with pytest.raises(ValueError):
        parse_slot_key(garbage)  # type: ignore[arg-type]


@given(st.text(max_size=30))
def test_parse_slot_key_only_accepts_canonical_keys(text: str) -> None:
    try:
        parsed = parse_slot_key(text)
    except ValueError:
        return
    assert slot_key(parsed) == text


def test_public_holidays_are_the_holidays_librarys_for_every_year_of_the_current_law() -> None:
    for year in range(slots_module.CURRENT_HOLIDAY_LAW, 2101):
        library = holidays.country_holidays(
            "SE", years=year, categories=(holidays.PUBLIC,), include_sundays=False
        )
        assert slots_module._public_holidays(year) == set(library), year


def test_days_off_before_the_current_law_come_from_the_library() -> None:
    # 2004: Annandag pingst was still a holiday, Nationaldagen not yet
    assert is_swedish_day_off(date(2004, 5, 31))
    assert not is_swedish_day_off(date(2004, 6, 6))
    assert is_swedish_day_off(date(2005, 6, 6)) and not is_swedish_day_off(date(2005, 5, 16))


def test_free_slots_do_not_load_the_holiday_calendars_of_every_country() -> None:
    # `import holidays` loads every country's calendar (some 15 MB in each bot process)
    code = (
        "import sys\n"
        "from datetime import date\n"
        "from bot.booking.slots import is_swedish_day_off\n"
        "assert is_swedish_day_off(date(2026, 12, 25)) and not is_swedish_day_off(date(2026, 12, 23))\n"
        "print(any(name.split('.')[0] == 'holidays' for name in sys.modules))\n"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           cwd=Path(__file__).resolve().parent.parent)  # fmt: skip
    assert found.stdout.strip() == "False"
