"""The statistics' monthly hashing key, kept outside the database.

Events carry a keyed hash of the conversation so that a month's distinct conversations can be counted. If the key
lived in the same database as the events and the bookings, anyone with a copy of the database could hash every chat
key and link the "anonymous" events back to a chat, a name and a phone number. So the key lives in a file of its own
(`stats-key`, mode 0600, in the state directory, which is 0700), holds only the current month's key, and is replaced
(the old key overwritten, never kept) the first time a later month asks for one, or when the daily purge runs.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)
KEY_FILE = "stats-key"


def month_of(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m")


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically, readable by the owner only (0600) from the first byte."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class MonthlyKey:
    """The current month's key; `directory=None` keeps it in memory only (an in-memory database)."""

    def __init__(self, directory: Path | None) -> None:
        self.path = directory / KEY_FILE if directory is not None else None
        self._month = ""
        self._key = b""
        self._lock = threading.Lock()

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """This process's lock, and a file lock beside the key: workers sharing the state directory must
        not each start their own key when a month begins, or they would count one person as several."""
        with self._lock:
            if self.path is None:
                yield
                return
            fd = os.open(self.path.with_name(KEY_FILE + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # releases the flock

    def key(self, now: datetime) -> bytes:
        month = month_of(now)
        with self._lock:
            if month == self._month:
                return self._key
        with self._exclusive():
            if month != self._month:
                self._load(month)
            return self._key

    def expire(self, now: datetime) -> bool:
        """Drop a key older than `now`'s month (the daily purge). Returns whether one was dropped."""
        month = month_of(now)
        with self._exclusive():
            stored = self._read()
            if stored is not None and stored[0] < month:
                self._new(month)
                return True
            if self._month and self._month < month:
                self._month, self._key = "", b""
                return True
        return False

    def _read(self) -> tuple[str, bytes] | None:
        if self.path is None:
            return (self._month, self._key) if self._month else None
        try:
            value = json.loads(self.path.read_text(encoding="ascii"))
            return str(value["month"]), bytes.fromhex(value["key"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("the statistics key file is unreadable; starting a new key")
            return None

    def _load(self, month: str) -> None:
        stored = self._read()
        if stored is not None and stored[0] == month:
            self._month, self._key = stored
        elif stored is not None and stored[0] > month:
            # A month that has gone (a clock set back): its key is gone for good, so this hash links to nothing.
            self._month, self._key = "", secrets.token_bytes(32)
        else:
            self._new(month)

    def _new(self, month: str) -> None:
        key = secrets.token_bytes(32)
        if self.path is not None:
            write_private(self.path, json.dumps({"month": month, "key": key.hex()}).encode("ascii"))
        self._month, self._key = month, key


PERSON_KEY_FILE = "limits-key"
PERSON_KEY_ENV = "SOCIALBOT_LIMITS_KEY"


def person_key(directory: Path | None, env: dict[str, str] | None = None) -> bytes:
    """The key of the booking limits' person hashes (bot/booking/limits.py): SOCIALBOT_LIMITS_KEY (workers on several
    machines must share it), else `limits-key` (0600) in the state directory, made once. It does not rotate like the
    statistics key: a hash lives only as long as its booking is upcoming, and a rotation would reset every count. Kept
    out of the database, so a copy of the database cannot test guessed addresses against the hashes."""
    value = (os.environ if env is None else env).get(PERSON_KEY_ENV, "").strip()
    if value:
        return value.encode()
    if directory is None:
        return secrets.token_bytes(32)
    path = directory / PERSON_KEY_FILE
    for _attempt in range(3):
        try:
            return bytes.fromhex(path.read_text(encoding="ascii").strip())
        except FileNotFoundError:
            pass
        except (OSError, ValueError):
            log.warning("the limits key file is unreadable; starting a new key")
            write_private(path, secrets.token_bytes(32).hex().encode("ascii"))
            continue
        # Made once: a new file linked in only where none is yet, so workers starting together agree on one key.
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        write_private(tmp, secrets.token_bytes(32).hex().encode("ascii"))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    raise OSError(f"could not read or make {path}")
