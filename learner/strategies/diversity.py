"""Batch diversity: stop a batch from being k near-duplicates of one confusing item.

Plain top-k uncertainty happily returns twenty paraphrases of the same
sentence -- one label's worth of information for twenty annotator minutes.
Two remedies, both operating on the model's embeddings of the pool:

* :func:`kmeanspp_batch` -- take the ``m`` most uncertain candidates and
  choose ``k`` of them by k-means++ seeding (the D^2 sampling used by BADGE,
  Ash et al. 2020), so each pick is likely far from the previous ones.
* :func:`ranked_batch` -- Cardoso et al. 2017, as in modAL's
  ``uncertainty_batch_sampling``: greedily maximise
  ``alpha * (1 - similarity to labelled/selected) + (1 - alpha) * uncertainty``.

:func:`coldstart` is k-means++ over the whole pool, for languages that have
too few approved labels for the model's uncertainty to mean anything.

All randomness goes through an optional ``torch.Generator`` (see
:func:`.baselines.uniform`), so a seeded generator reproduces a batch.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .baselines import uniform
from .uncertainty import (
    Selection,
    check_finite,
    check_float,
    check_k,
    check_tensor,
    top_k,
    upcast_half,
    validate_scores,
)

__all__ = ["DEFAULT_CANDIDATE_FACTOR", "coldstart", "kmeanspp_batch", "kmeanspp_seeding", "ranked_batch"]

#: m = DEFAULT_CANDIDATE_FACTOR * k uncertain candidates feed k-means++.
#: Large enough to contain several "clusters" of uncertainty, small enough
#: that the batch stays among genuinely uncertain items.
DEFAULT_CANDIDATE_FACTOR = 10

# Upper bound on the elements of one pairwise-distance block, so a large
# labelled set does not materialise an N x L matrix at once (~64 MiB fp32).
_BLOCK_ELEMENTS = 1 << 24


def validate_embeddings(embeddings: object, n_items: int | None = None, name: str = "embeddings") -> Tensor:
    embeddings = check_tensor(embeddings, name)
    if embeddings.dim() != 2:
        raise ValueError(f"{name} must be a 2-D tensor (n_items, dim), got shape {tuple(embeddings.shape)}")
    check_float(embeddings, name)
    check_finite(embeddings, name)
    if n_items is not None and embeddings.shape[0] != n_items:
        raise ValueError(f"{name} has {embeddings.shape[0]} rows but the scores/probs cover {n_items} items")
    return embeddings


def _dist_to(x: Tensor, centre: Tensor) -> Tensor:
    """Euclidean distance of every row of ``x`` to one row ``centre`` (shape (1, d)).

    The non-matmul cdist path is exact for identical points (distance 0, so a
    chosen point never gets chosen again) and, on CPU, faster than ``x - c``.
    """
    return torch.cdist(x, centre, compute_mode="donot_use_mm_for_euclid_dist").squeeze(1)


def _min_dist_to_set(x: Tensor, others: Tensor) -> Tensor:
    """Distance of each row of ``x`` to its nearest row in ``others``, in blocks.

    Unlike :func:`_dist_to` this lets cdist use the matmul expansion: an
    N x L block without BLAS is orders of magnitude slower, and the rounding
    it adds (a near-zero distance for an exact duplicate of a labelled item)
    barely moves ``1 / (1 + d)``. sklearn, and so modAL, do the same.
    """
    block = max(1, _BLOCK_ELEMENTS // max(1, x.shape[0]))
    best = torch.full((x.shape[0],), float("inf"), dtype=x.dtype, device=x.device)
    for chunk in others.split(block):
        d = torch.cdist(x, chunk).amin(dim=1)
        best = torch.minimum(best, d)
    return best


def _sample_proportional(weights: Tensor, generator: torch.Generator | None) -> Tensor:
    """One index drawn with probability proportional to ``weights`` (>= 0, some > 0).

    Inverse-CDF with a single uniform per draw keeps the RNG stream tiny and
    device independent (``torch.multinomial`` would insist the generator
    live on the weights' device). Returns a shape-(1,) LongTensor without a
    host sync.
    """
    w = weights.double()
    cdf = torch.cumsum(w, 0)
    target = uniform(1, generator=generator, device=w.device, dtype=torch.float64) * cdf[-1]
    idx = torch.searchsorted(cdf, target, right=True)
    # Rounding can put target on cdf[-1] (searchsorted -> n); fall back to the
    # last item that has positive weight rather than a zero-weight one.
    positive = w > 0
    last_positive = w.shape[0] - 1 - torch.argmax(positive.flip(0).to(torch.uint8))
    return torch.minimum(idx, last_positive.reshape(1))


def kmeanspp_seeding(
    embeddings: Tensor,
    k: int,
    *,
    generator: torch.Generator | None = None,
    first: int | None = None,
) -> Tensor:
    """Indices of ``k`` k-means++ seeds (Arthur & Vassilvitskii 2007), in pick order.

    Each next seed is drawn with probability proportional to its squared
    distance to the nearest seed so far, so near-duplicates of a chosen point
    are (almost) never chosen. ``first`` fixes the first seed (e.g. the most
    uncertain candidate); ``None`` draws it uniformly as in plain k-means++.
    When every remaining point coincides with a seed (all distances 0) the
    draw falls back to uniform over the unchosen points. ``k`` is clamped to
    the number of rows.
    """
    x = upcast_half(validate_embeddings(embeddings))
    n = x.shape[0]
    k = min(check_k(k), n)
    device = x.device
    out = torch.empty(k, dtype=torch.long, device=device)
    if k == 0:
        return out
    if first is not None and not 0 <= first < n:
        raise ValueError(f"first must index a row of embeddings (0 <= first < {n}), got {first}")

    chosen = torch.zeros(n, dtype=torch.bool, device=device)
    sq_dist = torch.full((n,), float("inf"), dtype=x.dtype, device=device)
    for step in range(k):
        if step == 0 and first is not None:
            idx = torch.tensor([first], dtype=torch.long, device=device)
        elif step == 0:
            idx = _sample_proportional(torch.ones(n, device=device), generator)
        else:
            # No host sync: both branches are computed and selected on device.
            fallback = (~chosen).to(sq_dist.dtype)
            weights = torch.where(sq_dist.sum() > 0, sq_dist, fallback)
            idx = _sample_proportional(weights, generator)
        out[step : step + 1] = idx
        chosen[idx] = True
        sq_dist = torch.minimum(sq_dist, _dist_to(x, x[idx]).square())
        sq_dist = sq_dist.masked_fill(chosen, 0.0)
    return out


def kmeanspp_batch(
    scores: Tensor,
    embeddings: Tensor,
    k: int,
    *,
    candidate_factor: int = DEFAULT_CANDIDATE_FACTOR,
    n_candidates: int | None = None,
    generator: torch.Generator | None = None,
    return_scores: bool = False,
) -> Tensor | Selection:
    """k diverse items among the ``m`` most uncertain (``m = n_candidates`` or ``candidate_factor * k``).

    The most uncertain candidate is always the first pick; the rest come from
    k-means++ D^2 sampling over the candidates' embeddings. ``scores`` can be
    any "higher is better" score (least confidence, margin, entropy, BALD).
    With ``return_scores`` the returned scores are those uncertainty scores
    of the picked items, in pick order.
    """
    scores = validate_scores(scores)
    n = scores.shape[0]
    x = validate_embeddings(embeddings, n)
    k = min(check_k(k), n)
    if isinstance(candidate_factor, bool) or not isinstance(candidate_factor, int):
        raise TypeError(f"candidate_factor must be an int, got {candidate_factor!r}")
    if candidate_factor < 1:
        raise ValueError(f"candidate_factor must be >= 1, got {candidate_factor}")
    m = candidate_factor * k if n_candidates is None else check_k(n_candidates)
    m = min(max(m, k), n)
    candidates = top_k(scores, m)  # best first, so position 0 is the most uncertain
    picks = kmeanspp_seeding(x[candidates], k, generator=generator, first=0)
    idx = candidates[picks]
    return Selection(idx, scores[idx]) if return_scores else idx


def ranked_batch(
    scores: Tensor,
    embeddings: Tensor,
    k: int,
    *,
    labeled_embeddings: Tensor | None = None,
    alpha: float | None = None,
    return_scores: bool = False,
) -> Tensor | Selection:
    """Ranked batch-mode selection (Cardoso et al. 2017), modAL-compatible.

    Greedy: each step picks the unselected item maximising
    ``alpha * (1 - 1 / (1 + d)) + (1 - alpha) * score``, where ``d`` is its
    Euclidean distance to the nearest labelled *or already selected* item.
    ``alpha=None`` uses modAL's schedule ``|U| / (|U| + |L|)`` (remaining pool
    vs labelled + selected), which leans on diversity while little is labelled.
    ``scores`` should be in [0, 1] (least confidence, margin, normalised
    entropy) or the two terms are out of balance.

    Without ``labeled_embeddings`` (cold start) the first pick is the item
    closest to the pool mean -- modAL takes the smallest *mean distance*,
    which needs an N x N matrix; the centroid is the squared-distance version
    of the same idea at O(N). Unlike modAL, that first item is removed from
    the pool, so it cannot be picked twice. Ties go to the lowest index.
    """
    scores = validate_scores(scores)
    n = scores.shape[0]
    x = upcast_half(validate_embeddings(embeddings, n))
    k = min(check_k(k), n)
    if alpha is not None and not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1] or None, got {alpha}")
    device = x.device
    out = torch.empty(k, dtype=torch.long, device=device)
    if k == 0:
        return Selection(out, scores[out]) if return_scores else out

    labeled = None
    if labeled_embeddings is not None:
        labeled = validate_embeddings(labeled_embeddings, name="labeled_embeddings")
        if labeled.shape[1] != x.shape[1]:
            raise ValueError(f"labeled_embeddings has dim {labeled.shape[1]} but embeddings has dim {x.shape[1]}")

    chosen = torch.zeros(n, dtype=torch.bool, device=device)
    start = 0
    if labeled is None or labeled.shape[0] == 0:
        centre = x.mean(dim=0, keepdim=True)
        idx = torch.argmin(_dist_to(x, centre)).reshape(1)
        out[0:1] = idx
        chosen[idx] = True
        min_dist = _dist_to(x, x[idx])
        n_labeled = 0
        start = 1
    else:
        min_dist = _min_dist_to_set(x, labeled.to(device=device, dtype=x.dtype))
        n_labeled = labeled.shape[0]

    uncertainty = scores.to(x.dtype)
    for step in range(start, k):
        # modAL's alpha: |U| = still-unselected pool, |L| = labelled + selected so far.
        n_unlabeled = n - step
        a = alpha if alpha is not None else n_unlabeled / (n_unlabeled + n_labeled + step)
        combined = a * (1.0 - 1.0 / (1.0 + min_dist)) + (1.0 - a) * uncertainty
        # argmax returns the first maximum, i.e. ties go to the lowest index.
        idx = torch.argmax(combined.masked_fill(chosen, float("-inf"))).reshape(1)
        out[step : step + 1] = idx
        chosen[idx] = True
        min_dist = torch.minimum(min_dist, _dist_to(x, x[idx]))
    return Selection(out, scores[out]) if return_scores else out


def coldstart(embeddings: Tensor, k: int, generator: torch.Generator | None = None) -> Tensor:
    """Pure-diversity pick for a language with too few labels to trust the model.

    Until a language has enough approved labels its classifier's uncertainty
    is noise, so only coverage of the embedding space matters: k-means++
    seeding over the whole pool (first seed uniform). Deciding *when* a
    language is cold is the caller's policy (e.g. fewer than N approved).
    """
    return kmeanspp_seeding(embeddings, k, generator=generator)
