"""The content as the rest of the bot sees it: plain frozen objects, already checked."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path

from bot.booking.slots import Availability
from bot.content.languages import Language, Localized, Notice, fallbacks
from bot.content.problems import Problem

Lang = str  # a BCP 47 tag from content/languages.yaml: "sv", "en", "ar", "sv-x-easy", ...
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
PLACEHOLDERS = (
    "region",
    "contact_name",
    "contact_role",
    "contact_organisation",
    "contact_phone",
    "contact_email",
    "enterprises",
    "organisations",
)


@dataclass(frozen=True)
class Contact:
    name: str
    role: Mapping[Lang, str]
    organisation: str
    phone: str
    email: str | None
    confirmed: date | None = None  # None: named by the project, not yet confirmed by staff


@dataclass(frozen=True)
class Listing:
    """A local organisation or social enterprise."""

    name: str
    what: Mapping[Lang, str]
    contact: str | None


@dataclass(frozen=True)
class Region:
    id: str
    name: Mapping[Lang, str]
    contact: Contact
    availability: Availability
    place_kind: str
    place: Mapping[Lang, str]
    organisations: tuple[Listing, ...] = ()
    enterprises: tuple[Listing, ...] = ()

    def fill(self, text: str, lang: Lang) -> str:
        """Replace {placeholders} with this region's facts, so each fact is written in one place."""
        values = {
            "region": self.name[lang],
            "contact_name": self.contact.name,
            "contact_role": self.contact.role[lang],
            "contact_organisation": self.contact.organisation,
            "contact_phone": self.contact.phone,
            "contact_email": self.contact.email or "",
            "enterprises": _listing(self.enterprises, lang),
            "organisations": _listing(self.organisations, lang),
        }
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _listing(items: tuple[Listing, ...], lang: Lang) -> str:
    lines = []
    for item in items:
        line = f"- {item.name}: {item.what[lang]}"
        if item.contact:
            line += f" ({item.contact})"
        lines.append(line)
    return "\n".join(lines)


@dataclass(frozen=True)
class Topic:
    id: str
    kind: str  # "answer" or "action"
    title: Mapping[Lang, str]
    examples: Mapping[Lang, tuple[str, ...]]
    keywords: tuple[str, ...]
    answers: Mapping[tuple[str | None, Lang], str]  # (region or None for all regions, lang) -> text
    related: tuple[str, ...]
    source: tuple[str, ...]
    reviewed: date
    file: str = ""
    example_lines: Mapping[tuple[Lang, int], int] = field(default_factory=dict)  # for FILE:LINE messages
    example_files: Mapping[Lang, str] = field(default_factory=dict)  # where a language's examples are, if not `file`
    answer_lines: Mapping[tuple[str | None, Lang], tuple[str, int]] = field(default_factory=dict)  # -> FILE, LINE

    def answer(self, region: Region, lang: Lang) -> str:
        """The answer in `lang`, or in its fallback language when `lang` has none (see `answer_lang`)."""
        written_in = self.answer_lang(region, lang)
        text = self.answers.get((region.id, written_in)) or self.answers[(None, written_in)]
        return region.fill(text, written_in).strip()

    def answer_lang(self, region: Region, lang: Lang) -> Lang:
        """The language the answer for `lang` is written in: `lang` itself, or the nearest fallback."""
        for candidate in fallbacks(lang):
            if (region.id, candidate) in self.answers or (None, candidate) in self.answers:
                return candidate
        raise KeyError(f"topic {self.id} has no answer for {lang}")


@dataclass(frozen=True)
class Crisis:
    """The crisis answer and what detects a crisis (content/crisis.yaml); see bot/safety/crisis.py."""

    answer: Mapping[Lang, str]
    signals: Mapping[Lang, tuple[str, ...]]
    examples: Mapping[Lang, tuple[str, ...]]
    not_crisis: Mapping[Lang, tuple[str, ...]]
    file: str = "crisis.yaml"
    lines: Mapping[tuple[str, Lang, int], int] = field(default_factory=dict)  # (part, lang, i) -> line

    def line(self, part: str, lang: Lang, index: int) -> int:
        return self.lines.get((part, lang, index), 1)


@dataclass(frozen=True)
class Content:
    topics: Mapping[str, Topic]
    regions: Mapping[str, Region]
    synonyms: Mapping[str, str] = field(default_factory=dict)
    out_of_scope: Mapping[Lang, tuple[str, ...]] = field(default_factory=dict)
    directory: Path | None = None
    crisis: Crisis | None = None  # None only in hand-built test content; load_content requires it
    languages: tuple[Lang, ...] = ("sv", "en")  # offered to people, in the order of languages.yaml
    language_info: Mapping[Lang, Language] = field(default_factory=dict)  # every listed language
    texts: Mapping[str, Localized] = field(default_factory=dict)  # the dialog's own texts, by key
    words: Mapping[str, Mapping[Lang, tuple[str, ...]]] = field(default_factory=dict)  # kind -> language -> words
    notices: Mapping[Lang, Notice] = field(default_factory=dict)  # languages the bot does not speak
    warnings: tuple[Problem, ...] = ()  # what `validate` shows without refusing the content

    def language(self, code: Lang) -> Language:
        """What the content says about a language; an unlisted one is a reviewed left-to-right one."""
        return self.language_info.get(code) or Language(code, code)

    def is_draft(self, lang: Lang) -> bool:
        return self.language(lang).draft

    def text(self, key: str, lang: Lang, **values: object) -> str:
        """The dialog text `key` in `lang` (or its fallback), with {values} filled in.

        A placeholder the text does not have is ignored, and one it has without a value is left as it is:
        staff editing a text can never make the bot crash.
        """
        template = self.texts[key][lang]
        return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), template)

    def text_lang(self, key: str, lang: Lang) -> Lang:
        """The language the text `key` is shown in for `lang`."""
        return self.texts[key].lang_of(lang) or lang

    @cached_property
    def keywords(self) -> frozenset[str]:
        """Every topic keyword, folded: words that mark a text as a question, not a name."""
        from bot.matching.normalize import fold

        return frozenset(fold(word) for topic in self.topics.values() for word in topic.keywords)

    def examples(self) -> Iterator[tuple[str, Lang, str]]:
        """(topic id, language, example) for every example phrasing."""
        for topic in self.topics.values():
            for lang, examples in topic.examples.items():
                for text in examples:
                    yield topic.id, lang, text

    def region(self, region_id: str | None) -> Region:
        """The named region, or the first one when none is chosen yet."""
        if region_id in self.regions:
            return self.regions[region_id]
        return next(iter(self.regions.values()))
