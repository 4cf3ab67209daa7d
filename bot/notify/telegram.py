"""The Telegram transport: one outbox row, one message (split if long), through python-telegram-bot."""

from __future__ import annotations

import base64
import html
from datetime import timedelta
from typing import Any

from telegram import InputFile
from telegram.constants import MessageLimit
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut

from bot.notify.delivery import SendFailed
from bot.storage import OutboxItem


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Cut a long answer into messages at paragraph breaks (then lines, then words), each within `limit`
    once escaped for HTML."""

    def fits(part: str) -> bool:
        return len(html.escape(part, quote=False)) <= limit

    if fits(text):
        return [text]
    for separator in ("\n\n", "\n", " "):
        pieces = text.split(separator)
        if len(pieces) == 1:
            continue
        chunks: list[str] = []
        current = ""
        for piece in pieces:
            candidate = f"{current}{separator}{piece}" if current else piece
            if fits(candidate):
                current = candidate
                continue
            if current:
                chunks.append(current)
            current = piece
        if current:
            chunks.append(current)
        return [part for chunk in chunks for part in split_text(chunk, limit)]
    # One unbroken run: cut hard, leaving room for escaping.
    step = limit // 5
    return [text[i : i + step] for i in range(0, len(text), step)]


class TelegramTransport:
    def __init__(self, bot: Any) -> None:
        self.bot = bot  # telegram.Bot (or the Application's ExtBot)

    async def send(self, item: OutboxItem) -> None:
        text = str(item.payload.get("text", ""))
        parse_mode = item.payload.get("parse_mode")
        # An HTML text is sent whole (splitting could cut a tag); plain texts are split like answers.
        parts = [text] if parse_mode else split_text(text)
        try:
            if not getattr(self.bot, "_initialized", True):  # a send-only Bot (in `socialbot web`)
                await self.bot.initialize()
            chat_id = int(item.recipient)
            document = item.payload.get("document")
            if isinstance(document, str):  # a file (the person's calendar file)
                upload = InputFile(base64.b64decode(document), filename=str(item.payload.get("filename") or "file"))
                await self.bot.send_document(chat_id, upload)
                return
            for part in parts:
                await self.bot.send_message(chat_id, part, parse_mode=parse_mode)
        except ValueError as exc:
            raise SendFailed("not a chat id", temporary=False) from exc
        except RetryAfter as exc:
            wait = exc.retry_after.total_seconds() if isinstance(exc.retry_after, timedelta) else exc.retry_after
            raise SendFailed("flood wait", retry_after=float(wait)) from exc
        except Forbidden as exc:
            raise SendFailed("blocked by the recipient", blocked=True) from exc
        except InvalidToken as exc:
            raise SendFailed("the bot token was refused") from exc
        except BadRequest as exc:
            raise SendFailed(f"rejected: {exc.message}", temporary=False) from exc
        except (TimedOut, NetworkError) as exc:
            raise SendFailed(type(exc).__name__) from exc
