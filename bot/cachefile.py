"""Cache files of numpy arrays (the trained matcher, its analyzer, the crisis calibration, the language model),
written atomically: a process starting at the same moment never reads half a file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np


def save_arrays(path: Path, arrays: Mapping[str, Any]) -> None:
    """`arrays` as one .npz at `path`, via a temporary file beside it; OSError is the caller's to judge."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **arrays)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
