"""The strong simple baseline socialbot's matcher must beat: character TF-IDF and logistic regression.

Character 2-5-grams (inside word boundaries, accents stripped), TF-IDF, a logistic regression over the
same training texts as the matcher (examples, keywords, titles) with the out-of-scope examples as a
class of their own, and a probability threshold below which it falls back. The threshold is chosen by
cross-validation over the content, like the matcher's. Used by bench/baselines.py and tests/test_eval.py;
the bot never imports it (scikit-learn is heavy).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from bot.content.model import Content
from bot.matching.matcher import OUT_OF_SCOPE, training_texts

C = 10.0
THRESHOLD = 0.0  # chosen by calibrate_threshold (bench/calibrate.py --baseline): no threshold beat none
THRESHOLDS = tuple(step / 40 for step in range(29))  # 0 .. 0.70


class CharNgramBaseline:
    def __init__(self, content: Content, threshold: float = THRESHOLD) -> None:
        training = training_texts(content)
        self._fit([text for _, _, text in training], [topic for topic, _, _ in training])
        self.threshold = threshold

    def _fit(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self._vectorizer: Any = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                                strip_accents="unicode", lowercase=True)  # fmt: skip
        matrix = self._vectorizer.fit_transform(texts)
        self._model: Any = LogisticRegression(C=C, solver="saga", max_iter=200, tol=1e-3, random_state=0).fit(
            matrix, list(labels)
        )

    def best(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """The most probable class of each text and its probability."""
        probabilities = self._model.predict_proba(self._vectorizer.transform(list(texts)))
        classes = self._model.classes_
        return [(str(classes[row.argmax()]), float(row.max())) for row in probabilities]

    def topic(self, text: str) -> str | None:
        label, probability = self.best([text])[0]
        return None if label == OUT_OF_SCOPE or probability < self.threshold else label


def calibrate_threshold(content: Content, folds: int = 5, seed: int = 7) -> float:
    """The probability threshold that does best on held-out content examples (in-scope and out at once)."""
    items = [(topic, text) for topic, _, text in training_texts(content, examples_only=True)]
    random.Random(seed).shuffle(items)
    rows: list[tuple[str, str, float]] = []  # gold, predicted, probability
    extra = [(topic, text) for topic, _, text in training_texts(content) if (topic, text) not in set(items)]
    for k in range(folds):
        held = items[k::folds]
        kept = [item for i, item in enumerate(items) if i % folds != k] + extra
        model = CharNgramBaseline.__new__(CharNgramBaseline)
        model._fit([t for _, t in kept], [g for g, _ in kept])
        rows += [
            (gold, label, p)
            for (gold, _), (label, p) in zip(held, model.best([t for _, t in held]), strict=True)
        ]

    def balanced(threshold: float) -> float:
        right_in = n_in = right_out = n_out = 0
        for gold, label, p in rows:
            predicted = None if label == OUT_OF_SCOPE or p < threshold else label
            if gold == OUT_OF_SCOPE:
                n_out, right_out = n_out + 1, right_out + (predicted is None)
            else:
                n_in, right_in = n_in + 1, right_in + (predicted == gold)
        return min(right_in / max(n_in, 1), right_out / max(n_out, 1))

    return max(THRESHOLDS, key=balanced)
