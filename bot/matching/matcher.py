"""The topic matcher: weighted word stems plus character n-grams, nearest example wins.

Each example phrasing in the content is a small document. A question is compared with every document
on two views: word stems (Swedish and English Snowball stems, after folding, synonym expansion and
spelling correction) and character 4-grams (which survive typos and Swedish compounds such as
"lönebidragsanställning"). Both views are TF-IDF weighted and cosine-normalised; a topic scores as its
best example. Out-of-scope examples from the content compete as a topic of their own, so "what's the
weather" lands there instead of on the nearest real topic. Below `threshold` the bot says it does not
know; when the runner-up is within `margin` of the winner it asks "did you mean A or B?".
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.content.model import Content
from bot.matching.normalize import STOPWORDS, fold, stems

OUT_OF_SCOPE = "__out_of_scope__"
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
WORD_WEIGHT = 0.6  # share of the word view in the score; the rest is character n-grams
NGRAM = 4
MAX_QUESTION_CHARS = 500  # a pasted essay is cut: the first lines say what it is about


@dataclass(frozen=True)
class Match:
    """What the matcher made of a question. `topic` is None when the bot should not pretend to know."""

    topic: str | None
    score: float
    did_you_mean: tuple[str, ...] = ()  # two or more close topics, best first, when unsure between them
    lang: str | None = None  # the language the question seems to be written in
    ranking: tuple[tuple[str, float], ...] = ()  # best real topics with scores, for stats and debugging

    @property
    def band(self) -> str:
        """A coarse score band for anonymous statistics."""
        return "high" if self.score >= 0.6 else "medium" if self.score >= 0.4 else "low"


class Matcher(Protocol):
    def match(self, text: str) -> Match: ...


@dataclass(frozen=True)
class _Doc:
    topic: str
    lang: str | None


class TopicMatcher:
    """Matches questions against a `Content`'s examples, keywords and out-of-scope examples."""

    def __init__(self, content: Content, *, threshold: float = 0.18, margin: float = 0.04,
                 profile_share: float = 0.5, unknown_weight: float = 1.0, idf_mode: str = "topic", answers_in_profile: bool = False) -> None:  # fmt: skip
        self.idf_mode = idf_mode
        self.answers_in_profile = answers_in_profile
        self.threshold = threshold
        self.margin = margin
        self.profile_share = profile_share
        self.unknown_weight = unknown_weight
        self._synonyms = _compile_synonyms(content.synonyms)
        docs: list[tuple[_Doc, str]] = []
        for topic in content.topics.values():
            for lang, examples in topic.examples.items():
                docs += [(_Doc(topic.id, lang), text) for text in examples]
            docs += [(_Doc(topic.id, None), word) for word in topic.keywords]
            docs.append((_Doc(topic.id, None), topic.title["sv"]))
            docs.append((_Doc(topic.id, None), topic.title["en"]))
        for lang, examples in content.out_of_scope.items():
            docs += [(_Doc(OUT_OF_SCOPE, lang), text) for text in examples]
        # One long document per topic, all its phrasings together: a rambling question that shares a
        # word with each of several examples still finds its topic.
        profiles: dict[str, list[str]] = {}
        for doc, text in docs:
            profiles.setdefault(doc.topic, []).append(text)
        if self.answers_in_profile:
            # The answers are content too: their words tell what a topic is about, beyond the examples.
            for topic in content.topics.values():
                profiles[topic.id] += [_PLACEHOLDER.sub(" ", text) for text in topic.answers.values()]
        profile_docs = [(_Doc(topic, "profile"), " ".join(texts)) for topic, texts in profiles.items()]
        # Sorted by topic so that a topic's best example is one np.maximum.reduceat away.
        docs.sort(key=lambda item: item[0].topic)
        self._docs = [doc for doc, _ in docs]

        self._vocabulary: dict[str, Counter[str]] = {"sv": Counter(), "en": Counter()}
        words: set[str] = set()
        for doc, text in docs:
            tokens = fold(text).split()
            words.update(tokens)
            if doc.lang:
                self._vocabulary[doc.lang].update(tokens)
        for phrase in self._synonyms.values():
            words.update(phrase)
        self._words = sorted(w for w in words if not w.isdigit())
        self._known = frozenset(self._words)
        self._corrections: dict[str, str] = {}

        features = [self._features(text) for _, text in docs]
        doc_freq: Counter[str] = Counter()
        for feature_counts in features:
            doc_freq.update(feature_counts.keys())
        n_docs = len(docs)
        topic_sets: dict[str, set[str]] = {}
        for (doc, _), feature_counts in zip(docs, features, strict=True):
            for f in feature_counts:
                topic_sets.setdefault(f, set()).add(doc.topic)
        n_topics = len({doc.topic for doc in self._docs})
        if self.idf_mode == "topic":
            self._idf = {f: math.log((1 + n_topics) / (1 + len(topic_sets[f]))) + 1.0 for f in doc_freq}
        elif self.idf_mode == "both":
            self._idf = {
                f: (math.log((1 + n_topics) / (1 + len(topic_sets[f]))) + 1.0)
                * (math.log((1 + n_docs) / (1 + df)) + 1.0) ** 0.5
                for f, df in doc_freq.items()
            }
        else:
            self._idf = {f: math.log((1 + n_docs) / (1 + df)) + 1.0 for f, df in doc_freq.items()}
        self._unknown_idf = math.log(1 + n_docs) + 1.0
        self._postings = _postings([self._weigh(f) for f in features])
        topics = [doc.topic for doc in self._docs]
        self._topic_names = list(dict.fromkeys(topics))
        self._topic_starts = np.array([topics.index(t) for t in self._topic_names], dtype=np.int64)
        profile_features = {doc.topic: self._features(text) for doc, text in profile_docs}
        self._profile_postings = _postings([self._weigh(profile_features[t], 1.0) for t in self._topic_names])

    # --- analysis -----------------------------------------------------------------------------

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
        if word in self._known or len(word) < 4 or word.isdigit():
            return word
        corrected = self._corrections.get(word)
        if corrected is None:
            limit = 1 if len(word) < 8 else 2
            found = process.extractOne(word, self._words, scorer=Levenshtein.distance, score_cutoff=limit)
            corrected = found[0] if found else word
            if len(self._corrections) < 50_000:  # bounded: garbage input must not grow memory forever
                self._corrections[word] = corrected
        return corrected

    def _features(self, text: str) -> Counter[str]:
        tokens = self.tokens(text)
        # A question made only of small words ("vad kan du?") is still a question: keep them then.
        words = [w for w in tokens if w not in STOPWORDS] or tokens
        counts: Counter[str] = Counter()
        for word in words:
            for stem in stems(word):
                counts["w:" + stem] += 1
            padded = f" {word} "
            if len(padded) <= NGRAM:
                counts["c:" + padded] += 1
            else:
                counts.update("c:" + padded[i : i + NGRAM] for i in range(len(padded) - NGRAM + 1))
        return counts

    def _weigh(self, counts: Mapping[str, int], unknown: float = 0.0) -> dict[str, float]:
        """TF-IDF weights, each view normalised to unit length and scaled by its share.

        `unknown` weighs features the content has never seen: above zero, words the bot knows nothing
        about dilute the score, so "boka tid på vårdcentralen" is not taken for a booking question.
        """
        weights: dict[str, float] = {}
        fallback = unknown * self._unknown_idf
        for prefix, share in (("w:", WORD_WEIGHT), ("c:", 1.0 - WORD_WEIGHT)):
            view = {
                f: (1 + math.log(c)) * self._idf.get(f, fallback)
                for f, c in counts.items()
                if f.startswith(prefix)
            }
            norm = math.sqrt(sum(v * v for v in view.values()))
            if norm:
                weights.update({f: share * v / norm for f, v in view.items()})
        return weights

    def language(self, text: str) -> str | None:
        """'sv' or 'en' when the words lean clearly one way, else None."""
        votes = {"sv": 0.0, "en": 0.0}
        for word in fold(text[:MAX_QUESTION_CHARS]).split():
            sv, en = self._vocabulary["sv"][word], self._vocabulary["en"][word]
            if sv or en:
                votes["sv"] += sv / (sv + en)
                votes["en"] += en / (sv + en)
        if votes["sv"] == votes["en"]:
            return None
        return "sv" if votes["sv"] > votes["en"] else "en"

    # --- matching -----------------------------------------------------------------------------

    def scores(self, text: str) -> dict[str, float]:
        """Every topic's score (the out-of-scope pseudo-topic included), 0..1."""
        query = self._weigh(self._features(text[:MAX_QUESTION_CHARS]), self.unknown_weight)
        best = np.maximum.reduceat(_dot(query, self._postings, len(self._docs)), self._topic_starts)
        if self.profile_share:
            profile = _dot(query, self._profile_postings, len(self._topic_names))
            best = (1 - self.profile_share) * best + self.profile_share * profile
        return dict(zip(self._topic_names, best.tolist(), strict=True))

    def match(self, text: str) -> Match:
        scores = self.scores(text)
        out_of_scope = scores.pop(OUT_OF_SCOPE, 0.0)
        ranking = sorted(scores.items(), key=lambda item: -item[1])[:3]
        lang = self.language(text)
        if not ranking:
            return Match(None, 0.0, lang=lang)
        best_topic, best = ranking[0]
        if best < self.threshold or out_of_scope >= best:
            return Match(None, best, lang=lang, ranking=tuple(ranking))
        close = tuple(t for t, s in ranking if s >= self.threshold and best - s <= self.margin)
        return Match(
            best_topic, best, did_you_mean=close if len(close) > 1 else (), lang=lang, ranking=tuple(ranking)
        )


def _postings(vectors: list[dict[str, float]]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """An inverted index: feature -> (document indices, weights)."""
    lists: dict[str, list[tuple[int, float]]] = {}
    for index, vector in enumerate(vectors):
        for feature, weight in vector.items():
            lists.setdefault(feature, []).append((index, weight))
    return {
        f: (
            np.fromiter((i for i, _ in p), np.int32, len(p)),
            np.fromiter((w for _, w in p), np.float32, len(p)),
        )
        for f, p in lists.items()
    }


def _dot(
    query: dict[str, float], postings: dict[str, tuple[np.ndarray, np.ndarray]], size: int
) -> np.ndarray:
    """Cosine of the query with every indexed document (all vectors are unit length per view)."""
    scores = np.zeros(size, dtype=np.float32)
    for feature, weight in query.items():
        posting = postings.get(feature)
        if posting is not None:
            scores[posting[0]] += weight * posting[1]
    return scores


def _compile_synonyms(synonyms: Mapping[str, str]) -> dict[tuple[str, ...], tuple[str, ...]]:
    compiled = {}
    for key, value in synonyms.items():
        words = tuple(fold(key).split())
        if words and 1 <= len(words) <= 3:
            compiled[words] = tuple(fold(value).split())
    return compiled
