"""End-to-end tests of tests/fake_botapi.py with the real python-telegram-bot stack (nothing mocked).

Every test talks HTTP to a FakeBotAPI on 127.0.0.1; the bot side is a real ``telegram.Bot`` or a
real ``Application`` built with ``base_url``/``base_file_url`` pointing at it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fake_botapi import ApiError, FakeBotAPI, mention_entity, parse_html

pytestmark = pytest.mark.asyncio

TOKEN = "123456:TEST-token"
CHAT = 4242
OTHER_CHAT = 777
GROUP = -100123


# --------------------------------------------------------------------------------------------------
# The bot under test: a tiny but real PTB application
# --------------------------------------------------------------------------------------------------

REGIONS = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Sundsvall", callback_data="region:sundsvall"),
            InlineKeyboardButton("Västervik", callback_data="region:vastervik"),
        ]
    ]
)


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(
        "<b>Välkommen!</b> Choose a region:", parse_mode="HTML", reply_markup=REGIONS
    )


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(f"echo: {update.effective_message.text}")


async def on_region(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer(f"Picked {query.data}")
    await query.edit_message_text(f"You picked {query.data.split(':', 1)[1]}")


async def on_group_mention(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(f"hello {update.effective_chat.title}")


async def on_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    kind = next(k for k in ("sticker", "photo", "voice", "document", "location") if getattr(message, k))
    await message.reply_text(f"got {kind}")


async def on_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.edited_message.reply_text(f"edited: {update.edited_message.text}")


def build_app(api: FakeBotAPI, *, rate_limiter: AIORateLimiter | None = None) -> Application:
    builder = ApplicationBuilder().token(api.token).base_url(api.base_url).base_file_url(api.base_file_url)
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    app = builder.build()
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.Entity("mention"), on_group_mention))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.TEXT, on_edit))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(
        MessageHandler(
            filters.Sticker.ALL | filters.PHOTO | filters.VOICE | filters.Document.ALL | filters.LOCATION,
            on_media,
        )
    )
    app.add_handler(CallbackQueryHandler(on_region, pattern=r"^region:"))
    return app


@contextlib.asynccontextmanager
async def polling(app: Application) -> AsyncIterator[Application]:
    """Run ``app`` exactly as production does, with long polling."""
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


@pytest_asyncio.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(token=TOKEN, bot_username="social_test_bot") as server:
        yield server


@pytest_asyncio.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(**api.bot_kwargs()) as client:
        yield client


async def raw(api: FakeBotAPI, method: str, *, token: str = TOKEN, **kwargs: Any) -> tuple[int, Any]:
    """One plain HTTP request to the fake, returning (status, parsed JSON or text)."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            kwargs.pop("http_method", "POST"), f"{api.url}/bot{token}/{method}", **kwargs
        ) as resp,
    ):
        if resp.content_type == "application/json":
            return resp.status, await resp.json()
        return resp.status, await resp.text()


# --------------------------------------------------------------------------------------------------
# Conversations through a polling Application
# --------------------------------------------------------------------------------------------------


async def test_command_echo_and_callback_round_trip(api: FakeBotAPI) -> None:
    async with polling(build_app(api)):
        start_id = api.push_command(CHAT, "start", first_name="Alva", language_code="sv")
        [welcome] = await api.wait_for_messages(CHAT, 1)

        assert welcome.method == "sendMessage"
        assert welcome.text == "<b>Välkommen!</b> Choose a region:"
        assert welcome.parse_mode == "HTML"
        assert welcome.callback_data == ["region:sundsvall", "region:vastervik"]
        assert welcome.message_id == start_id + 1  # message ids are per chat, shared with the user
        # What Telegram returned to the bot: tags parsed into entities, keyboard echoed.
        assert welcome.message["text"] == "Välkommen! Choose a region:"
        assert welcome.message["entities"] == [{"type": "bold", "offset": 0, "length": 10}]
        assert welcome.message["reply_markup"] == welcome.reply_markup

        api.push_text(CHAT, "hej")
        echoed = await api.wait_for_messages(CHAT, 2)
        assert echoed[1].text == "echo: hej"

        query_id = api.push_callback(CHAT, welcome.message_id, "region:sundsvall")
        edit = await api.wait_for_sent(lambda r: r.method == "editMessageText")
        assert (edit.chat_id, edit.message_id, edit.text) == (
            CHAT,
            welcome.message_id,
            "You picked sundsvall",
        )
        await api.wait_for_call("answerCallbackQuery")
        [answer] = api.answered_callbacks
        assert (answer.callback_query_id, answer.text) == (query_id, "Picked region:sundsvall")
        # Editing without reply_markup removed the keyboard, as on Telegram.
        assert "reply_markup" not in api.message(CHAT, welcome.message_id)

        api.push_text(OTHER_CHAT, "first words")
        [other] = await api.wait_for_messages(OTHER_CHAT, 1)
        assert other.message_id == 2
        assert len(api.messages_to(CHAT)) == 2
        assert len(api.messages_to(CHAT, include_edits=True)) == 3

    methods = [method for method, _ in api.calls]
    assert methods[:2] == ["getMe", "deleteWebhook"]
    assert {"getUpdates", "sendMessage", "answerCallbackQuery", "editMessageText"} <= set(methods)


async def test_group_mentions_media_and_edits_reach_handlers(api: FakeBotAPI) -> None:
    async with polling(build_app(api)):
        text = "@social_test_bot what's on?"
        api.push_text(GROUP, text, chat_type="group", entities=[mention_entity(text, "social_test_bot")])
        api.push_mention(GROUP, "again", chat_type="supergroup", chat_title="Kafé", user_id=55)
        replies = await api.wait_for_messages(GROUP, 2)
        assert [r.text for r in replies] == ["hello Test group", "hello Kafé"]
        api.push_command(GROUP, "start", mention_bot=True, chat_type="group")  # /start@social_test_bot
        welcome = (await api.wait_for_messages(GROUP, 3))[2]
        assert welcome.callback_data == ["region:sundsvall", "region:vastervik"]

        api.push_sticker(CHAT)
        api.push_photo(CHAT, caption="me")
        api.push_voice(CHAT)
        api.push_document(CHAT, b"cv", "cv.pdf", mime_type="application/pdf")
        api.push_location(CHAT, 62.39, 17.31)
        replies = await api.wait_for_messages(CHAT, 5)
        assert sorted(r.text for r in replies) == sorted(
            f"got {k}" for k in ("sticker", "photo", "voice", "document", "location")
        )

        message_id = api.push_text(CHAT, "typo")
        await api.wait_for_messages(CHAT, 6)
        assert api.push_edited_text(CHAT, message_id, "fixed") == message_id
        edited = await api.wait_for_sent(lambda r: r.text == "edited: fixed")
        assert edited.chat_id == CHAT

    with pytest.raises(ValueError, match="negative"):
        api.push_text(5, "x", chat_type="group")
    with pytest.raises(ValueError, match="must equal"):
        api.push_text(5, "x", user_id=6)


async def test_flood_wait_is_retried_by_rate_limiter_and_delivered_once(api: FakeBotAPI) -> None:
    api.fail_next("sendMessage", status=429, retry_after=1)
    async with polling(build_app(api, rate_limiter=AIORateLimiter(max_retries=2))):
        started = time.monotonic()
        api.push_text(CHAT, "hello?")
        [reply] = await api.wait_for_messages(CHAT, 1, timeout=60)
        assert time.monotonic() - started >= 1.0  # the client honoured retry_after

    assert reply.text == "echo: hello?"
    assert len(api.calls_of("sendMessage")) == 2  # one refused, one delivered
    assert len(api.messages_to(CHAT)) == 1


async def test_wait_for_messages_timeout_lists_what_was_sent(api: FakeBotAPI, bot: Bot) -> None:
    await bot.send_message(CHAT, "only one")
    with pytest.raises(TimeoutError) as caught:
        await api.wait_for_messages(CHAT, 2, timeout=0.2)
    assert "2 message(s) to chat 4242" in str(caught.value)
    assert "Sent so far (1)" in str(caught.value)
    assert "'only one'" in str(caught.value)


# --------------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------------


async def test_bad_gateway_surfaces_as_network_error(api: FakeBotAPI, bot: Bot) -> None:
    api.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError) as caught:
        await bot.send_message(CHAT, "hi")
    assert type(caught.value) is NetworkError  # not BadRequest, TimedOut, ...
    assert "Bad Gateway" in str(caught.value)
    assert api.sent == []

    await bot.send_message(CHAT, "hi again")  # the fault was for one call only
    assert [r.text for r in api.messages_to(CHAT)] == ["hi again"]
    assert len(api.calls_of("sendMessage")) == 2

    api.fail_next("getMe", status=502)
    assert await raw(api, "getMe") == (502, "Bad Gateway")  # plain text, like a proxy


async def test_hang_makes_the_client_time_out_without_effect(api: FakeBotAPI, bot: Bot) -> None:
    hang = 4.0  # long beside the 0.2 s read timeout, so that a busy machine's slowness cannot pass for the hang
    api.hang_next("sendMessage", hang)
    started = time.monotonic()
    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "slow", read_timeout=0.2)
    assert time.monotonic() - started < hang - 0.5  # timed out, not answered at the end of the hang
    await asyncio.sleep(max(0.0, started + hang + 0.3 - time.monotonic()))  # past the end of the hang
    assert api.sent == []  # the abandoned call was cancelled, not processed late
    assert api.calls_of("sendMessage")[0]["text"] == "slow"

    await bot.send_message(CHAT, "fast")
    assert [r.text for r in api.messages_to(CHAT)] == ["fast"]


async def test_blocked_user_and_unknown_fault_method(api: FakeBotAPI, bot: Bot) -> None:
    api.block(CHAT)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(CHAT, "hi")
    api.unblock(CHAT)
    await bot.send_chat_action(CHAT, "typing")
    assert [(a.chat_id, a.action) for a in api.chat_actions] == [(CHAT, "typing")]
    with pytest.raises(ValueError, match="unknown Bot API method"):
        api.fail_next("sendMesage")


# --------------------------------------------------------------------------------------------------
# Telegram's validation rules
# --------------------------------------------------------------------------------------------------


async def test_html_and_limits_are_validated_like_telegram(api: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't find end tag corresponding to start tag b"):
        await bot.send_message(CHAT, "<b>x", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r'(?i)unsupported start tag "br" at byte offset 2'):
        await bot.send_message(CHAT, "a <br> b", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CHAT, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(CHAT, "  ")
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(
            CHAT,
            "pick",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]]),
        )
    assert api.sent == []
    assert len(api.calls_of("sendMessage")) == 5  # failed calls are recorded too

    html = '<b>bold <i>both</i></b> <a href="https://example.org">link</a> <tg-spoiler>s</tg-spoiler> &lt;3'
    message = await bot.send_message(CHAT, html, parse_mode="HTML")
    assert message.text == "bold both link s <3"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        ("bold", 0, 9),
        ("italic", 5, 4),
        ("text_link", 10, 4),
        ("spoiler", 15, 1),
    ]
    [record] = api.messages_to(CHAT)
    assert record.text == html  # the record keeps what the bot sent
    await bot.send_message(CHAT, "x" * 4096)  # exactly at the limit is fine


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<b>x", "Can't find end tag corresponding to start tag b"),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("привет <p>", 'Unsupported start tag "p" at byte offset 13'),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<a href=x/>y</a>", "Unexpected end of name token at byte offset 8"),
        ('<tg-emoji emoji-id="abc">x</tg-emoji>', "Invalid custom emoji identifier specified"),
    ],
)
async def test_parse_html_errors_match_telegram(html: str, error: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_html(html)
    assert caught.value.status == 400
    assert caught.value.description == f"Bad Request: can't parse entities: {error}"


async def test_parse_html_accepts_telegram_markup() -> None:
    text, entities = parse_html(
        '<pre><code class="language-python">x = 1</code></pre> <span class="tg-spoiler">😀</span>'
        "<blockquote expandable>q</blockquote> Tom &amp; Jerry &nbsp;"
    )
    assert text == "x = 1 😀q Tom & Jerry &nbsp;"
    assert entities == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"},
        {"type": "spoiler", "offset": 6, "length": 2},  # UTF-16: the emoji counts 2
        {"type": "expandable_blockquote", "offset": 8, "length": 1},
    ]


async def test_edits_follow_telegram_rules(api: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "v1", reply_markup=REGIONS)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("v1", CHAT, sent.message_id, reply_markup=REGIONS)
    edited = await bot.edit_message_text("v2", CHAT, sent.message_id)
    assert edited.text == "v2" and edited.reply_markup is None
    with pytest.raises(BadRequest, match=r"(?i)message_too_long"):
        await bot.edit_message_text("x" * 4097, CHAT, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("v3", CHAT, 999)
    user_message = api.push_text(CHAT, "mine")
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("hijack", CHAT, user_message)
    with_keyboard = await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=REGIONS)
    assert with_keyboard.reply_markup == REGIONS
    assert [r.method for r in api.sent] == ["sendMessage", "editMessageText", "editMessageReplyMarkup"]


async def test_commands_are_stored_per_scope_and_language(api: FakeBotAPI, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("help", "Help")])
    await bot.set_my_commands(
        [BotCommand("start", "Börja")], scope=BotCommandScopeChat(CHAT), language_code="sv"
    )
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    swedish = await bot.get_my_commands(scope=BotCommandScopeChat(CHAT), language_code="sv")
    assert [(c.command, c.description) for c in swedish] == [("start", "Börja")]
    assert await bot.get_my_commands(language_code="sv") == ()  # no fallback, as on Telegram
    assert api.commands_for(f"chat:{CHAT}", "sv") == [{"command": "start", "description": "Börja"}]

    await bot.delete_my_commands()
    assert api.commands_for() is None
    assert list(api.commands) == [(f"chat:{CHAT}", "sv")]
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start!", "bad")])


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------


async def test_send_document_round_trips_bytes(api: FakeBotAPI, bot: Bot) -> None:
    payload = bytes(range(256)) * 64  # binary, 16 KiB
    message = await bot.send_document(CHAT, InputFile(payload, filename="report.bin"), caption="Q3 report")

    [record] = api.messages_to(CHAT)
    assert (record.method, record.filename, record.caption) == ("sendDocument", "report.bin", "Q3 report")
    assert record.data == payload
    assert message.document.file_name == "report.bin"
    assert message.document.file_size == len(payload)
    assert message.caption == "Q3 report"

    # The bot can fetch it back through base_file_url, and resend it by file_id.
    downloaded = await (await bot.get_file(message.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == payload
    await bot.send_document(OTHER_CHAT, message.document.file_id)
    [resent] = api.messages_to(OTHER_CHAT)
    assert (resent.file_ref, resent.data) == (message.document.file_id, None)

    # Files users send are downloadable too.
    user_msg_id = api.push_document(CHAT, b"name;city\nAlva;Sundsvall\n", "people.csv", mime_type="text/csv")
    file_id = api.message(CHAT, user_msg_id)["document"]["file_id"]
    assert (
        bytes(await (await bot.get_file(file_id)).download_as_bytearray()) == b"name;city\nAlva;Sundsvall\n"
    )

    await bot.send_photo(CHAT, photo=b"\xff\xd8\xff\xe0 not really a jpeg")
    assert api.sent[-1].method == "sendPhoto"
    assert api.sent[-1].data == b"\xff\xd8\xff\xe0 not really a jpeg"
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_document(CHAT, "no-such-file-id")


# --------------------------------------------------------------------------------------------------
# Protocol details
# --------------------------------------------------------------------------------------------------


async def test_http_protocol_matches_telegram(api: FakeBotAPI) -> None:
    assert await raw(api, "getMe", token="123456:wrong") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert await raw(api, "sendCarrierPigeon") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    status, body = await raw(api, "sendMessage", json={"chat_id": CHAT, "text": "json body"})
    assert status == 200 and body["ok"] is True and body["result"]["text"] == "json body"
    status, body = await raw(api, "sendmessage", data={"chat_id": str(CHAT), "text": "form body"})
    assert status == 200 and body["result"]["chat"]["id"] == CHAT  # method names are case-insensitive
    status, body = await raw(api, "getMe", http_method="GET")
    assert body["result"]["username"] == "social_test_bot"

    api.fail_next("sendMessage", status=429, retry_after=7)
    assert await raw(api, "sendMessage", json={"chat_id": CHAT, "text": "x"}) == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        },
    )


async def test_wrong_token_is_invalid_token_for_ptb(api: FakeBotAPI) -> None:
    with pytest.raises(InvalidToken):
        async with Bot(token="123456:wrong", base_url=api.base_url):
            pass


async def test_get_updates_long_poll_semantics(api: FakeBotAPI, bot: Bot) -> None:
    first = api.push_text(CHAT, "one")
    api.push_text(CHAT, "two")
    api.push_text(CHAT, "three")
    updates = await bot.get_updates()
    assert [u.message.text for u in updates] == ["one", "two", "three"]
    assert updates[0].message.message_id == first

    # offset confirms everything before it; limit caps the batch.
    updates = await bot.get_updates(offset=updates[1].update_id, limit=1)
    assert [u.message.text for u in updates] == ["two"]
    assert [u["message"]["text"] for u in api.pending_updates] == ["two", "three"]

    # A long poll returns as soon as an update exists, not at its timeout.
    last = (await bot.get_updates(offset=-1))[0].update_id  # -1: keep only the newest
    poll = asyncio.create_task(bot.get_updates(offset=last + 1, timeout=60, read_timeout=90))
    await asyncio.sleep(0.1)
    assert not poll.done()
    started = time.monotonic()
    api.push_text(CHAT, "four")
    updates = await asyncio.wait_for(poll, 45)
    assert time.monotonic() - started < 45  # well before the poll's 60 s timeout (a busy machine gets slack)
    assert [u.message.text for u in updates] == ["four"]

    # allowed_updates is remembered and filters out other kinds.
    api.push_text(CHAT, "ignored")
    api.push_callback(CHAT, 1, "x")
    updates = await bot.get_updates(offset=updates[0].update_id + 1, allowed_updates=["callback_query"])
    assert [u.callback_query.data for u in updates] == ["x"]

    # A second concurrent poll terminates the first one, as on Telegram.
    old = asyncio.create_task(bot.get_updates(offset=updates[0].update_id + 1, timeout=5))
    await asyncio.sleep(0.1)
    status, body = await raw(api, "getUpdates", json={"offset": updates[0].update_id + 1, "timeout": 0})
    assert (status, body) == (200, {"ok": True, "result": []})
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await old


async def test_webhook_mode(api: FakeBotAPI) -> None:
    secret = "s3cret-token"
    app = build_app(api)
    received: list[str | None] = []

    async def webhook(request: web.Request) -> web.Response:
        received.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != secret:
            return web.Response(status=403)
        await app.update_queue.put(Update.de_json(await request.json(), app.bot))
        return web.Response()

    receiver = web.Application()
    receiver.router.add_post("/hook", webhook)
    runner = web.AppRunner(receiver, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        async with app:
            await app.start()
            assert await app.bot.set_webhook(url, secret_token=secret)
            info = await app.bot.get_webhook_info()
            assert (info.url, info.pending_update_count) == (url, 0)
            with pytest.raises(Conflict, match="webhook is active"):
                await app.bot.get_updates()

            api.push_text(CHAT, "via webhook")
            assert await api.post_update_to(secret_token="wrong") == 403
            info = await app.bot.get_webhook_info()
            assert info.pending_update_count == 1
            assert info.last_error_message == "Wrong response from the webhook: 403 Forbidden"

            assert await api.post_update_to() == 200  # url and secret from setWebhook
            [reply] = await api.wait_for_messages(CHAT, 1)
            assert reply.text == "echo: via webhook"
            assert received == ["wrong", secret]
            with pytest.raises(LookupError):
                await api.post_update_to(url)

            assert await app.bot.delete_webhook()
            assert api.webhook is None
            await app.stop()
    finally:
        await runner.cleanup()


async def test_shutdown_leaves_no_pending_tasks() -> None:
    async with FakeBotAPI(token=TOKEN) as api:
        async with polling(build_app(api, rate_limiter=AIORateLimiter())):
            api.push_command(CHAT, "start")
            await api.wait_for_messages(CHAT, 1)
        # A request still hanging at shutdown is released, not waited for.
        api.hang_next("getMe", 120)
        hanging = asyncio.create_task(raw(api, "getMe"))
        await api.wait_for_call("getMe", count=2)
        started = time.monotonic()
    assert time.monotonic() - started < 60  # not the hang's 120 s (a busy machine gets slack)
    with contextlib.suppress(aiohttp.ClientError):
        await hanging
    await asyncio.sleep(0)
    leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert leftovers == []
