"""aiohttp's own server log, fit for a public endpoint (the web chat and the Telegram webhook).

aiohttp logs every request its parser refuses (a bad header, an unknown Content-Encoding, `HTTP/9.9` ...) as
"Error handling request from <address>" with a traceback. On the open Internet that is a log flood anyone can
cause, faster than any per-address limit (those count requests that were parsed), and it writes the sender's
address, which these processes otherwise never log. The filter here turns it into one line a minute at most:
how many were refused and what the last one was, with no address and no traceback."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

SERVER_LOGGER = "aiohttp.server"
REPORT_EVERY = 60.0  # seconds between two summary lines


class MalformedRequests(logging.Filter):
    def __init__(self, clock: Callable[[], float] = time.monotonic, every: float = REPORT_EVERY) -> None:
        super().__init__()
        self.clock = clock
        self.every = every
        self.refused = 0
        self.next_report: float | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True  # aiohttp's debug lines: only with debug logging on, on purpose
        self.refused += 1
        error = record.exc_info[1] if record.exc_info else None
        kind = type(error).__name__ if error is not None else str(record.msg)[:60]  # the format, never its args
        now = self.clock()
        if self.next_report is not None and now < self.next_report:
            return False
        record.msg = "web server: %d request(s) refused or failed in aiohttp since the last such line (the last: %s)"
        record.args = (self.refused, kind)
        record.exc_info = record.exc_text = record.stack_info = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        self.refused, self.next_report = 0, now + self.every
        return True


def quiet_server_log() -> None:
    """Install the filter on aiohttp's server logger, once per process."""
    logger = logging.getLogger(SERVER_LOGGER)
    if not any(isinstance(existing, MalformedRequests) for existing in logger.filters):
        logger.addFilter(MalformedRequests())
