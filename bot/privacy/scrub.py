"""Remove personal data from a question before it is stored for staff to read.

Personnummer, phone numbers, e-mail addresses, long numbers, the names of the people in the content and
the name after "jag heter" / "my name is" are replaced by markers ("[personnummer]", "[telefon]", "[e-post]", "[nummer]", "[namn]"). Everything else,
whitespace and punctuation included, is kept: that is what staff need to improve the answers.

Deliberate choices:
- A personnummer's date is checked loosely and its check digit not at all: a mistyped number is still
  personal.
- A bare ten-digit number starting with 0 ("0701234567") is taken as a phone number even though 070123
  is a valid date: in a chat it almost always is a mobile number. Either way it is removed.
- "150 000" on its own becomes "[nummer]": six digits in groups can as well be an account number. Followed
  by a currency ("150 000 kr", "25 000-30 000 kronor", "150 000:-", "150000 SEK") it is an amount, which is
  what the question is about, and is kept (at most nine digits in a row, so never a personnummer).
- Year ranges ("2019-2022") are kept; dates ("1985-07-09") are not: a date of birth is half a personnummer.
- Postal addresses are out of scope; a postcode ("852 30") goes anyway, as a five-digit number.

Order: e-mail first (so an address holding digits or a name goes as a whole), then names, then numbers
(a number's fate can depend on the word after it, "kr", so that word must be final first). Every rule
replaces whole runs (of digits, letters, address characters) with a bracketed marker that no rule matches or
joins to its neighbours, which makes `scrub` idempotent.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache

PERSONNUMMER = "[personnummer]"
TELEFON = "[telefon]"
EPOST = "[e-post]"
NUMMER = "[nummer]"
NAMN = "[namn]"
MARKERS = (PERSONNUMMER, TELEFON, EPOST, NUMMER, NAMN)

_ANY_DIGIT = re.compile(r"\d")

# --- e-mail ---------------------------------------------------------------------------------------------
# A whole chunk of address characters around an "@" is taken and then checked, instead of matching an
# address inside it: a partial match would leave a remnant that is an address on the next pass.
# The look-behind makes each chunk start once, keeping this linear on huge input.
_EMAIL_CHUNK = re.compile(r"(?<![\w.%+\-@])[\w.%+\-]*@[\w.%+\-@]*")
_EMAIL_SHAPE = re.compile(r"[\w%+\-]@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}")

# --- numbers --------------------------------------------------------------------------------------------
# One separator between digit groups: a space, the no-break spaces of copy-paste and number formatting,
# or a dash.
_SEP = r"[ \u00a0\u202f\-\u2010-\u2013]"
# A match must be a whole run of digits: leaving part of a longer number would leak its digits.
# Each pattern opens with a look-ahead for its first character, which lets the engine skip ahead to
# candidates instead of trying the look-behinds at every position (3x faster).
_START = rf"(?<!\d)(?<!\d{_SEP})"
_END = rf"(?!\d)(?!{_SEP}\d)"

_PNR = re.compile(
    r"(?=[0-9])"
    + _START
    + r"(?!0[0-9]{9}(?!\d))"  # bare 07xxxxxxxx: a phone number, left to _PHONE
    + r"(?:(?:18|19|20)[0-9]{2}|[0-9]{2})"  # year, with or without century
    + r"(?:0[1-9]|1[0-2])"  # month
    + r"(?:0[1-9]|[12][0-9]|3[01]|6[1-9]|[78][0-9]|9[01])"  # day; +60 in a samordningsnummer
    + r"(?: ?[-+\u2010-\u2013] ?|[ \u00a0\u202f])?"  # "-", "+" (100 years or older), a space, or nothing
    + r"[0-9]{4}"
    + _END
)

# The national significant number: 7 to 9 digits, not starting with 0, in any grouping.
_NSN = rf"[1-9](?:{_SEP}?[0-9]){{6,8}}"
_PHONE = re.compile(
    r"(?=[0-9+(])"
    + _START
    + r"(?:"
    + rf"(?:\+|00) ?46{_SEP}?(?:\(0\){_SEP}?|0)?{_NSN}"  # +46 / 0046, with the (0) or 0 people keep
    + rf"|0{_NSN}"  # 070-123 45 67, 0490-25 50 79, 08-123 456 78
    + rf"|\(0[1-9][0-9]{{0,2}}\){_SEP}?[0-9](?:{_SEP}?[0-9]){{4,7}}"  # (08) 123 45 67
    + r")"
    + _END
)

_AMOUNT = r"(?:\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d{1,9})(?!\d)"
_UNIT = r"(?::-|€|(?i:kronor|krona|kr|sek|euro|eur)(?![^\W\d_]))"
_MONEY = rf"{_AMOUNT}(?: ?[-\u2010-\u2013] ?{_AMOUNT})?[ \u00a0\u202f]?{_UNIT}"
_YEARS = rf"(?:19|20)\d\d[-\u2010-\u2013](?:19|20)\d\d{_END}"
# Kept amounts and year ranges are tried first at each run; anything else of 5+ digits goes.
_DIGITS = re.compile(rf"(?=\d){_START}(?:(?P<keep>{_MONEY}|{_YEARS})|\d(?:{_SEP}?\d){{4,}})")

# --- names ----------------------------------------------------------------------------------------------
_LETTER = r"[^\W\d_]"
_WORD = re.compile(rf"{_LETTER}+")
# People introduce themselves in questions too ("jag heter Anna Berg, ..."): the one or two words after
# such a phrase are a name, whoever it is. Case-insensitive, since phones often type in lower case.
_INTRODUCED = re.compile(
    rf"(?P<lead>\b(?:jag\s+heter|mitt\s+namn\s+(?:är|ar)|my\s+name\s+is|i\s+am\s+called|i'?m\s+called|"
    rf"call\s+me)\s+)(?!\[){_LETTER}+(?:[\s-]+(?!(?:och|and|men|but)\b)(?!\[){_LETTER}+){{0,2}}",
    re.IGNORECASE,
)
# People type names without å/ä/ö and accents, and the content may spell them either way: a folded letter
# matches all its accented forms (case is left to IGNORECASE).
_VARIANTS = {
    "a": "aåäáàâãā",
    "o": "oöóòôõøō",
    "e": "eéèêëē",
    "u": "uüúùûū",
    "i": "iíìîïī",
    "y": "yýÿ",
    "c": "cç",
    "n": "nñ",
    "s": "sš",
    "z": "zž",
}
_UNSPLIT = str.maketrans({"ø": "o", "ł": "l", "đ": "d"})  # letters NFKD does not decompose
_MARKS = r"[\u0300-\u036f]*"  # accents typed as separate combining characters
_NAME_SEP = r"[\s\-\u2010-\u2013]+"
_KEEP_MARKER = "|".join(re.escape(marker) for marker in MARKERS)


def _fold(word: str) -> str:
    """Lower case without accents: "Öberg" -> "oberg"."""
    decomposed = unicodedata.normalize("NFKD", word.casefold().translate(_UNSPLIT))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _letters(ch: str) -> str:
    """The letters a folded letter stands for, escaped for use inside [...]."""
    return re.escape(_VARIANTS.get(ch, ch))


def _word_regex(word: str) -> str:
    return "".join(f"[{_letters(ch)}]{_MARKS}" for ch in _fold(word))


@lru_cache(maxsize=64)
def _name_pattern(names: frozenset[str]) -> re.Pattern[str] | None:
    """One pattern for all full names and their parts longer than two letters; None if there are none."""
    alternatives: set[str] = set()
    first_letters = {"["}
    for name in names:
        words = [word for word in _WORD.findall(unicodedata.normalize("NFC", name)) if _fold(word)]
        if len(words) > 1:
            alternatives.add(_NAME_SEP.join(_word_regex(word) for word in words))
        # Two-letter parts ("Bo", "Li") are also everyday words; a one-word name is just a part.
        alternatives.update(_word_regex(word) for word in words if len(word) > 2)
        first_letters.update(_VARIANTS.get(_fold(word)[0], _fold(word)[0]) for word in words)
    if not alternatives:
        return None
    # Longest first, so a full name goes as one "[namn]" rather than as its parts.
    ordered = sorted(alternatives, key=lambda alt: (-len(alt), alt))
    return re.compile(
        # The look-ahead lets the engine skip to possible first letters (2x faster on a question).
        rf"(?=[{re.escape(''.join(sorted(first_letters)))}])"
        # Markers are consumed and kept, so a name part like "post" never matches inside "[e-post]".
        rf"(?:(?P<keep>{_KEEP_MARKER})"
        rf"|(?<!{_LETTER})(?:{'|'.join(ordered)})(?:['’]?s)?(?!{_LETTER}))",  # also the genitive "Annas"
        re.IGNORECASE,
    )


# --- replacement ----------------------------------------------------------------------------------------


def _email(match: re.Match[str]) -> str:
    chunk = match[0]
    body = chunk.rstrip(".")  # a full stop or "..." after the address is the sentence's
    return EPOST + chunk[len(body) :] if _EMAIL_SHAPE.search(body) else chunk


def _name(match: re.Match[str]) -> str:
    return match[0] if match["keep"] is not None else NAMN


def _number(match: re.Match[str]) -> str:
    return match[0] if match["keep"] is not None else NUMMER


def _scrub(text: str, names: re.Pattern[str] | None) -> str:
    if not isinstance(text, str):
        return ""  # never raise, and never store something we could not check
    if "@" in text:
        text = _EMAIL_CHUNK.sub(_email, text)
    if names is not None:
        text = names.sub(_name, text)
    text = _INTRODUCED.sub(lambda m: m.group("lead") + NAMN, text)
    if _ANY_DIGIT.search(text):
        text = _PNR.sub(PERSONNUMMER, text)
        text = _PHONE.sub(TELEFON, text)
        text = _DIGITS.sub(_number, text)
    return text


def scrub_names(names: Iterable[str]) -> Callable[[str], str]:
    """A scrubber for these names; the compiled name pattern is cached, so reuse is cheap.

    A single string is taken as one name, not as its letters.
    """
    if isinstance(names, str):
        names = (names,)
    pattern = _name_pattern(frozenset(name for name in names if isinstance(name, str)))

    def scrub_with_names(text: str) -> str:
        return _scrub(text, pattern)

    return scrub_with_names


def scrub(text: str, names: Iterable[str] = ()) -> str:
    """`text` with personal data replaced by markers; see the module docstring. Never raises."""
    return scrub_names(names)(text)
