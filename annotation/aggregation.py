"""Turning k labels of one item into one label, or into a question for a reviewer.

Pure functions: the service decides what to store; these only decide what the votes say.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    label: str | None  # None: no decision (tie), send to adjudication
    confidence: float
    unanimous: bool


def majority_vote(labels: list[str]) -> Verdict:
    if not labels:
        raise ValueError("cannot aggregate an item without labels")
    counts = Counter(labels).most_common()
    top_label, top = counts[0]
    if len(counts) > 1 and counts[1][1] == top:
        return Verdict(label=None, confidence=top / len(labels), unanimous=False)
    return Verdict(label=top_label, confidence=top / len(labels), unanimous=len(counts) == 1)
