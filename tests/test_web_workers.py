"""Two `socialbot web` workers on one PostgreSQL, as behind a round-robin proxy: people whose every request
goes to the other worker than the last, all racing for the first free times. Each conversation continues
across workers, no time is booked twice, and every confirmed booking is listed by either worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bot.storage import open_store
from tests.conftest import ROOT
from tests.pgcluster import _free_port

PEOPLE = 10


def _worker(state: Path, url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALBOT_")} | {"SOCIALBOT_DATABASE_URL": url}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "--state", str(state), "web", "--port", str(port), "--trust-proxy"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        assert process.poll() is None, "the worker died at start"
        time.sleep(0.3)
    process.kill()
    raise AssertionError("the worker did not become healthy")


def _text(answer: dict[str, Any]) -> str:
    return "\n".join(r["text"] for r in answer["replies"])


def _buttons(answer: dict[str, Any]) -> list[str]:
    return [b["data"] for r in answer["replies"] for b in r["buttons"]]


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
    sent = [number % 2]

    def post(body: dict[str, Any], base: str | None = None) -> dict[str, Any]:
        if base is None:
            sent[0] += 1
            base = bases[sent[0] % 2]
        return _post(base, body, headers)

    answer = post({"conversation": None, "text": "boka ett möte", "region": "sundsvall", "lang": "sv"})
    conversation = answer["conversation"]
    for _step in range(4 * PEOPLE):
        text, buttons = _text(answer), _buttons(answer)
        slots = [b for b in buttons if b.startswith("slot:")]
        if "Stämmer det här?" in text:
            # A double click: the confirmation reaches both workers at the same moment.
            with ThreadPoolExecutor(2) as both:
                answers = list(both.map(lambda b: post({"conversation": conversation, "button": "confirm"}, b), bases))
            done = [a for a in answers if "Klart!" in _text(a)]
            assert len(done) <= 1, "one confirmation, one booking"
            if done:
                return conversation
            lost = [a for a in answers if "hann någon annan boka" in _text(a)]
            assert lost, [_text(a) for a in answers]
            answer = lost[0]
        elif slots:
            answer = post({"conversation": conversation, "button": slots[0]})
        elif "förnamn" in text:
            answer = post({"conversation": conversation, "text": "Anna"})
        elif "telefonnummer" in text:
            answer = post({"conversation": conversation, "text": f"070-123 45 {10 + number}"})
        else:
            raise AssertionError(f"unexpected {text!r} {buttons}")
    raise AssertionError(f"person {number} never got a time")


def test_two_web_workers_one_database(tmp_path: Path, postgres_url: str) -> None:
    state = tmp_path / "state"
    first = _worker(state, postgres_url)  # trains the matcher into the shared cache; the second reuses it
    second = _worker(state, postgres_url)
    workers = [first, second]
    try:
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
            answer = _post(bases[number % 2], {"conversation": conversation, "text": "mina bokningar"},
                           {"X-Forwarded-For": "10.0.1.1"})  # fmt: skip
            assert "Dina bokade möten" in _text(answer), _text(answer)
    finally:
        for process, _ in workers:
            process.terminate()
        for process, _ in workers:
            process.wait(timeout=30)
