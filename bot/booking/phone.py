"""Phone numbers as people type them, normalised to E.164 for storage."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

REGION = "SE"
# ASCII digits and the punctuation people use. Letters are refused on purpose: phonenumbers would otherwise
# read "070-FLOWERS" as a vanity number and "… ext 12" as an extension.
_ALLOWED = re.compile(r"[0-9+\-()./ \t\u00a0]{1,40}")


def parse_swedish_phone(text: str) -> str | None:
    """E.164 form ("+46701234567") of a typed Swedish number, or None if it is not a valid Swedish number."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not _ALLOWED.fullmatch(text):
        return None
    try:
        number = phonenumbers.parse(text, REGION)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number_for_region(number, REGION):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def format_swedish_phone(e164: str) -> str:
    """National display form, e.g. "+46701234567" -> "070-123 45 67". Raises ValueError if not Swedish."""
    try:
        number = phonenumbers.parse(e164, REGION)
    except NumberParseException as exc:
        raise ValueError(f"not a phone number: {e164!r}") from exc
    if not phonenumbers.is_valid_number_for_region(number, REGION):
        raise ValueError(f"not a valid Swedish phone number: {e164!r}")
    return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)


# --- a person's own number, as they write it in the booking ---------------------------------------

# Numbers a person can have and be called on: mobile and geographic. Premium-rate (0900, 0939, 0944 ...),
# shared-cost, toll-free and the like are refused: the business developer must never be told to call them.
PERSONAL_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
# A run of what a number is written with, starting with + or a digit: "070-123 45 67", "+380 (44) 123 4567".
_CANDIDATE = re.compile(r"(?:\+|\b)\d[\d\-()./ \u00a0]{4,24}\d")


@dataclass(frozen=True)
class PhoneReading:
    """What a text says about a phone number: `e164` when it holds one a person can be called on."""

    e164: str | None = None
    problem: Literal["none", "not_personal", "invalid"] = "none"  # why not, when e164 is None


def read_phone(text: str) -> PhoneReading:
    """Find a phone number in a sentence ("mitt nummer är 070 123 45 67"); Swedish by default, any country
    when written with + or 00. Returns the E.164 form, or why the number cannot be used."""
    seen_digits = False
    refused = False
    for match in _CANDIDATE.finditer(text):
        seen_digits = True
        try:
            number = phonenumbers.parse(match.group(0).strip(), REGION)
        except NumberParseException:
            continue
        if not phonenumbers.is_valid_number(number):
            continue
        if phonenumbers.number_type(number) not in PERSONAL_TYPES:
            refused = True
            continue
        return PhoneReading(phonenumbers.format_number(number, PhoneNumberFormat.E164))
    if refused:
        return PhoneReading(problem="not_personal")
    if seen_digits or sum(ch.isdigit() for ch in text) >= 5:
        return PhoneReading(problem="invalid")
    return PhoneReading()


def format_phone(e164: str) -> str:
    """Swedish numbers as Swedes write them ("070-123 45 67"); others in international form."""
    try:
        number = phonenumbers.parse(e164, REGION)
    except NumberParseException:
        return e164
    if number.country_code == 46:
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
