"""A linear classifier over the analyzer's features: trained with scikit-learn, used with plain numpy.

Training (LinearSVC, about a tenth of a second for the whole content) needs scikit-learn, which takes
most of a second and some 80 MB to import; answering needs only the weights. So with a cache directory
the model is trained in a child process and kept in a file named by a hash of everything it was trained
on: the bot's own process never imports scikit-learn, and a start with unchanged content just loads the
weights.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.cachefile import save_arrays

log = logging.getLogger(__name__)
MODEL_VERSION = 2  # bump when features or training change, so old cache files are not used
# Regularisation, chosen by cross-validation over the content's own examples (bench/calibrate.py).
C = {"svm": 3.0, "logreg": 10.0}
TRAIN_TIMEOUT = 600.0  # seconds for the child that trains; past it (a very loaded machine) train here


@dataclass(frozen=True)
class LinearModel:
    classes: tuple[str, ...]
    features: dict[str, int]  # feature -> column
    weights: np.ndarray  # (n_features, n_classes)
    bias: np.ndarray  # (n_classes,)

    def scores(self, vector: dict[str, float]) -> np.ndarray:
        """The decision value of every class for one feature vector."""
        get = self.features.get
        found = [(column, value) for feature, value in vector.items() if (column := get(feature)) is not None]
        if not found:
            return self.bias.copy()
        columns, values = zip(*found, strict=True)
        return self.bias + np.array(values, np.float32) @ self.weights[list(columns)]

    def probabilities_of_counts(self, counts: Mapping[str, int], idf: np.ndarray) -> np.ndarray:
        """`probabilities` of the vector a text's raw feature counts make when weighted as in training -
        sublinear counts times `idf` (by column), at unit length - without building that vector."""
        get = self.features.get
        found = [(column, count) for feature, count in counts.items() if (column := get(feature)) is not None]
        if not found:
            return _softmax(self.bias)
        columns, raw = zip(*found, strict=True)
        index = np.array(columns)
        weights = (1.0 + np.log(np.array(raw, np.float64))) * idf[index]
        weights /= np.sqrt(weights @ weights)
        return _softmax(self.bias + weights.astype(np.float32) @ self.weights[index])

    def probabilities(self, vector: dict[str, float]) -> np.ndarray:
        """Class probabilities (softmax of the decision values: meaningful for a logistic regression)."""
        return _softmax(self.scores(vector))

    @classmethod
    def train(
        cls, vectors: Sequence[dict[str, float]], labels: Sequence[str], kind: str = "svm"
    ) -> LinearModel:
        """`kind` "svm" (a linear support vector machine) or "logreg" (multinomial logistic regression)."""
        from scipy.sparse import csr_matrix
        from sklearn.linear_model import LogisticRegression
        from sklearn.svm import LinearSVC

        features = {f: i for i, f in enumerate(sorted({f for v in vectors for f in v}))}
        rows, columns, values = [], [], []
        for row, vector in enumerate(vectors):
            for feature, value in vector.items():
                rows.append(row)
                columns.append(features[feature])
                values.append(value)
        matrix = csr_matrix((values, (rows, columns)), shape=(len(vectors), len(features)), dtype=np.float32)
        if kind == "logreg":
            # saga: a tenth of lbfgs's time here, with the same held-out accuracy
            model = LogisticRegression(C=C[kind], solver="saga", max_iter=200, tol=1e-3, random_state=0).fit(
                matrix, list(labels)
            )
        else:
            model = LinearSVC(C=C[kind], random_state=0).fit(matrix, list(labels))
        return cls(
            classes=tuple(str(c) for c in model.classes_),
            features=features,
            weights=np.ascontiguousarray(model.coef_.T, dtype=np.float32),
            bias=model.intercept_.astype(np.float32),
        )

    # --- the cache --------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        names = np.array(sorted(self.features, key=self.features.__getitem__))
        save_arrays(path, {"classes": np.array(self.classes), "features": names, "weights": self.weights,
                           "bias": self.bias})  # fmt: skip

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        with np.load(path, allow_pickle=False) as data:
            names: list[str] = data["features"].tolist()
            return cls(
                classes=tuple(str(c) for c in data["classes"]),
                # interned: the same names are the analyzer's idf tables' keys (bot/matching/matcher.py)
                features={sys.intern(name): i for i, name in enumerate(names)},
                weights=data["weights"],
                bias=data["bias"],
            )

    @classmethod
    def cached(cls, jobs: Sequence[Job], cache_dir: Path | None, key: str) -> list[LinearModel]:
        """Load the models trained for `key` (a hash of everything they are trained on), or train them:
        the missing ones in one child process, so scikit-learn is imported once and never here."""
        if cache_dir is None:
            return [cls.train(*job) for job in jobs]
        paths = [cache_dir / f"matcher-{key}-{kind}.npz" for _, _, kind in jobs]
        models: list[LinearModel | None] = []
        for path in paths:
            try:
                models.append(cls.load(path) if path.exists() else None)
            except (OSError, ValueError, KeyError):
                log.warning("matcher cache %s is unreadable; training again", path.name)
                models.append(None)
        missing = [i for i, model in enumerate(models) if model is None]
        if missing:
            try:
                _train_in_child([jobs[i] for i in missing], [paths[i] for i in missing])
                for i in missing:
                    models[i] = cls.load(paths[i])
            except (OSError, ValueError, KeyError, subprocess.SubprocessError):  # failed or timed out
                log.warning("could not train into the matcher cache in %s; training here", cache_dir)
                for i in missing:
                    models[i] = cls.train(*jobs[i])
        return [model for model in models if model is not None]

    @classmethod
    def load_cached(cls, cache_dir: Path | None, key: str, kinds: Sequence[str]) -> list[LinearModel] | None:
        """The models trained for `key` before, or None when any is missing or unreadable."""
        if cache_dir is None:
            return None
        try:
            return [cls.load(cache_dir / f"matcher-{key}-{kind}.npz") for kind in kinds]
        except (OSError, ValueError, KeyError):
            return None


def _softmax(values: np.ndarray) -> np.ndarray:
    exp = np.exp(values - values.max())
    return np.asarray(exp / exp.sum())


def training_key(*parts: object) -> str:
    """A hash of what a model is trained on and of the code that turns it into features and weights, so
    that a change to either trains again."""
    digest = hashlib.sha256(f"v{MODEL_VERSION} C={sorted(C.items())}".encode())
    for module in ("analysis.py", "normalize.py", "linear.py"):
        digest.update((Path(__file__).parent / module).read_bytes())
    digest.update(json.dumps(parts, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:24]


Job = tuple[Sequence[dict[str, float]], Sequence[str], str]  # vectors, labels, kind


def _train_in_child(jobs: Sequence[Job], paths: Sequence[Path]) -> None:
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=paths[0].parent, suffix=".json", delete=False, encoding="utf-8"
    ) as out:
        json.dump([{"vectors": list(v), "labels": list(lb), "kind": k, "path": str(path)}
                   for (v, lb, k), path in zip(jobs, paths, strict=True)], out)  # fmt: skip
    try:
        subprocess.run([sys.executable, "-m", "bot.matching.linear", out.name], check=True,
                       capture_output=True, timeout=TRAIN_TIMEOUT)  # fmt: skip
    finally:
        os.unlink(out.name)


if __name__ == "__main__":  # python -m bot.matching.linear JOBS.json
    with open(sys.argv[1], encoding="utf-8") as handle:
        for job in json.load(handle):
            LinearModel.train(job["vectors"], job["labels"], job["kind"]).save(Path(job["path"]))
