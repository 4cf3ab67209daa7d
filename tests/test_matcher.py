"""Matcher behaviour on the kinds of text people really type."""

from __future__ import annotations

import pytest

from bot.knowledge import Knowledge
from bot.matching.normalize import fold, stems


def test_fold_removes_case_accents_punctuation_and_emoji() -> None:
    assert fold("Vad ÄR ett Socialt Företag?? 🤔") == "vad ar ett socialt foretag"
    assert fold("Lönebidrag—hur funkar det…") == "lonebidrag hur funkar det"
    assert fold("  \u200b\u202e ") == ""


def test_stems_cover_both_languages() -> None:
    assert stems("foretagen")[0] == stems("foretag")[0] == stems("foretaget")[0]
    assert "enterpris" in stems("enterprises")


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("vad är lönebidrag", "wage-subsidy"),
        ("vad ar lonebidrag", "wage-subsidy"),  # no å/ä/ö
        ("vad är lönebidrg", "wage-subsidy"),  # a typo
        ("what is wage subsidy", "wage-subsidy"),
        ("hur startar man ett socialt företag", "start"),
        ("how do I start a social enterprise", "start"),
    ],
)
def test_same_question_in_many_spellings(knowledge: Knowledge, question: str, topic: str) -> None:
    assert knowledge.matcher.match(question).topic == topic


@pytest.mark.parametrize(
    "question",
    [
        "vad blir det för väder i morgon",
        "asdfghjkl",
        "12345",
        "🙂🙂🙂",
        "",
        "   ",
        "x" * 5000,
        "who won the football world cup in 2022",
    ],
)
def test_out_of_scope_gets_no_topic(knowledge: Knowledge, question: str) -> None:
    assert knowledge.matcher.match(question).topic is None


def test_abbreviations_are_expanded_from_content(knowledge: Knowledge) -> None:
    synonyms = knowledge.content.synonyms
    assert "af" in synonyms and "fk" in synonyms
    tokens = knowledge.matcher.tokens("vad gör AF")
    assert "arbetsformedlingen" in tokens


def test_language_detection(knowledge: Knowledge) -> None:
    assert knowledge.matcher.language("hur får jag jobb på ett socialt företag") == "sv"
    assert knowledge.matcher.language("how do I get a job at a social enterprise") == "en"


def test_ambiguity_yields_did_you_mean_with_the_close_topics(knowledge: Knowledge) -> None:
    matcher = knowledge.matcher
    found = None
    for _topic, _lang, text in knowledge.content.examples():
        for other in ("pengar", "money", "hjälp", "jobb"):
            match = matcher.match(f"{text} {other}")
            if match.did_you_mean:
                found = match
                break
        if found:
            break
    assert found is not None, "no ambiguous question found at all: the margin never fires"
    assert found.topic == found.did_you_mean[0]
    assert len(found.did_you_mean) >= 2
    scores = dict(found.ranking)
    assert scores[found.did_you_mean[0]] - scores[found.did_you_mean[1]] <= matcher.margin + 1e-6


def test_long_text_is_cut_not_choked_on(knowledge: Knowledge) -> None:
    """A 100 kB paste is read from the start: the first lines say what it is about."""
    question = "Hur får jag lönebidrag? " * 5000
    assert len(question) > 100_000
    assert knowledge.matcher.match(question).topic == "wage-subsidy"
