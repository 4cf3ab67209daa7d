"""Times written in words or digits, as people answer "which time?": "torsdag efter lunch", "den 3:e kl 13",
"next Monday at 10", "tisdag 9.45", "imorgon förmiddag", "earlier", "another day".

`read_wish` turns the text into a `TimeWish`; `matching` picks the offered or free slots that fit it.
Nothing here knows about bookings: slots are plain datetimes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.dialog import texts
from bot.dialog.formatting import ZONE
from bot.matching.normalize import fold

# The weekdays, parts of the day, "today" and "tomorrow" are content, in every language (content/words.yaml and each
# language's `words:`): "torsdag efter lunch", "в четвер після обіду", "khamiista galabta", "پنجشنبه بعد از ظهر".
WEEKDAY_KINDS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
TIME_KINDS = (*WEEKDAY_KINDS, "today", "tomorrow", "morning", "afternoon")  # and "earlier", "later" (other times)
SHORT_FORM = 3  # letters: "man", "son", "am" are also words; such forms are read in a short message or beside a clock time
SHORT_MESSAGE = 3  # words
MONTHS = {
    **{m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"), 1)},
    **{m: i for i, m in enumerate(("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
                                   "september", "oktober", "november", "december"), 1)},
    **{m: i for i, m in enumerate(("january", "february", "march", "april", "may", "june", "july", "august",
                                   "september", "october", "november", "december"), 1)},
    "oct": 10,
}  # fmt: skip

_CLOCK = re.compile(
    r"(?:\bkl\.?\s*|\bklockan\s+|\bat\s+|\b)(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?\b(?!\s*(?:e|a|:e|:a)\b)"
)
_DAY_OF_MONTH = re.compile(r"\b(?:den\s+)?(\d{1,2})\s*(?::?e|:?a|st|nd|rd|th)\b")
_DATE_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})\b")
_DATE_MONTH = re.compile(r"\b(\d{1,2})\s+([a-z]+)\b")


@dataclass(frozen=True)
class TimeWish:
    day: date | None = None  # a given day
    weekday: int | None = None  # a weekday, the next one coming (or "next Monday")
    next_week: bool = False
    hour: int | None = None
    minute: int | None = None
    part: str | None = None  # "morning" or "afternoon"
    page: str | None = None  # "earlier" or "later"

    @property
    def empty(self) -> bool:
        return self == TimeWish()

    @property
    def has_day(self) -> bool:
        return self.day is not None or self.weekday is not None


def read_wish(text: str, today: date) -> TimeWish:
    """What `text` says about a time. Empty when it says nothing about one."""
    lowered = text.casefold()
    folded = fold(text)
    words = folded.split()
    joined = f" {folded} "
    ascii_text = re.sub(r"[^a-z0-9:./ ]", " ", folded_keep_punct(lowered))
    hour = minute = None
    for match in _CLOCK.finditer(_without_dates(ascii_text)):
        value = int(match.group(1))
        suffix = match.group(3)
        if suffix == "pm" and value < 12:
            value += 12
        if 7 <= value <= 20 or (suffix and 1 <= value <= 12):
            hour, minute = value, int(match.group(2)) if match.group(2) else None
            break
        if 1 <= value <= 6 and not suffix:  # "kl 1" in an office day means 13:00
            hour, minute = value + 12, int(match.group(2)) if match.group(2) else None
            break
    if minute is not None and minute > 59:
        hour = minute = None
    found = _phrases(joined, len(words) <= SHORT_MESSAGE or hour is not None)
    day: date | None = None
    if "today" in found:
        day = today
    elif "tomorrow" in found:
        day = today + timedelta(days=1)
    named = sorted((found[kind], kind) for kind in WEEKDAY_KINDS if kind in found)
    weekday = WEEKDAY_KINDS.index(named[0][1]) if named else None  # the first one named
    part = "afternoon" if "afternoon" in found else "morning" if "morning" in found else None
    page = None
    if len(words) > 4 or part is not None:
        pass  # "earlier"/"later" only as a short answer: "jag har tidigare jobbat ..." is a sentence, "innan lunch" a part
    elif texts.has_phrase("earlier", folded):
        page = "earlier"
    elif texts.has_phrase("later", folded) and weekday is None:
        page = "later"
    next_week = ("nasta" in words or "next" in words) and weekday is not None
    if day is None:
        day = _date_in(ascii_text, today)
    return TimeWish(day, weekday, next_week, hour, minute, part, page)


def _phrases(joined: str, short_ok: bool) -> dict[str, int]:
    """Each time kind named in the text -> where its first phrase starts; phrases are whole words, and one inside
    a longer one found is not counted (Persian "شنبه", Saturday, inside "سه شنبه", Tuesday)."""
    spans: list[tuple[int, int, str]] = []
    for phrase, kind in texts.phrases_starting(joined, TIME_KINDS):
        if len(phrase) <= SHORT_FORM and not short_ok:
            continue
        at = joined.find(f" {phrase} ")
        while at >= 0:
            spans.append((at, at + len(phrase) + 1, kind))
            at = joined.find(f" {phrase} ", at + 1)
    found: dict[str, int] = {}
    for start, end, kind in sorted(spans):
        if not any(o_start <= start and end <= o_end and o_end - o_start > end - start for o_start, o_end, _ in spans):
            found.setdefault(kind, start)
    return found


def folded_keep_punct(text: str) -> str:
    """Accents away but ':' '.' '/' kept, for clock times and dates."""
    text = unicodedata.normalize("NFKD", text)
    return "".join(str(unicodedata.digit(ch)) if unicodedata.category(ch) == "Nd" else ch  # "١٣", "۱۳": 13
                   for ch in text if not unicodedata.combining(ch))  # fmt: skip


def _date_in(text: str, today: date) -> date | None:
    for match in _DATE_NUMERIC.finditer(text):
        day, month = int(match.group(1)), int(match.group(2))
        found = _future_date(today, month, day)
        if found:
            return found
    for named in _DATE_MONTH.finditer(text):
        month_number = MONTHS.get(named.group(2))
        if month_number:
            found = _future_date(today, month_number, int(named.group(1)))
            if found:
                return found
    ordinal = _DAY_OF_MONTH.search(text)
    if ordinal:
        day = int(ordinal.group(1))
        for offset in range(0, 3):
            month = (today.month - 1 + offset) % 12 + 1
            year = today.year + (today.month - 1 + offset) // 12
            try:
                candidate = date(year, month, day)
            except ValueError:
                continue
            if candidate >= today:
                return candidate
    return None


def _future_date(today: date, month: int, day: int) -> date | None:
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            return None
        if candidate >= today:
            return candidate
    return None


def _without_dates(text: str) -> str:
    text = _DATE_NUMERIC.sub(" ", text)
    text = _DAY_OF_MONTH.sub(" ", text)
    return re.sub(r"\b\d{1,2}\s+(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\b", " ", text)


def matching(wish: TimeWish, slots: list[datetime], today: date) -> list[datetime]:
    """The slots that fit the wish, in order. An exact time gives at most one slot."""
    found = []
    for slot in slots:
        local = slot.astimezone(ZONE)
        if wish.day is not None and local.date() != wish.day:
            continue
        if wish.weekday is not None and wish.day is None:
            if local.weekday() != wish.weekday:
                continue
            if wish.next_week and local.date() - today < timedelta(days=7 - today.weekday()):
                continue
        if wish.part == "morning" and local.hour >= 12:
            continue
        if wish.part == "afternoon" and local.hour < 12:
            continue
        same_time = local.hour == wish.hour and (wish.minute is None or local.minute == wish.minute)
        if wish.hour is not None and not same_time:
            continue
        found.append(slot)
    if wish.hour is not None and wish.minute is None:
        on_the_hour = [s for s in found if s.astimezone(ZONE).minute == 0]
        if on_the_hour:  # "kl 13" is 13:00 where there is one, not also 13:45
            found = on_the_hour
    if wish.weekday is not None and wish.day is None and found:
        first_day = found[0].astimezone(ZONE).date()
        found = [s for s in found if s.astimezone(ZONE).date() == first_day]  # the next such weekday only
    return found


def as_local(moment: datetime) -> datetime:
    return moment.astimezone(ZONE)
