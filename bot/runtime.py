"""What runs around the dialog in every channel: content reload, the outbox (staff notices, reminders),
the daily purge and the admins' actions. Telegram (`socialbot run`), the web (`socialbot web`), or both as
two processes on one state directory each start one Runtime.

Several processes share one database, so the sweeps that must happen once (queueing reminders, the daily
purge) are done only by the holder of the "sweeper" lease, a row in the database that its holder renews
and that expires when the holder dies. Delivery is safe from every process: rows are claimed atomically.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta

from bot.background import ThreadWork
from bot.booking.limits import Alert
from bot.booking.slots import parse_slot_key
from bot.config import Config
from bot.content import Content, ContentError
from bot.dialog.model import Attachment
from bot.engine import Engine, Notification
from bot.knowledge import Knowledge
from bot.notify.delivery import Delivery, Transport
from bot.notify.messages import TELEGRAM_PREFIX, notification_items, reminder_item
from bot.storage import Booking, OutboxItem, Store
from bot.storage.base import StoreGone

log = logging.getLogger(__name__)
REMINDERS = (("2h", timedelta(hours=2)), ("24h", timedelta(hours=24)))  # nearest first
SWEEPER, PURGE = "sweeper", "daily-purge"


def transports_from_env(env: Mapping[str, str] | None = None, *, telegram_bot: object = None) -> dict[str, Transport]:
    """E-mail when SOCIALBOT_SMTP_HOST is set; Telegram through the channel's bot, or in a process without
    the Telegram channel (`socialbot web`) a send-only bot when TELEGRAM_BOT_TOKEN is set. Raises ValueError
    on a bad SMTP setting."""
    from bot.mail import SmtpSettings

    env = os.environ if env is None else env
    transports: dict[str, Transport] = {}
    settings = SmtpSettings.from_env(env)
    if settings is not None:
        from bot.notify.smtp import EmailTransport

        transports["email"] = EmailTransport(settings)
    token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
    if telegram_bot is None and token:
        from telegram import Bot

        base_url = env.get("TELEGRAM_BASE_URL") or None
        telegram_bot = Bot(token, base_url=base_url or "https://api.telegram.org/bot")
    if telegram_bot is not None:
        from bot.notify.telegram import TelegramTransport

        transports["telegram"] = TelegramTransport(telegram_bot)
    return transports


def admin_items(config: Config, text: str, now: datetime, *, mail: bool, besides: int | None = None) -> list[OutboxItem]:
    """`text` to every admin chat (but `besides`, the one that asked) and, with `mail`, every admin e-mail."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    items = [OutboxItem(f"admin:{chat}:{digest}:{now:%Y%m%dT%H%M%S}", "admin", "telegram", str(chat),
                        {"text": text}) for chat in sorted(config.admin_chats) if chat != besides]  # fmt: skip
    if mail:
        items += [OutboxItem(f"admin:{address}:{digest}:{now:%Y%m%dT%H%M%S}", "admin", "email", address,
                             {"subject": "socialbot: " + text.splitlines()[0].rstrip(":"), "body": text})
                  for address in config.admin_emails]  # fmt: skip
    return items


def lift_cap(store: Store, config: Config, content: Content, region: str, by: str, now: datetime, *, mail: bool,
             besides: int | None = None) -> tuple[bool, str]:  # fmt: skip
    """An admin lifts `region`'s day cap for the rest of the day (Swedish time), for every worker: logged, and told
    to the other admins through the outbox. `region` as typed (an id or a name). Returns (done, the answer)."""
    from bot.booking.limits import day_start, lift_day_cap, lift_holder
    from bot.matching.normalize import fold

    found = next((r for r in content.regions.values()
                  if fold(region) in {fold(r.id), *(fold(name) for name in r.name.values())}), None)  # fmt: skip
    if found is None:
        return False, f"Ange en region: {' eller '.join(content.regions)} (t.ex. /liftcap {next(iter(content.regions))})."
    name, day = found.name["sv"], f"{day_start(now):%Y-%m-%d}"
    if not lift_day_cap(store, found.id, by, now):
        return False, f"Bokningstaket i {name} är redan hävt i dag ({day}), av {lift_holder(store, found.id, now)}."
    log.info("day cap of %s lifted for %s by %s", found.id, day, by)
    limit = config.limits.per_region_day
    text = (f"Bokningstaket i {name} är hävt för resten av dagen ({day}) av {by}: chatten tar emot fler bokningar än "
            f"{limit} där i dag. I morgon gäller taket igen.")  # fmt: skip
    store.enqueue(admin_items(config, text, now, mail=mail, besides=besides), now)
    return True, text


CONTENT_PROBLEMS_SHOWN = 10  # a Telegram message holds 4096 characters; `socialbot validate` lists them all


def content_problems_text(problems: list[str]) -> str:
    """What the admins are told when changed content cannot be used (the cause is listed first)."""
    shown = problems[:CONTENT_PROBLEMS_SHOWN]
    more = len(problems) - len(shown)
    tail = [f"… och {more} till (`socialbot validate` visar alla)."] if more > 0 else []
    return "\n".join(["Innehållet har fel; boten fortsätter med det förra:", *shown, *tail])


def due_reminder(booking: Booking, now: datetime) -> str | None:
    """Which reminder is due for the booking now, if one is and it has not been sent."""
    start = parse_slot_key(booking.slot)
    done = set(booking.reminded.split(","))
    if now >= start:
        return None
    for which, before in REMINDERS:
        if now >= start - before:
            return None if which in done else which
    return None


class Runtime:
    def __init__(
        self,
        engine: Engine,
        config: Config,
        transports: Mapping[str, Transport] | None = None,
        *,
        sweep_interval: float = 60.0,
        checkpoint_interval: float = 1.0,
        retry_base: float = 2.0,
        watch: bool = True,
    ) -> None:
        self.engine = engine
        self.config = config
        self.transports = dict(transports or {})
        self.sweep_interval = sweep_interval
        self.checkpoint_interval = checkpoint_interval
        self.checkpoints = 0  # done by `_checkpoint_loop`
        self.watch = watch
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.delivery = Delivery(engine.store, self.transports, retry_base=retry_base,
                                 on_blocked=self._blocked, on_store_gone=self.store_gone)  # fmt: skip
        # The channel's own way to stop for a lost database (one log line, the admins told, exit code 4); set by
        # the channel. Without one, the runtime logs the one line itself.
        self.on_store_gone: Callable[[StoreGone], None] | None = None
        engine.outbox = self.outbox_items
        engine.alerts = self.alert_items
        engine.files = self.file_items
        engine.notifier = self
        self._tasks: list[asyncio.Task[None]] = []
        self.threads = ThreadWork()  # the sweeps' store work, waited for before the store may close
        self._watcher: threading.Thread | None = None
        self._watch_stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reported: set[date] = set()  # months whose report this process has queued (or found queued)

    # --- the outbox -------------------------------------------------------------------------------

    def outbox_items(self, notification: Notification, now: datetime) -> list[OutboxItem]:
        return notification_items(notification, self.engine.knowledge.content, now,
                                  chats=self.config.notify_chats, emails=self.config.notify_emails,
                                  mail="email" in self.transports)  # fmt: skip

    def alert_items(self, alert: Alert, now: datetime) -> list[OutboxItem]:
        """An alert (bot/booking/limits.py) to every admin chat, and by e-mail where this process mails. The key
        names the alert's window, so it is queued once per window whichever worker sees it first."""
        items = [OutboxItem(f"alert:{alert.key}:telegram:{chat}", "alert", "telegram", str(chat), {"text": alert.text})
                 for chat in sorted(self.config.admin_chats)]  # fmt: skip
        if "email" in self.transports:
            items += [OutboxItem(f"alert:{alert.key}:email:{address}", "alert", "email", address,
                                 {"subject": "socialbot: " + alert.text.split(":")[0], "body": alert.text})
                      for address in self.config.admin_emails]  # fmt: skip
        return items

    def file_items(self, conversation: str, attachment: Attachment, now: datetime) -> list[OutboxItem]:
        """The person's calendar file on Telegram goes through the outbox (sent once, retried with back-off, not lost
        to a crash right after the booking); elsewhere it stays in the reply (the web has no later)."""
        if not conversation.startswith(TELEGRAM_PREFIX) or "telegram" not in self.transports:
            return []
        digest = hashlib.sha256(attachment.content).hexdigest()[:16]  # one file, one row
        return [OutboxItem(f"file:{conversation}:{digest}", "calendar", "telegram",
                           conversation.removeprefix(TELEGRAM_PREFIX),
                           {"document": base64.b64encode(attachment.content).decode("ascii"),
                            "filename": attachment.filename, "mime_type": attachment.mime_type},
                           conversation=conversation)]  # fmt: skip

    def wake(self) -> None:
        """Something became due (Engine.replied released a file): deliver now."""
        self.delivery.wake()

    def notify(self, notification: Notification) -> None:
        """Called by the engine after a change committed its outbox rows: deliver them now."""
        self.delivery.wake()

    def _blocked(self, item: OutboxItem) -> None:
        """A person blocked the bot: no more reminders for that booking (the first 403 is the last)."""
        booking_id = item.payload.get("booking") if item.kind == "reminder" else None
        if isinstance(booking_id, str):
            for which, _ in REMINDERS:
                self.engine.store.mark_reminded(booking_id, which)

    # --- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._tasks = [asyncio.create_task(self.delivery.run(), name="outbox"),
                       asyncio.create_task(self._sweep_loop(), name="sweeper"),
                       asyncio.create_task(self._checkpoint_loop(), name="checkpoints")]  # fmt: skip
        if self.watch:
            self._watch_stop.clear()
            # A daemon thread, stoppable: it never keeps the process alive after SIGTERM.
            self._watcher = threading.Thread(target=self._watch_content, name="content-watcher", daemon=True)
            self._watcher.start()

    async def stop(self) -> None:
        self._watch_stop.set()
        self.delivery.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        await self.threads.drain()  # a sweep cancelled above may still be inside the store
        await self.delivery.threads.drain()
        with contextlib.suppress(Exception):
            self.engine.store.release_lease(SWEEPER, self.holder)
        if self._watcher is not None:
            self._watcher.join(timeout=2)
            self._watcher = None

    # --- sweeps: reminders and the daily purge ----------------------------------------------------

    async def _sweep_loop(self) -> None:
        while self.engine.fatal is None:
            try:
                await self.threads.run(self.sweep)
            except asyncio.CancelledError:
                raise
            except StoreGone as exc:
                self.store_gone(exc)
                return  # nothing more is read from or written into a lost database
            except Exception:
                log.exception("sweep failed")
            await asyncio.sleep(self.sweep_interval)

    async def _checkpoint_loop(self) -> None:
        """The database's checkpoints in a thread, never inside a reply's commit (SQLiteStore.checkpoint)."""
        failing = False
        while True:
            await asyncio.sleep(self.checkpoint_interval)
            try:
                await self.threads.run(self.engine.store.checkpoint)
            except asyncio.CancelledError:
                raise
            except StoreGone as exc:
                self.store_gone(exc)  # the database was moved: one log line, and the channel stops
                return
            except Exception as exc:  # locked past its wait, a full disk: the next one finishes it
                if not failing:
                    log.warning("database checkpoint failed: %s", type(exc).__name__)
                failing = True
            else:
                failing = False
                self.checkpoints += 1

    def store_gone(self, exc: StoreGone) -> None:
        """A background sweep or the outbox met the database file deleted or replaced (README, exit code 4): the engine
        refuses from now on (engine.fatal), and the channel stops the process, with one log line in all, never a
        traceback; the same as when a person's message meets it first."""
        if self.engine.fatal is not None:
            return  # told already, by whoever met it first
        self.engine.fatal = exc
        if self.on_store_gone is not None:
            self.on_store_gone(exc)
        else:
            log.error("stopping: %s", exc)

    def sweep(self) -> bool:
        """Queue due reminders and purge once a day, if this process holds the sweeper lease."""
        store = self.engine.store
        real_now = datetime.now(UTC)
        ttl = timedelta(seconds=max(30.0, 3 * self.sweep_interval))
        if not store.acquire_lease(SWEEPER, self.holder, real_now, ttl):
            return False
        queued = self.queue_reminders()
        if queued:
            self.delivery.wake()
        # The purge lease is never released: it lapses after a day, and whoever sweeps then purges again.
        if store.acquire_lease(PURGE, self.holder, real_now, timedelta(days=1)):
            counts = store.purge(self.engine.clock(), self.config.retention_days)
            log.info("daily purge: %s", counts)
        if self.queue_monthly_report(self.engine.clock()):
            self.delivery.wake()
        return True

    def queue_monthly_report(self, now: datetime) -> int:
        """Last month's statistics to the project leader, once, from the first working day of the month."""
        from bot.stats.monthly import due_month, monthly_mail, outbox_items

        month = due_month(now)
        if month is None or month[0] in self._reported or not self.config.report_emails:
            return 0
        if "email" not in self.transports:
            log.warning("SOCIALBOT_REPORT_EMAIL is set but no SMTP server: the monthly report is not sent")
            self._reported.add(month[0])
            return 0
        mail = monthly_mail(self.engine.store, self.engine.knowledge.content, *month)
        queued = self.engine.store.enqueue(outbox_items(mail, self.config.report_emails), now)
        self._reported.add(month[0])  # queued now or before (the key names the month): not built again here
        if queued:
            log.info("monthly report for %s queued", mail.month)
        return queued

    def queue_reminders(self) -> int:
        """Reminders come from the database: a restart loses none, and a move re-arms them."""
        store, now, queued = self.engine.store, self.engine.clock(), 0
        content = self.engine.knowledge.content
        for booking in store.upcoming(now):
            which = due_reminder(booking, now)
            if which is None:
                continue
            item = reminder_item(booking, which, content)
            with store.transaction():
                if item is not None:
                    queued += store.enqueue([item], now)
                store.mark_reminded(booking.id, which)
        return queued

    # --- content ----------------------------------------------------------------------------------

    def reload(self) -> list[str]:
        """Load the content again; on problems keep the last good content. Returns the problems."""
        try:
            self.engine.knowledge = Knowledge.load(self.config.content_dir, cache_dir=self.config.cache_dir)
        except ContentError as exc:
            return [str(p) for p in exc.problems]
        except OSError as exc:  # the directory vanished or is unreadable mid-edit
            return [f"{self.config.content_dir}: {exc.strerror}"]
        return []

    async def admin_reload(self) -> str:
        """/reload from an admin: the answer to show them."""
        problems = await asyncio.to_thread(self.reload)
        if not problems:
            return "Innehållet är omladdat."
        return content_problems_text(problems)

    def content_changed(self) -> list[str]:
        """The content files changed: load them, or keep the last good content and tell the admins why not."""
        problems = self.reload()
        if problems:
            log.warning("content change rejected: %d problem(s)", len(problems))
            self.tell_admins(content_problems_text(problems))
        else:
            log.info("content reloaded")
        return problems

    def _watch_content(self) -> None:
        """Reload when content files change: a valid change takes effect within seconds."""
        from watchfiles import watch

        try:
            for _changes in watch(self.config.content_dir, debounce=400, step=100, recursive=True,
                                  stop_event=self._watch_stop, rust_timeout=500, yield_on_timeout=False):  # fmt: skip
                try:
                    self.content_changed()
                except Exception:  # a reload's own bug must not end the watching: the next save is read again
                    log.exception("content reload failed; the last good content stays")
        except Exception:
            log.exception("content watcher stopped")

    # --- staff ------------------------------------------------------------------------------------

    async def tell_admins_directly(self, text: str) -> None:
        """A message to the admin chats and admin e-mails sent at once, not through the outbox: for when the database
        (which holds the outbox) is lost. A failed send is logged, never raised."""
        items = [OutboxItem(f"direct:{chat}", "admin", "telegram", str(chat), {"text": text})
                 for chat in sorted(self.config.admin_chats)]  # fmt: skip
        items += [OutboxItem(f"direct:{address}", "admin", "email", address,
                             {"subject": "socialbot: " + text.split(":")[0], "body": text})
                  for address in self.config.admin_emails]  # fmt: skip
        for item in items:
            transport = self.transports.get(item.transport)
            if transport is None:
                continue
            try:
                await transport.send(item)
            except Exception as exc:  # the process stops anyway; the log says why
                log.error("could not tell an admin (%s): %s", item.transport, type(exc).__name__)
        if not items:
            log.warning("no admin chat or e-mail configured for: %s", text.splitlines()[0])

    def tell_admins(self, text: str) -> None:
        """A message to the admin chats, through the outbox (so the process with Telegram sends it), and to the admin
        e-mails where this process mails."""
        now = datetime.now(UTC)
        items = admin_items(self.config, text, now, mail="email" in self.transports)
        if not items:
            log.warning("no admin chat or e-mail configured for: %s", text.splitlines()[0])
            return
        self.engine.store.enqueue(items, now)
        self.delivery.wake()
