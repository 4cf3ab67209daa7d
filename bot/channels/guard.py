"""What comes back from the Bot API, checked before python-telegram-bot sees it.

* An update the library cannot read: python-telegram-bot would log the whole raw batch (message text, names, chat
  ids) at CRITICAL and fetch the same batch again at once, for ever, thousands of times a second. `GuardedBot` reads
  the updates one by one instead (each once: checking them before the library parsed them again cost a reply
  0.2-0.4 ms, issue 11's tail); one it cannot read becomes a bare Update with its id: no handler takes it, and its
  offset is confirmed with the next poll. Only its id is logged.
* A 401 (the token revoked in BotFather): polling would stop quietly inside a living process. Here it calls
  `on_unauthorized`, which stops the application so that the process exits with an error code its supervisor sees.
* A 409 to getUpdates (a webhook is set for the token, or another instance polls it): the library would log
  "Conflict" and poll again for ever, deaf. Here it calls `on_conflict`, which does the same as for a 401; from then
  on getUpdates is answered here with no updates, so the library's last poll at shutdown neither logs the conflict's
  traceback nor holds the stop for its timeouts.
* The log: python-telegram-bot writes the token into `InvalidToken`'s message and logs its start-up retry loop's
  failures with tracebacks. `LogGuard` keeps the token's secret part out of every line, and drops those tracebacks
  (the command line says in one line that the token was rejected).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from telegram import Bot, Update
from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue
from telegram._utils.types import JSONDict, ODVInput, TimePeriod
from telegram.error import InvalidToken, RetryAfter
from telegram.ext import ExtBot

from bot.channels.http import AiohttpRequest
from bot.channels.ratelimit import retry_seconds

log = logging.getLogger(__name__)
POLL_MAX_WAIT = 5.0  # seconds: the longest a 429 on getUpdates pauses polling (and delays a SIGTERM)


def readable_updates(result: object, bot: Bot | None) -> tuple[Update, ...]:
    """The updates of a getUpdates answer, each parsed once; one the library cannot read becomes a bare Update with its
    id (no handler takes it, and the next poll confirms its offset). Only its id is logged."""
    if not isinstance(result, list):
        return Update.de_list(result, bot)  # type: ignore[arg-type]  # not a list: the library's own error
    updates: list[Update] = []
    for data in result:
        try:
            updates.append(Update.de_json(data, bot))
        except Exception:
            update_id = data.get("update_id") if isinstance(data, dict) else None
            if not isinstance(update_id, int):
                raise  # without an id there is nothing to confirm: the library reports the batch, without its data
            log.warning("skipped update %d: python-telegram-bot cannot read it", update_id)
            updates.append(Update(update_id))
    return tuple(updates)


class GuardedBot(ExtBot[Any]):
    """PTB's bot whose getUpdates reads each update once, through `readable_updates`: PTB's own would parse the whole
    batch and, on one update it cannot read, log the raw batch and fetch it again for ever (the module docstring). This
    is PTB's `get_updates` with that one step changed; everything else is the library's."""

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: TimePeriod | None = None,
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
        api_kwargs: JSONDict | None = None,
    ) -> tuple[Update, ...]:
        data: JSONDict = {"timeout": timeout, "offset": offset, "limit": limit, "allowed_updates": allowed_updates}
        # As the library: the long poll's own time on top of the read timeout, which may be None.
        base = self._request[0].read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else (timeout or 0)
        try:
            result = await self._post("getUpdates", data, read_timeout=(base or 0) + seconds,
                                      write_timeout=write_timeout, connect_timeout=connect_timeout,
                                      pool_timeout=pool_timeout, api_kwargs=api_kwargs)  # fmt: skip
        except RetryAfter as error:
            # The library's polling loop sleeps the whole retry_after, deaf to every chat and to SIGTERM (its
            # sleep is not interruptible); a short wait and another try costs one request.
            asked = retry_seconds(error)
            if asked <= POLL_MAX_WAIT:
                raise
            log.warning("getUpdates: flood-wait of %.0f s capped at %.0f s", asked, POLL_MAX_WAIT)
            raise RetryAfter(int(POLL_MAX_WAIT)) from None
        updates = readable_updates(result, self)
        for update in updates:
            self.insert_callback_data(update)
        return updates


class GuardedRequest(AiohttpRequest):
    """python-telegram-bot's request (over aiohttp: bot/channels/http.py), with the checks in the module docstring."""

    def __init__(self, on_unauthorized: Callable[[], None], on_conflict: Callable[[], None] | None = None,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(**kwargs)
        self.on_unauthorized = on_unauthorized
        self.on_conflict = on_conflict
        self.conflicted = False

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        polling = url.rsplit("/", 1)[-1].lower() == "getupdates"
        if polling and self.conflicted:
            return 200, b'{"ok": true, "result": []}'
        code, payload = await super().do_request(url, method, *args, **kwargs)
        if code == 401:
            self.on_unauthorized()
        elif code == 409 and polling and self.on_conflict is not None:
            self.conflicted = True
            self.on_conflict()
        return code, payload


class LogGuard(logging.Filter):
    """A filter for the log handlers of a process holding `token`: see the module docstring."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.secret = token.partition(":")[2].strip()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], InvalidToken):
            return False
        if not self.secret:
            return True
        message = record.getMessage()
        if self.secret in message:
            record.msg, record.args = message.replace(self.secret, "<token>"), None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, text.replace(self.secret, "<token>")
        return True

    def install(self) -> None:
        """On every handler of the root logger (a filter on a logger does not see its children's records)."""
        for handler in logging.getLogger().handlers:
            handler.addFilter(self)
