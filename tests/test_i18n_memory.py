"""bot/i18n.py keeps only the parts of each locale's CLDR data that formatting reads: the texts must be Babel's own
(as with a whole Locale), and formatting must never need another part (which would read the whole data again)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from babel import Locale, UnknownLocaleError, lists
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from bot import i18n
from bot.content import load_content

LANGUAGES = [*load_content("content").languages, "sv-x-easy", "de", "xx-unknown"]
MOMENTS = [datetime(2026, 1, 1, 8, 0, tzinfo=UTC) + timedelta(days=d, hours=d % 11, minutes=15 * (d % 4))
           for d in range(0, 400, 7)]  # fmt: skip


def whole(lang: str) -> Locale:
    for tag in (lang, lang.split("-")[0], "en"):
        try:
            return Locale.parse(tag.replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse("en")


def test_dates_lists_and_numbers_are_babels_own_in_every_language() -> None:
    for lang in LANGUAGES:
        full = whole(lang)
        for moment in MOMENTS:
            local = moment.astimezone(i18n.ZONE)
            assert i18n.format_when(moment, lang) == format_datetime(local, i18n._pattern(lang), locale=full)
            day = moment.date()
            assert i18n.format_day(day, lang) == format_date(day, i18n._day_pattern(lang), locale=full)
        for items in (["a"], ["a", "b"], ["a", "b", "c"]):
            assert i18n.format_list(items, lang) == lists.format_list(items, locale=full)
        for number in (0, 7, 1500, 150000, 2.5, 1234567.891):
            assert i18n.format_number(number, lang) == format_decimal(number, locale=full)
        assert str(i18n.locale(lang)) == str(full)


def test_formatting_reads_only_the_parts_kept() -> None:
    for lang in LANGUAGES:
        i18n.format_when(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), lang)
        i18n.format_day(date(2026, 12, 1), lang)
        i18n.format_list(["a", "b", "c"], lang)
        i18n.format_number(150000.5, lang)
        kept = i18n.locale(lang)._data._data  # the data behind the locale
        assert set(kept) <= set(i18n.FORMATTING), (lang, sorted(set(kept) - set(i18n.FORMATTING))[:5])


def test_another_part_asked_for_is_read_whole() -> None:
    swedish = i18n._FormattingLocale.parse("sv")
    assert swedish.territories["SE"] == "Sverige"  # not kept for formatting: read again, not missing
    assert swedish.days["format"]["wide"][0] == "måndag"
