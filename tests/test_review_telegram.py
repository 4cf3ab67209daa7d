"""/review in an admin's Telegram chat: the same review as the command line, one group at a time, with buttons,
through the real python-telegram-bot against the local Bot API server."""

from __future__ import annotations

import html
from datetime import timedelta
from pathlib import Path

from tests.test_review import CARPENTER
from tests.test_telegram import ADMIN, USER, live_bot, onboard, text_of
from tests.transcript import Clock


async def test_an_admin_reviews_with_buttons_and_a_person_cannot(tmp_path: Path, clock: Clock) -> None:
    async with live_bot(tmp_path, clock) as live:
        store = live.engine.store
        store.record_unanswered(now=clock(), region="sundsvall", lang="sv", text=CARPENTER)
        clock.advance(hours=1)
        await onboard(live)
        await live.say("vad blir det för väder imorgon")  # the bot does not know: kept for review, newest
        topic_file = live.content_dir / "topics" / "work-training.yaml"
        before = topic_file.read_bytes()

        forged = await live.press(
            "rv:d:1", chat=USER
        )  # a person's forged admin button is just a closed choice
        assert "inte öppet längre" in text_of(forged) and len(store.unanswered_questions()) == 2

        card = text_of(await live.say("/review", chat=ADMIN))
        assert "Fråga 1 av 2" in card and "vad blir det för väder imorgon" in card
        weather = next(d for d in live.buttons(ADMIN) if d.startswith("rv:d:"))
        card = text_of(await live.press(weather, chat=ADMIN))
        assert "Borttagen" in card and "Fråga 1 av 1" in card and html.escape(CARPENTER) in card
        assert "(q1)" in card, "the card shows the group's id, as `review --list` does"
        assign = next(d for d in live.buttons(ADMIN) if d.startswith("rv:a:1.") and d.endswith(":work-training"))

        live.api.push_callback(ADMIN, live.api.messages_to(ADMIN)[-1].message_id, assign)
        done = await live.api.wait_for_sent(lambda r: r.chat_id == ADMIN and "Klart" in (r.text or ""),
                                            timeout=timedelta(minutes=3).total_seconds())  # fmt: skip
        assert "'work-training'" in html.unescape(done.text or "") and "Inga obesvarade frågor" in (
            done.text or ""
        )
        after = topic_file.read_bytes().decode().splitlines(keepends=True)
        assert [line for line in after if line not in before.decode().splitlines(keepends=True)] == [
            f"    - {CARPENTER}\n"
        ]
        assert store.unanswered_questions() == []
