"""Round trips to PostgreSQL per message: the engine on a PostgresStore in a throwaway cluster, 20 people each
starting, choosing language and region, asking three questions and booking a time; every wait on the server
is counted (psycopg's Connection.wait: one per statement, BEGIN and COMMIT included).

    .venv/bin/python bench/pg_roundtrips.py
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bot.dialog.model import ButtonPress, CommandMessage, TextMessage  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.knowledge import Knowledge  # noqa: E402
from bot.storage.postgres import PostgresStore  # noqa: E402
from tests.pgcluster import start, stop  # noqa: E402

waits: Counter[str] = Counter()
_wait = psycopg.Connection.wait


def counting_wait(self, gen, *args, **kwargs):  # type: ignore[no-untyped-def]
    waits["now"] += 1
    return _wait(self, gen, *args, **kwargs)


psycopg.Connection.wait = counting_wait  # type: ignore[method-assign]

def main() -> None:
    directory = Path(tempfile.mkdtemp(prefix="roundtrips-"))
    state = Path(tempfile.mkdtemp(prefix="roundtrips-state-"))
    try:
        url = start(directory)
        cache = Path(os.environ.get("SOCIALBOT_CACHE") or ROOT / "state" / "cache")  # the trained matcher
        knowledge = Knowledge.load(ROOT / "content", cache_dir=cache)
        store = PostgresStore(url, keys_dir=state)
        engine = Engine(knowledge, store, channel="web", clock=lambda: datetime(2026, 11, 23, 9, tzinfo=UTC))
        per_kind: dict[str, list[int]] = {}

        def send(kind: str, conversation: str, event: object) -> tuple[str, list[str]]:
            waits["now"] = 0
            replies = engine.handle(conversation, event)  # type: ignore[arg-type]
            per_kind.setdefault(kind, []).append(waits["now"])
            return "\n".join(r.text for r in replies), [c.data for r in replies for c in r.choices]

        for person in range(20):
            who = f"web:bench{person}"
            send("command", who, CommandMessage("start"))
            send("button", who, ButtonPress("lang:sv"))
            send("button", who, ButtonPress("region:sundsvall"))
            for question in ("vad är lönebidrag", "hur fungerar arbetsträning", "what is work training"):
                send("question", who, TextMessage(question))
            text, buttons = send("command", who, CommandMessage("book"))
            for _ in range(10):
                slots = [b for b in buttons if b.startswith("slot:")]
                if "Stämmer det här?" in text:
                    send("booking confirmed", who, ButtonPress("confirm"))
                    break
                if slots:
                    text, buttons = send("button", who, ButtonPress(slots[person % len(slots)]))
                elif "förnamn" in text:
                    text, buttons = send("question", who, TextMessage("Anna"))
                elif "telefonnummer" in text:
                    text, buttons = send("question", who, TextMessage(f"070-123 45 {10 + person}"))
                elif "reach:chat" in buttons:
                    text, buttons = send("button", who, ButtonPress("reach:chat"))
                else:
                    raise AssertionError(text)
        store.close()
        total = sum(sum(v) for v in per_kind.values())
        count = sum(len(v) for v in per_kind.values())
        for kind, values in per_kind.items():
            print(f"{kind:<10} {sum(values) / len(values):5.2f} round trips per message")
        print(f"all        {total / count:5.2f} round trips per message ({count} messages)")
    finally:
        stop(directory)
        shutil.rmtree(directory, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
