"""The language model the bot keeps: py3langid reduced to the languages worth telling apart."""

from __future__ import annotations

import random
from pathlib import Path

from bot.knowledge import Knowledge
from bot.language import LanguageDetector, _model


def test_reduced_language_model_counts_as_py3langid_does(knowledge: Knowledge, tmp_path: Path) -> None:
    """The reduced model (sorted n-grams instead of py3langid's 38 MB automaton) counts exactly the features
    py3langid counts, for any text: every script, mixed, short and long, odd characters."""
    from py3langid.langid import LanguageIdentifier, visit_counts

    full = LanguageIdentifier.from_model_file("data/model.npz.xz")
    languages = knowledge.matcher.detector.languages | {"sv", "en"}
    reduced = _model(languages, tmp_path)  # made in a child process, into the cache directory
    assert list(tmp_path.glob("langid-*.npz"))
    rng = random.Random(13)
    alphabet = ("abcdefghijklmnopqrstuvwxyzåäöéüßçñ ÅÄÖ،ابتثجحخدذرزسشصضطظعغفقكلمنهوي абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
                "ієїґ ሀለሐመሠረሰኣእ 中文日本語 0123456789.,!?\n\t😀")  # fmt: skip
    texts = ["", "a", "ok", "vad är lönebidrag", "what is a wage subsidy", "ما هو الدعم؟", "Я шукаю роботу",
             "ኣብ Sundsvall ስራሕ ከመይ ጌረ ክረክብ እኽእል?", "waa maxay shaqo", "a" * 500]  # fmt: skip
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 150))) for _ in range(400)]
    for text in texts:
        data = LanguageIdentifier._encode(text)
        expected = visit_counts(full.tk_nextmove, full._rowbase, full.tk_output, data) or {}
        assert reduced.counts(data) == dict(expected), text
    # Our languages only, in a few MB (py3langid's whole model is 68 MB unpacked).
    assert set(reduced.classes) <= languages and {"sv", "en", "ar", "so", "uk"} <= set(reduced.classes)
    assert reduced.keys.nbytes + reduced.states.nbytes + reduced.ptc.nbytes < 12_000_000


def test_the_reduced_model_answers_as_before(knowledge: Knowledge, tmp_path: Path) -> None:
    """Probabilities over a chosen set of languages, as py3langid's own ranking restricted to that set."""
    from py3langid.langid import LanguageIdentifier

    detector = LanguageDetector(knowledge.matcher.detector.languages, cache_dir=tmp_path)
    full = LanguageIdentifier.from_model_file("data/model.npz.xz", norm_probs=True)
    for text, codes in (("jag letar efter ett jobb i Sundsvall", ["sv", "en", "de", "pl"]),
                        ("szukam pracy w Sundsvall, czy możecie pomóc", ["sv", "en", "de", "pl"]),
                        ("من دنبال کار در سوندسوال هستم", ["ar", "fa", "ps"])):  # fmt: skip
        full.set_languages(codes)
        expected = dict(full.rank(text))
        got = detector._probabilities(text, set(codes))
        assert got.keys() == expected.keys()
        for code in codes:
            assert abs(got[code] - expected[code]) < 1e-3, (text, code, got, expected)
    assert detector.detect("szukam pracy w Sundsvall, czy możecie pomóc") == "pl"
    assert detector.detect("من دنبال کار در سوندسوال هستم") == "fa"
