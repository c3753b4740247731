"""Model-free baselines: uniform random and stratified random sampling.

Active learning is only worth its complexity if it beats these, so every
experiment should log them too. Stratified random also doubles as a fair
sampler across languages or predicted classes, so a tiny language is not
starved by a big one.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .uncertainty import check_k, check_tensor

__all__ = ["random", "stratified_random", "uniform"]


def _generator_device(generator: torch.Generator | None, device: torch.device) -> torch.device:
    return generator.device if generator is not None else device


def uniform(
    shape: tuple[int, ...] | int,
    *,
    generator: torch.Generator | None,
    device: torch.device | str,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """U[0, 1) noise drawn on the generator's device, returned on ``device``.

    torch refuses a CPU generator for CUDA sampling (and vice versa). Drawing
    where the generator lives means one seeded CPU generator reproduces the
    same selection on CPU and GPU, which is what experiment logs need.
    """
    device = torch.device(device)
    shape = (shape,) if isinstance(shape, int) else shape
    noise = torch.rand(shape, generator=generator, dtype=dtype, device=_generator_device(generator, device))
    return noise.to(device)


def random(
    n: int,
    k: int,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> Tensor:
    """``k`` distinct indices from ``range(n)``, uniformly, in random order.

    ``k`` is clamped to ``n``. Pass a seeded ``torch.Generator`` for
    reproducible experiments; ``None`` uses torch's global RNG.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n (pool size) must be an int, got {n!r}")
    if n < 0:
        raise ValueError(f"n (pool size) must be >= 0, got {n}")
    k = min(check_k(k), n)
    device = torch.device(device)
    perm = torch.randperm(n, generator=generator, device=_generator_device(generator, device))
    return perm[:k].to(device)


def _allocate(counts: Tensor, k: int, ensure_coverage: bool) -> Tensor:
    """Per-group quotas summing to ``k`` (Hamilton / largest-remainder method).

    Integer arithmetic keeps the split exact; leftover slots go to the largest
    fractional remainders, ties to the lowest group id (``stable`` sort), so
    the allocation never depends on the RNG. With ``ensure_coverage`` and
    ``k >= n_groups`` each group first gets one slot and only the rest is split
    proportionally -- otherwise a language with 3 items in a pool of 10,000
    would almost never be sampled.
    """
    n_groups = counts.shape[0]
    base = torch.zeros_like(counts)
    if ensure_coverage and k >= n_groups:
        base = torch.ones_like(counts)
        counts = counts - 1
        k -= n_groups
    total = int(counts.sum())
    if k == 0 or total == 0:
        return base
    floor = (counts * k) // total
    remainder = (counts * k) % total
    leftover = k - floor.sum()
    order = torch.sort(remainder, descending=True, stable=True).indices
    rank = torch.empty_like(order)
    rank[order] = torch.arange(n_groups, device=counts.device)
    return base + floor + (rank < leftover).long()


def stratified_random(
    groups: Tensor,
    k: int,
    generator: torch.Generator | None = None,
    *,
    ensure_coverage: bool = True,
) -> Tensor:
    """``k`` random indices spread across ``groups`` proportionally to group size.

    ``groups`` is a 1-D integer tensor of group ids per pool item (predicted
    class, language id, ...); ids need not be contiguous. Quotas are decided
    deterministically (see :func:`_allocate`), only the members within each
    group are random. With ``ensure_coverage`` (default) every group gets at
    least one item whenever ``k >= number of groups``; below that the slots go
    to the largest groups. The result is on ``groups.device``, in random order.
    """
    groups = check_tensor(groups, "groups")
    if groups.dim() != 1:
        raise ValueError(f"groups must be a 1-D tensor (n_items,), got shape {tuple(groups.shape)}")
    if groups.is_floating_point() or groups.is_complex() or groups.dtype == torch.bool:
        raise ValueError(f"groups must be an integer tensor of group ids, got dtype {groups.dtype}")
    n = groups.shape[0]
    k = min(check_k(k), n)
    device = groups.device
    if k == 0:
        return torch.empty(0, dtype=torch.long, device=device)

    _, inverse, counts = torch.unique(groups, return_inverse=True, return_counts=True)
    quota = _allocate(counts, k, ensure_coverage)

    # Sort by (group, random key): random key first, then a stable sort by
    # group keeps the random order inside each group.
    keys = uniform(n, generator=generator, device=device, dtype=torch.float64)
    by_key = torch.argsort(keys, stable=True)
    order = by_key[torch.argsort(inverse[by_key], stable=True)]
    group_start = torch.cumsum(counts, 0) - counts
    rank_in_group = torch.arange(n, device=device) - group_start[inverse[order]]
    chosen = order[rank_in_group < quota[inverse[order]]]
    # Return in random-key order so the batch is not grouped by stratum.
    return chosen[torch.argsort(keys[chosen], stable=True)]
