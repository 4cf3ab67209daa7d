"""The crisis detector's calibration kept in the cache directory beside the matcher's: a new process with
unchanged content loads it instead of calibrating again, and decides exactly as a freshly calibrated one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.knowledge import Knowledge
from bot.safety import crisis
from bot.safety.crisis import (
    Signal,
    _in_order,
    _squeeze,
    detector_for,
    normalise,
    ordinary_sentences,
    word_starts,
)

MESSAGES = [
    "jag vill inte leva längre",
    "min man slår mig när han dricker",
    "i feel like nothing matters and i want it all to end",
    "hur får jag lönebidrag i ett socialt företag",
    "can I bring my dog to the meeting",
    "har inte ätit på två dagar och orkar inte med någonting",
]


def test_a_detector_from_the_cache_decides_as_a_calibrated_one(knowledge: Knowledge, tmp_path: Path) -> None:
    content = knowledge.content
    crisis._DETECTORS.clear()  # the session's detector was calibrated without a cache directory
    calibrated = detector_for(content, tmp_path)
    assert calibrated is not None
    files = list(tmp_path.glob("crisis-*.npz"))
    assert len(files) == 1
    crisis._DETECTORS.clear()  # as a new process would start
    loaded = detector_for(content, tmp_path)
    assert loaded is not None and loaded is not calibrated
    assert loaded.calibration == calibrated.calibration
    for message in MESSAGES + [text for _, text in calibrated.examples[:20]]:
        assert loaded.check(message) == calibrated.check(message), message


def test_changed_content_calibrates_again_and_a_broken_file_is_not_used(
    knowledge: Knowledge, tmp_path: Path
) -> None:
    content = knowledge.content
    assert content.crisis is not None
    crisis._DETECTORS.clear()
    detector_for(content, tmp_path)
    extra = dict(content.crisis.examples)
    extra["sv"] = (*extra["sv"], "jag har bestämt mig för att inte vakna i morgon")
    changed = replace(content, crisis=replace(content.crisis, examples=extra))
    detector = detector_for(changed, tmp_path)
    assert detector is not None and len(detector.examples) == sum(len(v) for v in extra.values())
    assert len(list(tmp_path.glob("crisis-*.npz"))) == 2
    for path in tmp_path.glob("crisis-*.npz"):
        path.write_bytes(b"not a numpy file")
    crisis._DETECTORS.clear()
    again = detector_for(content, tmp_path)  # calibrates instead of failing
    assert again is not None and again.check("jag vill inte leva längre") is not None


def test_the_signal_index_finds_what_checking_every_signal_finds(knowledge: Knowledge) -> None:
    """The index only narrows down which signals to check: with typos, longer forms and other word forms,
    it finds the same first signal as looking for each signal in turn."""
    detector = knowledge.crisis
    assert detector is not None

    def scan(text: str) -> Signal | None:
        norm = normalise(text)
        words = tuple(_squeeze(w) for w in norm.split())
        openings = {w[:2] for w in words}
        for signal in detector.signals:
            if not signal.words and signal.in_squashed(norm.replace(" ", ""), word_starts(norm)):
                return signal
            if signal.words and signal.opening in openings and _in_order(signal.words, words):
                return signal
        return None

    texts = [text for _, _, _, text in ordinary_sentences(knowledge.content)][::7]
    texts += [signal.text for signal in detector.signals] + [text for _, text in detector.examples]
    typo = [text[:3] + text[4:] + " " + text[::-1][:9] for text in texts if len(text) > 8]  # typos, noise
    found = 0
    for text in texts + typo + MESSAGES:
        expected = scan(text)
        assert detector.signal_in(text) == expected, text
        found += expected is not None
    assert found > len(detector.signals)  # the comparison covers many hits, not only misses
