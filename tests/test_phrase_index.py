"""The dialog finds its words' phrases by the text's words (texts.phrases_starting) instead of trying every phrase of
every language on every message: it must find exactly what trying every phrase finds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.content import load_content
from bot.dialog import texts, when
from bot.matching.normalize import fold

CONTENT = load_content("content")
texts.use(CONTENT.texts, CONTENT.words)
KINDS = sorted(texts.kinds(""))
WORDS = sorted({word for kind in KINDS for phrase in texts.word_set(kind) for word in phrase.split()})


def every_phrase_has(kind: str, folded: str) -> bool:
    return any(f" {phrase} " in f" {folded} " for phrase in texts.word_set(kind))


def every_phrase_spans(joined: str, short_ok: bool) -> dict[str, int]:
    spans = []
    for kind in when.TIME_KINDS:
        for phrase in texts.word_set(kind):
            if len(phrase) > when.SHORT_FORM or short_ok:
                at = joined.find(f" {phrase} ")
                while at >= 0:
                    spans.append((at, at + len(phrase) + 1, kind))
                    at = joined.find(f" {phrase} ", at + 1)
    found: dict[str, int] = {}
    for start, end, kind in sorted(spans):
        if not any(s <= start and end <= e and e - s > end - start for s, e, _ in spans):
            found.setdefault(kind, start)
    return found


texts_of_words = st.lists(st.sampled_from(WORDS) | st.text(max_size=6), max_size=8).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(texts_of_words, st.sampled_from(KINDS))
def test_a_phrase_is_found_by_its_words_as_by_trying_every_phrase(text: str, kind: str) -> None:
    folded = fold(text)
    texts.use(CONTENT.texts, CONTENT.words)
    assert texts.has_phrase(kind, folded) == every_phrase_has(kind, folded)
    said = f" {folded} "
    assert texts.languages_saying(kind, folded) == tuple(
        code for code, phrases in texts._by_language(kind, id(texts._installed_words)).items()
        if any(f" {phrase} " in said for phrase in phrases)
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(texts_of_words, st.booleans())
def test_times_named_are_found_by_their_words_as_by_trying_every_phrase(text: str, short_ok: bool) -> None:
    joined = f" {fold(text)} "
    texts.use(CONTENT.texts, CONTENT.words)
    assert when._phrases(joined, short_ok) == every_phrase_spans(joined, short_ok)
