"""The dialog's own words that are code rather than content, and access to its texts.

The texts themselves (welcome, fallback, booking prompts ...) are content: content/texts.yaml in Swedish
and English, and languages/<code>.yaml for every other language, so staff change them without a
programmer. So are the words the bot *reads* (small talk, yes/no, skip and stop words, command words):
content/words.yaml and `words:` in each language file. What stays here is the crisis safety net.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import yaml

from bot.content import Content
from bot.content.languages import Localized, fallbacks
from bot.content.model import PLACEHOLDER

# Said in a crisis only if the content's crisis file is missing (load_content refuses that; a safety net).
CRISIS_FALLBACK = {
    "sv": "Är någon i fara: ring 112. Självmordslinjen: 90101. Kvinnofridslinjen: 020-50 50 50. Vård: 1177.",
    "en": "If someone is in danger: call 112. Suicide line: 90101. Kvinnofridslinjen: 020-50 50 50. Health care: 1177.",
}

SMALL_TALK_KINDS = ("greeting", "thanks", "bye", "ok")  # short messages that are not questions


def command_hint(name: str, lang: str, has_commands: bool) -> str:
    """'/mybookings' where the channel has commands, else the quoted words that do the same."""
    if has_commands:
        return f"/{name}"
    by_lang = _words().get(f"command_{name}", {})
    said = next((by_lang[code] for code in fallbacks(lang) if by_lang.get(code)), (f"/{name}",))
    return f"\"{said[0]}\""


def use(dialog_texts: Mapping[str, Localized], words: Mapping[str, Mapping[str, tuple[str, ...]]] | None = None) -> None:
    """Make the loaded content's texts and words the ones `text` and `word_set` read (called whenever
    content is loaded)."""
    global _installed, _installed_words
    if dialog_texts:
        _installed = dialog_texts
    if words:
        _installed_words = words
        _word_sets.cache_clear()
        _by_first_word.cache_clear()
        _by_language.cache_clear()
        _command_phrases.cache_clear()


def word_set(kind: str, *, split: bool = False) -> frozenset[str]:
    """The folded words of `kind` (content/words.yaml and every language's `words:`), in every language:
    people mix languages. `split`: each word on its own ("tusen tack" -> "tusen", "tack")."""
    return _word_sets(kind, split, id(_installed_words))


def has_phrase(kind: str, folded: str) -> bool:
    """Whether a phrase of `kind` (any language) occurs in the folded text as whole words ("jag vill INTE ha")."""
    said = f" {folded} "
    return any(f" {phrase} " in said for phrase, _ in phrases_starting(folded, (kind,)))


def phrases_starting(folded: str, kinds: tuple[str, ...]) -> list[tuple[str, str]]:
    """The phrases of `kinds` (with their kind) that begin with a word of the folded text: the only ones that can
    occur in it as whole words, since " phrase " inside " text " puts the phrase's first word among the text's.
    Looked up by word instead of trying each of the hundreds of phrases (every language's) on every message."""
    index = _by_first_word(kinds, id(_installed_words))
    found = list(index.get("", ()))  # a phrase of no word at all (blank): tried as before
    for word in dict.fromkeys(folded.split()):
        found += index.get(word, ())
    return found


def languages_saying(kind: str, folded: str) -> tuple[str, ...]:
    """The languages whose `kind` words occur in the folded text ("скасувати" -> ("uk",)), in words.yaml's order."""
    said = f" {folded} "
    candidates = {phrase for phrase, _ in phrases_starting(folded, (kind,))}
    return tuple(code for code, phrases in _by_language(kind, id(_installed_words)).items()
                 if any(f" {phrase} " in said for phrase in phrases & candidates))  # fmt: skip


def kinds(prefix: str) -> tuple[str, ...]:
    """The kinds of words whose name starts with `prefix` ("language_" -> language_sv, language_en ...)."""
    return tuple(kind for kind in _words() if kind.startswith(prefix))


def command_phrases() -> Mapping[str, str]:
    """Folded words for a command, in every language -> the command's name ("mina bokningar" -> "mybookings")."""
    return _command_phrases(id(_installed_words))


@lru_cache(maxsize=4)
def _command_phrases(_version: int) -> Mapping[str, str]:
    # read on every message: built once per content's words (a read-only view, so nobody changes the shared one)
    return MappingProxyType({phrase: kind.removeprefix("command_") for kind in _words() if kind.startswith("command_")
                             for phrase in word_set(kind)})  # fmt: skip


def text(key: str, lang: str, **values: object) -> str:
    """The dialog text `key` (content/texts.yaml, or a translation) in `lang` or its fallback, filled in.

    For code that has no `Content` at hand (the engine's storage apology, reminders); the dialog itself
    reads `Content.text`. A placeholder without a value is left as it is: an edited text never crashes.
    """
    table = _installed.get(key) or _default_texts()[key]
    return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), table[lang])


def label_forms(content: Content) -> Mapping[str, frozenset[str]]:
    """Every folded button label of the content -> the same label in each of its languages: the dialog's button
    texts (content/texts.yaml button_*, menu_* and the languages' `texts:`), region names (and each part of
    "ሱንድስቫል (Sundsvall)"), topic titles and language names. Made once per loaded content."""
    from bot.matching.normalize import fold

    cached = _LABEL_FORMS.get(id(content))
    if cached is not None and cached[0] is content:
        return cached[1]
    groups: list[set[str]] = []
    for key, by_lang in content.texts.items():
        if key.startswith(("button_", "menu_")) and not any(PLACEHOLDER.search(v) for v in by_lang.values()):
            groups.append({fold(v) for v in by_lang.values()})
    for region in content.regions.values():
        groups.append({fold(region.id)} | {fold(p) for n in region.name.values() for p in (n, *n.strip(")").split("("))})
    groups += [{fold(t) for t in topic.title.values()} for topic in content.topics.values()]
    groups += [{fold(content.language(code).name)} for code in content.languages]
    forms: dict[str, frozenset[str]] = {}
    for group in groups:
        group.discard("")
        for form in group:
            forms[form] = forms.get(form, frozenset()) | group
    _LABEL_FORMS.clear()  # one content at a time (a reload replaces it)
    _LABEL_FORMS[id(content)] = (content, forms)
    return forms


_LABEL_FORMS: dict[int, tuple[Content, Mapping[str, frozenset[str]]]] = {}


_installed: Mapping[str, Localized] = {}
_installed_words: Mapping[str, Mapping[str, tuple[str, ...]]] = {}


def _words() -> Mapping[str, Mapping[str, tuple[str, ...]]]:
    return _installed_words or _default_words()


@lru_cache(maxsize=64)
def _word_sets(kind: str, split: bool, _version: int) -> frozenset[str]:
    from bot.matching.normalize import fold

    folded = (fold(entry) for entries in _words().get(kind, {}).values() for entry in entries)
    return frozenset(word for entry in folded for word in (entry.split() if split else [entry]) if word)


@lru_cache(maxsize=64)
def _by_first_word(kinds: tuple[str, ...], _version: int) -> Mapping[str, tuple[tuple[str, str], ...]]:
    index: dict[str, list[tuple[str, str]]] = {}
    for kind in kinds:
        for phrase in sorted(word_set(kind)):
            index.setdefault(next(iter(phrase.split()), ""), []).append((phrase, kind))
    return MappingProxyType({word: tuple(found) for word, found in index.items()})


@lru_cache(maxsize=64)
def _by_language(kind: str, _version: int) -> Mapping[str, frozenset[str]]:
    from bot.matching.normalize import fold

    return MappingProxyType({code: frozenset(fold(entry) for entry in entries)
                             for code, entries in _words().get(kind, {}).items()})  # fmt: skip


@lru_cache(maxsize=1)
def _default_words() -> Mapping[str, Mapping[str, tuple[str, ...]]]:
    """The repository's own content/words.yaml, for a process that has not loaded content (yet)."""
    path = Path(__file__).resolve().parents[2] / "content" / "words.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {str(kind): {lang: tuple(map(str, words)) for lang, words in value.items()} for kind, value in (data or {}).items()}


@lru_cache(maxsize=1)
def _default_texts() -> Mapping[str, Localized]:
    """The repository's own content/texts.yaml, for a process that has not loaded content (yet)."""
    path = Path(__file__).resolve().parents[2] / "content" / "texts.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {key: Localized(value) for key, value in (data or {}).items()}
