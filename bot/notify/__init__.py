"""Messages that leave the bot on their own: the business developers' notices, reminders, reports.

They go through an outbox in the database, written in the same transaction as the change that caused
them, and are delivered by `Delivery` over transports (Telegram, e-mail) with retries and back-off.
"""

from bot.notify.delivery import Delivery, SendFailed, Transport
from bot.notify.messages import notification_items, reminder_item

__all__ = ["Delivery", "SendFailed", "Transport", "notification_items", "reminder_item"]
