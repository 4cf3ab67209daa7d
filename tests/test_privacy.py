"""What the bot keeps: nothing that identifies a person outside the conversation state and bookings,
and after /delete nothing at all. Unanswered questions are scrubbed before they are stored."""

from __future__ import annotations

import html
import json
import re
import stat
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.dialog.model import State
from bot.knowledge import Knowledge
from bot.privacy.keys import KEY_FILE
from bot.storage import open_store
from bot.storage.base import UNLINKED_ACTIONS
from bot.storage.migrations import MIGRATIONS
from bot.storage.sqlite import DB_NAME, StoreReplaced
from tests.transcript import Clock, TestBot, all_text

PHONE = "070-123 45 67"
PERSONAL_TABLES = {"conversations", "bookings"}  # the only places a chat key or phone may be


@pytest.fixture
def testbot(any_testbot: TestBot) -> TestBot:
    """The tests here run on SQLite and on PostgreSQL: each table of each backend is read."""
    return any_testbot


@pytest.fixture
def sqlite_testbot(knowledge: Knowledge, tmp_path: Path, clock: Clock) -> Iterator[TestBot]:
    """For what only SQLite has: database files on the state directory's disk."""
    bot = TestBot(knowledge, tmp_path / "state", clock)
    yield bot
    bot.close()


def _tables(testbot: TestBot) -> list[str]:
    return testbot.store.tables()


def _count(testbot: TestBot, sql: str, params: Sequence[object] = ()) -> int:
    return testbot.store.query(sql, params)[0][0]


def _dump(testbot: TestBot, table: str) -> str:
    rows = testbot.store.query(f"SELECT * FROM {table}")
    return "\n".join(" ".join("" if v is None else str(v) for v in row) for row in rows)


def _converse(testbot: TestBot, who: str) -> None:
    testbot.onboard(conversation=who)
    testbot.send("vad är lönebidrag", who)
    testbot.send(f"jag heter Zlatan Personsson och mitt nummer är {PHONE}, vad blir vädret", who)
    testbot.send("19850709-1234 zlatan@example.se, hur deklarerar jag skatten på min bil", who)
    testbot.send("Magnus Riklander sa åt mig att fråga om fiske i älven", who)
    testbot.book_first_slot(name="Zlatan", phone=PHONE, conversation=who)


def test_every_table_is_free_of_personal_data_outside_state_and_bookings(testbot: TestBot) -> None:
    # Ten-digit ids: a short one ("1000") turns up by chance inside the events' random hex hashes.
    people = [f"telegram:{7310298840 + i}" for i in range(3)]
    for who in people:
        _converse(testbot, who)
    tables = _tables(testbot)
    assert {"events", "unanswered", "conversations", "bookings"} <= set(tables)
    digits = re.sub(r"\D", "", PHONE)
    for table in tables:
        if table in PERSONAL_TABLES:
            continue
        text = _dump(testbot, table)
        for who in people:
            assert who not in text and who.split(":")[1] not in text, f"a chat id in {table}"
        for secret in (
            "Zlatan",
            "Personsson",
            "Riklander",
            "zlatan@example.se",
            "850709",
            digits,
            "+46701234567",
        ):
            assert secret.lower() not in text.lower(), f"{secret!r} in {table}"
    unanswered = _dump(testbot, "unanswered")
    assert "[telefon]" in unanswered and "[personnummer]" in unanswered and "[e-post]" in unanswered
    assert "vädret" in unanswered, "the question itself is kept for the staff"


def test_delete_leaves_only_anonymous_counts(testbot: TestBot) -> None:
    _converse(testbot, "telegram:42")
    _converse(testbot, "telegram:43")
    events_before = _count(testbot, "SELECT count(*) FROM events")
    testbot.send("/delete", "telegram:42")
    testbot.press("Ja, radera allt", "telegram:42")
    for table in PERSONAL_TABLES:
        assert "telegram:42" not in _dump(testbot, table)
    assert "telegram:43" in _dump(testbot, "conversations"), "other people's data stays"
    events_after = _count(testbot, "SELECT count(*) FROM events")
    assert events_after == events_before + 3, (
        "the counts stay, plus the /delete command, the press and the deletion"
    )
    deleted = _count(testbot, "SELECT count(*) FROM events WHERE action = 'deleted'")
    assert deleted == 1


def test_keeping_unanswered_texts_can_be_switched_off(testbot: TestBot) -> None:
    testbot.engine.settings.keep_unanswered = False
    testbot.onboard()
    testbot.send("vad blir det för väder")
    assert _dump(testbot, "unanswered") == ""
    assert (
        _count(testbot, "SELECT count(*) FROM events WHERE action = 'fallback'") == 1
    )


def test_purge_removes_old_texts_and_finished_bookings_but_keeps_counts(testbot: TestBot) -> None:
    _converse(testbot, "telegram:7")
    testbot.clock.advance(days=120)
    counts = testbot.store.purge(testbot.clock(), retention_days=90)
    assert counts["unanswered"] >= 1 and counts["bookings"] == 1
    assert _dump(testbot, "unanswered") == "" and _dump(testbot, "bookings") == ""
    assert _count(testbot, "SELECT count(*) FROM events") > 0


def test_monthly_hash_keys_unlink_months(testbot: TestBot) -> None:
    now = testbot.clock()
    november = testbot.store.conversation_hash("telegram:5", now)
    assert november == testbot.store.conversation_hash("telegram:5", now + timedelta(days=1))
    december = testbot.store.conversation_hash("telegram:5", now + timedelta(days=40))
    assert november != december
    key_file = testbot.state_dir / KEY_FILE
    assert json.loads(key_file.read_text())["month"] == (now + timedelta(days=40)).strftime("%Y-%m")
    testbot.store.purge(now + timedelta(days=40), retention_days=90)
    assert testbot.store.conversation_hash("telegram:5", now + timedelta(days=41)) == december


def test_the_hashing_key_lives_outside_the_database_in_a_private_file(testbot: TestBot) -> None:
    _converse(testbot, "telegram:42")
    key_file = testbot.state_dir / KEY_FILE
    key = bytes.fromhex(json.loads(key_file.read_text())["key"])
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    testbot.store.scrub_disk()
    on_disk = b"".join(p.read_bytes() for p in testbot.state_dir.glob(f"{DB_NAME}*"))
    assert key not in on_disk and key.hex().encode() not in on_disk
    assert "hash_keys" not in _tables(testbot)


def test_no_key_is_kept_beyond_its_month(testbot: TestBot) -> None:
    """The daily purge replaces last month's key even when nobody has written since."""
    testbot.onboard()
    key_file = testbot.state_dir / KEY_FILE
    old_key = json.loads(key_file.read_text())["key"]
    next_month = testbot.clock() + timedelta(days=31)
    testbot.store.purge(next_month, retention_days=90)
    stored = json.loads(key_file.read_text())
    assert stored["month"] == next_month.strftime("%Y-%m") and stored["key"] != old_key
    assert old_key not in "".join(p.read_text() for p in testbot.state_dir.iterdir() if p.is_file()
                                  and not p.name.startswith(DB_NAME))  # fmt: skip


def test_after_delete_no_event_can_be_linked_to_the_chat(testbot: TestBot) -> None:
    _converse(testbot, "telegram:42")
    _converse(testbot, "telegram:43")
    now = testbot.clock()

    def linked(who: str) -> int:
        digest = testbot.store.conversation_hash(who, now)
        return _count(testbot, "SELECT count(*) FROM events WHERE conversation = ?", [digest])

    assert linked("telegram:42") > 10
    # the events of a conversation; bookings, crisis answers and the deletion itself carry a hash of their own
    distinct = f"SELECT count(DISTINCT conversation) FROM events WHERE action NOT IN {tuple(sorted(UNLINKED_ACTIONS))}"
    conversations = _count(testbot, distinct)
    testbot.send("/delete", "telegram:42")
    testbot.press("Ja, radera allt", "telegram:42")
    assert linked("telegram:42") == 0, "the deleted chat's events still carry its hash"
    assert linked("telegram:43") > 10, "other chats keep theirs"
    after = _count(testbot, distinct)
    assert conversations == 2 and after == conversations, "the deleted chat still counts as one conversation"


def test_nothing_of_a_deleted_chat_is_left_in_the_database_files(sqlite_testbot: TestBot) -> None:
    testbot = sqlite_testbot
    testbot.onboard(conversation="telegram:42")
    testbot.book_first_slot(name="Zlatanbritt", phone=PHONE, conversation="telegram:42")
    files = list(testbot.state_dir.glob(f"{DB_NAME}*"))
    assert b"Zlatanbritt" in b"".join(p.read_bytes() for p in files)
    testbot.send("/delete", "telegram:42")
    testbot.press("Ja, radera allt", "telegram:42")
    # read the files as they are on disk right after the command returned, WAL included
    raw = b"".join(p.read_bytes() for p in testbot.state_dir.glob(f"{DB_NAME}*"))
    for secret in ("Zlatanbritt", "701234567", "123 45 67"):
        assert secret.encode() not in raw, f"{secret!r} is still on disk"


def test_state_directory_and_database_are_private(tmp_path: Path) -> None:
    state = tmp_path / "state"
    store = open_store(state)
    store.save_state("telegram:1", State(), datetime.now(UTC))
    try:
        assert stat.S_IMODE(state.stat().st_mode) == 0o700
        for path in state.glob(f"{DB_NAME}*"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    finally:
        store.close()
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    (loose / DB_NAME).touch(mode=0o644)
    open_store(loose).close()
    assert stat.S_IMODE(loose.stat().st_mode) == 0o700
    assert stat.S_IMODE((loose / DB_NAME).stat().st_mode) == 0o600


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_database_deleted_or_replaced_under_the_bot_is_refused(sqlite_testbot: TestBot, how: str) -> None:
    testbot = sqlite_testbot
    testbot.onboard()
    path = testbot.state_dir / DB_NAME
    path.unlink()
    if how == "replaced":
        open_store(testbot.state_dir).close()  # a fresh, empty database at the same path
    with pytest.raises(StoreReplaced):
        testbot.store.save_state("test:1", State(), testbot.clock())
    replies = testbot.send("vad är lönebidrag")
    assert "försök igen" in all_text(replies).lower() or "try again" in all_text(replies).lower()


def test_schema_is_versioned(testbot: TestBot) -> None:
    assert testbot.store.version == len(MIGRATIONS)


async def test_after_delete_on_telegram_nothing_of_the_person_is_left_in_any_file(tmp_path: Path, clock: Clock) -> None:
    """Outside tester: after /delete on Telegram the staff cancellation notice ("Namn: … Kontakt: +46…") stayed in the
    database's bytes, the person's unanswered question kept their first name, and a sent row kept the chat id. Now the
    notice still reaches the developer, without name or phone, and then nothing of the person is in any file of the state directory."""
    from tests.test_outbox import wait_for
    from tests.test_telegram import DEVELOPER, USER, live_bot, onboard

    name, secrets = "Qwertyna", ("Qwertyna", "5554433", "555 44 33", "555-44-33")
    async with live_bot(tmp_path, clock) as live:
        await onboard(live)
        await live.say("/book")
        await live.press(next(d for d in live.buttons() if d.startswith("slot:")))
        await live.say(name)
        await live.press("reach:phone")
        await live.say("070-555 44 33")
        await live.press("confirm")
        await live.api.wait_for_messages(DEVELOPER, 1, timeout=15)
        await live.say(f"{name} frågar om glasblåsning i Gamleby")
        await live.say("/delete")
        await live.press("delete:yes")
        notices = await live.api.wait_for_messages(DEVELOPER, 2, timeout=15)
        cancelled = html.unescape(notices[-1].text or "")
        assert cancelled.startswith("Avbokning") and "raderat" in cancelled, "the developer hears of the cancellation"
        assert not any(s in cancelled for s in secrets), "but not who (attacker F12): they had the name already"
        store = live.engine.store
        state = tmp_path / "state"

        def on_disk() -> bytes:
            return b"".join(p.read_bytes() for p in state.glob(f"{DB_NAME}*"))

        await wait_for(lambda: not any(s.encode() in on_disk() for s in secrets))
        assert store.query("SELECT COUNT(*) FROM unanswered") == [(1,)], "the question itself is kept, scrubbed"
        assert name not in str(store.query("SELECT text FROM unanswered"))
        mine = "SELECT COUNT(*) FROM outbox WHERE recipient = ? OR conversation = ?"
        assert store.query(mine, [str(USER), f"telegram:{USER}"]) == [(0,)], store.query("SELECT * FROM outbox")
