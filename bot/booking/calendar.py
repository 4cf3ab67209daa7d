"""An iCalendar (RFC 5545) file for a booked meeting, to send to the job seeker."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

PRODID = "-//socialbot//booking//SV"
DEFAULT_TIMEZONE = "Europe/Stockholm"
REMINDER = timedelta(hours=1)


def meeting_ics(
    *,
    uid: str,
    start: datetime,
    minutes: int,
    summary: str,
    description: str,
    location: str,
    now: datetime,
    timezone: str = DEFAULT_TIMEZONE,
    sequence: int = 0,
    cancel: bool = False,
) -> bytes:
    """A one-event calendar file with local times (TZID + VTIMEZONE) and a reminder an hour before.

    A later version of the same meeting keeps `uid` and raises `sequence` (a move); `cancel` makes it a
    METHOD:CANCEL file with STATUS:CANCELLED, which removes the meeting from the person's calendar.
    """
    for value, name in ((start, "start"), (now, "now")):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    if minutes <= 0:
        raise ValueError(f"minutes must be positive, got {minutes}")
    if not uid.strip():
        raise ValueError("uid must not be empty")
    if sequence < 0:
        raise ValueError(f"sequence must not be negative, got {sequence}")

    zone = ZoneInfo(timezone)
    local_start = start.astimezone(zone)
    # Add the duration in UTC so the meeting lasts `minutes` even if it spans a DST change.
    local_end = (start.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(zone)

    # imported when a meeting is booked: a process that books nothing (most of the time) is some 2 MB smaller
    from icalendar import Alarm, Calendar, Event

    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)  # DISPLAY alarms require a DESCRIPTION
    alarm.add("trigger", -REMINDER)  # relative to DTSTART

    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now.astimezone(UTC))  # RFC 5545 requires DTSTAMP in UTC
    event.add("dtstart", local_start)
    event.add("dtend", local_end)
    event.add("summary", summary)
    event.add("description", description)
    event.add("location", location)
    event.add("sequence", sequence)
    if cancel:
        event.add("status", "CANCELLED")
    else:
        event.add_component(alarm)

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "CANCEL" if cancel else "PUBLISH")
    cal.add_component(event)
    # Every TZID needs a VTIMEZONE (RFC 5545 3.6.5); a range around the meeting keeps the file small
    # instead of listing every transition from 1970.
    cal.add_missing_timezones(
        first_date=date(local_start.year - 1, 1, 1), last_date=date(local_end.year + 2, 1, 1)
    )
    return cal.to_ical()
