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
from tests.conftest import CONTENT, ROOT

PEOPLE = 14
START = "2026-11-23T09:00:00+00:00"


class Worker:
    """A `tests/engine_worker.py` process; `ask` may be called from many threads at once."""

    def __init__(self, url: str, cache: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.engine_worker", url, str(CONTENT), str(cache)],
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


def _text(answer: dict[str, Any]) -> str:
    return "\n".join(reply["text"] for reply in answer["replies"])


def _buttons(answer: dict[str, Any]) -> list[str]:
    return [data for reply in answer["replies"] for data in reply["buttons"]]


def _person(number: int, workers: list[Worker]) -> str:
    """One person's whole conversation, each message to the other worker than the last."""
    who = f"telegram:{1000 + number}"
    turn = itertools.cycle(workers[number % 2 :] + workers[: number % 2])

    def say(**message: str) -> dict[str, Any]:
        answer = next(turn).ask(op="handle", conversation=who, **message)
        assert "Tekniskt fel" not in _text(answer) and "technical" not in _text(answer).lower(), _text(answer)
        return answer

    assert "lang:sv" in _buttons(say(text="/start"))
    assert "region:sundsvall" in _buttons(say(button="lang:sv")), "the language choice reached the other worker"
    say(button="region:sundsvall")
    answer = say(text="/book")
    assert any(b.startswith("slot:") for b in _buttons(answer)), "the region chosen on one worker is known"
    for _step in range(4 * PEOPLE):
        text, buttons = _text(answer), _buttons(answer)
        slots = [b for b in buttons if b.startswith("slot:")]
        if "Stämmer det här?" in text:
            # A double click: the confirmation goes to both workers at the same moment.
            with ThreadPoolExecutor(2) as both:
                answers = list(both.map(lambda w: w.ask(op="handle", conversation=who, button="confirm"), workers))
            done = [a for a in answers if "Klart!" in _text(a)]
            assert len(done) <= 1, "one confirmation, one booking"
            if done:
                return who
            lost = [a for a in answers if "hann någon annan boka" in _text(a)]
            assert lost, [_text(a) for a in answers]
            answer = lost[0]
        elif slots:  # the first free time, which everyone wants: few times, many people
            answer = say(button=slots[0])
        elif "förnamn" in text:
            answer = say(text="Anna")
        elif "reach:chat" in buttons:
            answer = say(button="reach:chat")
        else:
            raise AssertionError(f"{who}: unexpected {text!r} {buttons}")
    raise AssertionError(f"{who} never got a time")


def test_two_workers_one_database(tmp_path: Path, postgres_url: str) -> None:
    cache = tmp_path / "cache"
    first = Worker(postgres_url, cache)  # trains the matcher into the cache; the second reuses it
    second = Worker(postgres_url, cache)
    workers = [first, second]
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
                listed = workers[int(who[-1]) % 2].ask(op="handle", conversation=who, text="/mybookings")
                mine = store.bookings_of(who, datetime.fromisoformat(START))
                assert len(mine) == 1 and "Dina bokade möten" in _text(listed), _text(listed)

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
