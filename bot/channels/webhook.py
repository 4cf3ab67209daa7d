"""Webhook mode, served by our own aiohttp server instead of python-telegram-bot's tornado one.

Tornado reads a whole body (up to 100 MB) before the secret can be checked and has no limit on connections or on
slow clients: a few huge unauthenticated bodies took the process to about 1 GB, and a thousand idle connections
starved Telegram's. Here:
* the `X-Telegram-Bot-Api-Secret-Token` header is checked before a byte of the body is read: 403, connection closed;
* a body over `max_body` is refused (413) by its Content-Length before reading, or once a chunked one passes it;
* at most `max_connections` connections are open: a new one pushes out the oldest that has not yet delivered a whole
  request (first those that sent nothing at all), never one whose request is being handled;
* a connection must deliver a whole request within `read_timeout` seconds of opening or of its previous answer.
An accepted update goes to `application.update_queue`, where python-telegram-bot's own dispatch takes it, as in
polling. An update the library cannot read is answered 200 (Telegram would resend it for ever) and logged by its id.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.channels.serverlog import quiet_server_log

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


@dataclass(frozen=True)
class WebhookLimits:
    max_body: int = 1 << 20  # an update is a few kB
    max_connections: int = 100  # Telegram opens at most the max_connections we register (40)
    read_timeout: float = 10.0  # to send one whole request, as nginx's client_body_timeout in README


class _Connection(asyncio.Protocol):
    """aiohttp's protocol for one connection, wrapped so that the server can count, time and push out connections."""

    def __init__(self, inner: Any, server: WebhookServer) -> None:
        self.inner = inner
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.deadline = 0.0
        self.received = 0  # bytes since the last answer
        self.answered = 0  # requests answered on this connection
        self.busy = False  # a request is being handled

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.deadline = asyncio.get_running_loop().time() + self.server.limits.read_timeout
        self.server.opened(self)
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()  # type: ignore[no-any-return]

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.closed(self)
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.abort()  # no lingering: the file descriptor is free at once

    def eviction_rank(self) -> tuple[int, float]:
        """Lower goes first: silent connections, then those with half a request, then keep-alive ones."""
        return (0 if not self.received and not self.answered else 1 if not self.answered else 2, self.deadline)


class WebhookServer:
    """Receives Telegram's POSTs at `path` and feeds `application.update_queue` (see the module docstring)."""

    def __init__(
        self, application: AnyApplication, secret: str, path: str = "/telegram", limits: WebhookLimits | None = None
    ) -> None:
        self.application = application
        self.secret = secret.encode()
        self.path = path
        self.limits = limits or WebhookLimits()
        self.connections: dict[asyncio.Transport, _Connection] = {}
        self._runner: web.AppRunner | None = None
        self._server: asyncio.Server | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self.refused = 0  # connections pushed out or closed for being slow

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the port (useful with port 0)."""
        quiet_server_log()
        app = web.Application(client_max_size=self.limits.max_body)
        app.router.add_post(self.path, self.handle)
        # lingering_time=0: after a refusal the unread body is not drained (aiohttp would read it for 10 s)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, lingering_time=0,
                                     keepalive_timeout=self.limits.read_timeout)  # fmt: skip
        await self._runner.setup()
        protocol = self._runner.server
        assert protocol is not None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(protocol(), self), host, port, backlog=512)
        self._sweeper = asyncio.create_task(self._sweep())
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        if self._server is not None:
            self._server.close()
        if self._runner is not None:
            await self._runner.cleanup()  # lets a request being handled finish
        if self._server is not None:
            await self._server.wait_closed()

    # --- connections --------------------------------------------------------------------------------

    def opened(self, connection: _Connection) -> None:
        assert connection.transport is not None
        if len(self.connections) >= self.limits.max_connections:
            idle = [c for c in self.connections.values() if not c.busy]
            if not idle:  # every connection is being answered: the newcomer waits for Telegram's retry
                self.refused += 1
                connection.transport.abort()
                return
            self.refused += 1
            min(idle, key=_Connection.eviction_rank).close()
        self.connections[connection.transport] = connection

    def closed(self, connection: _Connection) -> None:
        if connection.transport is not None:
            self.connections.pop(connection.transport, None)

    async def _sweep(self) -> None:
        """Close the connections that did not deliver a whole request in time."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(1.0, self.limits.read_timeout / 4))
            now = loop.time()
            for connection in [c for c in self.connections.values() if not c.busy and c.deadline < now]:
                self.refused += 1
                connection.close()

    # --- requests ------------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        connection = self.connections.get(request.transport) if request.transport else None
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            return _refuse(403)  # before reading the body
        if request.content_length is not None and request.content_length > self.limits.max_body:
            return _refuse(413)
        try:
            loop = asyncio.get_running_loop()
            left = (connection.deadline - loop.time()) if connection else self.limits.read_timeout
            # Not busy while the body comes in: a connection stuck half-way through its body (even with the right
            # secret) can be pushed out like one stuck in its headers, else 100 of them lock real updates out.
            try:  # client_max_size stops a chunked body at max_body; a slow one is cut at the deadline
                body = await asyncio.wait_for(request.read(), timeout=max(0.1, left))
            except web.HTTPRequestEntityTooLarge:
                return _refuse(413)
            except TimeoutError:
                return _refuse(408)
            except (ConnectionError, web.RequestPayloadError):  # gone mid-body, or a gzip body that is not one
                return _refuse(400)
            if connection is not None:
                connection.busy = True
            self.feed(body)
            return web.Response(text="ok")
        finally:
            if connection is not None:
                connection.busy = False
                connection.answered += 1
                connection.received = 0
                connection.deadline = asyncio.get_running_loop().time() + self.limits.read_timeout

    def feed(self, body: bytes) -> None:
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
            log.warning("webhook: a body that is not JSON was ignored")
            return
        try:
            update = Update.de_json(data, self.application.bot)
        except Exception:
            update_id = data.get("update_id") if isinstance(data, dict) else None
            log.warning("skipped update %s: python-telegram-bot cannot read it", update_id)
            return
        self.application.update_queue.put_nowait(update)


def _refuse(status: int) -> web.Response:
    response = web.Response(status=status)
    response.force_close()  # the connection is closed after the answer, its body unread
    return response


def run_webhook(
    application: AnyApplication,
    *,
    listen: str,
    port: int,
    webhook_url: str,
    secret: str,
    allowed_updates: Sequence[str],
    limits: WebhookLimits | None = None,
) -> None:
    """Like `Application.run_webhook`, with our server: until SIGINT/SIGTERM or `application.stop_running()`."""
    limits = limits or WebhookLimits()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    for stop_signal in (signal.SIGINT, signal.SIGTERM, signal.SIGABRT):
        loop.add_signal_handler(stop_signal, loop.stop)
    server = WebhookServer(application, secret, "/" + webhook_url.rstrip("/").rsplit("/", 1)[-1], limits)
    try:
        loop.run_until_complete(application.initialize())
        if application.post_init:
            loop.run_until_complete(application.post_init(application))
        loop.run_until_complete(server.start(listen, port))
        loop.run_until_complete(application.bot.set_webhook(
            webhook_url, secret_token=secret, allowed_updates=list(allowed_updates),
            max_connections=min(40, limits.max_connections),
        ))  # fmt: skip
        loop.run_until_complete(application.start())
        loop.run_forever()  # `stop_running` (the channel's `fail`) stops the loop, as in PTB's own runner
    finally:
        loop.run_until_complete(server.stop())
        if application.running:
            loop.run_until_complete(application.stop())
            if application.post_stop:
                loop.run_until_complete(application.post_stop(application))
        loop.run_until_complete(application.shutdown())  # does nothing when initialize failed (a rejected token)
        if application.post_shutdown:
            loop.run_until_complete(application.post_shutdown(application))
        loop.close()
