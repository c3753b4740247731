"""A probability blend of the n-gram learner and the frozen-feature learner.

``p = w * p_frozen + (1 - w) * p_ngram``. The two make different mistakes (characters of a script
the backbone barely saw, against meaning the backbone knows), so a blend can beat both; ``w`` is
chosen on out-of-fold predictions of the training labels (``weight_from="cv"``, the default, which
leaves the dev set unbiased for the registry's comparison) or on the dev set (``"dev"``). Both
members are saved in subfolders in their own safe formats.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from learner.backends.frozen import FrozenClassifier, FrozenConfig
from learner.backends.ngram import NgramClassifier, NgramConfig
from learner.backends.training_input import check_training_input


@dataclass
class BlendConfig:
    weight: float | None = None  # None: chosen from weight_grid
    weight_from: str = "cv"  # cv | dev
    weight_grid: list[float] = field(default_factory=lambda: [round(0.1 * i, 1) for i in range(11)])
    folds: int = 5
    ngram: dict = field(default_factory=dict)
    frozen: dict = field(default_factory=dict)
    seed: int = 0


def _macro_f1(classes: list[str], probs: np.ndarray, labels: list[str]) -> float:
    from sklearn.metrics import f1_score

    predicted = [classes[i] for i in probs.argmax(axis=1)]
    return float(f1_score(labels, predicted, average="macro", labels=sorted(set(labels)), zero_division=0))


def best_weight(classes: list[str], p_frozen: np.ndarray, p_ngram: np.ndarray, labels: list[str],
                grid: list[float]) -> tuple[float, dict[float, float]]:
    """The grid weight with the best macro-F1 (ties: the first in grid order, i.e. more n-gram)."""
    scores = {w: _macro_f1(classes, w * p_frozen + (1 - w) * p_ngram, labels) for w in grid}
    return max(scores, key=lambda w: (scores[w], -grid.index(w))), scores


class BlendClassifier:
    def __init__(self, classes: list[str], config: BlendConfig | None = None) -> None:
        self.classes = list(classes)
        self.config = config or BlendConfig()
        if self.config.weight_from not in ("cv", "dev"):
            raise ValueError(f"unknown weight_from {self.config.weight_from!r} (cv or dev)")
        self.ngram = NgramClassifier(classes, NgramConfig(**self.config.ngram))
        self.frozen = FrozenClassifier(classes, FrozenConfig(**self.config.frozen))
        self.weight = 0.5 if self.config.weight is None else float(self.config.weight)
        self.weight_scores: dict[str, float] = {}

    @property
    def backbone_name(self) -> str:
        return self.frozen.backbone_name

    def fit(self, texts: list[str], labels: list[str], dev: tuple[list[str], list[str]] | None = None) -> None:
        check_training_input(texts, labels, self.classes)  # before the backbone's forward pass
        features = self.frozen.features(texts)
        self.ngram.fit(texts, labels)
        self.frozen.fit_features(features, labels)
        cfg = self.config
        if cfg.weight is not None:
            return
        if cfg.weight_from == "dev" and dev and dev[0]:
            w, scores = best_weight(self.classes, self.frozen.predict_proba(dev[0]), self.ngram.predict_proba(dev[0]),
                                    list(dev[1]), cfg.weight_grid)
        else:
            w, scores = self._weight_by_cv(texts, labels, features)
        self.weight, self.weight_scores = w, {str(k): round(v, 4) for k, v in scores.items()}

    def _weight_by_cv(self, texts: list[str], labels: list[str], features: np.ndarray):
        from sklearn.model_selection import StratifiedKFold

        cfg = self.config
        smallest = min(labels.count(s) for s in set(labels))
        folds = min(cfg.folds, smallest)
        if folds < 2:
            return 0.5, {}
        p_frozen = np.zeros((len(texts), len(self.classes)), dtype=np.float32)
        p_ngram = np.zeros_like(p_frozen)
        frozen_fixed = FrozenConfig(**{**asdict(self.frozen.config), "C": self.frozen.chosen_C})
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=cfg.seed)
        for train_idx, held_idx in splitter.split(np.zeros(len(labels)), labels):
            fold_labels = [labels[i] for i in train_idx]
            ngram = NgramClassifier(self.classes, self.ngram.config)
            ngram.fit([texts[i] for i in train_idx], fold_labels)
            p_ngram[held_idx] = ngram.predict_proba([texts[i] for i in held_idx])
            frozen = FrozenClassifier(self.classes, frozen_fixed)
            frozen.fit_features(features[train_idx], fold_labels)
            p_frozen[held_idx] = frozen.proba_from_features(features[held_idx])
        return best_weight(self.classes, p_frozen, p_ngram, labels, cfg.weight_grid)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        return self.weight * self.frozen.predict_proba(texts) + (1 - self.weight) * self.ngram.predict_proba(texts)

    def embed(self, texts: list[str]):
        return self.frozen.embed(texts)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.ngram.save(directory / "ngram")
        self.frozen.save(directory / "frozen")
        meta = {"backend": "blend", "classes": self.classes, "weight": self.weight,
                "weight_scores": self.weight_scores, "config": asdict(self.config)}
        (directory / "parity.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> BlendClassifier:
        meta = json.loads((directory / "parity.json").read_text(encoding="utf-8"))
        model = cls(meta["classes"], BlendConfig(**meta["config"]))
        model.weight, model.weight_scores = float(meta["weight"]), meta.get("weight_scores", {})
        model.ngram = NgramClassifier.load(directory / "ngram")
        model.frozen = FrozenClassifier.load(directory / "frozen")
        return model
