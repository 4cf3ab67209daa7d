"""Issue 11 through the real python-telegram-bot stack against the local Bot API server: nobody can stall everybody,
the process behaves as its supervisor expects, groups cannot share or drain a calendar."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from bot.channels.ratelimit import IncomingLimit
from bot.channels.telegram import SLOW_DOWN
from tests.fake_botapi import FakeBotAPI
from tests.test_telegram import USER, live_bot, onboard
from tests.transcript import Clock

FLOODER = 5555
QUIET = [10_000 + i for i in range(40)]


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.99) - 1)]


async def quiet_chats_talk(
    api: FakeBotAPI, flood: Callable[[int], object], seconds: float = 6.0
) -> list[float]:
    """Each quiet chat writes once every two seconds (20 messages a second in all, inside Telegram's 30), spread
    evenly, while `flood` is called 20 times a second. Returns each quiet message's time to its first reply."""
    latencies: list[float] = []
    pending: dict[int, float] = {}
    seen = len(api.sent)
    loop_start = time.monotonic()
    step = 2.0 / len(QUIET)
    tick = 0
    while time.monotonic() < loop_start + seconds + 10:
        now = time.monotonic()
        sending = now < loop_start + seconds
        while sending and tick * step <= now - loop_start:
            chat = QUIET[tick % len(QUIET)]
            if chat not in pending:
                api.push_text(chat, "vad är lönebidrag")
                pending[chat] = time.monotonic()
            flood(tick)
            tick += 1
        for record in api.sent[seen:]:
            if record.chat_id in pending:
                latencies.append(record.time - pending.pop(record.chat_id))
        seen = len(api.sent)
        if not sending and not pending:
            break
        await asyncio.sleep(0.005)
    assert not pending, f"{len(pending)} quiet chats got no answer within 10 s"
    return latencies


async def test_one_flooding_chat_does_not_stall_forty_quiet_ones(tmp_path: Path, clock: Clock) -> None:
    """One chat sends hundreds of messages and gets a 30 s flood-wait; 40 quiet chats keep a p99 under 1 s."""
    async with live_bot(tmp_path, clock, incoming=IncomingLimit()) as live:
        api = live.api
        api.fail_next(
            "sendMessage", 429, retry_after=30, chat_id=FLOODER
        )  # Telegram's flood-wait, for that chat
        for i in range(150):
            api.push_text(FLOODER, f"spam {i}")
        await api.wait_for_sent(
            lambda r: r.chat_id == FLOODER, timeout=10
        )  # (the slow-down notice, after the 429)
        latencies = await quiet_chats_talk(
            api, flood=lambda i: [api.push_text(FLOODER, f"spam {i}.{j}") for j in range(5)]
        )
        assert p99(latencies) < 1.0, f"quiet chats' p99 {p99(latencies):.2f} s while one chat floods"


async def test_the_excess_of_a_flood_is_answered_once_kindly_then_dropped(
    tmp_path: Path, clock: Clock
) -> None:
    async with live_bot(tmp_path, clock, incoming=IncomingLimit()) as live:
        for i in range(100):
            live.api.push_text(FLOODER, f"spam {i}")
        await live.quiet()
        to_flooder = live.api.messages_to(FLOODER)
        assert sum(r.text == SLOW_DOWN for r in to_flooder) == 1, "the flooding chat is told once, kindly"
        assert len(to_flooder) <= 15, (
            f"{len(to_flooder)} replies to 100 flooding messages: the excess is dropped"
        )


async def test_a_person_typing_fast_gets_every_answer(tmp_path: Path, clock: Clock) -> None:
    async with live_bot(tmp_path, clock, incoming=IncomingLimit()) as live:
        await onboard(live)
        before = len(live.api.messages_to(USER))
        for text in ("hej", "vad är lönebidrag", "och arbetsträning?", "tack"):
            live.api.push_text(USER, text)
        await live.quiet()
        sent = live.api.messages_to(USER)[before:]
        assert len(sent) >= 4 and all(r.text != SLOW_DOWN for r in sent)
