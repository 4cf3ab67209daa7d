"""Reading one YAML file together with the line of every value in it.

PyYAML's loaders forget where things were; staff need `FILE:LINE` in every message, so we compose
the node tree ourselves, construct the data from it, and keep a map from each value's path
(keys and list indices) to its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.content.problems import Problem

PathKey = tuple[str | int, ...]


# libyaml's parser where PyYAML was built with it: the same nodes and line marks, several times faster
# (start-up reads every language's file).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class YamlFile:
    name: str  # as shown to staff: relative to the content directory
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)
    text: str = field(default="", repr=False)

    def line_with(self, path: PathKey, needle: str) -> int:
        """The line of `needle` inside the value at `path` (a long block text), else the value's own line."""
        start = self.line_of(path)
        lines = self.text.split("\n")
        return next((n for n in range(start, len(lines) + 1) if needle in lines[n - 1]), start)

    def line_of(self, path: PathKey) -> int:
        """The line of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def problem(self, path: PathKey, message: str) -> Problem:
        return Problem(self.name, self.line_of(path), message)


class YamlSyntaxError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def read_yaml(path: Path, name: str) -> tuple[YamlFile, list[Problem]]:
    """Parse `path`; syntax errors raise `YamlSyntaxError`, duplicate keys come back as problems."""
    raw = path.read_bytes()
    text = _decode(raw, name)
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        opened = _unclosed(text, line)  # the parser stops far from an unclosed quote or bracket: name where it opened
        if opened is not None and not _has_tab(text, line):
            char, at = opened
            what, close = _OPENING[char], _CLOSING[char]
            raise YamlSyntaxError(Problem(name, at, f"{what} opened at line {at} is never closed: add the closing "
                                          f"{close} where the text ends on that line (or remove the {char}). "
                                          f"(YAML syntax error at line {line}: {exc.problem or 'cannot be read'})",
                                          unreadable=True)) from exc  # fmt: skip
        raise YamlSyntaxError(Problem(name, line, _syntax_message(exc, text), unreadable=True)) from exc
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (a control character)
        # (libyaml's position counts bytes, PyYAML's characters: find the character itself instead)
        line, column = _position(text, max(text.find(chr(exc.character)), 0))
        raise YamlSyntaxError(Problem(name, line, f"column {column} has the control character U+{exc.character:04X}"
                                      ", which is not allowed in a content file: delete it (it is often "
                                      "invisible; retype the line)", unreadable=True)) from exc  # fmt: skip
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(Problem(name, 1, f"YAML syntax error: {exc}", unreadable=True)) from exc
    except ValueError as exc:  # a date YAML reads as one but the calendar lacks: 2026-02-30, 2026-13-01
        line, value = _impossible_date(loader, node) or (1, "")
        raise YamlSyntaxError(Problem(name, line, f"{value or 'a date'} is not a date that exists ({exc}): write a "
                                      "real date as YYYY-MM-DD, for example 2026-02-28",
                                      unreadable=True)) from exc  # fmt: skip
    finally:
        loader.dispose()
    file = YamlFile(name, data, text=text)
    problems: list[Problem] = []
    if node is not None:
        _map_lines(node, (), file, problems)
    return file, problems


def _impossible_date(loader: Any, node: yaml.Node) -> tuple[int, str] | None:
    """The line and text of the first date in `node` that cannot be made a date, if any."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.ScalarNode) and current.tag == "tag:yaml.org,2002:timestamp":
            try:
                loader.construct_yaml_timestamp(current)
            except ValueError:
                return current.start_mark.line + 1, str(current.value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(reversed(current.value))
        elif isinstance(current, yaml.MappingNode):
            stack.extend(part for pair in reversed(current.value) for part in reversed(pair))
    return None


def _decode(raw: bytes, name: str) -> str:
    """The file's text; a file that is not UTF-8 raises `YamlSyntaxError` at the line and column of its first bad
    byte. A UTF-8 byte order mark and Windows line endings are fine (the YAML reader takes both)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise YamlSyntaxError(Problem(name, 1, "the file is saved as UTF-16 (\"Unicode\"), not UTF-8: save it "
                                      "again with the encoding UTF-8", unreadable=True))  # fmt: skip
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = raw.rfind(b"\n", 0, exc.start) + 1
        line = raw.count(b"\n", 0, exc.start) + 1
        column = len(raw[start : exc.start].decode("utf-8", errors="replace")) + 1
        latin = raw[exc.start : exc.start + 1].decode("latin-1")
        guess = f" (perhaps '{latin}' saved in another encoding)" if latin.isalpha() else ""
        raise YamlSyntaxError(Problem(name, line, f"the file is not UTF-8 text: column {column} has the byte "
                                      f"0x{raw[exc.start]:02X}{guess}. Save the file with the encoding UTF-8, "
                                      "or retype the characters there", unreadable=True)) from exc  # fmt: skip
    return text.replace("\r\n", "\n").replace("\r", "\n")  # Windows (and old Mac) line endings read as any


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of the character at `index`."""
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


_CLOSING = {'"': '"', "'": "'", "[": "]", "{": "}"}
_OPENING = {'"': 'a quote (")', "'": "a quote (')", "[": "a bracket ([)", "{": "a brace ({)"}
_BLOCK_SCALAR = re.compile(r"(?:^|[\s:-])[|>][+-]?[0-9]?[+-]?\s*(?:#.*)?$")


def _has_tab(text: str, line: int) -> bool:
    lines = text.splitlines()
    return line <= len(lines) and "\t" in lines[line - 1]


def _unclosed(text: str, error_line: int) -> tuple[str, int] | None:
    """Where a quote or bracket that YAML never saw closed was opened, for a syntax error found at `error_line`: the
    first quote before it that does not close on its own line (content never continues a quoted text on the next
    line), else the bracket still open where the parser stopped. None when neither: the parser's own line stands.

    A small reader of YAML's quoting only: a quote or bracket opens where a value starts (a line's first character,
    after '- ', ': ', '[', '{' or ','); comments and block texts ('|', '>') are skipped; '' inside '…' and \" inside
    "…" do not close them."""
    stack: list[tuple[str, int]] = []  # open brackets: (char, line)
    quote: tuple[str, int] | None = None
    block_indent: int | None = None  # inside a block text: lines indented more than this belong to it
    for number, line in enumerate(text.split("\n"), 1):
        if number > error_line:
            break
        indent = len(line) - len(line.lstrip(" "))
        if block_indent is not None:
            if not line.strip() or indent > block_indent:
                continue
            block_indent = None
        if quote is not None and quote[1] < number:
            return quote  # a quoted text that went on past its line
        i, value_start = 0, True
        while i < len(line):
            char = line[i]
            if quote is not None:
                if quote[0] == '"' and char == "\\":
                    i += 2
                    continue
                if char == quote[0]:
                    if quote[0] == "'" and line[i + 1 : i + 2] == "'":
                        i += 2
                        continue
                    quote = None
                i += 1
                continue
            if char == "#" and (i == 0 or line[i - 1] in " \t"):
                break
            if char in " \t":
                i += 1
                continue
            if value_start and char in "\"'":
                quote = (char, number)
            elif value_start and char in "[{":
                stack.append((char, number))
            elif char in "]}" and stack:
                stack.pop()
            value_start = (char in "[{," and bool(stack)) or (char in "-:?" and line[i + 1 : i + 2] in ("", " "))
            i += 1
        if quote is None and not stack and _BLOCK_SCALAR.search(line.split(" #")[0]):
            block_indent = indent
    if quote is not None:
        return quote
    return stack[-1] if stack else None


def _syntax_message(exc: yaml.MarkedYAMLError, text: str) -> str:
    """What is wrong, in words staff can act on. libyaml does not name a tab, so the line itself is looked at."""
    problem = exc.problem or "cannot be read"
    mark = exc.problem_mark
    if mark is not None:
        line = text.splitlines()[mark.line] if mark.line < len(text.splitlines()) else ""
        if "\t" in line:
            return (f"a tab at column {line.index(chr(9)) + 1}: indent with spaces, never tabs "
                    f"(YAML syntax error: {problem})")  # fmt: skip
    if "mapping values are not allowed" in problem:
        problem += " (a text with ': ' in it must be put in quotes, or written as a block with '|')"
    return f"YAML syntax error: {problem}"


def _map_lines(node: yaml.Node, path: PathKey, file: YamlFile, problems: list[Problem]) -> None:
    file.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key, line = str(key_node.value), key_node.start_mark.line + 1
            if key in seen:
                problems.append(Problem(file.name, line, f"'{key}' is written twice (also at line {seen[key]}): "
                                        "keep one of them"))  # fmt: skip
            seen.setdefault(key, line)
            _map_lines(value_node, (*path, key), file, problems)
            file.lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _map_lines(item, (*path, index), file, problems)
