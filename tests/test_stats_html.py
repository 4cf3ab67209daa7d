"""The HTML report opens in a real browser, offline, and carries its charts inside."""

from __future__ import annotations

import base64
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.knowledge import Knowledge
from bot.stats.render import CHARTS, to_html
from tests.test_stats import evidence, report_of, seed
from tests.transcript import Clock, TestBot

CHROMIUM = "/usr/bin/chromium"
PNG = b"\x89PNG\r\n\x1a\n"


class Page(HTMLParser):
    """The images and every address the page refers to."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str]] = []
        self.addresses: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.tags.add(tag)
        if tag == "img":
            self.images.append(values)
        self.addresses += [values[name] for name in ("src", "href", "action") if name in values]


def decode_image(src: str) -> bytes:
    head, _, data = src.partition(",")
    assert head in ("data:image/png;base64", "data:image/svg+xml;base64"), head
    image = base64.b64decode(data, validate=True)
    assert image.startswith(PNG) or image.lstrip().startswith((b"<svg", b"<?xml")), image[:20]
    return image


def png_size(image: bytes) -> tuple[int, int]:
    assert image.startswith(PNG) and image[12:16] == b"IHDR"
    return struct.unpack(">II", image[16:24])


def test_report_renders_in_headless_chromium(testbot: TestBot, knowledge: Knowledge, clock: Clock,
                                             tmp_path: Path) -> None:  # fmt: skip
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("chromium is not installed (.ci/run installs it)")
    seed(testbot, clock)
    evidence(testbot.store)  # helpful per topic, crisis answers, bookings per month and channel
    report = tmp_path / "report.html"
    report.write_text(to_html(report_of(testbot, knowledge)), encoding="utf-8")

    page = Page()
    page.feed(report.read_text(encoding="utf-8"))
    charts = {image.get("data-chart"): image for image in page.images}
    assert set(charts) == set(CHARTS)
    for image in charts.values():
        assert image.get("alt")
        width, height = png_size(decode_image(image["src"]))
        assert width >= 600 and height >= 200
    assert all(address.startswith("data:") for address in page.addresses), page.addresses
    assert not page.tags & {"script", "link", "iframe", "object"}

    screenshot = tmp_path / "report.png"
    result = subprocess.run(
        [CHROMIUM if Path(CHROMIUM).exists() else "chromium", "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={screenshot}",
         "--window-size=900,2400", f"file://{report}"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert screenshot.exists(), result.stderr[-2000:]
    shot = screenshot.read_bytes()
    assert png_size(shot) == (900, 2400)
    assert len(shot) > 50_000, "the screenshot is nearly blank"  # text, tables and four charts
