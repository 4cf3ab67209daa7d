"""Reading one YAML file together with the line of every value in it.

PyYAML's loaders forget where things were; staff need `FILE:LINE` in every message, so we compose
the node tree ourselves, construct the data from it, and keep a map from each value's path
(keys and list indices) to its line.
"""

from __future__ import annotations

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
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlSyntaxError(
            Problem(name, 1, f"the file is not UTF-8 text ({exc.reason})", unreadable=True)
        ) from exc
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or "cannot be read"
        raise YamlSyntaxError(
            Problem(name, line, f"YAML syntax error: {what}{_hint(exc)}", unreadable=True)
        ) from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(Problem(name, 1, f"YAML syntax error: {exc}", unreadable=True)) from exc
    finally:
        loader.dispose()
    file = YamlFile(name, data)
    problems: list[Problem] = []
    if node is not None:
        _map_lines(node, (), file, problems)
    return file, problems


def _hint(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or ""
    if "mapping values are not allowed" in problem:
        return " (a text with ': ' in it must be put in quotes, or written as a block with '|')"
    if "found character '\\t'" in problem:
        return " (use spaces, not tabs, to indent)"
    return ""


def _map_lines(node: yaml.Node, path: PathKey, file: YamlFile, problems: list[Problem]) -> None:
    file.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                problems.append(Problem(file.name, key_node.start_mark.line + 1, f"'{key}' is written twice"))
            seen.add(key)
            _map_lines(value_node, (*path, key), file, problems)
            file.lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _map_lines(item, (*path, index), file, problems)
