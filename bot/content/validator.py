"""`socialbot validate`: every content problem as `FILE:LINE: message`, and warnings that do not block.

Loading checks each file and the rules between files. On top of that, every example phrasing is run
through the real matcher: an example that would be answered with another topic (or a "did you mean")
is reported at its own line, so staff see at once when a new example collides with another topic.
Warnings (exit code 0): a region's contact person not yet confirmed by staff, and topics whose facts
were last reviewed longer ago than the review cycle (default six months).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from bot.content.loader import ContentError, load_content
from bot.content.model import Content
from bot.content.problems import Problem
from bot.content.yamlfile import YamlSyntaxError, read_yaml

REVIEW_MONTHS = 6  # the default review cycle: older `reviewed` dates are warned about

if TYPE_CHECKING:
    from bot.matching import TopicMatcher


@dataclass(frozen=True)
class Report:
    content: Content | None
    problems: list[Problem]  # errors and warnings (`Problem.warning`)
    stale: list[str] = field(default_factory=list)  # topics due for review, oldest first

    @property
    def ok(self) -> bool:
        """No errors (warnings, e.g. a draft translation's gaps, do not make content unusable)."""
        return not any(not problem.warning for problem in self.problems)


def validate(
    directory: Path | str,
    *,
    review_months: int = REVIEW_MONTHS,
    today: date | None = None,
    cache_dir: Path | None = None,
) -> Report:
    """`cache_dir`: where the matcher trained for the routing check is kept (unchanged content: no training)."""
    try:
        content = load_content(directory)
    except ContentError as exc:
        return Report(None, exc.problems)
    from bot.safety.crisis import crisis_problems

    warnings, stale = content_warnings(content, review_months, today or date.today())
    from bot.matching import TopicMatcher

    routing = routing_problems(content, TopicMatcher(content, cache_dir=cache_dir))
    found = [*content.warnings, *warnings, *routing, *crisis_problems(content), *readability_problems(content)]
    return Report(content, sorted(found), stale)


def content_warnings(content: Content, review_months: int, today: date) -> tuple[list[Problem], list[str]]:
    """What staff should see but need not fix at once: unconfirmed contacts, and the topics due for review
    (also returned as a list of ids, oldest first)."""
    stale = stale_topics(content, review_months, today)
    return unconfirmed_contacts(content) + [_review_warning(content, t, review_months) for t in stale], stale


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day when it has fewer days)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def stale_topics(content: Content, months: int, today: date) -> list[str]:
    """Topics whose `reviewed` date is more than `months` months before `today`, oldest first."""
    limit = months_before(today, months)
    old = [topic for topic in content.topics.values() if topic.reviewed < limit]
    return [topic.id for topic in sorted(old, key=lambda t: (t.reviewed, t.id))]


def _review_warning(content: Content, topic_id: str, months: int) -> Problem:
    topic = content.topics[topic_id]
    line = _line(content, topic.file, ("reviewed",))
    return Problem(topic.file, line, f"the facts were last reviewed {topic.reviewed}, more than {months} "
                   "months ago: check them against the sources and update `reviewed`", warning=True)  # fmt: skip


def unconfirmed_contacts(content: Content) -> list[Problem]:
    """A warning per region whose contact person staff have not confirmed (no `confirmed:` date)."""
    warnings = []
    for region in content.regions.values():
        if region.contact.confirmed is None:
            name = f"regions/{region.id}.yaml"
            line = _line(content, name, ("contact", "confirmed")) or _line(content, name, ("contact",))
            warnings.append(Problem(name, line, f"{region.contact.name} is to be confirmed before going live: "
                "the name comes from the project's sources. When staff have confirmed that this person is "
                "current and takes bookings, write the date as `confirmed: YYYY-MM-DD`", warning=True))  # fmt: skip
    return warnings


def _line(content: Content, name: str, path: tuple[str, ...]) -> int:
    if content.directory is None:
        return 1
    try:
        file, _ = read_yaml(content.directory / name, name)
        return file.line_of(path)
    except (OSError, YamlSyntaxError):  # a line number is a nicety; the warning stands without it
        return 1


def readability_problems(content: Content) -> list[Problem]:
    """Every Swedish answer harder to read than its kind allows: LIX over 30 in easy Swedish, over 45 else."""
    from bot.content.readability import EASY_SWEDISH_MAX, PLAIN_SWEDISH_MAX, lix

    limits = {"sv": (PLAIN_SWEDISH_MAX, "plain Swedish"), "sv-x-easy": (EASY_SWEDISH_MAX, "easy Swedish")}
    problems = []
    for topic in content.topics.values():
        for (region, lang), text in topic.answers.items():
            if lang not in limits:
                continue
            limit, kind = limits[lang]
            value = round(lix(text), 1)  # LIX is read to one decimal: 30.0 is "at most 30"
            if value > limit:
                file, line = topic.answer_lines.get((region, lang), (topic.file, 1))
                where = f"'{topic.id}'" + (f" for {region}" if region else "")
                problems.append(Problem(file, line, f"the answer {where} has LIX {value:.1f}; {kind} may not "
                                        f"exceed {limit}: shorter sentences, shorter and more common words"))  # fmt: skip
    return problems


def routing_problems(content: Content, matcher: TopicMatcher | None = None) -> list[Problem]:
    """Every example that `matcher` (by default one trained on `content`) would not answer with its own topic."""
    from bot.matching import TopicMatcher

    matcher = matcher or TopicMatcher(content)
    problems = []
    for topic in content.topics.values():
        for lang, examples in topic.examples.items():
            for index, example in enumerate(examples):
                match = matcher.match(example, detect_language=False)
                if match.topic == topic.id and not match.did_you_mean:
                    continue
                if match.topic is None:
                    why = "would get no answer (it looks out of scope)"
                elif match.topic != topic.id:
                    why = f"would be answered with the topic '{match.topic}'"
                else:
                    why = f"is too close to {', '.join(repr(t) for t in match.did_you_mean if t != topic.id)}"
                line = topic.example_lines.get((lang, index), 1)
                # In a draft translation this is a warning: the content still works, the example just
                # teaches the matcher less; once the language is reviewed it is an error like in Swedish.
                problems.append(Problem(topic.example_files.get(lang, topic.file), line,
                                        f"the example '{example}' {why}: reword it",
                                        warning=content.is_draft(lang)))  # fmt: skip
    return problems
