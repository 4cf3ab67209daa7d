"""Webhook mode under attack (issue 11): `socialbot run --webhook-url` in a process of its own, Telegram played by the
local Bot API server (tests/fake_botapi.py), which registers the webhook and posts updates to it as Telegram does."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from telegram.ext import ApplicationBuilder

from bot.channels.webhook import SECRET_HEADER, WebhookLimits, WebhookServer
from tests.fake_botapi import FakeBotAPI
from tests.test_hardening_telegram import start_bot
from tests.test_telegram import USER

MB = 1 << 20


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _memory_mb(pid: int) -> dict[str, float]:
    """The process's resident memory now (VmRSS) and at its peak so far (VmHWM)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


@asynccontextmanager
async def webhook_bot(tmp_path: Path, api: FakeBotAPI) -> AsyncIterator[tuple[asyncio.subprocess.Process, int]]:
    port = _free_port()
    process = await start_bot(tmp_path, api, "--webhook-url", f"http://127.0.0.1:{port}", "--port", str(port))
    try:
        deadline = time.monotonic() + 120
        while not (api.webhook and api.webhook.get("url")):
            assert process.returncode is None, "the bot stopped before registering its webhook"
            assert time.monotonic() < deadline, "no setWebhook within 120 s"
            await asyncio.sleep(0.1)
        yield process, port
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _post_raw(port: int, head: str, body_bytes: int, chunk: int = 256 * 1024) -> tuple[int | None, int]:
    """Send a request head, then up to `body_bytes` of body until the server stops listening.
    Returns the HTTP status (None if the connection closed without one) and the body bytes the socket took."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def status_line() -> int | None:
        with contextlib.suppress(ConnectionError, ValueError, IndexError):
            return int((await reader.readline()).split()[1])
        return None

    answer = asyncio.create_task(status_line())  # read while writing: the answer comes before the body is read
    sent = 0
    try:
        writer.write(head.encode())
        block = b"x" * chunk
        while sent < body_bytes:
            writer.write(block[: body_bytes - sent])
            await asyncio.wait_for(writer.drain(), timeout=10)
            sent += min(chunk, body_bytes - sent)
    except (ConnectionError, TimeoutError):
        pass
    try:
        status = await asyncio.wait_for(answer, timeout=10)
    except TimeoutError:
        status = None
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    return status, sent


def _head(length: int | None, secret: str | None) -> str:
    lines = ["POST /telegram HTTP/1.1", "Host: bot.example.se", "Content-Type: application/json"]
    lines.append(f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked")
    if secret:
        lines.append(f"{SECRET_HEADER}: {secret}")
    return "\r\n".join(lines) + "\r\n\r\n"


async def test_huge_bodies_are_refused_before_they_are_read_and_memory_stays_flat(tmp_path: Path) -> None:
    async with FakeBotAPI(token="123456:WEBHOOK-test") as api, webhook_bot(tmp_path, api) as (process, port):
        before = _memory_mb(process.pid)
        # 24 unauthenticated bodies of 16 MB each at once (384 MB), without or with a wrong secret
        size = 16 * MB
        answers = await asyncio.gather(*(
            _post_raw(port, _head(size, None if i % 2 else "wrong-secret"), size) for i in range(24)
        ))  # fmt: skip
        peak = _memory_mb(process.pid)["VmHWM"] - before["VmHWM"]
        taken = sum(sent for _, sent in answers)
        print(f"webhook body attack: peak RSS +{peak:.0f} MB from {before['VmHWM']:.0f} MB, the server took "
              f"{taken / MB:.0f} MB of the {24 * size / MB:.0f} MB offered")  # fmt: skip
        # 403, or the connection closed under the sender's feet (its 403 lost with the reset): never read on
        assert {status for status, _ in answers} <= {403, None} and 403 in {s for s, _ in answers}, answers
        # What the socket takes before the 403 closes it is mostly the kernel's buffers, more the slower the
        # server answers (a busy machine: 80-105 MB seen); a server that read the bodies would take all 384 MB.
        assert taken < 24 * size / 2, f"the server took {taken / MB:.0f} MB of unauthenticated bodies"
        assert peak < 40, f"peak memory grew by {peak:.0f} MB"
        # With the secret, a body over 1 MB: by its Content-Length before reading, or as it passes 1 MB (chunked)
        secret = api.webhook["secret_token"]
        status, _ = await _post_raw(port, _head(8 * MB, secret), 8 * MB)
        assert status == 413
        chunked_body = b"".join(b"%x\r\n%s\r\n" % (64 * 1024, b"x" * 64 * 1024) for _ in range(40))
        status, _ = await _post_raw(port, _head(None, secret) + chunked_body.decode(), 0)
        assert status == 413
        peak = _memory_mb(process.pid)["VmHWM"] - before["VmHWM"]
        assert peak < 40, f"peak memory grew by {peak:.0f} MB (with the refused authenticated bodies)"
        # and the bot still takes a real update
        api.push_text(USER, "/start")
        assert await api.post_update_to() == 200
        await api.wait_for_messages(USER, 1, timeout=30)


async def test_a_thousand_idle_connections_do_not_keep_a_real_update_out(tmp_path: Path) -> None:
    limits = WebhookLimits()
    async with FakeBotAPI(token="123456:WEBHOOK-test") as api, webhook_bot(tmp_path, api) as (process, port):
        idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        for i in range(1000):  # half say nothing, half send half a request head and stop (slowloris)
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            if i % 2:
                writer.write(b"POST /telegram HTTP/1.1\r\nHost: bot.example.se\r\n")
            idle.append((reader, writer))
        started = time.monotonic()
        api.push_text(USER, "/start")
        assert await api.post_update_to(timeout=10) == 200, "the real update was not taken"
        await api.wait_for_messages(USER, 1, timeout=30)
        assert time.monotonic() - started < 10, "the real update waited behind the idle connections"

        async def closed_by_server(reader: asyncio.StreamReader) -> bool:
            with contextlib.suppress(ConnectionError):
                await reader.read()  # returns at EOF: the server closed the connection
            return True

        # None of them is held: pushed out at once (at most 100 open), or closed at the read timeout
        try:
            await asyncio.wait_for(
                asyncio.gather(*(closed_by_server(reader) for reader, _ in idle)), timeout=limits.read_timeout + 20
            )
        except TimeoutError:
            raise AssertionError("the server still holds idle connections after its read timeout") from None
        for _, writer in idle:
            writer.close()
        api.push_text(USER, "vad är lönebidrag")
        assert await api.post_update_to(timeout=60) == 200
        await api.wait_for_messages(USER, 2, timeout=60)
        process.send_signal(signal.SIGTERM)  # the supervisor contract holds in webhook mode too
        await asyncio.wait_for(process.wait(), timeout=60)
        assert process.returncode == 0


# --- the server in this process: attacks that need no Telegram around them ---------------------------------


@asynccontextmanager
async def webhook_server(limits: WebhookLimits) -> AsyncIterator[tuple[WebhookServer, int]]:
    application = ApplicationBuilder().token("123456:WEBHOOK-test").updater(None).build()
    server = WebhookServer(application, SECRET, limits=limits)
    port = await server.start("127.0.0.1", 0)
    try:
        yield server, port
    finally:
        await server.stop()


SECRET = "the-right-secret"


def _update(update_id: int) -> bytes:
    return json.dumps({"update_id": update_id, "message": {
        "message_id": 1, "date": 0, "chat": {"id": USER, "type": "private"}, "text": "hej"}}).encode()  # fmt: skip


async def _post(port: int, body: bytes) -> int:
    async with aiohttp.ClientSession() as session, session.post(
        f"http://127.0.0.1:{port}/telegram", data=body, headers={SECRET_HEADER: SECRET},
        timeout=aiohttp.ClientTimeout(total=20),
    ) as response:  # fmt: skip
        return response.status


async def test_deeply_nested_json_is_ignored_without_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    async with webhook_server(WebhookLimits()) as (server, port):
        deep = b"[" * 200_000 + b"]" * 200_000  # under 1 MB, far deeper than the JSON parser recurses
        assert await _post(port, deep) == 200  # as any unreadable update: Telegram must not resend it for ever
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], caplog.text
        assert "not JSON was ignored" in caplog.text
        assert await _post(port, _update(7)) == 200
        assert (await asyncio.wait_for(server.application.update_queue.get(), 5)).update_id == 7


async def test_connections_stuck_in_an_authenticated_body_do_not_lock_updates_out() -> None:
    limits = WebhookLimits(read_timeout=120)  # long: only pushing them out lets the real update in
    async with webhook_server(limits) as (server, port):
        head = _head(10_000, SECRET).encode() + b'{"update_id": 1, "mess'  # the right secret, then half a body
        stuck = []
        for _ in range(150):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(head)
            await writer.drain()
            stuck.append((reader, writer))
        deadline = time.monotonic() + 60  # wait until the server has seen them all, whatever the machine's load
        while server.refused < 50 or any(not c.received for c in server.connections.values()):
            assert time.monotonic() < deadline, "the server did not take the 150 connections"
            await asyncio.sleep(0.05)
        assert await _post(port, _update(8)) == 200, "a real update was refused behind stuck bodies"
        assert (await asyncio.wait_for(server.application.update_queue.get(), 5)).update_id == 8
        assert len(server.connections) <= limits.max_connections
        for _, writer in stuck:
            writer.close()
