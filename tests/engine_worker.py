"""One worker process of a bot served by several: the real engine on a shared store, driven over stdin.

    python -m tests.engine_worker URL CONTENT_DIR STATE_DIR   (the matcher cache as `socialbot` finds it)

Reads one JSON request per line and answers each with one JSON line carrying the same "id"; requests are
handled by a pool of threads, so several conversations are in flight at once, as in a web worker.
  {"id": 1, "op": "handle", "conversation": "telegram:1", "text": "/start"}   (or "button": "lang:sv")
  {"id": 2, "op": "clock", "now": "2026-11-24T09:00:00+00:00"}
  {"id": 3, "op": "remind"}        queue the reminders due now (the runtime's sweep, without the lease)
  {"id": 4, "op": "claim"}         claim due outbox messages, as a delivery loop would; answers their keys
"""

from __future__ import annotations

import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.booking.limits import Limits
from bot.channels.terminal import parse_input
from bot.config import Config
from bot.dialog.model import ButtonPress
from bot.engine import Engine, Settings
from bot.knowledge import Knowledge
from bot.runtime import Runtime
from bot.storage import open_store


def main() -> None:
    url, content, state = sys.argv[1], sys.argv[2], sys.argv[3]
    config = Config.from_env(content=content, state=state)
    now = [datetime(2026, 11, 23, 9, 0, tzinfo=UTC)]
    store = open_store(config.state_dir, url)
    # More people book in one day here than the default daily cap of a region lets through (bot/booking/limits.py).
    engine = Engine(Knowledge.load(config.content_dir, cache_dir=config.cache_dir), store, channel="telegram",
                    clock=lambda: now[0], settings=Settings(limits=Limits(per_region_day=100)))
    runtime = Runtime(engine, config, {}, watch=False)
    out = threading.Lock()

    def answer(request: dict[str, Any]) -> None:
        result: dict[str, Any] = {"id": request["id"]}
        try:
            op = request["op"]
            if op == "handle":
                event = ButtonPress(request["button"]) if "button" in request else parse_input(request["text"], ())
                replies = engine.handle(request["conversation"], event)
                result["replies"] = [{"text": r.text, "buttons": [c.data for c in r.choices]} for r in replies]
            elif op == "clock":
                now[0] = datetime.fromisoformat(request["now"])
            elif op == "remind":
                result["queued"] = runtime.queue_reminders()
            elif op == "claim":
                claimed = store.claim_outbox(["telegram", "email"], now[0], timedelta(minutes=5), limit=50)
                for entry in claimed:
                    store.outbox_done(entry.id, now[0])
                result["claimed"] = [entry.item.key for entry in claimed]
        except Exception as exc:  # the test shows it; a worker must not die silently
            result["error"] = f"{type(exc).__name__}: {exc}"
        with out:
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
            sys.stdout.flush()

    sys.stdout.write(json.dumps({"ready": True}) + "\n")
    sys.stdout.flush()
    with ThreadPoolExecutor(max_workers=8) as pool:
        for line in sys.stdin:
            if line.strip():
                pool.submit(answer, json.loads(line))
    store.close()


if __name__ == "__main__":
    main()
