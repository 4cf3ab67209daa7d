"""The Telegram adapter: updates become dialog events, replies become messages. Nothing else.

All the dialog's logic lives in `bot.dialog`; notifications, reminders, the purge and content reloads
live in the channel-neutral `bot.runtime`, which this adapter starts with a Telegram transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import gc
import html
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.guard import GuardedBot, GuardedRequest
from bot.channels.ratelimit import MAX_WAIT, IncomingLimit, PerChatRateLimiter, retry_seconds
from bot.config import Config
from bot.content.model import Content
from bot.dialog.model import (
    OPEN_PRIVATE_CHAT,
    ButtonPress,
    Choice,
    CommandMessage,
    Event,
    Reply,
    TextMessage,
    Unsupported,
)
from bot.engine import Engine
from bot.notify.delivery import Transport
from bot.notify.telegram import TelegramTransport, split_text
from bot.review import ADMIN_PREFIX
from bot.runtime import Runtime

log = logging.getLogger(__name__)
T = TypeVar("T")
TOKEN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{3,}$")
CONVERSATION = "telegram:{}"
SEND_ATTEMPTS = 5
# The process's exit codes, for its supervisor (README: "The supervisor contract").
EXIT_STOPPED, EXIT_CONTENT, EXIT_USAGE, EXIT_UNAUTHORIZED, EXIT_DATABASE, EXIT_CONFLICT = 0, 1, 2, 3, 4, 5
SLOW_DOWN = (
    "Du skickar fler meddelanden än jag hinner svara på. Vänta en liten stund och skriv sedan igen.\n\n"
    "You are sending more messages than I can answer. Please wait a moment, then write again."
)

COMMANDS = ("start", "menu", "book", "mybookings", "region", "language", "privacy", "delete", "help")


def command_lists(content: Content) -> dict[str | None, list[tuple[str, str]]]:
    """The command list per Telegram language code (None: the default, English), described in every content
    language from its `command_<name>` texts. A variant such as sv-x-easy has no code of its own in Telegram:
    its base language's list is the one its readers see."""
    lists: dict[str | None, list[tuple[str, str]]] = {}
    for lang in content.languages:
        code = None if lang == "en" else lang.split("-")[0]
        if code in lists or (code is not None and len(code) != 2):
            continue
        lists[code] = [(name, content.text(f"command_{name}", lang)[:256]) for name in COMMANDS]
    return lists


def valid_token(token: str | None) -> bool:
    return bool(token and TOKEN.match(token.strip()))


# --- formatting -----------------------------------------------------------------------------------


def keyboard(choices: Sequence[Choice], private_url: str | None = None) -> InlineKeyboardMarkup | None:
    """Short labels two to a row, long ones alone: readable on a phone. The dialog's "go on in a private
    chat" button is a link to `private_url` (https://t.me/<bot>), or left out when the bot's name is unknown."""
    return _keyboard(tuple(choices), private_url)


@functools.lru_cache(maxsize=256)  # the same menus and answers' buttons again and again; PTB's objects are frozen
def _keyboard(choices: tuple[Choice, ...], private_url: str | None) -> InlineKeyboardMarkup | None:
    rows: list[list[InlineKeyboardButton]] = []
    for choice in choices:
        if choice.data == OPEN_PRIVATE_CHAT:
            if not private_url:
                continue
            button = InlineKeyboardButton(choice.label[:64], url=private_url)
        else:
            button = InlineKeyboardButton(choice.label[:64], callback_data=choice.data[:64])
        if len(choice.label) <= 18 and rows and len(rows[-1]) == 1 and len(rows[-1][0].text) <= 18:
            rows[-1].append(button)
        else:
            rows.append([button])
    return InlineKeyboardMarkup(rows) if rows else None


# --- sending, with retries ------------------------------------------------------------------------


async def with_retries(what: str, call: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T | None:
    """`await call(*args, **kwargs)`, retrying network errors and flood waits; give up quietly on a
    blocked chat. `what` names the call in logs, which never carry message text or chat ids."""
    delay = 0.5
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return await call(*args, **kwargs)
        except RetryAfter as exc:
            # Capped (README: no wait longer than 20 s), never given up at once: the chat's later replies, crisis
            # numbers included, queue behind this one (the chat's lock) and go out when the pause ends.
            await asyncio.sleep(min(retry_seconds(exc), MAX_WAIT))
        except (TimedOut, NetworkError) as exc:
            if isinstance(exc, BadRequest):
                log.warning("%s rejected by Telegram: %s", what, exc.message)
                return None
            log.warning("%s failed (attempt %d): %s", what, attempt, type(exc).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
        except Forbidden:
            log.info("%s: the chat has blocked the bot", what)
            return None
    log.error("%s failed %d times; giving up", what, SEND_ATTEMPTS)
    return None


async def send_replies(bot: Any, chat_id: int, replies: Sequence[Reply], private_url: str | None = None) -> None:
    for reply in replies:
        parts = split_text(reply.text)
        for index, part in enumerate(parts):
            markup = keyboard(reply.choices, private_url) if index == len(parts) - 1 else None
            await with_retries("sendMessage", bot.send_message, chat_id, html.escape(part, quote=False),
                               parse_mode=ParseMode.HTML, reply_markup=markup)  # fmt: skip
        if reply.attachment:
            document = InputFile(reply.attachment.content, filename=reply.attachment.filename)
            await with_retries("sendDocument", bot.send_document, chat_id, document)


# --- the adapter ----------------------------------------------------------------------------------


class TelegramChannel:
    """Holds the engine and the application; handlers here stay thin."""

    def __init__(self, engine: Engine, config: Config, *, reminder_interval: float = 60.0,
                 transports: Mapping[str, Transport] | None = None,
                 incoming: IncomingLimit | None = None) -> None:  # fmt: skip
        self.engine = engine
        self.config = config
        self.reminder_interval = reminder_interval
        self.extra_transports = dict(transports or {})  # e.g. e-mail, beside this bot's own Telegram
        self.runtime: Runtime | None = None
        self.application: Application | None = None
        self.bot_username: str | None = None
        self._chat_locks: dict[int, _ChatLock] = {}
        self.incoming = incoming or IncomingLimit()
        self.exit_code = EXIT_STOPPED
        self._told_database_lost = False
        self._conflict_task: asyncio.Task[None] | None = None
        self._store_gone_task: asyncio.Task[None] | None = None

    # --- building ------------------------------------------------------------------------------

    def build(
        self,
        token: str,
        base_url: str | None = None,
        base_file_url: str | None = None,
        *,
        rate_limit: bool = True,
        rate_limiter: BaseRateLimiter[Any] | None = None,
    ) -> Application:
        """The PTB Application. `rate_limit=False` only for measuring our own capacity (bench/load.py), and
        `rate_limiter` only to compare another one (bench/flood.py): in production the PerChatRateLimiter keeps the
        bot inside Telegram's limits without letting one chat's flood-wait hold the others."""
        # Updates from different chats are handled concurrently; `dispatch` keeps each chat in order.
        urls = {"base_url": base_url, "base_file_url": base_file_url or base_url.replace("/bot", "/file/bot")} if base_url else {}
        bot = GuardedBot(token, **urls, request=GuardedRequest(self.unauthorized, connection_pool_size=256),
                         get_updates_request=GuardedRequest(self.unauthorized, self.conflict, connection_pool_size=1),
                         rate_limiter=(rate_limiter or PerChatRateLimiter()) if rate_limit else None)  # fmt: skip
        builder = ApplicationBuilder().bot(bot).concurrent_updates(64)
        builder = builder.post_init(self.on_startup).post_shutdown(self.on_shutdown)
        application = builder.build()
        application.add_handler(MessageHandler(filters.UpdateType.EDITED, self.on_edited))
        application.add_handler(MessageHandler(filters.COMMAND, self.on_command))
        application.add_handler(MessageHandler(filters.TEXT, self.on_text))
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_handler(MessageHandler(filters.ALL, self.on_other))
        application.add_error_handler(self.on_error)
        self.runtime = Runtime(self.engine, self.config,
                               {**self.extra_transports, "telegram": TelegramTransport(application.bot)},
                               sweep_interval=self.reminder_interval)  # fmt: skip
        self.runtime.on_store_gone = self._store_gone
        self.application = application
        return application

    def fail(self, exit_code: int, why: str) -> None:
        """Stop the bot so that the process exits with `exit_code` (see the supervisor contract in README)."""
        if self.exit_code == EXIT_STOPPED:
            log.error("stopping: %s", why)
            self.exit_code = exit_code
        if self.application is not None and self.application.running:
            with contextlib.suppress(RuntimeError):  # no loop running: the application is stopping already
                self.application.stop_running()

    def unauthorized(self) -> None:
        self.fail(EXIT_UNAUTHORIZED, "the Bot API refused the token (401): revoked or wrong")

    def conflict(self) -> None:
        """getUpdates answered 409: polling can never work while a webhook is set for this token or another instance
        polls it. Tell the admins once (sending still works), then stop with exit code 5."""
        if self._conflict_task is None and self.exit_code == EXIT_STOPPED:
            self._conflict_task = asyncio.get_running_loop().create_task(self._stop_for_conflict())

    async def _stop_for_conflict(self) -> None:
        why = "getUpdates refused (409 Conflict): another instance or a webhook is using this token"
        if self.application is not None:
            text = (f"socialbot (Telegram) stoppar: {why}. Stoppa den andra instansen eller ta bort webhooken "
                    f"(deleteWebhook) och starta sedan om (exit code {EXIT_CONFLICT}).")  # fmt: skip
            for admin in sorted(self.config.admin_chats):
                await with_retries("conflict notice", self.application.bot.send_message, admin, text)
        self.fail(EXIT_CONFLICT, why)

    async def on_startup(self, application: Application) -> None:
        """Learn our username, register the command lists, start the runtime (outbox, sweeps, content watcher)."""
        me = await application.bot.get_me()
        self.bot_username = me.username
        # English is the default list; a client set to another of the content's languages gets its own.
        for language, commands in command_lists(self.engine.knowledge.content).items():
            bot_commands = [BotCommand(name, description) for name, description in commands]
            await with_retries(
                "setMyCommands", application.bot.set_my_commands, bot_commands, language_code=language
            )
        assert self.runtime is not None
        await self.runtime.start()
        # The content, matcher and crisis indexes are ~150,000 long-lived objects: frozen, the collector's full
        # passes no longer walk them (each walk held the event loop, and so every chat, for tens of ms: the tail).
        gc.collect()
        gc.freeze()

    async def on_shutdown(self, application: Application) -> None:
        gc.unfreeze()  # frozen objects are never freed: give them back (a test or bench builds many bots)
        if self.runtime is not None:
            await self.runtime.stop()

    # --- updates -> events ------------------------------------------------------------------------

    def _addressed_to_me(self, message: Message) -> bool:
        """In groups the bot answers only commands and mentions (and replies to its own messages)."""
        if message.chat.type == ChatType.PRIVATE:
            return True
        if self.bot_username and f"@{self.bot_username}".lower() in (message.text or "").lower():
            return True
        reply_to = message.reply_to_message
        return bool(reply_to and reply_to.from_user and reply_to.from_user.username == self.bot_username)

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or not self._addressed_to_me(message):
            return
        text = message.text or ""
        if self.bot_username:
            text = re.sub(rf"@{re.escape(self.bot_username)}\b", "", text, flags=re.IGNORECASE).strip()
        await self.dispatch(message.chat_id, TextMessage(text), context, private=_private(message))

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or not message.text:
            return
        head, _, argument = message.text.partition(" ")
        name, _, target = head[1:].partition("@")
        if target and self.bot_username and target.lower() != self.bot_username.lower():
            return  # a command for another bot in a group
        name = name.lower()
        if name in ("stats", "reload") and message.chat_id in self.config.admin_chats:
            await (
                self.admin_reload(message.chat_id) if name == "reload" else self.admin_stats(message.chat_id)
            )
            return
        if name == "review" and message.chat_id in self.config.admin_chats:
            await self.admin_review(message.chat_id, None)
            return
        if name == "liftcap" and message.chat_id in self.config.admin_chats:
            await self.admin_lift_cap(message.chat_id, argument.strip())
            return
        command = CommandMessage(name, argument.strip())
        await self.dispatch(message.chat_id, command, context, private=_private(message))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        await with_retries("answerCallbackQuery", query.answer)
        chat_id = query.message.chat.id if query.message else query.from_user.id
        data = str(query.data or "")
        if data.startswith(ADMIN_PREFIX) and chat_id in self.config.admin_chats:
            await self.admin_review(chat_id, data)
            return
        private = query.message is None or query.message.chat.type == ChatType.PRIVATE
        await self.dispatch(chat_id, ButtonPress(data), context, private=private)

    async def on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.chat.type == ChatType.PRIVATE:
            await self.dispatch(message.chat_id, Unsupported("edited", message.text or message.caption or ""), context)

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.chat.type != ChatType.PRIVATE:
            return  # stickers and photos in a group are not for us
        kind = next((k for k in ("sticker", "photo", "voice", "video", "document", "location", "audio")
                     if getattr(message, k, None)), "other")  # fmt: skip
        await self.dispatch(message.chat_id, Unsupported(kind), context)

    async def dispatch(self, chat_id: int, event: Event, context: ContextTypes.DEFAULT_TYPE, *,
                       private: bool = True) -> None:  # fmt: skip
        """One event to the engine, in the chat's order. Outside a private chat (a group) the dialog refuses
        everything personal and offers a private chat: its button links to https://t.me/<bot>."""
        admitted = self.incoming.admit(chat_id)
        if not admitted:
            # Flooding: told once, kindly, then dropped before any work, so it cannot slow the other chats.
            if admitted is None:
                await with_retries("slow-down notice", context.bot.send_message, chat_id, SLOW_DOWN)
            return
        # One chat at a time, in arrival order (asyncio locks are fair): its replies never interleave.
        entry = self._chat_locks.setdefault(chat_id, _ChatLock())
        entry.users += 1
        try:
            async with entry.lock:
                in_group = None if private else dataclasses.replace(self.engine.capabilities, private_chat=False)
                conversation = CONVERSATION.format(chat_id)
                replies = self.engine.handle(conversation, event, in_group, acknowledge=False)
                private_url = f"https://t.me/{self.bot_username}" if self.bot_username else None
                await send_replies(context.bot, chat_id, replies, private_url)
                if self.engine.fatal is not None:
                    await self.database_lost(context.bot, str(self.engine.fatal))
                else:
                    self.engine.replied(conversation)  # a booking's reply is out: its calendar file follows (outbox)
        finally:
            entry.users -= 1
            if not entry.users:  # nobody waiting: drop it, so memory does not grow with every chat ever seen
                del self._chat_locks[chat_id]

    async def database_lost(self, bot: Any, why: str) -> None:
        """The database file was deleted or replaced (the state directory moved): tell the admin chats once, directly
        (the outbox lives in that database), then stop with exit code 4."""
        if self.exit_code == EXIT_STOPPED and not self._told_database_lost:
            self._told_database_lost = True  # other chats' handlers meet the same error meanwhile
            text = (f"socialbot (Telegram) stoppar: {why}. Inget mer skrivs i den. Kontrollera tillståndskatalogen "
                    f"och starta sedan om (exit code {EXIT_DATABASE}).")  # fmt: skip
            for admin in sorted(self.config.admin_chats):
                await with_retries("database-lost notice", bot.send_message, admin, text)
        self.fail(EXIT_DATABASE, why)

    def _store_gone(self, exc: Exception) -> None:
        """A sweep met the lost database before any message did: the same stop as `database_lost`."""
        if self.application is not None:
            self._store_gone_task = asyncio.get_running_loop().create_task(
                self.database_lost(self.application.bot, str(exc)))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # Never the update itself: it holds message text and chat ids.
        error = context.error
        if isinstance(error, Conflict):
            return  # polling refused: `conflict` logs it once and stops the bot
        log.error("error while handling an update: %s: %s", type(error).__name__,
                  getattr(error, "message", "") if isinstance(error, NetworkError) else "see traceback",
                  exc_info=not isinstance(error, NetworkError))  # fmt: skip

    async def admin_stats(self, chat_id: int) -> None:
        from bot.stats.report import labels  # the statistics modules, imported when asked for
        from bot.stats.telegram import send_stats

        assert self.application is not None
        await send_stats(self.application.bot, chat_id, self.engine.store, self.engine.clock(),
                         **labels(self.engine.knowledge.content))  # fmt: skip

    async def admin_review(self, chat_id: int, data: str | None) -> None:
        """/review: the unanswered questions one group at a time, with buttons (bot/review.py does the work)."""
        from bot import review

        assert self.application is not None
        knowledge = self.engine.knowledge
        store, bot = self.engine.store, self.application.bot
        if data is None:
            card = await asyncio.to_thread(review.admin_card, store, knowledge.matcher, knowledge.content)
        else:
            if data.startswith((f"{ADMIN_PREFIX}a:", f"{ADMIN_PREFIX}o:")):
                await with_retries("review answer", bot.send_message, chat_id, "Kontrollerar innehållet …")
            result = await asyncio.to_thread(review.admin_press, store, self.config.content_dir, data,
                                             knowledge.matcher, knowledge.content)  # fmt: skip
            card = result.card  # the content watcher reloads the bot's own content in a moment
        await send_replies(bot, chat_id, [Reply(card.text, card.choices)])

    async def admin_lift_cap(self, chat_id: int, region: str) -> None:
        """/liftcap REGION: the region's day cap is lifted for the rest of today; the other admins are told."""
        from bot.runtime import lift_cap

        assert self.application is not None and self.runtime is not None
        runtime = self.runtime
        _, answer = await asyncio.to_thread(lift_cap, self.engine.store, self.config, self.engine.knowledge.content,
                                            region, f"admin-chatten {chat_id}", self.engine.clock(),
                                            mail="email" in runtime.transports, besides=chat_id)  # fmt: skip
        runtime.delivery.wake()
        await with_retries("liftcap answer", self.application.bot.send_message, chat_id, answer)

    async def admin_reload(self, chat_id: int) -> None:
        text = await self.runtime.admin_reload()
        assert self.application is not None
        for part in split_text(text):
            await with_retries("reload answer", self.application.bot.send_message, chat_id, part)


def _private(message: Message) -> bool:
    return message.chat.type == ChatType.PRIVATE


@dataclass
class _ChatLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0
