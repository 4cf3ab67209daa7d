""""Did this help?": 👍 / 👎 under an answer, one tap, never required; a 👎 puts the question (scrubbed) on staff's
review list and offers other topics, the contact and a booking; both are counted per topic, anonymously."""

from __future__ import annotations

import json
import subprocess
import sys

from bot.knowledge import Knowledge
from bot.stats import build_report
from tests.conftest import CONTENT, ROOT
from tests.test_stats import unsuppressed
from tests.transcript import TestBot

QUESTION = "får man betalt på praktik? jag heter Anna, ring 070-123 45 67"
HELPED, NOT_HELPED = "👍 Det hjälpte", "👎 Hjälpte inte"


def review_list(testbot: TestBot, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "bot", "--content", str(CONTENT), "--state", str(testbot.state_dir),
                             "review", "--list", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_thumbs_down_puts_the_question_on_the_review_list(testbot: TestBot, knowledge: Knowledge) -> None:
    testbot.onboard("sv", "sundsvall")
    testbot.send(QUESTION)
    assert "praktik" in testbot.text.lower() and {HELPED, NOT_HELPED} <= set(testbot.labels)
    thumbs_down = testbot.choice(NOT_HELPED).data

    testbot.press(NOT_HELPED)

    assert "Personalen får se frågan" in testbot.text and "Magnus Riklander" in testbot.text
    labels = testbot.labels
    assert {"Kontakt", "Boka möte", "Meny"} <= set(labels)
    other_topics = [c for c in testbot.choices if c.data.startswith("topic:") and c.data != "topic:contact"]
    assert other_topics and all(c.data != "topic:work-training" for c in other_topics)
    assert review_list(testbot).splitlines() == [
        "q1\tasked 1 time\tfår man betalt på praktik? jag heter [namn], ring [telefon]"
    ]  # scrubbed, as unanswered questions are
    assert json.loads(review_list(testbot, "--json"))[0]["unhelpful"] == 1

    testbot.press_data(thumbs_down)  # one tap: the same button again changes nothing
    assert "inte öppet längre" in testbot.text
    assert len(testbot.store.unanswered_questions()) == 1
    with unsuppressed():
        report = build_report(testbot.store, None, None, {})
    assert [(r.key, r["helpful"].public, r["not_helpful"].public) for r in report.helpful] == [
        ("work-training", 0, 1)
    ]
    assert report.unanswered == ()  # the bot did answer: not one of its fallbacks


def test_thumbs_up_is_counted_and_never_required(testbot: TestBot) -> None:
    testbot.onboard("sv", "vastervik")
    testbot.send("vad är lönebidrag")
    testbot.send("vad är arbetsträning")  # the buttons can be ignored: the conversation just goes on
    assert "arbetsträning" in testbot.text.lower()
    assert testbot.store.load_state(testbot.conversation).asked is not None
    testbot.press(HELPED)
    assert "Bra att svaret hjälpte" in testbot.text
    state = testbot.store.load_state(testbot.conversation)
    assert state is not None and state.asked is None  # the question is not kept once the buttons are used
    testbot.send("/menu")
    with unsuppressed():
        report = build_report(testbot.store, None, None, {})
    assert [(r.key, r["helpful"].public, r["not_helpful"].public) for r in report.helpful] == [
        ("work-training", 1, 0)
    ]
    assert testbot.store.unanswered_questions() == []


def test_no_feedback_buttons_inside_a_flow(testbot: TestBot) -> None:
    testbot.onboard("sv", "sundsvall")
    testbot.send("/book")
    testbot.send("vad är arbetsträning")  # a question in the middle of booking: answered aside, the booking kept
    assert HELPED not in testbot.labels and NOT_HELPED not in testbot.labels
