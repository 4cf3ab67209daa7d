"""Blocking work run off the event loop, tracked so that shutting down can wait for it.

`asyncio.to_thread` keeps running in its thread when the awaiting task is cancelled; a sweep or an outbox
claim still inside SQLite when the store is closed crashed the whole process (a segfault at shutdown).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class ThreadWork:
    def __init__(self) -> None:
        self._running: set[asyncio.Future[object]] = set()

    async def run(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`work(*args)` in a thread; a cancelled caller stops waiting, the thread is still waited for by drain."""
        future: asyncio.Future[T] = asyncio.ensure_future(asyncio.to_thread(work, *args, **kwargs))
        self._running.add(future)  # type: ignore[arg-type]
        future.add_done_callback(self._running.discard)  # type: ignore[arg-type]
        return await asyncio.shield(future)

    async def drain(self) -> None:
        """Wait until no work started here is still running (its errors were the caller's to see)."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
