"""Noticing a crisis (suicide or self-harm, violence or threats, an acute medical emergency) in any message.

Recall comes first: a crisis answer sent to someone who did not need it costs a moment; a "Sorry, I don't
know that" sent to someone who wrote that they do not want to live is the worst the bot can do. Two ways
in, both written by staff in content/crisis.yaml:

- signals: short phrases. A message holding a signal's words in order (a word or two in between, small
  typos, longer word forms) is a crisis. Phrases in scripts without a case-insensitive Latin spelling
  (Arabic, Persian, Tigrinya, Cyrillic) are found as text, ignoring spaces, since those spellings vary in
  where words are split (Persian "می‌خواهم" / "میخواهم" / "می خواهم") and words take prefixes and endings
  (Arabic و/ف/ب/ال, "يضربني" in "وبيضربني"); their words in order, a word or two between them.
- examples: whole sentences. A message whose character n-grams are close enough to an example is a
  crisis. "Close enough" is a threshold chosen by cross-validation over the content alone: each example
  left out in turn against the others, every topic example, out-of-scope example and look-alike
  (not_crisis) as the ordinary messages; the threshold lets at most `ORDINARY_RATE` of those through.

Text is normalised across scripts (unlike the matcher's ASCII fold, which drops non-Latin letters).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import re
import subprocess
import sys
import tempfile
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import astuple, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot.cachefile import save_arrays
from bot.content.model import Content, Crisis
from bot.content.problems import Problem
from bot.matching.normalize import fold, script, stems

log = logging.getLogger(__name__)
MAX_GAP = 2  # words allowed between two words of a signal
MAX_GAP_CHARS = 12  # letters allowed between two words of a non-Latin signal (about two words)
ORDINARY_RATE = 0.005  # share of the content's ordinary sentences the example threshold may catch
MIN_THRESHOLD = 0.35  # never closer than this counts as "close", whatever the content says
GRAMS = (3, 4, 5)
MAX_SEEN_WORDS = 10_000  # words whose signal words are remembered (a few MB: people reuse their words)
MIN_WORDS_FOR_EXAMPLES = 3  # "hjälp" alone is a request for the help text, not a sentence like an example

# What the matcher's fold (bot/matching/normalize.py: accents and marks, Arabic tashkeel and hamza seats,
# Persian yeh/kaf, Arabic-Indic digits, Ge'ez letter series) keeps apart but people in a hurry do not:
# before folding, apostrophes inside words go (б'є, don't: one word) and Arabic teh marbuta, alef wasla and
# Persian heh forms become heh, Ukrainian ґ becomes г ...
_BEFORE = str.maketrans({
    "'": None, "’": None, "ʼ": None, "`": None, "‘": None, "ʻ": None,
    "ة": "ه", "ٱ": "ا", "ۀ": "ه", "ە": "ه", "ۃ": "ه", "ґ": "г", "Ґ": "г",
})  # fmt: skip
# ... and after folding, the Cyrillic letters Ukrainian and Russian keyboards spell differently become one
# (і/ї/ы -> и, є/э -> е, soft and hard signs dropped: "б'є" = "бье" = "бе", "жити" ~ "жить"), and in Tigrinya
# ሀ/ሐ and ዐ/አ/ኣ, which writers confuse.
_AFTER = str.maketrans({
    "і": "и", "ы": "и", "є": "е", "э": "е", "ь": None, "ъ": None,
    **{chr(0x1200 + order): chr(0x1210 + order) for order in range(8)},
    **{chr(0x12D0 + order): chr(0x12A0 + order) for order in range(8)},
    "አ": "ኣ", "ዐ": "ኣ", "ዓ": "ኣ",  # a, ʿa and ʾa: one letter here
})  # fmt: skip
_LATIN_I = re.compile(r"(?<=[\u0430-\u045f])i|i(?=[\u0430-\u045f])")  # a Latin i typed inside a Cyrillic word
_LATIN = re.compile(r"^[a-z0-9 ]*$")


def normalise(text: str) -> str:
    """Lower case, no accents or marks, words of any script separated by single spaces."""
    folded = fold(text.translate(_BEFORE))
    if folded.isascii():
        return folded
    return " ".join(_LATIN_I.sub("и", folded.translate(_AFTER)).split())


_HELD = re.compile(r"(.)\1{2,}")


@lru_cache(maxsize=1 << 13)  # every word of a message, twice (signals, n-grams): people reuse their words
def _squeeze(word: str) -> str:
    """'jaaaag' -> 'jaag': a letter held down is still the same word; chat spellings -> the usual word."""
    word = _HELD.sub(r"\1\1", word)
    return _SPOKEN.get(word, word)


# How people write in chats, mapped to the written word (after normalising): "ja vill ta livt av mej".
_SPOKEN = {
    "mej": "mig", "dej": "dig", "sej": "sig", "ja": "jag", "int": "inte", "nt": "inte", "e": "ar", "va": "vara",
    "nat": "nagot", "nan": "nagon", "ngn": "nagon", "ngt": "nagot", "o": "och", "me": "me", "u": "you",
    "wanna": "want", "gonna": "going", "im": "i", "ive": "i", "dont": "dont", "cant": "cant", "wont": "wont",
    "myself": "myself", "mself": "myself", "urself": "yourself", "pls": "please",
}  # fmt: skip


@lru_cache(maxsize=1 << 13)  # bounded by memory: some 200 bytes a word
def _stems(word: str) -> frozenset[str]:
    """Swedish and English stems of a (Latin) word, for word forms: sparkade ~ sparkar, abused ~ abuses."""
    if len(word) < 4 or not word.isascii():
        return frozenset()
    return frozenset(stem for stem in stems(word) if len(stem) >= 3)


# --- signals -------------------------------------------------------------------------------------


# Letters a word of a non-Latin signal may begin inside a message word: Arabic and Persian attach
# particles and articles in front (و ف ب ل ال, می), Tigrinya and Ukrainian prefixes are shorter. A short
# word may begin less far in: "бє" never inside "зберігаєте", but Arabic "ما" in "وما" ("and not").
_PREFIX = {"arabic": 3, "ethiopic": 2, "cyrillic": 2}


def _inside(part: str) -> int:
    """How many letters into a message word a (normalised) word of a non-Latin signal may begin."""
    kind = script(part)
    shortest = 1 if kind == "arabic" else 0
    return min(_PREFIX.get(kind, 2), max(shortest, len(part) - 2))


def _begins_word(position: int, starts: tuple[int, ...], inside: int) -> bool:
    """Whether `position` in a squashed message is at most `inside` letters into a word."""
    return position - starts[bisect_right(starts, position) - 1] <= inside


def word_starts(norm: str) -> tuple[int, ...]:
    """Where each word of a normalised message begins once its spaces are taken out."""
    starts, position = [], 0
    for word in norm.split(" "):
        starts.append(position)
        position += len(word)
    return tuple(starts)


@dataclass(frozen=True)
class Signal:
    text: str  # as written in content
    lang: str
    words: tuple[str, ...]  # normalised; empty for a non-Latin signal
    squashed: str  # normalised without spaces, for non-Latin signals
    line: int = 0
    parts: tuple[str, ...] = ()  # a non-Latin signal's words, normalised
    inside: tuple[int, ...] = ()  # for each part: how many letters into a message word it may begin

    @classmethod
    def of(cls, text: str, lang: str, line: int = 0) -> Signal:
        norm = normalise(text)
        if _LATIN.match(norm):
            return cls(text, lang, tuple(_squeeze(w) for w in norm.split()), "", line)
        parts = tuple(norm.split())
        inside = tuple(_inside(part) for part in parts)
        return cls(text, lang, (), norm.replace(" ", ""), line, parts, inside)

    def in_squashed(self, squashed: str, starts: tuple[int, ...]) -> bool:
        """A non-Latin signal's words in order in the message without spaces (`starts`: where its words
        begin), at most MAX_GAP_CHARS letters between two of them: "اريد ان اموت" in "انا اريد فعلا ان اموت",
        "не хочу жити" in "не хочу більше жити". Each word begins a message word or, if it is long enough, a
        few letters into one (Arabic و/ب/ال, "يضربني" in "وبيضربني"; Persian "خواهم" in "میخواهم"), or right
        after the one before it, written as one word ("كل شي" in "كلشي")."""
        parts, inside = self.parts, self.inside
        if not parts:
            return False
        start = squashed.find(parts[0])
        while start >= 0:
            if _begins_word(start, starts, inside[0]):
                end = start + len(parts[0])
                for part, allowed in zip(parts[1:], inside[1:], strict=True):
                    limit = end + MAX_GAP_CHARS + len(part)
                    found = squashed.find(part, end, limit)
                    while found > end and not _begins_word(found, starts, allowed):  # right after: "كلشي"
                        found = squashed.find(part, found + 1, limit)
                    if found < 0:
                        break
                    end = found + len(part)
                else:
                    return True
            start = squashed.find(parts[0], start + 1)
        return False

    @property
    def opening(self) -> str:
        """The first two letters of the first word: a message without a word starting so cannot hold it."""
        return self.words[0][:2] if self.words else ""


@lru_cache(maxsize=1 << 13)  # bounded by memory: some 200 bytes a pair; `_SignalIndex` keeps each word's matches
def _word_matches(wanted: str, word: str, in_phrase: bool = False) -> bool:
    """The same word, another form of it (by stem), a longer form of a long word, or one typo away
    (two for long words; four-letter words only inside a phrase and with the same first letter)."""
    if word == wanted:
        return True
    if len(wanted) >= 6 and word.startswith(wanted):
        return True  # sjalvmord -> sjalvmordstankar, misshandla -> misshandlar
    if _stems(wanted) & _stems(word):
        return True  # sparkade ~ sparkar, abused ~ abuses, ending ~ end
    if abs(len(word) - len(wanted)) > 2:
        return False
    if len(wanted) >= 5:
        return _distance(wanted, word, 2 if len(wanted) >= 9 else 1)
    if len(wanted) == 4 and in_phrase and word[:1] == wanted[:1] and len(word) >= 4:
        return _distance(wanted, word, 1)  # "hitts" for "hits", "slor" for "slar"
    return False


def _distance(a: str, b: str, limit: int) -> bool:
    """Whether the edit distance (with swaps of neighbours) between a and b is at most `limit`."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return False
        previous2, previous = previous, current
    return previous[-1] <= limit


def _in_order(wanted: tuple[str, ...], words: tuple[str, ...]) -> bool:
    """Every wanted word, in order, with at most MAX_GAP other words between two of them."""
    phrase = len(wanted) > 1
    for start, word in enumerate(words):
        if not _word_matches(wanted[0], word, phrase):
            continue
        position, ok = start, True
        for next_word in wanted[1:]:
            window = words[position + 1 : position + 2 + MAX_GAP]
            found = next((k for k, w in enumerate(window) if _word_matches(next_word, w, phrase)), None)
            if found is None:
                ok = False
                break
            position += 1 + found
        if ok:
            return True
    return False


def _deletes(word: str, depth: int) -> set[str]:
    """`word` with up to `depth` letters taken out: two words within `depth` edits (a swap of neighbours
    counting as one) always share one of these, which makes a cheap index for typo-tolerant lookup."""
    found, frontier = {word}, {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def _keys(parts: tuple[str, ...]) -> set[str]:
    """Three letters side by side in a word of a non-Latin signal (its whole longest word if all are shorter)."""
    found = {part[i : i + 3] for part in parts for i in range(len(part) - 2)}
    return found or {max(parts, key=len)}


class _SignalIndex:
    """Which signal words each word of a message can be, found without comparing it to every signal word:
    exact words, longer forms (by prefix), stems and typos (by a deletion index) give the candidates, and
    `_word_matches` decides on them. Signals whose words are not all among them are never looked at."""

    def __init__(self, signals: tuple[Signal, ...]) -> None:
        self.signals = signals
        wanted = {w for signal in signals for w in signal.words}
        self.wanted = frozenset(wanted)
        self.long_prefixes = frozenset(w for w in wanted if len(w) >= 6)
        self.longest = max(map(len, wanted), default=0)
        self.by_stem: dict[str, set[str]] = defaultdict(set)
        self.by_delete: dict[str, set[str]] = defaultdict(set)
        for w in wanted:
            for stem in _stems(w):
                self.by_stem[stem].add(w)
            if len(w) >= 4:
                for variant in _deletes(w, 2 if len(w) >= 9 else 1):
                    self.by_delete[variant].add(w)
        self.by_word: dict[str, list[int]] = defaultdict(list)  # any signal word -> signals holding it
        for index, signal in enumerate(signals):
            for w in set(signal.words):
                self.by_word[w].append(index)
        # Non-Latin signals by three letters side by side in one of their words, the three fewest signals
        # share: a message without them cannot hold the signal (and a message in Latin letters holds none).
        self.squashed_by_key: dict[str, list[int]] = defaultdict(list)
        keys = {index: _keys(signal.parts) for index, signal in enumerate(signals) if signal.parts}
        sharing = Counter(key for found in keys.values() for key in found)
        for index, found in keys.items():
            self.squashed_by_key[min(found, key=lambda key: (sharing[key], key))].append(index)
        self.key_lengths = sorted({len(key) for key in self.squashed_by_key})
        self._seen: dict[str, frozenset[str]] = {}  # word -> its signal words: people reuse their words

    def candidates(self, word: str) -> frozenset[str]:
        """Signal words `word` can be inside a phrase (the widest reading)."""
        known = self._seen.get(word)
        if known is None:
            known = self._candidates(word)
            if len(self._seen) < MAX_SEEN_WORDS:  # bounded: garbage input must not grow memory forever
                self._seen[word] = known
        return known

    def _candidates(self, word: str) -> frozenset[str]:
        found = {word} & self.wanted
        # A prefix longer than the longest signal word is none of them, and a word more than two letters
        # longer is no typo of one: bounding both keeps a pasted blob of thousands of letters linear (its
        # deletion variants alone would be gigabytes).
        found |= {word[:n] for n in range(6, min(len(word), self.longest + 1)) if word[:n] in self.long_prefixes}
        for stem in _stems(word):
            found |= self.by_stem.get(stem, set())
        if len(word) <= self.longest + 2:
            for variant in _deletes(word, 2 if len(word) >= 7 else 1):
                found |= self.by_delete.get(variant, set())
        return frozenset(w for w in found if _word_matches(w, word, True))

    def first(self, words: tuple[str, ...], norm: str) -> Signal | None:
        """The first signal (in content order) in the normalised message `norm` (`words`: its words, squeezed):
        its words in order (`_in_order`), or a non-Latin one in the message without spaces (`in_squashed`)."""
        squashed = norm.replace(" ", "")
        starts = word_starts(norm) if not squashed.isascii() else ()
        matches = [self.candidates(word) for word in words]
        present: set[str] = set().union(*matches)
        openings = {w[:2] for w in words}
        possible: set[int] = set()
        if not squashed.isascii():
            keys = {squashed[i : i + n] for n in self.key_lengths for i in range(len(squashed) - n + 1)}
            for key in keys & self.squashed_by_key.keys():
                possible.update(self.squashed_by_key[key])
        for w in present:
            possible.update(self.by_word[w])
        for index in sorted(possible):
            signal = self.signals[index]
            if not signal.words:
                if signal.in_squashed(squashed, starts):
                    return signal
            elif (
                signal.opening in openings and set(signal.words) <= present and _in_order(signal.words, words)
            ):
                return signal
        return None


# --- examples ------------------------------------------------------------------------------------


def _grams(norm: str) -> dict[str, float]:
    """Character n-grams of each word (with its edges), counted sublinearly."""
    grams: list[str] = []
    for word in norm.split():
        padded = f" {_squeeze(word)} "
        grams += [padded[i : i + n] for n in GRAMS for i in range(len(padded) - n + 1)]
    return {g: 1.0 + math.log(c) if c > 1 else 1.0 for g, c in Counter(grams).items()}  # counted in C


Query = tuple[np.ndarray, np.ndarray]  # a unit vector: n-gram columns and their weights


class _Space:
    """The n-grams of the crisis examples and the ordinary sentences, with their idf weights."""

    def __init__(self, grams: list[str], idf: np.ndarray, default_idf: float) -> None:
        self.grams = grams
        self.columns = {gram: column for column, gram in enumerate(grams)}
        self.idf = idf
        self._idf = idf.tolist()  # Python floats: read one by one per message, far faster than numpy's
        self.default_idf = default_idf

    @classmethod
    def over(cls, vectors: list[dict[str, float]]) -> _Space:
        frequency: dict[str, int] = defaultdict(int)
        for vector in vectors:
            for gram in vector:
                frequency[gram] += 1
        grams = sorted(frequency)
        total = len(vectors)
        idf = np.array([math.log((1 + total) / (1 + frequency[g])) + 1.0 for g in grams], np.float32)
        return cls(grams, idf, math.log(1 + total) + 1.0)

    def unit(self, grams: dict[str, float]) -> Query:
        """TF-IDF weights at unit length; n-grams outside the space count in the length only."""
        columns, weights, norm = [], [], 0.0
        for gram, weight in grams.items():
            column = self.columns.get(gram)
            weighted = weight * (self.default_idf if column is None else self._idf[column])
            norm += weighted * weighted
            if column is not None:
                columns.append(column)
                weights.append(weighted)
        norm = math.sqrt(norm) or 1.0
        return np.array(columns, np.int64), np.array(weights, np.float32) / norm


class _ExampleIndex:
    """TF-IDF vectors of some sentences as a column-wise sparse matrix (numpy), for a fast nearest sentence.

    Column `c` (an n-gram) holds rows[indptr[c]:indptr[c + 1]] with weights[...]: a message touches only
    the columns of its own n-grams."""

    def __init__(self, indptr: np.ndarray, rows: np.ndarray, weights: np.ndarray, size: int) -> None:
        self.indptr, self.rows, self.weights, self.size = indptr, rows, weights, size

    @classmethod
    def of(cls, vectors: list[Query], columns: int) -> _ExampleIndex:
        """From unit vectors over a space of `columns` n-grams."""
        cols = np.concatenate([c for c, _ in vectors] or [np.zeros(0, np.int64)])
        weights = np.concatenate([w for _, w in vectors] or [np.zeros(0, np.float32)])
        rows = np.repeat(np.arange(len(vectors), dtype=np.int32), [len(c) for c, _ in vectors])
        order = np.argsort(cols, kind="stable")
        indptr = np.zeros(columns + 1, np.int64)
        np.cumsum(np.bincount(cols, minlength=columns), out=indptr[1:])
        return cls(indptr, rows[order], weights[order], len(vectors))

    def scores(self, query: Query) -> np.ndarray:
        """Cosine similarity of a unit query (columns, weights) to every sentence (0 when nothing is shared)."""
        columns, values = query
        starts, ends = self.indptr[columns], self.indptr[columns + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if not total:
            return np.zeros(self.size, np.float32)
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        return np.bincount(self.rows[offsets], np.repeat(values, lengths) * self.weights[offsets],
                           minlength=self.size)  # fmt: skip

    def nearest(self, query: Query, leave_out: int | None = None) -> tuple[float, int | None]:
        scores = self.scores(query)
        if leave_out is not None:
            scores[leave_out] = 0.0
        best = int(scores.argmax()) if self.size else 0
        if not self.size or scores[best] <= 0.0:
            return 0.0, None
        return float(scores[best]), best


# --- the detector --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrisisHit:
    lang: str  # the language of the signal or example that matched: the answer can follow it
    how: str  # "signal" or "example"
    what: str  # the signal or example, for tests and `socialbot validate`; never logged with the message


@dataclass(frozen=True)
class Calibration:
    threshold: float
    examples_caught: int  # crisis examples caught by a signal or another example (themselves left out)
    examples: int
    ordinary_caught: int  # ordinary sentences of the content over the threshold
    ordinary: int


class CrisisDetector:
    def __init__(
        self, crisis: Crisis, ordinary: list[str], cache_dir: Path | None = None, key: str = ""
    ) -> None:
        self.signals = tuple(
            Signal.of(text, lang, crisis.line("signals", lang, i))
            for lang, items in crisis.signals.items()
            for i, text in enumerate(items)
        )
        self.signal_index = _SignalIndex(self.signals)
        self.examples = [(lang, text) for lang, items in crisis.examples.items() for text in items]
        cached = _load(cache_dir, key) if key else None
        if cached is not None:
            self.space, self.index, self.ordinary, self.calibration = cached
            return
        example_grams = [_grams(normalise(text)) for _, text in self.examples]
        ordinary_grams = [_grams(normalise(t)) for t in ordinary]
        self.space = _Space.over(example_grams + ordinary_grams)
        examples = [self.space.unit(g) for g in example_grams]
        sentences = [self.space.unit(g) for g in ordinary_grams]
        self.index = _ExampleIndex.of(examples, len(self.space.grams))
        self.ordinary = _ExampleIndex.of(sentences, len(self.space.grams))
        self.calibration = self._calibrate(ordinary, sentences, examples)
        if key:
            _save(cache_dir, key, self)

    @property
    def threshold(self) -> float:
        return self.calibration.threshold

    def _calibrate(self, texts: list[str], ordinary: list[Query], examples: list[Query]) -> Calibration:
        """The lowest threshold at which at most ORDINARY_RATE of the content's ordinary sentences would be
        caught (each compared with the other ordinary sentences, itself left out); recall is then measured
        on the crisis examples, each left out in turn."""
        # An ordinary sentence counts as caught at threshold t if its nearest crisis example scores >= t
        # and beats its nearest other ordinary sentence: its "catch score" is the crisis score then, else 0.
        catch: list[float] = []
        for index, (text, query) in enumerate(zip(texts, ordinary, strict=True)):
            if len(text.split()) < MIN_WORDS_FOR_EXAMPLES:
                continue
            crisis_score = self.index.nearest(query)[0]
            if crisis_score >= MIN_THRESHOLD and crisis_score < self.ordinary.nearest(query, index)[0]:
                crisis_score = 0.0
            catch.append(crisis_score)
        catch.sort(reverse=True)
        allowed = int(len(catch) * ORDINARY_RATE)
        above = catch[allowed] if allowed < len(catch) else 0.0
        threshold = max(MIN_THRESHOLD, above + 1e-6)
        caught = sum(
            1
            for i, (_, text) in enumerate(self.examples)
            if self.signal_in(text) or self._close(examples[i], threshold, leave_out=i)
        )
        over = sum(1 for s in catch if s >= threshold)
        return Calibration(threshold, caught, len(self.examples), over, len(catch))

    def _close(
        self, query: Query, threshold: float, leave_out: int | None = None
    ) -> tuple[int, float] | None:
        """The nearest crisis example, if it is close enough and closer than every ordinary sentence."""
        score, best = self.index.nearest(query, leave_out)
        if best is None or score < threshold or score < self.ordinary.nearest(query)[0]:
            return None
        return best, score

    def check(self, text: str) -> CrisisHit | None:
        norm = normalise(text)
        if not norm:
            return None
        signal = self._signal_in(norm)
        if signal is not None:
            return CrisisHit(signal.lang, "signal", signal.text)
        words = norm.split()
        if len(words) < MIN_WORDS_FOR_EXAMPLES:
            return None
        close = self._close(self.space.unit(_grams(norm)), self.threshold)
        if close is not None:
            lang, example = self.examples[close[0]]
            return CrisisHit(lang, "example", example)
        return None

    def signal_in(self, text: str) -> Signal | None:
        return self._signal_in(normalise(text))

    def rest(self, text: str, hit: CrisisHit) -> str:
        """The message without the words of the signal that caught it: what else it says or asks ("jag vill
        inte leva på bidrag, kan jag få jobb?"). Empty for an example or a signal in another script."""
        wanted = Signal.of(hit.what, hit.lang).words if hit.how == "signal" else ()
        if not wanted:
            return ""
        words = [w for w in normalise(text).split() if not any(_word_matches(s, _squeeze(w)) for s in wanted)]
        return " ".join(words)

    def _signal_in(self, norm: str) -> Signal | None:
        return self.signal_index.first(tuple(_squeeze(w) for w in norm.split()), norm)


def ordinary_sentences(content: Content) -> Iterator[tuple[str, str, int, str]]:
    """(file, lang, line, text) of every sentence the content says is NOT a crisis."""
    for topic in content.topics.values():
        for lang, examples in topic.examples.items():
            for i, text in enumerate(examples):
                yield topic.file, lang, topic.example_lines.get((lang, i), 1), text
    for lang, examples in content.out_of_scope.items():
        for text in examples:
            yield "out_of_scope.yaml", lang, 0, text
    if content.crisis:
        for lang, examples in content.crisis.not_crisis.items():
            for i, text in enumerate(examples):
                yield content.crisis.file, lang, content.crisis.line("not_crisis", lang, i), text


def detector_for(content: Content, cache_dir: Path | None = None) -> CrisisDetector | None:
    """The content's crisis detector. Calibrating takes seconds: the same content loaded again in one
    process reuses the detector, and with `cache_dir` a new process loads the calibrated indexes from a file
    named by a hash of everything they come from (the content and this code)."""
    if content.crisis is None:
        return None
    ordinary = [text for _, _, _, text in ordinary_sentences(content)]
    crisis = content.crisis
    digest = hashlib.sha256(repr((sorted(crisis.signals.items()), sorted(crisis.examples.items()), crisis.lines,
                                  ordinary)).encode())  # fmt: skip
    for module in (Path(__file__), Path(__file__).parent.parent / "matching" / "normalize.py"):
        digest.update(module.read_bytes())
    key = digest.hexdigest()[:24]
    if key not in _DETECTORS:
        if len(_DETECTORS) >= 4:
            _DETECTORS.pop(next(iter(_DETECTORS)))
        if cache_dir is not None and not (cache_dir / f"crisis-{key}.npz").exists():
            _calibrate_in_child(crisis, ordinary, cache_dir, key)
        _DETECTORS[key] = CrisisDetector(crisis, ordinary, cache_dir, key)  # from the cache, or calibrated here
    return _DETECTORS[key]


def _calibrate_in_child(crisis: Crisis, ordinary: list[str], cache_dir: Path, key: str) -> None:
    """Calibrating takes some 100 MB that a long-running process keeps after it (freed, but fragmented): on the
    first start and after every content change `socialbot web` stayed 100 MB larger. So a child process calibrates
    into the cache, as the matcher is trained (bot/matching/linear.py), and this one loads the file; if that fails,
    the detector calibrates here as before."""
    job = {"signals": {lang: list(items) for lang, items in crisis.signals.items()},
           "examples": {lang: list(items) for lang, items in crisis.examples.items()}, "ordinary": ordinary}  # fmt: skip
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=cache_dir, suffix=".json", delete=False, encoding="utf-8") as out:
            json.dump(job, out, ensure_ascii=False)
        try:
            subprocess.run([sys.executable, "-m", "bot.safety.crisis", out.name, str(cache_dir), key], check=True,
                           capture_output=True, timeout=600)  # fmt: skip
        finally:
            os.unlink(out.name)
    except (OSError, subprocess.SubprocessError):
        log.warning("could not calibrate the crisis detector into the cache in %s; calibrating here", cache_dir)


_DETECTORS: dict[str, CrisisDetector] = {}


def _save(cache_dir: Path | None, key: str, detector: CrisisDetector) -> None:
    """Atomically, beside the matcher's files: a process starting at the same moment never reads half a file."""
    if cache_dir is None:
        return
    arrays: dict[str, np.ndarray] = {
        "grams": np.array(detector.space.grams, dtype=str),
        "idf": detector.space.idf,
        "default_idf": np.array(detector.space.default_idf),
        "calibration": np.array(astuple(detector.calibration), np.float64),
    }
    for name, index in (("examples", detector.index), ("ordinary", detector.ordinary)):
        arrays |= {f"{name}_indptr": index.indptr, f"{name}_rows": index.rows, f"{name}_weights": index.weights,
                   f"{name}_size": np.array(index.size)}  # fmt: skip
    with contextlib.suppress(OSError):  # the cache only saves time; the next start calibrates again
        save_arrays(cache_dir / f"crisis-{key}.npz", arrays)


def _load(
    cache_dir: Path | None, key: str
) -> tuple[_Space, _ExampleIndex, _ExampleIndex, Calibration] | None:
    if cache_dir is None:
        return None
    try:
        with np.load(cache_dir / f"crisis-{key}.npz", allow_pickle=False) as data:
            space = _Space(data["grams"].tolist(), data["idf"], float(data["default_idf"]))
            index, ordinary = (
                _ExampleIndex(
                    data[f"{name}_indptr"],
                    data[f"{name}_rows"],
                    data[f"{name}_weights"],
                    int(data[f"{name}_size"]),
                )
                for name in ("examples", "ordinary")
            )
            threshold, *counts = data["calibration"].tolist()
    except (OSError, ValueError, KeyError):
        return None
    return space, index, ordinary, Calibration(threshold, *(int(c) for c in counts))


def crisis_problems(content: Content, detector: CrisisDetector | None = None) -> list[Problem]:
    """A signal that catches an ordinary sentence (a topic example or a look-alike) is a content mistake:
    reported at both lines, so staff can make the signal longer or reword the example."""
    detector = detector or detector_for(content)
    if detector is None or content.crisis is None:
        return []
    problems = []
    for file, _lang, line, text in ordinary_sentences(content):
        signal = detector.signal_in(text)
        if signal is not None:
            problems.append(
                Problem(
                    content.crisis.file,
                    signal.line,
                    f"the crisis signal '{signal.text}' also catches the ordinary sentence '{text}' "
                    f"({file}:{line}): make the signal more precise",
                )
            )
    return problems


def caught(detector: CrisisDetector, texts: Iterable[str]) -> list[str]:
    return [text for text in texts if detector.check(text) is not None]


if __name__ == "__main__":  # python -m bot.safety.crisis JOB.json CACHE_DIR KEY: calibrate into the cache
    _job = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    _crisis = Crisis(answer={}, signals={lang: tuple(items) for lang, items in _job["signals"].items()},
                     examples={lang: tuple(items) for lang, items in _job["examples"].items()}, not_crisis={})  # fmt: skip
    CrisisDetector(_crisis, _job["ordinary"], Path(sys.argv[2]), sys.argv[3])
