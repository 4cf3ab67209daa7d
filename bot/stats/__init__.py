"""Anonymised statistics for the project leader: figures from the anonymous events, with small counts hidden.

`build_report` reads the store into a `Report`; `bot.stats.render` writes it as text, JSON, CSV or one
self-contained HTML file; `bot.stats.telegram` sends a short summary to an admin chat.
"""

from bot.stats.report import MIN_CONVERSATIONS, Figure, Report, build_report, suppress

__all__ = ["MIN_CONVERSATIONS", "Figure", "Report", "build_report", "suppress"]
