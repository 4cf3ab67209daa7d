"""python-telegram-bot's requests sent with aiohttp instead of its default HTTPX.

Why: every reply pays the HTTP client on its way out, and every update the client on its way in. PTB's
HTTPXRequest (httpx, httpcore, anyio) cost about 2.3 ms of CPU per sendMessage on the shared machine, this about
1.1 ms (bench/load.py's tail, issue 11). The connection pool of httpcore also checks every kept-alive connection
with a system call on each request, so a burst that opened tens of connections slowed every later request.
aiohttp is a dependency already (`socialbot web`), and PTB documents BaseRequest as the place for another client.

Bodies go as JSON (the Bot API reads `application/json` for every method) unless a file is uploaded (multipart, as
PTB sends it): a form body quotes a long reply byte by byte in Python. Timeouts and errors mean what they mean for
HTTPXRequest: a timeout is `TimedOut`, any other failure of the connection `NetworkError`; `None` is no limit.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# The timeouts' meaning: connect (a new connection), read (between bytes of the answer), write (the request
# going out; aiohttp has no limit of its own for it: it counts in the total), pool (waiting for a free
# connection).
Timeouts = tuple[float | None, float | None, float | None, float | None]


class AiohttpRequest(BaseRequest):
    """PTB's BaseRequest over one aiohttp session with a pool of `connection_pool_size` connections."""

    def __init__(self, connection_pool_size: int = 256, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0, media_write_timeout: float | None = 20.0) -> None:  # fmt: skip
        self._pool_size = connection_pool_size
        self._defaults: Timeouts = (read_timeout, write_timeout, connect_timeout, pool_timeout)
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._defaults[0]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # Made here, inside the running loop that will use it (PTB initializes the bot in it).
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | DefaultValue[Any] | None = BaseRequest.DEFAULT_NONE,
        write_timeout: float | DefaultValue[Any] | None = BaseRequest.DEFAULT_NONE,
        connect_timeout: float | DefaultValue[Any] | None = BaseRequest.DEFAULT_NONE,
        pool_timeout: float | DefaultValue[Any] | None = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data is not None and request_data.contains_files
        default_read, default_write, default_connect, default_pool = self._defaults
        if files:
            default_write = self._media_write_timeout
        read = default_read if isinstance(read_timeout, DefaultValue) else read_timeout
        write = default_write if isinstance(write_timeout, DefaultValue) else write_timeout
        connect = default_connect if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = default_pool if isinstance(pool_timeout, DefaultValue) else pool_timeout
        parts = (read, write, connect, pool)
        timeout = aiohttp.ClientTimeout(
            # A cap on the whole exchange, so that a request whose body never goes out still ends.
            total=None if any(part is None for part in parts) else sum(parts),  # type: ignore[arg-type]
            # a free connection from the pool, then connected
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )
        body: Any = None
        headers: dict[str, str] = {}
        if request_data is not None:
            if files:
                body = _multipart(request_data)
            else:
                body = json.dumps(request_data.parameters).encode()
                headers["Content-Type"] = "application/json"
        try:
            async with session.request(method, url, data=body, headers=headers, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as exc:  # aiohttp's timeouts are TimeoutErrors
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


def _multipart(request_data: RequestData) -> aiohttp.FormData:
    """The parameters as form fields and the files as file parts, as PTB's HTTPXRequest sends them."""
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, part in request_data.multipart_data.items():
        filename, content, *mimetype = part
        form.add_field(name, content, filename=filename, content_type=mimetype[0] if mimetype else None)
    return form
