"""`socialbot validate`: every content problem as `FILE:LINE: message`.

Loading checks each file and the rules between files. On top of that, every example phrasing is run
through the real matcher: an example that would be answered with another topic (or a "did you mean")
is reported at its own line, so staff see at once when a new example collides with another topic.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.content.loader import ContentError, load_content
from bot.content.model import Content
from bot.content.problems import Problem

if TYPE_CHECKING:
    from bot.matching import TopicMatcher


@dataclass(frozen=True)
class Report:
    content: Content | None
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        """No errors (warnings, e.g. a draft translation's gaps, do not make content unusable)."""
        return not any(not problem.warning for problem in self.problems)


def validate(directory: Path | str) -> Report:
    try:
        content = load_content(directory)
    except ContentError as exc:
        return Report(None, exc.problems)
    from bot.safety.crisis import crisis_problems

    problems = [*content.warnings, *routing_problems(content), *crisis_problems(content), *readability_problems(content)]
    return Report(content, sorted(problems))


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
