"""`socialbot review`: turning what the bot could not answer into content, without a programmer.

The kept (scrubbed) questions the bot could not answer are grouped as in the statistics and numbered, newest
group first. Staff add a group's example to a topic (in the example's language) or to the out-of-scope
examples, or dismiss it; either way the group leaves the list.

Each group has a stable id, `q` and the number of its oldest question (`q17`): shown by `--list`, the walk and
the admins' /review card, taken by `--assign`/`--out-of-scope`/`--dismiss`, and carried by the card's buttons.
A new question moves the list numbers (newest first), never an id.

A write goes through ruamel.yaml's round trip, so every comment, the key order and the quoting of the file
stay as they were: the file only gains a line. Then the content is checked exactly as `socialbot validate`
does (loading, and every example routed through a freshly trained matcher); if anything fails, the file gets
its old bytes back and staff read why. What `--list` showed is kept under the state directory (question ids and a
digest of each example, never a text): a group whose example changed since is refused until it is listed again. A
list number is refused (with the id it had in the last list): the list moves when questions come in.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from bot.content import ContentError, load_content
from bot.content.model import Content
from bot.content.validator import routing_problems
from bot.dialog.model import Choice
from bot.matching import TopicMatcher
from bot.privacy.scrub import MARKERS
from bot.stats.report import EXAMPLE_CHARS, cluster_unanswered, example_of, question_key
from bot.storage import Store, Unanswered

OUT_OF_SCOPE_FILE = "out_of_scope.yaml"
LISTING_FILE = "review-list.json"  # the numbers last shown: only question ids, never their text
LISTING_TTL = timedelta(hours=12)  # an older listing is not what staff have in front of them any more


class ReviewError(Exception):
    """A write that did not happen, with a message for staff saying why and what to do."""


@dataclass(frozen=True)
class Group:
    """Similar unanswered questions, as `review` shows them."""

    number: int
    example: str
    asked: int
    last: str  # the day it was last asked (UTC, YYYY-MM-DD)
    lang: str | None  # the chat language most of them were asked in
    ids: tuple[int, ...]
    unhelpful: int = 0  # of them answered, but the person said (👎) the answer did not help

    @property
    def ref(self) -> str:
        """The group's stable id: its oldest question's (a new question moves the numbers, never this)."""
        return f"q{min(self.ids)}"

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "id": self.ref, "asked": self.asked, "example": self.example,
                "last": self.last, "lang": self.lang, "unhelpful": self.unhelpful}  # fmt: skip


def digest(example: str) -> str:
    """A short fingerprint of a group's example: whether it is still the one that was shown, without keeping it."""
    return hashlib.sha256(example.encode("utf-8")).hexdigest()[:8]


def group_questions(questions: Sequence[Unanswered]) -> list[Group]:
    """Groups of similar questions (as the statistics group them), numbered 1... newest first."""
    texts = [q.text[:EXAMPLE_CHARS] for q in questions]
    clusters = cluster_unanswered(texts)
    clusters.sort(key=lambda members: -max(questions[i].id for i in members))  # ids grow with time
    groups = []
    for number, members in enumerate(clusters, 1):
        langs = Counter(questions[i].lang for i in members if questions[i].lang)
        groups.append(
            Group(
                number=number,
                example=example_of(texts[i] for i in members),
                asked=len(members),
                last=max(questions[i].day for i in members),
                lang=langs.most_common(1)[0][0] if langs else None,
                ids=tuple(sorted(questions[i].id for i in members)),
                unhelpful=sum(questions[i].reason == "unhelpful" for i in members),
            )
        )
    return groups


def current_groups(store: Store) -> list[Group]:
    return group_questions(store.unanswered_questions())


def save_listing(state_dir: Path, groups: Sequence[Group], now: datetime) -> None:
    """Remember what was shown: each number's questions and each id's example digest (never a text)."""
    listing = {
        "made": now.astimezone(UTC).isoformat(),
        "groups": {str(g.number): list(g.ids) for g in groups},
        "digests": {g.ref: digest(g.example) for g in groups},
    }
    state_dir.mkdir(parents=True, exist_ok=True)
    _replace(state_dir / LISTING_FILE, json.dumps(listing).encode())


REF = re.compile(r"[qQ](\d+)")


def find_group(store: Store, state_dir: Path, key: str, now: datetime) -> Group:
    """The group staff mean by `key`, an id from `--list` (`q17`). Raises ReviewError saying what to do when there
    is no such group, when its example changed since it was listed, or for a list number."""
    key = key.strip().lstrip("#")
    groups = group_questions(store.unanswered_questions())
    listing = _listing(state_dir, now)
    by_ref = {g.ref: g for g in groups}
    ref = REF.fullmatch(key)
    if ref:
        group = by_ref.get(f"q{ref.group(1)}")
        if group is None:
            holder = next((g for g in groups if int(ref.group(1)) in g.ids), None)
            if holder is not None:
                raise ReviewError(f"the question {key} is now part of the group {holder.ref} ('{holder.example}'): "
                                  "see `socialbot review --list`")  # fmt: skip
            raise ReviewError(f"there is no group {key} (any more): it was handled, dismissed or deleted. "
                              "See `socialbot review --list`")  # fmt: skip
        shown = (listing or {}).get("digests", {}).get(group.ref)
        if shown is not None and shown != digest(group.example):
            raise ReviewError(f"the group {group.ref} has changed since it was listed: its example is now "
                              f"'{group.example}'. List it again (`socialbot review --list`) and check")  # fmt: skip
        return group
    if not key.isdigit():
        raise ReviewError(f"'{key}' is not a group id: give the id that `socialbot review --list` shows first on "
                          "the line, such as q17")  # fmt: skip
    # A list number is never taken: the list moves whenever a question comes in, and the last list shown may
    # have been someone else's, so no number can be known to mean the group its writer saw.
    listed = (listing or {}).get("groups", {}).get(key)
    hint = ""
    if listed:
        was = f"q{min(listed)}"
        hint = f" In the list shown last, {key} was {was}" + (f" ('{by_ref[was].example}')" if was in by_ref else
                                                              " (handled since)") + "."  # fmt: skip
    raise ReviewError(f"'{key}' is a list number, and list numbers move when questions come in: give the group's "
                      f"id instead, which `socialbot review --list` shows first on the line (such as q17).{hint}")


def _listing(state_dir: Path, now: datetime) -> dict[str, Any] | None:
    """What `--list` showed last, if it was within `LISTING_TTL`."""
    try:
        listing = json.loads((state_dir / LISTING_FILE).read_text(encoding="utf-8"))
        made = datetime.fromisoformat(listing["made"])
        if not isinstance(listing.get("groups"), dict) or not isinstance(listing.get("digests"), dict):
            return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return listing if now - made <= LISTING_TTL else None


# --- writing into the content --------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    """An example added to the content, checked."""

    file: str  # relative to the content directory
    line: int
    lang: str
    text: str
    target: str | None  # the topic id, None for the out-of-scope examples
    routes_to: str | None  # what the matcher trained on the new content answers it with (None: no answer)
    score: float
    content: Content
    matcher: TopicMatcher

    def describe(self) -> str:
        where = f"the topic '{self.target}'" if self.target else "the out-of-scope examples"
        now = (
            f"the topic '{self.routes_to}'" if self.routes_to else "no topic (the bot says it does not know)"
        )
        return (f"added '{self.text}' ({self.lang}) to {where} at {self.file}:{self.line}; "
                f"the bot now answers it with {now} (score {self.score:.2f})")  # fmt: skip


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()  # round trip: comments, key order and quoting survive
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long line that was one line
    yaml.indent(mapping=2, sequence=4, offset=2)  # the content's style: "  sv:\n    - example"
    yaml.representer.add_representer(
        type(None), lambda representer, _: representer.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    return yaml


def _replace(path: Path, data: bytes) -> None:
    """Write `data` to `path` all at once: a reader (the running bot) sees the old file or the new, never half."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _only_added(before: str, after: str) -> list[int]:
    """The (1-based) numbers of the lines `after` adds to `before`; raises if anything else changed."""
    added: list[int] = []
    matcher = difflib.SequenceMatcher(a=before.splitlines(True), b=after.splitlines(True), autojunk=False)
    for tag, _, _, j1, j2 in matcher.get_opcodes():
        if tag == "insert":
            added += range(j1 + 1, j2 + 1)
        elif tag != "equal":
            raise ReviewError("the file's layout could not be kept exactly; add the example by hand")
    return added


def example_text(text: str) -> str:
    """One line, as an example is written: whitespace evened out, at most EXAMPLE_CHARS characters."""
    return " ".join(text.split())[:EXAMPLE_CHARS].strip()


def add_example(content_dir: Path, target: str | None, text: str, lang: str,
                also: Callable[[], object] | None = None) -> Written:  # fmt: skip
    """Add `text` as an example in `lang` to topic `target` (None: to the out-of-scope examples), then check the
    content as `validate` does. On any failure the file is put back as it was and `ReviewError` says why.

    `also` runs last, inside the same guard: when it fails (say, the database is locked), the write is undone too.
    """
    text = example_text(text)
    if not text:
        raise ReviewError("the question is empty once personal data is removed: nothing to add")
    try:
        content = load_content(content_dir)
    except ContentError as exc:
        raise ReviewError(_problems("the content has problems already; fix them first (socialbot validate)",
                                    content_dir, exc.problems)) from exc  # fmt: skip
    name, where = _place(content_dir, content, target, lang)
    path = content_dir / name
    original = path.read_bytes()
    try:
        written = _write_and_check(content_dir, path, name, where, original, target, text, lang)
        if also is not None:
            also()
    except BaseException as exc:
        if path.read_bytes() != original:
            _replace(path, original)
        if isinstance(exc, ReviewError):
            raise ReviewError(f"{exc}\nNothing was changed: {name} is as it was.") from exc
        if isinstance(exc, Exception):
            raise ReviewError(f"the example could not be added ({type(exc).__name__}: {exc}).\n"
                              f"Nothing was changed: {name} is as it was.") from exc  # fmt: skip
        raise
    return written


def _place(content_dir: Path, content: Content, target: str | None, lang: str) -> tuple[str, tuple[str, ...]]:
    """The file and the keys of the list the example goes in: a topic's (or the out-of-scope) examples in Swedish
    and English are in its own file, a translation's in languages/<lang>.yaml."""
    if target is not None and target not in content.topics:
        close = difflib.get_close_matches(target, list(content.topics), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else " `socialbot export` lists the topics."
        raise ReviewError(f"there is no topic '{target}'.{hint}")
    name = OUT_OF_SCOPE_FILE if target is None else content.topics[target].file
    if lang in ("sv", "en"):
        return name, ("examples", lang)
    translation = f"languages/{lang}.yaml"
    if target is not None and (content_dir / translation).is_file():
        return translation, ("topics", target, "examples")
    raise ReviewError(f"the content has no {'out-of-scope ' if target is None else ''}examples in '{lang}' "
                      "to add to: choose another language with --lang (sv or en)")  # fmt: skip


def _write_and_check(content_dir: Path, path: Path, name: str, where: tuple[str, ...], original: bytes,
                     target: str | None, text: str, lang: str) -> Written:  # fmt: skip
    yaml = _yaml()
    # A file saved on Windows (a byte order mark, CRLF line ends) is written back the same way, only one line longer.
    bom = original.startswith(b"\xef\xbb\xbf")
    crlf = b"\r\n" in original and original.count(b"\n") == original.count(b"\r\n")  # (mixed ends: refused below)
    before = original.decode("utf-8-sig")
    before = before.replace("\r\n", "\n") if crlf else before
    data = yaml.load(before)
    parent = data
    for key in where[:-1]:
        if not isinstance(parent, dict) or not isinstance(parent.get(key), dict):
            raise ReviewError(f"{name} has no '{key}' to add the example to; add it by hand")
        parent = parent[key]
    if parent.get(where[-1]) is None:
        parent[where[-1]] = []
    examples = parent[where[-1]]
    if not isinstance(examples, list):
        raise ReviewError(f"{name}: '{'.'.join(where)}' is not a list; add the example by hand")
    if any(question_key(str(e)) == question_key(text) for e in examples):
        raise ReviewError(f"'{text}' is already an example in {name} ({lang})")
    examples.append(text)
    out = io.StringIO()
    yaml.dump(data, out)
    added = _only_added(before, out.getvalue())
    written = out.getvalue().replace("\n", "\r\n") if crlf else out.getvalue()
    _replace(path, ("\ufeff" if bom else "").encode("utf-8") + written.encode("utf-8"))

    try:  # the checks of `socialbot validate`, with one matcher trained for them and for the answer below
        content = load_content(content_dir)
    except ContentError as exc:
        raise ReviewError(_problems("the content would not load with it", content_dir, exc.problems)) from exc
    matcher = TopicMatcher(content)
    problems = [p for p in routing_problems(content, matcher) if not p.warning]  # as validate: warnings pass
    if problems:
        raise ReviewError(_problems("with it, `socialbot validate` fails", content_dir, problems))
    match = matcher.match(text)
    if target is None and match.topic is not None:
        raise ReviewError(f"even as an out-of-scope example, '{text}' would be answered with the topic "
                          f"'{match.topic}': add it to that topic instead, or dismiss it")  # fmt: skip
    line = next((n for n in added if text in out.getvalue().splitlines()[n - 1]), added[-1] if added else 1)
    return Written(name, line, lang, text, target, match.topic, match.score, content, matcher)


def _problems(headline: str, content_dir: Path, problems: Sequence[object], limit: int = 10) -> str:
    lines = [f"{headline}:"] + [f"  {content_dir}/{p}" for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"  ... and {len(problems) - limit} more")
    return "\n".join(lines)


def example_lang(group: Group, matcher: TopicMatcher, lang: str | None = None) -> str:
    """The language to file the example under: as asked for, else as its words say, else the chat's."""
    return lang or matcher.language(group.example) or group.lang or "sv"


# --- the interactive walk -----------------------------------------------------------------------------

def removed_data(text: str) -> list[str]:
    """The markers of personal data the scrubber removed ("[namn]", "[telefon]" …) in `text`, in the order they stand.
    An example with them teaches the matcher the markers, not the question (the outside tester's U6-d)."""
    return sorted((marker for marker in MARKERS if marker in text), key=text.index)


def removed_data_warning(markers: Sequence[str]) -> str:
    return (f"this example contains removed personal data ({', '.join(markers)}): as it is, it would teach the bot "
            f"those markers rather than the question")


HELP = ("  1-3 or a topic id = add it to that topic · o = out of scope · d = dismiss · "
        "s or Enter = skip · q = quit")  # fmt: skip


def walk(store: Store, content_dir: Path, state_dir: Path, matcher: TopicMatcher, content: Content,
         stdin: TextIO, stdout: TextIO, now: datetime) -> int:  # fmt: skip
    """Go through the groups newest first, asking what to do with each. Works with piped stdin too."""
    groups = current_groups(store)
    save_listing(state_dir, groups, now)
    if not groups:
        print("No unanswered questions to review.", file=stdout)
        return 0
    done = 0
    for group in groups:
        ranking = [topic for topic, _ in matcher.match(group.example).ranking]
        _show(group, len(groups), matcher, content, ranking, stdout)
        while True:
            print("> ", end="", file=stdout, flush=True)
            line = stdin.readline()
            if not line or line.strip().lower() == "q":
                print(f"\n{done} group(s) handled.", file=stdout)
                return 0
            answer = line.strip()
            if answer.lower() in ("", "s"):
                break
            try:
                if answer.lower() == "d":
                    store.delete_unanswered(group.ids)
                    print(f"  dismissed: '{group.example}'", file=stdout)
                else:
                    target = None if answer.lower() == "o" else _topic_choice(answer, ranking)
                    markers = removed_data(group.example)
                    if markers:
                        print(f"  {removed_data_warning(markers)}; add it anyway? [y/N] ", end="", file=stdout,
                              flush=True)  # fmt: skip
                        if stdin.readline().strip().lower() not in ("y", "yes", "j", "ja"):
                            print("  not added: skip it (s), or add an edited example with "
                                  f"`socialbot review --assign {group.ref} TOPIC --text '…'`", file=stdout)
                            continue
                    lang = example_lang(group, matcher)
                    print("  checking the content (as `socialbot validate` does)...", file=stdout, flush=True)
                    written = add_example(content_dir, target, group.example, lang,
                                          also=partial(store.delete_unanswered, group.ids))  # fmt: skip
                    matcher, content = written.matcher, written.content
                    print(f"  ok: {written.describe()}", file=stdout)
            except ReviewError as exc:
                print(f"  not done: {exc}", file=stdout)
                print(HELP, file=stdout)
                continue
            done += 1
            break
    print(f"\nThat was all. {done} group(s) handled.", file=stdout)
    return 0


def _topic_choice(answer: str, ranking: Sequence[str]) -> str:
    if answer.isdigit():
        if 1 <= int(answer) <= len(ranking):
            return ranking[int(answer) - 1]
        raise ReviewError(f"there is no suggestion {answer}")
    return answer


def asked(times: int) -> str:
    """"1 time", "3 times" (never "1 times"): --list keeps the number, for scripts."""
    return f"{times} time" if times == 1 else f"{times} times"


def _show(group: Group, total: int, matcher: TopicMatcher, content: Content, ranking: Sequence[str],
          stdout: TextIO) -> None:  # fmt: skip
    match = matcher.match(group.example)
    print(f"\n[{group.number}/{total}] {group.ref}, asked {asked(group.asked)}, last {group.last}"
          f"{f' (chat in {group.lang})' if group.lang else ''}", file=stdout)  # fmt: skip
    print(f"  “{group.example}”", file=stdout)
    if group.unhelpful:
        print(
            f"  {group.unhelpful} of them got an answer that the person said did not help (👎).", file=stdout
        )
    if match.topic:
        print(f"  The bot now answers it with '{match.topic}' (score {match.score:.2f}).", file=stdout)
    else:
        print("  The bot still has no answer for it.", file=stdout)
    for i, topic in enumerate(ranking, 1):
        title = content.topics[topic].title.get("sv", topic) if topic in content.topics else topic
        print(f"    {i}) {topic}: {title}", file=stdout)
    print(HELP, file=stdout)


# --- /review in the admins' Telegram chats ------------------------------------------------------------

# Button data of the admin review: rv:<action>:<group id number>.<example digest>[:<topic>]. The id is stable; the
# digest makes a press on a group whose example changed since its card was shown show the card again instead.
ADMIN_PREFIX = "rv:"


@dataclass(frozen=True)
class Card:
    """One group shown to an admin in a chat, with its buttons."""

    text: str
    choices: tuple[Choice, ...] = ()


def admin_card(
    store: Store, matcher: TopicMatcher, content: Content, position: int = 0, note: str = ""
) -> Card:
    """The group at `position` (newest first) with buttons to add it to a suggested topic, mark it out of scope,
    drop it or skip it."""
    groups = current_groups(store)
    prefix = f"{note}\n\n" if note else ""
    if position >= len(groups):
        return Card(prefix + ("Inga fler obesvarade frågor att gå igenom." if groups else
                              "Inga obesvarade frågor att gå igenom."))  # fmt: skip
    group = groups[position]
    ref = f"{min(group.ids)}.{digest(group.example)}"
    match = matcher.match(group.example)
    times = "en gång" if group.asked == 1 else f"{group.asked} gånger"
    now = f"Boten svarar nu med ”{match.topic}”." if match.topic else "Boten har inget svar."
    if group.unhelpful:
        now += f" {group.unhelpful} av dem tyckte att svaret inte hjälpte (👎)."
    text = (f"{prefix}Fråga {position + 1} av {len(groups)} ({group.ref}), ställd {times}, senast {group.last}:\n"
            f"”{group.example}”\n{now}\nVilket ämne hör den till?")  # fmt: skip
    choices = [
        Choice(f"+ {content.topics[topic].title.get('sv', topic)}"[:60], f"{ADMIN_PREFIX}a:{ref}:{topic}")
        for topic, _ in match.ranking
        if topic in content.topics
    ]
    choices += [
        Choice("Utanför bottens ämnen", f"{ADMIN_PREFIX}o:{ref}"),
        Choice("Ta bort", f"{ADMIN_PREFIX}d:{ref}"),
        Choice("Hoppa över", f"{ADMIN_PREFIX}s:{ref}"),
    ]
    return Card(text, tuple(choices))


@dataclass(frozen=True)
class AdminResult:
    card: Card
    written: Written | None = None  # when the content changed: its new matcher, until the bot reloads


def admin_press(
    store: Store, content_dir: Path, data: str, matcher: TopicMatcher, content: Content
) -> AdminResult:
    """Do what an admin's button says, then show the next group. Blocking (a write trains a matcher)."""
    action, _, rest = data.removeprefix(ADMIN_PREFIX).partition(":")
    ref, _, topic = rest.partition(":")
    number, _, shown = ref.partition(".")  # a button from before the digest carries the number alone
    groups = current_groups(store)
    position = next((i for i, g in enumerate(groups) if g.ref == f"q{number}"), None)
    if position is None:
        holder = next((i for i, g in enumerate(groups) if number.isdigit() and int(number) in g.ids), None)
        if holder is None:
            return AdminResult(admin_card(store, matcher, content, 0, "Den frågan är redan hanterad."))
        return AdminResult(admin_card(store, matcher, content, holder,
                                      "Frågan hör nu till en annan grupp; så här ser den ut nu."))  # fmt: skip
    group = groups[position]
    if shown and shown != digest(group.example) and action != "s":
        return AdminResult(admin_card(store, matcher, content, position,
                                      "Frågan har ändrats sedan den visades; så här ser den ut nu."))  # fmt: skip
    if action == "s":
        return AdminResult(admin_card(store, matcher, content, position + 1))
    if action == "d":
        store.delete_unanswered(group.ids)
        return AdminResult(admin_card(store, matcher, content, position, f"Borttagen: ”{group.example}”."))
    if action not in ("a", "o"):
        return AdminResult(admin_card(store, matcher, content, position))
    try:
        written = add_example(content_dir, topic if action == "a" else None, group.example,
                              example_lang(group, matcher), also=partial(store.delete_unanswered, group.ids))  # fmt: skip
    except ReviewError as exc:
        return AdminResult(admin_card(store, matcher, content, position + 1, f"Inte gjort: {exc}"))
    note = f"Klart: {written.describe()}"
    return AdminResult(admin_card(store, written.matcher, written.content, position, note), written)
