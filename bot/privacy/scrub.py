"""Remove personal data from a question before it is stored for staff to read.

Personnummer, phone numbers (also dotted), e-mail addresses (also "anna (at) example.se"), dates of birth, long
numbers, full names (a common first name or a surname ending), the names of the people in the content and
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
- A street address is a street-like word ("Storgatan", "Björkvägen", "Lilla gränd") and a house number
  ("12", "12B"); a street name without a number, or a bare "vägen 2", is kept. A postcode followed by a town
  ("852 30 Sundsvall", "85230 sundsvall") goes with the town; a bare postcode goes anyway, as a five-digit number.

Order: e-mail first (so an address holding digits or a name goes as a whole), then street addresses (a street can
look like a surname), then names, then numbers
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
ADRESS = "[adress]"
MARKERS = (PERSONNUMMER, TELEFON, EPOST, NUMMER, NAMN, ADRESS)

_ANY_DIGIT = re.compile(r"\d")

# --- e-mail ---------------------------------------------------------------------------------------------
# A whole chunk of address characters around an "@" is taken and then checked, instead of matching an
# address inside it: a partial match would leave a remnant that is an address on the next pass.
# The look-behind makes each chunk start once, keeping this linear on huge input.
_EMAIL_CHUNK = re.compile(r"(?<![\w.%+\-@])[\w.%+\-]*@[\w.%+\-@]*")
_EMAIL_SHAPE = re.compile(r"[\w%+\-]@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}")
# Addresses written to dodge robots: "anna (at) example.se", "anna [at] example [dot] se", "anna @ example.se",
# "anna at example.se". A bare " at " needs a real dotted domain after it; "(at)" and "@" may have spaces.
_AT = r"(?:\s*[(\[{]\s*(?:at|snabel-?a)\s*[)\]}]\s*|\s+@\s*|\s*@\s+|\s+(?:at|snabel-?a)\s+)"
_DOT = r"(?:\.|\s*[(\[{]\s*(?:dot|punkt)\s*[)\]}]\s*)"
_EMAIL_SPACED = re.compile(
    rf"(?<![\w.%+\-])[\w.%+\-]*[\w%+\-]{_AT}[\w\-]+(?:{_DOT}[\w\-]+)*{_DOT}[^\W\d_]{{2,}}(?![\w\-])",
    re.IGNORECASE,
)

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

# A phone number may also be grouped with dots ("070.123.45.67"); elsewhere a dot is a decimal point.
_PSEP = r"[ \u00a0\u202f\-\u2010-\u2013.]"
# The national significant number: 7 to 9 digits, not starting with 0, in any grouping.
_NSN = rf"[1-9](?:{_PSEP}?[0-9]){{6,8}}"
_PHONE = re.compile(
    r"(?=[0-9+(])"
    + _START
    + r"(?:"
    + rf"(?:\+|00) ?46{_PSEP}?(?:\(0\){_SEP}?|0)?{_NSN}"  # +46 / 0046, with the (0) or 0 people keep
    + rf"|0{_NSN}"  # 070-123 45 67, 0490-25 50 79, 08-123 456 78, 070.123.45.67
    + rf"|\(0[1-9][0-9]{{0,2}}\){_SEP}?[0-9](?:{_SEP}?[0-9]){{4,7}}"  # (08) 123 45 67
    + r")"
    + _END
    + r"(?!\.\d)"
)

# A date written with dots or slashes ("09.07.1985", "9/7/85", "1985.07.09"), or with the month's name and a year
# ("9 juli 1985"): a date of birth is half a personnummer. Followed closely by four digits ("09.07.1985 - 1234",
# "född 9 juli 1985, sista fyra 1234") it is a whole one.
_MONTHS = (r"(?:jan(?:uari|uary)?|feb(?:ruari|ruary)?|mar(?:s|ch)?|apr(?:il)?|maj|may|jun(?:i|e)?|jul(?:i|y)?|"
           r"aug(?:usti|ust)?|sep(?:t|tember)?|okt(?:ober)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")  # fmt: skip
_DATE = (
    r"(?:(?<![\d.])(?:0?[1-9]|[12][0-9]|3[01])([./])(?:0?[1-9]|1[0-2])\1(?:19|20)?[0-9]{2}(?![\d])"
    r"|(?<![\d.])(?:19|20)[0-9]{2}([./])(?:0?[1-9]|1[0-2])\2(?:0?[1-9]|[12][0-9]|3[01])(?![\d])"
    rf"|(?<!\d)(?:0?[1-9]|[12][0-9]|3[01])(?:e|:e|st|nd|rd|th)?\.?\s+{_MONTHS}\.?\s+(?:19[0-9]|200)[0-9](?!\d))"
)
_BIRTH = re.compile(rf"{_DATE}(?P<four>(?:[^\d\n\[]{{0,25}}?){_START}[0-9]{{4}}{_END})?", re.IGNORECASE)


def _birth(match: re.Match[str]) -> str:
    return PERSONNUMMER if match["four"] else NUMMER


_AMOUNT = r"(?:\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d{1,9})(?!\d)"
_UNIT = r"(?::-|€|(?i:kronor|krona|kr|sek|euro|eur)(?![^\W\d_]))"
_MONEY = rf"{_AMOUNT}(?: ?[-\u2010-\u2013] ?{_AMOUNT})?[ \u00a0\u202f]?{_UNIT}"
_YEARS = rf"(?:19|20)\d\d[-\u2010-\u2013](?:19|20)\d\d{_END}"
# Kept amounts and year ranges are tried first at each run; anything else of 5+ digits goes.
_DIGITS = re.compile(rf"(?=\d){_START}(?:(?P<keep>{_MONEY}|{_YEARS})|\d(?:{_SEP}?\d){{4,}})")

# --- street addresses ----------------------------------------------------------------------------------
# At least two letters before the ending, so "vägen 2" ("hela vägen 2 timmar") is not a street. Folded spellings
# (vagen, grand, allen) are typed on phones without å/ä/ö.
_STREET_END = (r"(?:gatan|gata|vägen|vagen|väg|vag|gränd|grand|gränden|stigen|backen|torget|torg|allén|allen|allé|"
               r"alle|leden|stråket|straket|plan|gärdet|udden|liden|vallen)")  # fmt: skip
_STREET = re.compile(
    rf"(?<![^\W\d_])[^\W\d_]{{2,}}{_STREET_END}(?:[ \u00a0]+\d{{1,4}}(?!\d)(?:[ \u00a0]?[a-hA-H](?![^\W\d_]))?)",
    re.IGNORECASE,
)
# A postcode and the town after it: "852 30 sundsvall", or unspaced before a capital "85230 Sundsvall" ("12345
# personer" is a number). A currency after the digits makes them an amount.
_POSTCODE_TOWN = re.compile(
    r"(?<![\d\u00a0 ]\d)(?<!\d)(?:[1-9]\d{2}[ \u00a0]\d{2}(?![ \u00a0]?\d)[ \u00a0]+"
    r"(?!(?i:kronor|krona|kr|sek|euro|eur)(?![^\W\d_]))[^\W\d_]{2,}"
    r"|[1-9]\d{4}(?![ \u00a0]?\d)[ \u00a0]+[^\W\d_a-zß-ÿ][^\W\d_]+)",
)

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
# Full names of anyone, not only the people in the content: a common first name followed by a capitalised word
# ("Anna Svensson", "Fatima Ahmed"), or any word followed by a word with a typical surname ending ("anna
# lindqvist", "Zlatan Personsson"). A list cannot hold every name; these are the names most people here carry.
_FIRST_NAMES = frozenset(
    """
anna eva maria karin sara kristina lena emma kerstin ingrid marie malin jenny hanna linda elin annika susanne
johanna carina elisabeth sofia ida julia monica helena camilla sandra therese ulla birgitta margareta inger
amanda frida emelie matilda louise lisa maja ebba alice elsa wilma astrid agnes saga ella klara alva stina
erik lars karl anders johan mikael jan hans peter thomas daniel fredrik mats magnus stefan mattias jonas andreas
bengt nils sven bjorn leif goran ulf martin marcus niklas patrik oskar oscar gustav axel emil william lucas hugo
elias liam noah adam viktor olle kalle pelle simon david filip anton albin isak ludvig sebastian tobias robin
joakim henrik kristoffer christoffer rickard jesper roger kent tommy mohammed mohammad muhammad mohamed ahmed ahmad
ali omar hassan hussein hussain abdi abdullahi abdullah mustafa yusuf youssef ibrahim ismail mahmoud khalid
fatima fatuma amina aisha ayaan hodan halima maryam mariam zahra zainab sara leyla layla nour noor yasmin
hamid reza mehdi hossein farid nasrin parisa shirin zahra dawit yonas tesfay tekle semhar helen selam
olena oksana iryna natalia tetiana svitlana olha andrii oleksandr serhii dmytro volodymyr mykola ivan
""".split()
)
_SURNAME_END = re.compile(
    r"(?:s?son|sen|berg|ström|strom|lund|qvist|kvist|gren|dahl|lind|blad|stedt|nen|enko|zadeh)$"
)
# Endings that are a surname in any case, even after a lower-case first name nobody could list ("zlatan personsson")
_STRONG_SURNAME_END = re.compile(r"(?:sson|ström|strom|qvist|kvist|stedt|zadeh|enko)$")
_CAPITALISED = re.compile(r"[^\W\d_a-zß-ÿ]")  # an upper-case first letter (of any script with cases)
_ADJACENT = re.compile(r"[ \u00a0\-]")


def _is_surname(word: str) -> bool:
    return len(word) > 3 and bool(_SURNAME_END.search(_fold(word)))


def _starts_name(first: str, second: str) -> bool:
    if len(first) < 2 or len(second) < 2:
        return False
    if _fold(first) in _FIRST_NAMES and (_CAPITALISED.match(second) or _is_surname(second)):
        return True
    if len(first) > 2 and len(second) > 5 and _STRONG_SURNAME_END.search(_fold(second)):
        return True
    return bool(_CAPITALISED.match(first) and _CAPITALISED.match(second) and _is_surname(second))


def _full_names(text: str) -> str:
    words = list(_WORD.finditer(text))
    out, last, i = [], 0, 0
    while i < len(words) - 1:
        first, second = words[i], words[i + 1]
        if not (
            _ADJACENT.fullmatch(text[first.end() : second.start()]) and _starts_name(first[0], second[0])
        ):
            i += 1
            continue
        end = i + 1  # a middle name or a double surname goes with it
        while (
            end + 1 < len(words)
            and end - i < 3
            and _ADJACENT.fullmatch(text[words[end].end() : words[end + 1].start()])
        ):
            following = words[end + 1][0]
            if not (
                _CAPITALISED.match(following) and (_fold(following) in _FIRST_NAMES or _is_surname(following))
            ):
                break
            end += 1
        out += [text[last : first.start()], NAMN]
        last, i = words[end].end(), end + 1
    return "".join(out) + text[last:] if out else text


_KEEP_MARKER = "|".join(re.escape(marker) for marker in MARKERS)


def _fold(word: str) -> str:
    """Lower case without accents: "Öberg" -> "oberg"."""
    # The same words again and again (each message's, the names'): remembered, if of a name's length.
    return _fold_remembered(word) if len(word) <= MAX_REMEMBERED else _fold_now(word)


MAX_REMEMBERED = 40  # characters: a long paste's "words" are not kept


def _fold_now(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold().translate(_UNSPLIT))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_fold_remembered = lru_cache(maxsize=8192)(_fold_now)


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
    text = _EMAIL_SPACED.sub(EPOST, text)
    if _ANY_DIGIT.search(text):
        text = _STREET.sub(ADRESS, text)
        text = _POSTCODE_TOWN.sub(ADRESS, text)
    if names is not None:
        text = names.sub(_name, text)
    text = _INTRODUCED.sub(lambda m: m.group("lead") + NAMN, text)
    text = _full_names(text)
    if _ANY_DIGIT.search(text):
        text = _BIRTH.sub(_birth, text)
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
