"""Frozen backbone features + logistic regression.

The backbone is never trained: each text becomes the mean of its last hidden states (or the last
real token's, ``pooling="last"``, the natural summary for a decoder), standardised, and a
class-balanced logistic regression is fitted on that. Training takes one forward pass over the
labels instead of epochs of back-propagation, so it is the cheap way to use a pretrained model's
knowledge where it has some (Gemma 3 serves English and Urdu better this way than character
n-grams do; Hausa and Amharic worse, which is what the per-language competition is for).

The regularisation ``C`` is chosen by stratified cross-validation on the training labels, never on
the dev set the registry later compares candidates on. Saved as JSON and safetensors (scaler and
coefficients); the backbone is named, not copied.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from learner.backends.linear import head_probs
from learner.backends.training_input import check_training_input


@dataclass
class FrozenConfig:
    backbone: str = ""
    pooling: str = "mean"  # mean | last
    max_length: int = 128
    batch_size: int = 32
    C: float | None = None  # None: chosen by cross-validation over C_grid
    C_grid: list[float] = field(default_factory=lambda: [0.01, 0.1, 1.0, 10.0])
    class_weight: str | None = "balanced"
    max_iter: int = 3000
    seed: int = 0


_EXTRACTORS: dict[str, FeatureExtractor] = {}


MEMO_ROWS = 20_000  # ~50 MB of 640-dim float32 features


class FeatureExtractor:
    """One backbone in memory per process (a 270M model is a gigabyte: the frozen learner, the blend and
    every language of a run share it). Features are memoised per text, so the candidates of a
    per-language competition (frozen, then blend on the same labels) pay for one forward pass, not two."""

    def __init__(self, name: str) -> None:
        from learner.backbone import load_encoder
        from learner.backends.transformer import device

        self.name = name
        self.device = device()
        self.tokenizer, self.model = load_encoder(name)
        self.model.to(self.device).eval()
        self._memo: dict[tuple[str, int, str], np.ndarray] = {}

    @classmethod
    def shared(cls, name: str) -> FeatureExtractor:
        if name not in _EXTRACTORS:
            _EXTRACTORS.clear()  # keep one backbone resident, not one per name ever used
            _EXTRACTORS[name] = cls(name)
        return _EXTRACTORS[name]

    def features(self, texts: list[str], pooling: str = "mean", max_length: int = 128,
                 batch_size: int = 32) -> np.ndarray:
        """(n, hidden) float32 features in input order; only texts not seen before go through the model."""
        keys = [(pooling, max_length, text) for text in texts]
        if not keys:
            return np.zeros((0, self.model.config.hidden_size), dtype=np.float32)
        missing = list(dict.fromkeys(key[2] for key in keys if key not in self._memo))
        fresh = {}
        if missing:
            computed = self._forward(missing, pooling, max_length, batch_size).cpu().numpy()
            fresh = {(pooling, max_length, t): row for t, row in zip(missing, computed, strict=True)}
        out = np.stack([fresh[k] if k in fresh else self._memo[k] for k in keys])
        if len(self._memo) + len(fresh) > MEMO_ROWS:
            self._memo.clear()
        self._memo.update(fresh)
        return out

    def _forward(self, texts: list[str], pooling: str, max_length: int, batch_size: int):
        """(n, hidden) float32 tensor on the extractor's device, in input order (length-sorted batches)."""
        import torch

        from learner.backends.transformer import _autocast

        out = torch.empty((len(texts), self.model.config.hidden_size), dtype=torch.float32, device=self.device)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start:start + batch_size]
                batch = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                       max_length=max_length, return_tensors="pt")
                ids = batch["input_ids"].to(self.device)
                mask = batch["attention_mask"].to(self.device)
                with _autocast(self.device):
                    states = self.model(input_ids=ids, attention_mask=mask).last_hidden_state.float()
                if pooling == "last":  # right padding: the last real token sits at mask.sum() - 1
                    last = mask.sum(1).clamp(min=1) - 1
                    pooled = states[torch.arange(len(idx), device=self.device), last]
                else:
                    weights = mask.unsqueeze(-1).float()
                    pooled = (states * weights).sum(1) / weights.sum(1).clamp(min=1)
                out[torch.tensor(idx, device=self.device)] = pooled
        return out


class FrozenClassifier:
    def __init__(self, classes: list[str], config: FrozenConfig | None = None) -> None:
        if config is not None and config.pooling not in ("mean", "last"):
            raise ValueError(f"unknown pooling {config.pooling!r} (mean or last)")
        self.classes = list(classes)
        self.config = config or FrozenConfig()
        self.backbone_name = self.config.backbone or ""
        self.seen: list[str] = []
        self.mean = self.scale = self.coef = self.intercept = None
        self.chosen_C: float | None = None

    def _extractor(self, corpus: list[str] | None = None) -> FeatureExtractor:
        from learner.backbone import resolve_backbone

        if not self.backbone_name:
            self.backbone_name = resolve_backbone(self.config.backbone or None, corpus)
        return FeatureExtractor.shared(self.backbone_name)

    def features(self, texts: list[str]) -> np.ndarray:
        c = self.config
        return self._extractor(texts).features(texts, c.pooling, c.max_length, c.batch_size)

    def fit(self, texts: list[str], labels: list[str]) -> None:
        check_training_input(texts, labels, self.classes)
        self.fit_features(self.features(texts), labels)

    def fit_features(self, x: np.ndarray, labels: list[str]) -> None:
        """Fit the head on precomputed features (the blend reuses one forward pass for its CV folds)."""
        from sklearn.linear_model import LogisticRegression

        self.seen = sorted(set(labels))
        if len(self.seen) < 2:
            self.mean = self.scale = self.coef = self.intercept = None
            return
        self.mean = x.mean(axis=0).astype(np.float32)
        self.scale = (x.std(axis=0) + 1e-6).astype(np.float32)
        z = (x - self.mean) / self.scale
        c = self.config
        self.chosen_C = c.C if c.C is not None else self._choose_c(z, labels)
        clf = LogisticRegression(C=self.chosen_C, class_weight=c.class_weight, max_iter=c.max_iter,
                                 random_state=c.seed)
        clf.fit(z, labels)
        self.seen = [str(s) for s in clf.classes_]
        self.coef = np.ascontiguousarray(clf.coef_, dtype=np.float32)
        self.intercept = np.ascontiguousarray(clf.intercept_, dtype=np.float32)

    def _choose_c(self, z: np.ndarray, labels: list[str]) -> float:
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold, cross_val_score

        c = self.config
        smallest = min(labels.count(s) for s in set(labels))
        folds = min(5, smallest)
        if folds < 2 or len(c.C_grid) < 2:
            return float(c.C_grid[len(c.C_grid) // 2] if c.C_grid else 1.0)
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=c.seed)
        scores = {
            value: cross_val_score(
                LogisticRegression(C=value, class_weight=c.class_weight, max_iter=c.max_iter, random_state=c.seed),
                z, labels, cv=splitter, scoring="f1_macro",
            ).mean()
            for value in c.C_grid
        }
        return float(max(scores, key=lambda v: (scores[v], -v)))  # ties: the stronger regularisation

    def proba_from_features(self, x: np.ndarray) -> np.ndarray:
        z = x if self.coef is None else (x - self.mean) / self.scale
        return head_probs(z, self.coef, self.intercept, self.seen, self.classes)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        return self.proba_from_features(self.features(texts) if self.coef is not None else np.zeros((len(texts), 1)))

    def embed(self, texts: list[str]):
        """Backbone features for batch diversity (the scorer's k-means++ step)."""
        import torch

        return torch.from_numpy(np.ascontiguousarray(self.features(texts)))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        meta = {"backend": "frozen", "classes": self.classes, "seen": self.seen, "backbone": self.backbone_name,
                "chosen_C": self.chosen_C, "config": asdict(self.config)}
        if self.coef is not None:
            save_file({"mean": self.mean, "scale": self.scale, "coef": self.coef, "intercept": self.intercept},
                      str(directory / "head.safetensors"))
        (directory / "parity.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> FrozenClassifier:
        meta = json.loads((directory / "parity.json").read_text(encoding="utf-8"))
        model = cls(meta["classes"], FrozenConfig(**meta["config"]))
        model.backbone_name, model.seen, model.chosen_C = meta["backbone"], meta["seen"], meta.get("chosen_C")
        if (directory / "head.safetensors").exists():
            weights = load_file(str(directory / "head.safetensors"))
            model.mean, model.scale = weights["mean"], weights["scale"]
            model.coef, model.intercept = weights["coef"], weights["intercept"]
        return model
