"""The local Bot API server in a process of its own, with a small control API, for bench/load.py.

In production Telegram's servers are elsewhere; running the fake in its own process keeps its work off the
bot's event loop and core, so the figures are the bot's. Control endpoints (on --control-port):
  POST /push    {"messages": [[chat_id, text], ...]}  -> pushes them as user messages, records when
  GET  /status  -> {"pending": n, "sent": n}
  GET  /latency -> {"latencies": [seconds, ...], "chats": [chat, ...]}: for each pushed message (and its chat),
                   the time to the bot's first reply after it
  POST /fail    {"method": "sendMessage", "status": 429, "retry_after": 30, "chat_id": 5}: FakeBotAPI.fail_next
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fake_botapi import FakeBotAPI


async def serve(token: str, port: int, control_port: int) -> None:
    api = FakeBotAPI(token=token, port=port)
    await api.start()
    pushed: list[tuple[int, float, int]] = []  # chat, when, how many messages it had got before

    async def push(request: web.Request) -> web.Response:
        body = await request.json()
        for chat, text in body["messages"]:
            pushed.append((chat, time.monotonic(), len(api.messages_to(chat))))
            if text.startswith("/"):
                name, _, args = text[1:].partition(" ")
                api.push_command(chat, name, args or None)
            else:
                api.push_text(chat, text)
        return web.json_response({"ok": True})

    async def status(request: web.Request) -> web.Response:
        return web.json_response({"pending": len(api.pending_updates), "sent": len(api.sent)})

    async def latency(request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        out, chats = [], []
        for chat, when, before in pushed[since:]:
            replies = api.messages_to(chat)
            if len(replies) > before:
                out.append(replies[before].time - when)
                chats.append(chat)
        return web.json_response({"latencies": out, "chats": chats, "pushed": len(pushed)})

    async def fail(request: web.Request) -> web.Response:
        body = await request.json()
        api.fail_next(
            body["method"], body.get("status", 429), body.get("retry_after"), chat_id=body.get("chat_id")
        )
        return web.json_response({"ok": True})

    control = web.Application()
    control.add_routes(
        [
            web.post("/push", push),
            web.get("/status", status),
            web.get("/latency", latency),
            web.post("/fail", fail),
        ]
    )
    runner = web.AppRunner(control, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", control_port).start()
    print("ready", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await api.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--token", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--control-port", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.token, args.port, args.control_port))


if __name__ == "__main__":
    main()
