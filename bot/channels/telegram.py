"""The Telegram adapter: updates become dialog events, replies become messages. Nothing else.

All the dialog's logic lives in `bot.dialog`; this module only translates, sends, and schedules:
notifications to the business developers, reminders before meetings, and content reloads.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.constants import ChatType, MessageLimit, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.booking.slots import parse_slot_key
from bot.config import Config
from bot.content import ContentError
from bot.dialog import texts
from bot.dialog.core import format_when, meeting_place
from bot.dialog.model import ButtonPress, Choice, CommandMessage, Event, Reply, TextMessage, Unsupported
from bot.engine import Engine, Notification, notification_text
from bot.knowledge import Knowledge
from bot.storage import Booking

log = logging.getLogger(__name__)
T = TypeVar("T")
TOKEN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{3,}$")
CONVERSATION = "telegram:{}"
REMINDERS = (("24h", timedelta(hours=24)), ("2h", timedelta(hours=2)))
SEND_ATTEMPTS = 5

COMMANDS = {
    "sv": [("start", "Börja om"), ("menu", "Meny"), ("book", "Boka ett möte"), ("mybookings", "Mina bokningar"),
           ("region", "Byt kommun"), ("language", "Byt språk / Change language"), ("privacy", "Vad vi sparar"),
           ("delete", "Radera mina uppgifter"), ("help", "Hjälp")],
    "en": [("start", "Start again"), ("menu", "Menu"), ("book", "Book a meeting"), ("mybookings", "My bookings"),
           ("region", "Change municipality"), ("language", "Change language / Byt språk"),
           ("privacy", "What we store"), ("delete", "Delete my data"), ("help", "Help")],
}  # fmt: skip


def valid_token(token: str | None) -> bool:
    return bool(token and TOKEN.match(token.strip()))


# --- formatting -----------------------------------------------------------------------------------


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Cut a long answer into messages at paragraph breaks (then lines, then words), each within `limit`
    once escaped for HTML."""

    def fits(part: str) -> bool:
        return len(html.escape(part, quote=False)) <= limit

    if fits(text):
        return [text]
    for separator in ("\n\n", "\n", " "):
        pieces = text.split(separator)
        if len(pieces) == 1:
            continue
        chunks: list[str] = []
        current = ""
        for piece in pieces:
            candidate = f"{current}{separator}{piece}" if current else piece
            if fits(candidate):
                current = candidate
                continue
            if current:
                chunks.append(current)
            current = piece
        if current:
            chunks.append(current)
        return [part for chunk in chunks for part in split_text(chunk, limit)]
    # One unbroken run: cut hard, leaving room for escaping.
    step = limit // 5
    return [text[i : i + step] for i in range(0, len(text), step)]


def keyboard(choices: Sequence[Choice]) -> InlineKeyboardMarkup | None:
    """Short labels two to a row, long ones alone: readable on a phone."""
    if not choices:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    for choice in choices:
        button = InlineKeyboardButton(choice.label[:64], callback_data=choice.data[:64])
        if len(choice.label) <= 18 and rows and len(rows[-1]) == 1 and len(rows[-1][0].text) <= 18:
            rows[-1].append(button)
        else:
            rows.append([button])
    return InlineKeyboardMarkup(rows)


# --- sending, with retries ------------------------------------------------------------------------


async def with_retries(what: str, call: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T | None:
    """`await call(*args, **kwargs)`, retrying network errors and flood waits; give up quietly on a
    blocked chat. `what` names the call in logs, which never carry message text or chat ids."""
    delay = 0.5
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return await call(*args, **kwargs)
        except RetryAfter as exc:
            wait = (
                exc.retry_after.total_seconds() if isinstance(exc.retry_after, timedelta) else exc.retry_after
            )
            await asyncio.sleep(min(float(wait), 60.0))
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


async def send_replies(bot: Any, chat_id: int, replies: Sequence[Reply]) -> None:
    for reply in replies:
        parts = split_text(reply.text)
        for index, part in enumerate(parts):
            markup = keyboard(reply.choices) if index == len(parts) - 1 else None
            await with_retries("sendMessage", bot.send_message, chat_id, html.escape(part, quote=False),
                               parse_mode=ParseMode.HTML, reply_markup=markup)  # fmt: skip
        if reply.attachment:
            document = InputFile(reply.attachment.content, filename=reply.attachment.filename)
            await with_retries("sendDocument", bot.send_document, chat_id, document)


# --- the adapter ----------------------------------------------------------------------------------


class TelegramChannel:
    """Holds the engine and the application; handlers here stay thin."""

    def __init__(self, engine: Engine, config: Config, *, reminder_interval: float = 60.0) -> None:
        self.engine = engine
        self.config = config
        self.reminder_interval = reminder_interval
        self.application: Application | None = None
        self.bot_username: str | None = None
        self._chat_locks: dict[int, _ChatLock] = {}

    # --- building ------------------------------------------------------------------------------

    def build(
        self,
        token: str,
        base_url: str | None = None,
        base_file_url: str | None = None,
        *,
        rate_limit: bool = True,
    ) -> Application:
        """The PTB Application. `rate_limit=False` only for measuring our own capacity (bench/load.py):
        in production the AIORateLimiter keeps the bot inside Telegram's limits."""
        # Updates from different chats are handled concurrently; `dispatch` keeps each chat in order.
        builder = ApplicationBuilder().token(token).concurrent_updates(64)
        if rate_limit:
            builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
        if base_url:
            builder = builder.base_url(base_url)
            builder = builder.base_file_url(base_file_url or base_url.replace("/bot", "/file/bot"))
        builder = builder.post_init(self.on_startup).post_shutdown(self.on_shutdown)
        application = builder.build()
        application.add_handler(MessageHandler(filters.UpdateType.EDITED, self.on_edited))
        application.add_handler(MessageHandler(filters.COMMAND, self.on_command))
        application.add_handler(MessageHandler(filters.TEXT, self.on_text))
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_handler(MessageHandler(filters.ALL, self.on_other))
        application.add_error_handler(self.on_error)
        self.engine.notifier = TelegramNotifier(self)
        self.application = application
        return application

    async def on_startup(self, application: Application) -> None:
        """Learn our username, register the command lists, start reminders, purge and the content watcher."""
        me = await application.bot.get_me()
        self.bot_username = me.username
        for lang, commands in COMMANDS.items():
            bot_commands = [BotCommand(name, description) for name, description in commands]
            # English is the default list; Swedish-speaking clients get the Swedish one.
            language = None if lang == "en" else lang
            await with_retries(
                "setMyCommands", application.bot.set_my_commands, bot_commands, language_code=language
            )
        if application.job_queue:
            application.job_queue.run_repeating(
                self.send_due_reminders, interval=self.reminder_interval, first=0.1
            )
            application.job_queue.run_repeating(self.daily_purge, interval=timedelta(days=1), first=60)
        self._watch_task = asyncio.create_task(self.watch_content())

    async def on_shutdown(self, application: Application) -> None:
        task = getattr(self, "_watch_task", None)
        if task:
            task.cancel()

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
        await self.dispatch(message.chat_id, TextMessage(text), context)

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
        await self.dispatch(message.chat_id, CommandMessage(name, argument.strip()), context)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        await with_retries("answerCallbackQuery", query.answer)
        chat_id = query.message.chat.id if query.message else query.from_user.id
        await self.dispatch(chat_id, ButtonPress(str(query.data or "")), context)

    async def on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.chat.type == ChatType.PRIVATE:
            await self.dispatch(message.chat_id, Unsupported("edited"), context)

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.chat.type != ChatType.PRIVATE:
            return  # stickers and photos in a group are not for us
        kind = next((k for k in ("sticker", "photo", "voice", "video", "document", "location", "audio")
                     if getattr(message, k, None)), "other")  # fmt: skip
        await self.dispatch(message.chat_id, Unsupported(kind), context)

    async def dispatch(self, chat_id: int, event: Event, context: ContextTypes.DEFAULT_TYPE) -> None:
        # One chat at a time, in arrival order (asyncio locks are fair): its replies never interleave.
        entry = self._chat_locks.setdefault(chat_id, _ChatLock())
        entry.users += 1
        try:
            async with entry.lock:
                replies = self.engine.handle(CONVERSATION.format(chat_id), event)
                await send_replies(context.bot, chat_id, replies)
        finally:
            entry.users -= 1
            if not entry.users:  # nobody waiting: drop it, so memory does not grow with every chat ever seen
                del self._chat_locks[chat_id]

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # Never the update itself: it holds message text and chat ids.
        error = context.error
        log.error("error while handling an update: %s: %s", type(error).__name__,
                  getattr(error, "message", "") if isinstance(error, NetworkError) else "see traceback",
                  exc_info=not isinstance(error, NetworkError))  # fmt: skip

    # --- notifications and reminders ------------------------------------------------------------

    def deliver_notification(self, notification: Notification) -> None:
        chat_id = self.config.notify_chats.get(notification.booking.region)
        if chat_id is None or self.application is None:
            log.info("no chat configured for %s's business developer", notification.booking.region)
            return
        booking = notification.booking
        text = html.escape(notification_text(notification), quote=False)
        if (
            booking.phone is None
            and booking.conversation.startswith("telegram:")
            and notification.kind != "cancelled"
        ):
            # "Reach me here in the chat": a link that opens the person's Telegram chat for the developer.
            user = booking.conversation.removeprefix("telegram:")
            text += f'\n<a href="tg://user?id={user}">Skriv till personen i Telegram</a>'
        bot = self.application.bot
        self.application.create_task(
            with_retries("notification", bot.send_message, chat_id, text, parse_mode=ParseMode.HTML)
        )

    async def send_due_reminders(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Sweep the database for reminders that are due: a restart loses none, and a move re-arms them."""
        now = self.engine.clock()
        store = self.engine.store
        for booking in store.upcoming(now):
            due = self._due_reminder(booking, now)
            if due is None or not booking.conversation.startswith("telegram:"):
                continue
            chat_id = int(booking.conversation.removeprefix("telegram:"))
            sent = await with_retries(
                "reminder", context.bot.send_message, chat_id, self.reminder_text(booking)
            )
            if sent is not None:
                store.mark_reminded(booking.id, due)

    @staticmethod
    def _due_reminder(booking: Booking, now: datetime) -> str | None:
        start = parse_slot_key(booking.slot)
        done = set(booking.reminded.split(","))
        if now >= start:
            return None
        if now >= start - timedelta(hours=2):
            return None if "2h" in done else "2h"
        if now >= start - timedelta(hours=24):
            return None if "24h" in done else "24h"
        return None

    def reminder_text(self, booking: Booking) -> str:
        region = self.engine.knowledge.content.region(booking.region)
        lang = booking.lang if booking.lang in texts.LANGUAGE_NAMES else "sv"
        return texts.text(
            "reminder", lang, contact_name=region.contact.name, when=format_when(parse_slot_key(booking.slot), lang),
            place=meeting_place(region, lang, booking.phone),
        )  # fmt: skip

    async def daily_purge(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        counts = self.engine.store.purge(datetime.now(UTC), self.config.retention_days)
        log.info("daily purge: %s", counts)

    # --- staff ------------------------------------------------------------------------------------

    async def tell_admins(self, text: str) -> None:
        if self.application is None:
            return
        for chat_id in self.config.admin_chats:
            for part in split_text(text):
                await with_retries("admin message", self.application.bot.send_message, chat_id, part)

    def reload(self) -> list[str]:
        """Load the content again; on problems keep the last good content. Returns the problems."""
        try:
            self.engine.knowledge = Knowledge.load(self.config.content_dir, cache_dir=self.config.cache_dir)
        except ContentError as exc:
            return [str(p) for p in exc.problems]
        except OSError as exc:  # the directory vanished or is unreadable mid-edit
            return [f"{self.config.content_dir}: {exc.strerror}"]
        return []

    async def admin_reload(self, chat_id: int) -> None:
        problems = await asyncio.to_thread(self.reload)
        text = ("Innehållet är omladdat." if not problems else
                "Innehållet har fel; boten fortsätter med det förra:\n" + "\n".join(problems))  # fmt: skip
        assert self.application is not None
        for part in split_text(text):
            await with_retries("reload answer", self.application.bot.send_message, chat_id, part)

    async def admin_stats(self, chat_id: int) -> None:
        from bot.stats.report import labels  # the statistics modules, imported when asked for
        from bot.stats.telegram import send_stats

        assert self.application is not None
        await send_stats(self.application.bot, chat_id, self.engine.store, self.engine.clock(),
                         **labels(self.engine.knowledge.content))  # fmt: skip

    async def watch_content(self) -> None:
        """Reload when content files change: a valid change takes effect within seconds."""
        from watchfiles import awatch

        try:
            async for _changes in awatch(self.config.content_dir, debounce=400, step=100, recursive=True):
                problems = await asyncio.to_thread(self.reload)
                if problems:
                    log.warning("content change rejected: %d problem(s)", len(problems))
                    await self.tell_admins(
                        "Innehållet har fel; boten fortsätter med det förra:\n" + "\n".join(problems)
                    )
                else:
                    log.info("content reloaded")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("content watcher stopped")


@dataclass
class _ChatLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class TelegramNotifier:
    def __init__(self, channel: TelegramChannel) -> None:
        self.channel = channel

    def notify(self, notification: Notification) -> None:
        self.channel.deliver_notification(notification)
