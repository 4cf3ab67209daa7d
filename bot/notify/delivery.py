"""Delivering the outbox: claim due rows, send each over its transport, mark the result.

Guarantees, given the outbox row was committed with its change:
- nothing is lost: a failed send is retried with exponential back-off; a restart picks up what is pending;
  a row claimed by a process that died is taken over when its claim runs out;
- one change is one row (its key is unique), so it is never enqueued twice; a claim is atomic, so two
  processes never send one row together;
- at-most-once rows (reminders) cut short by a crash mid-send are not sent again: no duplicate reminder.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.background import ThreadWork
from bot.storage import OutboxEntry, OutboxItem, Store
from bot.storage.base import ERASURE, StoreGone

log = logging.getLogger(__name__)
PERSONAL = ("reminder", "calendar")  # a person's own messages: dropped, not retried, once they block the bot


@dataclass
class SendFailed(Exception):
    """A send that did not happen. `temporary`: try again later (after `retry_after` if given).
    `blocked`: the recipient refuses the bot; their other pending messages of the kind are dropped."""

    reason: str
    temporary: bool = True
    retry_after: float | None = None
    blocked: bool = False

    def __str__(self) -> str:
        return self.reason


class Transport(Protocol):
    async def send(self, item: OutboxItem) -> None:
        """Deliver or raise SendFailed."""


class Delivery:
    def __init__(
        self,
        store: Store,
        transports: Mapping[str, Transport],
        *,
        clock: Callable[[], datetime] | None = None,
        retry_base: float = 2.0,
        retry_max: float = 600.0,
        max_attempts: int = 60,
        claim_for: timedelta = timedelta(minutes=2),
        poll: float = 5.0,
        on_blocked: Callable[[OutboxItem], None] | None = None,
        on_store_gone: Callable[[StoreGone], None] | None = None,
    ) -> None:
        self.store = store
        self.transports = dict(transports)
        # Real time, not the dialog's clock: back-off and claims are about this machine's seconds.
        self.clock = clock or (lambda: datetime.now(UTC))
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.max_attempts = max_attempts  # at the longest back-off, about ten hours of trying
        self.claim_for = claim_for
        self.poll = poll
        self.on_blocked = on_blocked
        self.on_store_gone = on_store_gone  # the database file was deleted or replaced: delivery stops
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self.threads = ThreadWork()  # store work off the loop, waited for before the store may close

    def backoff(self, attempts: int) -> float:
        return float(min(self.retry_max, self.retry_base * 2 ** max(0, attempts - 1)))

    def wake(self) -> None:
        """Something was enqueued: deliver now rather than at the next poll. Safe from any thread."""
        if self._loop is not None and self._wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                self._loop.call_soon_threadsafe(self._wake.set)

    async def deliver_due(self) -> int:
        """One pass: send what is due now. Returns how many were sent."""
        sent = 0
        while not self._stopping:
            entries = await self.threads.run(
                self.store.claim_outbox, list(self.transports), self.clock(), self.claim_for
            )
            if not entries:
                break
            for entry in entries:
                sent += await self._send(entry)
        return sent

    async def _send(self, entry: OutboxEntry) -> int:
        item = entry.item
        try:
            await self.transports[item.transport].send(item)
        except SendFailed as failure:
            self._failed(entry, failure)
            return 0
        except Exception as exc:  # a bug in a transport must not stop the others; the row is kept
            log.exception("outbox %s: unexpected error", entry.id)
            self._failed(entry, SendFailed(type(exc).__name__))
            return 0
        self._done(entry, self.clock())
        return 1

    def _done(self, entry: OutboxEntry, now: datetime, status: str = "sent", error: str | None = None) -> None:
        self.store.outbox_done(entry.id, now, status, error)
        if entry.item.kind == ERASURE:  # its payload, blanked now, named a person who asked to be forgotten
            self.store.scrub_disk()

    def _failed(self, entry: OutboxEntry, failure: SendFailed) -> None:
        item, now = entry.item, self.clock()
        if failure.blocked and item.kind in PERSONAL:  # staff chats are retried: they may start the bot
            log.info("outbox %s (%s): the recipient has blocked the bot; dropping their %ss",
                     entry.id, item.transport, item.kind)  # fmt: skip
            self._done(entry, now, "dropped", failure.reason)
            self.store.drop_outbox(item.transport, item.recipient, item.kind, now, "blocked")
            if self.on_blocked:
                self.on_blocked(item)
        elif not failure.temporary:
            log.error("outbox %s (%s %s) refused: %s", entry.id, item.transport, item.kind, failure.reason)
            self._done(entry, now, "failed", failure.reason)
        elif entry.attempts >= self.max_attempts:
            log.error("outbox %s (%s %s): giving up after %d attempts: %s", entry.id, item.transport,
                      item.kind, entry.attempts, failure.reason)  # fmt: skip
            self._done(entry, now, "failed", failure.reason)
        else:
            delay = max(failure.retry_after or 0.0, self.backoff(entry.attempts))
            log.warning("outbox %s (%s %s) attempt %d failed (%s); again in %.1f s", entry.id, item.transport,
                        item.kind, entry.attempts, failure.reason, delay)  # fmt: skip
            self.store.outbox_retry(entry.id, now + timedelta(seconds=delay), failure.reason)

    async def run(self) -> None:
        """Deliver until stopped: at once when woken, else when the next retry is due (or every `poll`)."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        while not self._stopping:
            self._wake.clear()
            try:
                await self.deliver_due()
                upcoming = await self.threads.run(self.store.next_outbox_due, list(self.transports))
            except asyncio.CancelledError:
                raise
            except StoreGone as exc:  # one log line (the runtime's), never a traceback per pass
                if self.on_store_gone is None:
                    raise
                self.on_store_gone(exc)
                return
            except Exception:  # the database locked past its wait, a full disk: try again later
                log.exception("outbox delivery pass failed")
                upcoming = None
            wait = self.poll
            if upcoming is not None:
                wait = min(wait, max(0.0, (upcoming - self.clock()).total_seconds()) + 0.01)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    def stop(self) -> None:
        self._stopping = True
        self.wake()
