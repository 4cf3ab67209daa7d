"""The statistics report, from a store filled by real conversations through the engine."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from bot.knowledge import Knowledge
from bot.stats import build_report
from bot.stats.render import render, to_csv, to_html, to_json, to_table
from bot.stats.report import Report, group_unanswered
from tests.conftest import ROOT
from tests.transcript import Clock, TestBot

WEATHER = ["Vad blir det för väder?", "vad blir det för väder", "VAD BLIR DET FÖR VÄDER",
           "vad blir det for vader", "vad blir det för väder imorgon", "Vad blir det för väder i helgen?"]  # fmt: skip
DOG = ["Kan jag ta med min hund?", "kan jag ta med min hund"]
WEEK48_END = "2026-11-29"  # Sunday: the tests' clock starts on Monday 23 November 2026


@dataclass
class Seeded:
    messages_week48: int
    messages_total: int


def seed(testbot: TestBot, clock: Clock) -> Seeded:
    """Week 48: nine people (five ask about wage subsidy, four about work training), eight questions the bot
    cannot answer, six bookings, one moved and one cancelled. Week 49: five people ask on 30 November and again
    on 1 December, when the hash key has rotated."""
    messages = 0
    real_handle = testbot.handle

    def counting_handle(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal messages
        messages += 1  # every incoming event is one message in the statistics
        return real_handle(*args, **kwargs)

    testbot.handle = counting_handle  # type: ignore[method-assign]
    for n in range(1, 6):
        testbot.onboard("sv", "sundsvall", conversation=f"test:{n}")
        testbot.send("vad är lönebidrag", conversation=f"test:{n}")
    for n in range(6, 10):
        testbot.onboard("en", "vastervik", conversation=f"test:{n}")
        testbot.send("what is work training", conversation=f"test:{n}")
    for n, text in enumerate(WEATHER + DOG, start=1):
        testbot.send(text, conversation=f"test:{n}")
    for n in range(1, 7):
        testbot.book_first_slot(conversation=f"test:{n}")
    move_and_cancel(testbot)
    week48 = messages

    clock.advance(days=7)  # Monday 30 November, week 49
    for n in range(10, 15):
        testbot.onboard("sv", "sundsvall", conversation=f"test:{n}")
        testbot.send("vad är lönebidrag", conversation=f"test:{n}")
    clock.advance(days=1)  # Tuesday 1 December: a new month, a new hash key
    for n in range(10, 15):
        testbot.send("vad är lönebidrag", conversation=f"test:{n}")
    testbot.handle = real_handle  # type: ignore[method-assign]
    return Seeded(week48, messages)


def move_and_cancel(testbot: TestBot) -> None:
    testbot.send("/mybookings", conversation="test:1")
    testbot.press_data(
        next(c.data for c in testbot.choices if c.data.startswith("move:")), conversation="test:1"
    )
    testbot.press_data(testbot.slot_choices()[0].data, conversation="test:1")
    testbot.press_data("confirm", conversation="test:1")
    assert "flytta" in testbot.text.lower(), testbot.text
    testbot.send("/mybookings", conversation="test:2")
    testbot.press_data(next(c.data for c in testbot.choices if c.data.startswith("cancelbooking:")),
                       conversation="test:2")  # fmt: skip
    testbot.press_data("yes", conversation="test:2")
    assert "avbok" in testbot.text.lower(), testbot.text


def report_of(testbot: TestBot, knowledge: Knowledge, since: date | None = None,
              until: date | None = None) -> Report:  # fmt: skip
    content = knowledge.content
    return build_report(testbot.store, since, until, {t.id: t.title["sv"] for t in content.topics.values()},
                        developers={r.id: r.contact.name for r in content.regions.values()},
                        region_names={r.id: r.name["sv"] for r in content.regions.values()})  # fmt: skip


@pytest.fixture
def seeded(testbot: TestBot, clock: Clock) -> Seeded:
    return seed(testbot, clock)


def visible_text(page: str) -> str:
    """What a reader of the HTML sees, tags removed."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def row(rows, key: str):  # type: ignore[no-untyped-def]
    return next(r for r in rows if r.key == key)


# --- the figures -------------------------------------------------------------------------------------


def test_figures_over_the_whole_period(testbot: TestBot, knowledge: Knowledge, seeded: Seeded) -> None:
    report = report_of(testbot, knowledge)
    summary = report.to_dict()["summary"]
    # 9 people in November's first week, and 5 who wrote both in November and in December: counted per month
    assert summary["conversations"] == 9 + 5 + 5
    assert summary["messages"] == seeded.messages_total
    assert summary["questions"] == 5 + 4 + 10
    assert summary["fallbacks"] == len(WEATHER) + len(DOG)
    assert summary["fallback_rate"] == round(8 / (19 + 8), 4)
    assert summary["bookings"] == 6
    top = report.topics[0]
    assert (top.key, top.label) == ("wage-subsidy", knowledge.content.topics["wage-subsidy"].title["sv"])
    assert (top["questions"].public, top["conversations"].public) == (15, 15)
    assert report.since == date(2026, 11, 23) and report.until == date(2026, 12, 1)
    assert [r.key for r in report.by_week] == ["2026-W48", "2026-W49"]
    assert row(report.by_week, "2026-W49")["conversations"].public == 10
    assert row(report.by_week, "2026-W49")["fallback_rate"].public == 0
    assert row(report.by_lang, "sv")["conversations"].public == 15
    assert row(report.by_region, "sundsvall")["fallbacks"].public == 5  # the first five weather questions


def test_bookings_per_region_with_their_developer(testbot: TestBot, knowledge: Knowledge,
                                                  seeded: Seeded) -> None:  # fmt: skip
    report = report_of(testbot, knowledge)
    sundsvall, vastervik = row(report.bookings, "sundsvall"), row(report.bookings, "vastervik")
    assert sundsvall.details["developer"] == knowledge.content.regions["sundsvall"].contact.name
    assert vastervik.details["developer"] == knowledge.content.regions["vastervik"].contact.name
    assert sundsvall.label == "Sundsvall" and vastervik.label == "Västervik"
    assert sundsvall["made"].public == 5
    # one booking, one move, one cancellation: each rests on a single conversation
    assert vastervik["made"].public == "<5"
    assert sundsvall["moved"].public == "<5" and sundsvall["cancelled"].public == "<5"
    assert vastervik["moved"].public == 0


def test_since_and_until(testbot: TestBot, knowledge: Knowledge, seeded: Seeded) -> None:
    week48 = report_of(testbot, knowledge, until=date.fromisoformat(WEEK48_END))
    assert week48.to_dict()["summary"]["conversations"] == 9
    assert week48.to_dict()["summary"]["messages"] == seeded.messages_week48
    assert week48.to_dict()["summary"]["fallback_rate"] == round(8 / 17, 4)
    assert [r.key for r in week48.by_week] == ["2026-W48"]
    december = report_of(testbot, knowledge, since=date(2026, 12, 1), until=date(2026, 12, 31))
    summary = december.to_dict()["summary"]
    assert (summary["conversations"], summary["messages"], summary["questions"]) == (5, 5, 5)
    assert december.unanswered == () and december.to_dict()["bookings"][0]["made"] == 0
    assert [r.key for r in december.by_week][:2] == ["2026-W49", "2026-W50"]  # quiet weeks are shown too
    nothing = report_of(testbot, knowledge, since=date(2027, 1, 1))
    assert nothing.to_dict()["summary"]["conversations"] == 0


# --- suppression ---------------------------------------------------------------------------------------


def test_four_conversations_are_hidden_five_are_shown_in_every_format(
    testbot: TestBot, knowledge: Knowledge, seeded: Seeded
) -> None:
    report = report_of(testbot, knowledge, until=date.fromisoformat(WEEK48_END))
    wage, training = row(report.topics, "wage-subsidy"), row(report.topics, "work-training")
    assert (wage["questions"].public, wage["conversations"].public) == (5, 5)
    assert training["questions"].suppressed and training["conversations"].suppressed
    assert training["questions"].value is None  # the raw number is not even kept

    topics = {t["key"]: t for t in json.loads(to_json(report))["topics"]}
    assert (topics["wage-subsidy"]["questions"], topics["wage-subsidy"]["conversations"]) == (5, 5)
    assert (topics["work-training"]["questions"], topics["work-training"]["conversations"]) == ("<5", "<5")

    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    values = {(r["section"], r["key"]): r["value"] for r in rows}
    assert values["topics", "wage-subsidy/questions"] == "5"
    assert values["topics", "work-training/questions"] == "<5"
    assert values["topics", "work-training/conversations"] == "<5"
    assert all(set(r) == {"section", "key", "value"} for r in rows)

    training_title = knowledge.content.topics["work-training"].title["sv"]
    wage_title = knowledge.content.topics["wage-subsidy"].title["sv"]
    lines = to_table(report).splitlines()
    training_line = next(x for x in lines if x.strip().startswith(training_title))
    assert training_line.split()[-2:] == ["<5", "<5"] and "4" not in training_line
    assert next(x for x in lines if x.strip().startswith(wage_title)).split()[-2:] == ["5", "5"]

    page = to_html(report)
    training_row = re.search(rf"<tr><td>{re.escape(training_title)}</td>(.*?)</tr>", page)
    assert training_row and training_row.group(1).count("&lt;5") == 2 and "4" not in training_row.group(1)


def test_small_counts_everywhere_are_hidden(testbot: TestBot, knowledge: Knowledge, seeded: Seeded) -> None:
    report = report_of(testbot, knowledge, since=date(2026, 11, 30))  # week 49: 5 + 5 conversations
    vastervik = row(report.by_region, "vastervik")
    assert vastervik["conversations"].public == 0  # nobody: nothing to hide
    for section, key, figure in report.figures():
        if figure.suppressed:
            assert figure.value is None, (section, key)
    # the whole of week 48 alone, per language: four English conversations
    english = row(report_of(testbot, knowledge, until=date.fromisoformat(WEEK48_END)).by_lang, "en")
    assert {english[name].public for name in ("conversations", "messages", "fallbacks", "bookings")} == {"<5"}


# --- unanswered questions --------------------------------------------------------------------------------


def test_unanswered_questions_are_grouped(testbot: TestBot, knowledge: Knowledge, seeded: Seeded) -> None:
    report = report_of(testbot, knowledge)
    assert [
        (r.label.casefold().startswith("vad blir det"), r["asked"].public) for r in report.unanswered
    ] == [
        (True, 6),
        (False, "<5"),
    ]
    assert report.unanswered[1].label in DOG  # the example is still shown
    table = to_table(report)
    assert "asked 6 times" in table and "asked <5 times" in table
    page = visible_text(to_html(report))
    assert "asked 6 times" in page and "asked <5 times" in page
    assert {r["key"]: r["value"] for r in csv.DictReader(io.StringIO(to_csv(report)))
            if r["section"] == "unanswered"}[report.unanswered[0].key] == "6"  # fmt: skip


def test_grouping_folds_and_clusters_greedily() -> None:
    groups = group_unanswered(
        [*WEATHER, "Öppettider?", "oppettider", "Vad kostar en kaffe", "vad kostar en kaffe"]
    )
    assert groups[0][1] == 6 and groups[0][0].casefold().startswith("vad blir det")
    assert sorted(times for _, times in groups[1:]) == [2, 2]
    assert group_unanswered([]) == []


# --- the command line ---------------------------------------------------------------------------------


def socialbot_stats(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "--state", str(state), "stats", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_every_format_through_the_cli(testbot: TestBot, seeded: Seeded, tmp_path: Path) -> None:
    state = testbot.state_dir
    table = socialbot_stats(state, "--until", WEEK48_END)
    assert table.returncode == 0, table.stderr
    assert "Period: 2026-11-23 – 2026-11-29" in table.stdout and "asked 6 times" in table.stdout

    result = socialbot_stats(state, "--format", "json", "--since", "2026-11-23", "--until", WEEK48_END)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["summary"]["conversations"] == 9 and data["period"]["until"] == WEEK48_END
    assert {t["key"]: t["questions"] for t in data["topics"]} == {"wage-subsidy": 5, "work-training": "<5"}

    result = socialbot_stats(state, "--format", "csv", "--since", "2026-12-01")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["section", "key", "value"] and ["summary", "conversations", "5"] in rows

    out = tmp_path / "report.html"
    result = socialbot_stats(state, "--format", "html", "--out", str(out))
    assert result.returncode == 0 and result.stdout == "", result.stderr
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and page.count("data:image/png;base64,") == 4

    bad = socialbot_stats(state, "--since", "2026-12-02", "--until", "2026-12-01")
    assert bad.returncode == 2 and "--since" in bad.stderr


def test_empty_store_renders_in_every_format(testbot: TestBot, knowledge: Knowledge) -> None:
    report = report_of(testbot, knowledge)
    assert report.since is None and report.to_dict()["summary"]["conversations"] == 0
    for fmt in ("table", "json", "csv", "html"):
        assert render(report, fmt)


# --- /stats in Telegram -----------------------------------------------------------------------------------


class FakeBot:
    """Records what would have been sent to the Bot API."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int, object]] = []

    async def send_message(self, chat_id: int, text: str, **_: object) -> None:
        self.sent.append(("message", chat_id, text))

    async def send_photo(self, chat_id: int, photo: bytes, **_: object) -> None:
        self.sent.append(("photo", chat_id, photo))


async def test_send_stats_sends_a_summary_and_one_chart(
    testbot: TestBot, clock: Clock, seeded: Seeded
) -> None:
    from bot.stats.telegram import send_stats

    bot = FakeBot()
    await send_stats(bot, 42, testbot.store, clock.now)
    assert [(kind, chat) for kind, chat, _ in bot.sent] == [("message", 42), ("photo", 42)]
    text, photo = bot.sent[0][2], bot.sent[1][2]
    assert isinstance(text, str) and "Samtal: 19" in text and "senaste 30 dagarna" in text
    assert "wage-subsidy: 15 frågor" in text and "(<5 gånger)" in text
    assert isinstance(photo, bytes) and photo.startswith(b"\x89PNG")
