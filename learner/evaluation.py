"""Metrics for a candidate model on one language's held-out data."""
from __future__ import annotations

import numpy as np


def expected_calibration_error(probs: np.ndarray, truth: np.ndarray, bins: int = 10) -> float:
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == truth).astype(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(ece)


def classification_metrics(classes: list[str], probs: np.ndarray, truth_labels: list[str]) -> dict:
    from sklearn.metrics import accuracy_score, f1_score  # scikit-learn loads with training, not with the web app

    truth = np.array([classes.index(t) for t in truth_labels])
    predicted = probs.argmax(axis=1)
    per_class = f1_score(truth, predicted, average=None, labels=range(len(classes)), zero_division=0)
    return {
        "macro_f1": float(f1_score(truth, predicted, average="macro", labels=range(len(classes)), zero_division=0)),
        "accuracy": float(accuracy_score(truth, predicted)),
        "per_class_f1": {c: float(f) for c, f in zip(classes, per_class, strict=False)},
        "ece": expected_calibration_error(probs, truth),
        "n_eval": int(len(truth)),
    }
