"""`socialbot review`: unanswered questions become content, on a copy of the real content, byte for byte."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import review
from bot.knowledge import Knowledge
from bot.storage import open_store
from tests.conftest import CONTENT, ROOT, shared_cache
from tests.transcript import Clock, TestBot

CARPENTER = "could I try being a carpenter for a while"  # on topic (work training), in English


def socialbot(content: Path, state: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    # The timeout only guards against a hang: a write trains a matcher, minutes on a loaded machine.
    return subprocess.run(
        [sys.executable, "-m", "bot", "--content", str(content), "--state", str(state), *args],
        cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def files(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()
    }


@pytest.fixture
def content(tmp_path: Path) -> Path:
    copy = tmp_path / "content"
    shutil.copytree(CONTENT, copy)
    return copy


def record(state: Path, *questions: tuple[str, str], start: datetime | None = None) -> None:
    """Questions kept as unanswered, one an hour from `start`, as the engine keeps them (text, chat language)."""
    store = open_store(state)
    moment = start or datetime(2026, 11, 23, 9, tzinfo=UTC)
    try:
        for text, lang in questions:
            store.record_unanswered(now=moment, region="sundsvall", lang=lang, text=text)
            moment += timedelta(hours=1)
    finally:
        store.close()


def test_a_fallback_in_a_conversation_reaches_the_review_list(knowledge: Knowledge, tmp_path: Path,
                                                               clock: Clock) -> None:  # fmt: skip
    state = tmp_path / "state"
    bot = TestBot(knowledge, state, clock)
    try:
        bot.onboard("sv", "sundsvall")
        bot.send("vad blir det för väder imorgon, jag heter Anna Svensson")
        clock.advance(days=1)
        bot.send("Vad blir det för väder imorgon?")
        bot.send("vad kostar busskortet")
    finally:
        bot.close()
    listed = socialbot(CONTENT, state, "review", "--list")
    assert listed.returncode == 0, listed.stderr
    lines = [line.split("\t") for line in listed.stdout.splitlines()]
    assert lines[0] == ["q3", "asked 1 time", "vad kostar busskortet"]  # newest first, by its stable id
    assert lines[1][:2] == ["q1", "asked 2 times"] and "väder" in lines[1][2]
    assert "Anna" not in listed.stdout and "Svensson" not in listed.stdout  # scrubbed, as the engine keeps it
    as_json = json.loads(socialbot(CONTENT, state, "review", "--list", "--json").stdout)
    assert [(g["id"], g["asked"], g["lang"]) for g in as_json] == [("q3", 1, "sv"), ("q1", 2, "sv")]
    assert as_json[0]["example"] == "vad kostar busskortet"


def test_assign_adds_exactly_one_line_in_the_examples_language(content: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    record(state, (CARPENTER, "sv"), ("kan jag bli tandläkare", "sv"), (CARPENTER + "?", "sv"),
           ("vad blir det för väder", "sv"))  # fmt: skip
    before = files(content)
    listed = socialbot(content, state, "review", "--list").stdout.splitlines()
    assert listed[1] == f"q1\tasked 2 times\t{CARPENTER}"
    record(state, ("en helt ny fråga om glass", "sv"), start=datetime(2026, 11, 24, 9, tzinfo=UTC))

    result = socialbot(content, state, "review", "--assign", "q1", "work-training")

    assert result.returncode == 0, result.stderr
    assert "the bot now answers it with the topic 'work-training'" in result.stdout
    after = files(content)
    changed = [name for name in before if before[name] != after[name]]
    assert changed == ["topics/work-training.yaml"] and set(after) == set(before)
    old = before["topics/work-training.yaml"].decode().splitlines(keepends=True)
    new = after["topics/work-training.yaml"].decode().splitlines(keepends=True)
    assert len(new) == len(old) + 1
    added = next(i for i, (a, b) in enumerate(zip([*old, ""], new, strict=False)) if a != b)
    assert new[added] == f"    - {CARPENTER}\n"
    assert new[:added] + new[added + 1 :] == old  # every other byte as it was: comments, order, quoting
    # in the English list (the chat was Swedish, the question is not), right after its last example
    assert old[added - 1].startswith("    - ") and not old[added].startswith("    - ")
    assert next(line for line in reversed(old[:added]) if not line.startswith("    ")) == "  en:\n"
    assert f"topics/work-training.yaml:{added + 1};" in result.stdout

    # the id still means what --list showed, although a new question arrived since
    remaining = socialbot(content, state, "review", "--list").stdout
    assert CARPENTER not in remaining and "tandläkare" in remaining and "glass" in remaining


def test_a_list_number_is_refused_with_its_id_and_the_id_still_means_the_group_listed(content: Path,
                                                                                        tmp_path: Path) -> None:  # fmt: skip
    """The outside tester's P7-a: a question came in between `--list` and `--assign 1`, someone listed again, and the
    number then meant the new question, whose text (with an address) went into the content."""
    state = tmp_path / "state"
    record(state, (CARPENTER, "sv"), ("vad blir det för väder", "sv"))
    before = files(content)
    assert socialbot(content, state, "review", "--list").stdout.splitlines()[1] == f"q1\tasked 1 time\t{CARPENTER}"
    record(state, ("jag bor på Storgatan 12, hur får jag bostadsbidrag", "sv"),
           start=datetime(2026, 11, 24, 9, tzinfo=UTC))  # fmt: skip
    listed_again = socialbot(content, state, "review", "--list").stdout.splitlines()  # by a colleague
    assert [line.split("\t")[0] for line in listed_again] == ["q3", "q2", "q1"]  # ids stay; numbers moved

    by_number = socialbot(content, state, "review", "--assign", "2", "work-training")

    assert by_number.returncode == 2 and files(content) == before
    assert "list number" in by_number.stderr and "In the list shown last, 2 was q2 ('vad blir det för väder')" in (
        by_number.stderr)
    assert len(socialbot(content, state, "review", "--list").stdout.splitlines()) == 3, "nothing was dropped"
    by_id = socialbot(content, state, "review", "--assign", "q1", "work-training")
    assert by_id.returncode == 0, by_id.stderr
    changed = [name for name in before if before[name] != files(content)[name]]
    assert changed == ["topics/work-training.yaml"] and CARPENTER in files(content)[changed[0]].decode()
    assert "Storgatan" not in files(content)[changed[0]].decode()


def test_a_group_whose_example_changed_since_it_was_listed_is_refused_until_listed_again(content: Path,
                                                                                          tmp_path: Path) -> None:  # fmt: skip
    state = tmp_path / "state"
    record(state, ("kan jag ta med min hund", "sv"))
    socialbot(content, state, "review", "--list")
    record(state, ("kan jag ta med min hund?", "sv"), ("kan jag ta med min hund?", "sv"),
           start=datetime(2026, 11, 24, 9, tzinfo=UTC))  # the same question: its most common wording changes
    refused = socialbot(content, state, "review", "--dismiss", "q1")
    assert refused.returncode == 2 and "has changed since it was listed" in refused.stderr
    assert "'kan jag ta med min hund?'" in refused.stderr
    assert socialbot(content, state, "review", "--list").stdout == "q1\tasked 3 times\tkan jag ta med min hund?\n"
    dismissed = socialbot(content, state, "review", "--dismiss", "q1")
    assert dismissed.returncode == 0 and socialbot(content, state, "review", "--list").stdout == ""


def test_a_failing_write_leaves_the_file_untouched(content: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    # an out-of-scope example of the content: as an example of a topic too, validate fails
    record(state, ("kommer det regna i helgen", "sv"))
    before = files(content)

    result = socialbot(content, state, "review", "--assign", "q1", "funding", "--lang", "sv")

    assert result.returncode == 1
    assert "topics/funding.yaml:" in result.stderr and "would" in result.stderr  # FILE:LINE: why
    assert "Nothing was changed: topics/funding.yaml is as it was." in result.stderr
    assert files(content) == before
    assert "kommer det regna i helgen" in socialbot(content, state, "review", "--list").stdout


def test_the_write_is_undone_when_the_list_cannot_be_updated(content: Path) -> None:
    before = files(content)

    def database_fails() -> None:
        raise OSError("disk full")

    with pytest.raises(review.ReviewError, match="disk full") as failure:
        review.add_example(content, "work-training", CARPENTER, "en", also=database_fails)
    assert "is as it was" in str(failure.value)
    assert files(content) == before


def test_unknown_topic_duplicate_and_unknown_group_are_clear_messages(content: Path, tmp_path: Path) -> None:
    before = files(content)
    with pytest.raises(review.ReviewError, match="Did you mean work-training"):
        review.add_example(content, "work-trainig", CARPENTER, "en")
    with pytest.raises(review.ReviewError, match=r"already an example in topics/work-training\.yaml"):
        review.add_example(content, "work-training", "Praktik ?", "sv")
    state = tmp_path / "state"
    record(state, ("praktik?", "sv"))
    missing = socialbot(content, state, "review", "--dismiss", "q7")
    assert missing.returncode == 2 and "there is no group q7" in missing.stderr
    dismissed = socialbot(content, state, "review", "--dismiss", "q1")
    assert dismissed.returncode == 0 and "praktik?" in dismissed.stdout
    assert socialbot(content, state, "review", "--list").stdout == ""
    assert files(content) == before


def test_interactive_walk_newest_first_out_of_scope_dismiss_and_skip(content: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    record(state, ("hur bokar jag tvättstugan", "sv"), ("kan jag ta med min hund", "sv"),
           ("vad kostar en pizza på stan", "sv"))  # fmt: skip
    before = files(content)
    knowledge = Knowledge.load(content, cache_dir=shared_cache())  # unchanged yet: the run's trained matcher
    store = open_store(state)
    out = io.StringIO()
    try:
        review.walk(store, content, state, knowledge.matcher, knowledge.content,
                    io.StringIO("o\nbogus\nd\n\n"), out, datetime.now(UTC))  # fmt: skip
        left = [q.text for q in store.unanswered_questions()]
    finally:
        store.close()
    text = out.getvalue()
    assert text.index("pizza") < text.index("hund") < text.index("tvättstugan")  # newest first
    assert "to the out-of-scope examples at out_of_scope.yaml:" in text
    assert "not done: there is no topic 'bogus'" in text and "dismissed: 'kan jag ta med min hund'" in text
    assert left == ["hur bokar jag tvättstugan"]  # skipped, so still to review
    after = files(content)
    assert [n for n in before if before[n] != after[n]] == ["out_of_scope.yaml"]
    old = before["out_of_scope.yaml"].decode().splitlines(keepends=True)
    new = after["out_of_scope.yaml"].decode().splitlines(keepends=True)
    assert [line for line in new if line not in old] == ["    - vad kostar en pizza på stan\n"]
    assert len(new) == len(old) + 1


def test_every_content_file_survives_the_round_trip_byte_for_byte() -> None:
    """What `review` relies on: the files it writes come back from ruamel.yaml exactly as they were."""
    yaml = review._yaml()
    for path in [*sorted((CONTENT / "topics").glob("*.yaml")), CONTENT / review.OUT_OF_SCOPE_FILE]:
        text = path.read_text(encoding="utf-8")
        out = io.StringIO()
        yaml.dump(yaml.load(text), out)
        assert out.getvalue() == text, path.name


def test_only_added_refuses_any_other_change() -> None:
    assert review._only_added("a\nb\n", "a\nx\nb\n") == [2]
    with pytest.raises(review.ReviewError, match="layout"):
        review._only_added("a: 'x'\nb\n", 'a: "x"\nb\nc\n')


def test_an_example_in_a_translated_language_goes_to_its_language_file(content: Path) -> None:
    before = files(content)
    text = "ابي اسوي تدريب عمل في شركة اجتماعية"
    written = review.add_example(content, "work-training", text, "ar")
    after = files(content)
    assert written.file == "languages/ar.yaml"
    assert [n for n in before if before[n] != after[n]] == ["languages/ar.yaml"]
    old = before["languages/ar.yaml"].decode().splitlines(keepends=True)
    new = after["languages/ar.yaml"].decode().splitlines(keepends=True)
    assert (
        new[written.line - 1] == f"      - {text}\n" and new[: written.line - 1] + new[written.line :] == old
    )
    topic_line = next(line for line in reversed(new[: written.line]) if re.match(r"  [\w-]+:$", line))
    assert topic_line == "  work-training:\n"
    with pytest.raises(review.ReviewError, match="no examples in 'de'"):
        review.add_example(content, "work-training", "kann ich ein Praktikum machen", "de")
    assert files(content) == after


def test_a_thumbs_down_question_is_reviewed_but_not_counted_as_unanswered(tmp_path: Path) -> None:
    from bot.stats import build_report

    store = open_store(tmp_path)
    try:
        now = datetime(2026, 11, 23, 9, tzinfo=UTC)
        store.record_unanswered(now=now, region="sundsvall", lang="sv", text="vad blir det för väder")
        store.record_unanswered(
            now=now, region="sundsvall", lang="sv", text="får jag lön", reason="unhelpful"
        )
        groups = review.current_groups(store)
        assert [(g.example, g.unhelpful) for g in groups] == [
            ("får jag lön", 1),
            ("vad blir det för väder", 0),
        ]
        report = build_report(store, None, None, {})
        assert [row.label for row in report.unanswered] == [
            "vad blir det för väder"
        ]  # the bot's fallbacks only
    finally:
        store.close()


def test_an_admin_button_for_a_group_whose_example_changed_shows_the_card_again(knowledge: Knowledge,
                                                                                tmp_path: Path) -> None:  # fmt: skip
    """/review in an admin chat: the buttons carry the group's id and its example's digest."""
    state = tmp_path / "state"
    record(state, ("kan jag ta med min hund", "sv"))
    store = open_store(state)
    try:
        card = review.admin_card(store, knowledge.matcher, knowledge.content)
        assert "(q1)" in card.text
        dismiss = next(c.data for c in card.choices if c.data.startswith("rv:d:1."))
        for _ in range(2):  # the same question twice more: the group's most common wording changes
            store.record_unanswered(now=datetime(2026, 11, 24, 9, tzinfo=UTC), region="sundsvall", lang="sv",
                                    text="kan jag ta med min hund?")  # fmt: skip
        again = review.admin_press(store, CONTENT, dismiss, knowledge.matcher, knowledge.content).card
        assert "har ändrats sedan den visades" in again.text and "kan jag ta med min hund?" in again.text
        assert len(store.unanswered_questions()) == 3, "nothing was dropped"
        fresh = next(c.data for c in again.choices if c.data.startswith("rv:d:1."))
        done = review.admin_press(store, CONTENT, fresh, knowledge.matcher, knowledge.content).card
        assert "Borttagen" in done.text and store.unanswered_questions() == []
    finally:
        store.close()


@pytest.mark.parametrize("bom, newline", [(b"\xef\xbb\xbf", b"\r\n"), (b"", b"\r\n"), (b"\xef\xbb\xbf", b"\n")])
def test_a_file_saved_on_windows_gains_one_line_in_its_own_style(content: Path, bom: bytes, newline: bytes) -> None:
    """A byte order mark and CRLF line ends (Notepad) are kept; the file was refused as 'layout not kept'."""
    path = content / "topics" / "work-training.yaml"
    path.write_bytes(bom + path.read_bytes().replace(b"\n", newline))
    old = path.read_bytes()
    written = review.add_example(content, "work-training", CARPENTER, "en")
    new = path.read_bytes()
    assert new.startswith(bom) and new.count(newline) == old.count(newline) + 1
    old_lines, new_lines = old.split(newline), new.split(newline)
    assert new_lines[written.line - 1] == f"    - {CARPENTER}".encode()
    assert new_lines[: written.line - 1] + new_lines[written.line :] == old_lines


SCRUBBED = "jag heter [namn] och bor på [adress] i Sundsvall, ring [telefon] om bostadsbidrag"


def test_an_example_with_removed_personal_data_is_refused_without_a_person_to_ask(content: Path,
                                                                                    tmp_path: Path) -> None:  # fmt: skip
    """The outside tester's U6-d: `--assign` wrote [namn]/[adress]/[telefon] into the content without a word; such an
    example teaches the matcher the markers, not the question. Without a terminal to ask at, it is refused (exit 2,
    nothing written) unless --force, or an edited example is given with --text."""
    state = tmp_path / "state"
    record(state, (SCRUBBED, "sv"))
    before = files(content)
    assert socialbot(content, state, "review", "--list").stdout == f"q1\tasked 1 time\t{SCRUBBED}\n"

    refused = socialbot(content, state, "review", "--assign", "q1", "work-training")

    assert refused.returncode == 2 and files(content) == before
    assert "removed personal data ([namn], [adress], [telefon])" in refused.stderr, refused.stderr
    assert "--text" in refused.stderr and "--force" in refused.stderr
    assert "q1" in socialbot(content, state, "review", "--list").stdout, "the group is kept"

    edited = socialbot(content, state, "review", "--assign", "q1", "work-training", "--text",
                       "jag vill prova arbetsträning som snickare")  # fmt: skip
    assert edited.returncode == 0, edited.stderr
    written = files(content)["topics/work-training.yaml"].decode()
    assert "    - jag vill prova arbetsträning som snickare\n" in written and "[namn]" not in written
    assert socialbot(content, state, "review", "--list").stdout == ""

    record(state, (SCRUBBED, "sv"), start=datetime(2026, 11, 25, 9, tzinfo=UTC))
    again = socialbot(content, state, "review", "--list").stdout.split("\t")[0]
    still = socialbot(content, state, "review", "--out-of-scope", again, "--text", "ring [telefon]")
    assert still.returncode == 2 and "[telefon]" in still.stderr, "an edited example is checked too"
    forced = socialbot(content, state, "review", "--out-of-scope", again, "--force")
    assert forced.returncode == 0, forced.stderr
    assert SCRUBBED in files(content)["out_of_scope.yaml"].decode()


def test_the_walk_asks_before_adding_an_example_with_removed_personal_data(content: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    record(state, (SCRUBBED, "sv"))
    before = files(content)
    shown = subprocess_walk(content, state, "work-training\nn\nq\n")
    assert "removed personal data ([namn], [adress], [telefon])" in shown and "add it anyway? [y/N]" in shown
    assert files(content) == before and "0 group(s) handled" in shown
    shown = subprocess_walk(content, state, "work-training\ny\n")
    assert "1 group(s) handled" in shown and SCRUBBED in files(content)["topics/work-training.yaml"].decode()


def subprocess_walk(content: Path, state: Path, answers: str) -> str:
    result = socialbot(content, state, "review", stdin=answers)
    assert result.returncode == 0, result.stderr
    return result.stdout
