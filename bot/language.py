"""Which language a message is written in, offline.

The script decides first: Ge'ez letters are Tigrinya (unless Amharic's own words outnumber Tigrinya's),
Arabic letters are Arabic, Persian or Pashto, Cyrillic is Ukrainian or Russian (their own letters decide
before the model). py3langid, limited to the languages that matter here (those the content speaks and
those it has a notice for), decides the rest. It has no Tigrinya, and Somali written with Swedish words in
it ("samordningsförbund waa maxay") is recognised by Somali's own common words. Swedish and English are
told apart by the content's own vocabulary, which knows "lönebidrag" and "arbetsförmedlingen" better than
any general model.

The model ships in the py3langid wheel as an xz file that takes seconds to unpack and 68 MB once unpacked;
it is reduced once to our languages (a few MB, the same answers) and kept in a cache file, so a start
after the first one is quick and the bot's process never holds the whole model.
"""

from __future__ import annotations

import hashlib
import logging
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from bot.cachefile import save_arrays
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
_TIGRINYA = frozenset(fold("እየ እዩ ኢዩ ኣሎ ኣለኹ ኣለዉ ኣብ ናይ ምስ ካብ ናብ እንታይ ከመይ ብኸመይ ኣበይ ክንደይ ኣነ ዶ ድማ እውን").split())  # folded as messages are
_AMHARIC = frozenset(fold("ነው ናቸው እና ውስጥ ምን እንዴት የት እኔ ነኝ እችላለሁ ይችላሉ አለ አለኝ ጋር ለምን").split())


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


_OUTSIDE_LATIN = re.compile("[^\x00-\u024f\u1e00-\u1eff]")  # what _script counts as Latin (or no letter)


def main_script(text: str) -> str | None:
    """The script of the message: a non-Latin one wins when it writes a third of the words, so an Arabic
    question with "arbetsförmedlingen" in it is still Arabic."""
    if not _OUTSIDE_LATIN.search(text):  # most messages: no letter outside the Latin blocks, no counting
        return "latin" if any(map(str.isalpha, text)) else None
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
        self._loaded_model: _Model | None = None  # loaded on the first message that needs it

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
        if self._loaded_model is None:
            self._loaded_model = _model(self.languages | {"sv", "en"}, self.cache_dir)
        model = self._loaded_model
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


# --- the model, reduced once to our languages and kept in a cache ----------------------------------

MODEL_FORMAT = 2  # bump when the reduced model's arrays change, so an old cache file is not read
LONGEST = 6  # bytes: the longest n-gram of py3langid's model (checked when the model is reduced)


class _Model:
    """py3langid's naive Bayes model over byte n-grams, reduced to the languages worth telling apart.

    py3langid walks an automaton over the message's bytes: 38 MB of transitions for 142 languages, plus
    28 MB of weights. Its state after a byte is the longest n-gram (up to six bytes) in its table that ends
    there, and each state counts one feature. So the same counts come from a sorted array of those n-grams
    (as integers): every suffix of every position is looked up at once with searchsorted, the longest found
    wins. With the weight columns of our languages only, the model takes a few MB instead of 68 and gives
    exactly py3langid's counts (tests/test_languages.py compares them).
    """

    def __init__(self, arrays: Any) -> None:
        self.keys = np.asarray(arrays["keys"])  # n-grams as integers: 1 << 8 * length | the bytes, sorted
        self.states = np.asarray(arrays["states"])  # the feature each n-gram counts (-1: none)
        self.root = int(arrays["root"])  # the feature counted where no n-gram ends (none, in practice)
        self.ptc = np.asarray(arrays["ptc"])  # (features, languages), float16 as py3langid ships it
        self.pc = np.asarray(arrays["pc"], dtype=np.float32)
        self.classes = [str(c) for c in arrays["classes"]]
        self.columns = {code: i for i, code in enumerate(self.classes)}

    def counts(self, data: bytes) -> dict[int, int]:
        """How often each feature occurs in `data`, as py3langid's automaton counts them."""
        length = len(data)
        if not length:
            return {}
        values = np.frombuffer(data, np.uint8).astype(np.int64)
        codes = np.full((length, LONGEST), -1, np.int64)
        suffix = np.zeros(length, np.int64)
        for size in range(1, min(LONGEST, length) + 1):
            # the n-gram of `size` bytes ending at each position from size - 1 on
            suffix = suffix[1:] if size > 1 else suffix
            suffix = suffix | (values[: length - size + 1] << (8 * (size - 1)))
            codes[size - 1 :, size - 1] = suffix | (1 << (8 * size))
        found = np.searchsorted(self.keys, codes)
        np.minimum(found, len(self.keys) - 1, out=found)
        hit = self.keys[found] == codes
        longest = LONGEST - 1 - np.argmax(hit[:, ::-1], axis=1)
        features = np.where(hit.any(axis=1), self.states[found[np.arange(length), longest]], self.root)
        features = features[features >= 0]
        unique, counted = np.unique(features, return_counts=True)
        return dict(zip(unique.tolist(), counted.tolist(), strict=True))

    def rank(self, text: str, codes: list[str]) -> dict[str, float]:
        from py3langid.langid import LanguageIdentifier

        data = LanguageIdentifier._encode(text)
        counts = self.counts(data)
        if not counts:
            return dict.fromkeys(codes, 1.0 / len(codes))
        columns = np.array([self.columns[code] for code in codes], dtype=np.intp)
        index = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        weights = np.log1p(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))
        scores = weights @ self.ptc[np.ix_(index, columns)].astype(np.float32) + self.pc[columns]
        scores *= 1.0 / np.sqrt(len(data) or 1)  # as py3langid: keeps the softmax calibrated by length
        scores = np.exp(scores - scores.max())
        scores /= scores.sum()
        return dict(zip(codes, scores.tolist(), strict=True))


_lock = threading.Lock()
_loaded: dict[str, _Model] = {}


def _model(languages: frozenset[str], cache_dir: Path | None) -> _Model:
    """The model for `languages`, from its cache file (made on first use, in a child process when there is
    a cache directory: unpacking the full model takes some 150 MB for a moment)."""
    from py3langid import langid

    source = langid.MODEL_DIR / langid.MODEL_FILE
    wanted = sorted(languages)
    stamp = hashlib.sha256(f"{MODEL_FORMAT}:{source}:{source.stat().st_size}:{source.stat().st_mtime_ns}:"
                           f"{','.join(wanted)}".encode()).hexdigest()  # fmt: skip
    directory = cache_dir or Path(tempfile.gettempdir()) / "socialbot-cache"
    path = directory / f"langid-{stamp[:16]}.npz"
    with _lock:
        if str(path) in _loaded:
            return _loaded[str(path)]
        try:
            model = _load(path)
        except (OSError, ValueError, KeyError):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                subprocess.run([sys.executable, "-m", "bot.language", str(path), *wanted], check=True,
                               capture_output=True, timeout=300)  # fmt: skip
                model = _load(path)
            except (OSError, ValueError, KeyError, subprocess.SubprocessError):
                log.warning(
                    "could not keep the language model in %s; it is reduced at every start", path.parent
                )
                model = _Model(_reduce(source, wanted))
        _loaded[str(path)] = model
        return model


def _load(path: Path) -> _Model:
    with np.load(path, allow_pickle=False) as data:
        return _Model({name: data[name] for name in data.files})


def _reduce(source: Path, languages: list[str]) -> dict[str, np.ndarray]:
    """py3langid's model with the weights of `languages` only, and its automaton as the sorted n-grams
    its states stand for (each state's n-gram is the shortest byte path reaching it from the start)."""
    import lzma
    import shutil

    with tempfile.TemporaryFile(suffix=".npz") as unpacked:
        with lzma.open(source) as packed:
            shutil.copyfileobj(packed, unpacked, length=1 << 20)
        unpacked.seek(0)
        with np.load(unpacked, allow_pickle=False) as data:
            classes = [str(c) for c in data["classes"]]
            columns: dict[str, int] = {}
            for i, code in enumerate(classes):
                columns.setdefault(code, i)  # a code listed twice: its first column, as py3langid ranks it
            kept = [code for code in languages if code in columns]
            ptc = np.ascontiguousarray(data["ptc"][:, [columns[c] for c in kept]])
            pc = data["pc"][[columns[c] for c in kept]].astype(np.float32)
            nextmove, rows, out = data["nextmove"], data["nextmove_row"].astype(np.int64), data["out_feat"]
            states = len(rows)
            gram = np.full(states, -1, np.int64)
            gram[0] = 1  # the start: the empty n-gram
            frontier = np.zeros(1, np.int64)
            everything = np.arange(256, dtype=np.int64)
            for size in range(1, LONGEST + 2):
                reached = []
                for start in range(0, len(frontier), 4096):  # in slices: a few MB at a time
                    parents = frontier[start : start + 4096]
                    targets = nextmove[(rows[parents] << 8)[:, None] + everything].astype(np.int64).ravel()
                    fresh = gram[targets] == -1
                    targets, parent, byte = (targets[fresh], np.repeat(parents, 256)[fresh],
                                             np.tile(everything, len(parents))[fresh])  # fmt: skip
                    targets, first = np.unique(targets, return_index=True)
                    gram[targets] = (gram[parent[first]] << 8) | byte[first]
                    reached.append(targets)
                frontier = np.unique(np.concatenate(reached)) if reached else np.zeros(0, np.int64)
                if not len(frontier):
                    break
                if size > LONGEST:
                    raise ValueError(f"py3langid's model has n-grams longer than {LONGEST} bytes")
            if (gram < 0).any():
                raise ValueError("py3langid's model has states no byte path reaches")
            order = np.argsort(gram)
            return {"keys": gram[order], "states": out[order].astype(np.int32), "root": np.array(int(out[0])),
                    "ptc": ptc, "pc": pc, "classes": np.array(kept)}  # fmt: skip


def _write(path: Path, languages: list[str]) -> None:
    from py3langid import langid

    save_arrays(path, _reduce(langid.MODEL_DIR / langid.MODEL_FILE, languages))


if __name__ == "__main__":  # python -m bot.language CACHE_FILE LANGUAGE...
    _write(Path(sys.argv[1]), sys.argv[2:])
