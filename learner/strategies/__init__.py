"""Active-learning query strategies as pure functions on tensors.

A strategy never owns a model (cf. small-text's ``QueryStrategy.query(clf, ...)``):
the caller runs the model and hands over its outputs --

* ``probs``       (N, C) softmax probabilities,
* ``mc_probs``    (T, N, C) probabilities from T MC-dropout passes,
* ``embeddings``  (N, D) pool embeddings,

and gets back a LongTensor of pool indices on the same device, best first.
Keeping models out means the same code serves the Celery worker, notebooks
and benchmarks, and runs wherever the tensors already live (CUDA included).

:data:`STRATEGIES` maps a strategy name (as stored in project config) to an
adapter with one keyword-only signature returning a :class:`Selection`;
:func:`select` is the entry point that validates names and inputs.

Errors: a wrong Python type (not a tensor, ``k=1.5``) raises ``TypeError``;
a wrong shape or dtype, probabilities that are not distributions (rows must
sum to 1 -- pass softmax outputs, not logits), an unknown strategy or option,
or a missing input raises ``ValueError`` with a message naming the problem.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

import torch
from torch import Tensor

from .bald import bald, bald_scores, mc_dropout_probs
from .baselines import random, stratified_random
from .diversity import (
    DEFAULT_CANDIDATE_FACTOR,
    coldstart,
    kmeanspp_batch,
    kmeanspp_seeding,
    ranked_batch,
)
from .uncertainty import (
    Selection,
    entropy,
    entropy_scores,
    least_confidence,
    least_confidence_scores,
    margin,
    margin_scores,
    top_k,
)

__all__ = [
    "DEFAULT_CANDIDATE_FACTOR",
    "STRATEGIES",
    "Selection",
    "StrategyFn",
    "bald",
    "bald_scores",
    "coldstart",
    "entropy",
    "entropy_scores",
    "kmeanspp_batch",
    "kmeanspp_seeding",
    "least_confidence",
    "least_confidence_scores",
    "margin",
    "margin_scores",
    "mc_dropout_probs",
    "random",
    "ranked_batch",
    "select",
    "stratified_random",
    "top_k",
]


class StrategyFn(Protocol):
    """The common signature of every :data:`STRATEGIES` entry."""

    def __call__(
        self,
        *,
        k: int,
        probs: Tensor | None = None,
        mc_probs: Tensor | None = None,
        embeddings: Tensor | None = None,
        generator: torch.Generator | None = None,
        **kw: Any,
    ) -> Selection: ...


# --------------------------------------------------------------------------
# adapters: map the common signature onto each pure function
# --------------------------------------------------------------------------


def _require(name: str, what: str, value: object) -> None:
    if value is None:
        raise ValueError(f"strategy {name!r} requires {what}")


def _no_options(name: str, kw: dict[str, Any], allowed: tuple[str, ...] = ()) -> None:
    # Options usually come from stored project config; a typo must fail loudly
    # rather than silently fall back to a default.
    extra = sorted(set(kw) - set(allowed))
    if extra:
        hint = f" (accepted: {', '.join(allowed)})" if allowed else " (it takes none)"
        raise ValueError(f"strategy {name!r} got unknown option(s) {', '.join(extra)}{hint}")


def _uncertainty_adapter(name: str, fn: Callable[..., Selection]) -> StrategyFn:
    def adapter(
        *,
        k: int,
        probs: Tensor | None = None,
        mc_probs: Tensor | None = None,
        embeddings: Tensor | None = None,
        generator: torch.Generator | None = None,
        **kw: Any,
    ) -> Selection:
        _no_options(name, kw)
        _require(name, "probs (n_items, n_classes)", probs)
        return fn(probs, k, return_scores=True)

    adapter.__name__ = adapter.__qualname__ = f"_{name}_strategy"
    adapter.__doc__ = f"Registry adapter for :func:`{fn.__name__}`; needs ``probs``."
    return adapter


def _bald_strategy(
    *,
    k: int,
    probs: Tensor | None = None,
    mc_probs: Tensor | None = None,
    embeddings: Tensor | None = None,
    generator: torch.Generator | None = None,
    **kw: Any,
) -> Selection:
    _no_options("bald", kw)
    _require("bald", "mc_probs (n_passes, n_items, n_classes)", mc_probs)
    return bald(mc_probs, k, return_scores=True)


def _pool_info(
    probs: Tensor | None, mc_probs: Tensor | None, embeddings: Tensor | None
) -> tuple[int, torch.device] | None:
    if probs is not None:
        return probs.shape[0], probs.device
    if mc_probs is not None:
        return mc_probs.shape[1], mc_probs.device
    if embeddings is not None:
        return embeddings.shape[0], embeddings.device
    return None


def _random_strategy(
    *,
    k: int,
    probs: Tensor | None = None,
    mc_probs: Tensor | None = None,
    embeddings: Tensor | None = None,
    generator: torch.Generator | None = None,
    **kw: Any,
) -> Selection:
    _no_options("random", kw, ("n", "device"))
    info = _pool_info(probs, mc_probs, embeddings)
    n = kw.get("n", info[0] if info else None)
    _require("random", "the pool size: pass probs, mc_probs, embeddings or n=", n)
    device = kw.get("device", info[1] if info else "cpu")
    return Selection(random(n, k, generator, device))


def _stratified_strategy(
    *,
    k: int,
    probs: Tensor | None = None,
    mc_probs: Tensor | None = None,
    embeddings: Tensor | None = None,
    generator: torch.Generator | None = None,
    **kw: Any,
) -> Selection:
    _no_options("stratified_random", kw, ("groups", "ensure_coverage"))
    groups = kw.get("groups")
    if groups is None and probs is not None:
        # Default strata = predicted class, so rare predicted classes get looked at.
        groups = probs.argmax(dim=1)
    _require("stratified_random", "groups= (one group id per item) or probs (groups = predicted class)", groups)
    info = _pool_info(probs, mc_probs, embeddings)
    if info is not None and isinstance(groups, Tensor) and groups.shape[:1] != (info[0],):
        raise ValueError(f"groups has shape {tuple(groups.shape)} but the pool has {info[0]} items")
    return Selection(stratified_random(groups, k, generator, ensure_coverage=kw.get("ensure_coverage", True)))


_UNCERTAINTY_FOR_DIVERSITY = ("least_confidence", "margin", "entropy", "bald")


def _diversity_scores(probs: Tensor | None, mc_probs: Tensor | None, which: str | None) -> Tensor:
    """Uncertainty in [0, 1] for the diversity strategies (ranked batch mixes it with a distance)."""
    if which is None:
        which = "least_confidence" if probs is not None or mc_probs is None else "bald"
    if which not in _UNCERTAINTY_FOR_DIVERSITY:
        raise ValueError(f"uncertainty must be one of {', '.join(_UNCERTAINTY_FOR_DIVERSITY)}, got {which!r}")
    if which == "bald":
        _require("diversity", "mc_probs (n_passes, n_items, n_classes) for uncertainty='bald'", mc_probs)
        # MI <= H(mean p) <= log C, so this lands in [0, 1].
        n_classes = mc_probs.shape[-1]
        scores = bald_scores(mc_probs)
        return scores / math.log(n_classes) if n_classes > 1 else scores
    _require("diversity", f"probs (n_items, n_classes) for uncertainty={which!r}", probs)
    if which == "entropy":
        return entropy_scores(probs, normalize=True)
    return least_confidence_scores(probs) if which == "least_confidence" else margin_scores(probs)


def _diversity_strategy(
    *,
    k: int,
    probs: Tensor | None = None,
    mc_probs: Tensor | None = None,
    embeddings: Tensor | None = None,
    generator: torch.Generator | None = None,
    **kw: Any,
) -> Selection:
    kmeans_opts = ("candidate_factor", "n_candidates")
    ranked_opts = ("labeled_embeddings", "alpha")
    _no_options("diversity", kw, ("method", "uncertainty", *kmeans_opts, *ranked_opts))
    method = kw.pop("method", "kmeanspp")
    scores = _diversity_scores(probs, mc_probs, kw.pop("uncertainty", None))
    _require("diversity", "embeddings (n_items, dim)", embeddings)
    if method == "kmeanspp":
        _no_options("diversity", kw, kmeans_opts)
        return kmeanspp_batch(scores, embeddings, k, generator=generator, return_scores=True, **kw)
    if method == "ranked":
        _no_options("diversity", kw, ranked_opts)
        return ranked_batch(scores, embeddings, k, return_scores=True, **kw)
    raise ValueError(f"diversity method must be 'kmeanspp' or 'ranked', got {method!r}")


def _coldstart_strategy(
    *,
    k: int,
    probs: Tensor | None = None,
    mc_probs: Tensor | None = None,
    embeddings: Tensor | None = None,
    generator: torch.Generator | None = None,
    **kw: Any,
) -> Selection:
    _no_options("coldstart", kw)
    _require("coldstart", "embeddings (n_items, dim)", embeddings)
    return Selection(coldstart(embeddings, k, generator))


STRATEGIES: dict[str, StrategyFn] = {
    "least_confidence": _uncertainty_adapter("least_confidence", least_confidence),
    "margin": _uncertainty_adapter("margin", margin),
    "entropy": _uncertainty_adapter("entropy", entropy),
    "bald": _bald_strategy,
    "random": _random_strategy,
    "stratified_random": _stratified_strategy,
    "diversity": _diversity_strategy,
    "coldstart": _coldstart_strategy,
}


def _check_same_pool(probs: Tensor | None, mc_probs: Tensor | None, embeddings: Tensor | None) -> None:
    sizes = {
        name: t.shape[dim]
        for name, t, dim in (("probs", probs, 0), ("mc_probs", mc_probs, 1), ("embeddings", embeddings, 0))
        if isinstance(t, Tensor) and t.dim() > dim
    }
    if len(set(sizes.values())) > 1:
        detail = ", ".join(f"{name}: {n}" for name, n in sizes.items())
        raise ValueError(f"inputs disagree on the number of pool items ({detail})")


def select(
    name: str,
    *,
    k: int,
    probs: Tensor | None = None,
    mc_probs: Tensor | None = None,
    embeddings: Tensor | None = None,
    generator: torch.Generator | None = None,
    **kw: Any,
) -> Selection:
    """Run the strategy ``name`` and return its :class:`Selection`.

    Pass every model output you have; a strategy ignores inputs it does not
    use and raises ``ValueError`` naming the one it is missing. Strategy
    specific options (``groups=``, ``method=``, ``alpha=`` ...) go in ``kw``;
    unknown ones raise rather than being ignored.
    """
    try:
        strategy = STRATEGIES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown strategy {name!r}; expected one of: {', '.join(sorted(STRATEGIES))}") from None
    _check_same_pool(probs, mc_probs, embeddings)
    return strategy(k=k, probs=probs, mc_probs=mc_probs, embeddings=embeddings, generator=generator, **kw)
