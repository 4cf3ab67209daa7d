"""Shared fixtures. `testbot` drives the real engine and dialog like a person would, errbot-style:

testbot.send("/start")
testbot.press("Svenska")
assert "Vilken kommun" in testbot.text
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge import Knowledge
from tests.transcript import Clock, TestBot

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return Knowledge.load(CONTENT)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def testbot(knowledge: Knowledge, tmp_path: Path, clock: Clock) -> TestBot:
    bot = TestBot(knowledge, tmp_path / "state", clock)
    yield bot
    bot.close()
