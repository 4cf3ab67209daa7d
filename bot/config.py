"""Settings from the command line and the environment, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from bot.booking.limits import Limits


def _ids(value: str | None) -> frozenset[int]:
    ids = set()
    for part in (value or "").replace(";", ",").split(","):
        part = part.strip()
        if part.lstrip("-").isdigit():
            ids.add(int(part))
    return frozenset(ids)


@dataclass(frozen=True)
class Config:
    content_dir: Path = Path("content")
    state_dir: Path = Path("state")
    retention_days: int = 90
    keep_unanswered: bool = True
    admin_chats: frozenset[int] = frozenset()
    notify_chats: dict[str, int] = field(default_factory=dict)  # region -> the business developer's chat
    # region -> the business developer's e-mail (default: the region's contact e-mail in the content)
    notify_emails: dict[str, str] = field(default_factory=dict)
    report_emails: tuple[str, ...] = ()  # the project leader(s): the monthly statistics report
    admin_emails: tuple[str, ...] = ()  # alerts (unusual booking rates) by e-mail; default: the report addresses
    limits: Limits = field(default_factory=Limits)  # booking limits (bot/booking/limits.py)
    cache: Path | None = None  # SOCIALBOT_CACHE: derived files elsewhere than in the state directory

    @property
    def cache_dir(self) -> Path:
        """Derived files that can always be rebuilt (the trained matcher): keyed by what they are made from,
        so one directory can serve several state directories (workers, or the test suite's processes)."""
        return self.cache or self.state_dir / "cache"

    @classmethod
    def from_env(cls, content: str | None = None, state: str | None = None,
                 env: dict[str, str] | None = None) -> Config:  # fmt: skip
        """Raises ValueError on a setting that cannot be used (a booking limit that is not a number)."""
        env = dict(os.environ if env is None else env)
        notify, emails = {}, {}
        for key, value in env.items():
            if key.startswith("SOCIALBOT_NOTIFY_EMAIL_") and "@" in value:
                emails[key.removeprefix("SOCIALBOT_NOTIFY_EMAIL_").lower()] = value.strip()
            elif key.startswith("SOCIALBOT_NOTIFY_") and value.strip().lstrip("-").isdigit():
                notify[key.removeprefix("SOCIALBOT_NOTIFY_").lower()] = int(value)
        retention = env.get("SOCIALBOT_RETENTION_DAYS", "90")
        report = tuple(a.strip() for a in env.get("SOCIALBOT_REPORT_EMAIL", "").split(",") if "@" in a)
        return cls(
            content_dir=Path(content or env.get("SOCIALBOT_CONTENT") or "content"),
            state_dir=Path(state or env.get("SOCIALBOT_STATE") or "state"),
            retention_days=int(retention) if retention.isdigit() and int(retention) > 0 else 90,
            keep_unanswered=env.get("SOCIALBOT_KEEP_UNANSWERED", "1").lower()
            not in ("0", "false", "no", "off"),
            admin_chats=_ids(env.get("SOCIALBOT_ADMIN_CHATS")),
            notify_chats=notify,
            notify_emails=emails,
            report_emails=report,
            admin_emails=tuple(a.strip() for a in env.get("SOCIALBOT_ADMIN_EMAIL", "").split(",") if "@" in a)
            or report,
            limits=Limits.from_env(env),
            cache=Path(env["SOCIALBOT_CACHE"]) if env.get("SOCIALBOT_CACHE", "").strip() else None,
        )
