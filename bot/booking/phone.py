"""Swedish phone numbers as people type them, normalised to E.164 for storage."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

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
