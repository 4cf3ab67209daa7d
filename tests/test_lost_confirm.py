"""A confirm press lost in a crash is told on the next message, a second press of the same confirm books nothing more,
and on Telegram the person's calendar file goes through the outbox, so a kill right after the confirm loses it not.
The crashes are real: a process killed with SIGKILL at the exact moment (before the booking's commit, or after it but
before the reply went out), and `socialbot run` killed while its calendar file waited for a retry."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from bot.dialog.model import ButtonPress
from bot.knowledge import Knowledge
from bot.storage import open_store
from tests.conftest import CACHE_ENV, CONTENT, ROOT
from tests.fake_botapi import FakeBotAPI
from tests.transcript import Clock, TestBot

# Walks a conversation up to "Stämmer det här?" and dies by SIGKILL at the point named by argv[2].
CRASH = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from bot.dialog.model import ButtonPress
    from bot.knowledge import Knowledge
    from tests.conftest import shared_cache
    from tests.transcript import Clock, TestBot
    bot = TestBot(Knowledge.load("content", cache_dir=shared_cache()), Path(sys.argv[1]), Clock(),
                  conversation="web:crash")
    bot.onboard()
    bot.to_confirm(name="Anna", phone="070-123 45 67")
    if sys.argv[2] == "before-commit":
        def die(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)
        bot.store.create_booking = die
        bot.engine.handle("web:crash", ButtonPress("confirm"), acknowledge=False)
    else:  # committed, and the channel was about to send the reply
        bot.engine.handle("web:crash", ButtonPress("confirm"), acknowledge=False)
        os.kill(os.getpid(), signal.SIGKILL)
    """
)


def crash(state: Path, where: str) -> None:
    done = subprocess.run([sys.executable, "-c", CRASH, str(state), where], cwd=ROOT, capture_output=True, timeout=180)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]


def test_a_confirm_killed_before_its_commit_is_told_and_the_times_come_again(
    knowledge: Knowledge, tmp_path: Path, clock: Clock
) -> None:
    crash(tmp_path / "state", "before-commit")
    bot = TestBot(knowledge, tmp_path / "state", clock, conversation="web:crash")
    try:
        assert not bot.store.upcoming(clock()), "nothing was committed"
        bot.send("hallå? blev det bokat?")
        assert "Din senaste bekräftelse gick inte igenom" in bot.text, bot.text
        assert bot.slot_choices(), "the free times again"
        bot.press_data(bot.slot_choices()[1].data)
        assert "Stämmer det här?" in bot.text and "Anna" in bot.text, "the name and number are kept"
        bot.press_data("confirm")
        assert "Klart" in bot.text and len(bot.store.upcoming(clock())) == 1
        bot.send("tack")
        assert "gick inte igenom" not in bot.text and "bekräftad" not in bot.text, "told once"
    finally:
        bot.close()


def test_a_confirm_killed_after_its_commit_is_told_confirmed_and_a_second_press_books_nothing(
    knowledge: Knowledge, tmp_path: Path, clock: Clock
) -> None:
    crash(tmp_path / "state", "after-commit")
    bot = TestBot(knowledge, tmp_path / "state", clock, conversation="web:crash")
    try:
        [booking] = bot.store.upcoming(clock())
        bot.send("hej, fick du min bokning?")
        assert bot.text.startswith("Din bokning") and "med Magnus Riklander är bekräftad" in bot.text, bot.text
        bot.press_data("confirm")  # the old button pressed again
        assert "är bekräftad" in bot.text and "Klart" not in bot.text
        bot.press_data("confirm")
        assert [b.id for b in bot.store.upcoming(clock())] == [booking.id], "never a second booking"
        assert len(bot.notifier.sent) == 0, "and no second notice to the developer"
        bot.send("vad är lönebidrag")
        assert "bekräftad" not in bot.text
    finally:
        bot.close()


def test_a_press_after_a_reply_that_went_out_is_the_same_booking(knowledge: Knowledge, tmp_path: Path,
                                                                   clock: Clock) -> None:  # fmt: skip
    bot = TestBot(knowledge, tmp_path / "state", clock)
    try:
        bot.onboard()
        bot.to_confirm(name="Anna", phone="070-123 45 67")
        bot.engine.handle(bot.conversation, ButtonPress("confirm"), acknowledge=False)
        bot.engine.replied(bot.conversation)  # the channel sent the reply
        bot.send("tack")
        assert "bekräftad" not in bot.text, "a reply that went out is not told again"
        bot.press_data("confirm")
        assert "är bekräftad" in bot.text, "a second press of the confirm: the same booking"
        assert len(bot.store.upcoming(clock())) == 1
    finally:
        bot.close()


# --- Telegram: the calendar file through the outbox, across a kill ------------------------------------------------

USER = 4343


async def start_bot(state: Path, api: FakeBotAPI, tmp_path: Path) -> asyncio.subprocess.Process:
    """`socialbot run` in a process of its own against the local Bot API server (the run's matcher cache reused)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TELEGRAM_BOT_TOKEN": api.token,
           "TELEGRAM_BASE_URL": api.base_url, CACHE_ENV: os.environ[CACHE_ENV]}  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--content", str(CONTENT), "--state", str(state), "run",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await api.wait_for_call("getUpdates", count=len(api.calls_of("getUpdates")) + 1, timeout=120)
    return process


async def test_the_calendar_file_survives_a_kill_right_after_the_confirm_and_is_sent_once(tmp_path: Path) -> None:
    state = tmp_path / "state"
    async with FakeBotAPI(token="123456:LOST-confirm-test") as api:
        process = await start_bot(state, api, tmp_path)
        try:
            async def press(data: str) -> None:
                """Press the button once a message offering it has arrived (the bot answers a chat in order)."""
                record = await api.wait_for_sent(lambda r: r.chat_id == USER and any(
                    d == data or (data == "slot:" and d.startswith("slot:")) for d in r.callback_data), timeout=60,
                    after=mark[0])  # fmt: skip
                chosen = next(d for d in record.callback_data if d == data or d.startswith(data))
                mark[0] = api.sent.index(record) + 1
                api.push_callback(USER, record.message_id, chosen)

            mark = [0]
            api.push_command(USER, "start")
            await press("lang:sv")
            await press("region:sundsvall")
            await api.wait_for_sent(lambda r: r.chat_id == USER and "menu" in str(r.callback_data), timeout=60,
                                    after=mark[0])  # fmt: skip
            api.push_command(USER, "book")
            await press("slot:")
            await api.wait_for_sent(lambda r: r.chat_id == USER and "skip" in r.callback_data, timeout=60,
                                    after=mark[0])  # fmt: skip
            api.push_text(USER, "Anna")
            await press("reach:phone")
            await api.wait_for_sent(lambda r: r.chat_id == USER and "telefon" in (r.text or ""), timeout=60,
                                    after=mark[0])  # fmt: skip
            api.push_text(USER, "070-123 45 67")
            record = await api.wait_for_sent(lambda r: r.chat_id == USER and "confirm" in r.callback_data,
                                             timeout=60, after=mark[0])  # fmt: skip
            api.fail_next("sendDocument", 502, times=3)  # the file's sends fail: it waits for its retries
            api.push_callback(USER, record.message_id, "confirm")
            await api.wait_for_call("sendDocument", timeout=60)
            assert any("Klart" in (r.text or "") for r in api.messages_to(USER))
            store = open_store(state)
            try:  # killed while the file waits for its retry (not mid-send: that one is taken over after its claim)
                for _ in range(600):
                    if store.query("SELECT status FROM outbox WHERE kind = 'calendar'") == [("pending",)]:
                        break
                    await asyncio.sleep(0.05)
                assert store.query("SELECT status FROM outbox WHERE kind = 'calendar'") == [("pending",)]
            finally:
                store.close()
        finally:
            process.send_signal(signal.SIGKILL)
            await process.wait()
        assert not [r for r in api.sent if r.method == "sendDocument"], "killed before the file went out"

        process = await start_bot(state, api, tmp_path)  # the restart
        try:
            document = await api.wait_for_sent(lambda r: r.method == "sendDocument", timeout=60)
            assert document.chat_id == USER and document.filename == "meeting.ics" and b"BEGIN:VEVENT" in document.data
            store = open_store(state)
            try:
                for _ in range(100):
                    rows = store.query("SELECT status, payload FROM outbox WHERE kind = 'calendar'")
                    if rows == [("sent", "{}")]:
                        break
                    await asyncio.sleep(0.1)
                assert rows == [("sent", "{}")], rows
            finally:
                store.close()
            assert len([r for r in api.sent if r.method == "sendDocument"]) == 1, "sent once"
        finally:
            process.send_signal(signal.SIGTERM)
            await process.wait()
