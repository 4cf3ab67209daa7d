"""A cheap HTTP/1.1 keep-alive client for load benches, so that the client does not eat the cores it measures.

Plain asyncio protocols on kept-alive connections: a request is one pre-built bytes object written to the socket,
and a response is read by its Content-Length. Nothing else: no redirects, no cookies, no chunked bodies (a server
that sends one is an error here, said at once), one request at a time per connection. aiohttp's client costs about
as much CPU per request as half a PostgreSQL backend does; this costs a fraction of that.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit


class HTTPError(Exception):
    pass


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = exc or HTTPError("the server closed the connection")
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(self.closed)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None:
            return
        head = bytes(self.buffer[:end]).lower()
        start = head.find(b"\r\ncontent-length:")
        if start < 0:
            self.waiter.set_exception(HTTPError(f"no Content-Length in the response: {head[:200]!r}"))
            return
        line_end = head.find(b"\r\n", start + 2)
        length = int(head[start + 17 : line_end if line_end > 0 else len(head)])
        if len(self.buffer) < end + 4 + length:
            return
        status = int(head[9:12])
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        waiter, self.waiter = self.waiter, None
        waiter.set_result((status, body))


class Client:
    """One kept-alive connection to one server (`http://host:port`)."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.host_header = parts.netloc.encode()
        self._connection: _Connection | None = None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(_Connection, self.host, self.port)
        return connection

    def post_json(self, path: str, body: bytes, headers: bytes = b"") -> bytes:
        """The request for `body` (already JSON), for `send`. `headers`: extra lines, each ending in CRLF."""
        return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: " + self.host_header +
                b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() +
                b"\r\n" + headers + b"\r\n" + body)  # fmt: skip

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Write a built request and wait for its response: (status, body)."""
        connection = self._connection
        if connection is None or connection.closed is not None:
            connection = self._connection = await self._connect()
        assert connection.transport is not None
        connection.waiter = asyncio.get_running_loop().create_future()
        connection.transport.write(request)
        return await connection.waiter

    def close(self) -> None:
        if self._connection is not None and self._connection.transport is not None:
            self._connection.transport.close()
