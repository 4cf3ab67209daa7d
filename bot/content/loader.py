"""Loading the content directory into a checked `Content`, or every problem with its file and line."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, RootModel, ValidationError

from bot.booking.slots import Availability
from bot.content import schema
from bot.content.catalogue import ACTION_TOPICS, REGIONS, REQUIRED_TOPICS
from bot.content.languages import DEFAULT_LANGUAGES, Language, Localized, Notice, read_language_list
from bot.content.model import PLACEHOLDER, PLACEHOLDERS, Contact, Content, Crisis, Listing, Region, Topic
from bot.content.problems import Problem, did_you_mean
from bot.content.yamlfile import YamlFile, YamlSyntaxError, read_yaml

M = TypeVar("M", bound=BaseModel)
LANG_NAMES = {"sv": "Swedish (sv)", "en": "English (en)"}


class ContentError(Exception):
    """The content cannot be used; `problems` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda problem: (not problem.unreadable, problem))
        summary = "\n".join(str(p) for p in self.problems[:20])
        more = len(self.problems) - 20
        super().__init__(summary + (f"\n... and {more} more" if more > 0 else ""))


def load_content(directory: Path | str, *, today: date | None = None) -> Content:
    """Read and check every content file. Raises `ContentError` listing all problems found."""
    directory = Path(directory)
    problems: list[Problem] = []
    if not directory.is_dir():
        raise ContentError([Problem(str(directory), 0, "the content directory does not exist")])

    topic_files = _parse_all(directory, "topics", schema.TopicFile, problems)
    region_files = _parse_all(directory, "regions", schema.RegionFile, problems)
    synonyms = _parse_one(directory, "synonyms.yaml", schema.SynonymsFile, problems)
    out_of_scope = _parse_one(directory, "out_of_scope.yaml", schema.OutOfScopeFile, problems)
    crisis = _parse_one(directory, "crisis.yaml", schema.CrisisFile, problems)
    if crisis is None and not (directory / "crisis.yaml").exists():
        problems.append(Problem("crisis.yaml", 0, "the crisis file is missing: the bot must always be able "
                                "to answer a person in crisis"))  # fmt: skip

    languages = _languages(directory, problems)
    texts = _parse_one(directory, "texts.yaml", schema.TextsFile, problems)
    notices = _parse_one(directory, "notices.yaml", schema.NoticesFile, problems)
    words_file = _parse_one(directory, "words.yaml", schema.WordsFile, problems)
    words = {kind: {"sv": tuple(w.sv), "en": tuple(w.en)} for kind, w in words_file[1].root.items()} if words_file else {}
    language_files = _language_files(directory, languages, problems)

    regions = {model.id: _region(model) for _, model in region_files}
    topics = {model.id: _topic(model, file) for file, model in topic_files}
    dialog_texts = {key: Localized(text.model_dump()) for key, text in texts[1].root.items()} if texts else {}
    from bot.content.translations import merge_languages

    out_of_scope_examples = (
        {"sv": tuple(out_of_scope[1].examples.sv), "en": tuple(out_of_scope[1].examples.en)} if out_of_scope else {}
    )
    # A file that failed to parse still names a topic (or region): do not also report it as unknown everywhere.
    present = {path.stem for path in (directory / "topics").glob("*.y*ml")}
    present_regions = {path.stem for path in (directory / "regions").glob("*.y*ml")}
    unread = (present - set(topics)) | (present_regions - set(regions))
    problems += merge_languages(language_files, languages, topics, regions, dialog_texts, topic_files,
                                region_files, texts, out_of_scope_examples, words, unread=unread)  # fmt: skip
    if words_file:
        problems += _word_conflicts(*words_file)
    problems += _cross_checks(topic_files, region_files, out_of_scope, today or date.today(), present, present_regions)
    errors = [problem for problem in problems if not problem.warning]
    if errors:
        raise ContentError(_missing_files_at_their_references(_fold_consequences(errors)))
    return Content(
        topics=dict(sorted(topics.items())),
        regions={r: regions[r] for r in sorted(regions, key=_region_order)},
        synonyms={k.lower(): v for k, v in (synonyms[1].synonyms.items() if synonyms else [])},
        out_of_scope=out_of_scope_examples,
        directory=directory,
        crisis=_crisis(*crisis) if crisis else None,
        languages=tuple(
            code for code in languages if code in DEFAULT_LANGUAGES or code in language_files
        ),
        language_info=languages,
        texts=dialog_texts,
        words=words,
        warnings=tuple(sorted(problem for problem in problems if problem.warning)),
        notices={
            code: Notice(code, n.name, n.text, n.dir, draft=n.reviewed is None)
            for code, n in (notices[1].root.items() if notices else [])
        },
    )


def _fold_consequences(problems: list[Problem]) -> list[Problem]:
    """A file with a problem of its own (texts.yaml missing one English line, a placeholder typo in a Swedish answer)
    makes problems in other files that refer to it (every dialog text in every language file 'unknown'; every
    translation of the answer 'lacks the placeholder'). Those are not the staff's to fix: they are summed up in one
    line under their cause, which is listed first (the outside user tester's U6-a: 853 lines, the real one last)."""
    causes: dict[str, Problem] = {}
    for problem in sorted(problems):
        if problem.line > 0 and not problem.about:
            causes.setdefault(problem.file, problem)  # a missing file (line 0) is _missing_files_at_their_references'
    following: dict[str, list[Problem]] = {}
    for problem in problems:
        if problem.about in causes and problem.file != problem.about:
            following.setdefault(problem.about, []).append(problem)
    if not following:
        return problems
    folded = {id(problem) for found in following.values() for problem in found}
    result = [problem for problem in problems if id(problem) not in folded and problem.file not in following]
    for file, cause in causes.items():
        mine = [problem for problem in problems if problem.file == file and id(problem) not in folded]
        if file not in following:
            continue
        files = sorted({problem.file for problem in following[file]})
        named = ", ".join(files[:3]) + (f" and {len(files) - 3} more file(s)" if len(files) > 3 else "")
        count = len(following[file])
        summary = (f"; {count} problem{'s' if count > 1 else ''} in {named} follow from this one and are not "
                   "listed: they go away once it is fixed")  # fmt: skip
        result.append(replace(cause, message=cause.message + summary, unreadable=True))
        result += [problem for problem in mine if problem is not cause]
    return result


def _missing_files_at_their_references(problems: list[Problem]) -> list[Problem]:
    """A required file that is missing (line 0: it has no lines) is the cause of every "unknown ..." reference to
    it. Staff are told at the first reference, a real line, that the file is missing; the other references follow
    it (ContentError lists causes first)."""
    result = list(problems)
    for missing in [p for p in problems if p.line == 0 and p.unreadable]:
        references = sorted((p for p in problems if p.about == missing.file),
                            key=lambda p: (not p.file.startswith("topics/"), p.file, p.line))  # fmt: skip
        if not references:
            continue
        first, more = references[0], len(references) - 1
        also = f"; {more} other line{'s' if more > 1 else ''} refer to it too (listed below)" if more else ""
        result.remove(missing)
        result.remove(first)
        result.append(Problem(first.file, first.line, f"{missing.file} is missing ({missing.message}), and this "
                              f"line refers to it{also}. Put the file back (or undo its rename)",
                              unreadable=True))  # fmt: skip
    return result


def _languages(directory: Path, problems: list[Problem]) -> dict[str, Language]:
    """content/languages.yaml, or Swedish and English alone when the file is missing."""
    path = directory / "languages.yaml"
    if not path.exists():
        return {code: Language(code, name) for code, name in (("sv", "Svenska"), ("en", "English"))}
    parsed = _parse(path, "languages.yaml", schema.LanguagesFile, problems)
    if parsed is None:
        return {}
    file, model = parsed
    languages, more = read_language_list(file, model.root)
    problems += more
    return languages


def _language_files(
    directory: Path, languages: dict[str, Language], problems: list[Problem]
) -> dict[str, tuple[YamlFile, schema.LanguageFile]]:
    """languages/<code>.yaml for every listed language but Swedish and English."""
    found = {}
    for path in sorted((directory / "languages").glob("*.y*ml")):
        name = f"languages/{path.name}"
        parsed = _parse(path, name, schema.LanguageFile, problems)
        if parsed is None:
            continue
        file, model = parsed
        if model.lang != path.stem:
            problems.append(file.problem(("lang",), f"'lang: {model.lang}' must be the file name '{path.stem}'"))
        elif model.lang in DEFAULT_LANGUAGES:
            problems.append(file.problem(("lang",), f"'{model.lang}' is written in the topic files themselves"))
        elif model.lang not in languages:
            problems.append(
                file.problem(("lang",), f"the language '{model.lang}' is not in languages.yaml: add it there")
            )
        else:
            found[model.lang] = parsed
    return found


def _region_order(region_id: str) -> tuple[int, str]:
    return (REGIONS.index(region_id) if region_id in REGIONS else len(REGIONS), region_id)


# --- one file at a time -------------------------------------------------------------------------


def _parse_all(
    directory: Path, folder: str, model: type[M], problems: list[Problem]
) -> list[tuple[YamlFile, M]]:
    parsed = []
    for path in sorted((directory / folder).glob("*.y*ml")):
        result = _parse(path, f"{folder}/{path.name}", model, problems)
        if result:
            parsed.append(result)
    if not parsed and not (directory / folder).is_dir():
        problems.append(Problem(folder, 0, f"the folder '{folder}' is missing"))
    return parsed


def _parse_one(
    directory: Path, name: str, model: type[M], problems: list[Problem]
) -> tuple[YamlFile, M] | None:
    path = directory / name
    if not path.exists():
        return None
    return _parse(path, name, model, problems)


def _parse(path: Path, name: str, model: type[M], problems: list[Problem]) -> tuple[YamlFile, M] | None:
    try:
        file, duplicates = read_yaml(path, name)
    except YamlSyntaxError as exc:
        problems.append(exc.problem)
        return None
    except OSError as exc:
        problems.append(Problem(name, 0, f"cannot read the file: {exc.strerror}"))
        return None
    problems += duplicates
    expected = list if issubclass(model, RootModel) and _is_list(model) else dict
    if not isinstance(file.data, expected):
        problems.append(Problem(name, file.line_of(()), _wrong_shape(file.data, expected)))
        return None
    try:
        parsed = model.model_validate(file.data)
    except ValidationError as exc:
        problems += [_explain(file, model, error) for error in exc.errors()]
        return None
    stem = path.stem
    file_id = getattr(parsed, "id", stem)
    if file_id != stem:
        problems.append(
            file.problem(("id",), f"the id '{file_id}' must be the same as the file name '{stem}'")
        )
        return None
    return file, parsed


def _wrong_shape(data: object, expected: type) -> str:
    """Why a file's top level cannot be read, for a file that is empty or not written as 'field: value' lines."""
    want = "a list of '- ' lines" if expected is list else "'field: value' lines"
    if data is None:
        return f"the file is empty (nothing but comments or blank lines): it must have {want}; put its content back"
    found = "a list ('- ' lines)" if isinstance(data, list) else "'field: value' lines" if isinstance(data, dict) \
        else "a single text"
    return f"the file must be {want}, but it is {found}"


def _is_list(model: type[BaseModel]) -> bool:
    return getattr(model.model_fields["root"].annotation, "__origin__", None) is list


def _explain(file: YamlFile, model: type[BaseModel], error: Any) -> Problem:
    """Turn one pydantic error into a sentence a non-programmer can act on."""
    loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and "[" in part))
    where = ".".join(str(p) for p in loc) or "the file"
    kind = error["type"]
    if kind == "extra_forbidden":
        field = str(loc[-1])
        message = f"unknown field '{field}'"
        known = _known_fields(model, loc[:-1])
        message += did_you_mean(field, known) or f" (allowed here: {', '.join(known)})"
    elif kind == "missing":
        field = str(loc[-1])
        if field in LANG_NAMES:
            message = f"'{'.'.join(str(p) for p in loc[:-1])}' is missing its {LANG_NAMES[field]} text"
        else:
            message = f"missing field '{field}'" + (
                f" in '{'.'.join(map(str, loc[:-1]))}'" if loc[:-1] else ""
            )
    elif kind == "too_short" and loc and loc[0] == "examples":
        count = len(error.get("input") or [])
        lang = LANG_NAMES.get(str(loc[-1]), str(loc[-1]))
        message = f"only {count} {lang} examples: write at least {schema.MIN_EXAMPLES}"
    elif kind == "string_too_long":
        message = f"'{where}' is too long: at most {error['ctx']['max_length']} characters"
    elif kind == "string_too_short":
        message = f"'{where}' is empty"
    elif kind == "literal_error":
        message = f"'{where}': '{error.get('input')}' is not allowed; use one of {error['ctx']['expected']}"
    elif kind == "string_pattern_mismatch":
        message = f"'{where}' must be lower-case letters, digits and '-' only"
    elif kind.startswith("date"):
        message = f"'{where}' must be a date written as YYYY-MM-DD"
    elif kind == "value_error":
        message = f"'{where}': {error['msg'].removeprefix('Value error, ')}"
    elif kind in ("string_type", "list_type", "dict_type", "model_type", "int_type", "int_parsing"):
        expected = {"string_type": "a text", "list_type": "a list", "dict_type": "'field: value' lines",
                    "model_type": "'field: value' lines", "int_type": "a whole number",
                    "int_parsing": "a whole number"}[kind]  # fmt: skip
        message = f"'{where}' must be {expected}"
    else:
        message = f"'{where}': {error['msg']}"
    return file.problem(loc, message)


def _known_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        info = getattr(current, "model_fields", {}).get(part)
        if info is None:
            return []
        current = _inner_model(info.annotation)
    return list(getattr(current, "model_fields", {}))


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


# --- from file models to runtime objects ---------------------------------------------------------


def _region(model: schema.RegionFile) -> Region:
    avail = model.availability
    weekdays = frozenset(schema.WEEKDAYS.index(day) for day in avail.weekdays)
    return Region(
        id=model.id,
        name=Localized(sv=model.name.sv, en=model.name.en),
        contact=Contact(
            name=model.contact.name,
            role=Localized(sv=model.contact.role.sv, en=model.contact.role.en),
            organisation=model.contact.organisation,
            phone=model.contact.phone,
            email=model.contact.email,
            confirmed=model.contact.confirmed,
        ),
        availability=Availability(
            weekdays=weekdays,
            hours=avail.windows(),
            meeting_minutes=avail.meeting_minutes,
            lead_time=timedelta(hours=avail.lead_time_hours),
            horizon=timedelta(days=avail.horizon_days),
            away=avail.away_ranges(),
        ),
        place_kind=avail.place.kind,
        place=Localized(sv=avail.place.sv, en=avail.place.en),
        organisations=tuple(_listing(o) for o in model.organisations),
        enterprises=tuple(_listing(e) for e in model.enterprises),
    )


def _listing(model: schema.Organisation) -> Listing:
    return Listing(model.name, Localized(sv=model.what.sv, en=model.what.en), model.contact)


def _crisis(file: YamlFile, model: schema.CrisisFile) -> Crisis:
    parts = {"signals": model.signals, "examples": model.examples, "not_crisis": model.not_crisis}
    return Crisis(
        answer=dict(model.answer),
        signals={lang: tuple(items) for lang, items in model.signals.items()},
        examples={lang: tuple(items) for lang, items in model.examples.items()},
        not_crisis={lang: tuple(items) for lang, items in model.not_crisis.items()},
        file=file.name,
        lines={
            (part, lang, i): file.line_of((part, lang, i))
            for part, by_lang in parts.items()
            for lang, items in by_lang.items()
            for i in range(len(items))
        },
    )


def _topic(model: schema.TopicFile, file: YamlFile) -> Topic:
    answers: dict[tuple[str | None, str], str] = {}
    if model.answer:
        answers[(None, "sv")], answers[(None, "en")] = model.answer.sv, model.answer.en
    for region, text in model.regions.items():
        answers[(region, "sv")], answers[(region, "en")] = text.sv, text.en
    return Topic(
        id=model.id,
        kind=model.kind,
        title=Localized(sv=model.title.sv, en=model.title.en),
        examples={"sv": tuple(model.examples.sv), "en": tuple(model.examples.en)},
        keywords=tuple(model.keywords),
        answers=answers,
        related=tuple(model.related),
        source=(model.source,) if isinstance(model.source, str) else tuple(model.source),
        reviewed=model.reviewed,
        file=file.name,
        example_lines={
            (lang, i): file.line_of(("examples", lang, i))
            for lang in ("sv", "en")
            for i in range(len(getattr(model.examples, lang)))
        },
        answer_lines={
            (region, lang): (file.name, file.line_of(("answer", lang) if region is None else ("regions", region, lang)))
            for region, lang in answers
        },
    )


# --- rules that need more than one file ----------------------------------------------------------


def _cross_checks(
    topic_files: list[tuple[YamlFile, schema.TopicFile]],
    region_files: list[tuple[YamlFile, schema.RegionFile]],
    out_of_scope: tuple[YamlFile, schema.OutOfScopeFile] | None,
    today: date,
    present: set[str],
    present_regions: set[str],
) -> list[Problem]:
    """`present`, `present_regions`: the topic and region files that exist, read or not (one that could not be read
    is reported already: it is neither missing nor unknown)."""
    from bot.matching.normalize import fold  # the matcher's own notion of "the same sentence"

    problems: list[Problem] = []
    topic_ids = {model.id for _, model in topic_files} | present
    regions = {model.id: model for _, model in region_files}
    for missing in sorted(set(REGIONS) - set(regions) - present_regions):
        problems.append(Problem(f"regions/{missing}.yaml", 0, f"the region '{missing}' has no file",
                                unreadable=True))  # fmt: skip
    for missing in [t for t in REQUIRED_TOPICS if t not in topic_ids]:
        problems.append(Problem(f"topics/{missing}.yaml", 0, f"the required topic '{missing}' has no file",
                                unreadable=True))  # fmt: skip

    seen_examples: dict[str, tuple[str, str, str]] = {}  # folded text -> (topic, file:line, lang)
    for file, topic in topic_files:
        if topic.id in ACTION_TOPICS and topic.kind != "action":
            problems.append(file.problem(("kind",), f"'{topic.id}' starts a flow: write 'kind: action'"))
        for region in topic.regions:
            if region not in regions and region not in present_regions:
                known = ", ".join(sorted(regions))
                problem = file.problem(("regions", region), f"unknown region '{region}' (known: {known})")
                problems.append(replace(problem, about=f"regions/{region}.yaml"))
        if topic.answer is None:
            for region in sorted(set(regions) - set(topic.regions)):
                problems.append(
                    file.problem(
                        ("regions",), f"no answer for the region '{region}' (add it, or write `answer`)"
                    )
                )
        for index, related in enumerate(topic.related):
            if related == topic.id:
                problems.append(file.problem(("related", index), "a topic cannot be related to itself"))
            elif related not in topic_ids:
                hint = did_you_mean(related, sorted(topic_ids))
                problem = file.problem(("related", index), f"unknown related topic '{related}'{hint}")
                problems.append(replace(problem, about=f"topics/{related}.yaml"))
        if topic.reviewed > today:
            problems.append(
                file.problem(("reviewed",), f"the reviewed date {topic.reviewed} is in the future")
            )
        problems += _placeholder_problems(file, topic, regions)
        for lang in ("sv", "en"):
            for index, example in enumerate(getattr(topic.examples, lang)):
                key = fold(example)
                where = f"{file.name}:{file.line_of(('examples', lang, index))}"
                other = seen_examples.get(key)
                # The same words in both languages of one topic ("gdpr") are fine; anywhere else they are not.
                if other and (other[0] != topic.id or other[2] == lang):
                    same = "this topic" if other[0] == topic.id else f"the topic '{other[0]}'"
                    problems.append(
                        file.problem(
                            ("examples", lang, index),
                            f"the example '{example}' is already in {same} ({other[1]})",
                        )
                    )
                elif not other:
                    seen_examples[key] = (topic.id, where, lang)
    if out_of_scope:
        file, model = out_of_scope
        for lang in ("sv", "en"):
            for index, example in enumerate(getattr(model.examples, lang)):
                if fold(example) in seen_examples:
                    other_topic, other_where, _ = seen_examples[fold(example)]
                    problems.append(
                        file.problem(
                            ("examples", lang, index),
                            f"'{example}' is an example of the topic '{other_topic}' ({other_where}), "
                            "so it cannot be out of scope too",
                        )
                    )
    return problems


def _placeholder_problems(
    file: YamlFile, topic: schema.TopicFile, regions: dict[str, schema.RegionFile]
) -> list[Problem]:
    problems = []
    texts: list[tuple[tuple[Any, ...], str | None, str]] = []
    if topic.answer:
        texts += [(("answer", lang), None, getattr(topic.answer, lang)) for lang in ("sv", "en")]
    for region, text in topic.regions.items():
        texts += [(("regions", region, lang), region, getattr(text, lang)) for lang in ("sv", "en")]
    for path, region, text in texts:
        for name in PLACEHOLDER.findall(text):
            if name not in PLACEHOLDERS:
                message = f"unknown placeholder {{{name}}}{did_you_mean(name, PLACEHOLDERS)} (known: {', '.join(PLACEHOLDERS)})"
                problems.append(Problem(file.name, file.line_with(path, f"{{{name}}}"), message))
            elif name == "contact_email":
                without = [
                    r
                    for r in ([region] if region else regions)
                    if r in regions and not regions[r].contact.email
                ]
                if without:
                    problems.append(
                        file.problem(
                            path, f"{{contact_email}} is used, but {', '.join(without)} has no e-mail address"
                        )
                    )
    return problems


def _word_conflicts(file: YamlFile, model: schema.WordsFile) -> list[Problem]:
    """A word that is both a yes and a no in words.yaml cannot be read either way."""
    from bot.content.translations import yes_and_no

    problems = []
    for lang in ("sv", "en"):
        entries = {kind: getattr(model.root[kind], lang) for kind in ("yes", "no") if kind in model.root}
        for index, word in yes_and_no(entries.get("yes", []), entries.get("no", [])):
            problems.append(file.problem(("no", lang, index), f"'{word}' is both a yes and a no word"))
    return problems
