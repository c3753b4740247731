"""Uncertainty scores and the shared top-k selector.

Scores follow one convention across the package: **higher = more worth
labelling**, so every strategy ends in the same :func:`top_k`. The maths
matches modAL (``modAL.uncertainty``) so results can be cross-checked, but
everything stays on the tensors' device: scores, ranking and the returned
indices never leave CUDA when the model ran there.

This module also holds the small validation helpers the other strategy
modules share, so every entry point rejects bad input with the same messages.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

__all__ = [
    "Selection",
    "entropy",
    "entropy_scores",
    "least_confidence",
    "least_confidence_scores",
    "margin",
    "margin_scores",
    "top_k",
    "validate_probs",
]

#: Rows of ``probs`` must sum to 1 within this tolerance. Half-precision
#: softmax outputs are noticeably less exact, hence the looser bound there.
PROB_ATOL: dict[torch.dtype, float] = {
    torch.float64: 1e-3,
    torch.float32: 1e-3,
    torch.float16: 2e-2,
    torch.bfloat16: 2e-2,
}


class Selection(NamedTuple):
    """Indices chosen by a strategy plus, where meaningful, their scores.

    ``scores`` is aligned with ``indices`` (same order) and is ``None`` for
    strategies that do not rank items (random, stratified, cold start).
    """

    indices: Tensor
    scores: Tensor | None = None


# --------------------------------------------------------------------------
# validation helpers (shared by the sibling modules)
# --------------------------------------------------------------------------


def check_k(k: object) -> int:
    """Reject non-integer (TypeError) or negative (ValueError) ``k``; clamping happens later."""
    # bool is an int subclass; ``k=True`` is almost certainly a bug.
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"k must be a non-negative int, got {k!r}")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    return k


def check_tensor(x: object, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    return x


def check_float(x: Tensor, name: str) -> None:
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")


def check_finite(x: Tensor, name: str) -> None:
    # One device->host sync; cheap next to the forward pass that made ``x``,
    # and NaNs would otherwise silently poison the ranking.
    if x.numel() and not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains NaN or infinite values")


def _check_distribution(probs: Tensor, name: str) -> None:
    """Last dimension must be a probability distribution.

    Raising (instead of renormalising like scipy's ``entropy`` does) catches
    the common bug of passing logits; softmax them first.
    """
    if probs.numel() == 0:
        return
    atol = PROB_ATOL.get(probs.dtype, 1e-3)
    # One device->host transfer for all four checks instead of one per check.
    stats = torch.stack(
        [
            (~torch.isfinite(probs)).any().to(torch.float64),
            probs.min().to(torch.float64),
            probs.max().to(torch.float64),
            (probs.sum(dim=-1, dtype=torch.float64) - 1).abs().max(),
        ]
    )
    non_finite, lo, hi, worst = stats.tolist()
    if non_finite:
        raise ValueError(f"{name} contains NaN or infinite values")
    if lo < -atol or hi > 1 + atol:
        raise ValueError(
            f"{name} must contain probabilities in [0, 1], got values in "
            f"[{lo:.4g}, {hi:.4g}] (logits? apply softmax first)"
        )
    if worst > atol:
        raise ValueError(
            f"{name} rows must sum to 1 (tolerance {atol:g}), worst row is off by "
            f"{worst:.4g} (logits or unnormalised scores? apply softmax first)"
        )


def validate_probs(probs: object, name: str = "probs") -> Tensor:
    """Validate a (n_items, n_classes) probability matrix and return it."""
    probs = check_tensor(probs, name)
    if probs.dim() != 2:
        raise ValueError(f"{name} must be a 2-D tensor (n_items, n_classes), got shape {tuple(probs.shape)}")
    if probs.shape[1] < 1:
        raise ValueError(f"{name} must have at least one class column, got shape {tuple(probs.shape)}")
    check_float(probs, name)
    _check_distribution(probs, name)
    return probs


def validate_mc_probs(mc_probs: object, name: str = "mc_probs") -> Tensor:
    """Validate a (n_passes, n_items, n_classes) stack of MC-dropout probabilities."""
    mc_probs = check_tensor(mc_probs, name)
    if mc_probs.dim() != 3:
        raise ValueError(
            f"{name} must be a 3-D tensor (n_passes, n_items, n_classes), got shape {tuple(mc_probs.shape)}"
        )
    if mc_probs.shape[2] < 1:
        raise ValueError(f"{name} must have at least one class column, got shape {tuple(mc_probs.shape)}")
    check_float(mc_probs, name)
    _check_distribution(mc_probs, name)
    return mc_probs


def validate_scores(scores: object, name: str = "scores") -> Tensor:
    """1-D float scores; NaN is rejected but -inf is allowed as a "never pick" mask."""
    scores = check_tensor(scores, name)
    if scores.dim() != 1:
        raise ValueError(f"{name} must be a 1-D tensor (n_items,), got shape {tuple(scores.shape)}")
    check_float(scores, name)
    if scores.numel() and bool(torch.isnan(scores).any()):
        raise ValueError(f"{name} contains NaN values")
    return scores


def upcast_half(x: Tensor) -> Tensor:
    """Half precision loses too much in ``1 - p`` and ``p log p``; compute in fp32."""
    if x.dtype in (torch.float16, torch.bfloat16):
        return x.float()
    return x


# --------------------------------------------------------------------------
# scores
# --------------------------------------------------------------------------


def least_confidence_scores(probs: Tensor) -> Tensor:
    """``1 - max_c p(c|x)``, modAL's ``classifier_uncertainty``.

    Returns a (n_items,) tensor in [0, 1 - 1/C]; half inputs give fp32 scores.
    """
    probs = upcast_half(validate_probs(probs))
    return 1.0 - probs.amax(dim=1)


def margin_scores(probs: Tensor) -> Tensor:
    """``1 - (p_top1 - p_top2)``: a small gap between the best two classes is informative.

    modAL ranks by the raw margin ascending; ``1 - margin`` gives the same
    order while keeping the package-wide "higher is better" convention and a
    [0, 1] range (1 = the top two classes are tied). With a single class
    there is no runner-up, so the margin is defined as 0 (like modAL).
    """
    probs = upcast_half(validate_probs(probs))
    if probs.shape[1] == 1:
        return torch.ones(probs.shape[0], dtype=probs.dtype, device=probs.device)
    top2 = probs.topk(2, dim=1).values
    return 1.0 - (top2[:, 0] - top2[:, 1])


def entropy_scores(probs: Tensor, *, normalize: bool = False) -> Tensor:
    """Shannon entropy in nats, ``-sum_c p log p`` with ``0 log 0 = 0``.

    ``xlogy`` makes zero probabilities contribute exactly 0 instead of NaN,
    so hard one-hot predictions are safe. ``normalize=True`` divides by
    ``log C`` to land in [0, 1], which matters only when entropy is mixed with
    other terms (ranked batch); the ranking itself is unchanged.
    """
    probs = upcast_half(validate_probs(probs))
    h = -torch.special.xlogy(probs, probs).sum(dim=1)
    if normalize:
        n_classes = probs.shape[1]
        h = h / math.log(n_classes) if n_classes > 1 else torch.zeros_like(h)
    return h.clamp_min(0.0)


# --------------------------------------------------------------------------
# top-k and selection functions
# --------------------------------------------------------------------------


def top_k(scores: Tensor, k: int) -> Tensor:
    """Indices of the ``k`` highest scores, best first, ties to the lowest index.

    ``torch.topk`` does the heavy lifting on the scores' device but makes no
    promise about which of several equal scores it returns (and CPU and CUDA
    differ). Everything strictly above the k-th value is unambiguous, so only
    the small candidate set ``scores >= kth`` is re-sorted with a stable sort
    over ascending indices. That yields "highest score first, lowest index
    first among equals" -- the same rule as ``np.argmax``/``torch.argmax``
    for k=1. modAL's ``multi_argmax`` uses ``np.argpartition`` whose tie
    choice is unspecified, so on ties we only agree with it by coincidence.

    ``k`` larger than the pool is clamped; ``k=0`` gives an empty LongTensor.
    """
    scores = validate_scores(scores)
    k = min(check_k(k), scores.shape[0])
    if k == 0:
        return torch.empty(0, dtype=torch.long, device=scores.device)
    kth = torch.topk(scores, k, sorted=False).values.min()
    # nonzero returns ascending indices, which is what makes the stable sort
    # below break ties by index.
    candidates = torch.nonzero(scores >= kth).squeeze(1)
    order = torch.sort(scores[candidates], descending=True, stable=True).indices
    return candidates[order[:k]]


def _select(scores: Tensor, k: int, return_scores: bool) -> Tensor | Selection:
    idx = top_k(scores, k)
    return Selection(idx, scores[idx]) if return_scores else idx


def least_confidence(probs: Tensor, k: int, *, return_scores: bool = False) -> Tensor | Selection:
    """Pick the ``k`` items whose top class is least probable."""
    return _select(least_confidence_scores(probs), k, return_scores)


def margin(probs: Tensor, k: int, *, return_scores: bool = False) -> Tensor | Selection:
    """Pick the ``k`` items with the smallest gap between the two best classes."""
    return _select(margin_scores(probs), k, return_scores)


def entropy(probs: Tensor, k: int, *, return_scores: bool = False) -> Tensor | Selection:
    """Pick the ``k`` items with the most spread-out predictive distribution."""
    return _select(entropy_scores(probs), k, return_scores)
