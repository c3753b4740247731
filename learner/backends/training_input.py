"""The check every backend's ``fit`` makes before it trains: one wording for one mistake, whichever
backend the run uses."""
from __future__ import annotations


def check_training_input(texts: list[str], labels: list[str], classes: list[str]) -> None:
    """Refuse labels outside the label set (named) and an empty training set, before any work."""
    unknown = sorted(set(labels) - set(classes))
    if unknown:
        raise ValueError(f"labels not in the label set: {', '.join(unknown)}")
    if not texts:
        raise ValueError("cannot train on zero labelled examples")
