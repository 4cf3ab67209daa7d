"""Round trips to PostgreSQL per message: the engine on a PostgresStore in a throwaway cluster, called as the web
channel calls it, 20 people each starting, choosing language and region, asking three questions and booking a time.

    .venv/bin/python bench/pg_roundtrips.py

The store talks to the server through a small TCP relay in this process that counts round trips as the wire sees
them: a round trip begins whenever the client sends after it last received (or sends first). That counts a
pipelined batch of statements as the one exchange it is, whatever the driver does inside.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.booking.limits import Limits  # noqa: E402
from bot.dialog.model import ButtonPress, CommandMessage, State, TextMessage  # noqa: E402
from bot.engine import Engine, Settings  # noqa: E402
from bot.knowledge import Knowledge  # noqa: E402
from bot.storage.postgres import PostgresStore  # noqa: E402
from tests.pgcluster import start, stop  # noqa: E402


class CountingRelay:
    """127.0.0.1:port -> the server's TCP port, counting round trips over all connections."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.round_trips = 0
        self._ready = threading.Event()
        self.port = 0
        threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True).start()
        self._ready.wait(30)

    async def _serve(self) -> None:
        server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await server.serve_forever()

    async def _relay(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        server_in, server_out = await asyncio.open_connection("127.0.0.1", self.target_port)
        waiting = [False]  # the client has sent and not yet heard back

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter, from_client: bool) -> None:
            while data := await source.read(65536):
                if from_client and not waiting[0]:
                    self.round_trips += 1  # counted before it is passed on, so before any answer can come back
                waiting[0] = from_client
                sink.write(data)
                await sink.drain()
            sink.close()

        await asyncio.gather(pump(client_in, server_out, True), pump(server_in, client_out, False),
                             return_exceptions=True)  # fmt: skip


def main() -> None:
    directory = Path(tempfile.mkdtemp(prefix="roundtrips-"))
    state = Path(tempfile.mkdtemp(prefix="roundtrips-state-"))
    try:
        port = int(parse_qs(urlsplit(start(directory)).query)["port"][0])
        relay = CountingRelay(port)
        cache = Path(os.environ.get("SOCIALBOT_CACHE") or ROOT / "state" / "cache")  # the trained matcher
        knowledge = Knowledge.load(ROOT / "content", cache_dir=cache)
        store = PostgresStore(f"postgresql://postgres@127.0.0.1:{relay.port}/postgres?sslmode=disable",
                              keys_dir=state)  # fmt: skip
        # 20 people book in one region on one day: above the default day cap, which is not what is measured here.
        settings = Settings(limits=Limits(per_region_day=100, alert_per_hour=0))
        engine = Engine(knowledge, store, channel="web", settings=settings,
                        clock=lambda: datetime(2026, 11, 23, 9, tzinfo=UTC))  # fmt: skip
        per_kind: dict[str, list[int]] = {}

        def send(kind: str, conversation: str, event: object) -> tuple[str, list[str]]:
            """As the web channel does it (bot/channels/web.py): the message, then `replied` once the answer goes."""
            began = relay.round_trips
            handled = engine.handle_existing(conversation, event, acknowledge=False)  # type: ignore[arg-type]
            assert handled is not None
            engine.replied(conversation)
            per_kind.setdefault(kind, []).append(relay.round_trips - began)
            replies = handled[0]
            return "\n".join(r.text for r in replies), [c.data for r in replies for c in r.choices]

        for person in range(20):
            who = f"web:bench{person}"
            began = relay.round_trips
            store.save_state(who, State(), engine.clock())  # the web starts a conversation before its first message
            per_kind.setdefault("new conversation", []).append(relay.round_trips - began)
            send("command", who, CommandMessage("start"))
            send("button", who, ButtonPress("lang:sv"))
            send("button", who, ButtonPress("region:sundsvall"))
            for question in ("vad är lönebidrag", "hur fungerar arbetsträning", "what is work training"):
                send("question", who, TextMessage(question))
            text, buttons = send("command", who, CommandMessage("book"))
            for _ in range(10):
                slots = [b for b in buttons if b.startswith("slot:")]
                if "Stämmer det här?" in text:
                    text, _ = send("booking confirmed", who, ButtonPress("confirm"))
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
            else:
                raise AssertionError(f"no confirmation offered: {text}")
        booked = store.query("SELECT COUNT(*) FROM bookings WHERE status = 'booked'")[0][0]
        store.close()
        assert booked == 20, f"{booked} of 20 people booked"
        total = sum(sum(v) for v in per_kind.values())
        count = sum(len(v) for v in per_kind.values())
        for kind, values in per_kind.items():
            print(f"{kind:<18} {sum(values) / len(values):5.2f} round trips per message ({len(values)} messages)")
        print(f"{'all':<18} {total / count:5.2f} round trips per message ({count} messages)")
    finally:
        stop(directory)
        shutil.rmtree(directory, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
