"""The content loads, covers the contract, and every mistake a staff member can make gets FILE:LINE."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import unicodedata
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.content import ContentError, load_content
from bot.content.catalogue import ACTION_TOPICS, LANGUAGES, REGIONS, REQUIRED_TOPICS
from bot.content.validator import content_warnings, validate
from bot.knowledge import Knowledge
from tests.conftest import CONTENT, ROOT, SHARED, shared_cache


def test_required_topics_match_the_shared_spec() -> None:
    spec_path = SHARED / "spec" / "topics.yaml"
    if not spec_path.exists():
        pytest.skip("shared/spec is not beside the repository")
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    assert set(REQUIRED_TOPICS) == set(spec["topics"])
    assert tuple(spec["regions"]) == REGIONS
    assert tuple(spec["languages"]) == LANGUAGES
    actions = {t for t, v in spec["topics"].items() if isinstance(v, dict) and v.get("kind") == "action"}
    assert actions == set(ACTION_TOPICS)


def test_every_topic_answers_in_both_languages_for_both_regions(knowledge: Knowledge) -> None:
    content = knowledge.content
    for topic_id in REQUIRED_TOPICS:
        topic = content.topics[topic_id]
        for region in REGIONS:
            for lang in LANGUAGES:
                answer = topic.answer(content.regions[region], lang)
                assert len(answer) > 40, (topic_id, region, lang)
                assert "{" not in answer, f"unfilled placeholder in {topic_id}/{region}/{lang}"
        assert topic.source and topic.reviewed
        assert all(len(topic.examples[lang]) >= 12 for lang in LANGUAGES)


def test_region_contacts_come_from_the_seeds(knowledge: Knowledge) -> None:
    sundsvall = knowledge.content.regions["sundsvall"].contact
    vastervik = knowledge.content.regions["vastervik"].contact
    assert sundsvall.name == "Magnus Riklander" and sundsvall.phone.replace(" ", "") == "072-1436124"
    assert vastervik.name == "Elisabeth Johansson" and vastervik.email == "elisabeth.johansson@vastervik.se"
    assert vastervik.phone.replace(" ", "") == "0490-255079"


def _numbers(text: str) -> set[str]:
    """The numbers a text states, in any script's digits: "20 000", "20,000" and "۲۰ ۰۰۰" are all 20000."""
    text = "".join(str(unicodedata.digit(ch)) if ch.isdigit() else ch for ch in PLACEHOLDER_RE.sub(" ", text))
    text = re.sub(r"(?<=\d)[\s\u00a0\u202f\u066c,](?=\d{3}\b)", "", text)
    return set(re.findall(r"\d+", text))


PLACEHOLDER_RE = re.compile(r"\{[a-z_]+\}")  # {contact_phone} is filled in, the same in every language


def test_every_translation_states_the_same_numbers_as_the_swedish(knowledge: Knowledge) -> None:
    """Amounts, dates, years, percentages and paragraphs are facts (../shared/facts.md): a translation that drops
    or changes one says something else than the checked Swedish answer."""
    differences = []
    for topic in knowledge.content.topics.values():
        for (region, lang), text in topic.answers.items():
            swedish = topic.answers.get((region, "sv")) or topic.answers[(None, "sv")]
            if lang != "sv" and _numbers(text) != _numbers(swedish):
                missing, extra = sorted(_numbers(swedish) - _numbers(text)), sorted(_numbers(text) - _numbers(swedish))
                differences.append(f"{topic.id} {region or 'all regions'} {lang}: missing {missing}, extra {extra}")
    assert not differences, differences
    assert _numbers("20 000 kr, ۲۰ ۰۰۰ kr, 300,000 kronor, 2,5 gånger, {contact_phone}") == {"20000", "300000", "2", "5"}


def test_committed_content_validates_cleanly() -> None:
    report = validate(CONTENT, cache_dir=shared_cache())
    assert report.ok, "\n".join(map(str, report.problems))


# --- broken content: each mistake gives FILE:LINE ---------------------------------------------------


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target


def _edit(path: Path, old: str, new: str) -> int:
    """Replace the first `old` and return the 1-based line where it was."""
    text = path.read_text(encoding="utf-8")
    index = text.index(old)
    path.write_text(text[:index] + new + text[index + len(old) :], encoding="utf-8")
    return text[:index].count("\n") + 1


def _problems(directory: Path) -> list[str]:
    with pytest.raises(ContentError) as raised:
        load_content(directory)
    return [str(p) for p in raised.value.problems]


def test_bad_yaml_names_file_and_line(content_copy: Path) -> None:
    line = _edit(content_copy / "topics" / "wise.yaml", "title:", "title: [unclosed\n")
    problems = [p for p in _problems(content_copy) if p.startswith("topics/wise.yaml:")]
    assert len(problems) == 1 and "YAML syntax error" in problems[0]
    assert abs(int(problems[0].split(":")[1]) - line) <= 2


def test_unknown_field_suggests_the_right_one(content_copy: Path) -> None:
    line = _edit(content_copy / "topics" / "funding.yaml", "related:", "relatd:")
    assert f"topics/funding.yaml:{line}: unknown field 'relatd' (did you mean 'related'?)" in _problems(
        content_copy
    )


def test_missing_english_answer(content_copy: Path) -> None:
    path = content_copy / "topics" / "legal-form.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert "answer" in data, "this test needs a topic with a shared answer"
    text = path.read_text(encoding="utf-8")
    start = text.index("\n  en:", text.index("\nanswer:"))
    end = text.index("\n", start + 1)
    while end + 1 < len(text) and text[end + 1] == " " and not text[end + 1 :].startswith("  sv:"):
        end = text.index("\n", end + 1) if "\n" in text[end + 1 :] else len(text)
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    problems = _problems(content_copy)
    assert any(p.startswith("topics/legal-form.yaml:") and "'answer' is missing its English (en) text" in p
               for p in problems), problems  # fmt: skip


def test_missing_region_answer(content_copy: Path) -> None:
    path = content_copy / "topics" / "contact.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.pop("answer", None)
    data["regions"].pop("vastervik")
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    problems = _problems(content_copy)
    assert any("topics/contact.yaml:" in p and "no answer for the region 'vastervik'" in p for p in problems)


def test_unknown_related_topic(content_copy: Path) -> None:
    path = content_copy / "topics" / "start.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    first = data["related"][0]
    text = path.read_text(encoding="utf-8")
    related_at = text.index("related:")
    index = text.index(first, related_at)
    path.write_text(text[:index] + "fundng" + text[index + len(first) :], encoding="utf-8")
    problems = _problems(content_copy)
    assert any(p.startswith("topics/start.yaml:") and "unknown related topic 'fundng'" in p for p in problems)


def test_duplicate_example_across_topics(content_copy: Path, knowledge: Knowledge) -> None:
    example = knowledge.content.topics["wage-subsidy"].examples["sv"][0]
    path = content_copy / "topics" / "funding.yaml"
    line = _edit(path, "examples:\n  sv:\n", f'examples:\n  sv:\n    - "{example}"\n') + 2
    problems = _problems(content_copy)
    # Reported once, at one of the two places, naming the other one with its line.
    assert any(
        (p.startswith(f"topics/funding.yaml:{line}:") and "wage-subsidy" in p)
        or (p.startswith("topics/wage-subsidy.yaml:") and f"topics/funding.yaml:{line}" in p)
        for p in problems
    ), problems


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("072-14 36 124", "072-14 36", "is not a Swedish phone number"),
        ("phone:", "phone: 12\n  old_phone:", "unknown field 'old_phone'"),
    ],
)
def test_region_file_mistakes(content_copy: Path, old: str, new: str, message: str) -> None:
    line = _edit(content_copy / "regions" / "sundsvall.yaml", old, new)
    problems = _problems(content_copy)
    assert any(p.startswith("regions/sundsvall.yaml:") and message in p for p in problems), problems
    assert any(p.startswith(f"regions/sundsvall.yaml:{line}") or p.startswith(f"regions/sundsvall.yaml:{line + 1}")
               for p in problems), problems  # fmt: skip


def test_malformed_email(content_copy: Path) -> None:
    line = _edit(
        content_copy / "regions" / "vastervik.yaml", "elisabeth.johansson@vastervik.se", "elisabeth.johansson"
    )
    assert any(p.startswith(f"regions/vastervik.yaml:{line}:") and "is not an e-mail address" in p
               for p in _problems(content_copy))  # fmt: skip


def test_example_that_collides_with_another_topic_is_reported(content_copy: Path, knowledge: Knowledge) -> None:
    """A new example worded like another topic's is caught by running it through the matcher."""
    borrowed = knowledge.content.topics["benefits"].examples["sv"][1]
    line = _edit(content_copy / "topics" / "network.yaml", "examples:\n  sv:\n",
                 f"examples:\n  sv:\n    - \"{borrowed} ?\"\n") + 2  # fmt: skip
    report = validate(content_copy)
    messages = [str(p) for p in report.problems]
    assert any(m.startswith(f"topics/network.yaml:{line}:") and "benefits" in m for m in messages), messages


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True, text=True, timeout=180
    )


def test_validate_command_exit_codes(content_copy: Path) -> None:
    ok = _run("--content", str(content_copy), "validate")
    assert ok.returncode == 0 and ok.stdout.startswith("ok:"), ok.stdout + ok.stderr
    _edit(content_copy / "topics" / "wise.yaml", "title:", "titel:")
    bad = _run("--content", str(content_copy), "validate")
    assert bad.returncode == 1
    assert "topics/wise.yaml:" in bad.stdout and "unknown field 'titel'" in bad.stdout


@pytest.mark.parametrize("command", [("ask", "hej"), ("chat",)])
def test_broken_content_gives_a_clear_error_not_a_traceback(content_copy: Path, tmp_path: Path,
                                                            command: tuple[str, ...]) -> None:  # fmt: skip
    (content_copy / "topics" / "help.yaml").write_text("id: help\ntitle: [oops\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--content", str(content_copy), "--state", str(tmp_path / "s"), *command],
        cwd=ROOT, capture_output=True, text=True, input="hej\n", timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "topics/help.yaml:" in result.stderr and "YAML syntax error" in result.stderr


def test_unconfirmed_contacts_are_warned_about_until_staff_confirm_them(content_copy: Path) -> None:
    warnings, _ = content_warnings(load_content(content_copy), 6, date(2026, 11, 30))
    warned = {w.file: w for w in warnings if "to be confirmed before going live" in w.message}
    assert set(warned) == {"regions/sundsvall.yaml", "regions/vastervik.yaml"}
    lines = (content_copy / "regions" / "sundsvall.yaml").read_text(encoding="utf-8").splitlines()
    assert lines[warned["regions/sundsvall.yaml"].line - 1].strip().startswith("confirmed:"), "points at the line"
    _edit(content_copy / "regions" / "sundsvall.yaml", "confirmed: null", "confirmed: 2026-11-30")
    content = load_content(content_copy)
    warnings, _ = content_warnings(content, 6, date(2026, 11, 30))
    assert [w.file for w in warnings if "confirmed" in w.message] == ["regions/vastervik.yaml"]
    assert content.regions["sundsvall"].contact.confirmed == date(2026, 11, 30)


def _make_wise_reviewed_long_ago(content: Path) -> int:
    """Set the topic wise's `reviewed` to 2025-01-10, whatever date it has now; return its line."""
    wise = content / "topics" / "wise.yaml"
    reviewed = next(text for text in wise.read_text(encoding="utf-8").splitlines() if text.startswith("reviewed: "))
    return _edit(wise, reviewed, "reviewed: 2025-01-10")


def test_topics_past_the_review_cycle_are_warned_about_and_listed(content_copy: Path) -> None:
    line = _make_wise_reviewed_long_ago(content_copy)
    content = load_content(content_copy)
    warnings, stale = content_warnings(content, 6, date(2026, 11, 30))
    assert stale == ["wise"]
    warning = next(w for w in warnings if w.file == "topics/wise.yaml")
    assert warning.line == line and "2025-01-10" in warning.message
    assert content_warnings(content, 24, date(2026, 11, 30))[1] == []
    result = _run("--content", str(content_copy), "validate", "--review-months", "6")
    assert result.returncode == 0, "an old review date is a warning, not a problem: " + result.stdout + result.stderr
    assert f"topics/wise.yaml:{line}: warning:" in result.stdout
    assert "to review (older than 6 months): wise" in result.stdout
    assert "regions/vastervik.yaml:" in result.stdout and "to be confirmed before going live" in result.stdout


def test_months_before_keeps_the_day_or_takes_the_last_of_a_shorter_month() -> None:
    from bot.content.validator import months_before

    assert months_before(date(2026, 11, 30), 6) == date(2026, 5, 30)
    assert months_before(date(2026, 8, 31), 6) == date(2026, 2, 28)
    assert months_before(date(2026, 3, 15), 15) == date(2024, 12, 15)


def test_the_statistics_report_shows_the_content_age(content_copy: Path, tmp_path: Path) -> None:
    from bot.stats.render import render
    from bot.stats.report import build_report, content_age
    from bot.storage import open_store

    _make_wise_reviewed_long_ago(content_copy)
    content = load_content(content_copy)
    note = content_age(content, date(2026, 11, 30))
    assert "2025-01-10" in note and f"1 of {len(content.topics)} topics are older than 6 months" in note
    store = open_store(tmp_path / "state")
    try:
        report = build_report(store, None, None, {}, content_note=note)
    finally:
        store.close()
    assert note in report.notes and "2025-01-10" in render(report, "html")


def test_a_yaml_syntax_error_is_listed_first_and_its_consequences_not_at_all(content_copy: Path) -> None:
    """A topic file that cannot be read makes every language file's section on it look unknown: staff must see the
    cause (FILE:LINE of the syntax error) first, not after a screen of lines it caused."""
    path = content_copy / "topics" / "wise.yaml"
    line = len(path.read_text(encoding="utf-8").splitlines()) + 1
    with path.open("a", encoding="utf-8") as file:
        file.write("examples: [unclosed\n  - : :\n")
    _edit(content_copy / "regions" / "sundsvall.yaml", "name:", "nam:")  # an unrelated problem, listed after
    problems = _problems(content_copy)
    assert problems[0].startswith("topics/wise.yaml:") and "YAML syntax error" in problems[0], problems
    assert abs(int(problems[0].split(":")[1]) - line) <= 2, problems[0]
    assert not [p for p in problems if "unknown topic 'wise'" in p], problems
    assert any(p.startswith("regions/sundsvall.yaml:") for p in problems[1:]), problems
