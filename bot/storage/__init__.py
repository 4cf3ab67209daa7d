"""Where conversations, bookings and anonymous statistics are kept (SQLite under state/)."""

from bot.storage.sqlite import (
    Booking,
    OutboxEntry,
    OutboxItem,
    SlotUnavailable,
    Store,
    Unanswered,
    open_store,
)

__all__ = ["Booking", "OutboxEntry", "OutboxItem", "SlotUnavailable", "Store", "Unanswered", "open_store"]
