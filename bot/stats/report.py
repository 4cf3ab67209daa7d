"""The statistics report: anonymous events and unanswered questions, counted, grouped and suppressed.

Every published number is a `Figure`, made by `suppress` and nowhere else: a figure that rests on fewer than
`MIN_CONVERSATIONS` distinct conversations keeps no value at all, so no output format can leak it. `protect` then
hides more figures ("..") wherever a hidden one could be worked out from a total and the figures beside it.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, process

from bot.content.model import Content
from bot.engine import MESSAGE_ACTIONS
from bot.matching.normalize import fold
from bot.storage.base import UNLINKED_ACTIONS

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
LANG_NAMES = {"sv": "svenska", "en": "engelska"}  # always listed; other languages when they occur
# Every other language (the content's and the notices') by its Swedish name from CLDR (Babel); these read
# better than CLDR's own: persiska is written for Dari readers too, and CLDR's Swedish says "afghanska" for Pashto.
OTHER_LANG_NAMES = {"sv-x-easy": "lätt svenska", "fa": "persiska/dari", "ps": "pashto"}


def language_label(code: str) -> str:
    """The Swedish name of a language code, for the project leader's report ("ar" -> "arabiska")."""
    if code in LANG_NAMES or code in OTHER_LANG_NAMES:
        return {**LANG_NAMES, **OTHER_LANG_NAMES}[code]
    from babel import Locale, UnknownLocaleError

    try:
        return Locale("sv").languages.get(code.split("-")[0]) or code
    except (UnknownLocaleError, ValueError):
        return code
NOT_CHOSEN = "-"  # key for events before a region or language was chosen
NOT_CHOSEN_LABEL = "ej vald"
BOOKING_ACTIONS = ("booking", "moved", "cancelled")
CRISIS = "crisis"  # the crisis numbers were given (the dialog records it, anonymously)
FEEDBACK = {"helpful": "helpful", "unhelpful": "not_helpful"}  # the "did this help?" action -> its figure
CHANNEL_NAMES = {"telegram": "Telegram", "web": "webbchatt", "terminal": "terminal"}

NOTES = (
    "Samtal räknas per kalendermånad och summeras: nyckeln som anonymiserar samtalen byts varje månad, så den"
    " som skriver under två månader räknas två gånger. (Conversations are counted distinct per month and"
    " summed, because the anonymising hash key rotates monthly.)",
    f"Tal som bygger på färre än {MIN_CONVERSATIONS} samtal visas som {SUPPRESSED}; frågor utan svar visas som"
    f" {SUPPRESSED} när de ställts färre än {MIN_CONVERSATIONS} gånger. (Figures from fewer than"
    f" {MIN_CONVERSATIONS} conversations are shown as {SUPPRESSED}.)",
    f"{HIDDEN} = dold för att skydda en liten siffra: talet visas inte, eftersom ett tal under {MIN_CONVERSATIONS}"
    f" annars kunde räknas fram ur totalen och de andra raderna. ({HIDDEN} = hidden so that a small figure cannot"
    " be worked out from the total and the other rows.)",
    "Andel utan svar = frågor boten inte kunde besvara / alla frågor. (Fallback rate = fallbacks /"
    " (questions + fallbacks).)",
    "Ett samtal räknas i varje kommun, språk och vecka där det skrev något, så raderna summerar inte till"
    " totalen. Dagar och veckor i svensk tid. (A conversation counts in every region, language and week it"
    " was active in; days and weeks in Swedish time.)",
    "Ledde till bokning = bokningar som gjordes: ett samtal som bokade två gånger räknas två gånger, eftersom"
    " statistiken inte kan knyta en bokning (eller ett krissvar) till samtalet den gjordes i; bokningar, ombokningar,"
    " avbokningar och krissvar räknas per dag, inte per samtal. Återkommande = samtal som skrev på minst två olika dagar"
    " samma månad. Månader följer nyckelbytet (UTC), så ett samtal hör till exakt en månad. Kris = gånger boten"
    " gav krisnumren. Hjälpte / hjälpte inte = svar på frågan ”Hjälpte det här?” efter ett svar. (Led to a"
    " booking = bookings made; returning = conversations active on two or more days"
    " of a month; bookings and crisis answers are not linked to their conversation, so led to a booking counts"
    " bookings, and a figure of them hides when it rests on fewer than five of them; months follow the key rotation, in UTC; crisis = times the crisis numbers were given;"
    " helpful / not helpful = answers to “Did this help?”.)",
)


# --- figures ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One published number. A suppressed figure holds no value, so nothing downstream can reveal it."""

    value: int | float | None
    suppressed: bool = (
        False  # hidden: by the primary rule ("<5"), or to protect another (".." when secondary)
    )
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


SECTIONS = ("topics", "unanswered", "bookings", "by_region", "by_lang", "by_week", "bands", "by_channel", "by_month",
            "helpful")  # fmt: skip
BREAKDOWNS = ("by_region", "by_lang", "by_week", "by_channel", "by_month")


@dataclass(frozen=True)
class Report:
    since: date | None  # the first day counted (None: no data and no limit)
    until: date | None  # the last day counted
    summary: dict[
        str, Figure
    ]  # conversations, messages, questions, fallbacks, fallback_rate, bookings, booked,
    # returning, crisis, helpful, not_helpful
    topics: tuple[Row, ...]  # questions, conversations
    bands: tuple[Row, ...]  # questions (answered and not) per matcher score band
    unanswered: tuple[Row, ...]  # asked; key and label are the example
    bookings: tuple[Row, ...]  # made, moved, cancelled per region; details: developer
    by_region: tuple[Row, ...]  # conversations, messages, fallbacks, fallback_rate, bookings
    by_lang: tuple[Row, ...]
    by_week: tuple[Row, ...]
    by_channel: tuple[Row, ...] = ()  # as by_region, per channel (telegram, web...)
    by_month: tuple[Row, ...] = ()  # as by_region, plus returning and crisis, per month of the hash key
    helpful: tuple[
        Row, ...
    ] = ()  # helpful, not_helpful per topic: every topic that got an answer to "did it help?"
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

    def for_funders(self) -> Report:
        """The published report: counts only. An unanswered question's text can tell a person's story ("mina barn
        är inte säkra hemma", an address): it stays for staff in `socialbot review`, the groups here are numbered."""
        groups = tuple(Row(f"group-{n}", f"Grupp {n} (group {n})", row.cells)
                       for n, row in enumerate(self.unanswered, start=1))  # fmt: skip
        return replace(self, unanswered=groups)

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
    channel: str = "-"


def _events(store: Store, since: date | None, until: date | None) -> list[_Event]:
    # Hours are UTC; a day's margin each side, then the exact cut in Swedish time below.
    low = (since - timedelta(days=1)).isoformat() if since else ""
    high = (until + timedelta(days=2)).isoformat() if until else "~"
    rows = store.events_between(low, high)
    events = []
    for hour, conversation, region, lang, action, topic, band, channel in rows:
        moment = datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=UTC)
        day = moment.astimezone(ZONE).date()
        if (since and day < since) or (until and day > until):
            continue
        events.append(_Event(day, (hour[:7], conversation), region or NOT_CHOSEN, lang or NOT_CHOSEN,
                             action, topic, band, channel or "-"))  # fmt: skip
    return events


def _unanswered(store: Store, since: date | None, until: date | None) -> list[tuple[date, str]]:
    rows = store.unanswered_between(since.isoformat() if since else "", until.isoformat() if until else "~")
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


def question_key(text: str) -> str:
    """What two questions share when they are the same question: the folded words, or for a script that folding
    leaves nothing of (Arabic, Cyrillic...), the lower-cased text."""
    return fold(text) or " ".join(text.casefold().split())


EXACT_GROUPS = 200  # up to this many groups every one is compared; beyond, only the likeliest (`_GroupIndex`)
CANDIDATES = 100  # groups compared with each question once there are more than EXACT_GROUPS
RARE_GRAMS = 8  # a question's rarest three-letter pieces used to find its candidates


def _grams(key: str) -> set[str]:
    padded = f" {key} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)} or {padded}


class _GroupIndex:
    """The groups so far, findable by the three-letter pieces of their text. Comparing every new question with
    every group is quadratic: tens of thousands of distinct questions took minutes. Two texts similar enough to be
    grouped share most of their pieces, so the groups sharing a question's rarest pieces are its candidates."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.postings: defaultdict[str, list[int]] = defaultdict(list)

    def add(self, key: str) -> None:
        for gram in _grams(key):
            self.postings[gram].append(len(self.keys))
        self.keys.append(key)

    def candidates(self, key: str) -> list[str]:
        if len(self.keys) <= EXACT_GROUPS:
            return self.keys
        grams = sorted(_grams(key), key=lambda g: len(self.postings.get(g, ())))[:RARE_GRAMS]
        shared: Counter[int] = Counter()
        for gram in grams:
            shared.update(self.postings.get(gram, ()))
        return [self.keys[i] for i, _ in shared.most_common(CANDIDATES)]


def cluster_unanswered(
    texts: Sequence[str], threshold: int = SIMILAR, scorer: Callable[..., float] = fuzz.token_set_ratio
) -> list[list[int]]:
    """The indices of `texts` per group of similar questions, most asked first.

    Texts are folded (case, accents, punctuation) and then clustered greedily, most frequent first: each
    joins the most similar existing group (among its candidates, see `_GroupIndex`) when rapidfuzz's
    token_set_ratio reaches `threshold`.
    """
    by_fold: dict[str, list[int]] = defaultdict(list)
    for index, text in enumerate(texts):
        by_fold[question_key(text)].append(index)
    groups: dict[str, list[int]] = {}  # representative folded text -> members
    index = _GroupIndex()
    for key in sorted(by_fold, key=lambda k: (-len(by_fold[k]), k)):
        best = process.extractOne(key, index.candidates(key), scorer=scorer, score_cutoff=threshold)
        if key and best and best[0]:
            groups[best[0]] += by_fold[key]
        elif key not in groups:
            groups[key] = list(by_fold[key])
            index.add(key)
        else:
            groups[key].extend(by_fold[key])
    return sorted(groups.values(), key=lambda members: -len(members))


def example_of(texts: Iterable[str]) -> str:
    """A group's example: its most common wording (whitespace evened out)."""
    return Counter(" ".join(text.split()) for text in texts).most_common(1)[0][0]


def group_unanswered(texts: Iterable[str], threshold: int = SIMILAR) -> list[tuple[str, int]]:
    """(example, times asked) per group of similar questions (`cluster_unanswered`), most frequent first."""
    texts = list(texts)
    return [(example_of(texts[i] for i in members), len(members))
            for members in cluster_unanswered(texts, threshold)]  # fmt: skip


# --- the report --------------------------------------------------------------------------------------


def build_report(
    store: Store,
    since: date | None,
    until: date | None,
    topic_titles: Mapping[str, str],
    developers: Mapping[str, str] | None = None,
    region_names: Mapping[str, str] | None = None,
    content_note: str | None = None,
) -> Report:
    """The statistics from `since` to `until` (both days included, Swedish time; None: no limit).

    `topic_titles` maps topic id -> title, `developers` region id -> the region's business developer, and
    `region_names` region id -> name (all from the content; unknown ids are shown as they are).
    `content_note` (from `content_age`) is added to the notes.
    """
    developers = developers or {}
    region_names = region_names or {}
    events = _events(store, since, until)
    unanswered = _unanswered(store, since, until)

    days = [e.day for e in events] + [day for day, _ in unanswered]
    first = since or (min(days) if days else None)
    last = until or (max(days) if days else None)

    everyone, messages, questions, fallbacks, asked, bookings = (_Tally() for _ in range(6))
    topics, bands, booking_actions = _Tally(), _Tally(), _Tally()
    booked, crisis, feedback = _Tally(), _Tally(), _Tally()
    days_active: defaultdict[tuple[str, str], set[date]] = defaultdict(set)
    dims: dict[str, Callable[[_Event], str]] = {
        "region": lambda e: e.region,
        "lang": lambda e: e.lang,
        "week": lambda e: iso_week(e.day),
        "channel": lambda e: e.channel,
        "month": lambda e: e.who[0],  # the hash key's month: a conversation belongs to exactly one
    }
    for e in events:
        linked = e.action not in UNLINKED_ACTIONS  # the others carry a hash of their own: each is no conversation
        if linked:
            days_active[e.who].add(e.day)
        keys = [None, *((dim, get(e)) for dim, get in dims.items())]
        for key in keys:
            if e.action == "booking":
                booked.add(key, e.who)  # one per booking: nothing links a booking to its conversation (F13)
            if linked:
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
        if e.action == CRISIS:
            crisis.add(None, e.who)
            crisis.add(("month", e.who[0]), e.who)
        if e.action in FEEDBACK:
            feedback.add((FEEDBACK[e.action], None), e.who)
            if e.topic:
                feedback.add((FEEDBACK[e.action], e.topic), e.who)
    returning = _Tally()
    for who, active in days_active.items():
        if len(active) >= 2:
            returning.add(None, who)
            returning.add(("month", who[0]), who)

    def breakdown(dim: str, keys: Iterable[str], label: Mapping[str, str]) -> tuple[Row, ...]:
        def cells(key: tuple[str, str]) -> dict[str, Figure]:
            figures = {
                "conversations": everyone.conversations(key),
                "messages": messages.events(key),
                "fallbacks": fallbacks.events(key),
                "fallback_rate": _rate(fallbacks, asked, key),
                "bookings": bookings.events(key),
                "booked": booked.conversations(key),
            }
            if dim == "month":
                figures |= {"returning": returning.conversations(key), "crisis": crisis.events(key)}
            return figures

        return tuple(Row(key, label.get(key, key), cells((dim, key))) for key in keys)

    seen = {dim: {key[1] for key in everyone.count if key and key[0] == dim} for dim in dims}
    regions = _ordered([*developers, *region_names], seen["region"])
    langs = _ordered(list(LANG_NAMES), seen["lang"])
    weeks = _weeks(first, last) if first and last else []
    region_labels = {**region_names, NOT_CHOSEN: NOT_CHOSEN_LABEL}
    groups = group_unanswered(text[:EXAMPLE_CHARS] for _, text in unanswered)

    def booking_cells(region: str) -> dict[str, Figure]:
        kinds = zip(("made", "moved", "cancelled"), BOOKING_ACTIONS, strict=True)
        return {kind: booking_actions.events((region, action)) for kind, action in kinds}

    report = Report(
        since=first,
        until=last,
        summary={
            "conversations": everyone.conversations(),
            "messages": messages.events(),
            "questions": questions.events(),
            "fallbacks": fallbacks.events(),
            "fallback_rate": _rate(fallbacks, asked),
            "bookings": bookings.events(),
            "booked": booked.conversations(),
            "returning": returning.conversations(),
            "crisis": crisis.events(),
            "helpful": feedback.events(("helpful", None)),
            "not_helpful": feedback.events(("not_helpful", None)),
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
        by_lang=breakdown("lang", langs, {**{code: language_label(code) for code in langs}, NOT_CHOSEN: NOT_CHOSEN_LABEL}),
        by_week=breakdown("week", weeks, {}),
        by_channel=breakdown("channel", sorted(seen["channel"]), CHANNEL_NAMES),
        by_month=breakdown("month", sorted(seen["month"]), {}),
        helpful=_helpful(feedback, topic_titles),
        notes=NOTES + ((content_note,) if content_note else ()),
    )
    return protect(report)


def _ordered(known: list[str], seen: set[str]) -> list[str]:
    """The known keys in their order (shown even when zero), then others seen, then "not chosen" last."""
    keys = list(dict.fromkeys(known))
    keys += sorted(seen - set(keys) - {NOT_CHOSEN})
    return [*keys, NOT_CHOSEN] if NOT_CHOSEN in seen else keys


def _helpful(feedback: _Tally, titles: Mapping[str, str]) -> tuple[Row, ...]:
    """Every topic someone said an answer helped or did not help with, by title (the order tells nothing)."""
    rated = {str(key[1]) for key in feedback.count if isinstance(key, tuple) and key[1] is not None}
    return tuple(
        Row(t, titles.get(t, t), {name: feedback.events((name, t)) for name in ("helpful", "not_helpful")})
        for t in sorted(rated, key=lambda t: (titles.get(t, t), t))
    )


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


# --- complementary suppression -------------------------------------------------------------------------
#
# The primary rule hides a figure from 1-4 conversations as "<5". But most figures are parts of a published
# sum, and the total minus the parts shown gives a lone hidden part back. `protect` hides more figures, as
# "..", until no hidden figure can be worked out. What a reader can add up (`_groups`):
#
# * Messages, fallbacks and bookings per region, per language and per week add up exactly to the summary's
#   totals: every event has one region and one language ("ej vald" until one is chosen, a row of its own) and
#   one day, and every region, language and week of the period is listed. The bookings table's "made" per
#   region is the same number as by_region's bookings, and is hidden with it.
# * The topics' questions add up to at most all questions (the rest: topics below the top ten, questions
#   without a topic), the unanswered groups' "asked" to at most all fallbacks (only the top 15 are listed, and
#   storing the text can be switched off). A reader may well guess the rest is 0, so these count as exact sums.
# * The score bands add up exactly to questions + fallbacks (a question without a band counts as "low").
# * Conversations per region, language and week do NOT add up: a conversation counts in every row it was
#   active in (everyone starts in "ej vald", many write in several weeks), so the rows add up to more than the
#   total, by an amount no reader knows. All subtraction gives is a lower bound, hidden >= total - (the rows
#   shown): harmless while that bound is at most 1, but once it is higher it tells something about a "<5", so
#   then the group is protected like the others (when in doubt, hide).
# * Not grouped: the topics' conversations (one conversation asks about several topics, and the total also
#   holds those who asked nothing: there is no sum to redo) and moved and cancelled bookings (no total is
#   published). Rates are in no sum, but a rate together with its fallbacks (in the summary also with its
#   questions) gives the other back, so a rate is hidden whenever those are.
#
# What a reader knows about a hidden figure: a "<5" is at least 1 (and at most 4 when it counts conversations or
# askings); a ".." is at least 5 (it rests on 5 or more conversations, and a 0 is never hidden) and, since it is
# the smallest figure that was shown, at most the smallest figure still shown beside it. A group is protected
# when no "<5" in it is pinned to a single value by its sum and these bounds and, for an exact sum, it does not
# hide exactly one figure. Then all exact sums together are solved as one system of linear equations, so that no
# hidden figure follows from combining groups either (a total hidden in one breakdown but given back by another,
# say). Until both hold, the smallest nonzero figure shown in a failing group is hidden, or its total when no
# part is left to hide.

Cell = tuple[str, int, str]  # (section, row index, figure name); the summary is ("summary", 0, name)
COUNTS = (
    "conversations",
    "asked",
    "booked",
    "returning",
)  # they count conversations or askings: a "<5" is 1-4


@dataclass(frozen=True)
class _Group:
    """Figures a reader can add up: sum(totals) == sum(parts), or for `union`, total <= sum(parts)."""

    totals: tuple[Cell, ...]
    parts: tuple[Cell, ...]
    union: bool = False

    @property
    def cells(self) -> tuple[Cell, ...]:
        return self.totals + self.parts


def _groups(report: Report) -> list[_Group]:
    def column(section: str, name: str) -> tuple[Cell, ...]:
        return tuple((section, i, name) for i in range(len(report.section(section))))

    def total(*names: str) -> tuple[Cell, ...]:
        return tuple(("summary", 0, name) for name in names)

    groups = []
    for section in BREAKDOWNS:
        groups += [
            _Group(total(name), column(section, name))
            for name in ("messages", "fallbacks", "bookings", "booked")
        ]
        # a conversation has one channel and one month, but may write in several regions, languages and weeks
        union = section not in ("by_channel", "by_month")
        groups.append(_Group(total("conversations"), column(section, "conversations"), union=union))
    groups += [_Group(total(name), column("by_month", name)) for name in ("returning", "crisis")]
    groups += [_Group(total(name), column("helpful", name)) for name in ("helpful", "not_helpful")]
    groups.append(_Group(total("questions"), column("topics", "questions")))
    groups.append(_Group(total("fallbacks"), column("unanswered", "asked")))
    groups.append(_Group(total("questions", "fallbacks"), column("bands", "questions")))
    return [group for group in groups if group.parts]


class _Complement:
    """Chooses the figures to hide as ".." (see above)."""

    def __init__(self, report: Report) -> None:
        self.figures: dict[Cell, Figure] = {("summary", 0, n): f for n, f in report.summary.items()}
        for section in SECTIONS:
            for i, row in enumerate(report.section(section)):
                self.figures.update({(section, i, name): f for name, f in row.cells.items()})
        self.groups = _groups(report)
        self.hidden: set[Cell] = set()  # the ".." ones
        # a topic asked about in N conversations was asked at least N times
        self.floor = {("topics", i, "questions"): int(r["conversations"].value or 0) for i, r in enumerate(report.topics)
                      if not r["conversations"].suppressed}  # fmt: skip
        self.stuck_groups: set[_Group] = set()  # nothing left to hide in them (see `run`)
        self.stuck_cells: set[Cell] = set()

    def is_hidden(self, cell: Cell) -> bool:
        return self.figures[cell].suppressed or cell in self.hidden

    def value(self, cell: Cell) -> float:
        return float(self.figures[cell].value or 0)

    def shown(self, cells: Iterable[Cell]) -> list[Cell]:
        """The cells shown with a value above 0 (the candidates to hide), smallest first."""
        return sorted(
            (c for c in cells if not self.is_hidden(c) and self.value(c) > 0),
            key=lambda c: (self.value(c), c),
        )

    def bounds(self, cell: Cell) -> tuple[float, float]:
        """The least and the most a reader knows a hidden figure to be."""
        if cell not in self.hidden:  # "<5"
            return 1, (MIN_CONVERSATIONS - 1 if cell[2] in COUNTS else math.inf)
        most = 0.0  # at most the smallest figure shown beside it, in the group it was hidden for
        for group in self.groups:
            if cell in group.totals:
                return max(MIN_CONVERSATIONS, self.floor.get(cell, 0)), math.inf
            if cell in group.parts:
                beside = self.shown(group.parts)
                most = max(most, self.value(beside[0]) if beside else math.inf)
        return max(MIN_CONVERSATIONS, self.floor.get(cell, 0)), most or math.inf

    def exposed(self, group: _Group) -> bool:
        """Whether the group's sum gives a hidden figure back (or, for a union, tells anything about a "<5")."""
        hidden = [c for c in group.cells if self.is_hidden(c)]
        if not hidden:
            return False
        small = [c for c in hidden if c not in self.hidden]
        if group.union:
            if any(self.is_hidden(c) for c in group.totals):
                return False  # the parts are at most the total, which is unknown: nothing to subtract from
            rest = sum(map(self.value, group.totals)) - sum(
                self.value(c) for c in group.parts if not self.is_hidden(c)
            )
            return any(
                rest - sum(self.bounds(o)[1] for o in hidden if o != c) > self.bounds(c)[0] for c in small
            )
        if len(hidden) == 1:
            return True
        sign = {**{c: 1 for c in group.totals}, **{c: -1 for c in group.parts}}
        for cell in small:  # sign[cell] * cell == -(the sum of the others, signed)
            low = high = 0.0
            for other in group.cells:
                if other == cell:
                    continue
                if not self.is_hidden(other):
                    low += sign[other] * self.value(other)
                    high += sign[other] * self.value(other)
                else:
                    least, most = self.bounds(other)
                    low += least if sign[other] > 0 else -most
                    high += most if sign[other] > 0 else -least
            least, most = self.bounds(cell)
            if sign[cell] > 0:
                low, high = -high, -low
            if max(least, low) >= min(most, high):
                return True
        return False

    def determined(self) -> tuple[Cell, list[_Group]] | None:
        """A hidden figure that the exact sums together give back, and the sums that do it; None if there is none.

        Gauss-Jordan elimination over the hidden figures, carrying which sums each row is made of: a hidden
        figure is given back when some combination of the sums leaves it alone.
        """
        groups = [g for g in self.groups if not g.union]
        unknown = sorted({c for g in groups for c in g.cells if self.is_hidden(c)})
        column = {c: j for j, c in enumerate(unknown)}
        n = len(unknown)
        rows: list[list[Fraction]] = []
        for k, group in enumerate(groups):
            row = [Fraction(0)] * (n + len(groups))
            for cells, sign in ((group.totals, 1), (group.parts, -1)):
                for c in cells:
                    if c in column:
                        row[column[c]] += sign
            row[n + k] = Fraction(1)
            rows.append(row)
        pivots, r = [], 0
        for j in range(n):
            p = next((i for i in range(r, len(rows)) if rows[i][j]), None)
            if p is None:
                continue
            rows[r], rows[p] = rows[p], rows[r]
            rows[r] = [x / rows[r][j] for x in rows[r]]
            for i in range(len(rows)):
                if i != r and (factor := rows[i][j]):
                    rows[i] = [a - factor * b for a, b in zip(rows[i], rows[r], strict=True)]
            pivots.append((j, r))
            r += 1
        for j, i in pivots:
            if unknown[j] not in self.stuck_cells and not any(rows[i][k] for k in range(n) if k != j):
                return unknown[j], [g for k, g in enumerate(groups) if rows[i][n + k]]
        return None

    def run(self) -> set[Cell]:
        while True:
            failing = next((g for g in self.groups if g not in self.stuck_groups and self.exposed(g)), None)
            found = None if failing else self.determined()
            if failing is None and found is None:
                return self.hidden
            involved = [failing] if failing else found[1] if found else []
            parts = self.shown(c for g in involved for c in g.parts)
            totals = self.shown(c for g in involved for c in g.totals)
            if parts or totals:
                self.hidden.add((parts or totals)[0])
            elif failing:  # nothing left to hide: impossible with counts that add up, but never loop forever
                self.stuck_groups.add(failing)
            elif found:
                self.stuck_cells.add(found[0])


def protect(report: Report) -> Report:
    """The report with complementary suppression: every figure from which, with a total and the figures beside
    it, a "<5" could be worked out is hidden too, as ".." (see the comment above `Cell`)."""
    chooser = _Complement(report)
    hidden = set(chooser.run())
    is_hidden = chooser.is_hidden
    summary_rate = ("summary", 0, "fallback_rate")
    if is_hidden(("summary", 0, "questions")) or is_hidden(("summary", 0, "fallbacks")):
        hidden.add(summary_rate)
    for section in BREAKDOWNS:
        hidden |= {(section, i, "fallback_rate") for i in range(len(report.section(section)))
                   if is_hidden((section, i, "fallbacks"))}  # fmt: skip
    region_index = {row.key: i for i, row in enumerate(report.by_region)}
    hidden |= {("bookings", i, "made") for i, row in enumerate(report.bookings)
               if row.key in region_index and is_hidden(("by_region", region_index[row.key], "bookings"))}  # fmt: skip

    def rows(section: str) -> tuple[Row, ...]:
        return tuple(
            Row(
                row.key,
                row.label,
                {n: _hide(f) if (section, i, n) in hidden else f for n, f in row.cells.items()},
                row.details,
            )
            for i, row in enumerate(report.section(section))
        )

    def listed_by(name: str, section: str) -> tuple[Row, ...]:
        # shown figures largest first; hidden ones last by label, so that their place tells nothing of their size
        return tuple(sorted(rows(section), key=lambda r: (r[name].suppressed, -r[name].plot, r.label)))

    return Report(
        since=report.since,
        until=report.until,
        summary={n: _hide(f) if ("summary", 0, n) in hidden else f for n, f in report.summary.items()},
        topics=listed_by("questions", "topics"),
        bands=rows("bands"),
        unanswered=listed_by("asked", "unanswered"),
        bookings=rows("bookings"),
        by_region=rows("by_region"),
        by_lang=rows("by_lang"),
        by_week=rows("by_week"),
        by_channel=rows("by_channel"),
        by_month=rows("by_month"),
        helpful=rows("helpful"),
        notes=report.notes,
    )


def labels(content: Content) -> dict[str, dict[str, str]]:
    """The names a report shows, from the content: topic titles, developers and region names (Swedish)."""
    return {
        "topic_titles": {t.id: t.title["sv"] for t in content.topics.values()},
        "developers": {r.id: r.contact.name for r in content.regions.values()},
        "region_names": {r.id: r.name["sv"] for r in content.regions.values()},
    }


def content_age(content: Content, today: date, review_months: int = 6) -> str:
    """How old the content's facts are: the oldest and newest `reviewed` date and the topics past the review
    cycle (the same rule as `socialbot validate`), as a note for the report."""
    from bot.content.validator import stale_topics

    reviewed = sorted(topic.reviewed for topic in content.topics.values())
    if not reviewed:
        return "Innehållet har inga ämnen. (The content has no topics.)"
    oldest, newest = reviewed[0], reviewed[-1]
    days = (today - oldest).days
    stale = len(stale_topics(content, review_months, today))
    return (f"Innehållets ålder: ämnenas fakta granskades senast mellan {oldest} och {newest} (det äldsta för "
            f"{days} dagar sedan); {stale} av {len(reviewed)} ämnen är äldre än {review_months} månader och ska "
            f"granskas. (Content age: facts last reviewed {oldest} to {newest}, the oldest {days} days ago; "
            f"{stale} of {len(reviewed)} topics are older than {review_months} months and due for review.)")  # fmt: skip
