"""Where conversations, bookings and anonymous statistics are kept.

SQLite under the state directory by default; PostgreSQL when `SOCIALBOT_DATABASE_URL` is a
`postgresql://` URL, so that several workers can serve one bot (../shared/spec/interface.md).
"""

from __future__ import annotations

import os
from pathlib import Path

from bot.storage.base import Booking, OutboxEntry, OutboxItem, SlotUnavailable, Store, Unanswered
from bot.storage.sqlite import DB_NAME, SQLiteStore, open_sqlite, private_dir

__all__ = ["DB_NAME", "Booking", "OutboxEntry", "OutboxItem", "SQLiteStore", "SlotUnavailable", "Store", "Unanswered", "database_url", "open_store"]

URL_ENV = "SOCIALBOT_DATABASE_URL"


def database_url() -> str | None:
    """The PostgreSQL URL from the environment, or None for the embedded SQLite default."""
    return os.environ.get(URL_ENV, "").strip() or None


def open_store(state_dir: Path | str, url: str | None = None) -> Store:
    """The store the configuration asks for: `url` (or SOCIALBOT_DATABASE_URL), else SQLite in `state_dir`."""
    url = url or database_url()
    if url is None:
        return open_sqlite(state_dir)
    if url.startswith(("postgresql://", "postgres://")):
        from bot.storage.postgres import PostgresStore  # psycopg is imported only by those who use it

        # The statistics key stays out of the database, in the state directory (share it between workers).
        return PostgresStore(url, keys_dir=private_dir(Path(state_dir)))
    raise ValueError(f"{URL_ENV} must be a postgresql:// URL (or unset for SQLite), not {url.split(':')[0]}:…")
