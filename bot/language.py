"""Which language a message is written in, offline.

The script decides first: Ge'ez letters are Tigrinya (unless Amharic's own words outnumber Tigrinya's),
Arabic letters are Arabic, Persian or Pashto, Cyrillic is Ukrainian or Russian (their own letters decide
before the model). py3langid, limited to the languages that matter here (those the content speaks and
those it has a notice for), decides the rest. It has no Tigrinya, and Somali written with Swedish words in
it ("samordningsförbund waa maxay") is recognised by Somali's own common words. Swedish and English are
told apart by the content's own vocabulary, which knows "lönebidrag" and "arbetsförmedlingen" better than
any general model.

The model ships in the py3langid wheel as an xz file that takes seconds to unpack; the unpacked arrays
for our languages are kept in a cache file and memory-mapped, so a start after the first one is quick.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from bot.matching.normalize import fold

log = logging.getLogger(__name__)

MIN_WORDS = 3  # shorter Latin-script messages ("ok", "tack hej") never change the language
CONFIDENT = 0.8  # the model's probability needed before a Latin-script message counts as another language
# Languages py3langid mixes up with each other: their probabilities are added, and the best one is taken.
FAMILIES = ({"bs", "hr", "sr"},)

_SOMALI = frozenset(
    "waa maxay maxaa sidee waxaan ayaa ayaan miyaa yahay tahay iyo haddii laakiin shaqo shaqada "
    "halkee xagee goorma karaa kartaa doonayaa rabaa jiraa sida ugu iga ii noqon".split()
)  # fmt: skip
_SOMALI_STRONG = frozenset("waa maxay maxaa sidee waxaan ayaa ayaan miyaa".split())
# Tigrinya and Amharic share the Ge'ez script; these everyday words tell them apart.
_TIGRINYA = frozenset("እየ እዩ ኢዩ ኣሎ ኣለኹ ኣለዉ ኣብ ናይ ምስ ካብ ናብ እንታይ ከመይ ብኸመይ ኣበይ ክንደይ ኣነ ዶ ድማ እውን".split())
_AMHARIC = frozenset("ነው ናቸው እና ውስጥ ምን እንዴት የት እኔ ነኝ እችላለሁ ይችላሉ አለ አለኝ ጋር ለምን".split())


def _script(ch: str) -> str | None:
    code = ord(ch)
    if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFEFF:
        return "arabic"
    if 0x0400 <= code <= 0x052F:
        return "cyrillic"
    if 0x1200 <= code <= 0x139F or 0x2D80 <= code <= 0x2DDF:
        return "ethiopic"
    if 0x0E00 <= code <= 0x0E7F:
        return "thai"
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
        return "han"
    if ch.isalpha():
        return "latin" if code < 0x0250 or 0x1E00 <= code <= 0x1EFF else "other"
    return None


def scripts(text: str) -> dict[str, int]:
    """Letters per script in `text`."""
    counts: dict[str, int] = {}
    for ch in text:
        kind = _script(ch)
        if kind:
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def main_script(text: str) -> str | None:
    """The script of the message: a non-Latin one wins when it writes a third of the words, so an Arabic
    question with "arbetsförmedlingen" in it is still Arabic."""
    words: dict[str, int] = {}
    for word in text.split():
        counts = scripts(word)
        if counts:
            kind = max(counts, key=counts.__getitem__)
            words[kind] = words.get(kind, 0) + 1
    if not words:
        return None
    others = {k: v for k, v in words.items() if k != "latin"}
    if others:
        best = max(others, key=others.__getitem__)
        if others[best] * 3 >= sum(words.values()):
            return best
    return "latin"


class LanguageDetector:
    """`detect(text)`: a language code, or None when the message does not say.

    `languages` are the codes worth telling apart (the content's and the notices'); `vote` picks between
    Swedish and English by the content's vocabulary.
    """

    def __init__(
        self,
        languages: Iterable[str],
        vote: Callable[[str], str | None] | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.languages = frozenset(languages)
        self.vote = vote or (lambda text: None)
        self.cache_dir = cache_dir

    def detect(self, text: str) -> str | None:
        words = fold(text).split()
        if not words:
            return None
        kind = main_script(text)
        if kind == "ethiopic":
            return self._ethiopic(words)
        if kind == "arabic":
            return self._model(text, {"ar", "fa", "ps", "ur"}) or self._first("ar")
        if kind == "cyrillic":
            letters = set(text.casefold())
            if letters & set("ієїґ") and not letters & set("ыэъё"):
                return self._first("uk")
            if letters & set("ыэъё") and not letters & set("ієїґ"):
                return self._first("ru")
            return self._model(text, {"uk", "ru", "sr", "bg", "mk"}) or self._first("uk")
        if kind == "thai":
            return self._first("th")
        if kind == "han":
            return self._first("zh")
        if kind != "latin":
            return None
        return self._latin(text, words)

    def _first(self, code: str) -> str | None:
        return code if code in self.languages else None

    def _ethiopic(self, words: list[str]) -> str | None:
        tigrinya = sum(w in _TIGRINYA for w in words) + sum(w.startswith("ኣ") for w in words)
        amharic = sum(w in _AMHARIC for w in words) + sum(w.startswith("አ") for w in words)
        if amharic > tigrinya and "am" in self.languages:
            return "am"
        return self._first("ti")

    def _latin(self, text: str, words: list[str]) -> str | None:
        if len(words) < MIN_WORDS:
            return self.vote(text)
        somali = [w for w in words if w in _SOMALI]
        if "so" in self.languages and (len(somali) >= 2 or set(somali) & _SOMALI_STRONG):
            return "so"
        candidates = {code for code in self.languages if code in LATIN_LANGUAGES}
        probabilities = self._probabilities(text, candidates | {"sv", "en"})
        if not probabilities:
            return self.vote(text)
        best = max(probabilities, key=probabilities.__getitem__)
        if best in ("sv", "en") or probabilities[best] < CONFIDENT:
            return self.vote(text) or (best if best in ("sv", "en") else None)
        return best

    def _model(self, text: str, codes: set[str]) -> str | None:
        probabilities = self._probabilities(text, codes & self.languages)
        if not probabilities:
            return None
        return max(probabilities, key=probabilities.__getitem__)

    def _probabilities(self, text: str, codes: set[str]) -> dict[str, float]:
        """The model's probability for each of `codes` (a family's members share their sum)."""
        model = _model(self.cache_dir)
        codes = {code for code in codes if code in model.columns}
        if not codes:
            return {}
        ranked = model.rank(text, sorted(codes))
        for family in FAMILIES:
            members = family & ranked.keys()
            if len(members) > 1:
                best = max(members, key=ranked.__getitem__)
                total = sum(ranked[m] for m in members)
                ranked.update({m: 0.0 for m in members})
                ranked[best] = total
        return ranked


# Languages written in the Latin script among those py3langid knows and we may meet.
LATIN_LANGUAGES = frozenset(
    "sv en so fi pl bs hr sr ku tr es fr de it pt vi ro sq nl da no".split()
)  # fmt: skip


# --- the model, unpacked once into a cache ---------------------------------------------------------


class _Model:
    """py3langid's naive Bayes model over byte n-grams, scored for a chosen set of languages."""

    def __init__(self, arrays: Any) -> None:
        self.ptc = arrays["ptc"]
        self.pc = arrays["pc"]
        self.classes = [str(c) for c in arrays["classes"]]
        self.columns = {code: i for i, code in reversed(list(enumerate(self.classes)))}
        self.nextmove = arrays["nextmove"]
        self.rowbase = (arrays["nextmove_row"].astype(np.int64) << 8).tolist()
        self.out_feat = arrays["out_feat"]

    def rank(self, text: str, codes: list[str]) -> dict[str, float]:
        from py3langid.langid import LanguageIdentifier

        data = LanguageIdentifier._encode(text)
        counts: dict[int, int] = {}
        state = 0
        nextmove, rowbase, out_feat = self.nextmove, self.rowbase, self.out_feat
        for byte in data:
            state = int(nextmove[rowbase[state] + byte])
            feature = int(out_feat[state])
            if feature >= 0:
                counts[feature] = counts.get(feature, 0) + 1
        columns = [self.columns[code] for code in codes]
        if not counts:
            return dict.fromkeys(codes, 1.0 / len(codes))
        index = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        weights = np.log1p(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))
        scores = weights @ self.ptc[np.ix_(index, columns)].astype(np.float32) + self.pc[columns]
        scores *= 1.0 / np.sqrt(len(data) or 1)  # as py3langid: keeps the softmax calibrated by length
        scores = np.exp(scores - scores.max())
        scores /= scores.sum()
        return dict(zip(codes, scores.tolist(), strict=True))


_lock = threading.Lock()
_loaded: dict[str, _Model] = {}


def _model(cache_dir: Path | None) -> _Model:
    """The model, from the unpacked cache file (made on first use)."""
    from py3langid import langid

    source = langid.MODEL_DIR / langid.MODEL_FILE
    stamp = hashlib.sha256(f"{source}:{source.stat().st_size}:{source.stat().st_mtime_ns}".encode()).hexdigest()
    directory = cache_dir or Path(tempfile.gettempdir()) / "socialbot-cache"
    path = directory / f"langid-{stamp[:16]}.npz"
    with _lock:
        if str(path) in _loaded:
            return _loaded[str(path)]
        try:
            model = _Model(np.load(path, mmap_mode="r", allow_pickle=False))
        except (OSError, ValueError, KeyError):
            model = _unpack(source, path)
        _loaded[str(path)] = model
        return model


def _unpack(source: Path, path: Path) -> _Model:
    import lzma
    import shutil

    with tempfile.TemporaryFile(suffix=".npz") as unpacked:
        with lzma.open(source) as packed:
            shutil.copyfileobj(packed, unpacked, length=1 << 20)
        unpacked.seek(0)
        with np.load(unpacked, allow_pickle=False) as data:
            names = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")
            arrays = {name: data[name] for name in names}
    if arrays["out_feat"].dtype != np.int32:
        arrays["out_feat"] = arrays["out_feat"].astype(np.int32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **arrays)
        os.replace(temporary, path)
        return _Model(np.load(path, mmap_mode="r", allow_pickle=False))
    except OSError:
        log.warning("could not keep the language model in %s; it is unpacked at every start", path.parent)
        return _Model(arrays)
