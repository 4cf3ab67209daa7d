"""With a cache directory the crisis detector is calibrated in a child process (the ~100 MB that calibrating takes
stayed in a long-running process after it, on the first start and after every content change), and the detector
this process loads from the child's file is the one it would have calibrated itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.knowledge import Knowledge
from bot.safety import crisis
from bot.safety.crisis import CrisisDetector, detector_for
from tests.test_crisis_cache import MESSAGES  # the same crisis and ordinary messages as the cache's tests


def test_the_child_calibrates_and_this_process_loads_the_same_detector(
    knowledge: Knowledge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = knowledge.content
    crisis._DETECTORS.clear()
    here = detector_for(content)  # no cache directory: calibrated in this process, as before
    assert here is not None
    crisis._DETECTORS.clear()

    def not_here(*args: object, **kwargs: object) -> None:
        raise AssertionError("calibrated in the bot's own process")

    monkeypatch.setattr(CrisisDetector, "_calibrate", not_here)  # the child process is not affected
    loaded = detector_for(content, tmp_path / "cache")
    assert loaded is not None
    assert len(list((tmp_path / "cache").glob("crisis-*.npz"))) == 1
    assert not list((tmp_path / "cache").glob("*.json"))  # the child's job file is gone
    assert loaded.calibration == here.calibration
    assert loaded.space.grams == here.space.grams
    for mine, theirs in ((loaded.index, here.index), (loaded.ordinary, here.ordinary)):
        for name in ("indptr", "rows", "weights"):
            assert np.array_equal(getattr(mine, name), getattr(theirs, name)), name
    for message in MESSAGES + [text for _, text in here.examples[:20]]:
        assert loaded.check(message) == here.check(message), message
    crisis._DETECTORS.clear()


def test_without_a_usable_cache_directory_it_calibrates_here(knowledge: Knowledge, tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    crisis._DETECTORS.clear()
    detector = detector_for(knowledge.content, blocked)
    assert detector is not None and detector.check("jag vill inte leva längre") is not None
    crisis._DETECTORS.clear()
