"""The monthly report for the project leader: last month's html report attached, the headline figures in the body.

The running bot queues it through the outbox on the first working day of the month (Swedish public holidays
and weekends skipped), from the process that holds the sweeper lease; its outbox key names the month and the
recipient, so however many processes or restarts try, it is queued, and sent, once. `socialbot stats --mail`
sends it by hand. Every figure in it is a published `Figure`: small counts are "<5" here as everywhere.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from bot.booking.slots import is_swedish_day_off
from bot.content.model import Content
from bot.stats.render import CELL_TITLES, to_html
from bot.stats.report import ZONE, Report, build_report, content_age, labels

if TYPE_CHECKING:
    from bot.storage import OutboxItem, Store

SEND_FROM_HOUR = 6  # Swedish time: not in the middle of the night, and the month before is surely over
HEADLINE = ("conversations", "booked", "bookings", "questions", "fallback_rate", "returning", "helpful", "not_helpful",
            "crisis")  # fmt: skip
MONTHS_SV = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
             "november", "december")  # fmt: skip


def first_working_day(year: int, month: int) -> date:
    day = date(year, month, 1)
    while day.weekday() >= 5 or is_swedish_day_off(day):
        day += timedelta(days=1)
    return day


def previous_month(day: date) -> tuple[date, date]:
    """The first and the last day of the month before `day`'s."""
    last = day.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def due_month(now: datetime) -> tuple[date, date] | None:
    """Last month's first and last day once this month's report is due (from the first working day, 06:00 Swedish
    time, to the end of the month, so a bot that was down that morning still sends it), else None."""
    local = now.astimezone(ZONE)
    today = local.date()
    if today < first_working_day(today.year, today.month) or (
        today == first_working_day(today.year, today.month) and local.hour < SEND_FROM_HOUR
    ):
        return None
    return previous_month(today)


@dataclass(frozen=True)
class MonthlyMail:
    subject: str
    body: str
    html: str
    filename: str
    month: str  # 2026-11


def month_name(first: date) -> str:
    return f"{MONTHS_SV[first.month - 1]} {first.year}"


def headline(report: Report) -> list[str]:
    """The figures a funder asks for first, one per line, Swedish with English beside."""
    lines = []
    for name in HEADLINE:
        if name in report.summary:
            sv, en = CELL_TITLES[name]
            lines.append(f"  {sv} ({en}): {report.summary[name]}")
    return lines


def monthly_mail(store: Store, content: Content, first: date, last: date) -> MonthlyMail:
    names = labels(content)
    report = build_report(
        store, first, last, names["topic_titles"], names["developers"], names["region_names"],
        content_age(content, last),
    )  # fmt: skip
    month = first.strftime("%Y-%m")
    booked = ", ".join(f"{r.label} {r['booked']}" for r in report.by_region if "booked" in r.cells)
    body = [
        f"Hej! Här är socialbotens statistik för {month_name(first)} ({first.isoformat()} – {last.isoformat()}).",
        "(The chatbot's anonymised statistics for the month; the full report is attached.)",
        "",
        *headline(report),
        "",
        f"Samtal som ledde till bokning per kommun (conversations that led to a booking, per region): {booked}",
        "",
        "Hela rapporten med diagram finns i den bifogade html-filen: öppna den i en webbläsare.",
        "Tal som bygger på färre än 5 samtal visas som <5; .. är dolt för att skydda en liten siffra.",
        "(Figures from fewer than 5 conversations are shown as <5; .. is hidden to protect a small one.)",
        "",
        "Rapporten skickades automatiskt av socialbot. Den innehåller inga personuppgifter.",
    ]
    return MonthlyMail(
        subject=f"socialbot: statistik för {month_name(first)}",
        body="\n".join(body) + "\n",
        html=to_html(report),
        filename=f"socialbot-statistik-{month}.html",
        month=month,
    )


def outbox_items(mail: MonthlyMail, recipients: tuple[str, ...] | list[str]) -> list[OutboxItem]:
    """One outbox row per recipient; the key makes queueing the same month twice a no-op."""
    from bot.storage import OutboxItem

    attachment = {"filename": mail.filename, "mime_type": "text/html",
                  "content": base64.b64encode(mail.html.encode("utf-8")).decode("ascii")}  # fmt: skip
    items = []
    for index, address in enumerate(recipients):
        payload = {"subject": mail.subject, "body": mail.body, "attachment": attachment,
                   "message_id": f"<monthly-report.{mail.month}.{index}@socialbot>"}  # fmt: skip
        items.append(
            OutboxItem(f"monthly-report:{mail.month}:{address}", "report", "email", address, payload)
        )
    return items
