"""The statistics report, from a store filled by real conversations through the engine."""

from __future__ import annotations

import csv
import html
import io
import json
import math
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

import bot.stats.report as report_module
from bot.knowledge import Knowledge
from bot.stats import build_report
from bot.stats.render import CHARTS, render, to_csv, to_html, to_json, to_table
from bot.stats.report import HIDDEN, SUPPRESSED, Report, group_unanswered
from bot.storage import SQLiteStore, Store
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


@contextmanager
def unsuppressed() -> Iterator[None]:
    """Reports built inside show every raw number: what is counted, before anything is hidden."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report_module, "MIN_CONVERSATIONS", 1)  # 0 < conversations < 1 never holds
        yield


@contextmanager
def primary_only() -> Iterator[None]:
    """Reports built inside have only the "<5" rule, as before complementary suppression."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report_module, "protect", lambda report: report)
        yield


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
    with unsuppressed():  # what is counted; what is published is tested under "suppression" below
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
    # A question counts in the language it was written in: the English chats test:6-8 asked about the weather
    # and the dog in Swedish (and were answered in Swedish), so they count in Swedish too.
    assert row(report.by_lang, "sv")["conversations"].public == 15 + 3
    assert row(report.by_lang, "en")["conversations"].public == 4
    assert row(report.by_lang, "sv")["fallbacks"].public == len(WEATHER) + len(DOG)
    assert row(report.by_lang, "en")["fallbacks"].public == 0
    assert row(report.by_region, "sundsvall")["fallbacks"].public == 5  # the first five weather questions
    published = report_of(testbot, knowledge).summary
    assert [published[n].public for n in ("conversations", "messages", "questions", "fallbacks")] == [
        19, seeded.messages_total, 19, 8]  # fmt: skip


def test_bookings_per_region_with_their_developer(testbot: TestBot, knowledge: Knowledge,
                                                  seeded: Seeded) -> None:  # fmt: skip
    report = report_of(testbot, knowledge)
    sundsvall, vastervik = row(report.bookings, "sundsvall"), row(report.bookings, "vastervik")
    assert sundsvall.details["developer"] == knowledge.content.regions["sundsvall"].contact.name
    assert vastervik.details["developer"] == knowledge.content.regions["vastervik"].contact.name
    assert sundsvall.label == "Sundsvall" and vastervik.label == "Västervik"
    # one booking, one move, one cancellation: each rests on a single conversation
    assert vastervik["made"].public == "<5"
    assert sundsvall["moved"].public == "<5" and sundsvall["cancelled"].public == "<5"
    assert vastervik["moved"].public == 0
    # Sundsvall's 5 and the total 6 would give Västervik's 1 back: both hidden, and Sundsvall's in by_region too
    assert sundsvall["made"].public == HIDDEN and report.summary["bookings"].public == HIDDEN
    assert row(report.by_region, "sundsvall")["bookings"].public == HIDDEN
    with unsuppressed():
        assert row(report_of(testbot, knowledge).bookings, "sundsvall")["made"].public == 5


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
    report = report_of(
        testbot, knowledge, until=date.fromisoformat(WEEK48_END)
    )  # four ask about work training
    december = report_of(
        testbot, knowledge, since=date(2026, 12, 1)
    )  # five ask about wage subsidy, nothing else
    training, wage = row(report.topics, "work-training"), row(december.topics, "wage-subsidy")
    assert (wage["questions"].public, wage["conversations"].public) == (5, 5)
    assert training["questions"].suppressed and training["conversations"].suppressed
    assert training["questions"].value is None  # the raw number is not even kept

    topics = {t["key"]: t for t in json.loads(to_json(report))["topics"]}
    assert (topics["work-training"]["questions"], topics["work-training"]["conversations"]) == ("<5", "<5")
    topics = {t["key"]: t for t in json.loads(to_json(december))["topics"]}
    assert (topics["wage-subsidy"]["questions"], topics["wage-subsidy"]["conversations"]) == (5, 5)

    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    values = {(r["section"], r["key"]): r["value"] for r in rows}
    assert values["topics", "work-training/questions"] == "<5"
    assert values["topics", "work-training/conversations"] == "<5"
    assert all(set(r) == {"section", "key", "value"} for r in rows)
    values = {(r["section"], r["key"]): r["value"] for r in csv.DictReader(io.StringIO(to_csv(december)))}
    assert values["topics", "wage-subsidy/questions"] == "5"

    training_title = knowledge.content.topics["work-training"].title["sv"]
    wage_title = knowledge.content.topics["wage-subsidy"].title["sv"]
    lines = to_table(report).splitlines()
    training_line = next(x for x in lines if x.strip().startswith(training_title))
    assert training_line.split()[-2:] == ["<5", "<5"] and "4" not in training_line
    lines = to_table(december).splitlines()
    assert next(x for x in lines if x.strip().startswith(wage_title)).split()[-2:] == ["5", "5"]

    page = to_html(report)
    training_row = re.search(rf"<tr><td>{re.escape(training_title)}</td>(.*?)</tr>", page)
    assert training_row and training_row.group(1).count("&lt;5") == 2 and "4" not in training_row.group(1)
    wage_row = re.search(rf"<tr><td>{re.escape(wage_title)}</td>(.*?)</tr>", to_html(december))
    assert wage_row and wage_row.group(1).count(">5<") == 2


def test_small_counts_everywhere_are_hidden(testbot: TestBot, knowledge: Knowledge, seeded: Seeded) -> None:
    report = report_of(testbot, knowledge, since=date(2026, 11, 30))  # week 49: 5 + 5 conversations
    vastervik = row(report.by_region, "vastervik")
    assert vastervik["conversations"].public == 0  # nobody: nothing to hide
    for section, key, figure in report.figures():
        if figure.suppressed:
            assert figure.value is None, (section, key)
    # the whole of week 48 alone, per language: four English conversations
    english = row(report_of(testbot, knowledge, until=date.fromisoformat(WEEK48_END)).by_lang, "en")
    assert {english[name].public for name in ("conversations", "messages", "bookings")} == {"<5"}
    assert english["fallbacks"].public == 0  # their unanswered questions were written in Swedish: counted there


# --- complementary suppression: a reader who adds up ------------------------------------------------------

Cell = tuple[str, str, str]  # (section, row key, figure name); the summary's row key is ""
COUNTS = ("conversations", "asked")  # a "<5" of these is 1-4; of events, anything from 1
BREAKDOWNS = ("by_region", "by_lang", "by_week", "by_channel", "by_month")


def published(report: Report) -> dict[Cell, object]:
    cells: dict[Cell, object] = {("summary", "", n): f.public for n, f in report.summary.items()}
    for section in report_module.SECTIONS:
        for r in report.section(section):
            cells.update({(section, r.key, n): f.public for n, f in r.cells.items()})
    return cells


def sums(report: Report) -> list[tuple[list[Cell], list[Cell], bool]]:
    """(totals, parts, union) for every sum a reader can redo. In a union (conversations) a conversation
    counts in several rows, so the parts add up to at least the total; the others add up exactly (topics and
    unanswered questions at most, but in these tests all are listed)."""

    def column(section: str, name: str) -> list[Cell]:
        return [(section, r.key, name) for r in report.section(section)]

    def total(*names: str) -> list[Cell]:
        return [("summary", "", n) for n in names]

    groups = []
    for section in BREAKDOWNS:
        # a reader takes the conversations that booked as split between rows: one booking, one region...
        groups += [
            (total(n), column(section, n), False) for n in ("messages", "fallbacks", "bookings", "booked")
        ]
        # ... and knows that a conversation has one channel and one month (the hash key's)
        union = section not in ("by_channel", "by_month")
        groups.append((total("conversations"), column(section, "conversations"), union))
    groups += [(total(n), column("by_month", n), False) for n in ("returning", "crisis")]
    groups += [(total(n), column("helpful", n), False) for n in ("helpful", "not_helpful")]
    groups += [
        (total("bookings"), column("bookings", "made") + [c for c in column("by_region", "bookings") if c[1] == "-"],
         False),
        (total("questions"), column("topics", "questions"), False),
        (total("fallbacks"), column("unanswered", "asked"), False),
        (total("questions", "fallbacks"), column("bands", "questions"), False),
    ]  # fmt: skip
    return [g for g in groups if g[1]]


def recovered(report: Report, raw: Report) -> dict[Cell, float]:
    """Hidden figures that a reader works out right from what `report` publishes, by subtraction, by the
    bounds a "<5" and a ".." carry (a ".." is at least 5 and at most the smallest figure shown beside it),
    by rates, and by solving all the sums at once. {} when every hidden figure is protected."""
    seen, truth = published(report), published(raw)
    known = {c: float(v) for c, v in seen.items() if isinstance(v, int | float)}
    leaks: dict[Cell, float] = {}

    def learn(cell: Cell, value: float) -> None:
        if cell not in known and math.isclose(value, float(truth[cell]), abs_tol=1e-6):  # type: ignore[arg-type]
            leaks[cell] = value
        known[cell] = value

    def bounds(cell: Cell, beside: list[Cell]) -> tuple[float, float]:
        if seen[cell] == SUPPRESSED:
            return 1, 4 if cell[2] in COUNTS else math.inf
        if cell[0] == "summary":  # a total is hidden only when no part beside it is left to hide
            return 5, math.inf
        shown = [
            known[c] for c in beside if c in known and known[c] > 0 and seen[c] not in (SUPPRESSED, HIDDEN)
        ]
        return 5, min(shown, default=math.inf)

    for _ in range(10):  # what one sum gives back may open another
        before = len(known)
        for totals, parts, union in sums(report):
            unknown = [c for c in totals + parts if c not in known]
            if not unknown:
                continue
            rest = sum(known.get(c, 0) for c in totals) - sum(known.get(c, 0) for c in parts)
            if union:  # hidden >= total - (the rows shown): anything above 1 tells something about a "<5"
                if len(unknown) == 1 and unknown[0] in parts and (rest >= 2 or rest == truth[unknown[0]]):
                    leaks[unknown[0]] = rest
                continue
            if len(unknown) == 1:
                learn(unknown[0], rest if unknown[0] in parts else -rest)
                continue
            for cell in unknown:
                if seen[cell] != SUPPRESSED:
                    continue
                low = high = rest  # cell (a part) = rest - the other hidden parts + the other hidden totals
                for other in unknown:
                    if other != cell:
                        least, most = bounds(other, parts)
                        if other in parts:
                            low, high = low - most, high - least
                        else:
                            low, high = low + least, high + most
                if cell in totals:
                    low, high = -high, -low
                least, most = bounds(cell, parts)
                if max(least, low) >= min(most, high):
                    learn(cell, max(least, low))
        rate, questions, fallbacks = (("summary", "", n) for n in ("fallback_rate", "questions", "fallbacks"))
        if rate in known and 0 < known[rate] < 1:  # rate = fallbacks / (questions + fallbacks)
            if questions in known and fallbacks not in known:
                learn(fallbacks, round(known[rate] * known[questions] / (1 - known[rate])))
            if fallbacks in known and questions not in known:
                learn(questions, round(known[fallbacks] * (1 - known[rate]) / known[rate]))
        if len(known) == before:
            break

    # all exact sums at once: a hidden figure is given back when some combination of the sums isolates it
    exact = [(t, p) for t, p, union in sums(report) if not union]
    unknown = sorted({c for t, p in exact for c in t + p if c not in known})
    if unknown:
        a = np.array([[(c in t) - (c in p) for c in unknown] for t, p in exact], dtype=float)
        b = np.array([sum(known.get(c, 0) for c in p) - sum(known.get(c, 0) for c in t) for t, p in exact])
        solution = np.linalg.lstsq(a, b, rcond=None)[0]
        rank = np.linalg.matrix_rank(a)
        for j, cell in enumerate(unknown):
            if np.linalg.matrix_rank(np.vstack([a, np.eye(len(unknown))[j]])) == rank:
                learn(cell, float(solution[j]))
    return leaks


def hidden_everywhere_the_same(report: Report, before: Report) -> None:
    """Complementary suppression only adds ".."; the "<5" rule is exactly as before and a 0 is never hidden."""
    now, then = published(report), published(before)
    for cell, value in then.items():
        if value == SUPPRESSED:
            assert now[cell] == SUPPRESSED, cell
        else:
            assert now[cell] in (value, HIDDEN), cell
            assert not (now[cell] == HIDDEN and value == 0), cell
    for section in BREAKDOWNS:  # a rate gives its fallbacks back, so it goes with them
        for r in report.section(section):
            assert not r["fallbacks"].suppressed or r["fallback_rate"].suppressed, (section, r.key)
    assert all(r["made"].public == row(report.by_region, r.key)["bookings"].public for r in report.bookings)


def reports(build) -> tuple[Report, Report, Report]:  # type: ignore[no-untyped-def]
    """(as published, with only the "<5" rule, unsuppressed) from the same data."""
    with primary_only():
        before = build()
    with unsuppressed():
        raw = build()
    return build(), before, raw


def test_no_hidden_figure_can_be_worked_out_from_the_bot_s_own_statistics(
    testbot: TestBot, knowledge: Knowledge, seeded: Seeded
) -> None:
    periods = [(None, None), (None, date.fromisoformat(WEEK48_END)), (date(2026, 11, 30), None),
               (date(2026, 12, 1), None)]  # fmt: skip
    for since, until in periods:
        report, before, raw = reports(lambda: report_of(testbot, knowledge, since, until))  # noqa: B023
        hidden_everywhere_the_same(report, before)
        assert recovered(report, raw) == {}, (since, until)
    # before: 9 questions - wage subsidy's 5 gave work training's 4 back, 8 fallbacks - 6 the dog's 2, ...
    report, before, raw = reports(lambda: report_of(testbot, knowledge, until=date.fromisoformat(WEEK48_END)))
    leaks = recovered(before, raw)
    assert leaks[("topics", "work-training", "questions")] == 4
    assert leaks[("unanswered", report.unanswered[0].key, "asked")] == 2
    assert leaks[("bookings", "vastervik", "made")] == 1
    assert {section for section, _, _ in leaks} >= {
        "topics",
        "unanswered",
        "bookings",
        "by_region",
        "by_lang",
    }


# A store filled directly with events: any mix of regions, languages, weeks, topics, bands and bookings.
MONDAY = datetime(2026, 11, 2, 9, tzinfo=UTC)  # week 45
TEXTS = ("Vad blir det för väder?", "Kan jag ta med min hund?", "Var ligger kontoret?", "Finns det kaffe?")


def event(store: Store, who: str, week: int, action: str, region: str | None = "sundsvall", lang: str | None = "sv",
          topic: str | None = None, band: str | None = None, day: int = 0, text: str = TEXTS[0],
          channel: str = "telegram") -> None:  # fmt: skip
    now = MONDAY + timedelta(weeks=week, days=day)
    store.record_event(conversation_hash=who, now=now, region=region, lang=lang, channel=channel, action=action,
                       topic=topic, band=band)  # fmt: skip
    if action == "fallback":
        store.record_unanswered(now=now, region=region, lang=lang, text=text)


def built(store: Store) -> Report:
    return build_report(store, None, None, {}, {"sundsvall": "S", "vastervik": "V"},
                        {"sundsvall": "Sundsvall", "vastervik": "Västervik"})  # fmt: skip


def few_and_many(store: Store) -> None:
    """Six conversations in Sundsvall, in Swedish, on Telegram, in week 45 (November), and two in Västervik, in
    English, in the web chat, in week 50 (December): each of the two is a "<5" beside a shown figure in every
    breakdown. Each says whether an answer helped, returns the next day and gets the crisis numbers."""
    for n in range(8):
        many = n < 6
        where = {"region": "sundsvall" if many else "vastervik", "lang": "sv" if many else "en",
                 "channel": "telegram" if many else "web"}  # fmt: skip
        week, who, topic = (0 if many else 5), f"c{n}", "wage-subsidy" if many else "work-training"
        event(store, who, week, "question", topic=topic, band="high" if many else "medium", **where)
        store.record_event(conversation_hash=who, now=MONDAY + timedelta(weeks=week, hours=1), action="fallback",
                           band="low", **where)  # fmt: skip
        store.record_unanswered(now=MONDAY + timedelta(weeks=week), text=TEXTS[0 if many else 1],
                                region=where["region"], lang=where["lang"])  # fmt: skip
        event(store, who, week, "booking", **where)
        event(store, who, week, "helpful", topic=topic, day=1, **where)
        event(store, who, week, "crisis", day=1, **where)


@pytest.mark.parametrize("section", ["topics", "unanswered", "bands", "bookings", "helpful", *BREAKDOWNS])
def test_no_breakdown_gives_a_hidden_figure_back(tmp_path: Path, section: str) -> None:
    store = SQLiteStore(tmp_path / "stats.db")
    few_and_many(store)
    report, before, raw = reports(lambda: built(store))
    summed = {c for totals, parts, _ in sums(before) for c in totals + parts}
    hidden = {c for c, v in published(before).items() if c[0] == section and v == SUPPRESSED and c in summed}
    assert hidden and hidden <= set(recovered(before, raw))  # total - the shown rows gave them back
    assert {c: v for c, v in recovered(report, raw).items() if c[0] == section} == {}
    assert any(v == HIDDEN for c, v in published(report).items() if c[0] in (section, "summary"))
    chooser = report_module._Complement(before)  # the sums solved together find what subtraction found
    assert chooser.determined() is not None
    chooser.run()
    assert chooser.determined() is None
    hidden_everywhere_the_same(report, before)
    store.close()


def test_a_rate_does_not_give_its_hidden_fallbacks_back(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "stats.db")
    for n in range(8):  # 8 questions, 2 of them unanswered: 25 %, and 0.25 * 6 / 0.75 = 2
        event(store, f"c{n}", 0, "question" if n < 6 else "fallback", topic="wage-subsidy", band="high")
    report, before, raw = reports(lambda: built(store))
    assert before.summary["fallbacks"].public == SUPPRESSED and before.summary["fallback_rate"].public == 0.25
    assert recovered(before, raw)[("summary", "", "fallbacks")] == 2
    assert report.summary["fallback_rate"].public == HIDDEN and recovered(report, raw) == {}
    store.close()


def test_a_hidden_figure_between_two_five_is_not_pinned(tmp_path: Path) -> None:
    """5 shown and 5 ".." beside a "<5" of 3 in 13: the ".." is at most the 5 shown, so 13 - 5 - 5 = 3."""
    store = SQLiteStore(tmp_path / "stats.db")
    for n, topic in enumerate(["wage-subsidy"] * 5 + ["cv"] * 5 + ["work-training"] * 3):
        event(store, f"c{n}", 0, "question", topic=topic, band="high")
    report, _, raw = reports(lambda: built(store))
    assert [r["questions"].public for r in report.topics] == [HIDDEN, HIDDEN, SUPPRESSED]
    assert recovered(report, raw) == {}
    store.close()


def random_store(store: Store, rng: random.Random) -> None:
    for n in range(rng.randint(1, 40)):
        who, region, lang = f"c{n}", rng.choice(["sundsvall", "vastervik"]), rng.choice(["sv", "en"])
        channel = rng.choice(["telegram", "web", "web"])
        for _ in range(rng.randint(1, 3)):  # visits, in November and December
            week, day = rng.randrange(6), rng.randrange(7)
            event(store, who, week, "command", region=None, lang=None, day=day)
            for _ in range(rng.randint(0, 4)):
                action = rng.choice(["question", "question", "fallback", "button", "booking", "moved", "cancelled",
                                     "helpful", "unhelpful", "crisis"])  # fmt: skip
                rated = ("question", "helpful", "unhelpful")
                topic = rng.choice(["wage-subsidy", "work-training", "cv"]) if action in rated else None
                band = rng.choice(["high", "medium", "low"]) if action in ("question", "fallback") else None
                event(store, who, week, action, region, lang, topic, band, day, rng.choice(TEXTS), channel)


@pytest.mark.parametrize("seed", range(40))
def test_no_hidden_figure_can_be_worked_out_from_random_statistics(tmp_path: Path, seed: int) -> None:
    store = SQLiteStore(tmp_path / "stats.db")
    random_store(store, random.Random(seed))
    report, before, raw = reports(lambda: built(store))
    hidden_everywhere_the_same(report, before)
    assert recovered(report, raw) == {}
    store.close()


def evidence(store: Store) -> None:
    """November: six conversations on Telegram in Sundsvall, in Swedish, ask, book, come back the next day and
    say whether the answer helped (five yes, one no); two in the web chat in Västervik, in English, ask once, one
    says it helped and one gets the crisis numbers. December: five web conversations ask and book in Västervik."""
    for n in range(6):
        event(store, f"t{n}", 0, "question", topic="wage-subsidy", band="high")
        event(store, f"t{n}", 0, "booking")
        event(store, f"t{n}", 0, "helpful" if n < 5 else "unhelpful", topic="wage-subsidy", day=1)
    web = {"region": "vastervik", "lang": "en", "channel": "web"}
    event(store, "w0", 1, "question", topic="work-training", band="high", **web)
    event(store, "w0", 1, "helpful", topic="work-training", **web)
    event(store, "w1", 1, "text", **web)  # the message that got the crisis numbers: the crisis event itself is
    event(store, "w1", 1, "crisis", **web)  # not linked to its conversation (F13), so it counts no conversation
    for n in range(5):
        event(store, f"d{n}", 5, "question", topic="work-training", band="high", **web)
        event(store, f"d{n}", 5, "booking", **web)


def test_evidence_for_the_funders(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "stats.db")
    evidence(store)
    report, before, raw = reports(lambda: built(store))
    summary = raw.to_dict()["summary"]
    assert {n: summary[n] for n in ("booked", "returning", "crisis", "helpful", "not_helpful")} == {
        "booked": 11, "returning": 6, "crisis": 1, "helpful": 6, "not_helpful": 1}  # fmt: skip
    booked = {s: {r.key: r["booked"].public for r in raw.section(s)} for s in BREAKDOWNS}
    assert booked["by_region"] == {"sundsvall": 6, "vastervik": 5}
    assert booked["by_lang"] == {"sv": 6, "en": 5}
    assert booked["by_channel"] == {"telegram": 6, "web": 5}
    assert booked["by_month"] == {"2026-11": 6, "2026-12": 5}
    november = row(raw.by_month, "2026-11")
    assert (november["conversations"].public, november["returning"].public, november["crisis"].public) == (
        8,
        6,
        1,
    )
    assert {r.key: (r["helpful"].public, r["not_helpful"].public) for r in raw.helpful} == {
        "wage-subsidy": (5, 1), "work-training": (1, 0)}  # fmt: skip

    # published: what rests on 1-4 conversations is "<5", and nothing hidden can be worked out from the rest
    assert (
        report.summary["crisis"].public == SUPPRESSED
        and row(report.by_month, "2026-11")["crisis"].public == "<5"
    )
    assert report.summary["not_helpful"].public == SUPPRESSED
    assert row(report.helpful, "work-training")["helpful"].public == SUPPRESSED
    assert report.summary["booked"].public == 11 and row(report.by_channel, "web")["booked"].public == 5
    assert row(report.by_month, "2026-11")["returning"].public == 6
    hidden_everywhere_the_same(report, before)
    assert recovered(report, raw) == {}
    # 6 helpful in all, 5 of them about wage subsidy: the 5 would give work training's 1 back, so it is hidden too
    assert row(report.helpful, "wage-subsidy")["helpful"].public == HIDDEN

    data = json.loads(to_json(report))
    assert data["summary"]["crisis"] == "<5" and data["summary"]["booked"] == 11
    assert {r["key"]: r["booked"] for r in data["by_channel"]} == {"telegram": 6, "web": 5}
    values = {(r["section"], r["key"]): r["value"] for r in csv.DictReader(io.StringIO(to_csv(report)))}
    assert values["by_month", "2026-11/crisis"] == "<5" and values["by_month", "2026-12/booked"] == "5"
    assert values["helpful", "work-training/helpful"] == "<5" and values["summary", "returning"] == "6"
    table = to_table(report)
    assert (
        "Ledde till bokning" in table
        and "Per kanal (Per channel)" in table
        and "Per månad (Per month)" in table
    )
    crisis_line = next(line for line in table.splitlines() if line.strip().startswith("Krissvar"))
    assert crisis_line.split()[-1] == "<5"
    page = visible_text(to_html(report))
    assert "Hjälpte svaret?" in page and "Krissvar" in page
    assert "Ledde till bokning" in page and "Återkommande" in page and "webbchatt" in page
    store.close()


def test_the_notes_explain_the_two_marks(testbot: TestBot, knowledge: Knowledge, seeded: Seeded) -> None:
    report = report_of(testbot, knowledge)
    assert any(
        "dold för att skydda en liten siffra" in n and "cannot be worked out" in n for n in report.notes
    )
    page = to_html(report)
    assert 'title="dold för att skydda en liten siffra' in page and ">..</span>" in page
    assert "asked .. times" in to_table(report)


# --- unanswered questions --------------------------------------------------------------------------------


def test_unanswered_questions_are_grouped(testbot: TestBot, knowledge: Knowledge, seeded: Seeded) -> None:
    with unsuppressed():
        raw = report_of(testbot, knowledge)
    assert [(r.label.casefold().startswith("vad blir det"), r["asked"].public) for r in raw.unanswered] == [
        (True, 6), (False, 2)]  # fmt: skip
    report = report_of(testbot, knowledge)
    # 8 fallbacks in all: 8 - 6 would give the dog question's 2 back, so the 6 is hidden too; hidden ones by label
    assert [(r.label in DOG, r["asked"].public) for r in report.unanswered] == [(True, "<5"), (False, HIDDEN)]
    assert report.summary["fallbacks"].public == 8
    table = to_table(report)
    assert "asked .. times" in table and "asked <5 times" in table and "asked 6" not in table
    page = visible_text(to_html(report))
    assert "asked .. times" in page and "asked <5 times" in page
    assert {r["key"]: r["value"] for r in csv.DictReader(io.StringIO(to_csv(report)))
            if r["section"] == "unanswered"}["group-2"] == HIDDEN  # fmt: skip


def test_the_published_report_carries_no_question_text(testbot: TestBot, knowledge: Knowledge) -> None:
    """The funders' report (every format, and the monthly mail's attachment) counts unanswered questions; their
    words can tell a person's story and stay for staff in `socialbot review`."""
    story = "mina barn är inte säkra hemma, vi bor på Björkvägen 7"
    for _ in range(6):
        testbot.store.record_unanswered(now=datetime(2026, 11, 2, 10, tzinfo=UTC), region="sundsvall", lang="sv",
                                        text=story)  # fmt: skip
    report = report_of(testbot, knowledge)
    assert report.unanswered[0].label == story, "staff-facing: the report itself still groups the text"
    for fmt in ("table", "json", "csv", "html"):
        out = render(report, fmt)
        for word in ("barn", "säkra", "Björkvägen", "hemma"):
            assert word not in out, (fmt, word)
        assert "group-1" in out or "Grupp 1" in out, fmt
    assert json.loads(to_json(report))["unanswered"][0]["asked"] == 6


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
    assert "Period: 2026-11-23 – 2026-11-29" in table.stdout and "asked .. times" in table.stdout

    result = socialbot_stats(state, "--format", "json", "--since", "2026-11-23", "--until", WEEK48_END)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["summary"]["conversations"] == 9 and data["period"]["until"] == WEEK48_END
    assert {t["key"]: t["questions"] for t in data["topics"]} == {"wage-subsidy": "..", "work-training": "<5"}

    result = socialbot_stats(state, "--format", "csv", "--since", "2026-12-01")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["section", "key", "value"] and ["summary", "conversations", "5"] in rows

    out = tmp_path / "report.html"
    result = socialbot_stats(state, "--format", "html", "--out", str(out))
    assert result.returncode == 0 and result.stdout == "", result.stderr
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and page.count("data:image/png;base64,") == len(CHARTS)

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
    assert isinstance(text, str)
    text = html.unescape(text)  # sent as Telegram HTML
    assert "Samtal: 19" in text and "senaste 30 dagarna" in text
    assert "wage-subsidy: .. frågor" in text and "(<5 gånger)" in text and ".. är dolt" in text
    assert isinstance(photo, bytes) and photo.startswith(b"\x89PNG")
