"""Languages as data: the one list in content/languages.yaml, and each language's own file.

`languages.yaml` lists every language the bot can speak (code, its own name, text direction, whether its
texts are reviewed). Swedish and English live in the topic, region and texts files themselves; every other
language has `languages/<code>.yaml` with its dialog texts, region texts and topics (title, answer,
examples). A language whose file is missing is known but not offered yet; a text a language lacks falls
back (the language's own -> Swedish for Swedish variants, else English -> Swedish), so a language can go
live before it is complete.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from bot.content.problems import Problem
from bot.content.yamlfile import YamlFile

Lang = str
DEFAULT_LANGUAGES = ("sv", "en")  # written in the topic and region files themselves


@dataclass(frozen=True)
class Language:
    code: Lang  # a BCP 47 tag: "sv", "ar", "sv-x-easy"
    name: str  # in the language itself, for the language buttons
    dir: Literal["ltr", "rtl"] = "ltr"
    status: Literal["draft", "reviewed"] = "reviewed"
    reviewed_by: str | None = None
    reviewed: date | None = None

    @property
    def draft(self) -> bool:
        return self.status == "draft"

    @property
    def base(self) -> Lang:
        """The language without private-use or region subtags: 'sv' for 'sv-x-easy'."""
        return self.code.split("-")[0]


def base_language(code: Lang) -> Lang:
    return code.split("-")[0]


def fallbacks(code: Lang) -> tuple[Lang, ...]:
    """Where to look for a text, best first: the language itself, then Swedish or English."""
    chain = [code]
    base = base_language(code)
    if base != code:
        chain.append(base)
    chain += ["sv", "en"] if base == "sv" else ["en", "sv"]
    return tuple(dict.fromkeys(chain))


class Localized(dict[Lang, str]):
    """One text in several languages; asking for a language it lacks gives the nearest fallback."""

    def __missing__(self, code: Lang) -> str:
        for other in fallbacks(code)[1:]:
            if other in self:
                return self[other]
        raise KeyError(code)

    def lang_of(self, code: Lang) -> Lang | None:
        """The language the text for `code` is actually written in (None when there is none)."""
        return next((other for other in fallbacks(code) if other in self), None)


def localized(values: Mapping[Lang, str] | Iterable[tuple[Lang, str]]) -> Localized:
    return Localized(values)


def same_language(a: Lang | None, b: Lang | None) -> bool:
    """'sv' and 'sv-x-easy' are the same language for deciding whether a question needs a switch."""
    return a is not None and b is not None and base_language(a) == base_language(b)


# --- reading the language list -------------------------------------------------------------------


def read_language_list(file: YamlFile, entries: list[Any]) -> tuple[dict[Lang, Language], list[Problem]]:
    """Check the already-parsed list in languages.yaml (see schema.LanguageEntry)."""
    languages: dict[Lang, Language] = {}
    problems: list[Problem] = []
    for index, entry in enumerate(entries):
        if entry.code in languages:
            problems.append(file.problem((index, "code"), f"the language '{entry.code}' is listed twice"))
            continue
        if entry.status == "reviewed" and not (entry.reviewed_by and entry.reviewed):
            problems.append(
                file.problem(
                    (index, "status"),
                    f"'{entry.code}' is marked reviewed: write who reviewed it (reviewed_by) and when (reviewed)",
                )
            )
        languages[entry.code] = Language(
            entry.code, entry.name, entry.dir, entry.status, entry.reviewed_by, entry.reviewed
        )
    for code in DEFAULT_LANGUAGES:
        if code not in languages:
            problems.append(Problem(file.name, 1, f"the language '{code}' must be in the list"))
    return languages, problems


@dataclass(frozen=True)
class Notice:
    """What someone writing in a language the bot does not speak gets, in that language."""

    code: Lang
    name: str
    text: str  # with {contact_name} and {contact_phone}
    dir: Literal["ltr", "rtl"] = "ltr"
    draft: bool = True
