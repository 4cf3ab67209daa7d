"""Limits that keep one chat from stalling everybody, in both directions.

Outgoing (`PerChatRateLimiter`): python-telegram-bot's AIORateLimiter answers a 429 by halting *every* request for
the whole `retry_after`, without a cap, so one chat's flood-wait paused the whole bot. Here a 429 for a request to a
chat pauses only that chat; the bot-wide limits (30 messages a second, 20 a minute per group) stay as Telegram sets
them; and no wait is longer than `MAX_WAIT`: a longer `retry_after` (a real flood-wait can be minutes, a misbehaving
proxy can say years) is capped at it and the request tried again then, so a chat is never silenced for longer (a
second 429 pauses it again). Its replies wait meanwhile, in order, behind the chat's lock in the channel.

Incoming (`IncomingLimit`): a token bucket per chat. A person typing fast gets every answer; a chat sending
hundreds of messages gets one kind word and then its excess is dropped before any work is done for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.constants import FloodLimit
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)
JSON = bool | dict[str, Any] | list[dict[str, Any]]
MAX_WAIT = 20.0  # seconds: the longest pause a flood-wait imposes (README); longer ones are capped to it
MAX_CHATS = 4096  # remembered per-chat entries before idle ones are forgotten


def retry_seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class PerChatRateLimiter(BaseRateLimiter[int]):
    """Telegram's bot-wide limits, with a 429 pausing only the chat it was about (see the module docstring)."""

    def __init__(self, *, overall_per_second: float = FloodLimit.MESSAGES_PER_SECOND,
                 group_per_minute: float = FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP, max_retries: int = 2,
                 max_wait: float = MAX_WAIT) -> None:  # fmt: skip
        self.overall = AsyncLimiter(overall_per_second, 1)
        self.group_per_minute = group_per_minute
        self.groups: dict[int | str, AsyncLimiter] = {}
        self.paused_until: dict[int | str, float] = {}  # chat -> monotonic time its flood-wait ends
        self.max_retries = max_retries
        self.max_wait = max_wait

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def _group(self, chat: int | str) -> AsyncLimiter:
        if len(self.groups) > MAX_CHATS:
            for key, limiter in list(self.groups.items()):
                if limiter.has_capacity(limiter.max_rate):
                    del self.groups[key]
        return self.groups.setdefault(chat, AsyncLimiter(self.group_per_minute, 60))

    async def _wait_for_chat(self, chat: int | str | None) -> None:
        if chat is None:
            return
        until = self.paused_until.get(chat)
        if until is None:
            return
        wait = until - time.monotonic()
        if wait <= 0:
            self.paused_until.pop(chat, None)
            return
        await asyncio.sleep(min(wait, self.max_wait))

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSON:
        chat: int | str | None = data.get("chat_id")
        with contextlib.suppress(TypeError, ValueError):
            chat = int(chat)  # type: ignore[arg-type]
        group = chat is not None and (isinstance(chat, str) or chat < 0)
        retries = self.max_retries if rate_limit_args is None else rate_limit_args
        for attempt in range(retries + 1):
            await self._wait_for_chat(chat)
            try:
                if chat is None:  # getUpdates, answerCallbackQuery...: not a message to a chat
                    return await callback(*args, **kwargs)
                async with contextlib.AsyncExitStack() as stack:
                    if group:
                        await stack.enter_async_context(self._group(chat))
                    await stack.enter_async_context(self.overall)
                    return await callback(*args, **kwargs)
            except RetryAfter as error:
                asked = retry_seconds(error)
                wait = min(asked, self.max_wait)
                if asked > wait:
                    log.warning("%s: flood-wait of %.0f s capped at %.0f s", endpoint, asked, wait)
                if chat is not None:
                    if len(self.paused_until) > MAX_CHATS:
                        now = time.monotonic()
                        self.paused_until = {c: t for c, t in self.paused_until.items() if t > now}
                    self.paused_until[chat] = max(self.paused_until.get(chat, 0.0), time.monotonic() + wait)
                if attempt == retries:
                    log.warning("%s: flood-wait of %.0f s; not retried here", endpoint, wait)
                    raise RetryAfter(timedelta(seconds=wait)) from error
                if chat is None:
                    await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # the loop returns or raises


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


class IncomingLimit:
    """A token bucket per chat: `burst` messages at once, then `per_second` on average."""

    def __init__(
        self, burst: float = 10, per_second: float = 0.5, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.burst = burst
        self.per_second = per_second
        self.clock = clock
        self.buckets: dict[int, _Bucket] = {}

    def admit(self, chat: int) -> bool | None:
        """True: handle the message. None: too many, and the chat has not been told yet (tell it once). False: drop."""
        now = self.clock()
        bucket = self.buckets.get(chat)
        if bucket is None:
            if len(self.buckets) > MAX_CHATS:
                self._forget_idle(now)
            bucket = self.buckets[chat] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.per_second)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            if bucket.tokens >= self.burst / 2:
                bucket.warned = False  # calmed down: a later flood gets its word again
            return True
        if bucket.warned:
            return False
        bucket.warned = True
        return None

    def _forget_idle(self, now: float) -> None:
        full = [
            c for c, b in self.buckets.items() if b.tokens + (now - b.updated) * self.per_second >= self.burst
        ]
        for chat in full:
            del self.buckets[chat]
