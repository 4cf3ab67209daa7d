"""No notification is lost, none is sent twice: the outbox against a real local SMTP server (aiosmtpd) and
the local Bot API server, through mail-server outages, restarts, a kill after the commit and a kill
mid-send."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from bot.config import Config
from bot.knowledge import Knowledge
from bot.mail import MailError, SmtpSettings, send_mail
from bot.notify.smtp import EmailTransport
from bot.runtime import Runtime
from bot.storage import OutboxItem, open_store
from tests.conftest import CONTENT, ROOT
from tests.transcript import Clock, TestBot

DEVELOPER_MAIL = "utvecklare@example.se"
NOW_FAR_BACK = datetime(2000, 1, 1, tzinfo=UTC)  # every booking is upcoming from then


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """An aiosmtpd handler that keeps what it received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd calls it by this name
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


class MailServer:
    """A real SMTP server on a fixed port that a test can stop (an outage) and start again."""

    def __init__(self, port: int, **options: Any) -> None:
        self.port = port
        self.inbox = Inbox()
        self.options = options
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **self.options)
        self.controller.start()

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def mail_port() -> Iterator[int]:
    yield free_port()


def settings_for(port: int, **changes: Any) -> SmtpSettings:
    values: dict[str, Any] = {"host": "127.0.0.1", "port": port, "security": "none", "sender": "bot@example.se",
                              "timeout": 5.0}  # fmt: skip
    values.update(changes)
    return SmtpSettings(**values)


def config_for(state: Path) -> Config:
    return Config(content_dir=CONTENT, state_dir=state, notify_emails={"sundsvall": DEVELOPER_MAIL})


def web_bot(knowledge: Knowledge, state: Path, clock: Clock, conversation: str = "web:1") -> TestBot:
    return TestBot(knowledge, state, clock, conversation=conversation)


async def wait_for(condition: Any, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)


# --- the mail itself ------------------------------------------------------------------------------


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out",
                    str(cert)], check=True, capture_output=True)  # fmt: skip
    return cert, key


def test_starttls_and_login_against_a_real_server(tmp_path: Path, mail_port: int) -> None:
    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"bot", b"hemligt")
        logins.append((data.login, data.password))
        return AuthResult(success=ok)

    server = MailServer(mail_port, tls_context=server_tls, require_starttls=True, authenticator=authenticator,
                        auth_require_tls=True)  # fmt: skip
    server.start()
    try:
        trust = ssl.create_default_context(cafile=str(cert))
        good = settings_for(mail_port, security="starttls", user="bot", password="hemligt", ssl_context=trust)
        send_mail(good, [DEVELOPER_MAIL], "Ny bokning", "Hej!")
        assert server.inbox.messages[0]["Subject"] == "Ny bokning"
        assert logins == [(b"bot", b"hemligt")], "login happened, after STARTTLS"
        with pytest.raises(MailError) as refused:
            send_mail(settings_for(mail_port, security="starttls", user="bot", password="fel", ssl_context=trust),
                      [DEVELOPER_MAIL], "x", "y")  # fmt: skip
        assert not refused.value.temporary, "a wrong password is not retried for ever"
        with pytest.raises(MailError) as untrusted:  # the default context does not trust a self-made cert
            send_mail(settings_for(mail_port, security="starttls", user="bot", password="hemligt"),
                      [DEVELOPER_MAIL], "x", "y")  # fmt: skip
        assert untrusted.value.temporary
        assert len(server.inbox.messages) == 1
    finally:
        server.stop()


def test_smtp_settings_from_the_environment() -> None:
    assert SmtpSettings.from_env({}) is None
    settings = SmtpSettings.from_env({"SOCIALBOT_SMTP_HOST": "smtp.example.se", "SOCIALBOT_SMTP_USER": "bot@example.se",
                                      "SOCIALBOT_SMTP_PASSWORD": "x", "SOCIALBOT_SMTP_SECURITY": "tls"})  # fmt: skip
    assert settings is not None
    assert (settings.port, settings.security, settings.sender) == (465, "tls", "bot@example.se")
    with pytest.raises(ValueError, match="SOCIALBOT_SMTP_SECURITY"):
        SmtpSettings.from_env({"SOCIALBOT_SMTP_HOST": "h", "SOCIALBOT_MAIL_FROM": "a@b.se",
                               "SOCIALBOT_SMTP_SECURITY": "ssl3"})  # fmt: skip
    with pytest.raises(ValueError, match="SOCIALBOT_MAIL_FROM"):
        SmtpSettings.from_env({"SOCIALBOT_SMTP_HOST": "h"})


# --- outages, restarts and kills --------------------------------------------------------------------


async def test_a_mail_server_down_for_a_while_loses_nothing_and_sends_once(
    tmp_path: Path, knowledge: Knowledge, clock: Clock, mail_port: int
) -> None:
    bot = web_bot(knowledge, tmp_path / "state", clock)
    runtime = Runtime(bot.engine, config_for(tmp_path / "state"), {"email": EmailTransport(settings_for(mail_port))},
                      retry_base=0.05, watch=False)  # fmt: skip
    server = MailServer(mail_port)
    await runtime.start()
    try:
        bot.onboard()
        slot = await asyncio.to_thread(bot.book_first_slot, "Anna", "070-123 45 67")
        await wait_for(lambda: bot.store.outbox_counts().get("pending", 0) and
                       bot.store.db.execute("SELECT MAX(attempts) FROM outbox").fetchone()[0] >= 3)  # fmt: skip
        assert server.inbox.messages == []
        server.start()  # the mail server is back
        await wait_for(lambda: len(server.inbox.messages) >= 1)
        await asyncio.sleep(0.5)
        mail = server.inbox.messages
        assert len(mail) == 1, "sent once, not once per failed attempt"
        assert mail[0]["To"] == DEVELOPER_MAIL and mail[0]["Subject"].startswith("Ny bokning")
        parts = {part.get_filename(): part for part in mail[0].walk() if part.get_filename()}
        ics = parts["meeting.ics"].get_payload(decode=True)
        assert b"BEGIN:VEVENT" in ics and b"Anna" in ics
        body = next(p for p in mail[0].walk() if p.get_content_type() == "text/plain").get_content()
        assert "Anna" in body and "+46701234567" in body and "Plats" in body
        assert bot.store.outbox_counts() == {"sent": 1}
        assert bot.store.db.execute("SELECT payload FROM outbox").fetchone()[0] == "{}", (
            "the name and phone leave the outbox once sent"
        )
        # A cancellation is its own change: mailed once, with the same calendar event cancelled.
        bot.send("/mybookings")
        bot.press_data(next(c.data for c in bot.choices if c.data.startswith("cancel")))
        bot.press_data(next(c.data for c in bot.choices if "yes" in c.data or c.data.startswith("cancelbooking")))
        await wait_for(lambda: len(server.inbox.messages) >= 2)
        cancel = server.inbox.messages[1]
        assert cancel["Subject"].startswith("Avbokning")
        cancel_ics = next(p for p in cancel.walk() if p.get_filename() == "meeting.ics").get_payload(decode=True)
        assert b"METHOD:CANCEL" in cancel_ics and b"STATUS:CANCELLED" in cancel_ics
        assert slot
    finally:
        await runtime.stop()
        server.stop()
        bot.close()


def _personal_rows(bot: TestBot, *secrets: str) -> list[str]:
    """The outbox rows (whole, payload included) that still hold one of `secrets`."""
    rows = [" ".join(str(v) for v in row) for row in bot.store.query("SELECT * FROM outbox")]
    return [row for row in rows if any(secret in row for secret in secrets)]


async def test_delete_while_the_mail_server_is_down_leaves_no_name_or_phone_and_mails_none(
    tmp_path: Path, knowledge: Knowledge, clock: Clock, mail_port: int
) -> None:
    """F12: a booking the developer never heard of needs no cancellation; one they heard of is cancelled without
    the erased person's name or phone, in the outbox too."""
    bot = web_bot(knowledge, tmp_path / "state", clock)
    # The next attempt an hour after a failed one: at /delete the notice waits (not in flight, which counts as told).
    runtime = Runtime(bot.engine, config_for(tmp_path / "state"), {"email": EmailTransport(settings_for(mail_port))},
                      retry_base=3600, watch=False)  # fmt: skip
    server = MailServer(mail_port)
    await runtime.start()
    try:
        bot.onboard(conversation="web:down")
        await asyncio.to_thread(bot.book_first_slot, "Smtpdowna", "070-737 46 55", "web:down")
        await wait_for(lambda: bot.store.query("SELECT status, attempts FROM outbox") == [("pending", 1)])
        await asyncio.to_thread(bot.send, "/delete", "web:down")
        await asyncio.to_thread(bot.press, "Ja, radera allt", "web:down")
        assert _personal_rows(bot, "Smtpdowna", "707374655") == [], "the notices unsent at /delete are gone"
        server.start()  # the mail server is back: nothing of the erased person may reach the developer
        # A booking the developer does hear of, then erased while the mail server is up.
        bot.onboard(conversation="web:up")
        await asyncio.to_thread(bot.book_first_slot, "Smtpupb", "070-747 56 65", "web:up")
        await wait_for(lambda: any(m["Subject"].startswith("Ny bokning") for m in server.inbox.messages))
        await wait_for(lambda: not {"pending", "sending"} & set(bot.store.outbox_counts()))
        booking_id = next(iter(bot.store.bookings_of("web:up", NOW_FAR_BACK)), None)
        assert booking_id is not None
        await asyncio.to_thread(bot.send, "/delete", "web:up")
        await asyncio.to_thread(bot.press, "Ja, radera allt", "web:up")
        assert _personal_rows(bot, "Smtpupb", "707475665") == [], "the cancellation in the outbox is anonymous"
        await wait_for(lambda: any(m["Subject"].startswith("Avbokning") for m in server.inbox.messages))
        await wait_for(lambda: not {"pending", "sending"} & set(bot.store.outbox_counts()))
        mails = server.inbox.messages
        assert [m["Subject"].split(":")[0] for m in mails] == ["Ny bokning", "Avbokning"], "nothing of web:down"
        raw = [m.as_string() for m in mails]
        assert not any(s in text for text in raw for s in ("Smtpdowna", "707374655", "737 46 55"))
        cancel = next(p for p in mails[1].walk() if p.get_content_type() == "text/plain").get_content()
        assert booking_id.id in cancel and "raderat" in cancel
        assert not any(s in cancel for s in ("Smtpupb", "707475665", "747 56 65"))
        cancel_ics = next(p for p in mails[1].walk() if p.get_filename() == "meeting.ics").get_payload(decode=True)
        assert b"METHOD:CANCEL" in cancel_ics and b"Smtpupb" not in cancel_ics
    finally:
        await runtime.stop()
        server.stop()
        bot.close()


KILL_AFTER_COMMIT = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from bot.config import Config
    from bot.knowledge import Knowledge
    from bot.runtime import Runtime
    from tests.conftest import shared_cache
    from tests.transcript import Clock, TestBot
    state = Path(sys.argv[1])
    bot = TestBot(Knowledge.load("content", cache_dir=shared_cache()), state, Clock(), conversation="web:killed")
    Runtime(bot.engine, Config(state_dir=state, notify_emails={"sundsvall": "utvecklare@example.se"}),
            {"email": object()}, watch=False)  # e-mail configured, but never delivered: killed first
    bot.onboard()
    bot.book_first_slot("Bo", "070-765 43 21")
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


async def test_a_kill_right_after_the_commit_loses_nothing_the_restart_sends_it(
    tmp_path: Path, knowledge: Knowledge, clock: Clock, mail_port: int
) -> None:
    state = tmp_path / "state"
    killed = subprocess.run([sys.executable, "-c", KILL_AFTER_COMMIT, str(state)], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    server = MailServer(mail_port)
    server.start()
    bot = web_bot(knowledge, state, clock)
    runtime = Runtime(bot.engine, config_for(state), {"email": EmailTransport(settings_for(mail_port))}, watch=False)
    await runtime.start()
    try:
        await wait_for(lambda: len(server.inbox.messages) >= 1)
        await asyncio.sleep(0.3)
        assert len(server.inbox.messages) == 1 and "Bo" in server.inbox.messages[0].as_string()
    finally:
        await runtime.stop()
        server.stop()
        bot.close()


async def test_two_processes_delivering_together_send_each_change_once(
    tmp_path: Path, knowledge: Knowledge, clock: Clock, mail_port: int
) -> None:
    server = MailServer(mail_port)
    server.start()
    state = tmp_path / "state"
    bots = [web_bot(knowledge, state, clock, conversation=f"web:{i}") for i in range(2)]
    runtimes = [Runtime(b.engine, config_for(state), {"email": EmailTransport(settings_for(mail_port))},
                        watch=False) for b in bots]  # fmt: skip
    for runtime in runtimes:
        await runtime.start()
    try:
        for name, bot in zip(("Anna", "Bertil"), bots, strict=True):
            bot.onboard()
            await asyncio.to_thread(bot.book_first_slot, name, "070-123 45 67")
        await wait_for(lambda: len(server.inbox.messages) >= 2)
        await asyncio.sleep(0.5)
        bodies = [m.get_body(("plain",)).get_content() for m in server.inbox.messages]
        assert len(bodies) == 2 and sorted(b.count("Namn: Anna") + 2 * b.count("Namn: Bertil") for b in bodies) == [1, 2]
        # Enqueuing the same change again is a no-op.
        again = OutboxItem("booked:x:y:z:email:a", "notification", "email", DEVELOPER_MAIL, {"subject": "s"})
        assert bots[0].store.enqueue([again], clock()) == 1
        assert bots[0].store.enqueue([again], clock()) == 0
    finally:
        for runtime in runtimes:
            await runtime.stop()
        server.stop()
        for bot in bots:
            bot.close()


async def test_a_reminder_cut_short_by_a_kill_mid_send_is_not_sent_twice(tmp_path: Path, mail_port: int) -> None:
    """A process claimed a reminder and a notification and died mid-send: after its claim runs out, the
    notification is sent (nothing lost) and the reminder is closed, never sent a second time."""
    server = MailServer(mail_port)
    server.start()
    store = open_store(tmp_path / "state")
    now = datetime.now(UTC)
    store.enqueue([OutboxItem("reminder:b1:s:2h", "reminder", "email", "person@example.se",
                              {"subject": "Påminnelse", "body": "b"}, "web:1", at_most_once=True),
                   OutboxItem("booked:b1:s:t:email", "notification", "email", DEVELOPER_MAIL,
                              {"subject": "Ny bokning", "body": "b"})], now)  # fmt: skip
    dead = store.claim_outbox(["email"], now, timedelta(minutes=2))
    assert len(dead) == 2, "claimed by the process that then died"
    from bot.notify.delivery import Delivery

    later = Delivery(store, {"email": EmailTransport(settings_for(mail_port))},
                     clock=lambda: datetime.now(UTC) + timedelta(minutes=3))  # fmt: skip
    assert await Delivery(store, {"email": EmailTransport(settings_for(mail_port))}).deliver_due() == 0, (
        "a live claim is left alone"
    )
    assert await later.deliver_due() == 1
    subjects = [m["Subject"] for m in server.inbox.messages]
    assert subjects == ["Ny bokning"]
    assert store.outbox_counts() == {"sent": 1, "dropped": 1}
    store.close()
    server.stop()


def test_no_smtp_host_means_no_mail_rows(tmp_path: Path, knowledge: Knowledge, clock: Clock) -> None:
    bot = web_bot(knowledge, tmp_path / "state", clock)
    Runtime(bot.engine, config_for(tmp_path / "state"), {}, watch=False)
    bot.onboard()
    bot.book_first_slot("Anna", "070-123 45 67")
    assert bot.store.outbox_counts() == {}, "nothing queued for a transport this bot does not have"
    bot.close()
    assert os.path.exists(tmp_path / "state")


# --- Telegram: the developer's chat unreachable, a person who blocked the bot ------------------------


async def test_the_developers_chat_unreachable_for_a_while_gets_the_notice_once(
    tmp_path: Path, clock: Clock
) -> None:
    from tests.test_telegram import DEVELOPER, live_bot, onboard

    async with live_bot(tmp_path, clock) as live:
        assert live.channel.runtime is not None
        live.channel.runtime.delivery.retry_base = 0.05
        live.api.block(DEVELOPER)  # Telegram refuses the developer's chat for a while
        await onboard(live)
        await live.say("/book")
        slot = next(d for d in live.buttons() if d.startswith("slot:"))
        for step in (slot, "skip", "reach:chat", "confirm"):
            await live.press(step)
        store = live.engine.store
        await wait_for(lambda: (store.db.execute("SELECT MAX(attempts) FROM outbox").fetchone()[0] or 0) >= 3)
        assert live.api.messages_to(DEVELOPER) == []
        live.api.unblock(DEVELOPER)
        await live.api.wait_for_messages(DEVELOPER, 1, timeout=15)
        await asyncio.sleep(0.5)
        assert len(live.api.messages_to(DEVELOPER)) == 1, "once, however many attempts it took"


async def test_a_reminder_to_a_person_who_blocked_the_bot_stops_after_the_first_403(
    tmp_path: Path, clock: Clock
) -> None:
    from bot.booking.slots import parse_slot_key
    from tests.test_telegram import USER, live_bot, onboard

    async with live_bot(tmp_path, clock) as live:
        await onboard(live)
        await live.say("/book")
        slot = next(d for d in live.buttons() if d.startswith("slot:"))
        for step in (slot, "skip", "reach:chat", "confirm"):
            await live.press(step)
        live.api.block(USER)
        attempts_before = len([c for c in live.api.calls_of("sendMessage") if c.get("chat_id") in (USER, str(USER))])
        start = parse_slot_key(slot.removeprefix("slot:"))
        clock.now = start - timedelta(hours=23)
        store = live.engine.store
        await wait_for(lambda: store.outbox_counts().get("dropped", 0) >= 1)
        clock.now = start - timedelta(minutes=90)  # the 2 h reminder would be due now
        await asyncio.sleep(0.6)
        attempts = [c for c in live.api.calls_of("sendMessage") if c.get("chat_id") in (USER, str(USER))]
        assert len(attempts) - attempts_before == 1, "one refused reminder, then none"
