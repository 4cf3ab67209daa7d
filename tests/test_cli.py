"""The command line as users and scripts call it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def socialbot(*args: str, stdin: str = "", state: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bot"]
    if state:
        command += ["--state", str(state)]
    return subprocess.run(
        [*command, *args], cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=120
    )


def test_ask_json_one_object_per_line() -> None:
    result = socialbot("ask", "--json", "--region", "vastervik", "--lang", "sv",
                       stdin="vad är lönebidrag\nvad blir det för väder\n")  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["text"] for line in lines] == ["vad är lönebidrag", "vad blir det för väder"]
    assert lines[0]["topic"] == "wage-subsidy" and isinstance(lines[0]["score"], float)
    assert lines[1]["topic"] is None and "vet jag tyvärr inte" in lines[1]["reply"]
    assert "Elisabeth Johansson" in lines[1]["reply"]


def test_ask_runs_the_crisis_check_as_every_chat_does() -> None:
    """Staff try the content with `ask`: a crisis gets the crisis answer there too, and --json says so."""
    result = socialbot("ask", "--json", "--region", "sundsvall", stdin="i want to die\nvad är lönebidrag\n")
    assert result.returncode == 0, result.stderr
    crisis, ordinary = (json.loads(line) for line in result.stdout.splitlines())
    assert crisis["crisis"] is True and "90101" in crisis["reply"] and "112" in crisis["reply"]
    assert ordinary["crisis"] is False and ordinary["topic"] == "wage-subsidy"
    plain = socialbot("ask", "jag vill inte leva längre")
    assert plain.returncode == 0 and plain.stdout.startswith("[crisis]") and "90101" in plain.stdout


def test_ask_text_argument() -> None:
    result = socialbot("ask", "--json", "hej")
    assert result.returncode == 0
    record = json.loads(result.stdout)
    assert record["topic"] is None and record["reply"]


def test_scripted_chat_books_a_meeting_end_to_end(tmp_path: Path) -> None:
    script = "\n".join(
        # The terminal cannot write later, so after the name it asks for the phone number at once.
        ["1", "1", "vad är arbetsträning", "/book", "1", "Anna", "070-123 45 67", "1", "/mybookings"]
    )
    result = socialbot("chat", stdin=script + "\n", state=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Vilket språk" in out and "Vilken kommun" in out
    assert "Klart! Du har ett möte med Magnus Riklander" in out
    assert "Dina bokade möten" in out
    assert (tmp_path / "files" / "meeting.ics").exists()
    assert "(to the business developer) Ny bokning" in result.stderr
    listing = socialbot("bookings", "--region", "sundsvall", state=tmp_path)
    assert "Anna" in listing.stdout and "+46701234567" in listing.stdout


def test_chat_remembers_across_runs(tmp_path: Path) -> None:
    socialbot("chat", stdin="1\n2\n", state=tmp_path)  # Svenska, Västervik
    again = socialbot("chat", stdin="vem kan jag kontakta\n", state=tmp_path)
    assert "Vilket språk" not in again.stdout
    assert "Elisabeth Johansson" in again.stdout


def test_export_json_and_csv(tmp_path: Path) -> None:
    result = socialbot("export", "--format", "json")
    rows = json.loads(result.stdout)
    keys = {"topic", "lang", "region", "title", "examples", "answer", "source", "reviewed"}
    assert rows and all(set(row) == keys for row in rows)
    assert {(r["topic"], r["lang"]) for r in rows if r["region"] is None} >= {("wise", "sv"), ("wise", "en")}
    assert any(r["region"] == "vastervik" for r in rows)
    out = tmp_path / "content.csv"
    socialbot("export", "--format", "csv", "--out", str(out))
    import csv

    with out.open(encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == len(rows)


def test_webhook_workers_of_one_bot_share_the_default_secret() -> None:
    from bot.cli import webhook_secret

    token = "123456789:AAtesttokentesttokentesttokentest12"
    assert webhook_secret(token) == webhook_secret(token), "every worker registers the same secret"
    assert webhook_secret(token) != webhook_secret(token + "x")
    assert token not in webhook_secret(token) and re.fullmatch(r"[A-Za-z0-9_-]{1,256}", webhook_secret(token))


def test_bookings_has_a_header_one_language_and_a_friendly_date_error(tmp_path: Path) -> None:
    """The outside tester's U6-g: rows without a header ("what is the last column?"), Swedish dates but "No upcoming
    bookings." in English, and `--from igår` answered with "invalid fromisoformat value"."""
    from datetime import UTC, datetime

    from bot.storage import Booking, open_store

    empty = socialbot("bookings", state=tmp_path)
    assert empty.returncode == 0 and empty.stdout == "Inga kommande bokningar.\n", empty.stdout
    store = open_store(tmp_path)
    try:
        store.create_booking(Booking("VnCHf8ed", "web:x", "sundsvall", "20310107T0800Z", "Kim", "+46701234567",
                                     "sv", "booked"), datetime(2030, 12, 1, tzinfo=UTC))  # fmt: skip
    finally:
        store.close()
    listing = socialbot("bookings", "--from", "2031-01-01", state=tmp_path)
    assert listing.returncode == 0, listing.stderr
    header, row = listing.stdout.splitlines()
    assert header.split() == ["Tid", "Region", "Kontaktperson", "Namn", "Telefon", "Bokningsnummer"]
    assert row.split()[-3:] == ["Kim", "+46701234567", "VnCHf8ed"] and "jan." in row
    assert row.index("Kim") == header.index("Namn") and row.index("VnCHf8ed") == header.index("Bokningsnummer")
    for word in ("igår", "1/12", "2031-13-01"):
        wrong = socialbot("bookings", "--from", word, state=tmp_path)
        assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
        assert f"'{word}' is not a date" in wrong.stderr and "YYYY-MM-DD, e.g. 2026-12-01" in wrong.stderr, (
            wrong.stderr)
        assert "fromisoformat" not in wrong.stderr
