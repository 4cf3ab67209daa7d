"""From a question to weighted features: folding, synonyms, spelling correction, stems, n-grams.

Two views of the same text: word stems (Swedish and English Snowball stems, after synonym expansion and
spelling correction against the content's own vocabulary) and character 4-grams, which survive typos
and Swedish compounds such as "lönebidragsanställning". Each view is TF-IDF weighted and normalised.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.matching.normalize import STOPWORDS, fold, script, stems

WORD_SHARE = 0.6  # share of the word view in a vector; the rest is character n-grams
NGRAMS = (4,)  # character n-gram sizes in the word view (the char view has 2-5)
CHAR_SIZES = (2, 3, 4, 5)  # character n-gram sizes of the second view (for the logistic regression)
MAX_CORRECTIONS = 10_000  # the spelling cache is bounded: garbage input must not grow memory forever


class Analyzer:
    def __init__(
        self,
        texts: Iterable[tuple[str | None, str]],
        synonyms: Mapping[str, str],
        tables: Mapping[str, Any] | None = None,
    ) -> None:
        """`texts` are (language or None, text) pairs: the vocabulary the bot knows. `tables` is `tables` of
        an analyzer built on the same texts before (from the cache): then nothing is counted again."""
        self._synonyms = _compile_synonyms(synonyms)
        self._corrections: dict[str, str] = {}
        if tables is not None:
            self._vocabulary = {lang: Counter(counts) for lang, counts in tables["vocabulary"].items()}
            self._words = list(tables["words"])
            self._known_prefixes = frozenset(tables["known_prefixes"])
            self._known_stems = frozenset(tables["known_stems"])
            self._known = frozenset(self._words)
            self._idf, self._char_idf = tables["word"], tables["char"]  # read only: shared, not copied
            return
        self._vocabulary = {"sv": Counter(), "en": Counter()}
        words: set[str] = set()
        documents = list(texts)
        for lang, text in documents:
            tokens = fold(text).split()
            words.update(tokens)
            if lang in self._vocabulary:
                self._vocabulary[lang].update(tokens)
        for phrase in self._synonyms.values():
            words.update(phrase)
        self._words = sorted(w for w in words if not w.isdigit())
        self._known = frozenset(self._words)
        # A word is known when one of its stems is: "بالشركة" and "الشركات" share a stem, as do Somali and
        # Ukrainian inflections the examples do not spell out one by one.
        self._known_prefixes = frozenset(
            w[:3] for w in self._words if script(w) == "ethiopic" and len(w) >= 3
        )
        self._known_stems = frozenset(
            stem for word in self._words if script(word) != "latin" for stem in stems(word)
        )
        doc_freq: Counter[str] = Counter()
        char_freq: Counter[str] = Counter()
        for _, text in documents:
            doc_freq.update(self.counts(text).keys())
            char_freq.update(char_grams(text).keys())
        self._idf = _idf(doc_freq, len(documents))
        self._char_idf = _idf(char_freq, len(documents))

    @property
    def tables(self) -> dict[str, Any]:
        """What `__init__` counted over the documents (JSON), to be kept beside the trained models."""
        return {
            "word": self._idf,
            "char": self._char_idf,
            "vocabulary": self._vocabulary,
            "words": self._words,
            "known_prefixes": sorted(self._known_prefixes),
            "known_stems": sorted(self._known_stems),
        }

    def tokens(self, text: str) -> list[str]:
        """Folded words with synonyms expanded and misspellings corrected, stopwords kept."""
        words = fold(text).split()
        out: list[str] = []
        i = 0
        while i < len(words):
            for size in (3, 2, 1):
                phrase = tuple(words[i : i + size])
                if len(phrase) == size and phrase in self._synonyms:
                    out += phrase if size == 1 else []
                    out += self._synonyms[phrase]
                    i += size
                    break
            else:
                out.append(self._correct(words[i]))
                i += 1
        return out

    def _correct(self, word: str) -> str:
        """The known word within one edit (two for long words) of `word`, or `word` itself."""
        # Short words are left alone: one edit turns "anna" into "anda" and a name into a topic word.
        if word in self._known or len(word) < 5 or word.isdigit():
            return word
        corrected = self._corrections.get(word)
        if corrected is None:
            limit = 1 if len(word) < 8 else 2
            found = process.extractOne(word, self._words, scorer=Levenshtein.distance, score_cutoff=limit)
            corrected = found[0] if found else word
            if len(self._corrections) < MAX_CORRECTIONS:
                self._corrections[word] = corrected
        return corrected

    def analyse(self, text: str) -> tuple[dict[str, float], float]:
        """The weighted feature vector and the unknown-word share, from one pass over the words."""
        tokens = self.tokens(text)
        return self._vector(self._counts(tokens)), self._unknown_share(tokens)

    def vector(self, text: str) -> dict[str, float]:
        """TF-IDF weights of the known features, each view normalised to unit length and scaled by its share."""
        return self._vector(self.counts(text))

    def counts(self, text: str) -> Counter[str]:
        """Raw feature counts: 'w:<stem>' and 'c:<4-gram>'."""
        return self._counts(self.tokens(text))

    def _unknown_share(self, tokens: list[str]) -> float:
        words = [w for w in tokens if w not in STOPWORDS and not w.isdigit()]
        return sum(not self._is_known(w) for w in words) / len(words) if words else 0.0

    def _is_known(self, word: str) -> bool:
        if word in self._known:
            return True
        if script(word) == "latin":
            return False
        if any(stem in self._known_stems for stem in stems(word)):
            return True
        # Ge'ez letters are syllables: a word that starts like a known one (three syllables) is its inflection.
        return script(word) == "ethiopic" and len(word) >= 3 and word[:3] in self._known_prefixes

    @staticmethod
    def _counts(tokens: list[str]) -> Counter[str]:
        # A question made only of small words ("vad kan du?") is still a question: keep them then.
        words = [w for w in tokens if w not in STOPWORDS] or tokens
        counts: Counter[str] = Counter()
        for word in words:
            for stem in stems(word):
                counts["w:" + stem] += 1
            padded = f" {word} "
            for size in NGRAMS:
                if len(padded) <= size:
                    counts["c:" + padded] += 1
                    break
                counts.update("c:" + padded[i : i + size] for i in range(len(padded) - size + 1))
        return counts

    def _vector(self, counts: Counter[str]) -> dict[str, float]:
        weights: dict[str, float] = {}
        for prefix, share in (("w:", WORD_SHARE), ("c:", 1.0 - WORD_SHARE)):
            view = {
                f: (1 + math.log(c)) * self._idf[f]
                for f, c in counts.items()
                if f.startswith(prefix) and f in self._idf
            }
            norm = math.sqrt(sum(v * v for v in view.values()))
            if norm:
                weights.update({f: share * v / norm for f, v in view.items()})
        return weights

    def char_idf(self, gram: str) -> float:
        return self._char_idf[gram]

    def char_vector(self, text: str) -> dict[str, float]:
        """The second view: character 2-5-grams of the folded words as written (no synonyms, no spelling
        correction), sublinear TF-IDF, unit length. It reads what the first view's corrections miss."""
        view = {
            g: (1 + math.log(c)) * self._char_idf[g]
            for g, c in char_grams(text).items()
            if g in self._char_idf
        }
        norm = math.sqrt(sum(v * v for v in view.values()))
        return {g: v / norm for g, v in view.items()} if norm else {}

    def language(self, text: str) -> str | None:
        """'sv' or 'en' when the words lean clearly one way, else None."""
        votes = {"sv": 0.0, "en": 0.0}
        for word in fold(text).split():
            sv, en = self._vocabulary["sv"][word], self._vocabulary["en"][word]
            if sv or en:
                votes["sv"] += sv / (sv + en)
                votes["en"] += en / (sv + en)
        if votes["sv"] == votes["en"]:
            return None
        return "sv" if votes["sv"] > votes["en"] else "en"


def _idf(doc_freq: Counter[str], documents: int) -> dict[str, float]:
    return {f: math.log((1 + documents) / (1 + df)) + 1.0 for f, df in doc_freq.items()}


def count_char_grams(text: str) -> Counter[str]:
    """Character n-grams inside word boundaries: " asf ", " as", "asf", ... for every size in CHAR_SIZES."""
    grams: list[str] = []
    for word in fold(text).split():
        padded = f" {word} "
        for size in CHAR_SIZES:
            grams += [padded[i : i + size] for i in range(len(padded) - size + 1)]
    return Counter(grams)


# Cached (do not change the result): training and `validate` read the same texts again. A person's question is
# counted with `count_char_grams`: some 10 KB a question, a cache of every question asked grew the process.
char_grams = lru_cache(maxsize=16384)(count_char_grams)


def _compile_synonyms(synonyms: Mapping[str, str]) -> dict[tuple[str, ...], tuple[str, ...]]:
    compiled = {}
    for key, value in synonyms.items():
        words = tuple(fold(key).split())
        if words and 1 <= len(words) <= 3:
            compiled[words] = tuple(fold(value).split())
    return compiled
