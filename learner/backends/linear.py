"""The logistic-regression head the n-gram and frozen-feature learners share: probabilities in the
label set's order from saved coefficients, with the classes the training labels never showed at 0."""
from __future__ import annotations

import numpy as np


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def head_probs(features, coef: np.ndarray | None, intercept: np.ndarray | None, seen: list[str],
               classes: list[str]) -> np.ndarray:
    """(n, len(classes)) probabilities. ``coef`` None: fewer than two classes were seen, so predict the
    one seen (or uniform when none was)."""
    n = features.shape[0] if coef is not None else len(features)
    out = np.zeros((n, len(classes)), dtype=np.float32)
    columns = [classes.index(c) for c in seen]
    if coef is None:
        if not seen:
            out[:] = 1.0 / len(classes)
        else:
            out[:, columns[0]] = 1.0
        return out
    logits = np.asarray(features @ coef.T) + intercept
    if logits.shape[1] == 1:  # binary logistic regression scores the second class
        p = 1.0 / (1.0 + np.exp(-logits[:, 0]))
        probs = np.stack([1.0 - p, p], axis=1)
    else:
        probs = softmax(logits)
    out[:, columns] = probs
    return out
