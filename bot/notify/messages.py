"""What the outbox carries: the business developer's notice of a change (Telegram and e-mail, in Swedish,
with the calendar file) and a person's reminder before a meeting."""

from __future__ import annotations

import base64
import html
from datetime import datetime

from bot.booking.calendar import meeting_ics
from bot.booking.slots import parse_slot_key
from bot.content import Content
from bot.dialog import texts
from bot.dialog.core import format_when, meeting_place
from bot.engine import Notification, notification_text
from bot.storage import Booking, OutboxItem

TELEGRAM_PREFIX = "telegram:"
SUBJECTS = {"booked": "Ny bokning", "moved": "Flyttad bokning", "cancelled": "Avbokning"}


def notification_items(notification: Notification, content: Content, now: datetime, *,
                       chats: dict[str, int], emails: dict[str, str], mail: bool) -> list[OutboxItem]:  # fmt: skip
    """One outbox row per way the region's business developer is reached. The key names the change, so
    the same change is never queued twice."""
    booking = notification.booking
    change = f"{notification.kind}:{booking.id}:{booking.slot}:{now.isoformat()}"
    items: list[OutboxItem] = []
    chat = chats.get(booking.region)
    if chat is not None:
        text = html.escape(notification_text(notification), quote=False)
        if booking.phone is None and booking.conversation.startswith(TELEGRAM_PREFIX) and notification.kind != "cancelled":
            # "Reach me here in the chat": a link that opens the person's Telegram chat for the developer.
            user = booking.conversation.removeprefix(TELEGRAM_PREFIX)
            if user.isdigit():  # a person's own chat; a group's id is negative and reaches no person
                text += f'\n<a href="tg://user?id={user}">Skriv till personen i Telegram</a>'
        items.append(OutboxItem(f"{change}:telegram:{chat}", "notification", "telegram", str(chat),
                                {"text": text, "parse_mode": "HTML"}))  # fmt: skip
    region = content.regions.get(booking.region)
    address = emails.get(booking.region) or (region.contact.email if region else None)
    if mail and address:
        items.append(OutboxItem(f"{change}:email:{address}", "notification", "email", address,
                                staff_mail(notification, content, now)))  # fmt: skip
    return items


def staff_mail(notification: Notification, content: Content, now: datetime) -> dict[str, object]:
    """Subject, body and the calendar file for the business developer's mail, in Swedish."""
    booking = notification.booking
    start = parse_slot_key(booking.slot)
    when = format_when(start, "sv")
    region = content.regions.get(booking.region)
    lines = [notification_text(notification)]
    if booking.phone is None and notification.kind != "cancelled":
        if booking.conversation.startswith(TELEGRAM_PREFIX):
            lines.append("Personen vill bli kontaktad i Telegram-chatten med boten.")
        else:
            lines.append("Personen lämnade inget telefonnummer och använder webbchatten, som inte kan ta emot "
                         "meddelanden senare: mötet sker på den plats som står i bokningen.")  # fmt: skip
    if region:
        lines.append(f"Plats: {meeting_place(region, 'sv', booking.phone)}")
    lines.append("\nKalenderfilen (meeting.ics) är bifogad: öppna den för att lägga in mötet i din kalender.")
    lines.append("Meddelandet skickades automatiskt av socialbot. Svara inte på det.")
    minutes = region.availability.meeting_minutes if region else 30
    ics = meeting_ics(
        uid=f"{booking.id}@socialbot",
        start=start,
        minutes=minutes,
        summary=f"Möte med {booking.name or 'en person från chatten'} (socialbot)",
        description=notification_text(notification),
        location=meeting_place(region, "sv", booking.phone) if region else "",
        now=now,
    )
    if notification.kind == "cancelled":
        ics = cancelled_ics(ics)
    return {
        "subject": f"{SUBJECTS[notification.kind]}: {when}",
        "body": "\n".join(lines),
        "attachment": {"filename": "meeting.ics", "mime_type": "text/calendar",
                       "content": base64.b64encode(ics).decode("ascii")},
        "message_id": f"<{notification.kind}.{booking.id}.{int(now.timestamp())}@socialbot>",
    }  # fmt: skip


def cancelled_ics(ics: bytes) -> bytes:
    """The same event (same UID), marked cancelled, so a calendar that has it removes it."""
    from icalendar import Calendar  # as in bot/booking/calendar.py: imported when needed

    calendar = Calendar.from_ical(ics)
    calendar.pop("method", None)
    calendar.add("method", "CANCEL")
    for event in calendar.walk("VEVENT"):
        event.add("status", "CANCELLED")
        event.add("sequence", 1)
    return bytes(calendar.to_ical())


def reminder_item(booking: Booking, which: str, content: Content) -> OutboxItem | None:
    """The reminder for a person who can be reached later (only Telegram can push today)."""
    if not booking.conversation.startswith(TELEGRAM_PREFIX):
        return None
    region = content.regions.get(booking.region)
    if region is None:
        return None
    lang = booking.lang or "sv"  # a text the language lacks falls back (English, then Swedish)
    text = texts.text("reminder", lang, contact_name=region.contact.name,
                      when=format_when(parse_slot_key(booking.slot), lang),
                      place=meeting_place(region, lang, booking.phone))  # fmt: skip
    return OutboxItem(f"reminder:{booking.id}:{booking.slot}:{which}", "reminder", "telegram",
                      booking.conversation.removeprefix(TELEGRAM_PREFIX), {"text": text, "booking": booking.id},
                      conversation=booking.conversation, at_most_once=True)  # fmt: skip
