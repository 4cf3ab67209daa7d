"""Formatting and small text helpers shared by every flow: times, places, cleaned text, small talk."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import i18n
from bot.booking.phone import format_phone
from bot.booking.slots import parse_slot_key
from bot.content import Region
from bot.dialog import texts

ZONE = ZoneInfo("Europe/Stockholm")
_INVISIBLE = {"Cc", "Cf", "Co", "Cs", "Cn"}


def format_when(start: datetime, lang: str) -> str:
    """'tis 1 dec. 09:00' / 'Tue, Dec 1 09:00' / 'الثلاثاء، 1 ديسمبر 09:00', in Swedish time (Babel)."""
    return i18n.format_when(start, lang)


def format_day(day: date, lang: str) -> str:
    """'fredag 27 november' / 'Friday, November 27', in the reader's language (Babel)."""
    return i18n.format_day(day, lang)


def format_list(items: list[str], lang: str) -> str:
    """'torsdag och måndag' / 'Thursday and Monday', in the reader's language (Babel)."""
    return i18n.format_list(items, lang)


def format_slot(key: str, lang: str) -> str:
    return format_when(parse_slot_key(key), lang)


def meeting_place(region: Region, lang: str, phone: str | None = "") -> str:
    """The region's words for how a meeting happens. A phone meeting with someone who chose to be reached
    in the chat gets a line that does not promise a call to a number they never gave; one whose number is
    known names it (not "the number you give when you book": it is given already)."""
    if phone is None and region.place_kind == "phone":
        return texts.text("place_chat", lang, contact_name=region.contact.name)
    if phone and region.place_kind == "phone":  # the number is known: "ringer upp dig på 070-123 45 67"
        return texts.text("place_phone_given", lang, contact_name=region.contact.name, phone=format_phone(phone))
    return region.fill(region.place[lang], lang)


def parse_key(key: object) -> datetime | None:
    if not isinstance(key, str):
        return None
    try:
        return parse_slot_key(key)
    except ValueError:
        return None


def idle_too_long(updated: str | None, now: datetime, limit: timedelta) -> bool:
    if not updated:
        return False
    try:
        return now - datetime.fromisoformat(updated) > limit
    except (ValueError, TypeError):
        return True


def clean_text(text: str) -> str:
    """Drop control, format (zero-width, bidi) and unassigned characters; keep letters, emoji, newlines."""
    kept = (ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in _INVISIBLE)
    return re.sub(r"[ \t]+", " ", "".join(kept)).strip()


_FILLER = frozenset(["och", "and", "du", "you", "sa", "so", "mycket", "much", "very"])
_THUMBS = re.compile(r"^[\s👍👌🙏😊🙂😀😃☺️❤️♥️✌️🤝👋🙌💪]+$")


def small_talk(text: str, folded: str) -> str | None:
    """'greeting', 'thanks', 'bye' or 'ok' for a short message made only of such words (or a thumbs-up)."""
    if not folded:
        return "ok" if _THUMBS.match(text) else None
    words = folded.split()
    if len(words) > 4:
        return None
    kinds = {kind: texts.word_set(kind, split=True) for kind in texts.SMALL_TALK_KINDS}  # content/words.yaml
    if not all(w in _FILLER or any(w in found for found in kinds.values()) for w in words):
        return None
    # People mix them ("ok tack", "hej, tack"): the first kind in this order whose whole phrase occurs wins,
    # so "hej då" is a goodbye and "hej" alone a greeting (not a goodbye for sharing "hej"), "ok tack" a thanks.
    return next((kind for kind in ("bye", "thanks", "greeting", "ok")
                 if any(_has_phrase(words, phrase.split()) for phrase in texts.word_set(kind))), None)


def _has_phrase(words: list[str], phrase: list[str]) -> bool:
    """Whether `phrase` occurs in `words` as consecutive whole words."""
    return any(words[i:i + len(phrase)] == phrase for i in range(len(words) - len(phrase) + 1))
