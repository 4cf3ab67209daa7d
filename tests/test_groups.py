"""Group chats: members share one conversation, so nothing personal happens there (booking, one's bookings,
cancelling, moving, deleting), by command, button or free text. The dialog refuses it kindly and offers a
private chat; questions are still answered. Read as transcripts, then through the real PTB stack."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from bot.dialog.model import OPEN_PRIVATE_CHAT, TELEGRAM
from bot.engine import Notification
from bot.knowledge import Knowledge
from bot.notify.messages import notification_items
from bot.storage import Booking
from tests.test_telegram import USER, live_bot, onboard
from tests.transcript import Clock, TestBot

GROUP = replace(TELEGRAM, private_chat=False)


@pytest.fixture
def group(knowledge: Knowledge, tmp_path: Path, clock: Clock) -> Iterator[TestBot]:
    bot = TestBot(knowledge, tmp_path / "state", clock, conversation="telegram:-100123", capabilities=GROUP)
    yield bot
    bot.close()


def refused(bot: TestBot, knowledge: Knowledge, lang: str = "sv") -> bool:
    """The last replies say 'in a private chat' with its button, and offer nothing personal."""
    said = knowledge.content.text("in_private", lang)
    datas = [c.data for c in bot.choices]
    personal = [d for d in datas if d.split(":")[0] in ("book", "slot", "confirm", "reach", "mybookings",
                                                         "cancelbooking", "move", "delete")]  # fmt: skip
    return said in bot.text and OPEN_PRIVATE_CHAT in datas and not personal


def test_in_a_group_booking_and_everything_personal_is_refused_kindly(group: TestBot, knowledge: Knowledge) -> None:
    group.onboard("sv", "sundsvall")
    for command in ("/book", "/boka", "/mybookings", "/delete"):
        group.send(command)
        assert refused(group, knowledge), (command, group.text)
    for text in ("boka ett möte", "jag vill boka en tid", "torsdag kl 13", "mina bokningar", "radera mina uppgifter"):
        group.send(text)
        assert refused(group, knowledge), (text, group.text)
    for data in ("book", "mybookings", "slot:20261126T1200Z", "confirm", "reach:chat", "cancelbooking:b0",
                 "move:b0", "delete:yes", "topic:book-meeting", "topic:cancel-booking"):  # fmt: skip
        group.press_data(data)
        assert refused(group, knowledge), (data, group.text)
    assert group.store.upcoming(group.clock()) == []
    state = group.store.load_state(group.conversation)
    assert state is not None and state.flow == "idle"


def test_in_a_group_questions_are_answered_and_personal_buttons_become_the_private_chat(
    group: TestBot, knowledge: Knowledge
) -> None:
    group.onboard("en", "vastervik")
    group.send("what is wage subsidy")
    assert "wage" in group.text.lower()
    group.send("xqzzy blorp frobnicate")  # the fallback offers a booking elsewhere: here, the private chat
    datas = [c.data for c in group.choices]
    assert OPEN_PRIVATE_CHAT in datas and "book" not in datas
    group.send("/book")
    assert knowledge.content.text("in_private", "en") in group.text


def test_in_a_group_a_first_command_is_refused_before_any_language_is_chosen(group: TestBot) -> None:
    group.send("/book")
    assert OPEN_PRIVATE_CHAT in [c.data for c in group.choices]


@pytest.mark.parametrize("lang", ["ar", "fa", "so", "ti", "uk", "sv-x-easy"])
def test_the_refusal_is_in_the_chats_language(group: TestBot, knowledge: Knowledge, lang: str) -> None:
    group.onboard(lang, "sundsvall")
    group.send("/book")
    assert refused(group, knowledge, lang)
    assert knowledge.content.text_lang("in_private", lang) == lang
    assert knowledge.content.text_lang("button_private", lang) == lang


def test_a_private_chat_still_books(testbot: TestBot) -> None:
    testbot.onboard()
    testbot.book_first_slot()
    assert len(testbot.store.upcoming(testbot.clock())) == 1
    assert OPEN_PRIVATE_CHAT not in [c.data for c in testbot.choices]


def test_staff_are_never_sent_a_group_id_as_the_way_to_reach_a_person(knowledge: Knowledge) -> None:
    now = datetime(2026, 11, 23, 9, 0)
    for conversation, linked in (("telegram:-100123", False), ("telegram:4242", True)):
        booking = Booking("b1", conversation, "sundsvall", "20261126T1200Z", None, None, "sv", "booked")
        items = notification_items(Notification("booked", booking), knowledge.content, now,
                                   chats={"sundsvall": 555}, emails={}, mail=False)  # fmt: skip
        text = str(items[0].payload["text"])
        assert ("tg://user" in text) is linked, text
        assert "-100123" not in text


# --- through python-telegram-bot against the local Bot API server ------------------------------------------------

GROUP_CHAT = -100_777


async def test_a_telegram_group_refuses_through_the_dialog_with_a_link_to_the_private_chat(
    tmp_path: Path, clock: Clock
) -> None:
    async with live_bot(tmp_path, clock) as live:
        api = live.api
        in_private = live.engine.knowledge.content.text("in_private", "sv")
        for command in ("book", "mybookings", "delete"):
            api.push_command(GROUP_CHAT, command, chat_type="group", user_id=1001)
        api.push_mention(GROUP_CHAT, "boka ett möte", chat_type="group", user_id=1002)
        api.push_mention(GROUP_CHAT, "torsdag kl 13", chat_type="group", user_id=1002)
        await live.quiet()
        api.push_callback(GROUP_CHAT, api.messages_to(GROUP_CHAT)[0].message_id, "book", user_id=1003)
        await live.quiet()
        sent = api.messages_to(GROUP_CHAT)
        assert len(sent) == 6 and all(in_private in (r.text or "") for r in sent), [r.text for r in sent]
        username = (await live.channel.application.bot.get_me()).username
        buttons = [b for r in sent for row in (r.reply_markup or {}).get("inline_keyboard", []) for b in row]
        assert buttons and all(b.get("url") == f"https://t.me/{username}" for b in buttons), buttons
        assert live.engine.store.upcoming(clock()) == []
        api.push_mention(GROUP_CHAT, "vad är lönebidrag", chat_type="group", user_id=1003)
        await live.quiet()
        assert "lönebidrag" in (api.messages_to(GROUP_CHAT)[-1].text or "").lower()
        # The same person in a private chat books as always, and is offered to be reached in the chat.
        await onboard(live, USER)
        await live.say("/book", USER)
        assert any(d.startswith("slot:") for d in live.buttons(USER))
