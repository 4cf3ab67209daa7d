"""`socialbot web` when its database file is moved away or replaced while it runs (tester-attack #2): /healthz
says 503, every message a 503 with a JSON error (never a 500), one log line (no traceback per request), the
admins are told once, directly, and the server stops with exit code 4, as `socialbot run` does."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path

import pytest

from bot.config import Config
from bot.storage.base import OutboxItem
from bot.storage.sqlite import DB_NAME
from tests.conftest import CONTENT
from tests.webserver import WebServer


class RecordingTransport:
    """Our Transport protocol (bot/notify/delivery.py), keeping what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[OutboxItem] = []

    async def send(self, item: OutboxItem) -> None:
        self.sent.append(item)


def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


@pytest.mark.parametrize("how", ["moved", "replaced"])
def test_a_lost_database_gives_503s_one_log_line_one_admin_notice_and_exit_4(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    state = tmp_path / "state"
    telegram = RecordingTransport()
    config = Config(content_dir=CONTENT, state_dir=state, admin_chats=frozenset({999}))
    with WebServer(state, config=config, transports={"telegram": telegram}) as server:
        server.channel.stopping = asyncio.Event()
        status, body, _ = server.post({"conversation": None, "text": "/start", "region": "sundsvall", "lang": "sv"})
        assert status == 200, body
        conversation = body["conversation"]
        assert server.request("/healthz")[0] == 200
        database = state / DB_NAME
        os.rename(database, tmp_path / "moved.sqlite3")
        if how == "replaced":
            database.write_bytes((tmp_path / "moved.sqlite3").read_bytes())
        caplog.clear()
        with caplog.at_level(logging.INFO):
            answers = [server.post({"conversation": conversation, "text": "hur funkar lönebidrag"}),
                       server.post({"conversation": None, "text": "hej"}),
                       server.post({"conversation": conversation, "text": "boka möte"})]  # fmt: skip
            health = server.request("/healthz")
            wait_for(lambda: server.channel.stopping is not None and server.channel.stopping.is_set(),
                     "the server is told to stop")  # fmt: skip
        for status, body, _ in answers:
            assert status == 503 and "database" in body["error"], (status, body)
        assert health[0] == 503 and b'"ok": false' in health[2]
        assert server.channel.exit_code == 4
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("bot.channels")]
        assert len(errors) == 1 and "deleted or replaced" in errors[0].getMessage(), [r.getMessage() for r in errors]
        assert not any(r.exc_info for r in caplog.records), "no traceback per request"
        assert [(item.recipient, "stoppar" in item.payload["text"]) for item in telegram.sent] == [("999", True)]
        if how == "moved":
            assert not database.exists(), "no new, empty database was created"


def test_a_lost_database_met_first_by_the_background_sweeps_is_one_log_line_and_exit_4(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """tester-attack round 3: the outbox/sweep loops met the moved file before any message and logged a full
    traceback ('sweep failed' … StoreReplaced). Now the same stop as a message's: one line, the admins told, exit 4."""
    state = tmp_path / "state"
    telegram = RecordingTransport()
    config = Config(content_dir=CONTENT, state_dir=state, admin_chats=frozenset({999}))
    with WebServer(state, config=config, transports={"telegram": telegram}) as server:
        server.channel.stopping = asyncio.Event()
        server.runtime.delivery.poll = 0.02  # the outbox looks at the database often: it meets the move first
        server.runtime.delivery.wake()
        assert server.request("/healthz")[0] == 200
        caplog.clear()
        with caplog.at_level(logging.INFO):
            os.rename(state / DB_NAME, tmp_path / "moved.sqlite3")
            wait_for(lambda: server.channel.stopping is not None and server.channel.stopping.is_set(),
                     "the server is told to stop")  # fmt: skip
            status, body, _ = server.post({"conversation": None, "text": "hej"})
        assert status == 503 and "database" in body["error"], (status, body)
        assert server.channel.exit_code == 4
        assert not any(r.exc_info for r in caplog.records), "no traceback"
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1 and "deleted or replaced" in errors[0], errors
        assert [(item.recipient, "stoppar" in item.payload["text"]) for item in telegram.sent] == [("999", True)]
