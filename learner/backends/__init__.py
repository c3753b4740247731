"""Text classifiers the learner can train, score with, save and reload.

Every backend speaks the same small interface so the services never care which one runs:
``fit(texts, labels)``, ``predict_proba(texts) -> (n, n_classes)`` in ``classes`` order,
``save(directory)`` and ``load(directory)``. Saved files are JSON and safetensors only: a model
file is never unpickled.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np


class TextClassifier(Protocol):
    classes: list[str]

    def fit(self, texts: list[str], labels: list[str]) -> None: ...

    def predict_proba(self, texts: list[str]) -> np.ndarray: ...

    def save(self, directory: Path) -> None: ...


def fit_classifier(
    classifier: TextClassifier, texts: list[str], labels: list[str],
    dev: tuple[list[str], list[str]] | None = None, progress: Callable[[float], None] | None = None,
) -> None:
    """Fit; backends that early-stop (transformer) get the dev data and report progress per epoch.

    The n-gram learner takes neither, so callers hand both over once and never branch on the backend."""
    params = inspect.signature(classifier.fit).parameters
    kwargs = {}
    if "dev" in params and dev and dev[0]:
        kwargs["dev"] = dev
    if "progress" in params and progress:
        kwargs["progress"] = progress
    classifier.fit(texts, labels, **kwargs)


class BackendError(RuntimeError):
    """A learner backend could not be set up (missing backbone, bad config)."""


BACKENDS = ("ngram", "frozen", "blend", "transformer")


def _classes(backend: str):
    """(classifier class, config class) of a backend; imported lazily so the web process never loads torch."""
    if backend == "ngram":
        from learner.backends.ngram import NgramClassifier, NgramConfig

        return NgramClassifier, NgramConfig
    if backend == "frozen":
        from learner.backends.frozen import FrozenClassifier, FrozenConfig

        return FrozenClassifier, FrozenConfig
    if backend == "blend":
        from learner.backends.blend import BlendClassifier, BlendConfig

        return BlendClassifier, BlendConfig
    if backend == "transformer":
        from learner.backends.transformer import LoraClassifier, LoraTrainingConfig

        return LoraClassifier, LoraTrainingConfig
    raise BackendError(f"unknown learner backend {backend!r} (choose from {', '.join(BACKENDS)})")


def make_classifier(backend: str, classes: list[str], config: dict | None = None) -> TextClassifier:
    classifier, config_class = _classes(backend)
    try:
        return classifier(classes, config_class(**(config or {})))
    except TypeError as exc:  # an unknown key in the run's config
        raise BackendError(f"bad {backend} config {config!r}: {exc}") from exc


def load_classifier(backend: str, directory: Path) -> TextClassifier:
    return _classes(backend)[0].load(directory)
