"""Pool scoring: stream a language's unlabeled items, score them, keep only the best on the device.

Two phases so that a large pool can be split across workers:

1. :func:`collect` (shardable) streams ``(id, text)`` rows in chunks, scores each chunk in
   length-bucketed batches under ``torch.inference_mode`` (autocast on GPU, in the backend), and
   merges the chunk into a running top-``m`` kept on the scores' device. Memory is bounded by
   ``chunk_size + m`` whatever the pool size. The result is a small JSON-able :class:`Partial`.
2. :func:`finalize` merges the partials of all shards (:func:`merge_partials`) and picks the
   final ``k``: plain top-k for uncertainty, k-means++ over embeddings of the candidates for
   batch diversity and cold start, per-class quotas for stratified random.

Every order is "score descending, item id ascending", and random scores are a hash of
``(seed, item id)``, so sharded and unsharded scoring pick exactly the same items.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch

from learner.strategies import bald_scores, coldstart, entropy_scores, kmeanspp_batch
from learner.strategies.baselines import _allocate
from learner.strategies.uncertainty import least_confidence_scores, margin_scores

UNCERTAINTY = {
    "entropy": lambda p: entropy_scores(p),
    "least_confidence": least_confidence_scores,
    "margin": margin_scores,
}
from learner.strategy_names import STRATEGIES  # noqa: E402,F401 - re-exported for callers of this module


@dataclass
class ScoringConfig:
    chunk_size: int = 2048  # rows fetched and scored at a time
    batch_size: int = 64  # rows per forward pass (length-bucketed inside a chunk)
    candidate_factor: int = 10  # diversity / cold start: m = factor * k candidates
    mc_passes: int = 8  # BALD: MC-dropout passes
    diversity_uncertainty: str = "entropy"
    seed: int = 0


@dataclass
class Partial:
    """Candidates from one shard: ``[[item id, score, group], ...]`` best first, plus group counts."""

    candidates: list[list] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    n_scored: int = 0

    def as_dict(self) -> dict:
        return {"candidates": self.candidates, "counts": self.counts, "n_scored": self.n_scored}

    @classmethod
    def from_dict(cls, data: dict) -> Partial:
        return cls(candidates=[list(c) for c in data["candidates"]], counts=dict(data["counts"]),
                   n_scored=int(data["n_scored"]))


@dataclass
class Picked:
    ids: list[int]
    scores: list[float]
    n_scored: int
    strategy: str


def chunked(rows: Iterable[tuple[int, str]], size: int) -> Iterator[list[tuple[int, str]]]:
    chunk: list[tuple[int, str]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def stream_queryset(queryset, chunk_size: int = 2048, lo: int | None = None, hi: int | None = None):
    """``(id, text)`` rows of an item queryset, fetched ``chunk_size`` at a time (server-side cursor on
    PostgreSQL), optionally limited to the id range ``[lo, hi)`` of one shard."""
    if lo is not None:
        queryset = queryset.filter(id__gte=lo)
    if hi is not None:
        queryset = queryset.filter(id__lt=hi)
    return queryset.order_by("id").values_list("id", "text").iterator(chunk_size=chunk_size)


def plan_shards(queryset, shard_size: int) -> list[tuple[int | None, int | None]]:
    """Contiguous id ranges of about ``shard_size`` rows each (one row read per boundary)."""
    total = queryset.count()
    if total <= shard_size:
        return [(None, None)]
    ids = queryset.order_by("id").values_list("id", flat=True)
    bounds = [ids[i] for i in range(shard_size, total, shard_size)]
    edges = [None, *bounds, None]
    return list(zip(edges[:-1], edges[1:], strict=False))


# ------------------------------------------------------------------------------------------
# scores
# ------------------------------------------------------------------------------------------


def hash_uniform(ids: np.ndarray, seed: int) -> np.ndarray:
    """A uniform [0, 1) number per item id (splitmix64 of ``seed`` and the id): shard-invariant random."""
    with np.errstate(over="ignore"):
        z = ids.astype(np.uint64) + np.uint64((seed * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) % 2**64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(2**53)


def model_device(model) -> torch.device:
    return getattr(model, "device", None) or torch.device("cpu")


def model_probs(model, texts: list[str], batch_size: int) -> torch.Tensor:
    """(N, C) probabilities on the model's device."""
    if hasattr(model, "probs_tensor"):
        return model.probs_tensor(texts, batch_size=batch_size)
    return torch.from_numpy(np.asarray(model.predict_proba(texts), dtype=np.float32))


def _chunk_scores(strategy: str, model, texts: list[str], ids: np.ndarray, config: ScoringConfig):
    """(scores, groups) for one chunk, on the model's device (groups: predicted class or None)."""
    if strategy in UNCERTAINTY:
        return UNCERTAINTY[strategy](model_probs(model, texts, config.batch_size)), None
    if strategy == "diversity":
        probs = model_probs(model, texts, config.batch_size)
        which = config.diversity_uncertainty
        scores = entropy_scores(probs, normalize=True) if which == "entropy" else UNCERTAINTY[which](probs)
        return scores, None
    if strategy == "bald":
        if not hasattr(model, "mc_probs"):
            raise ValueError("bald needs a model with dropout (the transformer backend)")
        return bald_scores(model.mc_probs(texts, passes=config.mc_passes, batch_size=config.batch_size)), None
    device = model_device(model) if model is not None else torch.device("cpu")
    random_scores = torch.from_numpy(hash_uniform(ids, config.seed)).to(device)
    if strategy in ("random", "coldstart"):
        return random_scores, None
    if strategy == "stratified_random":
        groups = model_probs(model, texts, config.batch_size).argmax(dim=1) if model is not None else None
        if groups is None:
            groups = torch.zeros(len(texts), dtype=torch.long, device=device)
        return random_scores, groups.to(device)
    raise ValueError(f"unknown strategy {strategy!r}: choose from {', '.join(STRATEGIES)}")


class RunningTopK:
    """The ``m`` best (score, id) pairs seen so far, kept on ``device``; ties go to the lowest id."""

    def __init__(self, m: int, device: torch.device | str = "cpu") -> None:
        self.m = m
        self.scores = torch.empty(0, dtype=torch.float64, device=device)
        self.ids = torch.empty(0, dtype=torch.long, device=device)

    def push(self, scores: torch.Tensor, ids: torch.Tensor) -> None:
        scores = torch.cat([self.scores, scores.to(self.scores.device, torch.float64)])
        ids = torch.cat([self.ids, ids.to(self.ids.device)])
        if scores.shape[0] > self.m:  # cheap pre-cut on device: keep everything tied with the m-th
            kth = torch.topk(scores, self.m, sorted=True).values[-1]
            keep = scores >= kth
            scores, ids = scores[keep], ids[keep]
        by_id = torch.argsort(ids, stable=True)
        order = by_id[torch.argsort(scores[by_id], descending=True, stable=True)][: self.m]
        self.scores, self.ids = scores[order], ids[order]

    def items(self) -> list[tuple[int, float]]:
        return list(zip(self.ids.tolist(), self.scores.tolist(), strict=False))


def candidates_wanted(strategy: str, k: int, config: ScoringConfig) -> int:
    return k * config.candidate_factor if strategy in ("diversity", "coldstart") else k


def collect(
    rows: Iterable[tuple[int, str]], *, model, strategy: str, k: int, config: ScoringConfig | None = None,
) -> Partial:
    """Phase 1: stream ``rows`` and keep the best candidates (``k`` of them, or ``factor * k`` for diversity
    and cold start, or ``k`` per predicted class for stratified random)."""
    config = config or ScoringConfig()
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}: choose from {', '.join(STRATEGIES)}")
    m = candidates_wanted(strategy, k, config)
    device = model_device(model) if model is not None else torch.device("cpu")
    tops: dict[int, RunningTopK] = {}
    counts: dict[int, int] = {}
    n = 0
    context = torch.inference_mode()
    with context:
        for chunk in chunked(rows, config.chunk_size):
            ids_np = np.fromiter((row[0] for row in chunk), dtype=np.int64, count=len(chunk))
            texts = [row[1] for row in chunk]
            scores, groups = _chunk_scores(strategy, model, texts, ids_np, config)
            ids = torch.from_numpy(ids_np).to(scores.device)
            n += len(chunk)
            if groups is None:
                tops.setdefault(-1, RunningTopK(m, device)).push(scores, ids)
                continue
            for g in torch.unique(groups).tolist():
                mask = groups == g
                counts[g] = counts.get(g, 0) + int(mask.sum())
                tops.setdefault(g, RunningTopK(m, device)).push(scores[mask], ids[mask])
    candidates = [[i, s, g] for g, top in sorted(tops.items()) for i, s in top.items()]
    candidates.sort(key=lambda c: (-c[1], c[0]))
    return Partial(candidates=candidates, counts={str(g): c for g, c in counts.items()}, n_scored=n)


def merge_partials(partials: Iterable[Partial], m: int, per_group: bool = False) -> Partial:
    """The best ``m`` candidates over all shards (per group for stratified), as one partial."""
    merged = Partial()
    pool: list[list] = []
    for part in partials:
        pool.extend(part.candidates)
        merged.n_scored += part.n_scored
        for g, c in part.counts.items():
            merged.counts[g] = merged.counts.get(g, 0) + c
    pool.sort(key=lambda c: (-c[1], c[0]))
    if per_group:
        kept: dict = {}
        out = []
        for cand in pool:
            if kept.get(cand[2], 0) < m:
                kept[cand[2]] = kept.get(cand[2], 0) + 1
                out.append(cand)
        merged.candidates = out
    else:
        merged.candidates = pool[:m]
    return merged


def finalize(
    partial: Partial, *, strategy: str, k: int, texts_of=None, embed=None, config: ScoringConfig | None = None,
) -> Picked:
    """Phase 2: the final ``k`` from merged candidates. ``texts_of(ids) -> texts`` and
    ``embed(texts) -> (n, d) tensor`` are needed for diversity and cold start."""
    config = config or ScoringConfig()
    cands = partial.candidates
    if strategy in ("diversity", "coldstart") and len(cands) > k:
        ids = [c[0] for c in cands]
        scores = torch.tensor([c[1] for c in cands], dtype=torch.float64)
        embeddings = embed(texts_of(ids)).to(torch.float32)
        generator = torch.Generator(device=embeddings.device).manual_seed(config.seed)
        if strategy == "coldstart":
            idx = coldstart(embeddings, k, generator=generator).tolist()
            return Picked([ids[i] for i in idx], [0.0] * len(idx), partial.n_scored, strategy)
        sel = kmeanspp_batch(scores.to(embeddings.device).float(), embeddings, k, n_candidates=len(ids),
                             generator=generator, return_scores=True)
        return Picked([ids[i] for i in sel.indices.tolist()], [float(s) for s in sel.scores.tolist()],
                      partial.n_scored, strategy)
    if strategy == "stratified_random" and partial.counts:
        groups = sorted(partial.counts, key=int)
        counts = torch.tensor([partial.counts[g] for g in groups], dtype=torch.long)
        quota = dict(zip(groups, _allocate(counts, min(k, int(counts.sum())), True).tolist(), strict=False))
        taken: dict[str, int] = {}
        out = []
        for cand in cands:
            g = str(cand[2])
            if taken.get(g, 0) < quota.get(g, 0):
                taken[g] = taken.get(g, 0) + 1
                out.append(cand)
        return Picked([c[0] for c in out], [float(c[1]) for c in out], partial.n_scored, strategy)
    top = cands[:k]
    scores = [0.0 if strategy in ("random", "coldstart") else float(c[1]) for c in top]
    return Picked([c[0] for c in top], scores, partial.n_scored, strategy)


def score_pool(
    rows: Iterable[tuple[int, str]], *, model, strategy: str, k: int, texts_of=None, embed=None,
    config: ScoringConfig | None = None,
) -> Picked:
    """Both phases in one process: what a small pool (or a benchmark) uses."""
    config = config or ScoringConfig()
    partial = collect(rows, model=model, strategy=strategy, k=k, config=config)
    return finalize(partial, strategy=strategy, k=k, texts_of=texts_of, embed=embed, config=config)
