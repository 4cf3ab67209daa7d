"""The e-mail transport: one outbox row, one message, over SMTP (bot/mail.py) off the event loop."""

from __future__ import annotations

import asyncio
import base64

from bot.mail import MailAttachment, MailError, SmtpSettings, send_mail
from bot.notify.delivery import SendFailed
from bot.storage import OutboxItem


class EmailTransport:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    async def send(self, item: OutboxItem) -> None:
        payload = item.payload
        attachments = []
        attachment = payload.get("attachment")
        if isinstance(attachment, dict):
            attachments.append(MailAttachment(str(attachment["filename"]), base64.b64decode(attachment["content"]),
                                              str(attachment.get("mime_type") or "application/octet-stream")))  # fmt: skip
        try:
            await asyncio.to_thread(send_mail, self.settings, [item.recipient], str(payload.get("subject", "")),
                                    str(payload.get("body", "")), attachments=attachments,
                                    message_id=payload.get("message_id"))  # fmt: skip
        except MailError as exc:
            raise SendFailed(str(exc), temporary=exc.temporary) from exc
