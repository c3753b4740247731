"""Character n-gram TF-IDF + logistic regression, driven through modAL's ``ActiveLearner``.

Strong for scripts no pretrained backbone has seen and trains in seconds on a CPU, so it is the
cold-start and fallback learner. Saved as JSON (vocabulary, classes) and safetensors (idf,
coefficients) rather than joblib/pickle, so loading a model file can never run code.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from modAL.models import ActiveLearner
from modAL.uncertainty import entropy_sampling
from safetensors.numpy import load_file, save_file
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from learner.backends.linear import head_probs
from learner.backends.training_input import check_training_input


@dataclass
class NgramConfig:
    ngram_min: int = 1
    ngram_max: int = 4
    analyzer: str = "char_wb"
    max_features: int = 200_000
    C: float = 10.0
    class_weight: str | None = "balanced"
    max_iter: int = 1000
    seed: int = 0


def _svd_embed(features, dim: int, seed: int):
    """Rows of a sparse TF-IDF matrix -> (n, <=dim) L2-normalised dense float32 tensor (TruncatedSVD)."""
    import torch
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    n, width = features.shape
    components = min(dim, n - 1, width - 1)
    if components < 1:
        dense = features.toarray() if hasattr(features, "toarray") else np.asarray(features)
        return torch.from_numpy(np.ascontiguousarray(dense, dtype=np.float32))
    reduced = TruncatedSVD(n_components=components, random_state=seed).fit_transform(features)
    return torch.from_numpy(np.ascontiguousarray(normalize(reduced), dtype=np.float32))


def tfidf_embed(texts: list[str], dim: int = 64, seed: int = 0):
    """Model-free embeddings for cold start: char 1-3 TF-IDF fitted on ``texts``, then TruncatedSVD."""
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, max_features=50_000,
                                 dtype=np.float32)
    return _svd_embed(vectorizer.fit_transform(texts), dim, seed)


class NgramClassifier:
    def __init__(self, classes: list[str], config: NgramConfig | None = None) -> None:
        self.classes = list(classes)
        self.config = config or NgramConfig()
        self.vectorizer: TfidfVectorizer | None = None
        self.coef: np.ndarray | None = None  # (n_seen_classes or 1, n_features)
        self.intercept: np.ndarray | None = None
        self.seen: list[str] = []
        self.learner: ActiveLearner | None = None

    def _pipeline(self) -> Pipeline:
        c = self.config
        return Pipeline([
            ("tfidf", TfidfVectorizer(
                analyzer=c.analyzer, ngram_range=(c.ngram_min, c.ngram_max), max_features=c.max_features,
                sublinear_tf=True, dtype=np.float32,
            )),
            ("clf", LogisticRegression(C=c.C, class_weight=c.class_weight, max_iter=c.max_iter, random_state=c.seed)),
        ])

    def fit(self, texts: list[str], labels: list[str]) -> None:
        check_training_input(texts, labels, self.classes)
        self.seen = sorted(set(labels))
        if len(self.seen) < 2:  # logistic regression needs two classes; predict the only one seen
            self.vectorizer, self.coef, self.intercept = None, None, None
            return
        # One BLAS thread: on a few thousand sparse rows extra threads only fight each other (10x slower
        # on a busy 2-core worker).
        with threadpool_limits(limits=1, user_api="blas"):
            self.learner = ActiveLearner(
                estimator=self._pipeline(), query_strategy=entropy_sampling,
                X_training=np.asarray(texts, dtype=object), y_training=np.asarray(labels, dtype=object),
            )
        pipeline = self.learner.estimator
        self.vectorizer = pipeline.named_steps["tfidf"]
        clf: LogisticRegression = pipeline.named_steps["clf"]
        self.seen = [str(c) for c in clf.classes_]
        self.coef = np.ascontiguousarray(clf.coef_, dtype=np.float32)
        self.intercept = np.ascontiguousarray(clf.intercept_, dtype=np.float32)

    def query(self, texts: list[str], n: int) -> np.ndarray:
        """modAL's own entropy query over a pool of texts (indices into ``texts``)."""
        if self.learner is None:
            raise RuntimeError("query needs a model fitted in this process")
        indices, _ = self.learner.query(np.asarray(texts, dtype=object), n_instances=min(n, len(texts)))
        return np.asarray(indices)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        features = texts if self.coef is None else self.vectorizer.transform(texts)
        return head_probs(features, self.coef, self.intercept, self.seen, self.classes)

    def embed(self, texts: list[str], dim: int = 64):
        """(n, <=dim) embeddings for batch diversity: the model's own TF-IDF rows reduced by TruncatedSVD."""
        if self.vectorizer is None:
            return tfidf_embed(texts, dim, self.config.seed)
        return _svd_embed(self.vectorizer.transform(texts), dim, self.config.seed)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        meta = {"backend": "ngram", "classes": self.classes, "seen": self.seen, "config": asdict(self.config)}
        if self.vectorizer is not None:
            vocabulary = {term: int(index) for term, index in self.vectorizer.vocabulary_.items()}
            (directory / "vocabulary.json").write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")
            save_file(
                {"idf": np.ascontiguousarray(self.vectorizer.idf_, dtype=np.float32), "coef": self.coef,
                 "intercept": self.intercept},
                str(directory / "model.safetensors"),
            )
        (directory / "config.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> NgramClassifier:
        meta = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        model = cls(meta["classes"], NgramConfig(**meta["config"]))
        model.seen = meta["seen"]
        weights_path = directory / "model.safetensors"
        if weights_path.exists():
            weights = load_file(str(weights_path))
            vocabulary = json.loads((directory / "vocabulary.json").read_text(encoding="utf-8"))
            c = model.config
            vectorizer = TfidfVectorizer(
                analyzer=c.analyzer, ngram_range=(c.ngram_min, c.ngram_max), sublinear_tf=True,
                dtype=np.float32, vocabulary=vocabulary,
            )
            vectorizer.idf_ = weights["idf"]
            model.vectorizer, model.coef, model.intercept = vectorizer, weights["coef"], weights["intercept"]
        return model
