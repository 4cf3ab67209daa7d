"""Languages as data: the language list and files, fallbacks, what `validate` catches (FILE:LINE), the
language of a message, and the evaluation sets of the new languages and of the notices.

The evaluation sets (tests/eval/languages/*.yaml, tests/eval/notices.yaml) were written without seeing the
content; they are never copied into it. `python -m tests.test_languages` prints every figure.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

import bot.stats.report as report_module
from bot.channels.telegram import COMMANDS, command_lists
from bot.content import ContentError, load_content
from bot.content.languages import Localized, fallbacks, same_language
from bot.content.validator import validate
from bot.dialog import texts
from bot.dialog.core import Context, step
from bot.dialog.model import Capabilities, State, TextMessage, View
from bot.knowledge import Knowledge
from bot.language import LanguageDetector, main_script
from bot.matching.normalize import fold
from bot.stats import build_report
from tests.conftest import CONTENT
from tests.transcript import TestBot, all_text

EVAL = Path(__file__).parent / "eval"
NEW_LANGUAGES = ("ar", "fa", "so", "ti", "uk")
TOPIC_FLOOR = 0.90
LANGUAGE_FLOOR = 0.95
SIMILAR = ({"bs", "hr", "sr"},)  # one notice for another of these is as good: they read each other's


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target


# --- the language list and fallbacks ---------------------------------------------------------------


def test_every_listed_language_with_a_file_is_offered(knowledge: Knowledge) -> None:
    content = knowledge.content
    listed = list(content.language_info)
    assert listed[:2] == ["sv", "en"]
    for code in listed:
        has_file = code in ("sv", "en") or (CONTENT / "languages" / f"{code}.yaml").exists()
        assert (code in content.languages) == has_file, code
    assert content.language("ar").dir == "rtl" and content.language("fa").dir == "rtl"
    assert content.language("sv").dir == "ltr" and not content.is_draft("sv")


def test_a_missing_text_falls_back_instead_of_failing() -> None:
    assert fallbacks("ar") == ("ar", "en", "sv")
    assert fallbacks("sv-x-easy") == ("sv-x-easy", "sv", "en")
    text = Localized(sv="Hej", en="Hi")
    assert text["ar"] == "Hi" and text["sv-x-easy"] == "Hej" and text.lang_of("so") == "en"
    assert same_language("sv", "sv-x-easy") and not same_language("sv", "en")


def test_the_dialog_texts_come_from_the_content(knowledge: Knowledge) -> None:
    content = knowledge.content
    assert content.text("fallback", "sv", region="Sundsvall", contact_name="A", contact_phone="1").startswith(
        "Det vet jag tyvärr inte"
    )
    for code in content.languages:
        welcome = content.text("welcome", code)
        assert welcome and "{" not in welcome
    # A text a language lacks is shown in its fallback, never a crash.
    assert content.text("menu", "xx") == content.text("menu", "en")


def test_translated_answers_are_used_and_fall_back(knowledge: Knowledge) -> None:
    content = knowledge.content
    region = content.regions["sundsvall"]
    for code in content.languages:
        for topic in content.topics.values():
            answer = topic.answer(region, code)
            assert answer and "{" not in answer, (code, topic.id)
    topic = content.topics["wage-subsidy"]
    assert topic.answer_lang(region, "xx") == "en"


def test_placeholder_values_are_translated(knowledge: Knowledge) -> None:
    """{contact_role}, {region}, the meeting place and the listings are filled in the reader's language."""
    content = knowledge.content
    for region in content.regions.values():
        for code in content.languages:
            if code in ("sv", "en"):
                continue
            base = "sv" if code.startswith("sv") else "en"
            if code != "sv-x-easy":
                assert region.contact.role[code] != region.contact.role[base], (region.id, code)
            assert region.contact.role.lang_of(code) == code, (region.id, code)  # type: ignore[attr-defined]
            assert region.name.lang_of(code) in (code, base), (region.id, code)  # type: ignore[attr-defined]
    ar = content.text("book_intro", "ar", contact_name="X", contact_role=content.regions["vastervik"].contact.role["ar"],
                      region=content.regions["vastervik"].name["ar"], minutes=45, place="")  # fmt: skip
    assert "deputy" not in ar and "biträdande" not in ar


def test_a_missing_contact_role_is_a_warning_in_a_draft_language(content_copy: Path) -> None:
    ti = content_copy / "languages" / "ti.yaml"
    if not ti.exists():
        pytest.skip("needs content/languages/ti.yaml")
    lines = ti.read_text(encoding="utf-8").splitlines(keepends=True)
    ti.write_text("".join(line for line in lines if not line.startswith("    contact_role:")), encoding="utf-8")
    content = load_content(content_copy)
    assert content.regions["sundsvall"].contact.role["ti"] == content.regions["sundsvall"].contact.role["en"]
    warned = [p for p in content.warnings if p.file == "languages/ti.yaml" and "contact_role" in p.message]
    assert len(warned) == 2 and all(p.warning and p.line for p in warned), warned


def test_every_language_has_its_telegram_command_list(knowledge: Knowledge) -> None:
    content = knowledge.content
    lists = command_lists(content)
    assert set(lists) == {None, *(code for code in content.languages if code != "en" and "-" not in code)}
    for code, commands in lists.items():
        lang = code or "en"
        assert [name for name, _ in commands] == list(COMMANDS)
        assert all(0 < len(text) <= 256 for _, text in commands)
        assert [text for _, text in commands] == [content.text(f"command_{name}", lang) for name in COMMANDS]
        if lang not in ("sv", "en"):  # written in the language, not the English fallback
            assert all(content.texts[f"command_{name}"].lang_of(lang) == lang for name in COMMANDS), lang


# --- what validate catches, with FILE:LINE ----------------------------------------------------------


def test_validate_catches_a_missing_text_and_a_missing_placeholder(content_copy: Path) -> None:
    ar = content_copy / "languages" / "ar.yaml"
    if not ar.exists():
        pytest.skip("needs content/languages/ar.yaml")
    # A reviewed language must have every text: drop one.
    data = yaml.safe_load(ar.read_text(encoding="utf-8"))
    lines = ar.read_text(encoding="utf-8").splitlines(keepends=True)
    dropped = next(i for i, line in enumerate(lines) if line.startswith("  menu_about:"))
    del lines[dropped]
    text = "".join(lines).replace("status: draft", "status: reviewed", 1)
    text = text.replace("reviewed_by: null", "reviewed_by: Test Person", 1).replace("reviewed: null", "reviewed: 2026-11-01", 1)
    ar.write_text(text, encoding="utf-8")
    _edit(content_copy / "languages.yaml", "{code: ar, name: العربية, dir: rtl, status: draft}",
          "{code: ar, name: العربية, dir: rtl, status: reviewed, reviewed_by: Test Person, reviewed: 2026-11-01}")  # fmt: skip
    # A placeholder left out of a translated dialog text.
    fallback = data["texts"]["fallback"]
    assert "{contact_phone}" in fallback
    _edit(ar, fallback.replace("\n", "\\n").split("{contact_phone}")[0][-20:] + "{contact_phone}",
          fallback.replace("\n", "\\n").split("{contact_phone}")[0][-20:] + "")  # fmt: skip
    report = validate(content_copy)
    messages = [str(p) for p in report.problems]
    assert not report.ok
    assert any(m.startswith("languages/ar.yaml:") and "menu_about" in m and "warning" not in m for m in messages), messages
    assert any(m.startswith("languages/ar.yaml:") and "lacks the placeholder {contact_phone}" in m for m in messages), messages


def test_validate_catches_an_easy_swedish_answer_over_lix_30(content_copy: Path) -> None:
    easy = content_copy / "languages" / "sv-x-easy.yaml"
    if not easy.exists():
        pytest.skip("needs content/languages/sv-x-easy.yaml")
    # An easy-Swedish answer made hard to read.
    hard = (
        "Arbetsförmedlingens handläggningsrutiner beträffande lönebidragsanställningar förutsätter "
        "dokumenterad funktionsnedsättning, arbetsförmågebedömning, arbetsgivarintyg och kompletterande "
        "läkarutlåtanden innan myndighetsbeslut, vilket administrativt försvårar arbetsmarknadsinträdet"
    )
    easy_text = easy.read_text(encoding="utf-8")
    marker = "  wage-subsidy:\n"
    start = easy_text.index(marker)
    answer_at = easy_text.index("    answer: |\n", start) + len("    answer: |\n")
    long_sentence = ", ".join([hard] * 4)  # one long sentence of long words
    easy.write_text(easy_text[:answer_at] + f"      {long_sentence}.\n" + easy_text[answer_at:], encoding="utf-8")

    report = validate(content_copy)
    messages = [str(p) for p in report.problems]
    assert not report.ok
    lix = [m for m in messages if m.startswith("languages/sv-x-easy.yaml:") and "LIX" in m]
    assert lix and "wage-subsidy" in lix[0], messages
    line = int(lix[0].split(":")[1])
    assert "wage-subsidy" in "".join(easy.read_text(encoding="utf-8").splitlines(keepends=True)[line - 5 : line])


def test_a_draft_language_may_have_gaps_but_they_are_listed(content_copy: Path) -> None:
    so = content_copy / "languages" / "so.yaml"
    if not so.exists():
        pytest.skip("needs content/languages/so.yaml")
    lines = so.read_text(encoding="utf-8").splitlines(keepends=True)
    dropped = next(i for i, line in enumerate(lines) if line.startswith("  menu_about:"))
    del lines[dropped]
    so.write_text("".join(lines), encoding="utf-8")
    content = load_content(content_copy)  # a draft language still loads
    assert content.text("menu_about", "so") == content.text("menu_about", "en")
    assert any(p.file == "languages/so.yaml" and p.warning and "menu_about" in p.message for p in content.warnings)


def test_unknown_organisation_topic_and_text_key_are_named(content_copy: Path) -> None:
    uk = content_copy / "languages" / "uk.yaml"
    if not uk.exists():
        pytest.skip("needs content/languages/uk.yaml")
    _edit(uk, '"Skoopi":', '"Skopi":')
    _edit(uk, "\n  menu_about:", "\n  menu_abuot:")
    with pytest.raises(ContentError) as caught:
        load_content(content_copy)
    text = str(caught.value)
    assert "languages/uk.yaml:" in text
    assert "no organisation named 'Skopi'" in text and "did you mean 'Skoopi'" in text
    assert "unknown dialog text 'menu_abuot' (did you mean 'menu_about'?)" in text


def test_a_language_file_not_in_the_list_is_refused(content_copy: Path) -> None:
    (content_copy / "languages" / "de.yaml").write_text("lang: de\nstatus: draft\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"languages/de.yaml:1: the language 'de' is not in languages.yaml"):
        load_content(content_copy)


def test_an_out_of_scope_example_that_a_topic_has_is_refused(content_copy: Path) -> None:
    ti = content_copy / "languages" / "ti.yaml"
    if not ti.exists():
        pytest.skip("needs content/languages/ti.yaml")
    example = yaml.safe_load(ti.read_text(encoding="utf-8"))["topics"]["book-meeting"]["examples"][0]
    text = ti.read_text(encoding="utf-8")
    if "\nout_of_scope:\n" not in text:
        text += "out_of_scope:\n"
    ti.write_text(text.replace("\nout_of_scope:\n", f"\nout_of_scope:\n  - {example}\n", 1), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_content(content_copy)
    assert "is an example of the topic 'book-meeting'" in str(caught.value)
    assert any(p.file == "languages/ti.yaml" and p.line > 1 for p in caught.value.problems)


def test_geez_spelling_variants_are_one_word() -> None:
    # The same Tigrinya words spelt with the old sz/tz letters or without the spirant forms after a vowel.
    assert fold("ብኸመይ") == fold("ብከመይ")
    assert fold("ሠራሕ ፀሓይ") == fold("ሰራሕ ጸሓይ")
    assert fold("ቐጸራ") == fold("ቀጸራ")
    assert fold("ኣብ") != fold("አብ")  # kept apart: they tell Tigrinya from Amharic


def test_the_region_is_understood_written_in_the_readers_script(knowledge: Knowledge, tmp_path: Path, clock) -> None:  # type: ignore[no-untyped-def]
    for lang, written, region in (("ti", "ሱንድስቫል", "sundsvall"), ("uk", "я живу у Вестервіку", "vastervik"),
                                  ("fa", "سوندسوال", "sundsvall"), ("ar", "فسترفيك", "vastervik")):  # fmt: skip
        bot = TestBot(knowledge, tmp_path / lang, clock)
        try:
            bot.send("/start")
            bot.press_data(f"lang:{lang}")
            bot.send(written)
            state = bot.store.load_state(bot.conversation)
            assert state is not None and state.region == region, (lang, written)
        finally:
            bot.close()


def test_an_answer_in_the_questions_language_names_its_switch_button(testbot: TestBot) -> None:
    """An Arabic question in an English chat is answered in Arabic; the hint names the Arabic button beside it,
    never the English words "change language" (outside tester)."""
    testbot.onboard("en", "vastervik")
    replies = testbot.send("كيف أبدأ شركة اجتماعية مع أصدقائي؟")
    answer = next(r for r in replies if r.lang == "ar" and r.choices)
    arabic = testbot.knowledge.content.language("ar").name
    assert any(c.data == "lang:ar" and c.label == arabic for c in answer.choices)
    assert arabic in answer.text and "change language" not in answer.text and "/language" not in answer.text


def test_one_or_two_words_in_a_shared_script_never_switch_or_get_a_notice(testbot: TestBot) -> None:
    """Arabic letters are Arabic, Persian and Pashto; Cyrillic Ukrainian and Russian: a word or two does not say
    which (an outside tester's Persian "سوندسوال" got "I don't understand Pashto yet", and "لغو" turned a Persian
    chat's question into Arabic)."""
    testbot.onboard("fa", "sundsvall")
    for short in ("لغو", "نمیدونم", "مرسی خیلی"):
        replies = testbot.send(short)
        assert all(reply.lang == "fa" for reply in replies), (short, [(r.lang, r.text[:40]) for r in replies])
    testbot.send("/language")
    testbot.press_data("lang:uk")
    for short in ("Привіт", "добре дякую"):
        replies = testbot.send(short)
        assert all(reply.lang == "uk" for reply in replies), (short, [(r.lang, r.text[:40]) for r in replies])


# --- the words the bot reads -------------------------------------------------------------------------


def test_every_language_has_the_words_the_bot_reads(knowledge: Knowledge) -> None:
    content = knowledge.content
    for kind, by_lang in content.words.items():
        for code in content.languages:
            if code.startswith("sv-"):
                continue  # Lätt svenska reads the Swedish words
            assert by_lang.get(code), (kind, code)


def test_words_in_any_language_are_read(testbot: TestBot, clock) -> None:  # type: ignore[no-untyped-def]
    """Thanks, yes and the words for /mybookings, written in Tigrinya, Arabic or Ukrainian in a Swedish chat."""
    testbot.onboard("sv", "sundsvall")
    thanks = testbot.send("የቐንየለይ")
    assert all_text(thanks) == testbot.knowledge.content.text("thanks", "sv")
    testbot.to_confirm("Anna")
    testbot.send("እወ")  # yes, at "shall I book it?"
    assert len(testbot.store.bookings_of(testbot.conversation, clock())) == 1
    listed = testbot.send("мої записи")  # "my bookings" in Ukrainian: the /mybookings command
    assert any(c.data.startswith("cancelbooking:") for r in listed for c in r.choices), all_text(listed)


def test_the_command_words_are_named_in_the_readers_language(knowledge: Knowledge, tmp_path: Path, clock) -> None:  # type: ignore[no-untyped-def]
    web = TestBot(knowledge, tmp_path / "web", clock, capabilities=Capabilities(can_push=False, has_commands=False))
    try:
        assert texts.command_hint("mybookings", "ar", has_commands=False) == '"مواعيدي"'
        assert texts.command_hint("mybookings", "sv-x-easy", has_commands=False) == '"mina bokningar"'
        assert texts.command_hint("mybookings", "ar", has_commands=True) == "/mybookings"
        web.onboard("ar", "sundsvall")
        listed = web.send("مواعيدي")
        assert all(reply.lang == "ar" for reply in listed) and "/mybookings" not in all_text(listed)
    finally:
        web.close()


def test_validate_names_a_word_that_is_both_yes_and_no_and_an_unknown_kind(content_copy: Path) -> None:
    so = content_copy / "languages" / "so.yaml"
    if not so.exists():
        pytest.skip("needs content/languages/so.yaml")
    _edit(so, '  "no": [maya,', '  "no": [haa, maya,')
    _edit(so, "  leave: [", "  leeve: [")
    _edit(content_copy / "words.yaml", "  en: [\"no\", nope,", "  en: [\"no\", yep, nope,")
    with pytest.raises(ContentError) as caught:
        load_content(content_copy)
    messages = [str(p) for p in caught.value.problems]
    assert any(m.startswith("languages/so.yaml:") and "'haa' is both a yes and a no word" in m for m in messages), messages
    assert any(m.startswith("languages/so.yaml:") and "unknown kind of words 'leeve' (did you mean 'leave'?)" in m
               for m in messages), messages  # fmt: skip
    assert any(m.startswith("words.yaml:") and "'yep' is both a yes and a no word" in m for m in messages), messages


def test_a_draft_language_without_some_words_is_warned_and_reads_the_others(content_copy: Path) -> None:
    ti = content_copy / "languages" / "ti.yaml"
    lines = ti.read_text(encoding="utf-8").splitlines(keepends=True)
    ti.write_text("".join(line for line in lines if not line.startswith("  thanks: [")), encoding="utf-8")
    content = load_content(content_copy)
    warned = [p for p in content.warnings if p.file == "languages/ti.yaml" and "no words for: thanks" in p.message]
    assert warned and warned[0].warning and warned[0].line > 1


# --- the language of a message ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def detector(knowledge: Knowledge) -> LanguageDetector:
    return knowledge.matcher.detector


def test_scripts_decide_first(detector: LanguageDetector) -> None:
    assert main_script("شو هو lönebidrag وكيف بحصل عليه؟") == "arabic"
    assert main_script("Näringslivsbolaget ኣብ Sundsvall እንታይ እዩ?") == "ethiopic"
    assert detector.detect("ኣብ Sundsvall ስራሕ ከመይ ጌረ ክረክብ እኽእል?") == "ti"
    assert detector.detect("ሰላም፣ ሥራ እየፈለግሁ ነው፣ ልትረዱኝ ትችላላችሁ?") == "am"
    assert detector.detect("Я шукаю роботу в Сундсвалі") == "uk"
    assert detector.detect("Я ищу работу, что мне делать?") == "ru"


def test_short_latin_messages_never_switch_language(detector: LanguageDetector) -> None:
    assert detector.detect("ok tack") in ("sv", None)
    assert detector.detect("Hola amigo") in ("sv", "en", None)
    assert detector.detect("samordningsförbund waa maxay?") == "so"
    assert detector.detect("vad är lönebidrag för något") == "sv"
    assert detector.detect("what is a wage subsidy") == "en"


def test_swedish_and_english_eval_questions_are_not_taken_for_other_languages(detector: LanguageDetector) -> None:
    items = [*_load("questions.yaml"), *_load("fresh.yaml")]
    wrong = [i["q"] for i in items if detector.detect(i["q"]) not in ("sv", "en", None)]
    assert len(wrong) <= 0.01 * len(items), wrong


# --- statistics by language ------------------------------------------------------------------------


def test_a_question_counts_in_the_language_it_was_written_in(testbot: TestBot, knowledge: Knowledge) -> None:
    """A Swedish chat that asks in Arabic is answered in Arabic and counted in Arabic (the unanswered
    question is kept for review under Arabic too); its Swedish question counts in Swedish."""
    testbot.onboard("sv", "sundsvall")
    replies = testbot.send("أريد أن أعرف ما هو دعم الأجر lönebidrag ومن يحصل عليه")
    assert {reply.lang for reply in replies} == {"ar"}
    replies = testbot.send("هل ستمطر غداً في سوندسفال أم سيكون الجو مشمساً")
    assert {reply.lang for reply in replies} == {"ar"}
    testbot.send("vad är lönebidrag för något")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report_module, "MIN_CONVERSATIONS", 1)  # the raw numbers, nothing hidden
        report = build_report(testbot.store, None, None, {t.id: t.title["sv"] for t in knowledge.content.topics.values()})
    by_lang = {row.key: row for row in report.by_lang}
    assert by_lang["ar"].label == "arabiska"
    assert by_lang["ar"]["fallbacks"].public == 1 and by_lang["sv"]["fallbacks"].public == 0
    assert by_lang["ar"]["messages"].public == 2
    assert [q.lang for q in testbot.store.unanswered_questions()] == ["ar"]


# --- the evaluation sets ----------------------------------------------------------------------------


def _load(name: str) -> list[dict]:
    return yaml.safe_load((EVAL / name).read_text(encoding="utf-8"))


@dataclass
class LanguageScore:
    total: int = 0
    right_topic: int = 0
    in_language: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def topic_rate(self) -> float:
        return self.right_topic / self.total

    @property
    def language_rate(self) -> float:
        return self.in_language / self.total


def _context(knowledge: Knowledge) -> Context:
    return Context(knowledge.content, knowledge.matcher, View(datetime(2026, 12, 1, 9, tzinfo=UTC)))


def evaluate_language(knowledge: Knowledge, lang: str) -> LanguageScore:
    """Each question asked in a Swedish chat: the right topic (or an honest fallback), in the asker's language."""
    score = LanguageScore()
    context = _context(knowledge)
    for item in _load(f"languages/{lang}.yaml"):
        match = knowledge.matcher.match(item["q"])
        outcome = step(State(lang="sv", region="sundsvall"), TextMessage(item["q"]), context)
        score.total += 1
        right = match.topic == item["topic"] or (item["topic"] is not None and match.topic in item.get("also", []))
        score.right_topic += right
        langs = {reply.lang for reply in outcome.replies}
        score.in_language += langs == {lang}
        if not right or langs != {lang}:
            score.misses.append(f"{item['topic']} -> {match.topic}, replies in {sorted(map(str, langs))}: {item['q']}")
    return score


# Measured on 2026-11-29 with the first draft translations: Somali 0.83 and Tigrinya 0.81 right topic (both
# 1.00 in the asker's language); with the two-view matcher Somali reached 0.94 and Tigrinya 0.89; with new
# Tigrinya examples (written for the topics it missed, without reading the questions) and Ge'ez variant
# folding Tigrinya reached 0.94. A language below the floor is listed here with the reason (xfail, strict:
# once it passes, the mark fails the run so that it is removed).
BELOW_FLOOR: dict[str, str] = {}


@pytest.mark.parametrize(
    "lang",
    [pytest.param(code, marks=pytest.mark.xfail(strict=True, reason=BELOW_FLOOR[code])) if code in BELOW_FLOOR
     else code for code in NEW_LANGUAGES],
)  # fmt: skip
def test_new_language_eval_set(knowledge: Knowledge, lang: str) -> None:
    if not (CONTENT / "languages" / f"{lang}.yaml").exists():
        pytest.skip(f"content/languages/{lang}.yaml does not exist yet: no {lang} content to measure")
    score = evaluate_language(knowledge, lang)
    report = f"{lang}: right topic {score.topic_rate:.3f}, answered in {lang} {score.language_rate:.3f}"
    assert score.total >= 30
    assert score.topic_rate >= TOPIC_FLOOR and score.language_rate >= LANGUAGE_FLOOR, (
        report + "\n" + "\n".join(score.misses)
    )


def test_language_eval_questions_are_not_copied_into_the_content(knowledge: Knowledge) -> None:
    examples = {fold(text) for _, _, text in knowledge.content.examples()}
    examples |= {fold(text) for texts in knowledge.content.out_of_scope.values() for text in texts}
    copied = [i["q"] for lang in NEW_LANGUAGES for i in _load(f"languages/{lang}.yaml") if fold(i["q"]) in examples]
    copied += [i["q"] for i in _load("notices.yaml") if fold(i["q"]) in examples]
    assert not copied, f"evaluation questions found in the content: {copied}"


def notice_results(knowledge: Knowledge) -> list[tuple[str, str | None, bool]]:
    """(expected language, notice shown, in its own language with the language buttons) per message."""
    content = knowledge.content
    context = _context(knowledge)
    results = []
    for item in _load("notices.yaml"):
        outcome = step(State(lang="sv", region="sundsvall"), TextMessage(item["q"]), context)
        reply = outcome.replies[0]
        shown = next((code for code, notice in content.notices.items() if reply.text.startswith(
            notice.text.split("{")[0].strip())), None)  # fmt: skip
        buttons = {choice.data for choice in reply.choices}
        offers_languages = all(f"lang:{code}" in buttons for code in content.languages)
        results.append((item["lang"], shown, offers_languages and reply.lang == shown))
    return results


def _same_notice(expected: str, shown: str | None) -> bool:
    return shown == expected or any(expected in group and shown in group for group in SIMILAR)


def test_every_notice_language_gets_its_notice(knowledge: Knowledge) -> None:
    results = notice_results(knowledge)
    assert {lang for lang, _, _ in results} >= {"fi", "pl", "bs", "ku", "tr", "ru", "ps", "es", "fr", "th"}
    wrong = [(lang, shown) for lang, shown, ok in results if not (_same_notice(lang, shown) and ok)]
    assert not wrong, wrong


if __name__ == "__main__":
    loaded = Knowledge.load(CONTENT)
    for code in NEW_LANGUAGES:
        if (CONTENT / "languages" / f"{code}.yaml").exists():
            result = evaluate_language(loaded, code)
            print("\n".join(result.misses))
            print(f"{code}: right topic {result.right_topic}/{result.total} = {result.topic_rate:.3f}, "
                  f"answered in {code} {result.in_language}/{result.total} = {result.language_rate:.3f}")  # fmt: skip
    notices = notice_results(loaded)
    right = sum(_same_notice(lang, shown) and ok for lang, shown, ok in notices)
    print(f"notices: {right}/{len(notices)} in the right language")
