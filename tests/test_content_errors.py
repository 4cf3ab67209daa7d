"""A content file broken the ways staff break them (removed, saved in the wrong encoding, a tab, an empty file, a key
twice) gets one clear message at its real FILE:LINE, with the cause first: never a line 0, never a traceback."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import Config
from bot.content import ContentError, load_content
from bot.engine import Engine
from bot.knowledge import Knowledge
from bot.notify.smtp import EmailTransport
from bot.runtime import Runtime
from bot.storage import open_store
from tests.conftest import CONTENT
from tests.test_outbox import MailServer, free_port, settings_for, wait_for
from tests.test_telegram import ADMIN, live_bot, onboard, text_of
from tests.transcript import Clock


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target


def _problems(directory: Path) -> list[str]:
    with pytest.raises(ContentError) as raised:
        load_content(directory)
    return [str(p) for p in raised.value.problems]


def _where(problem: str) -> tuple[str, int]:
    file, line, _ = problem.split(":", 2)
    return file, int(line)


def _line_with(directory: Path, name: str, needle: str, start: int = 1) -> list[int]:
    lines = (directory / name).read_text(encoding="utf-8").splitlines()
    return [n for n, text in enumerate(lines, 1) if needle in text and n >= start]


def test_a_removed_topic_file_is_the_first_problem_at_a_line_that_refers_to_it(content_copy: Path,
                                                                                tmp_path: Path) -> None:  # fmt: skip
    """The outside tester's #6a: the cause was 7th of 9, at line 0."""
    (content_copy / "topics" / "arbetsformedlingen.yaml").rename(tmp_path / "arbetsformedlingen.yaml")
    problems = _problems(content_copy)
    first = problems[0]
    assert "topics/arbetsformedlingen.yaml is missing" in first, problems
    file, line = _where(first)
    assert file.startswith("topics/"), "a topic's own reference is where staff look first"
    assert line in _line_with(content_copy, file, "arbetsformedlingen"), (first, "is not a line naming it")
    references = [p for p in problems[1:] if "'arbetsformedlingen'" in p]
    assert references and f"{len(references)} other lines refer to it" in first
    assert all(_where(p)[1] > 0 for p in problems), "no line 0"
    with pytest.raises(ContentError) as raised:
        load_content(content_copy)
    assert str(raised.value).splitlines()[0] == first, "the admins' message starts with the cause too"


def test_a_removed_region_file_is_the_first_problem_at_a_line_that_refers_to_it(content_copy: Path,
                                                                                 tmp_path: Path) -> None:  # fmt: skip
    (content_copy / "regions" / "vastervik.yaml").rename(tmp_path / "vastervik.yaml")
    problems = _problems(content_copy)
    assert "regions/vastervik.yaml is missing" in problems[0], problems[:3]
    file, line = _where(problems[0])
    assert line in _line_with(content_copy, file, "vastervik")
    assert all(_where(p)[1] > 0 for p in problems)


def test_a_missing_file_nothing_refers_to_is_named_without_a_line_0(content_copy: Path) -> None:
    (content_copy / "crisis.yaml").unlink()
    problems = _problems(content_copy)
    assert problems[0].startswith("crisis.yaml: the crisis file is missing"), problems


@pytest.mark.parametrize("where", ["end", "middle"])
def test_invalid_utf8_is_reported_at_the_line_and_column_of_the_first_bad_byte(content_copy: Path,
                                                                                where: str) -> None:  # fmt: skip
    """The outside tester's #6b: bytes appended at the end of a 167-line file were reported at line 1."""
    path = content_copy / "topics" / "arbetsformedlingen.yaml"
    raw = path.read_bytes()
    if where == "end":
        path.write_bytes(raw + b"\xff\xfe bad bytes\n")
        line, column = raw.count(b"\n") + 1, 1
    else:  # an 'ä' saved as Latin-1 on line 10, as an old editor does
        lines = raw.split(b"\n")
        text = lines[9].decode("utf-8")
        column = len(text) + 1
        lines[9] += "ä".encode("latin-1")
        path.write_bytes(b"\n".join(lines))
        line = 10
    problems = _problems(content_copy)
    assert problems[0].startswith(f"topics/arbetsformedlingen.yaml:{line}: the file is not UTF-8 text: "
                                  f"column {column} has the byte"), problems[0]  # fmt: skip
    assert "UTF-8" in problems[0] and "Save the file" in problems[0]
    if where == "middle":
        assert "perhaps 'ä'" in problems[0]
    assert not [p for p in problems if "unknown topic 'arbetsformedlingen'" in p], "its consequences are not listed"


def test_a_file_saved_as_utf16_says_so(content_copy: Path) -> None:
    path = content_copy / "topics" / "coompanion.yaml"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    problems = _problems(content_copy)
    assert problems[0].startswith("topics/coompanion.yaml:1: the file is saved as UTF-16"), problems[0]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_an_empty_file_says_it_is_empty(content_copy: Path, text: str) -> None:
    (content_copy / "topics" / "coompanion.yaml").write_text(text, encoding="utf-8")
    problems = _problems(content_copy)
    assert problems[0].startswith("topics/coompanion.yaml:1: the file is empty"), problems[0]


def test_a_file_that_is_a_list_says_what_it_should_be(content_copy: Path) -> None:
    (content_copy / "topics" / "coompanion.yaml").write_text("# a comment\n- one\n- two\n", encoding="utf-8")
    problems = _problems(content_copy)
    assert problems[0] == ("topics/coompanion.yaml:2: the file must be 'field: value' lines, "
                           "but it is a list ('- ' lines)"), problems[0]  # fmt: skip


@pytest.mark.parametrize("indent", ["\t", "  \t", "    -\t"])
def test_a_tab_is_named_at_its_line_and_column(content_copy: Path, indent: str) -> None:
    path = content_copy / "topics" / "coompanion.yaml"
    lines = path.read_text(encoding="utf-8").split("\n")
    number = _line_with(content_copy, "topics/coompanion.yaml", "    - ")[0]
    lines[number - 1] = indent + lines[number - 1].lstrip(" -" if indent.endswith("-\t") else " ")
    path.write_text("\n".join(lines), encoding="utf-8")
    problems = _problems(content_copy)
    assert problems[0].startswith(f"topics/coompanion.yaml:{number}: a tab at column {indent.index(chr(9)) + 1}: "
                                  "indent with spaces, never tabs"), problems[0]  # fmt: skip


def test_a_key_written_twice_names_both_lines(content_copy: Path) -> None:
    path = content_copy / "topics" / "coompanion.yaml"
    text = path.read_text(encoding="utf-8")
    first = _line_with(content_copy, "topics/coompanion.yaml", "kind:")[0]
    path.write_text(text + "kind: answer\n", encoding="utf-8")
    second = text.count("\n") + 1
    assert f"topics/coompanion.yaml:{second}: 'kind' is written twice (also at line {first}): keep one of them" in (
        _problems(content_copy))


def test_a_control_character_is_named_at_its_line_and_column(content_copy: Path) -> None:
    path = content_copy / "topics" / "coompanion.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "# ok\nrelated: [x\x01]\n", encoding="utf-8")
    line = text.count("\n") + 2
    problems = _problems(content_copy)
    assert problems[0].startswith(f"topics/coompanion.yaml:{line}: column 12 has the control character U+0001"), (
        problems[0])


@pytest.mark.parametrize("bom, newline", [(b"\xef\xbb\xbf", b"\n"), (b"", b"\r\n"), (b"\xef\xbb\xbf", b"\r\n")])
def test_a_bom_and_windows_line_endings_load_and_keep_the_line_numbers(content_copy: Path, bom: bytes,
                                                                        newline: bytes) -> None:  # fmt: skip
    """Notepad's "UTF-8 with BOM" and CRLF endings are fine; a mistake in such a file is at its real line."""
    path = content_copy / "topics" / "coompanion.yaml"
    raw = path.read_bytes()
    path.write_bytes(bom + raw.replace(b"\n", newline))
    assert "coompanion" in load_content(content_copy).topics
    line = _line_with(content_copy, "topics/coompanion.yaml", "related:")[0]
    path.write_bytes(bom + raw.replace(b"\nrelated:", b"\nrelatd:").replace(b"\n", newline))
    assert f"topics/coompanion.yaml:{line}: unknown field 'relatd' (did you mean 'related'?)" in (
        _problems(content_copy))


# --- the running bot: the last good content stays, the admins are told the cause first -----------------------------


async def until(condition: Callable[[], object], poke: Callable[[], object], timeout: float = 180.0) -> None:
    """Change a content file until `condition` holds: the watcher thread may not be watching yet when the test first
    writes (a loaded machine), and a change made before it watches is never seen."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("the running bot never told the admins")
        poke()
        with contextlib.suppress(TimeoutError):
            await wait_for(condition, timeout=3)


async def test_telegram_bot_keeps_the_last_good_content_and_tells_the_admins_the_cause_first(
    tmp_path: Path, clock: Clock
) -> None:
    async with live_bot(tmp_path, clock) as live:
        await onboard(live)
        path = live.content_dir / "topics" / "arbetsformedlingen.yaml"
        path.rename(tmp_path / "away.yaml")
        other = live.content_dir / "topics" / "wise.yaml"
        await until(lambda: live.api.messages_to(ADMIN), poke=lambda: other.write_bytes(other.read_bytes()))
        warning = live.api.messages_to(ADMIN)[0]
        lines = warning.text.splitlines()
        assert lines[0] == "Innehållet har fel; boten fortsätter med det förra:"
        assert "topics/arbetsformedlingen.yaml is missing" in lines[1], lines
        file, line = _where(lines[1])
        assert line in _line_with(live.content_dir, file, "arbetsformedlingen")
        answer = await live.say("vad gör arbetsförmedlingen")
        assert "arbetsförmedlingen" in text_of(answer).lower(), "the last good content keeps answering"
        before = live.engine.knowledge
        (tmp_path / "away.yaml").rename(path)
        await wait_for(lambda: live.engine.knowledge is not before, timeout=120)  # reloaded once it is back


async def test_web_process_mails_the_admins_when_changed_content_cannot_be_used(
    tmp_path: Path, knowledge: Knowledge
) -> None:
    """`socialbot web` without Telegram: the admins' e-mail is told (it was told nobody)."""
    mail_port = free_port()
    server = MailServer(mail_port)
    server.start()
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    config = Config(content_dir=content, state_dir=tmp_path / "state", admin_emails=("admin@example.se",))
    engine = Engine(knowledge, open_store(config.state_dir), channel="web")
    runtime = Runtime(engine, config, {"email": EmailTransport(settings_for(mail_port))})
    try:
        await runtime.start()
        path = content / "topics" / "coompanion.yaml"
        broken = path.read_bytes() + b"\xff\n"
        await until(lambda: server.inbox.messages, poke=lambda: path.write_bytes(broken))
        body = server.inbox.messages[0].get_content()
        line = path.read_bytes().count(b"\n")
        assert f"topics/coompanion.yaml:{line}: the file is not UTF-8 text" in body, body
        assert engine.knowledge is knowledge, "the last good content stays"
    finally:
        await runtime.stop()
        engine.store.close()
        server.stop()


# --- the outside user tester's persona 6 (round 2): the cause first, what follows from it folded ------------------


def test_one_missing_english_line_in_texts_yaml_is_one_problem_with_the_consequences_folded(content_copy: Path) -> None:
    """U6-a: deleting `en: "For job seekers"` gave 853 lines, 852 of them 'unknown dialog text' in the (correct)
    language files, the real one last."""
    texts = content_copy / "texts.yaml"
    text = texts.read_text(encoding="utf-8")
    texts.write_text(text.replace('  en: "For job seekers"\n', "", 1), encoding="utf-8")
    problems = _problems(content_copy)
    assert len(problems) == 1, problems[:5]
    file, line = _where(problems[0])
    assert file == "texts.yaml" and line in _line_with(content_copy, "texts.yaml", "menu_jobseeker:")
    assert "'menu_jobseeker' is missing its English (en) text" in problems[0]
    assert "problems in languages/ar.yaml" in problems[0] and "follow from this one" in problems[0], problems[0]
    assert "unknown dialog text" not in problems[0]


@pytest.mark.parametrize("language", ["ar", "fa"])
def test_a_real_problem_in_a_language_file_is_still_listed_when_texts_yaml_loads(content_copy: Path,
                                                                                 language: str) -> None:  # fmt: skip
    """The folding hides only what follows from a broken file: an unknown key in a language file, with texts.yaml
    fine, is listed at its own line as before."""
    path = content_copy / "languages" / f"{language}.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(n for n, line in enumerate(lines) if line.startswith("texts:")) + 1
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    path.write_text("".join([*lines[:at], f'{indent}menu_jobseker: "x"\n', *lines[at:]]), encoding="utf-8")
    problems = _problems(content_copy)
    assert problems == [f"languages/{language}.yaml:{at + 1}: unknown dialog text 'menu_jobseker' "
                        "(did you mean 'menu_jobseeker'?)"], problems  # fmt: skip


def test_an_unknown_placeholder_in_the_swedish_answer_is_reported_without_the_translations_it_unsettles(
    content_copy: Path,
) -> None:
    """U6-c: `{contact_nmae}` in topics/project.yaml gave 12 lines telling staff to change six correct translations
    first, and the real one last."""
    path = content_copy / "topics" / "project.yaml"
    line = _line_with(content_copy, "topics/project.yaml", "Fråga {contact_name}")[0]
    path.write_text(path.read_text(encoding="utf-8").replace("Fråga {contact_name}", "Fråga {contact_nmae}", 1),
                    encoding="utf-8")  # fmt: skip
    problems = _problems(content_copy)
    assert len(problems) == 1, problems
    assert _where(problems[0]) == ("topics/project.yaml", line)
    assert "unknown placeholder {contact_nmae}" in problems[0] and "follow from this one" in problems[0], problems[0]


def _break(directory: Path, name: str, needle: str, replacement: str) -> int:
    """Replace the first line containing `needle`; returns its line number."""
    path = directory / name
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(n for n, line in enumerate(lines) if needle in line)
    lines[at] = replacement
    path.write_text("".join(lines), encoding="utf-8")
    return at + 1


@pytest.mark.parametrize(("needle", "replacement", "opened"), [
    ("    - söker jobb", '    - "söker jobb\n', 'a quote (") opened'),
    ("    - söker jobb", "    - 'söker jobb\n", "a quote (') opened"),
    ("    - söker jobb", "    - [söker jobb\n", "a bracket ([) opened"),
    ("    - söker jobb", "    - {söker jobb\n", "a brace ({) opened"),
])  # fmt: skip
def test_an_unclosed_quote_or_bracket_is_named_where_it_opened(content_copy: Path, needle: str, replacement: str,
                                                              opened: str) -> None:  # fmt: skip
    """U6-b: an unclosed quote at line 14 was reported at line 133 as "did not find expected '-' indicator"."""
    line = _break(content_copy, "topics/find-work.yaml", needle, replacement)
    problems = _problems(content_copy)
    assert _where(problems[0]) == ("topics/find-work.yaml", line), problems[0]
    assert f"{opened} at line {line} is never closed" in problems[0], problems[0]
    assert "did not find expected" not in problems[0].split("(YAML")[0]


def test_an_unclosed_bracket_in_a_value_is_named_where_it_opened(content_copy: Path) -> None:
    """U6-b: `  bad: [unclosed` inserted at coompanion.yaml line 6 was reported at line 8."""
    path = content_copy / "topics" / "coompanion.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(7, "bad: [unclosed\n")
    path.write_text("".join(lines), encoding="utf-8")
    problems = _problems(content_copy)
    assert _where(problems[0]) == ("topics/coompanion.yaml", 8), problems[0]
    assert "a bracket ([) opened at line 8 is never closed" in problems[0], problems[0]


def test_no_content_file_as_it_is_has_a_quote_or_bracket_taken_as_unclosed() -> None:
    """The reader behind U6-b's message must not point at a quote or bracket that is fine (words.yaml's lists go on
    over several lines; answers are block texts full of quotes and apostrophes)."""
    from bot.content.yamlfile import _unclosed

    for path in sorted(CONTENT.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert _unclosed(text, text.count("\n") + 1) is None, path


@pytest.mark.parametrize(("name", "key", "impossible"), [
    ("topics/funding.yaml", "reviewed: ", "2026-02-30"),
    ("regions/sundsvall.yaml", "  confirmed: ", "2026-13-01"),
])  # fmt: skip
def test_a_date_the_calendar_lacks_is_one_problem_at_its_line_not_a_crash(
    content_copy: Path, name: str, key: str, impossible: str
) -> None:
    """The outside user tester (round 3): `reviewed: 2026-02-30` crashed validate with a traceback (YAML reads it as a
    date and Python's calendar refuses it), and in a running bot it stopped the content watcher for good."""
    path = content_copy / name
    lines = path.read_text(encoding="utf-8").split("\n")
    at = next(n for n, text in enumerate(lines) if text.startswith(key))
    lines[at] = key + impossible
    path.write_text("\n".join(lines), encoding="utf-8")
    problems = _problems(content_copy)
    assert len(problems) == 1, problems
    assert _where(problems[0]) == (name, at + 1) and impossible in problems[0] and "YYYY-MM-DD" in problems[0]
