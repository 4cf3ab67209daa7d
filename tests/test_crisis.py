"""Help in a crisis, before anything else (issue 10): the numbers, an offer of a person, the conversation kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import load_content
from bot.content.validator import validate
from bot.knowledge import Knowledge
from bot.safety.crisis import detector_for, normalise
from tests.conftest import CONTENT
from tests.transcript import TestBot

NUMBERS = ("112", "90101", "020-50 50 50", "1177")


def assert_crisis_answer(testbot: TestBot) -> None:
    for number in NUMBERS:
        assert number in testbot.text, testbot.text
    assert "topic:contact" in {c.data for c in testbot.choices}


def crisis_events(testbot: TestBot) -> int:
    rows = testbot.store.query("select count(*) from events where action = 'crisis'")[0]
    return int(rows[0])


@pytest.mark.parametrize("first", ["jag vill inte leva längre", "vill inte finnas", "he hits me",
                                   "orkar inte mer", "i want to kill myself"])  # fmt: skip
def test_a_crisis_as_the_very_first_message_gets_the_numbers(testbot: TestBot, first: str) -> None:
    testbot.send(first)
    assert_crisis_answer(testbot)
    assert "Sorry" not in testbot.text and "vet jag tyvärr inte" not in testbot.text
    state = testbot.store.load_state("test:1")
    assert state is not None and state.lang is None  # nothing chosen for them
    # the language can still be chosen right away
    assert {"lang:sv", "lang:en"} <= {c.data for c in testbot.choices}


def test_in_the_middle_of_a_booking_the_booking_is_kept(testbot: TestBot) -> None:
    testbot.onboard("sv", "sundsvall")
    testbot.send("/book")
    slot = testbot.slot_choices()[0].data
    testbot.press_data(slot)
    assert "förnamn" in testbot.text
    testbot.send("jag är rädd för min man")
    assert_crisis_answer(testbot)
    assert "Magnus Riklander" in testbot.text  # the region's own contact is offered
    assert "finns kvar" in testbot.text
    state = testbot.store.load_state("test:1")
    assert state is not None and state.flow == "booking.name" and state.data.get("slot") == slot.removeprefix("slot:")
    assert state.data.get("name") is None  # the message was not taken as a name
    testbot.press("Fortsätt")
    assert "förnamn" in testbot.text
    testbot.send("Anna")
    assert "Hur vill du" in testbot.text


def test_english_conversation_gets_english_help(testbot: TestBot) -> None:
    testbot.onboard("en", "vastervik")
    testbot.send("my boyfriend beats me and I am scared to go home")
    assert_crisis_answer(testbot)
    assert "Kvinnofridslinjen" in testbot.text and "Elisabeth Johansson" in testbot.text
    assert "Det du skriver" not in testbot.text


def test_a_crisis_is_counted_anonymously_and_its_text_is_never_kept(testbot: TestBot) -> None:
    testbot.onboard("sv", "sundsvall")
    testbot.send("jag vill ta livet av mig")
    assert crisis_events(testbot) == 1
    unanswered = testbot.store.query("select count(*) from unanswered")[0][0]
    assert unanswered == 0


def test_ordinary_questions_are_not_crisis(testbot: TestBot) -> None:
    testbot.onboard("sv", "sundsvall")
    for question in ("hur funkar lönebidrag", "jag orkar inte jobba heltid, vad finns det för stöd",
                     "vad är arbetsträning", "kan jag få rehabilitering efter en stroke"):  # fmt: skip
        testbot.send(question)
        assert "90101" not in testbot.text, question
    assert crisis_events(testbot) == 0


@pytest.mark.parametrize(
    "text",
    ["jag vill inte leva langre", "sjalvmord", "sjävmordstankar", "JAG ORKAR INTE MER", "vill int finnas",
     "jag är så himla rädd för min elaka man", "he is hitting me", "i dont wanna live anymore",
     "زوجي يضربني", "میخوام بمیرم", "хочу померти", "waxaan doonayaa inaan is dilo"],
)
def test_misspelled_indirect_and_other_languages_are_caught(knowledge: Knowledge, text: str) -> None:
    assert knowledge.crisis is not None and knowledge.crisis.check(text) is not None, text


def test_normalise_keeps_every_script() -> None:
    assert normalise("Jag ÄR rädd!!") == "jag ar radd"
    assert normalise("می‌خواهم") == normalise("میخواهم") == normalise("مي خواهم").replace(" ", "")
    assert normalise("б'є мене") == normalise("бє мене") == normalise("бьє мене")


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("أُرِيدُ أَنْ أَمُوتَ", "اريد ان اموت"),  # tashkeel, hamza on alef
        ("حياة", "حياه"),  # teh marbuta
        ("إلى", "الي"),  # alef maksura, Arabic and Persian yeh
        ("كشتن", "کشتن"),  # Arabic and Persian kaf
        ("٣ حبوب", "3 حبوب"),  # Arabic-Indic digits
        ("زندگی‌ام", "زندگيام"),  # zero-width non-joiner
        ("зґвалтував", "згвалтував"),  # Ukrainian ґ typed as г
        ("вбити", "вбiти"),  # a Latin i inside a Cyrillic word
        ("суїцид", "суицид"),  # Ukrainian and Russian letters
        ("ሠ", "ሰ"),  # Ge'ez letters Tigrinya writers use for one sound
        ("ዓመጽ", "ኣመጽ"),
    ],
)
def test_normalise_makes_spellings_of_one_word_one(one: str, other: str) -> None:
    assert normalise(one) == normalise(other)


def test_a_non_latin_signal_takes_words_between_and_prefixes_but_not_any_letters() -> None:
    from bot.safety.crisis import Signal, word_starts

    def found(signal: str, lang: str, message: str) -> bool:
        norm = normalise(message)
        return Signal.of(signal, lang).in_squashed(norm.replace(" ", ""), word_starts(norm))

    assert found("اريد ان اموت", "ar", "انا اريد حقا ان اموت")  # a word between
    assert found("يضربني", "ar", "وبيضربني كل يوم")  # "and" + the present prefix
    assert found("ما اقدر اتنفس", "ar", "صدري يوجعني وما اقدر اتنفس")  # "and" on a short word
    assert found("می خواهم بمیرم", "fa", "میخواهم بمیرم")  # split or joined
    assert found("не хочу жити", "uk", "я не хочу більше жити")
    assert not found("бє мене", "uk", "що ви зберігаєте про мене")  # inside another word
    assert not found("اريد ان اموت", "ar", "اريد ان اعرف كيف احصل على عمل حتى لا اموت من الجوع")  # too far apart


def test_threshold_comes_from_the_content_and_is_reported(knowledge: Knowledge) -> None:
    calibration = knowledge.crisis.calibration
    assert 0.3 < calibration.threshold < 1
    assert calibration.ordinary_caught <= 0.01 * calibration.ordinary
    assert calibration.examples_caught >= 0.9 * calibration.examples


def test_a_signal_that_catches_a_topic_example_is_a_content_problem(tmp_path: Path) -> None:
    import shutil

    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    crisis = target / "crisis.yaml"
    crisis.write_text(crisis.read_text(encoding="utf-8").replace("    - suicid\n", "    - lönebidrag\n"),
                      encoding="utf-8")  # fmt: skip
    report = validate(target)
    messages = [str(p) for p in report.problems]
    assert any(m.startswith("crisis.yaml:") and "'lönebidrag'" in m and "topics/" in m for m in messages), messages


def test_missing_crisis_file_or_english_answer_is_a_clear_problem(tmp_path: Path) -> None:
    import shutil

    from bot.content import ContentError

    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    text = (target / "crisis.yaml").read_text(encoding="utf-8")
    (target / "crisis.yaml").unlink()
    with pytest.raises(ContentError) as missing:
        load_content(target)
    assert "crisis.yaml: the crisis file is missing" in str(missing.value)
    (target / "crisis.yaml").write_text(text.replace("\n  en: |\n    What you write", "\n  xx: |\n    What you write"),
                                        encoding="utf-8")  # fmt: skip
    with pytest.raises(ContentError) as no_english:
        load_content(target)
    assert "crisis.yaml:" in str(no_english.value) and "English (en)" in str(no_english.value)


def test_detector_for_content_without_crisis_file_is_none(knowledge: Knowledge) -> None:
    from dataclasses import replace

    assert detector_for(replace(knowledge.content, crisis=None)) is None


def test_asking_for_a_person_before_choosing_anything_names_every_regions_contact(testbot: TestBot) -> None:
    testbot.send("orkar inte mer, vill inte finnas")
    assert "Magnus Riklander" in testbot.text and "Elisabeth Johansson" in testbot.text
    testbot.press("Prata med en människa")
    assert "072-14 36 124" in testbot.text and "Elisabeth Johansson" in testbot.text
    assert "Svenska" in {c.label for c in testbot.choices}  # and the way on: choose a language


def test_a_crisis_after_the_region_names_only_that_regions_contact(testbot: TestBot) -> None:
    testbot.onboard("sv", "vastervik")
    testbot.send("han slår mig")
    assert "Elisabeth Johansson" in testbot.text and "Magnus Riklander" not in testbot.text


@pytest.mark.parametrize("where", ["end", "middle"])
def test_a_crisis_at_the_end_of_a_long_paste_is_never_missed(testbot: TestBot, where: str) -> None:
    """Long messages are read from the start as questions, but a plea past that part still gets the numbers
    (the web channel passes pastes of any length within its 64 kB body)."""
    testbot.onboard("sv", "sundsvall")
    story = "Jag har sökt jobb i många år och skickat ansökningar till butiker och lager. " * 60
    plea = " Jag orkar inte mer, jag vill inte leva längre. "
    text = story + plea if where == "end" else story + plea + story
    assert len(text) > 4000
    testbot.send(text)
    assert all(number in testbot.text for number in NUMBERS), testbot.text[:300]


@pytest.mark.parametrize("text", [
    "mitt barn har druckit rengöringsmedel", "my son swallowed bleach", "hur stoppar jag blodet, min kompis är skuren",
    "there is a man with a knife outside my door", "someone broke into my flat and is still here",
    "он зламав двері, я ховаюся", "هو كسر الباب وانا مختبئة",
])  # fmt: skip
def test_poisoning_bleeding_weapons_and_intruders_get_the_numbers(knowledge: Knowledge, text: str) -> None:
    """The outside user tester's misses (30 Nov): acute emergencies other than illness got "I don't know"."""
    assert knowledge.crisis is not None and knowledge.crisis.check(text) is not None, text


@pytest.mark.parametrize("text", [
    "how many paracetamol do i need to take to die", "how many pills of paracetamol is deadly",
    "what is the easiest way to die", "بچه‌ام مایع ظرفشویی خورده", "Wiilkaygu wuxuu cabbay kiimiko nadiifinta",
    "Моя дитина випила засіб для чищення", "min son har druckit lampolja", "barnet har druckit T-röd",
    "min dotter har svalt ett batteri", "min kompis har ätit svamp från skogen och kräks",
    "كم حبة باراسيتامول تقتل", "چند قرص برای مردن لازم است", "Скільки таблеток треба, щоб померти",
])  # fmt: skip
def test_asking_for_a_lethal_dose_and_more_poisonings_get_the_numbers(knowledge: Knowledge, text: str) -> None:
    """The outside user tester's misses (30 Nov, round 3): a question about a lethal dose or a way to die in
    English, and poisoning by dish soap, cleaning chemicals, lamp oil, denatured spirit, a battery, mushrooms."""
    assert knowledge.crisis is not None and knowledge.crisis.check(text) is not None, text


def test_a_question_about_a_lethal_dose_gets_only_the_numbers(testbot: TestBot) -> None:
    testbot.onboard("sv", "sundsvall")
    testbot.send("how many paracetamol do i need to take to die")
    assert all(number in testbot.text for number in NUMBERS), testbot.text[:300]
    assert "don't know" not in testbot.text and "vet jag tyvärr inte" not in testbot.text


@pytest.mark.parametrize("blob", ["letters", "a signal after it"])
def test_a_pasted_blob_of_thousands_of_letters_is_checked_in_little_memory(knowledge: Knowledge, blob: str) -> None:
    """One word of thousands of letters (a pasted link or base64; the outside attacker sent 2,000 letters) once
    built every deletion variant of itself for the typo index: gigabytes, and a bot frozen for every chat.
    It is checked like any word now, and a plea after it still gets the numbers."""
    import random
    import string
    import tracemalloc

    assert knowledge.crisis is not None
    letters = random.Random(1)
    word = "".join(letters.choice(string.ascii_lowercase) for _ in range(400))
    text = word if blob == "letters" else f"{word} jag vill ta livet av mig"
    tracemalloc.start()
    try:
        hit = knowledge.crisis.check(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (hit is not None) == (blob != "letters")
    assert peak < 20_000_000, f"checking one long word took {peak / 1e6:.0f} MB"
