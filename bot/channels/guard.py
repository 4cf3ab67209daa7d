"""What comes back from the Bot API, checked before python-telegram-bot sees it.

* An update the library cannot read: python-telegram-bot would log the whole raw batch (message text, names, chat
  ids) at CRITICAL and fetch the same batch again at once, for ever, thousands of times a second. Here such an update
  is replaced by a bare `{"update_id": N}`: the library reads it, no handler takes it, and its offset is confirmed
  with the next poll. Only its id is logged.
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

import json
import logging
from collections.abc import Callable
from typing import Any

from telegram import Update
from telegram.error import InvalidToken

from bot.channels.http import AiohttpRequest

log = logging.getLogger(__name__)


def readable_updates(payload: bytes) -> bytes:
    """The getUpdates answer with every update the library cannot read replaced by its bare id."""
    try:
        body = json.loads(payload)
        updates = body["result"]
    except (ValueError, KeyError, TypeError):
        return payload  # not a list of updates: the library reports it as the error it is
    if not isinstance(updates, list):
        return payload
    changed = False
    for index, update in enumerate(updates):
        try:
            Update.de_json(update, None)
        except Exception:
            update_id = update.get("update_id") if isinstance(update, dict) else None
            if not isinstance(update_id, int):
                continue  # without an id there is nothing to confirm; the library will report the batch
            log.warning("skipped update %d: python-telegram-bot cannot read it", update_id)
            updates[index] = {"update_id": update_id}
            changed = True
    return json.dumps(body).encode() if changed else payload


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
        elif code == 200 and polling:
            payload = readable_updates(payload)
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
