"""Two worker processes serving one bot on one PostgreSQL: many people, each sending their messages to both
workers in turn and racing for a few free times. Every conversation continues across workers, no time is
booked twice, every confirmed booking is listed, and each reminder is queued and sent once."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.booking.slots import parse_slot_key
from bot.storage import open_store
from tests.booking_race import Answer, book_the_first_free_time
from tests.conftest import CONTENT, ROOT

PEOPLE = 14
START = "2026-11-23T09:00:00+00:00"


class Worker:
    """A `tests/engine_worker.py` process; `ask` may be called from many threads at once."""

    def __init__(self, url: str, state: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.engine_worker", url, str(CONTENT), str(state)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )  # fmt: skip
        assert self.process.stdout is not None
        assert json.loads(self.process.stdout.readline()) == {"ready": True}
        self._ids = itertools.count()
        self._waiting: dict[int, tuple[threading.Event, list[dict[str, Any]]]] = {}
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            answer = json.loads(line)
            event, box = self._waiting.pop(answer["id"])
            box.append(answer)
            event.set()

    def ask(self, **request: Any) -> dict[str, Any]:
        event, box = threading.Event(), []  # type: ignore[var-annotated]
        with self._lock:
            request["id"] = next(self._ids)
            self._waiting[request["id"]] = (event, box)
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        assert event.wait(timeout=120), f"no answer to {request}"
        answer = box[0]
        assert "error" not in answer, answer["error"]
        return answer

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def _answer(answer: dict[str, Any]) -> Answer:
    return Answer("\n".join(reply["text"] for reply in answer["replies"]),
                  [data for reply in answer["replies"] for data in reply["buttons"]])  # fmt: skip


def _person(number: int, workers: list[Worker]) -> str:
    """One person's whole conversation, each message to the other worker than the last."""
    who = f"telegram:{1000 + number}"
    turn = itertools.cycle(workers[number % 2 :] + workers[: number % 2])

    def send(**message: str) -> Answer:
        answer = _answer(next(turn).ask(op="handle", conversation=who, **message))
        assert "Tekniskt fel" not in answer.text and "technical" not in answer.text.lower(), answer.text
        return answer

    assert "lang:sv" in send(text="/start").buttons
    assert "region:sundsvall" in send(button="lang:sv").buttons, "the language choice reached the other worker"
    send(button="region:sundsvall")
    answer = send(text="/book")
    assert any(b.startswith("slot:") for b in answer.buttons), "the region chosen on one worker is known"
    book_the_first_free_time(
        answer, press=lambda data: send(button=data), say=lambda text: send(text=text),
        confirm_on=lambda i: _answer(workers[i].ask(op="handle", conversation=who, button="confirm")),
        phone=f"070-123 45 {10 + number}", steps=4 * PEOPLE, who=who,
    )  # fmt: skip
    return who


def test_two_workers_one_database(tmp_path: Path, postgres_url: str) -> None:
    workers = [Worker(postgres_url, tmp_path / "state"), Worker(postgres_url, tmp_path / "state")]
    try:
        with ThreadPoolExecutor(PEOPLE) as people:
            booked = list(people.map(lambda n: _person(n, workers), range(PEOPLE)))

        store = open_store(tmp_path, postgres_url)
        try:
            upcoming = store.upcoming(datetime.fromisoformat(START))
            slots = [(b.region, b.slot) for b in upcoming]
            assert len(slots) == len(set(slots)), "no time booked twice"
            assert sorted(b.conversation for b in upcoming) == sorted(booked)
            for who in booked:  # every confirmed booking is listed, by either worker
                listed = _answer(workers[int(who[-1]) % 2].ask(op="handle", conversation=who, text="/mybookings"))
                mine = store.bookings_of(who, datetime.fromisoformat(START))
                assert len(mine) == 1 and "Dina bokade möten" in listed.text, listed.text

            # A day later, both workers sweep for reminders at the same moment, then both deliver.
            first_start = min(parse_slot_key(b.slot) for b in upcoming)
            day_before = (first_start - timedelta(hours=23)).isoformat()
            for worker in workers:
                worker.ask(op="clock", now=day_before)
            with ThreadPoolExecutor(2) as both:
                queued = list(both.map(lambda w: w.ask(op="remind")["queued"], workers))
                claimed = list(both.map(lambda w: w.ask(op="claim")["claimed"], workers))
            due = [b for b in upcoming if parse_slot_key(b.slot) - timedelta(hours=24) <= first_start - timedelta(hours=23)]
            assert due and sum(queued) == len(due), "each due reminder queued once"
            sent = [key for keys in claimed for key in keys if key.startswith("reminder:")]
            assert sorted(sent) == sorted(set(sent)) and len(sent) == len(due), "and sent once"
            assert {key.split(":")[1] for key in sent} == {b.id for b in due}
        finally:
            store.close()
    finally:
        for worker in workers:
            worker.close()
