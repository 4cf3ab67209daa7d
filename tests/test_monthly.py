"""The monthly report by e-mail: queued by the running bot on the first working day, received by a real local SMTP
server (aiosmtpd) with the html report attached; and `socialbot stats --mail` by hand."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.config import Config
from bot.engine import Engine
from bot.knowledge import Knowledge
from bot.notify.smtp import EmailTransport
from bot.runtime import Runtime
from bot.stats.monthly import due_month, first_working_day
from bot.storage import open_store
from tests.conftest import CONTENT, ROOT
from tests.test_outbox import MailServer, free_port, settings_for, wait_for
from tests.test_stats import evidence
from tests.test_stats_html import PNG, Page, decode_image
from tests.transcript import Clock

LEADER = "projektledare@example.se"


@pytest.fixture
def smtp_port() -> int:
    return free_port()


def test_first_working_day_skips_weekends_and_holidays() -> None:
    assert first_working_day(2026, 12) == date(2026, 12, 1)  # a Tuesday
    assert first_working_day(2027, 1) == date(2027, 1, 4)  # 1 January is a holiday, then a weekend
    assert first_working_day(2026, 11) == date(2026, 11, 2)  # 1 November is a Sunday
    assert due_month(datetime(2027, 1, 1, 10, tzinfo=UTC)) is None
    assert due_month(datetime(2027, 1, 4, 4, tzinfo=UTC)) is None  # 05:00 in Sweden: not yet
    assert due_month(datetime(2027, 1, 4, 6, tzinfo=UTC)) == (date(2026, 12, 1), date(2026, 12, 31))
    assert due_month(datetime(2027, 1, 20, 6, tzinfo=UTC)) == (date(2026, 12, 1), date(2026, 12, 31))


def attachment_of(message: EmailMessage) -> tuple[str, str]:
    parts = [part for part in message.iter_attachments()]
    assert len(parts) == 1
    assert parts[0].get_content_type() == "text/html"
    return str(parts[0].get_filename()), parts[0].get_content()


def check_report_mail(message: EmailMessage) -> None:
    assert message["To"] == LEADER and message["Subject"] == "socialbot: statistik för november 2026"
    body = message.get_body(("plain",)).get_content()
    assert "2026-11-01 – 2026-11-30" in body
    # November in the evidence: 8 conversations, 6 of them booked and came back, one crisis answer (so "<5")
    assert "Samtal (conversations): 8" in body and "Ledde till bokning (led to a booking): 6" in body
    assert "Återkommande (returning): 6" in body and "Krissvar (crisis answers): <5" in body
    assert "Sundsvall 6" in body
    name, page = attachment_of(message)
    assert name == "socialbot-statistik-2026-11.html" and page.startswith("<!doctype html>")
    parsed = Page()
    parsed.feed(page)
    charts = [image for image in parsed.images if image.get("data-chart")]
    assert len(charts) >= 6 and all(decode_image(image["src"]).startswith(PNG) for image in charts)
    assert "2026-12" not in page  # only the month reported on


async def test_the_running_bot_mails_last_month_once(
    knowledge: Knowledge, tmp_path: Path, smtp_port: int
) -> None:
    server = MailServer(smtp_port)
    server.start()
    state = tmp_path / "state"
    store = open_store(state)
    evidence(store)  # November and December 2026
    clock = Clock(datetime(2026, 12, 1, 8, tzinfo=UTC))  # Tuesday 1 December, 09:00 in Sweden
    config = Config(content_dir=CONTENT, state_dir=state, report_emails=(LEADER,))
    engines, runtimes = [], []
    try:
        for _ in range(2):  # two processes on one state directory, one after the other
            engine = Engine(knowledge, open_store(state), channel="web", clock=clock)
            runtime = Runtime(engine, config, {"email": EmailTransport(settings_for(smtp_port))}, watch=False)
            engines.append(engine)
            runtimes.append(runtime)
        first, second = runtimes
        await first.start()
        await wait_for(lambda: len(server.inbox.messages) == 1, timeout=60)
        check_report_mail(server.inbox.messages[0])
        assert first.sweep()  # the next sweep builds nothing again
        await first.stop()
        assert second.sweep()  # another process takes the lease over: the report is already queued
        await second.delivery.deliver_due()
        assert len(server.inbox.messages) == 1
    finally:
        for runtime in runtimes:
            await runtime.stop()
        for engine in engines:
            engine.store.close()
        store.close()
        server.stop()


def test_not_before_the_first_working_day(knowledge: Knowledge, tmp_path: Path) -> None:
    store = open_store(tmp_path)
    try:
        engine = Engine(knowledge, store, channel="web", clock=Clock(datetime(2027, 1, 1, 9, tzinfo=UTC)))
        runtime = Runtime(engine, Config(content_dir=CONTENT, state_dir=tmp_path, report_emails=(LEADER,)),
                          {"email": EmailTransport(settings_for(1))}, watch=False)  # fmt: skip
        assert runtime.queue_monthly_report(engine.clock()) == 0  # New Year's Day
        assert store.next_outbox_due(["email"]) is None
    finally:
        store.close()


def test_stats_mail_by_hand(tmp_path: Path, smtp_port: int) -> None:
    server = MailServer(smtp_port)
    server.start()
    store = open_store(tmp_path)
    evidence(store)
    store.close()
    env = {**os.environ, "SOCIALBOT_SMTP_HOST": "127.0.0.1", "SOCIALBOT_SMTP_PORT": str(smtp_port),
           "SOCIALBOT_SMTP_SECURITY": "none", "SOCIALBOT_MAIL_FROM": "bot@example.se",
           "SOCIALBOT_REPORT_EMAIL": LEADER}  # fmt: skip
    command = [sys.executable, "-m", "bot", "--state", str(tmp_path), "stats", "--mail"]
    try:
        result = subprocess.run([*command, "--since", "2026-11-01", "--until", "2026-11-30"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=180)  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert f"to {LEADER}" in result.stdout
        check_report_mail(server.inbox.messages[0])
        unset = {k: v for k, v in env.items() if k != "SOCIALBOT_SMTP_HOST"}
        missing = subprocess.run(command, cwd=ROOT, env=unset, capture_output=True, text=True, timeout=60)
        assert missing.returncode == 2 and "SOCIALBOT_SMTP_HOST" in missing.stderr
    finally:
        server.stop()
