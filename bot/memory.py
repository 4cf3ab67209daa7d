"""The resident memory of a long-running bot process (`socialbot web`, `socialbot run`): glibc's allocator told to
keep one heap for all threads, and what start-up freed given back to the system.

Both are glibc's (Linux); elsewhere they do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
from functools import cache

log = logging.getLogger(__name__)
M_ARENA_MAX = -8  # mallopt's parameter (malloc.h)


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt, libc.malloc_trim  # noqa: B018 (both must be there: glibc)
    except (OSError, AttributeError, TypeError):
        return None
    return libc


def one_heap() -> bool:
    """Before the worker threads start: glibc gives each thread that allocates under contention a heap of its own
    (up to eight per core), and the freed memory of each stays resident. The bot's threads take turns under the GIL
    anyway, so one heap costs nothing and keeps some 5 MB off the resident size of `socialbot web`."""
    libc = _libc()
    return libc is not None and bool(libc.mallopt(M_ARENA_MAX, 1))


def settle() -> None:
    """After start-up (and a reload): the long-lived objects (content, matcher, crisis indexes) frozen, so the
    collector's full passes no longer walk them, and what loading them freed given back to the system. Unfrozen
    first: what a reload replaced is collected, not kept frozen for good."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
