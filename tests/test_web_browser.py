"""The web chat in a real browser (Playwright driving Debian's chromium): a question answered and a meeting
booked with the keyboard only, on the page and in the widget embedded in a page of another origin; axe-core
on the page and the open widget in Swedish, English and Arabic (right to left); 320 px width. Screenshots go to tests/out/."""

from __future__ import annotations

import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.channels.web import load_labels
from tests.conftest import ROOT
from tests.webserver import WebServer, free_port

OUT = ROOT / "tests" / "out"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = Path(os.environ.get("SOCIALBOT_AXE_JS") or ROOT / ".ci" / "node" / "node_modules" / "axe-core" / "axe.min.js")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip
LABELS = load_labels()
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - CI installs it (.ci/run)
    sync_playwright = None  # type: ignore[assignment]

missing = [what for what, ok in (("playwright", sync_playwright is not None), ("chromium", Path(CHROMIUM).exists()),
                                 ("axe-core", AXE.exists())) if not ok]  # fmt: skip
if missing and os.environ.get("CI"):
    raise RuntimeError(f"CI must install {', '.join(missing)} (see .ci/run)")
pytestmark = pytest.mark.skipif(bool(missing), reason=f"not installed: {', '.join(missing)}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    with WebServer(tmp_path_factory.mktemp("browser") / "state") as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def municipality(server: WebServer) -> Iterator[str]:
    """A municipality's own page on another origin (another port), with the one tag."""

    def page_for(lang: str) -> bytes:
        return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Kommunen</title></head>'
                f'<body><main><h1>Arbete och stöd</h1><p>Kommunens egen sida.</p></main>'
                f'<script src="{server.base}/widget.js" data-region="sundsvall" data-lang="{lang}" defer></script>'
                f'</body></html>').encode()  # fmt: skip

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the name http.server calls
            body = page_for(self.path.strip("/") or "sv")  # /sv, /en, /ar: the page's and the widget's language
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    port = free_port()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    httpd.shutdown()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # bypass_csp only so that the test can inject axe-core; the chat itself runs under its own CSP.
    context = browser.new_context(viewport={"width": 800, "height": 900}, bypass_csp=True)
    context.set_default_timeout(60_000)  # a loaded CI machine: waits end on their condition, not on the clock
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    yield tab
    context.close()
    assert not errors, errors


def active(page: Page) -> dict[str, str]:
    """The focused element, looking into the widget's shadow root."""
    return page.evaluate("""() => {
        let node = document.activeElement;
        while (node && node.shadowRoot && node.shadowRoot.activeElement) node = node.shadowRoot.activeElement;
        return {tag: node.tagName, cls: node.className || '', text: (node.textContent || '').trim(),
                button: node.getAttribute('data-button') || '', expanded: node.getAttribute('aria-expanded') || ''};
    }""")  # fmt: skip


def tab_to(page: Page, wanted: Any, *, backwards: bool = False, limit: int = 80) -> dict[str, str]:
    """Press Tab (or Shift+Tab) until the focused element is the one wanted: the keyboard only."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        now = active(page)
        if wanted(now):
            return now
    raise AssertionError(f"could not reach the element with Tab; last focus {active(page)}")


def wait_for_reply(page: Page, words: str, timeout: float = 60_000) -> None:
    """Wait until the chat has answered, then find the words in what it said since the person last wrote.

    Waiting for any bot message with the words raced on a slow machine: the menu's button "Starta ett
    socialt företag" matched before the answer came, and the next line was typed while a request was pending.
    """
    page.locator("[aria-busy='true']").wait_for(state="detached", timeout=timeout)
    messages = page.locator(".sb-msg")
    classes = [messages.nth(i).get_attribute("class") or "" for i in range(messages.count())]
    last_user = max((i for i, cls in enumerate(classes) if "sb-msg-user" in cls), default=-1)
    said = [messages.nth(i).inner_text() for i in range(last_user + 1, len(classes)) if "sb-msg-bot" in classes[i]]
    assert any(words.lower() in text.lower() for text in said), f"no reply with {words!r}: {said}"


def converse_and_book(page: Page, question: str, answer_words: str) -> None:
    """Type a question, read the answer, then book a meeting, all with the keyboard."""
    assert "sb-input" in active(page)["cls"], "the input has the focus"
    page.keyboard.type(question)
    page.keyboard.press("Enter")
    wait_for_reply(page, answer_words)
    page.keyboard.type("boka möte")
    page.keyboard.press("Enter")
    page.locator("button[data-button^='slot:']").first.wait_for(timeout=60_000)
    slot = tab_to(page, lambda f: f["button"].startswith("slot:"), backwards=True)
    page.keyboard.press("Enter")
    wait_for_reply(page, "förnamn")
    tab_to(page, lambda f: "sb-input" in f["cls"])
    page.keyboard.type("Anna")
    page.keyboard.press("Enter")
    wait_for_reply(page, "Skriv ditt telefonnummer")  # not the booking intro, which names the number too
    page.keyboard.type("070-123 45 67")
    page.keyboard.press("Enter")
    page.locator("button[data-button='confirm']").last.wait_for(timeout=60_000)
    tab_to(page, lambda f: f["button"] == "confirm", backwards=True)
    page.keyboard.press("Enter")
    page.locator("a.sb-file").last.wait_for(timeout=60_000)
    assert page.locator("a.sb-file").last.get_attribute("download") == "meeting.ics"
    assert slot["button"]


def axe(page: Page, include: str | None = None) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async ([include, tags]) => {
        const context = include ? {include: [[include]]} : document;
        const found = await axe.run(context, {runOnly: {type: 'tag', values: tags}});
        return found.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.html).slice(0, 3)}));
    }""", [include, AXE_TAGS])  # fmt: skip
    return list(result)


def test_the_page_with_the_keyboard_only(page: Page, server: WebServer) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.goto(server.base + "/?region=sundsvall&lang=sv")
    wait_for_reply(page, "Vad vill du veta")
    assert page.evaluate("document.documentElement.lang") == "sv"
    log = page.locator("[role=log]")
    assert log.get_attribute("aria-live") == "polite"
    page.evaluate("document.querySelector('.sb-msg-bot').setAttribute('data-seen', '1')")
    converse_and_book(page, "vad är lönebidrag", "lönebidrag")
    assert page.locator("[data-seen]").count() == 1, "old messages stay as they were: only new ones are added"
    assert page.locator(".sb-msg-bot[lang=sv]").count() >= 5
    assert server.store.upcoming(server.engine.clock()), "the meeting is booked"
    page.screenshot(path=str(OUT / "web-page-booked.png"), full_page=True)
    # A reload continues the same conversation.
    conversation = page.evaluate("localStorage.getItem('socialbot.conversation')")
    page.reload()
    wait_for_reply(page, "Klart")
    assert page.evaluate("localStorage.getItem('socialbot.conversation')") == conversation
    assert page.context.cookies() == [], "no cookies at all"


def test_the_widget_on_another_origin_with_the_keyboard_only(page: Page, server: WebServer, municipality: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.goto(municipality + "/sv")
    page.locator(".sb-launcher").wait_for()
    launcher = tab_to(page, lambda f: "sb-launcher" in f["cls"])
    assert launcher["expanded"] == "false" and launcher["text"], "a labelled button"
    page.keyboard.press("Enter")
    wait_for_reply(page, "Vad vill du veta")
    assert "sb-input" in active(page)["cls"], "opening moves the focus to the input"
    converse_and_book(page, "vad är ett socialt företag", "socialt företag")
    page.screenshot(path=str(OUT / "web-widget-booked.png"))
    page.keyboard.press("Escape")
    assert page.locator(".sb-panel").is_hidden()
    now = active(page)
    assert "sb-launcher" in now["cls"] and now["expanded"] == "false", "Esc closes and returns the focus"


QUESTIONS = {"sv": "lönebidrag", "en": "wage subsidy", "ar": "ما هو lönebidrag؟"}


@pytest.mark.parametrize("lang", ["sv", "en", "ar"])
def test_axe_finds_nothing_on_the_page_and_the_open_widget(page: Page, server: WebServer, municipality: str,
                                                           lang: str) -> None:  # fmt: skip
    page.goto(f"{server.base}/?region=sundsvall&lang={lang}")
    page.locator(".sb-msg-bot").first.wait_for(timeout=60_000)
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == [
        lang, "rtl" if lang == "ar" else "ltr"]
    send = LABELS[lang]["send"]
    assert page.locator("button.sb-send").text_content() == send, "the chat's own words in the page's language"
    page.keyboard.type(QUESTIONS[lang])
    page.keyboard.press("Enter")
    page.locator(".sb-msg-bot").nth(1).wait_for(timeout=60_000)
    assert axe(page) == []
    page.goto(f"{municipality}/{lang}")
    page.locator(".sb-launcher").click()
    page.locator(".sb-msg-bot").first.wait_for(timeout=60_000)
    assert page.locator(".sb-panel").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    assert page.locator("button.sb-send").text_content() == send
    assert axe(page, "#socialbot-widget") == []
    page.screenshot(path=str(OUT / f"web-widget-open-{lang}.png"))
    # The checker itself works: a button without a name in the widget is found.
    page.evaluate("document.getElementById('socialbot-widget').shadowRoot.querySelector('.sb-quick')"
                  ".appendChild(document.createElement('button'))")  # fmt: skip
    assert [v["id"] for v in axe(page, "#socialbot-widget")] == ["button-name"]


def test_320_px_wide_nothing_scrolls_sideways(browser: Browser, server: WebServer, municipality: str) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 640})
    context.set_default_timeout(60_000)
    narrow = context.new_page()
    narrow.goto(server.base + "/?region=vastervik&lang=sv")
    narrow.locator(".sb-msg-bot").first.wait_for(timeout=60_000)
    assert narrow.evaluate("document.scrollingElement.scrollWidth") <= 320
    narrow.screenshot(path=str(OUT / "web-page-320px.png"))
    narrow.goto(municipality + "/sv")
    narrow.locator(".sb-launcher").click()
    narrow.locator(".sb-msg-bot").first.wait_for(timeout=60_000)
    box = narrow.locator(".sb-panel").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 320
    narrow.screenshot(path=str(OUT / "web-widget-320px.png"))
    context.close()
