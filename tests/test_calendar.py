"""The meeting .ics file parses back with local Stockholm times, a VTIMEZONE and a reminder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.booking.calendar import meeting_ics

SE = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 11, 20, 14, 3, 7, tzinfo=UTC)


def make(start: datetime, **changes: object) -> bytes:
    fields: dict[str, object] = {
        "uid": "booking-42@socialbot",
        "start": start,
        "minutes": 45,
        "summary": "Uppföljning med Anna Svensson",
        "description": "Vi pratar om nästa steg.",
        "location": "Storgatan 1, Sundsvall",
        "now": NOW,
    }
    fields.update(changes)
    return meeting_ics(**fields)  # type: ignore[arg-type]


def parse(ics: bytes) -> tuple[Calendar, object]:
    cal = Calendar.from_ical(ics)
    (event,) = cal.walk("VEVENT")
    return cal, event


def test_calendar_header() -> None:
    cal, _ = parse(make(datetime(2026, 12, 1, 9, tzinfo=SE)))
    assert cal["VERSION"] == "2.0"
    assert cal["METHOD"] == "PUBLISH"
    assert cal["PRODID"]


def test_start_and_end_carry_stockholm_tzid_and_local_time() -> None:
    ics = make(datetime(2026, 12, 1, 9, tzinfo=SE))
    assert b"DTSTART;TZID=Europe/Stockholm:20261201T090000" in ics
    assert b"DTEND;TZID=Europe/Stockholm:20261201T094500" in ics
    _, event = parse(ics)
    start = event.decoded("DTSTART")
    end = event.decoded("DTEND")
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert event["DTEND"].params["TZID"] == "Europe/Stockholm"
    assert start.replace(tzinfo=None) == datetime(2026, 12, 1, 9)
    assert start == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert end - start == timedelta(minutes=45)


def test_start_given_in_utc_is_written_as_stockholm_local_time() -> None:
    ics = make(datetime(2027, 6, 1, 7, tzinfo=UTC))  # summer time: 09:00 local
    assert b"DTSTART;TZID=Europe/Stockholm:20270601T090000" in ics
    _, event = parse(ics)
    assert event.decoded("DTSTART") == datetime(2027, 6, 1, 7, tzinfo=UTC)
    assert event.decoded("DTSTART").utcoffset() == timedelta(hours=2)


def test_vtimezone_is_included_and_before_the_event() -> None:
    ics = make(datetime(2026, 12, 1, 9, tzinfo=SE))
    cal, _ = parse(ics)
    (tz,) = cal.walk("VTIMEZONE")
    assert tz["TZID"] == "Europe/Stockholm"
    assert cal.get_missing_tzids() == set()
    assert ics.index(b"BEGIN:VTIMEZONE") < ics.index(b"BEGIN:VEVENT")
    # The VTIMEZONE alone (as a non-zoneinfo client would read it) gives the right offsets.
    zone = tz.to_tz()
    assert datetime(2026, 12, 1, 9, tzinfo=zone).utcoffset() == timedelta(hours=1)
    assert datetime(2027, 6, 1, 9, tzinfo=zone).utcoffset() == timedelta(hours=2)


def test_dtstamp_is_now_in_utc() -> None:
    now = datetime(2026, 11, 20, 15, 3, 7, tzinfo=SE)
    ics = make(datetime(2026, 12, 1, 9, tzinfo=SE), now=now)
    assert b"DTSTAMP:20261120T140307Z" in ics
    _, event = parse(ics)
    assert event.decoded("DTSTAMP") == now


def test_texts_and_uid_round_trip() -> None:
    _, event = parse(make(datetime(2026, 12, 1, 9, tzinfo=SE)))
    assert str(event["UID"]) == "booking-42@socialbot"
    assert str(event["SUMMARY"]) == "Uppföljning med Anna Svensson"
    assert str(event["DESCRIPTION"]) == "Vi pratar om nästa steg."
    assert str(event["LOCATION"]) == "Storgatan 1, Sundsvall"


def test_untrusted_text_cannot_inject_properties() -> None:
    evil = "Hej\r\nDTSTART:19700101T000000Z\r\nEND:VEVENT; och, så"
    ics = make(datetime(2026, 12, 1, 9, tzinfo=SE), summary=evil, description=evil, location=evil)
    cal, event = parse(ics)
    assert str(event["SUMMARY"]) == evil.replace("\r\n", "\n")
    assert str(event["DESCRIPTION"]) == evil.replace("\r\n", "\n")
    assert event.decoded("DTSTART") == datetime(2026, 12, 1, 9, tzinfo=SE)
    assert len(cal.walk("VEVENT")) == 1


def test_alarm_one_hour_before() -> None:
    _, event = parse(make(datetime(2026, 12, 1, 9, tzinfo=SE)))
    (alarm,) = event.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm["DESCRIPTION"]
    assert alarm.decoded("TRIGGER") == timedelta(hours=-1)
    assert alarm["TRIGGER"].params.get("RELATED", "START") == "START"


def test_meeting_on_the_day_after_the_autumn_change() -> None:
    ics = make(datetime(2026, 10, 26, 9, tzinfo=SE), minutes=60)
    assert b"DTSTART;TZID=Europe/Stockholm:20261026T090000" in ics
    assert b"DTEND;TZID=Europe/Stockholm:20261026T100000" in ics
    _, event = parse(ics)
    assert event.decoded("DTSTART") == datetime(2026, 10, 26, 8, tzinfo=UTC)


def test_lines_are_crlf_terminated_and_folded() -> None:
    ics = make(datetime(2026, 12, 1, 9, tzinfo=SE), description="x" * 500)
    assert ics.endswith(b"\r\n")
    assert all(len(line) <= 75 for line in ics.split(b"\r\n"))


@pytest.mark.parametrize(
    "changes",
    [
        {"start": datetime(2026, 12, 1, 9)},
        {"now": datetime(2026, 11, 20, 14)},
        {"minutes": 0},
        {"uid": " "},
    ],
)
def test_invalid_input_is_rejected(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        make(**{"start": datetime(2026, 12, 1, 9, tzinfo=SE), **changes})  # type: ignore[arg-type]
