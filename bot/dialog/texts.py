"""The dialog's own words that are code rather than content, and access to its texts.

The texts themselves (welcome, fallback, booking prompts ...) are content: content/texts.yaml in Swedish
and English, and languages/<code>.yaml for every other language, so staff change them without a
programmer. What stays here are the words the bot *reads* (small talk, command words) and the crisis
safety net.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import yaml

from bot.content.languages import Localized
from bot.content.model import PLACEHOLDER

# Said in a crisis only if the content's crisis file is missing (load_content refuses that; a safety net).
CRISIS_FALLBACK = {
    "sv": "Är någon i fara: ring 112. Självmordslinjen: 90101. Kvinnofridslinjen: 020-50 50 50. Vård: 1177.",
    "en": "If someone is in danger: call 112. Suicide line: 90101. Kvinnofridslinjen: 020-50 50 50. Health care: 1177.",
}

# Short messages that are not questions: answered kindly, never sent to the matcher.
SMALL_TALK = {
    "greeting": frozenset(
        "hej hejsan hallå halla tja tjena tjenare hallo god morgon goddag hi hello hey hiya good morning yo".split()
    ),
    "thanks": frozenset("tack tackar tusen tack tack så mycket thanks thank you thx ty tnx".split()),
    "bye": frozenset("hej då hejdå hejda adjö bye goodbye see you ses vi hörs".split()),
    "ok": frozenset("ok okej okay oki okey k kk bra fint toppen perfekt super great fine good nice cool "
                    "alright jaha aha ja yes yeah japp".split()),
}


# Commands as a person can reach them without slash commands (the web chat): the words they can write.
COMMAND_WORDS: dict[str, dict[str, str]] = {
    "mybookings": {"sv": "mina bokningar", "en": "my bookings"},
    "delete": {"sv": "radera mina uppgifter", "en": "delete my data"},
    "privacy": {"sv": "integritet", "en": "privacy"},
    "language": {"sv": "byt språk", "en": "change language"},
    "menu": {"sv": "meny", "en": "menu"},
    "book": {"sv": "boka möte", "en": "book a meeting"},
    "help": {"sv": "hjälp", "en": "help"},
    "region": {"sv": "byt kommun", "en": "change municipality"},
}


def command_hint(name: str, lang: str, has_commands: bool) -> str:
    """'/mybookings' where the channel has commands, else the quoted words that do the same."""
    if has_commands:
        return f"/{name}"
    words = COMMAND_WORDS[name]
    return f"\"{words.get(lang) or words['sv' if lang.startswith('sv') else 'en']}\""


def use(dialog_texts: Mapping[str, Localized]) -> None:
    """Make the loaded content's texts the ones `text` reads (called whenever content is loaded)."""
    global _installed
    if dialog_texts:
        _installed = dialog_texts


def text(key: str, lang: str, **values: object) -> str:
    """The dialog text `key` (content/texts.yaml, or a translation) in `lang` or its fallback, filled in.

    For code that has no `Content` at hand (the engine's storage apology, reminders); the dialog itself
    reads `Content.text`. A placeholder without a value is left as it is: an edited text never crashes.
    """
    table = _installed.get(key) or _default_texts()[key]
    return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), table[lang])


_installed: Mapping[str, Localized] = {}


@lru_cache(maxsize=1)
def _default_texts() -> Mapping[str, Localized]:
    """The repository's own content/texts.yaml, for a process that has not loaded content (yet)."""
    path = Path(__file__).resolve().parents[2] / "content" / "texts.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {key: Localized(value) for key, value in (data or {}).items()}
