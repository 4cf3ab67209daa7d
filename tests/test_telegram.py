"""The Telegram layer end to end: the real python-telegram-bot Application against a local Bot API server."""

from __future__ import annotations

import asyncio
import html
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bot.booking.slots import parse_slot_key
from bot.channels.ratelimit import IncomingLimit
from bot.channels.telegram import TelegramChannel, split_text
from bot.config import Config
from bot.engine import Engine
from bot.knowledge import Knowledge
from bot.storage import open_store
from tests.conftest import CONTENT, ROOT, shared_cache
from tests.fake_botapi import FakeBotAPI, SentRecord
from tests.transcript import Clock, TestBot

TOKEN = "123456:TEST-token_for-the-fake-api"
USER = 4242
DEVELOPER = 777
ADMIN = 999


@dataclass
class Live:
    api: FakeBotAPI
    channel: TelegramChannel
    engine: Engine
    clock: Clock
    content_dir: Path

    async def quiet(self, timeout: float = 60.0) -> None:
        """Wait until every pushed update is handled (its replies sent) and then nothing more is being sent.

        "The queue is empty" alone raced on a busy machine: an update taken from the queue may still be inside
        its handler, and a reply slower than one poll was missed. An update the bot has confirmed (the fake
        server no longer holds it) is in PTB's update queue, whose `join()` returns once every update taken from
        it is done (`task_done` after its handler returned)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen = -1
        while loop.time() < deadline:
            await asyncio.sleep(0.05)
            if self.api.pending_updates:
                continue  # not yet fetched by the bot
            await asyncio.wait_for(self.channel.application.update_queue.join(), max(deadline - loop.time(), 0.01))
            if not self.api.pending_updates and len(self.api.sent) == seen:
                return
            seen = len(self.api.sent)
        raise TimeoutError(self.api.describe_sent())

    async def say(self, text: str, chat: int = USER) -> list[SentRecord]:
        before = len(self.api.sent)
        if text.startswith("/"):
            command, _, args = text[1:].partition(" ")
            self.api.push_command(chat, command, args or None)
        else:
            self.api.push_text(chat, text)
        await self.quiet()
        return [r for r in self.api.sent[before:] if r.chat_id == chat]

    async def press(self, data: str, chat: int = USER) -> list[SentRecord]:
        before = len(self.api.sent)
        message = next((r for r in reversed(self.api.messages_to(chat)) if data in r.callback_data), None)
        message_id = message.message_id if message else 1
        self.api.push_callback(chat, message_id, data)
        await self.quiet()
        return [r for r in self.api.sent[before:] if r.chat_id == chat]

    def buttons(self, chat: int = USER) -> list[str]:
        last = [r for r in self.api.messages_to(chat) if r.reply_markup]
        return last[-1].callback_data if last else []


def text_of(records: list[SentRecord]) -> str:
    return "\n".join(html.unescape(r.text or "") for r in records)


@asynccontextmanager
async def live_bot(tmp_path: Path, clock: Clock, api: FakeBotAPI | None = None,
                   incoming: IncomingLimit | None = None) -> AsyncIterator[Live]:  # fmt: skip
    """The bot as deployed, except that by default a chat may send as fast as a test does (tests/
    test_hardening_telegram.py passes the production `IncomingLimit()`)."""
    content_dir = tmp_path / "content"
    if not content_dir.exists():
        shutil.copytree(CONTENT, content_dir)
    config = Config(content_dir=content_dir, state_dir=tmp_path / "state", admin_chats=frozenset({ADMIN}),
                    notify_chats={"sundsvall": DEVELOPER, "vastervik": DEVELOPER + 1}, cache=shared_cache())  # fmt: skip
    async with FakeBotAPI(token=TOKEN) if api is None else _reuse(api) as server:
        store = open_store(config.state_dir)
        engine = Engine(Knowledge.load(content_dir, cache_dir=shared_cache()), store, channel="telegram", clock=clock)
        channel = TelegramChannel(engine, config, reminder_interval=0.05,
                                  incoming=incoming or IncomingLimit(burst=10_000))  # fmt: skip
        application = channel.build(
            server.token, base_url=server.base_url, base_file_url=server.base_file_url
        )
        async with application:
            await channel.on_startup(application)
            await application.start()
            await application.updater.start_polling(poll_interval=0, timeout=1)
            try:
                yield Live(server, channel, engine, clock, content_dir)
            finally:
                await application.updater.stop()
                await application.stop()
                await channel.on_shutdown(application)
        store.close()


@asynccontextmanager
async def _reuse(api: FakeBotAPI) -> AsyncIterator[FakeBotAPI]:
    yield api


async def onboard(live: Live, chat: int = USER) -> None:
    await live.say("/start", chat)
    await live.press("lang:sv", chat)
    await live.press("region:sundsvall", chat)


async def test_a_person_asks_books_and_the_developer_is_told(tmp_path: Path, clock: Clock) -> None:
    async with live_bot(tmp_path, clock) as live:
        sent = await live.say("/start")
        assert "Vilket språk" in text_of(sent) and "lang:sv" in live.buttons()
        await live.press("lang:sv")
        assert "region:sundsvall" in live.buttons()
        await live.press("region:sundsvall")
        answer = await live.say("hur funkar lönebidrag")
        assert "lönebidrag" in text_of(answer).lower()
        assert answer[-1].parse_mode == "HTML" and any(d.startswith("topic:") for d in live.buttons())

        await live.say("/book")
        slot = next(d for d in live.buttons() if d.startswith("slot:"))
        await live.press(slot)
        await live.say("Anna")
        await live.press("reach:phone")
        await live.say("070-123 45 67")
        before = len(live.api.sent)
        done = await live.press("confirm")
        assert "Klart!" in text_of(done)
        # The calendar file follows the reply through the outbox: waited for, not expected within the reply's quiet.
        document = await live.api.wait_for_sent(lambda r: r.method == "sendDocument", after=before)
        assert document.chat_id == USER and document.filename == "meeting.ics" and b"BEGIN:VCALENDAR" in document.data
        note = await live.api.wait_for_messages(DEVELOPER, 1)
        assert "Ny bokning" in note[0].text and "Anna" in note[0].text and "+46701234567" in note[0].text

        # A command list for every content language (English the default), described in that language.
        assert live.api.commands_for("default", "sv") and live.api.commands_for("default", "")
        for code in ("ar", "fa", "so", "ti", "uk"):
            listed = live.api.commands_for("default", code)
            assert listed and listed[2] == {"command": "book", "description": live.engine.knowledge.content.text(
                "command_book", code)}, code  # fmt: skip


async def test_reminders_fire_24h_and_2h_before_and_survive_a_restart(tmp_path: Path, clock: Clock) -> None:
    async with live_bot(tmp_path, clock) as live:
        await onboard(live)
        await live.say("/book")
        slot = next(d for d in live.buttons() if d.startswith("slot:"))
        for step in (slot, "skip", "reach:chat", "confirm"):
            await live.press(step)
        note = await live.api.wait_for_messages(DEVELOPER, 1)
        assert f'href="tg://user?id={USER}"' in note[0].text, "the developer can open the person's chat"
        start = parse_slot_key(slot.removeprefix("slot:"))
        clock.now = start - timedelta(hours=23)
        reminder = await live.api.wait_for_sent(lambda r: "Påminnelse" in (r.text or ""), timeout=60)
        assert reminder.chat_id == USER
    # A restart: reminders come from the database, so the 24 h one is not sent again and the 2 h one comes.
    async with live_bot(tmp_path, clock) as live:
        await asyncio.sleep(0.3)
        assert not [r for r in live.api.sent if "Påminnelse" in (r.text or "")]
        clock.now = start - timedelta(minutes=90)
        await live.api.wait_for_sent(lambda r: "Påminnelse" in (r.text or ""), timeout=60)
        await asyncio.sleep(0.3)
        assert len([r for r in live.api.sent if "Påminnelse" in (r.text or "")]) == 1


async def test_forged_callback_changes_nothing(tmp_path: Path, clock: Clock) -> None:
    async with live_bot(tmp_path, clock) as live:
        await onboard(live)
        answered = len(live.api.answered_callbacks)
        for data in ("confirm", "slot:20261201T0900Z", "delete:yes", "cancelbooking:abc"):
            replies = await live.press(data)
            assert replies, data
        assert "inte öppet längre" in text_of(replies)
        assert live.engine.store.upcoming(clock()) == []
        assert len(live.api.answered_callbacks) == answered + 4, (
            "every press is answered, so no spinner hangs"
        )


async def test_429_and_502_lose_nothing(tmp_path: Path, clock: Clock) -> None:
    async with live_bot(tmp_path, clock) as live:
        await onboard(live)
        live.api.fail_next("sendMessage", 429, retry_after=1)
        live.api.fail_next("sendMessage", 502)
        before = len(live.api.messages_to(USER))
        live.api.push_text(USER, "vad är arbetsträning")
        await live.api.wait_for_messages(USER, before + 1, timeout=60)
        await live.quiet()
        replies = live.api.messages_to(USER)[before:]
        assert len(replies) == 1 and "arbetsträning" in replies[0].text.lower()
        statuses = [c.method for c in live.api.calls if c.method == "sendMessage"]
        assert len(statuses) >= before + 3  # two failed attempts and the delivered one


async def test_content_broken_then_fixed_while_running(tmp_path: Path, clock: Clock) -> None:
    async with live_bot(tmp_path, clock) as live:
        await onboard(live)
        path = live.content_dir / "topics" / "wise.yaml"
        good = path.read_text(encoding="utf-8")
        path.write_text(good.replace("title:", "titel:", 1), encoding="utf-8")
        warning = await live.api.wait_for_sent(lambda r: r.chat_id == ADMIN, timeout=60)
        assert "topics/wise.yaml:" in warning.text and "titel" in warning.text
        still = await live.say("vad är arbetsträning")
        assert "arbetsträning" in text_of(still).lower(), "the last good content keeps answering"

        marker = "Detta är en ny mening från personalen."
        text = good.replace("answer:\n  sv: |\n", f"answer:\n  sv: |\n    {marker}\n", 1)
        assert marker in text, "wise.yaml must have a shared Swedish answer block for this test"
        path.write_text(text, encoding="utf-8")
        for _ in range(400):  # training the matcher on every language takes seconds on a busy machine
            await asyncio.sleep(0.1)
            if marker in live.engine.knowledge.content.topics["wise"].answers[(None, "sv")]:
                break
        answer = await live.say("/start")
        await live.press("topic:wise")
        assert marker in text_of(live.api.messages_to(USER)[-1:])
        assert answer


async def test_stickers_edits_and_groups(tmp_path: Path, clock: Clock) -> None:
    async with live_bot(tmp_path, clock) as live:
        await onboard(live)
        before = len(live.api.sent)
        live.api.push_sticker(USER)
        await live.quiet()
        assert "bara läsa text" in text_of(live.api.sent[before:])
        group = -100123
        before = len(live.api.sent)
        live.api.push_text(group, "vad är lönebidrag", user_id=55, chat_type="group")
        await live.quiet()
        assert live.api.messages_to(group) == [], "in a group the bot answers only when addressed"
        live.api.push_mention(group, "vad är lönebidrag", user_id=55, chat_type="group")
        await live.quiet()
        assert live.api.messages_to(group)


async def test_long_answers_are_split_on_paragraphs() -> None:
    text = "\n\n".join(f"Stycke {i} " + "ord & <tecken> " * 60 for i in range(12))
    parts = split_text(text)
    assert len(parts) > 1
    assert all(len(html.escape(p, quote=False)) <= 4096 for p in parts)
    assert "\n\n".join(parts) == text


async def test_terminal_and_telegram_give_the_same_answers(
    tmp_path: Path, clock: Clock, knowledge: Knowledge
) -> None:
    script = ["vad är ett socialt företag", "how do I start one", "lönebidrag?", "vad blir vädret"]
    terminal = TestBot(knowledge, tmp_path / "terminal", clock)
    terminal.onboard()
    expected = []
    for line in script:
        terminal.send(line)
        expected.append([r.text for r in terminal.replies])
    terminal.close()
    async with live_bot(tmp_path / "tg", clock) as live:
        await onboard(live)
        for line, want in zip(script, expected, strict=True):
            got = [html.unescape(r.text) for r in await live.say(line)]
            assert got == want


def test_run_without_or_with_a_bad_token_exits_2(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    for token in ("", "not-a-token"):
        result = subprocess.run([sys.executable, "-m", "bot", "--state", str(tmp_path), "run"], cwd=ROOT,
                                env={**env, "TELEGRAM_BOT_TOKEN": token}, capture_output=True, text=True,
                                timeout=60)  # fmt: skip
        assert result.returncode == 2, result.stderr
        assert "TELEGRAM_BOT_TOKEN" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("secret_ok", [True, False])
async def test_webhook_mode_checks_the_secret(tmp_path: Path, clock: Clock, secret_ok: bool) -> None:
    from bot.channels.webhook import WebhookServer

    async with FakeBotAPI(token=TOKEN) as api:
        store = open_store(tmp_path / "state")
        engine = Engine(Knowledge.load(CONTENT, cache_dir=shared_cache()), store, channel="telegram", clock=clock)
        channel = TelegramChannel(engine, Config(content_dir=CONTENT, state_dir=tmp_path / "state"))
        application = channel.build(api.token, base_url=api.base_url, base_file_url=api.base_file_url)
        server = WebhookServer(application, "s3cret-token")
        async with application:
            await application.start()
            port = await server.start("127.0.0.1", 0)
            api.push_command(USER, "start")
            status = await api.post_update_to(f"http://127.0.0.1:{port}/telegram",
                                              secret_token="s3cret-token" if secret_ok else "wrong")  # fmt: skip
            if secret_ok:
                assert status == 200
                sent = await api.wait_for_messages(USER, 1)
                assert "Vilket språk" in sent[0].text
            else:
                assert status == 403
                await asyncio.sleep(0.2)
                assert api.messages_to(USER) == []
            await server.stop()
            await application.stop()
        store.close()
