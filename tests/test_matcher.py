"""Matcher behaviour on the kinds of text people really type."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge import Knowledge
from bot.matching import linear
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


@pytest.mark.parametrize(
    ("story", "topic"),
    [
        # the question after a story told in one breath (commas, no full stops)
        ("jag har bott i sundsvall i tjugo år och jobbat som busschaufför, sedan blev jag sjuk och har varit "
         "hemma länge, nu vill jag tillbaka men orkar inte heltid, kan arbetsgivaren få lönebidrag för mig",
         "wage-subsidy"),
        # everyday life told the same way stays out of scope: no clause is about anything the bot knows
        ("vi har bott i västervik i fem år, min dotter ska börja skolan i höst och vi vet inte vilken skola som "
         "är bäst, hon är blyg och behöver lugn miljö, hur väljer man skola", None),
        ("i have lived in sundsvall for many years, my car broke down last week and the garage says it will "
         "cost a lot, i need it to get to my job, can i get a loan for a car", None),
    ],
)  # fmt: skip
def test_a_long_message_is_read_clause_by_clause_when_it_falls_back(
    knowledge: Knowledge, story: str, topic: str | None
) -> None:
    assert len(story.split()) >= 20
    assert knowledge.matcher.match(story, detect_language=False).topic == topic


def test_a_story_in_tigrinya_is_read_by_its_own_sentence_ends(knowledge: Knowledge) -> None:
    """The Ge'ez marks "።" and "፧" end sentences (as "؟" ends Arabic ones), often with no space after them:
    the question after the weather and a late bus is read on its own, as a story with full stops is."""
    story = "ጽባሕ ዝናብ ክዘንብ ድዩ ኣውቶቡስ ዘግዩ።ኣብ ማሕበራዊ ትካል ከመይ ስራሕ ይርከብ፧"
    question = story.split("።")[1]
    assert knowledge.matcher.match(story.replace("።", " ")).topic is None  # the whole drowns the question
    assert knowledge.matcher.match(story).topic == knowledge.matcher.match(question).topic == "find-work"


def test_a_training_child_that_times_out_means_training_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a very loaded machine the child that trains into the cache can take too long: the models are then
    trained in this process (what a start without a cache does), never a crash."""
    monkeypatch.setattr(linear, "TRAIN_TIMEOUT", 0.001)  # no interpreter starts that fast
    vectors = [{"w:jobb": 1.0}, {"w:pengar": 1.0}, {"w:jobb": 0.5, "w:arbete": 0.5}, {"w:lan": 1.0},
               {"w:boka": 1.0}, {"w:mote": 1.0}]  # fmt: skip
    labels = ["find-work", "funding", "find-work", "funding", "book-meeting", "book-meeting"]
    models = linear.LinearModel.cached([(vectors, labels, "svm")], tmp_path, "timeout")
    assert len(models) == 1
    scores = dict(zip(models[0].classes, models[0].scores({"w:jobb": 1.0}).tolist(), strict=True))
    assert scores["find-work"] > scores["funding"]
    assert not list(tmp_path.glob("*.json")), "the job file is removed after the timeout too"
