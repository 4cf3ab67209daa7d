"""`socialbot web` in a background thread, on a free port, for tests that talk to it over real HTTP
(urllib, a real browser). Its own event loop, so sync tests (Playwright's sync API, hypothesis) can use it."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from bot.channels.web import ConnectionGuard, GuardedRunner, WebChannel, WebSettings
from bot.config import Config
from bot.engine import Engine
from bot.knowledge import Knowledge
from bot.runtime import Runtime
from bot.storage import open_store
from tests.conftest import CONTENT, shared_cache

GENEROUS = WebSettings(address_burst=10_000, address_rate=10_000, conversation_burst=10_000,
                       conversation_rate=10_000)  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class WebServer:
    def __init__(self, state: Path, knowledge: Knowledge | None = None, settings: WebSettings = GENEROUS,
                 config: Config | None = None, transports: dict[str, Any] | None = None) -> None:  # fmt: skip
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.store = open_store(state)
        self.engine = Engine(knowledge or Knowledge.load(CONTENT, cache_dir=shared_cache()), self.store, channel="web")
        config = config or Config(content_dir=CONTENT, state_dir=state)
        self.runtime = Runtime(self.engine, config, transports or {}, watch=False, retry_base=0.05)
        self.channel = WebChannel(self.engine, settings, self.runtime)
        self._loop = asyncio.new_event_loop()
        self._runner: GuardedRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> WebServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self

    async def _start(self) -> None:
        self._runner = GuardedRunner(self.channel.application(), self.channel.settings, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:  # fmt: skip
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self.store.close()

    def channel_guard(self) -> ConnectionGuard:
        """The open connections' counts (read from the test's thread: plain ints, no lock needed)."""
        assert isinstance(self._runner, GuardedRunner)
        return self._runner.guard

    # --- a plain HTTP client ----------------------------------------------------------------------

    def request(self, path: str, body: bytes | None = None, *, method: str | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def post(self, payload: Any, **kwargs: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        status, headers, data = self.request("/api/messages", raw, method="POST",
                                             headers={"Content-Type": "application/json", **kwargs})  # fmt: skip
        return status, json.loads(data), headers
