"""A local, in-process fake of the Telegram Bot API for end-to-end tests and benchmarks.

:class:`FakeBotAPI` is a small :mod:`aiohttp.web` server that speaks the Bot API over real HTTP, so
the *real* python-telegram-bot ``Application`` (or any other client) can be pointed at it with
``base_url``/``base_file_url`` instead of ``https://api.telegram.org``::

    async with FakeBotAPI(token="123:ABC") as api:
        app = (
            ApplicationBuilder()
            .token(api.token)
            .base_url(api.base_url)
            .base_file_url(api.base_file_url)
            .build()
        )
        ...
        api.push_text(42, "hello")  # what a user does
        [reply] = await api.wait_for_messages(42, 1)  # what the bot did
        assert reply.text == "hello"

It runs inside the caller's event loop (no threads) and has no dependency on python-telegram-bot,
so benchmark scripts can use it too.

What it does, in the words of the real API:

* responses are ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, "description":
  "...", "parameters": {...}}``, with the HTTP status equal to ``error_code``;
* request bodies may be JSON, ``application/x-www-form-urlencoded`` or ``multipart/form-data``
  (file uploads, ``attach://`` references), and query strings are accepted too;
* method names are case-insensitive; an unknown method gets 404 ``Not Found``, a wrong token 401
  ``Unauthorized``;
* ``getUpdates`` is a real long poll: it confirms updates below ``offset``, returns at most ``limit``
  updates as soon as any exist, otherwise waits up to ``timeout`` seconds; ``allowed_updates`` is
  remembered between calls; a second concurrent poll terminates the first with 409, and polling
  while a webhook is set is a 409 as well;
* HTML ``parse_mode`` is parsed with the algorithm of Telegram's own parser (tdlib's
  ``parse_html``), so malformed or unsupported markup fails with the same ``can't parse entities``
  descriptions, and the returned ``Message`` carries the stripped text and its entities.

Not emulated: MarkdownV2/Markdown are accepted without validation; entities in the bot's own texts
are not auto-detected; there is no flood control unless injected with :meth:`FakeBotAPI.fail_next`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, NamedTuple, TypedDict, TypeVar, Unpack

import aiohttp
from aiohttp import web

__all__ = [
    "AnsweredCallback",
    "ApiError",
    "Call",
    "ChatActionRecord",
    "FakeBotAPI",
    "SenderOptions",
    "SentRecord",
    "Upload",
    "bot_command_entity",
    "entity",
    "find_entities",
    "mention_entity",
    "parse_html",
    "utf16_len",
]

JSONDict = dict[str, Any]
_T = TypeVar("_T")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64

#: Update types delivered when ``allowed_updates`` was never set or set to ``[]`` (as on Telegram).
DEFAULT_ALLOWED_UPDATES: Final = _words(
    "message edited_message channel_post edited_channel_post business_connection business_message "
    "edited_business_message deleted_business_messages inline_query chosen_inline_result "
    "callback_query shipping_query pre_checkout_query purchased_paid_media poll poll_answer "
    "my_chat_member chat_join_request chat_boost removed_chat_boost"
)

CHAT_ACTIONS: Final = _words(
    "typing upload_photo record_video upload_video record_voice upload_voice upload_document "
    "choose_sticker find_location record_video_note upload_video_note"
)

_WEBHOOK_SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")
_COMMAND_NAME_RE: Final = re.compile(r"[a-z0-9_]{1,32}")
_INT_RE: Final = re.compile(r"-?\d+")

# How form-encoded / multipart / query-string values (always strings on the wire) are typed.
_INT_FIELDS: Final = _words(
    "chat_id message_id offset limit timeout user_id reply_to_message_id message_thread_id cache_time "
    "from_chat_id max_connections duration width height"
)
_BOOL_FIELDS: Final = _words(
    "disable_notification protect_content show_alert drop_pending_updates disable_web_page_preview "
    "allow_sending_without_reply has_spoiler disable_content_type_detection allow_paid_broadcast "
    "show_caption_above_media"
)
_FLOAT_FIELDS: Final = frozenset({"latitude", "longitude"})
_JSON_FIELDS: Final = _words(
    "reply_markup allowed_updates commands scope entities caption_entities link_preview_options "
    "reply_parameters media"
)

_DEFAULT_DESCRIPTIONS: Final = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    500: "Internal Server Error",
}
# Statuses that, in practice, come from a proxy in front of the Bot API: plain text, not JSON.
_PLAIN_TEXT_STATUSES: Final = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


# --------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------


class ApiError(Exception):
    """A Bot API error response; raised inside method handlers and turned into the HTTP reply."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        plain_text: bool = False,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.plain_text = plain_text


def _bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


@dataclass(frozen=True, slots=True)
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes

    def __repr__(self) -> str:
        return (
            f"Upload(filename={self.filename!r}, content_type={self.content_type!r}, {len(self.data)} bytes)"
        )


class Call(NamedTuple):
    """One request to the API as received, failed ones included (``(method, params)``).

    ``method`` is the canonical camelCase name when the method is known, else as requested;
    ``params`` holds the typed parameters, with uploaded files as :class:`Upload`.
    """

    method: str
    params: JSONDict


@dataclass(slots=True)
class SentRecord:
    """Something the bot successfully sent or edited (sendMessage/Document/Photo, edits).

    ``text`` is the text as the bot sent it (markup included) for sendMessage/editMessageText and
    ``None`` for media, whose text is in ``caption``. ``filename``/``data`` are the uploaded file,
    or ``data is None`` when the bot sent a file_id or URL (kept in ``file_ref``). ``message`` is
    the Message JSON returned to the bot (``None`` for inline-message edits). ``time`` is
    :func:`time.monotonic` when the request was processed.
    """

    method: str
    chat_id: int | str | None
    message_id: int | None
    text: str | None = None
    parse_mode: str | None = None
    reply_markup: JSONDict | None = None
    caption: str | None = None
    filename: str | None = None
    data: bytes | None = None
    mime_type: str | None = None
    file_ref: str | None = None
    message: JSONDict | None = None
    params: JSONDict = field(default_factory=dict)
    time: float = field(default_factory=time.monotonic)

    @property
    def is_edit(self) -> bool:
        """Whether this record is an edit of an existing message."""
        return self.method.startswith("edit")

    @property
    def callback_data(self) -> list[str]:
        """All ``callback_data`` of the inline keyboard, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [b["callback_data"] for row in rows for b in row if "callback_data" in b]

    def describe(self) -> str:
        """A one-line summary, used in timeout messages."""
        parts = [self.method, f"chat={self.chat_id}", f"msg={self.message_id}"]
        if self.text is not None:
            parts.append(f"text={_shorten(self.text)!r}")
        if self.caption is not None:
            parts.append(f"caption={_shorten(self.caption)!r}")
        if self.filename is not None or self.file_ref is not None:
            size = "?" if self.data is None else len(self.data)
            parts.append(f"file={self.filename or self.file_ref!r} ({size} bytes)")
        if self.parse_mode:
            parts.append(f"parse_mode={self.parse_mode}")
        if self.reply_markup is not None:
            parts.append(f"reply_markup={_shorten(json.dumps(self.reply_markup, ensure_ascii=False), 80)}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class AnsweredCallback:
    """An ``answerCallbackQuery`` call that succeeded."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None
    time: float = field(default_factory=time.monotonic)


@dataclass(frozen=True, slots=True)
class ChatActionRecord:
    """A ``sendChatAction`` call that succeeded."""

    chat_id: int | str
    action: str
    time: float = field(default_factory=time.monotonic)


class SenderOptions(TypedDict, total=False):
    """Who does something in the ``push_*`` helpers, and in which chat.

    ``user_id`` defaults to the chat id in private chats and to 1000 in groups; in a private chat
    it must equal the chat id. ``chat_type`` is ``"private"``, ``"group"`` or ``"supergroup"``; group
    chats need a negative chat id. ``chat_title`` defaults to ``"Test group"``.
    """

    user_id: int | None
    first_name: str
    last_name: str | None
    username: str | None
    language_code: str | None
    chat_type: str
    chat_title: str | None


@dataclass(slots=True)
class _Fault:
    kind: str  # "fail" or "hang"
    status: int = 0
    retry_after: int | None = None
    description: str | None = None
    seconds: float = 0.0
    chat_id: int | str | None = None  # only calls for this chat (e.g. a flood-wait for one chat)


@dataclass(slots=True)
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes | None


# --------------------------------------------------------------------------------------------------
# Text helpers: UTF-16 lengths, entities, Telegram's HTML parser
# --------------------------------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram entity offsets/lengths."""
    return len(text.encode("utf-16-le")) // 2


def entity(text: str, fragment: str, type_: str, *, occurrence: int = 0, **extra: Any) -> JSONDict:
    """A MessageEntity dict of ``type_`` covering ``fragment`` inside ``text`` (UTF-16 offsets).

    ``occurrence`` picks which occurrence of ``fragment``; ``extra`` adds fields such as ``url``.
    """
    start = -1
    for _ in range(occurrence + 1):
        start = text.find(fragment, start + 1)
        if start < 0:
            raise ValueError(f"{fragment!r} does not occur {occurrence + 1} time(s) in {text!r}")
    return {"type": type_, "offset": utf16_len(text[:start]), "length": utf16_len(fragment), **extra}


def mention_entity(text: str, username: str, *, occurrence: int = 0) -> JSONDict:
    """A ``mention`` entity for ``@username`` (the ``@`` is optional) inside ``text``."""
    return entity(text, "@" + username.lstrip("@"), "mention", occurrence=occurrence)


def bot_command_entity(text: str, command: str, *, occurrence: int = 0) -> JSONDict:
    """A ``bot_command`` entity for ``/command`` (the ``/`` is optional) inside ``text``."""
    return entity(text, "/" + command.lstrip("/"), "bot_command", occurrence=occurrence)


_WORD = r"[^\W]"  # letters, digits, underscore (Unicode), like tdlib's is_word_character
_MENTION_RE: Final = re.compile(rf"(?<!{_WORD})@[A-Za-z0-9_]{{2,32}}(?!{_WORD})")
_COMMAND_RE: Final = re.compile(
    rf"(?<!{_WORD})(?<![/<>])/[A-Za-z0-9_]{{1,64}}(?:@[A-Za-z0-9_]{{3,32}})?(?!{_WORD})(?![/<>])"
)
_HASHTAG_RE: Final = re.compile(rf"(?<!{_WORD})#(?=\w*[^\W\d_])\w{{1,256}}(?![\w#])")
_URL_RE: Final = re.compile(r"(?<![\w@])https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'}]")


def find_entities(text: str) -> list[JSONDict]:
    """Entities Telegram detects by itself in a user's plain text.

    Detects ``bot_command`` (``/start``, ``/start@bot``), ``mention`` (``@username``), ``hashtag``
    and ``url`` (http/https only), following the patterns of Telegram's own matcher.
    """
    found: list[tuple[int, int, str]] = []
    for regex, type_ in (
        (_COMMAND_RE, "bot_command"),
        (_MENTION_RE, "mention"),
        (_HASHTAG_RE, "hashtag"),
        (_URL_RE, "url"),
    ):
        for match in regex.finditer(text):
            if any(s < match.end() and match.start() < e for s, e, _ in found):
                continue  # e.g. "@bot" inside "/start@bot" or a URL path
            found.append((match.start(), match.end(), type_))
    found.sort()
    return [{"type": t, "offset": utf16_len(text[:s]), "length": utf16_len(text[s:e])} for s, e, t in found]


_HTML_TAGS: Final = _words("a b strong i em s strike del u ins tg-spoiler tg-emoji span pre code blockquote")
_SIMPLE_TAG_ENTITY: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_ENTITY_PRIORITY: Final = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}
_HTML_SPACE: Final = frozenset(b" \t\r\n\x0b\x00")  # tdlib's is_space; NUL doubles as end of text
_NAMED_HTML_ENTITIES: Final = {b"lt": ord("<"), b"gt": ord(">"), b"amp": ord("&"), b"quot": ord('"')}


def _decode_html_entity(src: bytes, pos: int) -> tuple[int, int] | None:
    """Decode ``&...`` at ``src[pos]`` as Telegram does; return (code point, next position) or None."""
    n = len(src)
    end = pos + 1
    code = 0
    if end < n and src[end] == ord("#"):
        end += 1
        if end < n and src[end] == ord("x"):
            end += 1
            while end < n and chr(src[end]) in "0123456789abcdefABCDEF":
                code = code * 16 + int(chr(src[end]), 16)
                end += 1
        else:
            while end < n and 0x30 <= src[end] <= 0x39:
                code = code * 10 + src[end] - 0x30
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None
    else:
        while end < n and chr(src[end]).isascii() and chr(src[end]).isalpha():
            end += 1
        named = _NAMED_HTML_ENTITIES.get(src[pos + 1 : end])
        if named is None:
            return None  # an unknown entity such as &nbsp; stays literal text
        code = named
    if end < n and src[end] == ord(";"):
        end += 1
    return code, end


@dataclass(slots=True)
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    out_offset: int
    expandable: bool = False


def parse_html(text: str) -> tuple[str, list[JSONDict]]:
    """Parse Bot API HTML into (plain text, MessageEntity dicts), or raise :class:`ApiError`.

    A Python rendering of Telegram's parser: supported tags are b, strong, i, em, u, ins, s, strike,
    del, a, code, pre, tg-spoiler, span class="tg-spoiler", blockquote (optionally expandable) and
    tg-emoji; only &lt; &gt; &amp; &quot; and numeric character references are decoded (unknown
    ones stay literal); errors carry the same descriptions and UTF-8 byte offsets as Telegram's.
    """
    src = text.encode("utf-8")
    n = len(src)

    def at(k: int) -> int:
        return src[k] if k < n else 0

    def fail(detail: str) -> ApiError:
        return _bad_request(f"can't parse entities: {detail}")

    out = bytearray()
    utf16 = 0
    stack: list[_OpenTag] = []
    entities: list[JSONDict] = []
    i = 0
    while i < n:
        c = src[i]
        if c == ord("&"):
            decoded = _decode_html_entity(src, i)
            if decoded is not None:
                code, i = decoded
                out += chr(code).encode("utf-8", "surrogatepass")
                utf16 += 2 if code > 0xFFFF else 1
                continue
        if c != ord("<"):
            if c & 0xC0 != 0x80:  # first byte of a UTF-8 sequence
                utf16 += 2 if c >= 0xF0 else 1
            out.append(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != ord("/"):
            # A start tag.
            while at(i) not in _HTML_SPACE and at(i) != ord(">"):
                i += 1
            if at(i) == 0:
                raise fail(f"Unclosed start tag at byte offset {begin}")
            tag = src[begin + 1 : i].lower().decode("utf-8", "replace")
            if tag not in _HTML_TAGS:
                raise fail(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            expandable = False
            while at(i) != ord(">"):
                while at(i) != 0 and at(i) in _HTML_SPACE:
                    i += 1
                if at(i) == ord(">"):
                    break
                name_begin = i
                while at(i) not in _HTML_SPACE and at(i) not in (ord("="), ord(">")):
                    i += 1
                name = src[name_begin:i].decode("utf-8", "replace")
                if not name:
                    raise fail(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
                while at(i) != 0 and at(i) in _HTML_SPACE:
                    i += 1
                if at(i) == 0:
                    raise fail(f'Unclosed start tag "{tag}" at byte offset {begin}')
                if at(i) != ord("="):
                    # An attribute without a value, e.g. <blockquote expandable>.
                    if tag == "blockquote" and name == "expandable":
                        expandable = True
                    continue
                i += 1
                while at(i) != 0 and at(i) in _HTML_SPACE:
                    i += 1
                if at(i) == 0:
                    raise fail(f'Unclosed start tag "{tag}" at byte offset {begin}')
                if at(i) not in (ord("'"), ord('"')):
                    # A name token: letters, digits, periods, hyphens; case-insensitive.
                    token_begin = i
                    while chr(at(i)).isascii() and (chr(at(i)).isalnum() or at(i) in (ord("."), ord("-"))):
                        i += 1
                    value = src[token_begin:i].lower().decode("ascii")
                    if (at(i) not in _HTML_SPACE and at(i) != ord(">")) or at(i) == 0:
                        raise fail(f"Unexpected end of name token at byte offset {token_begin}")
                else:
                    quote = at(i)
                    i += 1
                    raw = bytearray()
                    while at(i) != quote and i < n:
                        if at(i) == ord("&"):
                            decoded = _decode_html_entity(src, i)
                            if decoded is not None:
                                code, i = decoded
                                raw += chr(code).encode("utf-8", "surrogatepass")
                                continue
                        raw.append(src[i])
                        i += 1
                    if at(i) == quote and i < n:
                        i += 1
                    value = raw.decode("utf-8", "replace")
                if i >= n:
                    raise fail(f"Unclosed start tag at byte offset {begin}")
                if tag == "a" and name == "href":
                    argument = value
                elif tag == "code" and name == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and name == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and name == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise fail(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
            stack.append(_OpenTag(tag, argument, utf16, len(out), expandable))
            i += 1  # the '>'
            continue

        # An end tag.
        if not stack:
            raise fail(f"Unexpected end tag at byte offset {begin}")
        while at(i) not in _HTML_SPACE and at(i) != ord(">"):
            i += 1
        end_name = src[begin + 2 : i].lower().decode("utf-8", "replace")
        while at(i) != 0 and at(i) in _HTML_SPACE:
            i += 1
        if at(i) != ord(">"):
            raise fail(f"Unclosed end tag at byte offset {begin}")
        i += 1
        open_tag = stack.pop()
        if end_name and end_name != open_tag.name:
            raise fail(
                f'Unmatched end tag at byte offset {begin}, expected "</{open_tag.name}>", '
                f'found "</{end_name}>"'
            )
        if utf16 > open_tag.utf16_offset:
            _close_html_entity(open_tag, utf16, bytes(out[open_tag.out_offset :]), entities)
    if stack:
        raise fail(f"Can't find end tag corresponding to start tag {stack[-1].name}")

    for ent in entities:
        if ent["type"] == "code":
            ent.pop("language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"], _ENTITY_PRIORITY.get(e["type"], 50)))
    try:
        plain = bytes(out).decode("utf-8")
    except UnicodeDecodeError:
        raise _bad_request(
            "can't parse entities: Text contains invalid Unicode characters after decoding HTML "
            "entities, check for unmatched surrogate code units"
        ) from None
    return plain, entities


def _close_html_entity(tag: _OpenTag, utf16_end: int, inner: bytes, entities: list[JSONDict]) -> None:
    """Append the entity for a closed, non-empty ``tag`` (tdlib's rules, incl. pre+code merging)."""
    offset = tag.utf16_offset
    length = utf16_end - offset
    name = tag.name
    if name in _SIMPLE_TAG_ENTITY:
        entities.append({"type": _SIMPLE_TAG_ENTITY[name], "offset": offset, "length": length})
    elif name == "tg-emoji":
        if not _INT_RE.fullmatch(tag.argument) or not 0 < int(tag.argument) < 2**63:
            raise _bad_request("can't parse entities: Invalid custom emoji identifier specified")
        entities.append(
            {"type": "custom_emoji", "offset": offset, "length": length, "custom_emoji_id": tag.argument}
        )
    elif name == "a":
        url = tag.argument or inner.decode("utf-8", "replace")
        user = re.fullmatch(r"tg://user\?id=(\d+)", url)
        if user:
            entities.append(
                {
                    "type": "text_mention",
                    "offset": offset,
                    "length": length,
                    "user": {"id": int(user.group(1)), "is_bot": False, "first_name": ""},
                }
            )
        elif url.strip():
            entities.append({"type": "text_link", "offset": offset, "length": length, "url": url})
    elif name == "pre":
        last = entities[-1] if entities else None
        if last and last["type"] == "code" and (last["offset"], last["length"]) == (offset, length):
            if last.get("language"):
                last["type"] = "pre"
            else:
                entities.append({"type": "pre", "offset": offset, "length": length})
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif name == "code":
        last = entities[-1] if entities else None
        if (
            last
            and last["type"] == "pre"
            and (last["offset"], last["length"]) == (offset, length)
            and tag.argument
        ):
            last["language"] = tag.argument
        else:
            code: JSONDict = {"type": "code", "offset": offset, "length": length}
            if tag.argument:
                code["language"] = tag.argument  # kept only if a <pre> wraps it exactly
            entities.append(code)
    elif name == "blockquote":
        type_ = "expandable_blockquote" if tag.expandable else "blockquote"
        entities.append({"type": type_, "offset": offset, "length": length})


# --------------------------------------------------------------------------------------------------
# Misc helpers
# --------------------------------------------------------------------------------------------------


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _coerce(name: str, value: Any) -> Any:
    """Type a parameter that arrived as a string (form, multipart, query string, or JSON string)."""
    if not isinstance(value, str):
        return value
    if name in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    if name in _INT_FIELDS and _INT_RE.fullmatch(value.strip()):
        return int(value)
    if name in _BOOL_FIELDS and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    if name in _FLOAT_FIELDS:
        with contextlib.suppress(ValueError):
            return float(value)
    return value


def _ok(result: Any, description: str | None = None) -> web.Response:
    body: JSONDict = {"ok": True, "result": result}
    if description:
        body["description"] = description
    return web.json_response(body)


def _error_response(error: ApiError) -> web.Response:
    if error.plain_text:
        return web.Response(status=error.status, text=error.description, content_type="text/plain")
    body: JSONDict = {"ok": False, "error_code": error.status, "description": error.description}
    if error.retry_after is not None:
        body["parameters"] = {"retry_after": error.retry_after}
    return web.json_response(body, status=error.status)


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Final = _Unset()


# --------------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------------


class FakeBotAPI:
    """A fake Bot API server on 127.0.0.1, to be used as ``async with FakeBotAPI() as api:``.

    Point a client at :attr:`base_url` / :attr:`base_file_url` (or ``telegram.Bot(**api.bot_kwargs())``),
    inject what users do with the ``push_*`` methods, inject failures with :meth:`fail_next` and
    :meth:`hang_next`, and observe the bot through :attr:`sent`, :attr:`calls`,
    :attr:`answered_callbacks`, :attr:`chat_actions`, :attr:`commands` and the ``wait_for_*``
    coroutines.
    """

    def __init__(
        self,
        token: str = "123:ABC",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "test_bot",
        bot_first_name: str = "Test Bot",
        default_user_id: int = 1000,
    ) -> None:
        """Configure (not start) the server.

        ``port=0`` picks a free port. The bot's user id is the numeric part of ``token`` (as on
        Telegram). ``default_user_id`` is the sender of ``push_*`` updates in group chats when no
        ``user_id`` is given.
        """
        self.token = token
        self.host = host
        self._requested_port = port
        prefix = token.split(":", 1)[0]
        self.bot_user: JSONDict = {
            "id": int(prefix) if prefix.isdigit() else 1,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.default_user_id = default_user_id

        #: Every request received, in order, failed and rejected ones included.
        self.calls: list[Call] = []
        #: Everything the bot successfully sent or edited, in order.
        self.sent: list[SentRecord] = []
        #: Successful answerCallbackQuery calls, in order.
        self.answered_callbacks: list[AnsweredCallback] = []
        #: Successful sendChatAction calls, in order.
        self.chat_actions: list[ChatActionRecord] = []
        #: Bot commands per (scope key, language code), see :meth:`commands_for`.
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        #: Every update ever created by the push_* methods, delivered or not.
        self.updates_log: list[JSONDict] = []
        #: The webhook registered via setWebhook (url, secret_token, ...), or None.
        self.webhook: JSONDict | None = None
        self.blocked_chats: set[int | str] = set()

        self._updates: deque[JSONDict] = deque()
        self._last_update_id = 0
        self._allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self._faults: dict[str, deque[_Fault]] = {}
        self._messages: dict[tuple[int | str, int], JSONDict] = {}
        self._next_message_id: dict[int | str, int] = {}
        self._chats: dict[int | str, JSONDict] = {}
        self._callback_queries: dict[str, JSONDict] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._ids = itertools.count(1)
        self._webhook_last_error: tuple[int, str] | None = None
        self._poll_generation = 0
        self._poll_terminated_by = "other getUpdates request; make sure that only one bot instance is running"

        self._activity = asyncio.Event()  # replaced after every set(): "something was recorded"
        self._updates_changed = asyncio.Event()  # replaced after every set(): wakes long polls
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

        self._methods: dict[str, tuple[str, Callable[[JSONDict], Any]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "sendMessage": self._send_message,
                "sendDocument": self._send_document,
                "sendPhoto": self._send_photo,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "sendChatAction": self._send_chat_action,
                "getFile": self._get_file,
                "close": self._close,
                "logOut": self._log_out,
            }.items()
        }

    # ---------------------------------------------------------------------------------------------
    # Lifecycle
    # ---------------------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeBotAPI:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start listening. Idempotent."""
        if self._runner is not None:
            return
        self._closing = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_not_found)
        # handler_cancellation: a client that gives up (timeout, cancelled poll) cancels our handler,
        # so an abandoned long poll or hang does not linger or act after the fact.
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._port = runner.addresses[0][1]
        self._runner = runner

    async def stop(self) -> None:
        """Wake pending long polls and hangs, close all connections and stop. Idempotent."""
        if self._runner is None:
            return
        self._closing.set()
        self._wake_pollers()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    @property
    def port(self) -> int:
        """The TCP port the server listens on (after start)."""
        if self._port is None:
            raise RuntimeError("FakeBotAPI is not started; use 'async with FakeBotAPI() as api:'")
        return self._port

    @property
    def url(self) -> str:
        """Root URL of the server, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Value for PTB's ``base_url``: ``http://127.0.0.1:PORT/bot`` (the token is appended)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for PTB's ``base_file_url``: ``http://127.0.0.1:PORT/file/bot``."""
        return f"{self.url}/file/bot"

    def bot_kwargs(self) -> dict[str, str]:
        """``token``, ``base_url`` and ``base_file_url``, e.g. for ``telegram.Bot(**api.bot_kwargs())``."""
        return {"token": self.token, "base_url": self.base_url, "base_file_url": self.base_file_url}

    def clear(self) -> None:
        """Forget recorded calls, sends, answers and chat actions (not chats, messages or updates)."""
        self.calls.clear()
        self.sent.clear()
        self.answered_callbacks.clear()
        self.chat_actions.clear()

    # ---------------------------------------------------------------------------------------------
    # Fault injection
    # ---------------------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = None,
        *,
        description: str | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (with ``chat_id``: only those for that chat) fail with HTTP
        ``status``.

        429 answers ``Too Many Requests: retry after N`` with ``parameters.retry_after`` (default 1);
        502/503/504 answer a plain-text body (``Bad Gateway`` ...) as a proxy would, which clients
        cannot parse as JSON; any other status answers Telegram's JSON error with ``description``
        (a sensible default per status). Faults of one method are queued and consumed one per call,
        in order, together with those of :meth:`hang_next`.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        for _ in range(times):
            self._fault_queue(method).append(
                _Fault(
                    "fail", status=status, retry_after=retry_after, description=description, chat_id=chat_id
                )
            )

    def hang_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` wait ``seconds`` before being processed.

        If the client gives up meanwhile (e.g. its read timeout), the call is abandoned and has no
        effect, i.e. nothing is sent. If it is still waiting, the call is then processed normally.
        """
        for _ in range(times):
            self._fault_queue(method).append(_Fault("hang", seconds=seconds))

    def block(self, chat_id: int) -> None:
        """Make sends to ``chat_id`` fail with 403 ``Forbidden: bot was blocked by the user``."""
        self.blocked_chats.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        """Undo :meth:`block`."""
        self.blocked_chats.discard(chat_id)

    def _fault_queue(self, method: str) -> deque[_Fault]:
        key = method.lower()
        if key not in self._methods:
            raise ValueError(
                f"unknown Bot API method {method!r}; known: {sorted(n for n, _ in self._methods.values())}"
            )
        return self._faults.setdefault(key, deque())

    # ---------------------------------------------------------------------------------------------
    # Observing what the bot did
    # ---------------------------------------------------------------------------------------------

    def messages_to(self, chat_id: int | str, *, include_edits: bool = False) -> list[SentRecord]:
        """Records of messages the bot sent to ``chat_id`` (edits only if ``include_edits``)."""
        return [r for r in self.sent if r.chat_id == chat_id and (include_edits or not r.is_edit)]

    def calls_of(self, method: str) -> list[JSONDict]:
        """Parameters of every call of ``method`` (case-insensitive), failed ones included."""
        return [c.params for c in self.calls if c.method.lower() == method.lower()]

    def commands_for(self, scope: str = "default", language_code: str = "") -> list[JSONDict] | None:
        """The commands set for a scope key and language, or None.

        Scope keys are the scope type (``"default"``, ``"all_private_chats"``,
        ``"all_group_chats"``, ``"all_chat_administrators"``), ``"chat:<chat_id>"``,
        ``"chat_administrators:<chat_id>"`` or ``"chat_member:<chat_id>:<user_id>"``.
        """
        return self.commands.get((scope, language_code))

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates created but not yet confirmed by the bot."""
        return list(self._updates)

    def message(self, chat_id: int | str, message_id: int) -> JSONDict | None:
        """The current state of a message (bot's or user's) as Message JSON, or None."""
        return self._messages.get((chat_id, message_id))

    def describe_sent(self, limit: int = 20) -> str:
        """A readable listing of the last ``limit`` sent records."""
        if not self.sent:
            return "Nothing was sent."
        lines = [f"Sent so far ({len(self.sent)}):"]
        start = max(0, len(self.sent) - limit)
        if start:
            lines.append(f"  ... {start} earlier record(s) omitted")
        lines += [f"  [{i}] {r.describe()}" for i, r in enumerate(self.sent[start:], start)]
        return "\n".join(lines)

    async def wait_for_sent(
        self,
        predicate: Callable[[SentRecord], bool] | None = None,
        *,
        timeout: float = 60.0,
        after: int = 0,
    ) -> SentRecord:
        """Return the first record in ``sent[after:]`` matching ``predicate`` (any if None).

        Waits until one exists; raises :class:`TimeoutError` listing what was sent otherwise.
        Pass ``after=len(api.sent)`` to ignore what was sent before.
        """

        def check() -> SentRecord | None:
            return next((r for r in self.sent[after:] if predicate is None or predicate(r)), None)

        name = getattr(predicate, "__name__", "predicate") if predicate else "anything"
        return await self._wait_until(check, timeout, f"a sent record matching {name}")

    async def wait_for_messages(
        self, chat_id: int | str, count: int = 1, *, timeout: float = 60.0
    ) -> list[SentRecord]:
        """Wait until the bot sent at least ``count`` messages to ``chat_id``; return all of them.

        Edits are not counted. Raises :class:`TimeoutError` listing what was sent otherwise.
        """

        def check() -> list[SentRecord] | None:
            found = self.messages_to(chat_id)
            return found if len(found) >= count else None

        return await self._wait_until(check, timeout, f"{count} message(s) to chat {chat_id}")

    async def wait_for_call(self, method: str, *, count: int = 1, timeout: float = 60.0) -> list[JSONDict]:
        """Wait until ``method`` was called at least ``count`` times; return all their params."""

        def check() -> list[JSONDict] | None:
            found = self.calls_of(method)
            return found if len(found) >= count else None

        return await self._wait_until(check, timeout, f"{count} call(s) of {method}")

    async def _wait_until(self, check: Callable[[], _T | None], timeout: float, what: str) -> _T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._activity  # taken before checking, so no notification can be missed
            result = check()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                calls = ", ".join(f"{m}" for m, _ in self.calls[-15:]) or "none"
                raise TimeoutError(
                    f"Timed out after {timeout}s waiting for {what}.\n{self.describe_sent()}\n"
                    f"Last calls received: {calls}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def _notify(self) -> None:
        event, self._activity = self._activity, asyncio.Event()
        event.set()

    def _wake_pollers(self) -> None:
        event, self._updates_changed = self._updates_changed, asyncio.Event()
        event.set()

    # ---------------------------------------------------------------------------------------------
    # Injecting what users do
    # ---------------------------------------------------------------------------------------------

    def push_update(self, update: JSONDict) -> int:
        """Queue a raw update (without ``update_id``), wake pollers, and return its update_id."""
        if len(update) != 1 or "update_id" in update:
            raise ValueError("pass exactly one update field, e.g. {'message': {...}}, without update_id")
        self._last_update_id += 1
        full = {"update_id": self._last_update_id, **update}
        self._updates.append(full)
        self.updates_log.append(full)
        self._wake_pollers()
        return self._last_update_id

    def push_text(
        self,
        chat_id: int,
        text: str,
        *,
        entities: list[JSONDict] | None = None,
        reply_to_message_id: int | None = None,
        **sender: Unpack[SenderOptions],
    ) -> int:
        """A user sends ``text``; returns the new message_id.

        With ``entities=None`` the entities Telegram would detect are added (bot commands,
        mentions, hashtags, URLs, see :func:`find_entities`); pass a list (maybe empty) to set them.
        """
        content: JSONDict = {"text": text}
        found = find_entities(text) if entities is None else entities
        if found:
            content["entities"] = found
        if reply_to_message_id is not None:
            replied = self._messages.get((chat_id, reply_to_message_id))
            if replied is None:
                raise ValueError(f"no message {reply_to_message_id} in chat {chat_id} to reply to")
            content["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
        return self._push_message(chat_id, content, sender)

    def push_command(
        self,
        chat_id: int,
        command: str,
        args: str | None = None,
        *,
        mention_bot: bool = False,
        **sender: Unpack[SenderOptions],
    ) -> int:
        """A user sends ``/command [args]`` (``/command@bot_username`` if ``mention_bot``)."""
        head = "/" + command.lstrip("/")
        if mention_bot:
            head += "@" + self.bot_user["username"]
        text = head if args is None else f"{head} {args}"
        ents = [{"type": "bot_command", "offset": 0, "length": utf16_len(head)}]
        if args:
            ents += [e for e in find_entities(text) if e["offset"] > 0]
        return self.push_text(chat_id, text, entities=ents, **sender)

    def push_mention(self, chat_id: int, text: str = "", **sender: Unpack[SenderOptions]) -> int:
        """A user writes ``@bot_username text`` (typically in a group), with its mention entity."""
        full = f"@{self.bot_user['username']} {text}".rstrip()
        return self.push_text(chat_id, full, **sender)

    def push_callback(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user_id: int | None = None,
        first_name: str = "Test",
        username: str | None = None,
        language_code: str | None = None,
    ) -> str:
        """A user presses an inline button with ``data`` under message ``message_id``.

        Returns the callback query id. If the message is unknown to the server, the query carries
        an inaccessible message (``date`` 0), as Telegram does for messages it cannot provide.
        """
        chat = self._chats.get(chat_id) or self._chat_for(chat_id)
        if user_id is None:
            user_id = chat_id if chat["type"] == "private" else self.default_user_id
        user = self._user(user_id, first_name, None, username, language_code)
        message = self._messages.get((chat_id, message_id)) or {
            "chat": chat,
            "message_id": message_id,
            "date": 0,
        }
        query_id = str(next(self._ids) * 1_000_003)
        query = {
            "id": query_id,
            "from": user,
            "message": message,
            "chat_instance": str(abs(chat_id) * 7 + 11),
            "data": data,
        }
        self._callback_queries[query_id] = query
        self.push_update({"callback_query": query})
        return query_id

    def push_sticker(self, chat_id: int, *, emoji: str = "👍", **sender: Unpack[SenderOptions]) -> int:
        """A user sends a (regular, static) sticker; returns the new message_id."""
        stored = self._store_file(b"RIFF\x00\x00\x00\x00WEBP", "stickers", ".webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": 12,
        }
        return self._push_message(chat_id, {"sticker": sticker}, sender)

    def push_photo(
        self,
        chat_id: int,
        data: bytes = b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9",
        *,
        caption: str | None = None,
        width: int = 640,
        height: int = 480,
        **sender: Unpack[SenderOptions],
    ) -> int:
        """A user sends a photo (``data`` is downloadable via getFile); returns the message_id."""
        stored = self._store_file(data, "photos", ".jpg")
        small = self._store_file(data, "photos", ".jpg")
        sizes = [
            {
                "file_id": small.file_id,
                "file_unique_id": small.file_unique_id,
                "width": max(1, width // 8),
                "height": max(1, height // 8),
                "file_size": len(data),
            },
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": width,
                "height": height,
                "file_size": len(data),
            },
        ]
        content: JSONDict = {"photo": sizes}
        if caption is not None:
            content["caption"] = caption
        return self._push_message(chat_id, content, sender)

    def push_voice(
        self,
        chat_id: int,
        data: bytes = b"OggS\x00fake-opus",
        *,
        duration: int = 2,
        **sender: Unpack[SenderOptions],
    ) -> int:
        """A user sends a voice note (``data`` downloadable via getFile); returns the message_id."""
        stored = self._store_file(data, "voice", ".oga")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(data),
        }
        return self._push_message(chat_id, {"voice": voice}, sender)

    def push_document(
        self,
        chat_id: int,
        data: bytes,
        filename: str = "file.txt",
        *,
        mime_type: str = "text/plain",
        caption: str | None = None,
        **sender: Unpack[SenderOptions],
    ) -> int:
        """A user sends a file (``data`` downloadable via getFile); returns the message_id."""
        suffix = "." + filename.rsplit(".", 1)[1] if "." in filename else ""
        stored = self._store_file(data, "documents", suffix)
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": filename,
            "mime_type": mime_type,
            "file_size": len(data),
        }
        content: JSONDict = {"document": document}
        if caption is not None:
            content["caption"] = caption
        return self._push_message(chat_id, content, sender)

    def push_location(
        self, chat_id: int, latitude: float, longitude: float, **sender: Unpack[SenderOptions]
    ) -> int:
        """A user shares a location; returns the message_id."""
        return self._push_message(
            chat_id, {"location": {"latitude": latitude, "longitude": longitude}}, sender
        )

    def push_edited_text(
        self, chat_id: int, message_id: int, text: str, **sender: Unpack[SenderOptions]
    ) -> int:
        """A user edits their message ``message_id`` to ``text`` (an ``edited_message`` update).

        Returns ``message_id``. An unknown message is created as if it had been sent earlier.
        """
        original = self._messages.get((chat_id, message_id))
        if original is None:
            chat, user = self._chat_and_user(chat_id, sender)
            original = {"message_id": message_id, "from": user, "chat": chat, "date": int(time.time()) - 60}
        elif original.get("from", {}).get("is_bot"):
            raise ValueError(f"message {message_id} in chat {chat_id} was sent by the bot, not a user")
        edited = {k: v for k, v in original.items() if k not in ("entities", "text")}
        edited["text"] = text
        ents = find_entities(text)
        if ents:
            edited["entities"] = ents
        edited["edit_date"] = int(time.time())
        self._messages[(chat_id, message_id)] = edited
        self.push_update({"edited_message": edited})
        return message_id

    def _push_message(self, chat_id: int, content: JSONDict, sender: SenderOptions) -> int:
        chat, user = self._chat_and_user(chat_id, sender)
        message_id = self._new_message_id(chat_id)
        message = {"message_id": message_id, "from": user, "chat": chat, "date": int(time.time()), **content}
        self._messages[(chat_id, message_id)] = message
        self.push_update({"message": message})
        return message_id

    def _chat_and_user(self, chat_id: int, sender: SenderOptions) -> tuple[JSONDict, JSONDict]:
        chat_type = sender.get("chat_type", "private")
        first_name = sender.get("first_name", "Test")
        if chat_type == "private":
            if chat_id <= 0:
                raise ValueError(f"a private chat id is the user's id and must be positive, got {chat_id}")
            user_id = sender.get("user_id") or chat_id
            if user_id != chat_id:
                raise ValueError(f"in a private chat user_id must equal chat_id ({user_id} != {chat_id})")
            chat = {"id": chat_id, "type": "private", "first_name": first_name}
            for key in ("last_name", "username"):
                if sender.get(key):
                    chat[key] = sender[key]  # type: ignore[literal-required]
        elif chat_type in ("group", "supergroup"):
            if chat_id >= 0:
                raise ValueError(f"group chat ids are negative, got {chat_id}")
            user_id = sender.get("user_id") or self.default_user_id
            chat = {"id": chat_id, "type": chat_type, "title": sender.get("chat_title") or "Test group"}
        else:
            raise ValueError(f"chat_type must be 'private', 'group' or 'supergroup', got {chat_type!r}")
        self._chats[chat_id] = chat
        user = self._user(
            user_id, first_name, sender.get("last_name"), sender.get("username"), sender.get("language_code")
        )
        return chat, user

    @staticmethod
    def _user(
        user_id: int, first_name: str, last_name: str | None, username: str | None, language_code: str | None
    ) -> JSONDict:
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        return user

    def _new_message_id(self, chat_id: int | str) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _store_file(self, data: bytes | None, folder: str, suffix: str) -> _StoredFile:
        n = next(self._ids)
        stored = _StoredFile(
            file_id=f"FAKE{folder[:3].upper()}{n:06d}AgADfake",
            file_unique_id=f"U{folder[:2].upper()}{n:06d}",
            file_path=f"{folder}/file_{n}{suffix}",
            data=data,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    # ---------------------------------------------------------------------------------------------
    # Webhook delivery
    # ---------------------------------------------------------------------------------------------

    async def post_update_to(
        self,
        url: str | None = None,
        *,
        secret_token: str | _Unset | None = _UNSET,
        timeout: float = 10.0,
    ) -> int:
        """POST the next pending update to a webhook, as Telegram does; return the HTTP status.

        ``url`` defaults to the one registered with setWebhook, ``secret_token`` to the registered
        one (pass ``None`` to send no ``X-Telegram-Bot-Api-Secret-Token`` header). A 2xx answer
        confirms the update; any other status keeps it pending and is reported as the webhook's
        last error in getWebhookInfo. Raises :class:`LookupError` if no update is pending.
        """
        webhook = self.webhook or {}
        target = url or webhook.get("url")
        if not target:
            raise ValueError("no url given and no webhook set via setWebhook")
        if isinstance(secret_token, _Unset):
            secret_token = webhook.get("secret_token")
        self._drop_disallowed()
        if not self._updates:
            raise LookupError("no pending update to deliver")
        update = self._updates[0]
        headers = {"Content-Type": "application/json"}
        if secret_token:
            headers[_WEBHOOK_SECRET_HEADER] = secret_token
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.post(target, data=json.dumps(update), headers=headers) as response,
        ):
            await response.read()
            status = response.status
            reason = response.reason or ""
        if 200 <= status < 300:
            with contextlib.suppress(ValueError):
                self._updates.remove(update)
            self._webhook_last_error = None
        else:
            self._webhook_last_error = (
                int(time.time()),
                f"Wrong response from the webhook: {status} {reason}",
            )
        return status

    # ---------------------------------------------------------------------------------------------
    # HTTP plumbing
    # ---------------------------------------------------------------------------------------------

    async def _handle_not_found(self, request: web.Request) -> web.Response:
        return _error_response(ApiError(404, "Not Found"))

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error_response(ApiError(401, "Unauthorized"))
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None or stored.data is None:
            return _error_response(ApiError(404, "Not Found"))
        return web.Response(body=stored.data, content_type="application/octet-stream")

    async def _read_params(self, request: web.Request) -> JSONDict:
        params: JSONDict = {k: _coerce(k, v) for k, v in request.query.items()}
        if not request.can_read_body:
            return params
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad_request("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise _bad_request("can't parse JSON object")
            params.update({k: _coerce(k, v) for k, v in body.items()})
        else:
            form = await request.post()
            uploads: dict[str, Upload] = {}
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    uploads[key] = Upload(value.filename, value.content_type, value.file.read())
                else:
                    params[key] = _coerce(key, value)
            # attach://<name> references resolve to the uploaded part; plain file parts are the value.
            for key, value in list(params.items()):
                if isinstance(value, str) and value.startswith("attach://") and value[9:] in uploads:
                    params[key] = uploads.pop(value[9:])
            params.update(uploads)
        return params

    async def _handle_method(self, request: web.Request) -> web.Response:
        requested = request.match_info["method"]
        known = self._methods.get(requested.lower())
        method = known[0] if known else requested
        try:
            params = await self._read_params(request)
        except ApiError as error:
            self._record_call(method, {})
            return _error_response(error)
        self._record_call(method, params)
        if request.match_info["token"] != self.token:
            return _error_response(ApiError(401, "Unauthorized"))
        fault = self._pop_fault(requested, params.get("chat_id"))
        if fault is not None and fault.kind == "hang":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), fault.seconds)
        if fault is not None and fault.kind == "fail":
            return _error_response(self._fault_error(fault))
        if known is None:
            return _error_response(ApiError(404, "Not Found"))
        try:
            result = known[1](params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as error:
            return _error_response(error)
        finally:
            self._notify()
        if isinstance(result, web.Response):
            return result
        return _ok(result)

    def _record_call(self, method: str, params: JSONDict) -> None:
        self.calls.append(Call(method, params))
        self._notify()

    def _pop_fault(self, method: str, chat_id: Any = None) -> _Fault | None:
        queue = self._faults.get(method.lower())
        if not queue:
            return None
        for fault in queue:
            if fault.chat_id is None or str(fault.chat_id) == str(chat_id):
                queue.remove(fault)
                return fault
        return None

    @staticmethod
    def _fault_error(fault: _Fault) -> ApiError:
        status = fault.status
        if status in _PLAIN_TEXT_STATUSES and fault.description is None:
            return ApiError(status, _PLAIN_TEXT_STATUSES[status], plain_text=True)
        if status == 429:
            description = fault.description or f"Too Many Requests: retry after {fault.retry_after}"
        else:
            description = fault.description or _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
        return ApiError(status, description, retry_after=fault.retry_after)

    # ---------------------------------------------------------------------------------------------
    # Shared validation
    # ---------------------------------------------------------------------------------------------

    def _resolve_chat(self, params: JSONDict) -> int | str:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad_request("chat_id is empty")
        if isinstance(chat_id, str):
            if not chat_id.startswith("@"):
                raise _bad_request("chat not found")
            for known_id, chat in self._chats.items():
                if chat.get("username", "").lower() == chat_id[1:].lower():
                    chat_id = known_id
                    break
            else:
                raise _bad_request("chat not found")
        if chat_id in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _chat_for(self, chat_id: int | str) -> JSONDict:
        if chat_id in self._chats:
            return self._chats[chat_id]
        if isinstance(chat_id, int) and chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "Test"}
        if isinstance(chat_id, int) and chat_id <= -1_000_000_000_000:
            return {"id": chat_id, "type": "supergroup", "title": "Test group"}
        return {"id": chat_id, "type": "group", "title": "Test group"}

    @staticmethod
    def _validate_reply_markup(markup: Any) -> JSONDict | None:
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
            actions = (
                "url",
                "callback_data",
                "web_app",
                "login_url",
                "switch_inline_query",
                "switch_inline_query_current_chat",
                "switch_inline_query_chosen_chat",
                "copy_text",
                "callback_game",
                "pay",
            )
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                        raise _bad_request("can't parse inline keyboard button: Text must be a String")
                    if "callback_data" in button:
                        data = button["callback_data"]
                        size = len(data.encode("utf-8")) if isinstance(data, str) else 0
                        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                            raise _bad_request("BUTTON_DATA_INVALID")
                    elif not any(key in button for key in actions):
                        raise _bad_request(
                            "can't parse inline keyboard button: "
                            "Text buttons are unallowed in the inline keyboard"
                        )
        elif not any(k in markup for k in ("keyboard", "remove_keyboard", "force_reply")):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        return markup

    @staticmethod
    def _format(
        text: Any, parse_mode: Any, entities: Any, *, caption: bool = False, edit: bool = False
    ) -> tuple[str, list[JSONDict]]:
        """Apply parse_mode and the length/emptiness rules; return (plain text, entities)."""
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        mode = (parse_mode or "").lower() if isinstance(parse_mode, str) else ""
        if mode == "html":
            plain, ents = parse_html(text)
        elif mode in ("", "markdown", "markdownv2"):
            plain, ents = text, list(entities) if isinstance(entities, list) else []
        else:
            raise _bad_request("unsupported parse_mode")
        if caption:
            if len(plain) > MAX_CAPTION_LENGTH:
                raise _bad_request("message caption is too long")
        else:
            if not plain.strip():
                raise _bad_request("message text is empty")
            if len(plain) > MAX_TEXT_LENGTH:
                raise _bad_request("MESSAGE_TOO_LONG" if edit else "message is too long")
        return plain, ents

    def _reply_to(self, chat_id: int | str, params: JSONDict) -> JSONDict | None:
        reply = params.get("reply_parameters")
        reply_id = reply.get("message_id") if isinstance(reply, dict) else params.get("reply_to_message_id")
        if reply_id is None:
            return None
        replied = self._messages.get((chat_id, reply_id))
        allow = params.get("allow_sending_without_reply") or (
            isinstance(reply, dict) and reply.get("allow_sending_without_reply")
        )
        if replied is None:
            if allow:
                return None
            raise _bad_request("message to be replied not found")
        return {k: v for k, v in replied.items() if k != "reply_to_message"}

    def _new_bot_message(self, chat_id: int | str, params: JSONDict, content: JSONDict) -> JSONDict:
        markup = self._validate_reply_markup(params.get("reply_markup"))
        replied = self._reply_to(chat_id, params)
        message: JSONDict = {
            "message_id": self._new_message_id(chat_id),
            "from": {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")},
            "chat": self._chat_for(chat_id),
            "date": int(time.time()),
        }
        if replied is not None:
            message["reply_to_message"] = replied
        message.update(content)
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup  # Telegram only echoes inline keyboards
        self._messages[(chat_id, message["message_id"])] = message
        return message

    def _file_param(
        self, params: JSONDict, name: str, folder: str
    ) -> tuple[_StoredFile, Upload | None, str | None]:
        value = params.get(name)
        if isinstance(value, Upload):
            if not value.data:
                raise _bad_request("file must be non-empty")
            suffix = (
                "." + value.filename.rsplit(".", 1)[1] if value.filename and "." in value.filename else ""
            )
            return self._store_file(value.data, folder, suffix), value, None
        if isinstance(value, str) and value:
            if value in self._files:
                return self._files[value], None, value
            if re.match(r"https?://", value):
                return self._store_file(None, folder, ""), None, value
            raise _bad_request("wrong file identifier/HTTP URL specified")
        raise _bad_request(f"there is no {name} in the request")

    # ---------------------------------------------------------------------------------------------
    # Methods
    # ---------------------------------------------------------------------------------------------

    def _get_me(self, params: JSONDict) -> JSONDict:
        return self.bot_user

    def _drop_disallowed(self) -> None:
        while self._updates:
            kind = next(k for k in self._updates[0] if k != "update_id")
            if kind in self._allowed_updates:
                break
            self._updates.popleft()
        # Disallowed updates further back are dropped when they reach the front.

    def _deliverable(self, limit: int) -> list[JSONDict]:
        result: list[JSONDict] = []
        for update in list(self._updates):
            kind = next(k for k in update if k != "update_id")
            if kind not in self._allowed_updates:
                self._updates.remove(update)
                continue
            result.append(update)
            if len(result) >= limit:
                break
        return result

    async def _get_updates(self, params: JSONDict) -> Any:
        if self.webhook:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
                "delete the webhook first",
            )
        offset = params.get("offset")
        limit = params.get("limit", 100)
        limit = min(max(int(limit), 1), 100) if isinstance(limit, int) else 100
        timeout = params.get("timeout", 0)
        timeout = max(float(timeout), 0.0) if isinstance(timeout, int | float) else 0.0
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES
        if isinstance(offset, int):
            if offset < 0:
                while len(self._updates) > -offset:
                    self._updates.popleft()
            else:
                while self._updates and self._updates[0]["update_id"] < offset:
                    self._updates.popleft()

        self._poll_generation += 1
        self._poll_terminated_by = "other getUpdates request; make sure that only one bot instance is running"
        generation = self._poll_generation
        self._wake_pollers()  # a pending older poll sees the new generation and ends with 409
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._updates_changed
            if generation != self._poll_generation:
                raise ApiError(409, f"Conflict: terminated by {self._poll_terminated_by}")
            updates = self._deliverable(limit)
            remaining = deadline - loop.time()
            if updates or remaining <= 0 or self._closing.is_set():
                return updates
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def _send_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._resolve_chat(params)
        text = params.get("text")
        plain, ents = self._format(text, params.get("parse_mode"), params.get("entities"))
        content: JSONDict = {"text": plain}
        if ents:
            content["entities"] = ents
        message = self._new_bot_message(chat_id, params, content)
        self._record_sent("sendMessage", chat_id, message, params, text=text)
        return message

    def _send_document(self, params: JSONDict) -> JSONDict:
        chat_id = self._resolve_chat(params)
        stored, upload, ref = self._file_param(params, "document", "documents")
        content = self._caption_content(params)
        filename = upload.filename if upload else (ref.rsplit("/", 1)[-1] if ref else None)
        mime = upload.content_type if upload else None
        document: JSONDict = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if filename:
            document["file_name"] = filename
        if mime:
            document["mime_type"] = mime
        if stored.data is not None:
            document["file_size"] = len(stored.data)
        content["document"] = document
        message = self._new_bot_message(chat_id, params, content)
        self._record_sent(
            "sendDocument", chat_id, message, params, upload=upload, file_ref=ref, filename=filename
        )
        return message

    def _send_photo(self, params: JSONDict) -> JSONDict:
        chat_id = self._resolve_chat(params)
        stored, upload, ref = self._file_param(params, "photo", "photos")
        content = self._caption_content(params)
        size = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": 800,
            "height": 600,
        }
        if stored.data is not None:
            size["file_size"] = len(stored.data)
        content["photo"] = [size]
        message = self._new_bot_message(chat_id, params, content)
        filename = upload.filename if upload else None
        self._record_sent(
            "sendPhoto", chat_id, message, params, upload=upload, file_ref=ref, filename=filename
        )
        return message

    def _caption_content(self, params: JSONDict) -> JSONDict:
        caption = params.get("caption")
        if caption is None or caption == "":
            return {}
        plain, ents = self._format(
            caption, params.get("parse_mode"), params.get("caption_entities"), caption=True
        )
        content: JSONDict = {"caption": plain} if plain else {}
        if ents:
            content["caption_entities"] = ents
        return content

    def _record_sent(
        self,
        method: str,
        chat_id: int | str | None,
        message: JSONDict | None,
        params: JSONDict,
        *,
        text: Any = None,
        upload: Upload | None = None,
        file_ref: str | None = None,
        filename: str | None = None,
    ) -> None:
        markup = params.get("reply_markup")
        caption = params.get("caption")
        self.sent.append(
            SentRecord(
                method=method,
                chat_id=chat_id,
                message_id=message["message_id"] if message else params.get("message_id"),
                text=text if isinstance(text, str) else None,
                parse_mode=params.get("parse_mode"),
                reply_markup=markup if isinstance(markup, dict) else None,
                caption=caption if isinstance(caption, str) and caption else None,
                filename=filename,
                data=upload.data if upload else None,
                mime_type=upload.content_type if upload else None,
                file_ref=file_ref,
                message=message,
                params=params,
            )
        )

    def _message_to_edit(self, params: JSONDict) -> tuple[int | str, JSONDict] | None:
        """The stored message addressed by chat_id+message_id, or None for inline messages."""
        if params.get("inline_message_id"):
            return None
        chat_id = self._resolve_chat(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise _bad_request("message identifier is not specified")
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise _bad_request("message to edit not found")
        if not message.get("from", {}).get("is_bot") or message["from"]["id"] != self.bot_user["id"]:
            raise _bad_request("message can't be edited")
        return chat_id, message

    _NOT_MODIFIED: Final = (
        "message is not modified: specified new message content and reply markup are exactly the same "
        "as a current content and reply markup of the message"
    )

    def _edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        target = self._message_to_edit(params)
        text = params.get("text")
        plain, ents = self._format(text, params.get("parse_mode"), params.get("entities"), edit=True)
        markup = self._validate_reply_markup(params.get("reply_markup"))
        inline = markup if markup is not None and "inline_keyboard" in markup else None
        if target is None:
            self._record_sent("editMessageText", None, None, params, text=text)
            return True
        chat_id, message = target
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        if (
            message["text"] == plain
            and message.get("entities", []) == ents
            and message.get("reply_markup") == inline
        ):
            raise _bad_request(self._NOT_MODIFIED)
        edited = {k: v for k, v in message.items() if k not in ("text", "entities", "reply_markup")}
        edited["text"] = plain
        if ents:
            edited["entities"] = ents
        if inline is not None:
            edited["reply_markup"] = inline  # editing without reply_markup removes the keyboard
        edited["edit_date"] = int(time.time())
        self._messages[(chat_id, message["message_id"])] = edited
        self._record_sent("editMessageText", chat_id, edited, params, text=text)
        return edited

    def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        target = self._message_to_edit(params)
        markup = self._validate_reply_markup(params.get("reply_markup"))
        inline = markup if markup is not None and "inline_keyboard" in markup else None
        if target is None:
            self._record_sent("editMessageReplyMarkup", None, None, params)
            return True
        chat_id, message = target
        if message.get("reply_markup") == inline:
            raise _bad_request(self._NOT_MODIFIED)
        edited = {k: v for k, v in message.items() if k != "reply_markup"}
        if inline is not None:
            edited["reply_markup"] = inline
        edited["edit_date"] = int(time.time())
        self._messages[(chat_id, message["message_id"])] = edited
        self._record_sent("editMessageReplyMarkup", chat_id, edited, params)
        return edited

    def _delete_message(self, params: JSONDict) -> bool:
        chat_id = self._resolve_chat(params)
        if self._messages.pop((chat_id, params.get("message_id")), None) is None:  # type: ignore[arg-type]
            raise _bad_request("message to delete not found")
        return True

    def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = params.get("callback_query_id")
        if not query_id or str(query_id) not in self._callback_queries:
            raise _bad_request("query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if isinstance(text, str) and len(text) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        self.answered_callbacks.append(
            AnsweredCallback(
                callback_query_id=str(query_id),
                text=text if isinstance(text, str) else None,
                show_alert=bool(params.get("show_alert", False)),
                url=params.get("url"),
                cache_time=params.get("cache_time"),
            )
        )
        return True

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if scope is None or scope == "":
            return "default"
        if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
            raise _bad_request("can't parse BotCommandScope JSON object")
        kind = scope["type"]
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            return kind
        if kind in ("chat", "chat_administrators"):
            return f"{kind}:{scope.get('chat_id')}"
        if kind == "chat_member":
            return f"chat_member:{scope.get('chat_id')}:{scope.get('user_id')}"
        raise _bad_request("unsupported bot command scope type")

    def _set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad_request("too many commands specified")
        cleaned: list[JSONDict] = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand JSON object")
            name = str(command.get("command", "")).lstrip("/")
            description = command.get("description")
            if not _COMMAND_NAME_RE.fullmatch(name):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        if cleaned:
            self.commands[key] = cleaned
        else:
            self.commands.pop(key, None)
        return True

    def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        return list(self.commands.get(key, []))

    def _delete_my_commands(self, params: JSONDict) -> bool:
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self.commands.pop(key, None)
        return True

    def _set_webhook(self, params: JSONDict) -> web.Response:
        url = params.get("url") or ""
        if not url:
            return self._delete_webhook(params)
        if not isinstance(url, str) or not re.match(r"https?://[^/\s]+", url):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN_RE.fullmatch(str(secret)):
            raise _bad_request("secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES
        if params.get("drop_pending_updates"):
            self._updates.clear()
        new = {
            "url": url,
            "secret_token": secret,
            "max_connections": params.get("max_connections") or 40,
            "ip_address": params.get("ip_address"),
            "has_custom_certificate": isinstance(params.get("certificate"), Upload),
        }
        already = self.webhook == new
        self.webhook = new
        self._poll_generation += 1  # a pending getUpdates ends with 409
        self._poll_terminated_by = "setWebhook request"
        self._wake_pollers()
        return _ok(True, "Webhook is already set" if already else "Webhook was set")

    def _delete_webhook(self, params: JSONDict) -> web.Response:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        existed = self.webhook is not None
        self.webhook = None
        self._webhook_last_error = None
        return _ok(True, "Webhook was deleted" if existed else "Webhook is already deleted")

    def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        self._drop_disallowed()
        info: JSONDict = {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": bool((self.webhook or {}).get("has_custom_certificate")),
            "pending_update_count": len(self._updates),
        }
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            if self.webhook.get("ip_address"):
                info["ip_address"] = self.webhook["ip_address"]
            if self._allowed_updates != DEFAULT_ALLOWED_UPDATES:
                info["allowed_updates"] = sorted(self._allowed_updates)
            if self._webhook_last_error:
                info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        return info

    def _send_chat_action(self, params: JSONDict) -> bool:
        chat_id = self._resolve_chat(params)
        action = params.get("action")
        if action not in CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        self.chat_actions.append(ChatActionRecord(chat_id, action))
        return True

    def _get_file(self, params: JSONDict) -> JSONDict:
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise _bad_request("invalid file_id")
        result: JSONDict = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if stored.data is not None:
            result["file_size"] = len(stored.data)
            result["file_path"] = stored.file_path
        return result

    def _close(self, params: JSONDict) -> bool:
        return True

    def _log_out(self, params: JSONDict) -> bool:
        return True
