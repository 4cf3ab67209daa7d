"""The bot's HTTP client for the Bot API (bot/channels/http.py: PTB's BaseRequest over aiohttp), through a real
python-telegram-bot Bot against the local Bot API server: what PTB's own HTTPX request guarantees must hold."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.channels.guard import GuardedBot, GuardedRequest
from bot.channels.http import AiohttpRequest
from tests.fake_botapi import FakeBotAPI

pytestmark = pytest.mark.asyncio
CHAT = 4242


@pytest_asyncio.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        yield server


def _bot(api: FakeBotAPI, **timeouts: float | None) -> Bot:
    return Bot(
        **api.bot_kwargs(), request=AiohttpRequest(8, **timeouts), get_updates_request=AiohttpRequest(1)
    )


async def test_a_reply_with_buttons_arrives_as_sent(api: FakeBotAPI) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Boka ett möte", callback_data="book")]])
    async with _bot(api) as bot:
        message = await bot.send_message(CHAT, "Hej &amp; välkommen &lt;3 – å ä ö", parse_mode="HTML",
                                         reply_markup=markup, disable_notification=True)  # fmt: skip
    assert message.text == "Hej & välkommen <3 – å ä ö" and message.chat.id == CHAT
    (sent,) = api.messages_to(CHAT)
    assert sent.parse_mode == "HTML" and sent.reply_markup == markup.to_dict()
    (params,) = api.calls_of("sendMessage")
    assert params["chat_id"] == CHAT and params["disable_notification"] is True


async def test_a_file_goes_as_multipart_with_its_name_and_bytes(api: FakeBotAPI) -> None:
    content = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n" * 200
    async with _bot(api) as bot:
        await bot.send_document(CHAT, InputFile(content, filename="mote.ics"), caption="Ditt möte")
    (sent,) = api.messages_to(CHAT)
    assert sent.method == "sendDocument" and sent.filename == "mote.ics" and sent.data == content
    assert sent.caption == "Ditt möte"


async def test_updates_are_fetched_and_confirmed(api: FakeBotAPI) -> None:
    api.push_text(CHAT, "hej")
    async with _bot(api) as bot:
        updates = await bot.get_updates(timeout=0)
        assert [u.effective_message.text for u in updates if u.effective_message] == ["hej"]
        assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()


async def test_telegram_errors_are_ptb_errors(api: FakeBotAPI) -> None:
    api.fail_next("sendMessage", 429, retry_after=7)
    api.fail_next("sendMessage", 502)
    async with _bot(api) as bot:
        with pytest.raises(RetryAfter) as flood:
            await bot.send_message(CHAT, "a")
        assert flood.value.retry_after == 7
        with pytest.raises(NetworkError):
            await bot.send_message(CHAT, "b")
        with pytest.raises(BadRequest):
            await bot.send_message(CHAT, " ")  # an empty text
        await bot.send_message(CHAT, "c")
    assert [m.text for m in api.messages_to(CHAT)] == ["c"]


async def test_an_answer_slower_than_the_read_timeout_is_timed_out_and_sends_nothing(api: FakeBotAPI) -> None:
    api.hang_next("sendMessage", 60)
    async with _bot(api, read_timeout=0.5) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(CHAT, "late")
        await bot.send_message(CHAT, "on time")  # the pool is usable after a timeout
    assert [m.text for m in api.messages_to(CHAT)] == ["on time"]


async def test_no_server_is_a_network_error() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    request = AiohttpRequest(2)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as error:
            await request.post(f"{url}/bot123:abc/getMe")
        assert not isinstance(error.value, TimedOut)
    finally:
        await request.shutdown()
    with pytest.raises(RuntimeError):  # used before initialize() or after shutdown(), as PTB's own request
        await request.do_request(f"{url}/bot123:abc/getMe", "POST")


async def test_shutdown_then_initialize_again(api: FakeBotAPI) -> None:
    bot = _bot(api)
    async with bot:
        await bot.send_message(CHAT, "one")
    async with bot:
        await bot.send_message(CHAT, "two")
    assert [m.text for m in api.messages_to(CHAT)] == ["one", "two"]


async def test_guarded_bot_reads_each_update_once_and_skips_one_the_library_cannot_read(
    api: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Hemligtext Svensson"
    bad = api.push_update({"message": {"message_id": 1, "date": "igår", "text": secret,
                                       "chat": {"id": 7_654_321, "type": "private", "first_name": "Zlatanbritt"}}})  # fmt: skip
    api.push_text(CHAT, "hej")
    bot = GuardedBot(api.token, base_url=api.base_url, base_file_url=api.base_file_url,
                     request=GuardedRequest(lambda: None), get_updates_request=GuardedRequest(lambda: None))  # fmt: skip
    async with bot:
        with caplog.at_level(logging.INFO):  # (PTB logs every answer at DEBUG)
            first, second = await bot.get_updates(timeout=0)
        assert first.update_id == bad and first.effective_message is None
        assert second.effective_message is not None and second.effective_message.text == "hej"
        assert second.get_bot() is bot  # parsed for this bot, as the library's own get_updates does
        assert await bot.get_updates(offset=second.update_id + 1, timeout=0) == ()
    assert f"skipped update {bad}" in caplog.text
    assert secret not in caplog.text and "Zlatanbritt" not in caplog.text
