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


def dawid_skene(
    rows: list[tuple[int, int, str]], only: list[int] | None = None, n_iter: int = 100
) -> dict[int, Verdict]:
    """Dawid-Skene (crowd-kit) over ``(item, evaluator, label)`` rows of one project × language.

    Every row informs the evaluators' confusion matrices; verdicts are returned for ``only`` (all items
    when None). Confidence is the posterior of the chosen label; a near tie of the two best posteriors
    is reported as no decision, like a majority tie.
    """
    import warnings

    import pandas as pd
    from crowdkit.aggregation import DawidSkene

    if not rows:
        return {}
    frame = pd.DataFrame(rows, columns=["task", "worker", "label"])
    with warnings.catch_warnings():  # crowd-kit 1.4 still uses pandas arguments pandas 3 deprecates
        warnings.simplefilter("ignore", category=FutureWarning)
        warnings.simplefilter("ignore", category=DeprecationWarning)
        model = DawidSkene(n_iter=n_iter).fit(frame)
    probas = model.probas_
    wanted = set(frame["task"]) if only is None else set(only) & set(frame["task"])
    verdicts: dict[int, Verdict] = {}
    for task in wanted:
        votes = frame.loc[frame["task"] == task, "label"].tolist()
        row = probas.loc[task].sort_values(ascending=False)
        top, second = float(row.iloc[0]), float(row.iloc[1]) if len(row) > 1 else 0.0
        label = None if abs(top - second) < 1e-6 else str(row.index[0])
        verdicts[int(task)] = Verdict(label=label, confidence=top, unanimous=len(set(votes)) == 1)
    return verdicts
