"""/stats in an admin chat: a short summary of the last 30 days and one chart."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from telegram import LinkPreviewOptions

from bot.stats.render import CELL_TITLES, chart_png, period_text
from bot.stats.report import ZONE, Report, build_report

if TYPE_CHECKING:
    from bot.storage import Store

DAYS = 30
TOP = 3
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
CODE_START, CODE_END = (
    "\x00code\x01",
    "\x00/code\x01",
)  # stand-ins, not typable: scrubbed texts never hold NUL


def summary_text(report: Report) -> str:
    """A few lines that read well in a chat, as Telegram HTML; the full report is `socialbot stats --format html`."""
    lines = [f"Statistik, senaste {DAYS} dagarna", f"{period_text(report)}", ""]
    for name in ("conversations", "messages", "fallback_rate", "bookings"):
        lines.append(f"{CELL_TITLES[name][0]}: {report.summary[name]}")
    regions = [f"{r.label} {r['made']}" for r in report.bookings]
    if regions:
        lines[-1] += f" ({', '.join(regions)})"
    if report.topics:
        lines += ["", "Vanligaste ämnena:"]
        lines += [f"- {r.label}: {r['questions']} frågor" for r in report.topics[:TOP]]
    if report.unanswered:
        lines += ["", "Vanligaste frågorna utan svar:"]
        # What people typed is shown as code: Telegram makes no links, @mentions or /commands inside code, so a
        # question holding a link cannot be clicked by staff.
        lines += [
            f"- {CODE_START}{r.label[:80]}{CODE_END} ({r['asked']} gånger)" for r in report.unanswered[:TOP]
        ]
    lines += ["", "Tal som bygger på färre än 5 samtal visas som <5;",
              ".. är dolt för att skydda en liten siffra.",
              "Hela rapporten: socialbot stats --format html"]  # fmt: skip
    text = html.escape("\n".join(lines), quote=False)
    return text.replace(CODE_START, "<code>").replace(CODE_END, "</code>")


async def send_stats(bot: Any, chat_id: int, store: Store, now: datetime, *,
                     topic_titles: Mapping[str, str] | None = None, developers: Mapping[str, str] | None = None,
                     region_names: Mapping[str, str] | None = None) -> None:  # fmt: skip
    """Send the last 30 days' summary, then the weekly chart as one PNG photo."""
    until = now.astimezone(ZONE).date()
    since = until - timedelta(days=DAYS - 1)

    def prepare() -> tuple[Report, bytes | None]:
        # Reading and drawing take a moment: off the event loop, so other chats are not kept waiting.
        report = build_report(store, since, until, topic_titles or {}, developers, region_names)
        return report, chart_png(report, "weekly") if report.by_week else None

    report, png = await asyncio.to_thread(prepare)
    await bot.send_message(chat_id, summary_text(report), parse_mode="HTML", link_preview_options=NO_PREVIEW)
    if png:
        await bot.send_photo(
            chat_id, photo=png, caption="Samtal och meddelanden per vecka (<5 och .. ritas som 0)"
        )
