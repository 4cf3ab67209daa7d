"""Sending e-mail over SMTP, configured from the environment.

SOCIALBOT_SMTP_HOST (unset: no mail), SOCIALBOT_SMTP_PORT (default by security: 587 starttls, 465 tls,
25 none), SOCIALBOT_SMTP_SECURITY = starttls | tls | none (default starttls), SOCIALBOT_SMTP_USER and
SOCIALBOT_SMTP_PASSWORD (login only when a user is set), SOCIALBOT_MAIL_FROM (default the user).

`send_mail` is blocking (smtplib); call it with `asyncio.to_thread` from the event loop. It raises
`MailError` with a short reason; whether a failure is worth retrying is in `MailError.temporary`.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

SECURITIES = ("starttls", "tls", "none")
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


class MailError(Exception):
    def __init__(self, reason: str, *, temporary: bool) -> None:
        super().__init__(reason)
        self.temporary = temporary


@dataclass(frozen=True)
class MailAttachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str = "starttls"
    user: str | None = None
    password: str | None = None
    sender: str = ""
    timeout: float = 20.0
    # Tests talk to a local server with a self-made certificate; production verifies.
    ssl_context: ssl.SSLContext | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpSettings | None:
        """The settings, or None when no SMTP host is configured. Raises ValueError on a bad value."""
        env = os.environ if env is None else env
        host = env.get("SOCIALBOT_SMTP_HOST", "").strip()
        if not host:
            return None
        security = env.get("SOCIALBOT_SMTP_SECURITY", "starttls").strip().lower() or "starttls"
        if security not in SECURITIES:
            raise ValueError(f"SOCIALBOT_SMTP_SECURITY must be one of {', '.join(SECURITIES)}, not {security!r}")
        port_text = env.get("SOCIALBOT_SMTP_PORT", "").strip()
        if port_text and not (port_text.isdigit() and 0 < int(port_text) < 65536):
            raise ValueError(f"SOCIALBOT_SMTP_PORT must be a port number, not {port_text!r}")
        user = env.get("SOCIALBOT_SMTP_USER", "").strip() or None
        sender = env.get("SOCIALBOT_MAIL_FROM", "").strip() or user or ""
        if "@" not in sender:
            raise ValueError("set SOCIALBOT_MAIL_FROM to the address the bot's mail comes from")
        return cls(
            host=host,
            port=int(port_text) if port_text else DEFAULT_PORTS[security],
            security=security,
            user=user,
            password=env.get("SOCIALBOT_SMTP_PASSWORD") or None,
            sender=sender,
        )


def build_message(settings: SmtpSettings, to: Sequence[str], subject: str, body: str, *,
                  attachments: Sequence[MailAttachment] = (), message_id: str | None = None) -> EmailMessage:  # fmt: skip
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    # A stable Message-ID per change: a mail sent again after a crash mid-send is the same message to
    # mail clients and servers that de-duplicate.
    message["Message-ID"] = message_id or make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message.set_content(body)
    for attachment in attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=attachment.filename)  # fmt: skip
    return message


def send_mail(settings: SmtpSettings, to: Sequence[str], subject: str, body: str, *,
              attachments: Sequence[MailAttachment] = (), message_id: str | None = None) -> None:  # fmt: skip
    """Send one message; raises MailError. Blocking."""
    recipients = [address for address in to if address]
    if not recipients:
        raise MailError("no recipient", temporary=False)
    message = build_message(settings, recipients, subject, body, attachments=attachments, message_id=message_id)
    context = settings.ssl_context or ssl.create_default_context()
    try:
        smtp: smtplib.SMTP
        if settings.security == "tls":
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with smtp:
            if settings.security == "starttls":
                smtp.starttls(context=context)
            if settings.user:
                try:
                    smtp.login(settings.user, settings.password or "")
                except smtplib.SMTPServerDisconnected as exc:  # some servers hang up on a refused login
                    raise MailError("login refused (disconnected)", temporary=False) from exc
            refused = smtp.send_message(message)
    except MailError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"login refused ({exc.smtp_code})", temporary=False) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise MailError(f"recipients refused {codes}", temporary=all(400 <= c < 500 for c in codes)) from exc
    except smtplib.SMTPResponseException as exc:
        raise MailError(f"server said {exc.smtp_code}", temporary=exc.smtp_code < 500) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise MailError("the server does not offer STARTTLS or login", temporary=False) from exc
    except (smtplib.SMTPException, OSError) as exc:  # refused, unreachable, dropped, TLS
        raise MailError(f"{type(exc).__name__}", temporary=True) from exc
    if refused:
        raise MailError(f"some recipients refused: {len(refused)}", temporary=False)
