"""Merging each language file (content/languages/<code>.yaml) into the topics, regions and dialog texts.

Every text is checked against its Swedish original: the same dialog text keys, the same {placeholders},
organisations and topics that exist. A text a draft language still lacks is a warning (the bot falls back
to English or Swedish meanwhile); in a reviewed language it is an error.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace

from bot.content import schema
from bot.content.languages import Language, Localized, base_language
from bot.content.model import PLACEHOLDER, PLACEHOLDERS, Listing, Region, Topic
from bot.content.problems import Problem, did_you_mean
from bot.content.yamlfile import YamlFile

LanguageFiles = Mapping[str, tuple[YamlFile, schema.LanguageFile]]


def merge_languages(
    language_files: LanguageFiles,
    languages: Mapping[str, Language],
    topics: dict[str, Topic],
    regions: dict[str, Region],
    texts: dict[str, Localized],
    topic_files: list[tuple[YamlFile, schema.TopicFile]],
    region_files: list[tuple[YamlFile, schema.RegionFile]],
    texts_file: tuple[YamlFile, schema.TextsFile] | None,
    out_of_scope: dict[str, tuple[str, ...]],
    words: dict[str, dict[str, tuple[str, ...]]],
    *,
    unread: Collection[str] = (),
) -> list[Problem]:
    """Merges every language file into the topics, regions, texts and `out_of_scope` (by language); returns
    the problems found. `unread` names topics and regions whose own file has problems already reported:
    their sections are skipped, not reported once more as unknown in every language."""
    problems: list[Problem] = []
    swedish_topics = {model.id: model for _, model in topic_files}
    for code, (file, model) in language_files.items():
        merge = _Merge(code, file, model, languages[code], unread)
        merge.status()
        merge.texts(texts)
        merge.regions(regions)
        merge.topics(topics, swedish_topics)
        merge.out_of_scope(out_of_scope)
        merge.words(words)
        problems += merge.problems
    return problems


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


class _Merge:
    def __init__(
        self, code: str, file: YamlFile, model: schema.LanguageFile, language: Language, unread: Collection[str]
    ) -> None:
        self.code = code
        self.unread = unread
        self.file = file
        self.model = model
        self.language = language
        self.draft = model.status == "draft" or language.draft
        self.problems: list[Problem] = []
        self.seen: dict[str, tuple[str, int]] = {}  # folded topic example -> (topic, line)

    def error(self, path: tuple[str | int, ...], message: str, about: str = "") -> None:
        self.problems.append(replace(self.file.problem(path, message), about=about))

    def missing(self, path: tuple[str | int, ...], message: str) -> None:
        """Something not translated yet: a warning in a draft language (it falls back), else an error."""
        if self.draft:
            fallback = "Swedish" if base_language(self.code) == "sv" else "English"
            problem = self.file.problem(path, f"{message} (shown in {fallback} until it is written)")
            self.problems.append(Problem(problem.file, problem.line, problem.message, warning=True))
        else:
            self.error(path, message)

    def status(self) -> None:
        model = self.model
        if model.status != self.language.status:
            self.error(
                ("status",),
                f"the status '{model.status}' differs from languages.yaml ('{self.language.status}'): "
                "write the same in both",
            )
        if model.status == "reviewed" and not (model.reviewed_by and model.reviewed):
            self.error(("status",), "a reviewed language needs `reviewed_by` (a name) and `reviewed` (a date)")

    def texts(self, texts: dict[str, Localized]) -> None:
        for key, text in self.model.texts.items():
            if key not in texts:
                hint = did_you_mean(key, texts)
                # about: when texts.yaml cannot be read, every key here is unknown; that is folded under its cause
                self.error(("texts", key), f"unknown dialog text '{key}'{hint}", "texts.yaml")
                continue
            if self.same_placeholders(("texts", key), text, texts[key]["sv"], f"the dialog text '{key}'"):
                texts[key][self.code] = text
        absent = [key for key in texts if key not in self.model.texts]
        if absent:
            self.missing(("texts",), f"{_count(absent, 'dialog text')} missing: {', '.join(absent)}")

    def same_placeholders(self, path: tuple[str | int, ...], text: str, swedish: str, what: str,
                          source: str = "") -> bool:  # fmt: skip
        """`source`: the Swedish text's file. A typo in a placeholder there (reported in that file) unsettles every
        translation of it: those problems are marked as following from it, and folded under it."""
        ok = True
        typo = bool(source) and any(name not in PLACEHOLDERS for name in placeholders(swedish))
        about = source if typo else ""
        for name in sorted(placeholders(text) - placeholders(swedish)):
            known = name in PLACEHOLDERS or what.startswith("the dialog text")
            why = "the Swedish text does not have it" if known else "there is no such placeholder"
            self.error(path, f"{what} has the placeholder {{{name}}}, but {why}", about)
            ok = False
        for name in sorted(placeholders(swedish) - placeholders(text)):
            self.error(path, f"{what} lacks the placeholder {{{name}}} that the Swedish text has", about)
            ok = False
        return ok

    def regions(self, regions: dict[str, Region]) -> None:
        for region_id, translated in self.model.regions.items():
            region = regions.get(region_id)
            if region is None:
                if region_id in self.unread:
                    continue
                self.error(("regions", region_id), f"unknown region '{region_id}' (known: {', '.join(regions)})",
                           f"regions/{region_id}.yaml")
                continue
            if translated.name:
                region.name[self.code] = translated.name  # type: ignore[index]
            if translated.contact_role:
                region.contact.role[self.code] = translated.contact_role  # type: ignore[index]
            else:
                self.missing(("regions", region_id), f"no contact_role for the region '{region_id}' (the contact's job title)")
            if translated.place:
                path = ("regions", region_id, "place")
                if self.same_placeholders(path, translated.place, region.place["sv"], "the meeting place"):
                    region.place[self.code] = translated.place  # type: ignore[index]
            for kind in ("organisations", "enterprises"):
                listings: tuple[Listing, ...] = getattr(region, kind)
                by_name = {listing.name: listing for listing in listings}
                for name, what in getattr(translated, kind).items():
                    if name not in by_name:
                        hint = did_you_mean(name, by_name)
                        self.error(
                            ("regions", region_id, kind, name),
                            f"no {kind[:-1]} named '{name}' in regions/{region_id}.yaml{hint}",
                        )
                        continue
                    by_name[name].what[self.code] = what  # type: ignore[index]

    def words(self, words: dict[str, dict[str, tuple[str, ...]]]) -> None:
        """The words this language's readers write for yes, no, thanks, /book ...: every kind of words.yaml."""
        for kind, entries in self.model.words.items():
            if kind not in words:
                hint = did_you_mean(kind, words)
                self.error(("words", kind), f"unknown kind of words '{kind}'{hint} (the kinds are in words.yaml)")
                continue
            words[kind][self.code] = tuple(entries)
        for index, word in yes_and_no(self.model.words.get("yes", []), self.model.words.get("no", [])):
            self.error(("words", "no", index), f"'{word}' is both a yes and a no word")
        absent = [kind for kind in words if kind not in self.model.words]
        if absent and base_language(self.code) != "sv":  # Lätt svenska reads the Swedish words
            self.missing(("words",) if self.model.words else (), f"no words for: {', '.join(absent)} "
                         "(the words people write for these, see words.yaml)")  # fmt: skip

    def out_of_scope(self, out_of_scope: dict[str, tuple[str, ...]]) -> None:
        """Questions no topic answers: never one of this language's topic examples, never twice."""
        from bot.matching.normalize import fold

        kept: dict[str, int] = {}
        for index, example in enumerate(self.model.out_of_scope):
            key, line = fold(example), self.file.line_of(("out_of_scope", index))
            if key in self.seen:
                topic, other_line = self.seen[key]
                self.error(("out_of_scope", index), f"'{example}' is an example of the topic '{topic}' "
                           f"({self.file.name}:{other_line}), so it cannot be out of scope too")  # fmt: skip
            elif key in kept:
                self.error(("out_of_scope", index), f"'{example}' is already out of scope ({self.file.name}:{kept[key]})")
            else:
                kept[key] = line
        if self.model.out_of_scope:
            out_of_scope[self.code] = tuple(self.model.out_of_scope)

    def topics(self, topics: dict[str, Topic], swedish: Mapping[str, schema.TopicFile]) -> None:
        seen = self.seen
        for topic_id, translated in self.model.topics.items():
            topic = topics.get(topic_id)
            if topic is None:
                if topic_id in self.unread:
                    continue
                hint = did_you_mean(topic_id, topics)
                self.error(("topics", topic_id), f"unknown topic '{topic_id}'{hint}", f"topics/{topic_id}.yaml")
                continue
            self.topic(topic, translated, swedish[topic_id], seen)
        absent = [topic_id for topic_id in topics if topic_id not in self.model.topics]
        if absent:
            self.missing(("topics",), f"{_count(absent, 'topic')} not translated: {', '.join(absent)}")

    def topic(
        self,
        topic: Topic,
        translated: schema.LanguageTopic,
        swedish: schema.TopicFile,
        seen: dict[str, tuple[str, int]],
    ) -> None:
        from bot.matching.normalize import fold

        path: tuple[str | int, ...] = ("topics", topic.id)
        source = f"topics/{topic.id}.yaml"  # (a topic file is named by its id: the loader checks)
        if translated.title:
            topic.title[self.code] = translated.title  # type: ignore[index]
        else:
            self.missing(path, f"the topic '{topic.id}' has no title")
        answers = topic.answers  # a dict while loading
        if translated.answer:
            original = swedish.answer.sv if swedish.answer else _any_region(swedish)
            if self.same_placeholders((*path, "answer"), translated.answer, original, "the answer", source):
                answers[(None, self.code)] = translated.answer  # type: ignore[index]
                topic.answer_lines[(None, self.code)] = (self.file.name, self.file.line_of((*path, "answer")))  # type: ignore[index]
        for region_id, text in translated.regions.items():
            if region_id not in swedish.regions and swedish.answer is None:
                self.error((*path, "regions", region_id), f"unknown region '{region_id}'")
                continue
            original = swedish.regions[region_id].sv if region_id in swedish.regions else swedish.answer.sv  # type: ignore[union-attr]
            if self.same_placeholders((*path, "regions", region_id), text, original, "the answer", source):
                answers[(region_id, self.code)] = text  # type: ignore[index]
                line = self.file.line_of((*path, "regions", region_id))
                topic.answer_lines[(region_id, self.code)] = (self.file.name, line)  # type: ignore[index]
        if not translated.answer and not translated.regions:
            self.missing(path, f"the topic '{topic.id}' has no answer")
        elif not translated.answer and swedish.answer is None:
            for region_id in swedish.regions:
                if region_id not in translated.regions:
                    self.missing((*path, "regions"), f"no answer for the region '{region_id}'")
        examples = tuple(translated.examples)
        if base_language(self.code) != "sv" and len(examples) < schema.MIN_TRANSLATED_EXAMPLES:
            self.error(
                (*path, "examples"),
                f"only {len(examples)} examples for '{topic.id}': write at least "
                f"{schema.MIN_TRANSLATED_EXAMPLES}, the way people would ask",
            )
        if examples:
            topic.examples[self.code] = examples  # type: ignore[index]
            topic.example_files[self.code] = self.file.name  # type: ignore[index]
        for index, example in enumerate(examples):
            line = self.file.line_of((*path, "examples", index))
            topic.example_lines[(self.code, index)] = line  # type: ignore[index]
            key = fold(example)
            if key in seen:
                other, other_line = seen[key]
                where = "this topic" if other == topic.id else f"the topic '{other}'"
                self.error(
                    (*path, "examples", index),
                    f"the example '{example}' is already in {where} ({self.file.name}:{other_line})",
                )
            else:
                seen[key] = (topic.id, line)


def _any_region(swedish: schema.TopicFile) -> str:
    return " ".join(text.sv for text in swedish.regions.values())


def _count(items: list[str], noun: str) -> str:
    return f"1 {noun} is" if len(items) == 1 else f"{len(items)} {noun}s are"


def yes_and_no(yes: list[str], no: list[str]) -> list[tuple[int, str]]:
    """(index in `no`, word) for every no word that is also a yes word (folded, word by word)."""
    from bot.matching.normalize import fold

    yes_words = {word for entry in yes for word in fold(entry).split()}
    return [(index, entry) for index, entry in enumerate(no) if set(fold(entry).split()) & yes_words]
