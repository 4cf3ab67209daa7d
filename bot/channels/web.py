"""The web chat (`socialbot web`): the chat page, widget.js for a one-tag embed, and POST /api/messages.

A thin adapter like the others: JSON in becomes a dialog event, the replies go back as JSON. What is
particular to the web is the distrust: anyone can post anything, so every body is limited, parsed strictly
and answered with a 4xx and a clear error when it is wrong; conversation ids are 128-bit random, made by
the server only, and an id the server does not know is refused; each address and each conversation is
rate-limited (429 with Retry-After). No cookies: the browser keeps the conversation id itself.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import logging
import math
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from aiohttp import web

from bot import memory
from bot.booking.limits import web_person
from bot.channels.serverlog import quiet_server_log
from bot.channels.terminal import parse_input
from bot.content import Content
from bot.dialog.model import ButtonPress, Event, Reply, State
from bot.engine import Engine
from bot.runtime import Runtime
from bot.storage.base import StoreGone

log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("web_static")
MAX_BODY = 64 * 1024
EXIT_DATABASE = 4  # as `socialbot run` (bot/channels/telegram.py): README's supervisor contract
DATABASE_LOST = "the service is stopping: its database is unavailable; please try again later"
MAX_BUTTON = 64
CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")  # secrets.token_urlsafe(16): 128 bits
PREFIX = "web:"
RTL = frozenset({"ar", "fa", "he", "ur", "ps", "ckb"})
HandlerType = Callable[[web.Request], Awaitable[web.StreamResponse]]

# A page that runs only its own files: no inline script or style, nothing from another host.
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "form-action 'none'; base-uri 'none'; frame-ancestors 'none'")  # fmt: skip
API_CSP = "default-src 'none'; frame-ancestors 'none'"


class ClientError(Exception):
    def __init__(self, status: int, message: str, retry_after: float | None = None, close: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after
        self.close = close  # the connection is closed after the answer (the rest of its request never came)


@dataclass
class Bucket:
    tokens: float
    stamp: float


@dataclass
class RateLimit:
    """A token bucket per key: `burst` at once, then `rate` per second."""

    burst: float
    rate: float
    buckets: dict[str, Bucket] = field(default_factory=dict)

    def take(self, key: str, now: float | None = None) -> float:
        """0 when allowed; otherwise the seconds to wait."""
        now = time.monotonic() if now is None else now
        bucket = self.buckets.get(key)
        if bucket is None:
            if len(self.buckets) > 50_000:  # forget idle keys, so memory stays bounded under a spray of addresses
                self.buckets = {k: b for k, b in self.buckets.items() if now - b.stamp < self.burst / self.rate}
            bucket = self.buckets[key] = Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate


@dataclass(frozen=True)
class WebSettings:
    allowed_origins: tuple[str, ...] = ("*",)  # who may embed the widget (CORS on the API only)
    trust_proxy: bool = False  # take the client address from X-Forwarded-For (set behind a TLS proxy)
    address_burst: float = 30
    address_rate: float = 3.0  # per second, sustained
    conversation_burst: float = 8
    conversation_rate: float = 1.0
    statement_contact: str = ""  # where to report accessibility problems (default: first region's e-mail)
    # Against clients that open connections and send half a request, slowly or never (slowloris): the
    # headers must arrive within `read_timeout` of the connection opening (within `idle_timeout` of the
    # previous answer on a kept-alive connection), the body within `read_timeout` of the headers; open
    # connections are capped (per address too, unless behind our own proxy: then it is one address).
    read_timeout: float = 10.0
    idle_timeout: float = 30.0
    max_connections: int = 500
    max_connections_per_address: int = 64


def _read_static(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


LABEL_KEYS = ("title", "input", "send", "close", "menu", "person", "privacy", "you", "bot", "busy", "failed",
              "retry", "wait", "file", "launcher", "log", "page_title", "noscript", "statement")  # fmt: skip


def load_labels() -> dict[str, dict[str, str]]:
    """The chat's own words per language (web_static/labels.yaml); a missing word falls back to English."""
    import yaml

    raw = yaml.safe_load(_read_static("labels.yaml")) or {}
    english = {key: str(raw.get("en", {}).get(key, "")) for key in LABEL_KEYS}
    return {str(lang): {key: str(words.get(key) or english[key]) for key in LABEL_KEYS}
            for lang, words in raw.items() if isinstance(words, dict)}  # fmt: skip


class WebChannel:
    def __init__(self, engine: Engine, settings: WebSettings | None = None, runtime: Runtime | None = None) -> None:
        self.engine = engine
        self.settings = settings or WebSettings()
        self.runtime = runtime
        if runtime is not None:  # a sweep that meets the lost database first stops the server the same way
            runtime.on_store_gone = self.database_lost
        self.per_address = RateLimit(self.settings.address_burst, self.settings.address_rate)
        self.per_conversation = RateLimit(self.settings.conversation_burst, self.settings.conversation_rate)
        self._locks: dict[str, _Lock] = {}
        # Set once the database file was deleted or replaced under us (StoreGone): every message gets a 503, the
        # admins are told once and `serve` stops with EXIT_DATABASE, as `socialbot run` does.
        self.exit_code = 0
        self.stopping: asyncio.Event | None = None
        self._files = {name: _read_static(name) for name in ("chat.js", "chat.css", "widget.js", "page.html",
                                                              "statement.html")}  # fmt: skip
        self.labels = load_labels()
        self._files["chat.js"] = self._files["chat.js"].replace(
            "{} /*LABELS*/", json.dumps(self.labels, ensure_ascii=False, sort_keys=True))
        # The widget is the chat's own code and a small bootstrap: one file, one tag, no build step.
        self._widget_js = self._files["chat.js"] + "\n" + self._files["widget.js"]

    def warm_up(self) -> None:
        """Load what the first question would otherwise wait for (the language model: on the very first
        start it is reduced into the cache, which takes seconds), before the port opens."""
        try:
            self.engine.knowledge.matcher.language("vad är lönebidrag för något")
        except Exception:  # the first question will try again, and log it then
            log.exception("web: warming up the language model failed")

    # --- the application ------------------------------------------------------------------------

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self.errors_and_headers])
        app.router.add_get("/", self.page)
        app.router.add_get("/widget.js", self.widget)
        app.router.add_get("/static/chat.js", self.static("chat.js", "text/javascript"))
        app.router.add_get("/static/chat.css", self.static("chat.css", "text/css"))
        app.router.add_get("/tillganglighet", self.statement)
        app.router.add_get("/accessibility", self.statement)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/favicon.ico", self.no_icon)
        app.router.add_post("/api/messages", self.messages)
        app.router.add_route("OPTIONS", "/api/messages", self.preflight)
        if self.runtime is not None:
            runtime = self.runtime
            app.on_startup.append(lambda _app: runtime.start())
            app.on_cleanup.append(lambda _app: runtime.stop())
        return app

    @web.middleware
    async def errors_and_headers(self, request: web.Request, handler: HandlerType) -> web.StreamResponse:
        connection = request.transport.get_protocol() if request.transport is not None else None
        if isinstance(connection, GuardedConnection):
            connection.request_arrived()  # the headers are in; the body has its own time limit (read_body)
        try:
            return await self._respond(request, handler)
        finally:
            if isinstance(connection, GuardedConnection):
                connection.answered()

    async def _respond(self, request: web.Request, handler: HandlerType) -> web.StreamResponse:
        try:
            if self.engine.fatal is not None and request.path.startswith("/api/"):
                raise self.engine.fatal
            response = await handler(request)
        except StoreGone as exc:  # one line in the log (the first time), never a traceback per request
            self.database_lost(exc)
            response = self.error(503, DATABASE_LOST)
        except web.RequestPayloadError:  # a gzip or deflate body that is not one: the sender's mistake
            response = self.error(400, "the body could not be decoded: it does not match its Content-Encoding")
            response.force_close()
        except ClientError as error:
            response = self.error(error.status, error.message, error.retry_after)
            if error.close:
                response.force_close()
        except web.HTTPException as exc:  # aiohttp's own: unknown path, wrong method, too large
            if exc.status >= 400:
                reason = {404: "no such page", 405: "method not allowed", 413: "body too large (64 kB at most)"}
                response = self.error(exc.status, reason.get(exc.status, exc.reason))
                if exc.status == 405 and "Allow" in exc.headers:
                    response.headers["Allow"] = exc.headers["Allow"]
            else:
                raise
        except Exception:  # a bug: the person gets an apology, the log the traceback (never the body)
            log.exception("web: error while handling %s %s", request.method, request.path)
            response = self.error(500, "something went wrong on our side; please try again")
        headers = response.headers
        headers.setdefault("Content-Security-Policy", API_CSP)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        if request.path.startswith("/api/"):
            headers["Cache-Control"] = "no-store"
            self.cors(request, headers)
        return response

    def error(self, status: int, message: str, retry_after: float | None = None) -> web.Response:
        response = web.json_response({"error": message}, status=status)
        if retry_after is not None:
            response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
        return response

    def cors(self, request: web.Request, headers: Any) -> None:
        """The widget on a municipality's page calls the API from another origin; nothing else needs CORS.
        No credentials are ever involved (no cookies), so an allowed origin sees only what it sends."""
        origin = request.headers.get("Origin")
        allowed = self.settings.allowed_origins
        if origin and ("*" in allowed or origin in allowed):
            headers["Access-Control-Allow-Origin"] = "*" if "*" in allowed else origin
            headers["Vary"] = "Origin"
            headers["Access-Control-Expose-Headers"] = "Retry-After"

    async def preflight(self, request: web.Request) -> web.Response:
        response = web.Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = "POST"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "86400"
        return response

    # --- pages ----------------------------------------------------------------------------------

    def static(self, name: str, content_type: str) -> HandlerType:
        async def handler(request: web.Request) -> web.Response:
            response = web.Response(text=self._files[name], content_type=content_type)
            response.headers["Cache-Control"] = "public, max-age=300"
            # The widget's stylesheet is read by pages of other origins (and their checkers); it is public.
            response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
            response.headers["Access-Control-Allow-Origin"] = "*"
            return response

        return handler

    def _choice(self, request: web.Request, name: str, known: Mapping[str, object] | tuple[str, ...]) -> str:
        value = request.query.get(name, "")
        return value if value in known else ""

    async def page(self, request: web.Request) -> web.Response:
        content = self.engine.knowledge.content
        region = self._choice(request, "region", content.regions)
        lang = self._choice(request, "lang", content.languages)
        shown = lang or "sv"
        words = self.labels.get(shown) or self.labels.get(shown.split("-")[0]) or self.labels["sv"]
        html = self._files["page.html"]
        for key, value in (("LANG", shown), ("DIR", content.language(shown).dir), ("REGION", region),
                           ("CHOSEN_LANG", lang), ("TITLE", words["page_title"]), ("NOSCRIPT", words["noscript"])):  # fmt: skip
            html = html.replace(f"{{{{{key}}}}}", escape(value))
        html = html.replace("{{FOOTER}}", self._footer(shown, words))
        response = web.Response(text=html, content_type="text/html")
        response.headers["Content-Security-Policy"] = PAGE_CSP
        response.headers["Cache-Control"] = "no-cache"
        return response

    def _footer(self, lang: str, words: Mapping[str, str]) -> str:
        """Links to the accessibility statement: Swedish (the one the law asks for) and English."""
        swedish = '<a href="/tillganglighet" lang="sv" hreflang="sv">Tillgänglighetsredogörelse</a>'
        english = '<a href="/accessibility" lang="en" hreflang="en">Accessibility statement</a>'
        if lang.split("-")[0] == "sv":
            return f"{swedish} · {english}"
        if lang == "en":
            return f"{english} · {swedish}"
        own = f'<a href="/accessibility" hreflang="en">{escape(words["statement"])}</a>'
        return f"{own} · {swedish}"

    async def widget(self, request: web.Request) -> web.Response:
        response = web.Response(text=self._widget_js, content_type="text/javascript")
        response.headers["Cache-Control"] = "public, max-age=300"
        response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
        return response

    async def statement(self, request: web.Request) -> web.Response:
        """Tillgänglighetsredogörelse (the accessibility statement the law asks for), Swedish or English."""
        english = request.path == "/accessibility" or request.query.get("lang") == "en"
        html = self._files["statement.html"]
        start, end = ("<!--en-->", "<!--/en-->") if english else ("<!--sv-->", "<!--/sv-->")
        body = html[html.index(start) + len(start): html.index(end)]
        head = html[: html.index("<!--sv-->")]
        page = (head.replace("{{LANG}}", "en" if english else "sv") + body + "</body></html>").replace(
            "{{CONTACT}}", self._statement_contacts(english))
        response = web.Response(text=page, content_type="text/html")
        response.headers["Content-Security-Policy"] = PAGE_CSP
        return response

    def _statement_contacts(self, english: bool) -> str:
        """Who to tell about an accessibility problem: the operator's contact when one is set, else each
        region's contact person as the content names them (name, organisation, phone, e-mail if known)."""
        if self.settings.statement_contact:
            address = escape(self.settings.statement_contact)
            return f'<ul><li><a href="mailto:{address}">{address}</a></li></ul>'
        items = []
        for region in self.engine.knowledge.content.regions.values():
            person = region.contact
            parts = [escape(part) for part in (person.name, person.organisation) if part]
            if person.phone:
                digits = re.sub(r"[^0-9+]", "", person.phone)
                word = "phone" if english else "telefon"
                parts.append(f'{word} <a href="tel:{digits}">{escape(person.phone)}</a>')
            if person.email:
                parts.append(f'<a href="mailto:{escape(person.email)}">{escape(person.email)}</a>')
            name = region.name.get("en" if english else "sv") or region.id
            items.append(f"<li>{escape(name)}: {', '.join(parts)}</li>")
        return "<ul>" + "".join(items) + "</ul>"

    async def no_icon(self, request: web.Request) -> web.Response:
        return web.Response(status=204, headers={"Cache-Control": "public, max-age=86400"})

    async def healthz(self, request: web.Request) -> web.Response:
        if self.engine.fatal is not None:
            return web.json_response({"ok": False, "error": "database: deleted or replaced"}, status=503)
        try:
            await asyncio.to_thread(self._check_store)
        except Exception as exc:
            return web.json_response({"ok": False, "error": f"database: {type(exc).__name__}"}, status=503)
        if not self.engine.knowledge.content.topics:
            return web.json_response({"ok": False, "error": "no content"}, status=503)
        return web.json_response({"ok": True})

    def _check_store(self) -> None:
        self.engine.store.check_file()
        self.engine.store.query("SELECT 1")

    def database_lost(self, exc: Exception) -> None:
        """The database file was deleted or replaced (the state directory moved): log it once, tell the admins once
        directly (the outbox lives in that database), then stop with EXIT_DATABASE (README: the supervisor contract)."""
        self.engine.fatal = self.engine.fatal or exc
        if self.exit_code:
            return
        self.exit_code = EXIT_DATABASE
        log.error("web: stopping: %s", exc)
        text = (f"socialbot (webb) stoppar: {exc}. Inget mer skrivs i den. Kontrollera tillståndskatalogen "
                f"och starta sedan om (exit code {EXIT_DATABASE}).")  # fmt: skip
        task = asyncio.get_running_loop().create_task(self._tell_and_stop(text))
        self._background = task  # kept referenced until it is done

    async def _tell_and_stop(self, text: str) -> None:
        try:
            if self.runtime is not None:
                await self.runtime.tell_admins_directly(text)
        finally:
            if self.stopping is not None:
                self.stopping.set()

    # --- the API --------------------------------------------------------------------------------

    def address(self, request: web.Request) -> str:
        if self.settings.trust_proxy:
            forwarded = request.headers.get("X-Forwarded-For", "")
            if forwarded:
                return forwarded.rsplit(",", 1)[-1].strip()  # the hop our own proxy added
        return request.remote or "unknown"

    async def read_body(self, request: web.Request) -> dict[str, Any]:
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise ClientError(413, "body too large (64 kB at most)")
        if request.content_type != "application/json":
            raise ClientError(415, "send JSON with Content-Type: application/json")
        raw = bytearray()
        try:
            async with asyncio.timeout(self.settings.read_timeout):  # half a body held open: slowloris
                while chunk := await request.content.read(16384):
                    raw += chunk
                    if len(raw) > MAX_BODY:
                        raise ClientError(413, "body too large (64 kB at most)")
        except TimeoutError:
            timeout = self.settings.read_timeout
            raise ClientError(408, f"the body did not arrive within {timeout:g} seconds", close=True) from None
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):  # deeply nested JSON is bad JSON, not a 500
            raise ClientError(400, "the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ClientError(400, 'the body must be a JSON object like {"conversation": null, "text": "hej"}')
        unknown = set(body) - {"conversation", "text", "button", "region", "lang"}
        if unknown:
            raise ClientError(400, f"unknown field(s): {', '.join(sorted(map(str, unknown)))[:200]}")
        return body

    def parse_event(self, body: dict[str, Any]) -> Event:
        text, button = body.get("text"), body.get("button")
        if (text is None) == (button is None):
            raise ClientError(400, 'send exactly one of "text" or "button"')
        if text is not None:
            if not isinstance(text, str):
                raise ClientError(400, '"text" must be a string')
            # No limit of our own under the body's 64 kB (the spec's only one): the dialog reads the beginning of
            # a long paste and tells the person so (texts.yaml: too_long), as on every channel.
            if not text.strip():
                raise ClientError(400, '"text" is empty')
            return parse_input(text, ())
        if not isinstance(button, str) or not button or len(button.encode()) > MAX_BUTTON:
            raise ClientError(400, f'"button" must be a non-empty string of at most {MAX_BUTTON} bytes')
        if any(ord(c) < 32 for c in button):
            raise ClientError(400, '"button" has control characters')
        return ButtonPress(button)

    def _handle(self, key: str, event: Event, person: str) -> tuple[bool, list[Reply], State | None]:
        """In a thread: waits on the database (another worker's lock on the conversation, round trips)
        leave the event loop free for other people's requests. `person`: whom the booking limits count."""
        handled = self.engine.handle_existing(key, event, person=person, acknowledge=False)
        if handled is None:
            return False, [], None
        replies, state = handled
        self.engine.replied(key)  # the answer is built and about to go: a booking in it counts as told
        return True, replies, state

    def start_conversation(self, body: dict[str, Any]) -> str:
        """A new id, and the region and language the page preselected (?region=…&lang=…)."""
        conversation = secrets.token_urlsafe(16)
        content = self.engine.knowledge.content
        region, lang = body.get("region"), body.get("lang")
        region = region if isinstance(region, str) and region in content.regions else None
        lang = lang if isinstance(lang, str) and lang in content.languages else None
        # Saved at once: from now on the id is one the server made, whatever the first event does.
        self.engine.store.save_state(PREFIX + conversation, State(lang=lang, region=region), self.engine.clock())
        return conversation

    async def messages(self, request: web.Request) -> web.Response:
        address = self.address(request)
        wait = self.per_address.take(address)
        if wait:
            raise ClientError(429, "too many messages from your address; wait a moment", wait)
        body = await self.read_body(request)
        event = self.parse_event(body)
        conversation: object = body.get("conversation")
        if conversation is None:
            if "button" in body:
                raise ClientError(400, "a new conversation starts with text")
            conversation = await asyncio.to_thread(self.start_conversation, body)
        elif not isinstance(conversation, str) or not CONVERSATION_ID.match(conversation):
            raise ClientError(400, '"conversation" must be null or an id the server gave you')
        else:
            if "region" in body or "lang" in body:
                raise ClientError(400, '"region" and "lang" are only for a new conversation')
            wait = self.per_conversation.take(conversation)
            if wait:
                raise ClientError(429, "too many messages in this conversation; wait a moment", wait)
        assert isinstance(conversation, str)
        key = PREFIX + conversation
        entry = self._locks.setdefault(key, _Lock())
        entry.users += 1
        try:
            async with entry.lock:  # one conversation at a time, in arrival order
                known, replies, state = await asyncio.to_thread(self._handle, key, event, web_person(address))
                if self.engine.fatal is not None:  # the engine apologised; the API says what happened
                    raise self.engine.fatal
                if not known:
                    raise ClientError(404, "unknown conversation: start a new one with \"conversation\": null")
        finally:
            entry.users -= 1
            if not entry.users:
                del self._locks[key]
        chat_lang = (state.lang if state else None) or "sv"
        answers = [reply_json(r, self.engine.knowledge.content, chat_lang) for r in replies]
        # The spec: "lang" is the language of the reply. A question in another language than the chat's is answered
        # in the question's language: then that one (the answer's, the last reply's), else the chat's.
        lang = answers[-1]["lang"] if answers else chat_lang
        return web.json_response(
            {"conversation": conversation if state is not None else None, "lang": lang,
             "dir": answers[-1]["dir"] if answers else ("rtl" if lang.split("-")[0] in RTL else "ltr"),
             "replies": answers},
            dumps=lambda value: json.dumps(value, ensure_ascii=False),
        )  # fmt: skip


def reply_json(reply: Reply, content: Content | None = None, chat_lang: str = "sv") -> dict[str, Any]:
    """One reply, with the language its text is written in and that language's direction (for lang/dir)."""
    file = None
    if reply.attachment is not None:
        # The file goes to its own conversation only, inside the answer: nothing to fetch, nothing to guess.
        data = base64.b64encode(reply.attachment.content).decode("ascii")
        file = {"name": reply.attachment.filename, "url": f"data:{reply.attachment.mime_type};base64,{data}"}
    lang = reply.lang or chat_lang
    direction = content.language(lang).dir if content is not None else ("rtl" if lang.split("-")[0] in RTL else "ltr")
    return {"text": reply.text, "buttons": [{"label": c.label, "data": c.data} for c in reply.choices], "file": file,
            "lang": lang, "dir": direction}  # fmt: skip


@dataclass
class _Lock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


# --- connections: a cap, and a time limit on half-sent requests ---------------------------------------

BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 5\r\n"
        b"Connection: close\r\nContent-Length: 41\r\n\r\n"
        b'{"error": "too busy; try again shortly"}\n')  # fmt: skip


class ConnectionGuard:
    """Counts the open connections (all, and per address) for the GuardedConnection wrappers."""

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self.open = 0
        self.per_address: dict[str, int] = {}

    def admit(self, address: str) -> bool:
        per_address = 0 if self.settings.trust_proxy else self.settings.max_connections_per_address
        if self.open >= self.settings.max_connections or (
            per_address and self.per_address.get(address, 0) >= per_address
        ):
            return False
        self.open += 1
        self.per_address[address] = self.per_address.get(address, 0) + 1
        return True

    def release(self, address: str) -> None:
        self.open -= 1
        left = self.per_address.pop(address, 1) - 1
        if left:
            self.per_address[address] = left


class GuardedConnection(asyncio.Protocol):
    """aiohttp's own protocol for one connection, behind a guard: refused with a 503 when too many are
    open, and closed when a request's headers have not arrived in time (the app's middleware says when a
    request arrives and when it is answered; the body is timed by the handler that reads it)."""

    def __init__(self, inner: asyncio.Protocol, guard: ConnectionGuard) -> None:
        self.inner = inner
        self.guard = guard
        self.address = ""
        self.transport: asyncio.Transport | None = None
        self.admitted = False
        self.deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.address = str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"
        if not self.guard.admit(self.address):
            transport.write(BUSY)
            transport.close()
            return
        self.admitted = True
        self.inner.connection_made(transport)
        self._arm(self.guard.settings.read_timeout)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self.deadline = asyncio.get_running_loop().call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _expired(self) -> None:
        self.deadline = None
        if self.transport is not None:
            self.transport.close()  # what was written still goes out first

    def request_arrived(self) -> None:
        self._disarm()

    def answered(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self._arm(self.guard.settings.idle_timeout)

    def data_received(self, data: bytes) -> None:
        if self.admitted:
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.admitted else None

    def pause_writing(self) -> None:
        if self.admitted:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.admitted:
            self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self.admitted:
            self.admitted = False
            self.guard.release(self.address)
            self.inner.connection_lost(exc)


class GuardedRunner(web.AppRunner):
    """An AppRunner whose sites hand every new connection to a GuardedConnection first."""

    def __init__(self, app: web.Application, settings: WebSettings, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.guard = ConnectionGuard(settings)
        quiet_server_log()

    @property
    def server(self) -> Any:
        inner = super().server
        if inner is None:
            return None
        guard = self.guard
        return lambda: GuardedConnection(inner(), guard)


async def serve(channel: WebChannel, host: str, port: int, ready: Callable[[], None] | None = None) -> None:
    """Run the web chat until SIGINT or SIGTERM, then close it down in order (runtime, connections)."""
    import signal

    memory.one_heap()  # before the first worker thread
    runner = GuardedRunner(channel.application(), channel.settings, access_log=None)
    await runner.setup()
    try:
        await asyncio.to_thread(channel.warm_up)
        memory.settle()
        await web.TCPSite(runner, host, port).start()
        if ready is not None:
            ready()
        stop = channel.stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
        gc.unfreeze()  # frozen objects are never collected: give them back (tests serve many times in one process)
