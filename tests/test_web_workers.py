"""Two `socialbot web` workers on one PostgreSQL, as behind a round-robin proxy: people whose every request
goes to the other worker than the last, all racing for the first free times. Each conversation continues
across workers, no time is booked twice, and every confirmed booking is listed by either worker."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bot.storage import open_store
from tests.booking_race import Answer, book_the_first_free_time
from tests.conftest import CACHE_ENV, ROOT
from tests.pgcluster import _free_port

PEOPLE = 10


def _start(state: Path, url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALBOT_")} | {
        "SOCIALBOT_DATABASE_URL": url, CACHE_ENV: os.environ[CACHE_ENV],
        "SOCIALBOT_MAX_BOOKINGS_PER_DAY": "100"}  # all of them book on one day: more than a region's default cap
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "--state", str(state), "web", "--port", str(port), "--trust-proxy"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return process, f"http://127.0.0.1:{port}"


def _wait_until_healthy(process: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert process.poll() is None, "the worker died at start"
        time.sleep(0.3)
    raise AssertionError("the worker did not become healthy")


def _answer(answer: dict[str, Any]) -> Answer:
    return Answer("\n".join(r["text"] for r in answer["replies"]), [b["data"] for r in answer["replies"] for b in r["buttons"]])


def _post(base: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    """One message, waiting as told on 429 as the page does (the test is faster than a person types)."""
    response = httpx.post(base + "/api/messages", json=body, headers=headers, timeout=60)
    for _ in range(10):
        if response.status_code != 429:
            break
        time.sleep(float(response.headers.get("Retry-After", "1")))
        response = httpx.post(base + "/api/messages", json=body, headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def _person(number: int, bases: list[str]) -> str:
    """One person booking, each request to the other worker; returns the conversation id."""
    headers = {"X-Forwarded-For": f"10.0.0.{number + 1}"}
    sent = itertools.count(number % 2)
    answer = _post(bases[next(sent) % 2], {"conversation": None, "text": "boka ett möte", "region": "sundsvall",
                                           "lang": "sv"}, headers)  # fmt: skip
    conversation = answer["conversation"]

    def send(body: dict[str, Any], base: str | None = None) -> Answer:
        return _answer(_post(base or bases[next(sent) % 2], {"conversation": conversation, **body}, headers))

    book_the_first_free_time(
        _answer(answer), press=lambda data: send({"button": data}), say=lambda text: send({"text": text}),
        confirm_on=lambda i: send({"button": "confirm"}, bases[i]),
        phone=f"070-123 45 {10 + number}", steps=4 * PEOPLE, who=f"person {number}",
    )  # fmt: skip
    return conversation


def test_two_web_workers_one_database(tmp_path: Path, postgres_url: str) -> None:
    workers = [_start(tmp_path / "state", postgres_url) for _ in range(2)]  # both start at once
    try:
        for process, base in workers:
            _wait_until_healthy(process, base)
        bases = [base for _, base in workers]
        with ThreadPoolExecutor(PEOPLE) as people:
            conversations = list(people.map(lambda n: _person(n, bases), range(PEOPLE)))
        store = open_store(tmp_path / "reader", postgres_url)
        try:
            from datetime import UTC, datetime

            upcoming = store.upcoming(datetime.now(UTC))
            slots = [(b.region, b.slot) for b in upcoming]
            assert len(slots) == len(set(slots)) == PEOPLE, "no time booked twice, none lost"
            assert sorted(b.conversation for b in upcoming) == sorted(f"web:{c}" for c in conversations)
        finally:
            store.close()
        for number, conversation in enumerate(conversations):  # listed by either worker
            listed = _answer(_post(bases[number % 2], {"conversation": conversation, "text": "mina bokningar"},
                                   {"X-Forwarded-For": "10.0.1.1"}))  # fmt: skip
            assert "Dina bokade möten" in listed.text, listed.text
    finally:
        for process, _ in workers:
            process.terminate()
        for process, _ in workers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
