"""Faults: a locked or full database, a crash between two writes, content that vanishes or is half
written during a reload, a Bot API that hangs. Each leaves the bot running and its data whole."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.storage import Store
from tests.test_telegram import USER, live_bot, onboard, text_of
from tests.transcript import Clock, TestBot


def _to_confirm(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.to_confirm()


def test_database_locked_by_another_process_briefly_is_waited_for(testbot: TestBot) -> None:
    _to_confirm(testbot)
    locker = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
         "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(1.5); c.execute('COMMIT')",
         testbot.store.path],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert locker.stdout.readline().strip() == "locked"
    started = time.monotonic()
    testbot.press_data("confirm")
    assert "Klart!" in testbot.text
    assert time.monotonic() - started >= 1.0, "the write waited for the other process"
    locker.wait(timeout=10)
    assert len(testbot.store.upcoming(testbot.clock())) == 1


def test_database_locked_too_long_gets_an_apology_and_no_half_booking(testbot: TestBot) -> None:
    _to_confirm(testbot)
    blocker = sqlite3.connect(testbot.store.path, isolation_level=None, timeout=0)
    testbot.store.db.conn.execute("PRAGMA busy_timeout = 200")  # don't make the test wait 10 s
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        testbot.press_data("confirm")
        assert "Försök igen" in testbot.text and "try again" in testbot.text
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert testbot.store.upcoming(testbot.clock()) == []
    assert testbot.store.load_state("test:1").flow == "booking.confirm", "the flow is still open"
    testbot.press_data("confirm")
    assert "Klart!" in testbot.text


def test_crash_between_two_writes_leaves_no_half_booking(
    testbot: TestBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    _to_confirm(testbot)

    def crash(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")  # as if the process died after the booking row

    monkeypatch.setattr(Store, "save_state", crash)
    testbot.press_data("confirm")
    monkeypatch.undo()
    assert testbot.store.upcoming(testbot.clock()) == [], "the booking row was rolled back with the state"
    assert testbot.notifier.sent == [], "nobody was told about a booking that does not exist"
    testbot.restart()
    testbot.press_data("confirm")
    assert "Klart!" in testbot.text and len(testbot.store.upcoming(testbot.clock())) == 1


def test_disk_full_when_writing(testbot: TestBot) -> None:
    _to_confirm(testbot)
    conn = testbot.store.db.conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own way to make the disk "full"
    for _ in range(20):  # fill the free pages so the next write cannot fit
        testbot.send("x" * 5000)
    testbot.press_data("confirm")
    assert "Försök igen" in testbot.text or "Klart!" in testbot.text
    conn.execute("PRAGMA max_page_count = 1073741823")
    if "Försök igen" in testbot.text:
        assert testbot.store.upcoming(testbot.clock()) == []
        testbot.press_data("confirm")
    assert len(testbot.store.upcoming(testbot.clock())) == 1


async def test_content_vanishing_or_half_written_during_reload_keeps_the_last_good(tmp_path: Path,
                                                                                    clock: Clock) -> None:  # fmt: skip
    async with live_bot(tmp_path, clock) as live:
        await onboard(live)
        path = live.content_dir / "topics" / "benefits.yaml"
        good = path.read_text(encoding="utf-8")
        path.write_text(good[: len(good) // 3], encoding="utf-8")  # half written
        assert live.channel.runtime.reload(), "a half-written file is reported"
        moved = live.content_dir.with_name("content-away")
        live.content_dir.rename(moved)
        assert live.channel.runtime.reload(), "a vanished directory is reported"
        moved.rename(live.content_dir)
        path.write_text(good, encoding="utf-8")
        answer = await live.say("vad är arbetsträning")
        assert "arbetsträning" in text_of(answer).lower()


async def test_bot_api_hanging_then_answering_loses_no_reply(tmp_path: Path, clock: Clock) -> None:
    async with live_bot(tmp_path, clock) as live:
        await onboard(live)
        live.api.hang_next("sendMessage", 6.0)  # longer than PTB's 5 s write timeout: the call times out
        before = len(live.api.messages_to(USER))
        live.api.push_text(USER, "vad är arbetsträning")
        await live.api.wait_for_messages(USER, before + 1, timeout=30)
        await asyncio.sleep(0.5)
        replies = live.api.messages_to(USER)[before:]
        assert len(replies) == 1 and "arbetsträning" in replies[0].text.lower()
