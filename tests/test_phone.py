"""Swedish phone numbers in the forms people type, normalised to E.164 and shown nationally."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.booking.phone import format_swedish_phone, parse_swedish_phone


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("070-123 45 67", "+46701234567"),
        ("0701234567", "+46701234567"),
        ("070 123 45 67", "+46701234567"),
        ("070-1234567", "+46701234567"),
        ("+46 70 123 45 67", "+46701234567"),
        ("+46701234567", "+46701234567"),
        ("+46 (0)70 123 45 67", "+46701234567"),
        ("0046 70 123 45 67", "+46701234567"),
        ("0046701234567", "+46701234567"),
        ("  070-123 45 67\n", "+46701234567"),
        ("070\u00a0123\u00a045\u00a067", "+46701234567"),  # no-break spaces from copy-paste
        ("0490-25 50 79", "+46490255079"),  # Västervik landline
        ("060-12 34 56", "+4660123456"),  # Sundsvall landline
        ("072-14 36 124", "+46721436124"),
        ("08-123 456 78", "+46812345678"),
    ],
)
def test_accepted_forms(typed: str, e164: str) -> None:
    assert parse_swedish_phone(typed) == e164


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "070",
        "070 123",
        "070-123 45 6",  # one digit short
        "070-123 45 67 89 0",  # too long
        "070-FLOWERS",  # phonenumbers would read letters as keypad digits
        "070-123 45 67 ext 12",
        "tel:+46701234567",
        "ring mig på 0701234567",
        "+47 22 22 22 22",  # Norway
        "+1 202 555 0123",  # USA
        "0047 22 22 22 22",
        "+46 00 000 00 00",
        "０７０１２３４５６７",  # full-width digits
        "070-123 45 67; DROP TABLE",
        "1" * 1000,
    ],
)
def test_rejected_forms(typed: str) -> None:
    assert parse_swedish_phone(typed) is None


def test_non_string_is_rejected() -> None:
    assert parse_swedish_phone(None) is None  # type: ignore[arg-type]
    assert parse_swedish_phone(701234567) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("e164", "shown"),
    [
        ("+46701234567", "070-123 45 67"),
        ("+46490255079", "0490-25 50 79"),
        ("+46721436124", "072-143 61 24"),
        ("+46812345678", "08-123 456 78"),
    ],
)
def test_format_national(e164: str, shown: str) -> None:
    assert format_swedish_phone(e164) == shown
    assert parse_swedish_phone(shown) == e164


@pytest.mark.parametrize("bad", ["", "hello", "+4722222222", "+46070123"])
def test_format_rejects_non_swedish(bad: str) -> None:
    with pytest.raises(ValueError):
        format_swedish_phone(bad)


@given(st.text(max_size=40))
def test_parse_never_raises_and_returns_swedish_e164(text: str) -> None:
    result = parse_swedish_phone(text)
    if result is not None:
        assert result.startswith("+46")
        assert result[1:].isascii() and result[1:].isdigit()
        assert parse_swedish_phone(result) == result
        assert parse_swedish_phone(format_swedish_phone(result)) == result


@given(st.integers(min_value=0, max_value=9_999_999))
def test_mobile_numbers_in_any_typed_form_agree(rest: int) -> None:
    digits = f"{rest:07d}"
    forms = [f"070{digits}", f"070-{digits}", f"+4670{digits}", f"0046 70 {digits}", f"+46 (0)70 {digits}"]
    assert {parse_swedish_phone(form) for form in forms} == {f"+4670{digits}"}
