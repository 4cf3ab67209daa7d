"""Readability of Swedish answers: LIX (läsbarhetsindex), as `validate` checks it.

LIX = words per sentence + the percentage of long words (more than six letters). Easy-to-read Swedish
(lätt svenska) aims at 30 or lower; ordinary plain Swedish should stay at 45 or lower. A sentence ends at
. ! ? : or at the end of a line (each item of a list is a sentence of its own). Placeholders and web
addresses are not words a reader has to read, so they are left out.
"""

from __future__ import annotations

import re

EASY_SWEDISH_MAX = 30
PLAIN_SWEDISH_MAX = 45

_SKIP = re.compile(r"\{[a-z_]+\}|https?://\S+|\S+@\S+")
_WORD = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*")
_SENTENCE_END = re.compile(r"[.!?:]+(?=\s|$)|\n")


def lix(text: str) -> float:
    """The LIX of `text` (0 for a text without words)."""
    text = _SKIP.sub(" ", text)
    words = _WORD.findall(text)
    if not words:
        return 0.0
    sentences = sum(1 for part in _SENTENCE_END.split(text) if _WORD.search(part))
    long_words = sum(1 for word in words if len(word.replace("-", "").replace("'", "")) > 6)
    return len(words) / max(sentences, 1) + 100 * long_words / len(words)
