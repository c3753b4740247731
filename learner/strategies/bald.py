"""BALD (Houlsby et al. 2011; Gal et al. 2017) from Monte-Carlo dropout passes.

Entropy alone cannot tell "the model does not know" (epistemic, worth a
label) from "the item is ambiguous" (aleatoric, a label will not help).
BALD keeps only the part on which the stochastic passes *disagree*:

    I[y; w | x] = H[mean_t p_t(y|x)] - mean_t H[p_t(y|x)]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from .uncertainty import (
    Selection,
    check_float,
    check_tensor,
    top_k,
    upcast_half,
    validate_mc_probs,
)

__all__ = ["bald", "bald_scores", "mc_dropout_probs"]


def _entropy_last_dim(probs: Tensor) -> Tensor:
    return -torch.special.xlogy(probs, probs).sum(dim=-1)


def bald_scores(mc_probs: Tensor) -> Tensor:
    """Mutual information per item from a (T, N, C) stack of softmax outputs.

    Needs ``T >= 2``: with one pass the two terms are identical and every
    score is 0, which would silently turn BALD into "first k items". The
    result is clamped at 0 because rounding can make the (non-negative by
    Jensen) difference a hair negative.
    """
    mc_probs = upcast_half(validate_mc_probs(mc_probs))
    if mc_probs.shape[0] < 2:
        raise ValueError(f"BALD needs at least 2 Monte-Carlo passes, got mc_probs shape {tuple(mc_probs.shape)}")
    predictive_entropy = _entropy_last_dim(mc_probs.mean(dim=0))
    expected_entropy = _entropy_last_dim(mc_probs).mean(dim=0)
    return (predictive_entropy - expected_entropy).clamp_min(0.0)


def bald(mc_probs: Tensor, k: int, *, return_scores: bool = False) -> Tensor | Selection:
    """Pick the ``k`` items with the highest mutual information (see :func:`bald_scores`)."""
    scores = bald_scores(mc_probs)
    idx = top_k(scores, k)
    return Selection(idx, scores[idx]) if return_scores else idx


def mc_dropout_probs(forward_fn: Callable[[Any], Tensor], inputs: Any, T: int) -> Tensor:
    """Run ``forward_fn(inputs)`` ``T`` times and stack the softmaxed logits as (T, N, C).

    Deliberately takes a callable, not a model: the strategy layer must not
    know about architectures, tokenisers or devices. The **caller** is
    responsible for making the passes stochastic, i.e. putting the model in
    train mode (or, better, only its ``nn.Dropout`` modules, so BatchNorm /
    LayerNorm statistics are not disturbed) before calling this, and for
    restoring eval mode afterwards. ``inputs`` is passed through untouched, so
    it can be a tensor, a dict of tensors from a tokenizer, etc.

    Runs under ``torch.no_grad()``: these passes are only for scoring.
    """
    if not callable(forward_fn):
        raise TypeError(f"forward_fn must be callable, got {type(forward_fn).__name__}")
    if isinstance(T, bool) or not isinstance(T, int):
        raise TypeError(f"T (number of MC passes) must be an int, got {T!r}")
    if T < 1:
        raise ValueError(f"T (number of MC passes) must be >= 1, got {T}")
    passes: list[Tensor] = []
    with torch.no_grad():
        for t in range(T):
            logits = check_tensor(forward_fn(inputs), "forward_fn output")
            if logits.dim() != 2:
                raise ValueError(
                    "forward_fn must return 2-D logits (n_items, n_classes), "
                    f"got shape {tuple(logits.shape)} on pass {t}"
                )
            if passes and logits.shape != passes[0].shape:
                raise ValueError(
                    f"forward_fn returned shape {tuple(logits.shape)} on pass {t}, "
                    f"expected {tuple(passes[0].shape)} like pass 0"
                )
            check_float(logits, "forward_fn output")
            passes.append(torch.softmax(upcast_half(logits), dim=-1))
    return torch.stack(passes)
