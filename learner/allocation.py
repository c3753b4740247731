"""Splitting one sampling budget across a project's languages.

Pure functions, no database: the caller gathers each language's champion macro-F1, its unlabeled
pool size and its pool's qualified capacity, and gets back how many items each language receives
and why.

* ``parity``: a language gets budget in proportion to how far it lags the best-served language
  (``best macro-F1 - its macro-F1``, a language without a champion counting as 0), plus a small
  ``min_weight`` so a language at the top still gets some; every language first gets ``floor``.
* ``uniform``: equal shares.

Either way a language never gets more than its unlabeled items nor more than its qualified
capacity (sum of the qualified members' daily capacity / overlap); what a capped language cannot
take is handed to the others (water-filling), and leftovers go by largest remainder.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

MODES = ("parity", "uniform")


@dataclass(frozen=True)
class LanguageState:
    tag: str
    macro_f1: float | None  # the champion's dev macro-F1; None: no champion yet
    unlabeled: int  # unlabeled, unassigned pool items
    capacity: float | None = None  # items the qualified evaluators can take (None: unlimited)


def _cap(state: LanguageState) -> int:
    cap = max(0, int(state.unlabeled))
    if state.capacity is not None:
        cap = min(cap, max(0, int(math.floor(state.capacity + 1e-9))))
    return cap


def _weights(states: list[LanguageState], mode: str, min_weight: float) -> tuple[dict[str, float], float]:
    scores = {s.tag: (s.macro_f1 if s.macro_f1 is not None else 0.0) for s in states}
    best = max(scores.values(), default=0.0)
    if mode == "uniform":
        return {s.tag: 1.0 for s in states}, best
    return {tag: (best - f1) + min_weight for tag, f1 in scores.items()}, best


def _water_fill(amount: int, weights: dict[str, float], room: dict[str, int]) -> dict[str, int]:
    """Split ``amount`` by ``weights`` without exceeding ``room``; integer, largest remainder."""
    out = {tag: 0 for tag in weights}
    open_tags = [tag for tag in weights if room[tag] > 0]
    while amount > 0 and open_tags:
        total = sum(weights[tag] for tag in open_tags)
        shares = {tag: amount * weights[tag] / total for tag in open_tags}
        capped = [tag for tag in open_tags if shares[tag] >= room[tag] - out[tag]]
        if capped:  # these fill up; hand the rest to the others next pass
            for tag in capped:
                amount -= room[tag] - out[tag]
                out[tag] = room[tag]
            open_tags = [tag for tag in open_tags if tag not in capped]
            continue
        floors = {tag: int(math.floor(shares[tag])) for tag in open_tags}
        for tag, n in floors.items():
            out[tag] += n
        amount -= sum(floors.values())
        # Largest remainder; ties to the heavier weight, then the tag, so the result is deterministic.
        order = sorted(open_tags, key=lambda t: (-(shares[t] - floors[t]), -weights[t], t))
        for tag in order:
            if amount == 0:
                break
            if out[tag] < room[tag]:
                out[tag] += 1
                amount -= 1
        open_tags = [tag for tag in open_tags if out[tag] < room[tag]]
    return out


def allocate_budget(
    budget: int, languages: list[LanguageState], *, mode: str = "parity", floor: int = 1, min_weight: float = 0.05,
) -> dict[str, dict]:
    """``{tag: {"items": n, "weight", "gap", "cap", "reason"}}``; the items sum to at most ``budget``."""
    if mode not in MODES:
        raise ValueError(f"unknown allocation {mode!r}: choose from {', '.join(MODES)}")
    if budget < 0 or floor < 0 or min_weight < 0:
        raise ValueError("budget, floor and min_weight must not be negative")
    tags = [s.tag for s in languages]
    if len(set(tags)) != len(tags):
        raise ValueError("each language may appear once")
    if not languages:
        return {}
    weights, best = _weights(languages, mode, min_weight)
    caps = {s.tag: _cap(s) for s in languages}
    # 1. the floor, heaviest weight first when the budget cannot cover every floor
    items = {tag: 0 for tag in tags}
    remaining = budget
    for tag in sorted(tags, key=lambda t: (-weights[t], t)):
        give = min(floor, caps[tag], remaining)
        items[tag] += give
        remaining -= give
    # 2. the rest in proportion to the weights, within each language's room
    extra = _water_fill(remaining, weights, {tag: caps[tag] - items[tag] for tag in tags})
    total_weight = sum(weights.values()) or 1.0
    out = {}
    for state in languages:
        tag = state.tag
        n = items[tag] + extra[tag]
        gap = best - (state.macro_f1 if state.macro_f1 is not None else 0.0)
        parts = []
        if mode == "parity":
            f1 = "no champion yet" if state.macro_f1 is None else f"champion macro-F1 {state.macro_f1:.3f}"
            share = weights[tag] / total_weight
            parts.append(f"{f1}, gap {gap:.3f} to the best ({best:.3f}): {share:.0%} of the weight")
        else:
            parts.append("uniform share")
        if caps[tag] == 0:
            parts.append("nothing to give: " + ("no unlabeled items" if state.unlabeled <= 0
                                                else "no qualified evaluator capacity"))
        elif n >= caps[tag] and n > 0:
            limit = "unlabeled items" if caps[tag] == state.unlabeled else "qualified capacity"
            parts.append(f"capped by its {limit} ({caps[tag]})")
        out[tag] = {
            "items": n, "weight": round(weights[tag], 6), "gap": round(gap, 6), "macro_f1": state.macro_f1,
            "cap": caps[tag], "unlabeled": state.unlabeled,
            "capacity": None if state.capacity is None else round(state.capacity, 3),
            "reason": "; ".join(parts),
        }
    return out
