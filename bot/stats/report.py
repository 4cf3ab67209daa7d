"""The statistics report: anonymous events and unanswered questions, counted, grouped and suppressed.

Every published number is a `Figure`, made by `suppress` and nowhere else: a figure that rests on fewer than
`MIN_CONVERSATIONS` distinct conversations keeps no value at all, so no output format can leak it. `protect` then
hides more figures ("..") wherever a hidden one could be worked out from a total and the figures beside it.
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, process

from bot.content.model import Content
from bot.engine import MESSAGE_ACTIONS
from bot.matching.normalize import fold

if TYPE_CHECKING:
    from bot.storage import Store

MIN_CONVERSATIONS = 5
SUPPRESSED = "<5"
HIDDEN = ".."  # hidden only so that a "<5" cannot be worked out from a total (complementary suppression)
ZONE = ZoneInfo("Europe/Stockholm")  # days and weeks as the people in Sundsvall and Västervik live them
TOP_TOPICS = 10
TOP_UNANSWERED = 15
SIMILAR = 85  # rapidfuzz token_set_ratio from which two unanswered questions count as the same
EXAMPLE_CHARS = 200
BANDS = ("high", "medium", "low")
LANG_NAMES = {"sv": "svenska", "en": "engelska"}
NOT_CHOSEN = "-"  # key for events before a region or language was chosen
NOT_CHOSEN_LABEL = "ej vald"
BOOKING_ACTIONS = ("booking", "moved", "cancelled")

NOTES = (
    "Samtal räknas per kalendermånad och summeras: nyckeln som anonymiserar samtalen byts varje månad, så den"
    " som skriver under två månader räknas två gånger. (Conversations are counted distinct per month and"
    " summed, because the anonymising hash key rotates monthly.)",
    f"Tal som bygger på färre än {MIN_CONVERSATIONS} samtal visas som {SUPPRESSED}; frågor utan svar visas som"
    f" {SUPPRESSED} när de ställts färre än {MIN_CONVERSATIONS} gånger. (Figures from fewer than"
    f" {MIN_CONVERSATIONS} conversations are shown as {SUPPRESSED}.)",
    f"Tal som visas som {HIDDEN} är dolda för att skydda en liten siffra: annars kunde en siffra under"
    f" {MIN_CONVERSATIONS} räknas fram ur totalen och de andra raderna. (Figures shown as {HIDDEN} are hidden so"
    " that a small figure cannot be worked out from the total and the other rows.)",
    "Andel utan svar = frågor boten inte kunde besvara / alla frågor. (Fallback rate = fallbacks /"
    " (questions + fallbacks).)",
    "Ett samtal räknas i varje kommun, språk och vecka där det skrev något, så raderna summerar inte till"
    " totalen. Dagar och veckor i svensk tid. (A conversation counts in every region, language and week it"
    " was active in; days and weeks in Swedish time.)",
)


# --- figures ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One published number. A suppressed figure holds no value, so nothing downstream can reveal it."""

    value: int | float | None
    suppressed: bool = False  # hidden, by the primary rule ("<5") or, when `secondary`, to protect another (..)
    rate: bool = False  # a share between 0 and 1, shown as a percentage
    secondary: bool = False

    @property
    def mark(self) -> str:
        """What a hidden figure shows: "<5" for a small count, ".." for one hidden to protect a small count."""
        return HIDDEN if self.secondary else SUPPRESSED

    @property
    def public(self) -> int | float | str | None:
        """The value as JSON and CSV carry it: "<5" or ".." when hidden, None when there is nothing to count."""
        if self.suppressed:
            return self.mark
        if self.rate and self.value is not None:
            return round(self.value, 4)
        return self.value

    @property
    def plot(self) -> float:
        """The height to draw: a suppressed figure is drawn as 0 (and labelled "<5" by the chart)."""
        return 0.0 if self.suppressed or self.value is None else float(self.value)

    def __str__(self) -> str:
        if self.suppressed:
            return self.mark
        if self.value is None:
            return "–"
        return f"{self.value * 100:.0f} %" if self.rate else str(self.value)


def suppress(value: int | float | None, conversations: int, *, rate: bool = False) -> Figure:
    """The only way figures are made: hidden when 1-4 conversations are behind them.

    Zero conversations means nothing happened, which reveals no one, so a 0 (or an undefined rate) is shown.
    """
    if 0 < conversations < MIN_CONVERSATIONS:
        return Figure(None, suppressed=True, rate=rate)
    return Figure(value, rate=rate)


def _hide(figure: Figure) -> Figure:
    """The figure hidden as ".." (complementary suppression); a "<5" stays "<5"."""
    return figure if figure.suppressed else Figure(None, suppressed=True, rate=figure.rate, secondary=True)


@dataclass(frozen=True)
class Row:
    """One line of a section: a topic, a region, a week, a group of unanswered questions..."""

    key: str  # stable: topic id, region id, language code, ISO week, or the example question
    label: str  # what a person reads
    cells: dict[str, Figure]
    details: dict[str, str] = field(default_factory=dict)  # plain text, e.g. the business developer

    def __getitem__(self, name: str) -> Figure:
        return self.cells[name]

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, **self.details,
                **{name: figure.public for name, figure in self.cells.items()}}  # fmt: skip


SECTIONS = ("topics", "unanswered", "bookings", "by_region", "by_lang", "by_week", "bands")


@dataclass(frozen=True)
class Report:
    since: date | None  # the first day counted (None: no data and no limit)
    until: date | None  # the last day counted
    summary: dict[str, Figure]  # conversations, messages, questions, fallbacks, fallback_rate, bookings
    topics: tuple[Row, ...]  # questions, conversations
    bands: tuple[Row, ...]  # questions (answered and not) per matcher score band
    unanswered: tuple[Row, ...]  # asked; key and label are the example
    bookings: tuple[Row, ...]  # made, moved, cancelled per region; details: developer
    by_region: tuple[Row, ...]  # conversations, messages, fallbacks, fallback_rate, bookings
    by_lang: tuple[Row, ...]
    by_week: tuple[Row, ...]
    notes: tuple[str, ...] = NOTES

    def section(self, name: str) -> tuple[Row, ...]:
        return getattr(self, name)

    def figures(self) -> Iterator[tuple[str, str, Figure]]:
        """(section, key, figure) for every published figure: the CSV rows."""
        for name, figure in self.summary.items():
            yield "summary", name, figure
        for section in SECTIONS:
            for row in self.section(section):
                for name, figure in row.cells.items():
                    yield section, f"{row.key}/{name}" if section != "unanswered" else row.key, figure

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": {"since": _iso(self.since), "until": _iso(self.until)},
            "min_conversations": MIN_CONVERSATIONS,
            "summary": {name: figure.public for name, figure in self.summary.items()},
            **{section: [row.to_dict() for row in self.section(section)] for section in SECTIONS},
            "notes": list(self.notes),
        }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


# --- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Event:
    day: date  # in Swedish time
    who: tuple[str, str]  # (UTC month, hash): the hash is only unique within its month's key
    region: str
    lang: str
    action: str
    topic: str | None
    band: str | None


def _connect(store: Store) -> sqlite3.Connection:
    """A read-only connection of our own: the report never writes and never waits for the bot's lock."""
    if store.path == ":memory:":
        return store.db.conn
    return sqlite3.connect(f"file:{store.path}?mode=ro", uri=True, check_same_thread=False)


def _events(conn: sqlite3.Connection, since: date | None, until: date | None) -> list[_Event]:
    # Hours are UTC; a day's margin each side, then the exact cut in Swedish time below.
    low = (since - timedelta(days=1)).isoformat() if since else ""
    high = (until + timedelta(days=2)).isoformat() if until else "~"
    rows = conn.execute(
        "SELECT hour, conversation, region, lang, action, topic, band FROM events WHERE hour >= ? AND hour < ?",
        [low, high],
    ).fetchall()
    events = []
    for hour, conversation, region, lang, action, topic, band in rows:
        moment = datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=UTC)
        day = moment.astimezone(ZONE).date()
        if (since and day < since) or (until and day > until):
            continue
        events.append(_Event(day, (hour[:7], conversation), region or NOT_CHOSEN, lang or NOT_CHOSEN,
                             action, topic, band))  # fmt: skip
    return events


def _unanswered(conn: sqlite3.Connection, since: date | None, until: date | None) -> list[tuple[date, str]]:
    rows = conn.execute(
        "SELECT day, text FROM unanswered WHERE day >= ? AND day <= ?",
        [since.isoformat() if since else "", until.isoformat() if until else "~"],
    ).fetchall()
    return [(date.fromisoformat(day), text) for day, text in rows]


# --- counting --------------------------------------------------------------------------------------


class _Tally:
    """Events and distinct conversations per key, turned into suppressed figures."""

    def __init__(self) -> None:
        self.count: Counter[Hashable] = Counter()
        self.people: defaultdict[Hashable, set[tuple[str, str]]] = defaultdict(set)

    def add(self, key: Hashable, who: tuple[str, str]) -> None:
        self.count[key] += 1
        self.people[key].add(who)

    def events(self, key: Hashable = None) -> Figure:
        return suppress(self.count[key], len(self.people.get(key, ())))

    def conversations(self, key: Hashable = None) -> Figure:
        people = len(self.people.get(key, ()))
        return suppress(people, people)


def _rate(part: _Tally, whole: _Tally, key: Hashable = None) -> Figure:
    """part / whole, suppressed by the conversations behind the whole (which include the part's)."""
    total = whole.count[key]
    return suppress(part.count[key] / total if total else None, len(whole.people.get(key, ())), rate=True)


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _weeks(first: date, last: date) -> list[str]:
    """Every ISO week from first to last, so that a quiet week shows as a gap, not as nothing."""
    weeks, day = [], first - timedelta(days=first.weekday())
    while day <= last:
        weeks.append(iso_week(day))
        day += timedelta(days=7)
    return weeks


def group_unanswered(texts: Iterable[str], threshold: int = SIMILAR) -> list[tuple[str, int]]:
    """(example, times asked) per group of similar questions, most frequent first.

    Texts are folded (case, accents, punctuation) and then clustered greedily, most frequent first: each
    joins the most similar existing group when rapidfuzz's token_set_ratio reaches `threshold`. The example
    is the group's most common wording.
    """
    wordings: dict[str, Counter[str]] = defaultdict(Counter)
    for text in texts:
        wordings[fold(text)][" ".join(text.split())] += 1
    groups: dict[str, Counter[str]] = {}  # representative folded text -> wordings
    for key in sorted(wordings, key=lambda k: (-wordings[k].total(), k)):
        best = process.extractOne(key, list(groups), scorer=fuzz.token_set_ratio, score_cutoff=threshold)
        if key and best and best[0]:
            groups[best[0]].update(wordings[key])
        else:
            groups.setdefault(key, Counter()).update(wordings[key])
    result = [(counter.most_common(1)[0][0], counter.total()) for counter in groups.values()]
    return sorted(result, key=lambda group: -group[1])


# --- the report --------------------------------------------------------------------------------------


def build_report(
    store: Store,
    since: date | None,
    until: date | None,
    topic_titles: Mapping[str, str],
    developers: Mapping[str, str] | None = None,
    region_names: Mapping[str, str] | None = None,
) -> Report:
    """The statistics from `since` to `until` (both days included, Swedish time; None: no limit).

    `topic_titles` maps topic id -> title, `developers` region id -> the region's business developer, and
    `region_names` region id -> name (all from the content; unknown ids are shown as they are).
    """
    developers = developers or {}
    region_names = region_names or {}
    conn = _connect(store)
    try:
        events = _events(conn, since, until)
        unanswered = _unanswered(conn, since, until)
    finally:
        if conn is not store.db.conn:
            conn.close()

    days = [e.day for e in events] + [day for day, _ in unanswered]
    first = since or (min(days) if days else None)
    last = until or (max(days) if days else None)

    everyone, messages, questions, fallbacks, asked, bookings = (_Tally() for _ in range(6))
    topics, bands, booking_actions = _Tally(), _Tally(), _Tally()
    dims = {"region": lambda e: e.region, "lang": lambda e: e.lang, "week": lambda e: iso_week(e.day)}
    for e in events:
        keys = [None, *((dim, get(e)) for dim, get in dims.items())]
        for key in keys:
            everyone.add(key, e.who)
            if e.action in MESSAGE_ACTIONS:
                messages.add(key, e.who)
            if e.action in ("question", "fallback"):
                asked.add(key, e.who)
            if e.action == "fallback":
                fallbacks.add(key, e.who)
            if e.action == "question":
                questions.add(key, e.who)
            if e.action == "booking":
                bookings.add(key, e.who)
        if e.action == "question" and e.topic:
            topics.add(e.topic, e.who)
        if e.action in ("question", "fallback"):
            bands.add(e.band or "low", e.who)
        if e.action in BOOKING_ACTIONS:
            booking_actions.add((e.region, e.action), e.who)

    def breakdown(dim: str, keys: Iterable[str], label: Mapping[str, str]) -> tuple[Row, ...]:
        return tuple(
            Row(
                key,
                label.get(key, key),
                {
                    "conversations": everyone.conversations((dim, key)),
                    "messages": messages.events((dim, key)),
                    "fallbacks": fallbacks.events((dim, key)),
                    "fallback_rate": _rate(fallbacks, asked, (dim, key)),
                    "bookings": bookings.events((dim, key)),
                },
            )
            for key in keys
        )

    seen = {dim: {key[1] for key in everyone.count if key and key[0] == dim} for dim in dims}
    regions = _ordered([*developers, *region_names], seen["region"])
    langs = _ordered(list(LANG_NAMES), seen["lang"])
    weeks = _weeks(first, last) if first and last else []
    region_labels = {**region_names, NOT_CHOSEN: NOT_CHOSEN_LABEL}
    groups = group_unanswered(text[:EXAMPLE_CHARS] for _, text in unanswered)

    def booking_cells(region: str) -> dict[str, Figure]:
        kinds = zip(("made", "moved", "cancelled"), BOOKING_ACTIONS, strict=True)
        return {kind: booking_actions.events((region, action)) for kind, action in kinds}

    return protect(Report(
        since=first,
        until=last,
        summary={
            "conversations": everyone.conversations(),
            "messages": messages.events(),
            "questions": questions.events(),
            "fallbacks": fallbacks.events(),
            "fallback_rate": _rate(fallbacks, asked),
            "bookings": bookings.events(),
        },
        topics=_top_topics(topics, topic_titles),
        bands=tuple(Row(band, band, {"questions": bands.events(band)}) for band in BANDS),
        unanswered=tuple(
            Row(example, example, {"asked": suppress(times, times)})
            for example, times in groups[:TOP_UNANSWERED]
        ),
        bookings=tuple(
            Row(
                region,
                region_names.get(region, region),
                booking_cells(region),
                {"developer": developers.get(region, "")},
            )
            for region in regions
            if region != NOT_CHOSEN
        ),
        by_region=breakdown("region", regions, region_labels),
        by_lang=breakdown("lang", langs, {**LANG_NAMES, NOT_CHOSEN: NOT_CHOSEN_LABEL}),
        by_week=breakdown("week", weeks, {}),
    ))


def _ordered(known: list[str], seen: set[str]) -> list[str]:
    """The known keys in their order (shown even when zero), then others seen, then "not chosen" last."""
    keys = list(dict.fromkeys(known))
    keys += sorted(seen - set(keys) - {NOT_CHOSEN})
    return [*keys, NOT_CHOSEN] if NOT_CHOSEN in seen else keys


def _top_topics(topics: _Tally, titles: Mapping[str, str]) -> tuple[Row, ...]:
    """The most asked topics. Chosen by the true count, but the hidden ones are listed last by title, so
    their place in the list does not tell how often they were asked."""
    chosen = sorted(topics.count, key=lambda t: (-topics.count[t], titles.get(str(t), str(t))))[:TOP_TOPICS]
    rows = [
        Row(
            str(t),
            titles.get(str(t), str(t)),
            {"questions": topics.events(t), "conversations": topics.conversations(t)},
        )
        for t in chosen
    ]
    return tuple(sorted(rows, key=lambda r: (r["questions"].suppressed, -r["questions"].plot, r.label)))


def labels(content: Content) -> dict[str, dict[str, str]]:
    """The names a report shows, from the content: topic titles, developers and region names (Swedish)."""
    return {
        "topic_titles": {t.id: t.title["sv"] for t in content.topics.values()},
        "developers": {r.id: r.contact.name for r in content.regions.values()},
        "region_names": {r.id: r.name["sv"] for r in content.regions.values()},
    }
