"""Dates, times and numbers in the reader's language, with Babel (CLDR), never hand-written month names."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError, lists, localedata
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

ZONE = ZoneInfo("Europe/Stockholm")
# The parts of a locale's CLDR data that the functions below read (tests/test_i18n_memory.py checks it): some 2 % of
# it. The rest (the names of every language, territory, currency, time zone and unit) is 1-2 MB a language, and a
# long-running bot that formats a date in each of its languages kept all of it.
FORMATTING = ("days", "months", "datetime_skeletons", "number_symbols", "decimal_formats", "list_patterns")


class _Parts(dict[Any, Any]):
    """A locale's data for formatting: what FORMATTING names, and any other part only when asked for (then the whole
    data is read again), so nothing is ever missing."""

    def __init__(self, identifier: str, data: dict[Any, Any]) -> None:
        super().__init__({key: data[key] for key in FORMATTING if key in data})
        self.identifier = identifier

    def __missing__(self, key: Any) -> Any:
        whole = localedata.load(self.identifier)
        if key not in whole:
            raise KeyError(key)
        self.update({part: value for part, value in whole.items() if part not in self})
        return whole[key]


class _FormattingLocale(Locale):
    @property
    def _data(self) -> localedata.LocaleDataDict:
        parts = self.__dict__.get("_parts")
        if parts is None:
            identifier = str(self).partition("@")[0]
            parts = self.__dict__["_parts"] = localedata.LocaleDataDict(_Parts(identifier, localedata.load(identifier)))
            localedata.clear_caches()  # the whole data goes; what formatting reads stays
        return parts


@lru_cache(maxsize=64)
def locale(lang: str) -> Locale:
    """The CLDR locale for a content language tag ('sv-x-easy' reads as Swedish; unknown ones as English)."""
    for tag in (lang, lang.split("-")[0], "en"):
        try:
            return _FormattingLocale.parse(tag.replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            continue
    return _FormattingLocale.parse("en")


def format_when(start: datetime, lang: str) -> str:
    """A meeting time for buttons and messages, in Swedish time: 'tis 1 dec. 09:00', 'Tue, Dec 1, 09:00'."""
    local = start.astimezone(ZONE)
    return format_datetime(local, _pattern(lang), locale=locale(lang))


@lru_cache(maxsize=64)
def _pattern(lang: str) -> str:
    """The locale's own short pattern for weekday, day, month, hour and minute (24-hour clock: Swedish time
    as written in Sweden), e.g. 'EEE d MMM HH:mm'."""
    skeletons = locale(lang).datetime_skeletons
    pattern = skeletons.get("MMMEdHm") or skeletons.get("MMMEd")
    if pattern is None:
        return "EEE d MMM HH:mm"
    text = str(pattern.pattern) if hasattr(pattern, "pattern") else str(pattern)
    return text if "H" in text else text + " HH:mm"


def format_day(day: date, lang: str) -> str:
    """A day without a time: 'fredag 27 november', 'Friday, November 27'."""
    return format_date(day, _day_pattern(lang), locale=locale(lang))


@lru_cache(maxsize=64)
def _day_pattern(lang: str) -> str:
    """The locale's own pattern for weekday, day and month, with the weekday written out in full."""
    pattern = locale(lang).datetime_skeletons.get("MMMMEd")
    text = str(pattern.pattern) if pattern is not None and hasattr(pattern, "pattern") else "EEEE d MMMM"
    return re.sub(r"E+|c+", "EEEE", text)


def format_list(items: list[str], lang: str) -> str:
    """'a, b och c' / 'a, b, and c', with the locale's own word for "and"."""
    return lists.format_list(items, locale=locale(lang))


def format_number(value: float, lang: str) -> str:
    """'150 000' in Swedish, '150,000' in English, each language's own digits and separators."""
    return format_decimal(value, locale=locale(lang))
