"""The topic matcher: two linear classifiers over two views of a question, honest about doubt.

Every example phrasing, keyword and title in the content is a training example for its topic; the
out-of-scope examples train a class of their own, so "what's the weather" lands there instead of on the
nearest real topic. Two views vote: a linear SVM over word stems (after synonyms and spelling correction)
and character 3-5-grams, and a logistic regression over character 2-5-grams of the words as written
(robust to long messages, mixed languages and typos). A question gets the topic with the highest combined
value, unless that value is below `threshold` or the out-of-scope class wins: then the bot says it does
not know. Words the content has never seen count against a question ("boka tid på vårdcentralen" is not a
booking question). When the runner-up is within `margin` of the winner it asks "did you mean A or B?".
The weight, threshold and penalty are chosen by cross-validation over the content's own examples
(bench/calibrate.py), never on the evaluation sets.
"""

from __future__ import annotations

import contextlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bot.cachefile import save_arrays
from bot.content.model import Content
from bot.language import LanguageDetector
from bot.matching.analysis import Analyzer, count_char_grams
from bot.matching.linear import LinearModel, training_key

OUT_OF_SCOPE = "__out_of_scope__"
MAX_QUESTION_CHARS = 500  # a pasted essay is cut: the first lines say what it is about
# Chosen by bench/calibrate.py (5-fold cross-validation over the content's examples, best on both
# held-out in-scope accuracy and out-of-scope fallback at once). Rerun it after large content changes.
THRESHOLD = -0.2
UNKNOWN_PENALTY = 0.6  # per share of the question's words that the content has never seen
MARGIN = 0.8  # "did you mean" when the runner-up is this close: bench/calibrate.py (cost of a wrong answer vs a press)
KEEP_TRAINED = 2  # trained models kept in memory per process: a reload of unchanged content is instant
CLAUSE_WORDS = 20  # a message this long is also read clause by clause when it falls back as a whole
CHAR_WEIGHT = 4.0  # weight of the character view's probabilities beside the word view's SVM values


@dataclass(frozen=True)
class Match:
    """What the matcher made of a question. `topic` is None when the bot should not pretend to know."""

    topic: str | None
    score: float
    did_you_mean: tuple[str, ...] = ()  # two or more close topics, best first, when unsure between them
    lang: str | None = None  # the language the question seems to be written in
    ranking: tuple[tuple[str, float], ...] = ()  # best real topics with scores, for debugging

    @property
    def band(self) -> str:
        """A coarse score band for anonymous statistics."""
        return "high" if self.score >= 0.3 else "medium" if self.score >= 0.0 else "low"


def training_texts(content: Content, *, examples_only: bool = False) -> list[tuple[str, str | None, str]]:
    """(class, language, text) for everything the matcher learns from; `examples_only` leaves out
    keywords and titles (what cross-validation holds out)."""
    training: list[tuple[str, str | None, str]] = []
    for topic in content.topics.values():
        for lang, examples in topic.examples.items():
            training += [(topic.id, lang, text) for text in examples]
        if not examples_only:
            training += [(topic.id, None, word) for word in topic.keywords]
            # A variant such as easy Swedish (sv-x-easy) is matched with its base language's examples.
            training += [(topic.id, lang, title) for lang, title in topic.title.items() if "-" not in lang]
    for lang, examples in content.out_of_scope.items():
        training += [(OUT_OF_SCOPE, lang, text) for text in examples]
    return training


class Matcher(Protocol):
    def match(self, text: str) -> Match: ...

    def language(self, text: str) -> str | None: ...


class TopicMatcher:
    """Matches questions to a `Content`'s topics."""

    def __init__(self, content: Content, *, threshold: float = THRESHOLD, margin: float = MARGIN,
                 unknown_penalty: float = UNKNOWN_PENALTY, char_weight: float = CHAR_WEIGHT,
                 cache_dir: Path | None = None) -> None:  # fmt: skip
        self.threshold = threshold
        self.char_weight = char_weight
        self.margin = margin
        self.unknown_penalty = unknown_penalty
        training = training_texts(content)
        texts = [(lang, text) for _, lang, text in training]
        labels = [topic for topic, _, _ in training]
        # Everything trained is kept in the cache under one key, so a start with unchanged content
        # neither counts the vocabulary nor computes a vector: it loads the tables and the weights.
        key = training_key(training, sorted(content.synonyms.items()))
        tables, models = _TRAINED.get(key, (None, None))
        if models is None:
            tables = _load_tables(cache_dir, key)
            models = LinearModel.load_cached(cache_dir, key, ("svm", "logreg")) if tables else None
        self.analyzer = Analyzer(texts, content.synonyms, tables)
        if models is None:
            vectors = [self.analyzer.vector(text) for _, text in texts]
            char_vectors = [self.analyzer.char_vector(text) for _, text in texts]
            jobs = [(vectors, labels, "svm"), (char_vectors, labels, "logreg")]
            models = LinearModel.cached(jobs, cache_dir, key)
            _save_tables(cache_dir, key, self.analyzer.tables)
        _TRAINED[key] = (self.analyzer.tables, models)
        while len(_TRAINED) > KEEP_TRAINED:
            _TRAINED.pop(next(iter(_TRAINED)))
        self.model, self.char_model = models
        assert self.char_model.classes == self.model.classes  # both sorted by scikit-learn
        # The character view's idf by the model's columns: a question's n-gram counts go straight to them.
        self.char_idf = np.zeros(len(self.char_model.features))
        for gram, column in self.char_model.features.items():
            self.char_idf[column] = self.analyzer.char_idf(gram)
        # Languages worth telling apart: the content's own (variants such as sv-x-easy are read as their
        # base language) and those with a notice. Swedish and English by the content's vocabulary.
        known = {code.split("-")[0] for code in content.language_info} | set(content.languages)
        self.detector = LanguageDetector(known | set(content.notices), self.analyzer.language, cache_dir)

    def tokens(self, text: str) -> list[str]:
        return self.analyzer.tokens(text[:MAX_QUESTION_CHARS])

    def language(self, text: str) -> str | None:
        return self.detector.detect(text[:MAX_QUESTION_CHARS])

    def views(self, text: str) -> tuple[np.ndarray, np.ndarray, float]:
        """The two views' values for the whole text (SVM decision values, logistic regression probabilities)
        and the unknown-word share: what bench/calibrate.py weighs against each other."""
        vector, unknown = self.analyzer.analyse(text[:MAX_QUESTION_CHARS])
        return self.model.scores(vector), self._char(text[:MAX_QUESTION_CHARS]), unknown

    def _char(self, text: str) -> np.ndarray:
        """The character view's probabilities (as `char_model.probabilities(analyzer.char_vector(text))`)."""
        return self.char_model.probabilities_of_counts(count_char_grams(text), self.char_idf)

    def _combined(self, text: str, vector: dict[str, float]) -> np.ndarray:
        values = self.model.scores(vector)
        if self.char_weight:
            values = values + self.char_weight * self._char(text)
        return values

    def evidence(self, text: str) -> Evidence:
        """The values the decision rests on: both views of the whole message, combined."""
        text = text[:MAX_QUESTION_CHARS]
        vector, unknown = self.analyzer.analyse(text)  # the words are read once
        values = dict(zip(self.model.classes, self._combined(text, vector).tolist(), strict=True))
        out_of_scope = values.pop(OUT_OF_SCOPE, float("-inf"))
        ranking = tuple(sorted(values.items(), key=lambda item: -item[1])[:3])
        return Evidence(ranking, out_of_scope, unknown)

    def match(self, text: str, *, detect_language: bool = True) -> Match:
        evidence = self.evidence(text)
        if evidence.adjusted(self.unknown_penalty) < self.threshold:
            evidence = self._question_in(text[:MAX_QUESTION_CHARS], evidence)
        ranking = evidence.ranking
        lang = self.language(text) if detect_language else None
        if not ranking:
            return Match(None, 0.0, lang=lang)
        best_topic, best = ranking[0]
        if evidence.adjusted(self.unknown_penalty) < self.threshold or evidence.out_of_scope >= best:
            return Match(None, best, lang=lang, ranking=ranking)
        close = tuple(t for t, s in ranking if s >= self.threshold and best - s <= self.margin)
        return Match(
            best_topic, best, did_you_mean=close if len(close) > 1 else (), lang=lang, ranking=ranking
        )

    def _question_in(self, text: str, whole: Evidence) -> Evidence:
        """The evidence of the part of a message that reads most like a question, when the whole falls back.

        A question followed (or preceded) by other sentences - "får man betalt på praktik? jag heter Anna,
        ring 070-..." - can drown in them: then the sentence that reads most like a question speaks. A long
        message, a story told in one breath, is also read clause by clause (at commas); a clause speaks only
        for the topic the whole message leans to as well, so "where do I start with all that" at the end of
        a story about moving house does not answer for the topic on starting a business."""
        candidates = {s: False for s in _SENTENCE_END.split(text) if len(s.split()) >= 2}
        if len(text.split()) >= CLAUSE_WORDS:
            for clause in _CLAUSE_END.split(text):
                if len(clause.split()) >= 2:
                    candidates.setdefault(
                        clause, True
                    )  # a sentence without commas is read once, as a sentence
        if len(candidates) <= 1:
            return whole
        leaning = whole.ranking[0][0] if whole.ranking else None
        best = whole
        for part, clause in candidates.items():
            evidence = self.evidence(part)
            if clause and (not evidence.ranking or evidence.ranking[0][0] != leaning):
                continue
            if evidence.adjusted(self.unknown_penalty) > best.adjusted(self.unknown_penalty):
                best = evidence
        return best if best.adjusted(self.unknown_penalty) >= self.threshold else whole


# Latin, Arabic (؟ ، ؛) and Ge'ez (። ፧ ፣ ፤) punctuation: a story in Arabic or Tigrinya is read by its sentences too.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[؟።፧])\s*|\n+")
_CLAUSE_END = re.compile(r"(?<=[.!?,;:])\s+|(?<=[؟،؛።፧፣፤])\s*|\n+")


@dataclass(frozen=True)
class Evidence:
    ranking: tuple[tuple[str, float], ...]  # the best real topics with their decision values
    out_of_scope: float  # the out-of-scope class's decision value
    unknown: float  # the share of meaningful words the content has never seen

    def adjusted(self, penalty: float) -> float:
        """The best topic's value less the unknown-word penalty; below the out-of-scope class it is no topic."""
        if not self.ranking:
            return float("-inf")
        best = self.ranking[0][1]
        return best - penalty * self.unknown if best > self.out_of_scope else float("-inf")


_TRAINED: dict[str, tuple[dict[str, Any], list[LinearModel]]] = {}  # key -> tables, models


def _load_tables(cache_dir: Path | None, key: str) -> dict[str, Any] | None:
    """The analyzer's tables as `_save_tables` wrote them (numpy arrays: far quicker to read than JSON)."""
    if cache_dir is None:
        return None
    try:
        with np.load(cache_dir / f"analyzer-{key}.npz", allow_pickle=False) as data:
            tables: dict[str, Any] = {name: data[name].tolist() for name in _LISTS}
            for name in _MAPS:
                # interned: the idf tables' n-grams are the models' feature names, held once
                keys = map(sys.intern, data[f"{name}.keys"].tolist())
                tables[name] = dict(zip(keys, data[f"{name}.values"].tolist(), strict=True))
    except (OSError, ValueError, KeyError):
        return None
    tables["vocabulary"] = {lang: tables.pop(f"vocabulary.{lang}") for lang in ("sv", "en")}
    return tables


_LISTS = ("words", "known_prefixes", "known_stems")
_MAPS = ("word", "char", "vocabulary.sv", "vocabulary.en")


def _save_tables(cache_dir: Path | None, key: str, tables: dict[str, Any]) -> None:
    """Atomically, beside the models: a bot starting at the same moment never reads half a file."""
    if cache_dir is None:
        return
    flat = dict(tables, **{f"vocabulary.{lang}": counts for lang, counts in tables["vocabulary"].items()})
    arrays = {name: np.array(flat[name], dtype=str) for name in _LISTS}
    for name in _MAPS:
        arrays[f"{name}.keys"] = np.array(list(flat[name]), dtype=str)
        counts = name.startswith("vocabulary")  # word counts stay integers, idf values are floats
        arrays[f"{name}.values"] = np.array(
            list(flat[name].values()), dtype=np.int64 if counts else np.float64
        )
    with contextlib.suppress(OSError):  # the cache only saves time; the next start counts again
        save_arrays(cache_dir / f"analyzer-{key}.npz", arrays)
