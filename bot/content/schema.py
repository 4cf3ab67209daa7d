"""The shape of each content file, as pydantic models.

These models say what staff may write; `loader` turns their errors into `FILE:LINE` problems.
Cross-file rules (every region answered, related topics exist, ...) live in `validator`.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator, model_validator

from bot.booking.phone import parse_swedish_phone

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TOPIC_ID = r"^[a-z][a-z0-9-]*$"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
_HOURS = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
MIN_EXAMPLES = 12
TITLE_MAX = 40

NonEmpty = Annotated[str, Field(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class LocalText(Strict):
    """The same text in Swedish and English: both are required."""

    sv: NonEmpty
    en: NonEmpty


class Title(LocalText):
    sv: Annotated[str, Field(min_length=1, max_length=TITLE_MAX)]
    en: Annotated[str, Field(min_length=1, max_length=TITLE_MAX)]


class Examples(Strict):
    sv: Annotated[list[NonEmpty], Field(min_length=MIN_EXAMPLES)]
    en: Annotated[list[NonEmpty], Field(min_length=MIN_EXAMPLES)]


class TopicFile(Strict):
    id: Annotated[str, Field(pattern=TOPIC_ID)]
    kind: Literal["answer", "action"] = "answer"
    title: Title
    examples: Examples
    keywords: list[NonEmpty] = []
    answer: LocalText | None = None
    regions: dict[str, LocalText] = {}
    related: list[str] = []
    source: NonEmpty | Annotated[list[NonEmpty], Field(min_length=1)]
    reviewed: date

    @model_validator(mode="after")
    def _some_answer(self) -> TopicFile:
        if self.answer is None and not self.regions:
            raise ValueError("the topic has no answer: write `answer`, or `regions` with one per region")
        return self


def _check_phone(value: str) -> str:
    if parse_swedish_phone(value) is None:
        raise ValueError(f"'{value}' is not a Swedish phone number (write it like 070-123 45 67)")
    return value


class Contact(Strict):
    name: NonEmpty
    role: LocalText
    organisation: NonEmpty
    phone: NonEmpty
    email: str | None = None
    source: NonEmpty
    # The day staff confirmed that this person is current and takes bookings; None = not yet (validate warns).
    confirmed: date | None = None

    _phone = field_validator("phone")(_check_phone)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError(f"'{value}' is not an e-mail address")
        return value


class Place(Strict):
    kind: Literal["phone", "video", "address"]
    sv: NonEmpty
    en: NonEmpty


def _parse_hours(value: str) -> tuple[time, time]:
    match = _HOURS.match(value.strip())
    if not match:
        raise ValueError(f"'{value}' is not a time range: write it like 09:00-12:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        start, end = time(h1, m1), time(h2, m2)
    except ValueError as exc:
        raise ValueError(f"'{value}' has a time that does not exist") from exc
    if end <= start:
        raise ValueError(f"'{value}' ends before it starts")
    return start, end


def _parse_away(value: str | date) -> tuple[date, date]:
    if isinstance(value, date):
        return value, value
    first, sep, last = str(value).partition("..")
    try:
        start = date.fromisoformat(first.strip())
        end = date.fromisoformat(last.strip()) if sep else start
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a date or a range like 2026-12-23..2027-01-06") from exc
    if end < start:
        raise ValueError(f"'{value}' ends before it starts")
    return start, end


class AvailabilityFile(Strict):
    weekdays: Annotated[list[Literal[WEEKDAYS]], Field(min_length=1)]  # type: ignore[valid-type]
    hours: Annotated[list[str], Field(min_length=1)]
    meeting_minutes: Annotated[int, Field(ge=10, le=240)]
    lead_time_hours: Annotated[int, Field(ge=0, le=24 * 14)]
    horizon_days: Annotated[int, Field(ge=1, le=365)]
    place: Place
    away: list[str | date] = []

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: list[str]) -> list[str]:
        for item in value:
            _parse_hours(item)
        return value

    @field_validator("away")
    @classmethod
    def _away(cls, value: list[str | date]) -> list[str | date]:
        for item in value:
            _parse_away(item)
        return value

    def windows(self) -> tuple[tuple[time, time], ...]:
        return tuple(_parse_hours(item) for item in self.hours)

    def away_ranges(self) -> tuple[tuple[date, date], ...]:
        return tuple(_parse_away(item) for item in self.away)


class Organisation(Strict):
    name: NonEmpty
    what: LocalText
    contact: str | None = None
    source: NonEmpty


class Enterprise(Organisation):
    reviewed: date


class RegionFile(Strict):
    id: Annotated[str, Field(pattern=TOPIC_ID)]
    name: LocalText
    contact: Contact
    availability: AvailabilityFile
    organisations: list[Organisation] = []
    enterprises: list[Enterprise] = []


class SynonymsFile(Strict):
    synonyms: dict[str, NonEmpty]


CRISIS_MIN_EXAMPLES = 20
LANG_CODE = r"^[a-z]{2,3}$"
LangCode = Annotated[str, Field(pattern=LANG_CODE)]


def _needs_sv_en(value: dict[str, list[str]] | dict[str, str], what: str) -> None:
    for lang in ("sv", "en"):
        if not value.get(lang):
            raise ValueError(f"'{what}' needs a Swedish (sv) and an English (en) part")


class CrisisFile(Strict):
    """content/crisis.yaml: the answer to a crisis and what tells the bot that a message is one."""

    id: Literal["crisis"]
    kind: Literal["crisis"]
    title: Title
    answer: dict[LangCode, NonEmpty]
    signals: dict[LangCode, list[NonEmpty]]
    examples: dict[LangCode, list[NonEmpty]]
    not_crisis: dict[LangCode, list[NonEmpty]] = {}
    source: NonEmpty | Annotated[list[NonEmpty], Field(min_length=1)]
    reviewed: date

    @model_validator(mode="after")
    def _sv_and_en(self) -> CrisisFile:
        _needs_sv_en(self.answer, "answer")
        _needs_sv_en(self.signals, "signals")
        for lang in ("sv", "en"):
            count = len(self.examples.get(lang, []))
            if count < CRISIS_MIN_EXAMPLES:
                raise ValueError(f"only {count} examples in '{lang}': write at least {CRISIS_MIN_EXAMPLES}")
        return self


class OutOfScopeExamples(Strict):
    sv: list[NonEmpty] = []
    en: list[NonEmpty] = []


class OutOfScopeFile(Strict):
    examples: OutOfScopeExamples


# --- languages ---------------------------------------------------------------------------------------

LANG_TAG = r"^[a-z]{2,3}(-[a-zA-Z0-9]{1,8})*$"  # BCP 47, e.g. sv, ar, sv-x-easy
MIN_TRANSLATED_EXAMPLES = 15


class LanguageEntry(Strict):
    """One line of content/languages.yaml."""

    code: Annotated[str, Field(pattern=LANG_TAG)]
    name: NonEmpty
    dir: Literal["ltr", "rtl"] = "ltr"
    status: Literal["draft", "reviewed"]
    reviewed_by: NonEmpty | None = None
    reviewed: date | None = None


class LanguageRegion(Strict):
    name: NonEmpty | None = None
    contact_role: NonEmpty | None = None  # the contact's job title, filled in for {contact_role}
    place: NonEmpty | None = None
    organisations: dict[str, NonEmpty] = {}  # organisation name (as in regions/<id>.yaml) -> what it does
    enterprises: dict[str, NonEmpty] = {}


class LanguageTopic(Strict):
    title: Annotated[str, Field(min_length=1, max_length=TITLE_MAX)] | None = None
    answer: NonEmpty | None = None
    regions: dict[str, NonEmpty] = {}  # where the Swedish answer is written per region
    examples: list[NonEmpty] = []


class LanguageFile(Strict):
    """content/languages/<code>.yaml: everything one more language says."""

    lang: Annotated[str, Field(pattern=LANG_TAG)]
    status: Literal["draft", "reviewed"]
    reviewed_by: NonEmpty | None = None
    reviewed: date | None = None
    texts: dict[str, NonEmpty] = {}
    regions: dict[str, LanguageRegion] = {}
    topics: dict[str, LanguageTopic] = {}
    # Questions in this language that no topic answers (as out_of_scope.yaml holds for Swedish and English).
    out_of_scope: list[NonEmpty] = []
    words: dict[str, list[NonEmpty]] = {}  # the words the bot reads, by kind as in words.yaml


class Notice(Strict):
    """One entry of content/notices.yaml: what a person writing in a language the bot lacks is told."""

    name: NonEmpty
    text: NonEmpty
    dir: Literal["ltr", "rtl"] = "ltr"
    reviewed: date | None = None
    reviewed_by: NonEmpty | None = None


class LanguagesFile(RootModel[list[LanguageEntry]]):
    """content/languages.yaml: a list of languages."""


class TextsFile(RootModel[dict[str, LocalText]]):
    """content/texts.yaml: every dialog text, by key, in Swedish and English."""


class LocalWords(Strict):
    """Words the bot reads, in Swedish and English: both are required."""

    sv: list[NonEmpty]
    en: list[NonEmpty]


class WordsFile(RootModel[dict[str, LocalWords]]):
    """content/words.yaml: the words the bot reads (small talk, yes/no, skip, stop, command words), by kind."""


class NoticesFile(RootModel[dict[str, Notice]]):
    """content/notices.yaml: a notice per language code."""
