"""Stopgap scrubber (replaced by the full one)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

_DIGITS = re.compile(r"\+?\d[\d\s-]{4,}\d")
_EMAIL = re.compile(r"\S+@\S+")


def scrub(text: str, names: Iterable[str] = ()) -> str:
    return scrub_names(names)(text)


def scrub_names(names: Iterable[str]) -> Callable[[str], str]:
    parts = sorted({p for n in names for p in [n, *n.split()] if len(p) > 2}, key=len, reverse=True)
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, parts)) + r")\b", re.IGNORECASE) if parts else None

    def apply(text: str) -> str:
        text = _EMAIL.sub("[e-post]", _DIGITS.sub("[nummer]", text))
        return pattern.sub("[namn]", text) if pattern else text

    return apply
