"""A problem in a content file, reported to staff as `FILE:LINE: message`."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    message: str
    warning: bool = False  # shown, but the content can still be used (e.g. a draft translation's gap)
    # The file could not be read at all (YAML syntax, not UTF-8): listed first, as other problems may follow from it.
    unreadable: bool = field(default=False, compare=False)
    # For an "unknown ..." reference: the file that would define what it names ("topics/x.yaml"). When that file is
    # missing, the first reference to it is where staff are told so (a missing file has no line of its own).
    about: str = field(default="", compare=False)

    def __str__(self) -> str:
        # Line 0: a file or folder that does not exist (it has no line to show)
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {'warning: ' if self.warning else ''}{self.message}"


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """" (did you mean 'x'?)" for the closest known name, or "": the tail of an "unknown ..." message."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
