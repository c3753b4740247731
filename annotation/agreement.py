"""Inter-annotator agreement: Krippendorff's alpha, Fleiss' kappa, Cohen's kappa and friends.

Why this module exists
----------------------
Parity reports agreement for projects with hundreds of thousands of ratings,
computed inside web and worker processes.  Everything here is vectorised numpy
over *long-format* ratings (one row per item, annotator, label), so 1,000,000
ratings take well under a second and no dense items x annotators matrix is ever
built.  No Python loop runs over items, annotators or ratings except on error
paths (to name the offending value) and over chunks of distinct values for the
ratio metric.

Licence
-------
Written from the published formulas only:

* Krippendorff, K. (2011). *Computing Krippendorff's Alpha-Reliability*.
  Annenberg School for Communication, University of Pennsylvania.
* Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters.
  *Psychological Bulletin* 76(5), 378-382.
* Cohen, J. (1960). A coefficient of agreement for nominal scales.
  *Educational and Psychological Measurement* 20(1), 37-46.

The ``krippendorff`` package on PyPI is GPL-licensed.  It is deliberately
neither used nor copied here, and must not become a dependency of Parity.

Conventions
-----------
* A missing rating is a missing row (long format) or NaN / None (matrix format).
* Undefined statistics (alpha when every value is identical, kappa when chance
  agreement is 1, ...) are NaN in the numeric API and ``None`` in
  :class:`AgreementReport`, because JSON has no NaN.
* Cohen's kappa, Fleiss' kappa, percent agreement and consensus compare labels
  for exact equality at every level; only alpha uses the level's metric.
* Complexity: alpha (nominal, ordinal, interval), Fleiss, percent agreement and
  consensus are O(N log N) in the number of ratings.  Ratio alpha compares every
  pair of distinct values (O(V^2)).  Pairwise Cohen's kappa expands the rating
  pairs inside each item, O(sum of m_i^2) for m_i ratings of item i.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval", "ratio")
NUMERIC_LEVELS: frozenset[str] = frozenset({"ordinal", "interval", "ratio"})
MIN_SHARED_ITEMS = 2
"""Pairs of annotators sharing fewer items get no Cohen's kappa: with one shared
item kappa is 0, 1 or undefined, which says nothing about the annotators."""

_MAX_RATIO_VALUES = 20_000
_CHUNK_ELEMENTS = 4_000_000
_EPS = 1e-12

Codes = NDArray[np.intp]


# --------------------------------------------------------------------------- #
# Input preparation
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class _Ratings:
    """Ratings factorised once into dense integer codes, shared by all statistics."""

    unit: Codes  # item code per rating, 0..n_units-1
    code: Codes  # label code per rating, 0..n_values-1 (ordered for ordinal)
    values: np.ndarray  # label value of each code
    item_ids: np.ndarray
    rater: Codes | None = None
    annotator_ids: np.ndarray | None = None

    @property
    def n_units(self) -> int:
        return int(self.item_ids.size)

    @property
    def n_values(self) -> int:
        return int(self.values.size)


def _check_level(level: str) -> str:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    return level


def _column(name: str, data: ArrayLike) -> np.ndarray:
    arr = np.asarray(data)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    _check_no_missing(name, arr)
    return arr


def _check_no_missing(name: str, arr: np.ndarray) -> None:
    """Long format marks a missing rating by omitting the row, so None/NaN is a caller bug."""
    if arr.dtype.kind == "O":
        bad = np.flatnonzero(np.equal(arr, None) | np.not_equal(arr, arr))
    elif arr.dtype.kind in "fc":
        bad = np.flatnonzero(np.isnan(arr))
    else:
        return
    if bad.size:
        raise ValueError(
            f"{name} has a missing value at position {bad[0]}; leave missing ratings out instead of passing None/NaN"
        )


def _show(value: Any) -> str:
    """repr() of a value as the user wrote it (numpy 2 would print np.str_('a') for 'a')."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _check_same_length(**columns: np.ndarray | None) -> int:
    lengths = {name: col.size for name, col in columns.items() if col is not None}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name}={n}" for name, n in lengths.items())
        raise ValueError(f"inputs must have the same length, got {detail}")
    return next(iter(lengths.values()))


def _factorize(name: str, arr: np.ndarray) -> tuple[np.ndarray, Codes]:
    """Distinct sorted values and the code of each element."""
    if arr.dtype.kind in "iu" and arr.size:
        fast = _factorize_small_ints(arr)
        if fast is not None:
            return fast
    try:
        uniques, codes = np.unique(arr, return_inverse=True)
    except TypeError as exc:
        raise ValueError(f"{name} must be mutually comparable (all strings or all numbers): {exc}") from exc
    return uniques, codes.reshape(-1)


def _factorize_small_ints(arr: np.ndarray) -> tuple[np.ndarray, Codes] | None:
    """O(N) factorisation for integer ids in a compact range (the common case), skipping a sort."""
    lo, hi = int(arr.min()), int(arr.max())
    span = hi - lo + 1
    if span > max(4 * arr.size, 1 << 16):
        return None
    shifted = (arr - lo).astype(np.intp, copy=False)
    present = np.bincount(shifted, minlength=span) > 0
    rank = np.cumsum(present) - 1
    uniques = (np.flatnonzero(present) + lo).astype(arr.dtype)
    return uniques, rank[shifted].astype(np.intp, copy=False)


def _numeric_labels(labels: np.ndarray, level: str) -> NDArray[np.float64]:
    """Ordinal, interval and ratio distances need numbers; say which label is not one."""
    try:
        if labels.dtype.kind == "c":
            raise TypeError("complex labels")
        out = labels.astype(np.float64)
    except (TypeError, ValueError):
        pos, bad = _first_non_number(labels)
        hint = " (or pass categories=[...] in order)" if level == "ordinal" else ""
        raise ValueError(
            f"{level} level needs numeric labels{hint}; label {_show(bad)} at position {pos} is not a number"
        ) from None
    bad_pos = np.flatnonzero(~np.isfinite(out))
    if bad_pos.size:
        raise ValueError(
            f"labels must be finite numbers; label at position {bad_pos[0]} is {_show(labels[bad_pos[0]])}"
        )
    if level == "ratio" and (out < 0).any():
        pos = int(np.flatnonzero(out < 0)[0])
        raise ValueError(
            f"ratio level needs non-negative labels (the metric divides by c + k); "
            f"label {_show(labels[pos])} at position {pos} is negative"
        )
    return out


def _first_non_number(labels: np.ndarray) -> tuple[int, Any]:
    for pos, value in enumerate(labels.tolist()):
        if isinstance(value, complex):
            return pos, value
        try:
            float(value)
        except (TypeError, ValueError):
            return pos, value
    return 0, labels[0]


def _codes_from_categories(labels: np.ndarray, categories: Sequence[Any] | np.ndarray) -> tuple[np.ndarray, Codes]:
    """Map labels onto an explicit ordered category list (e.g. ["low", "mid", "high"])."""
    cats = np.asarray(categories)
    if cats.ndim != 1 or cats.size == 0:
        raise ValueError("categories must be a non-empty one-dimensional sequence")
    try:
        order = np.argsort(cats, kind="stable")
        sorted_cats = cats[order]
        if (sorted_cats[1:] == sorted_cats[:-1]).any():
            raise ValueError("categories must be distinct")
        pos = np.clip(np.searchsorted(sorted_cats, labels), 0, cats.size - 1)
        found = np.asarray(sorted_cats[pos] == labels, dtype=bool)
    except TypeError as exc:
        raise ValueError(f"labels and categories are not comparable: {exc}") from exc
    if not found.all():
        first = int(np.flatnonzero(~found)[0])
        raise ValueError(f"label {_show(labels[first])} at position {first} is not one of the categories")
    return cats, order[pos].astype(np.intp, copy=False)


def _encode_labels(
    labels: np.ndarray, level: str, categories: Sequence[Any] | np.ndarray | None
) -> tuple[np.ndarray, Codes]:
    if categories is not None:
        if level in ("interval", "ratio"):
            raise ValueError("categories= is for nominal and ordinal levels; interval/ratio labels are numbers")
        return _codes_from_categories(labels, categories)
    if level in NUMERIC_LEVELS:
        labels = _numeric_labels(labels, level)
    return _factorize("labels", labels)


def _check_no_duplicates(r: _Ratings) -> None:
    """One annotator gives one value per item; a second one would double-count in every statistic."""
    assert r.rater is not None and r.annotator_ids is not None
    key = r.unit.astype(np.int64) * r.annotator_ids.size + r.rater
    order = np.argsort(key, kind="stable")
    dup = np.flatnonzero(key[order][1:] == key[order][:-1])
    if dup.size == 0:
        return
    second = order[dup + 1]
    j = int(np.argmin(second))
    first, again = int(order[dup[j]]), int(second[j])
    raise ValueError(
        f"duplicate rating: annotator {_show(r.annotator_ids[r.rater[again]])} rated item "
        f"{_show(r.item_ids[r.unit[again]])} more than once (positions {first} and {again})"
    )


def _prepare(
    items: ArrayLike,
    annotators: ArrayLike | None,
    labels: ArrayLike,
    level: str,
    categories: Sequence[Any] | np.ndarray | None = None,
) -> _Ratings:
    level = _check_level(level)
    item_arr = _column("items", items)
    label_arr = _column("labels", labels)
    ann_arr = None if annotators is None else _column("annotators", annotators)
    if _check_same_length(items=item_arr, annotators=ann_arr, labels=label_arr) == 0:
        raise ValueError("no ratings given")
    item_ids, unit = _factorize("items", item_arr)
    values, code = _encode_labels(label_arr, level, categories)
    if ann_arr is None:
        return _Ratings(unit=unit, code=code, values=values, item_ids=item_ids)
    annotator_ids, rater = _factorize("annotators", ann_arr)
    ratings = _Ratings(unit, code, values, item_ids, rater, annotator_ids)
    _check_no_duplicates(ratings)
    return ratings


def _long_from_matrix(reliability_data: ArrayLike) -> tuple[Codes, Codes, np.ndarray]:
    """coders x units matrix -> (coder, unit, value) for the non-missing cells."""
    arr = np.asarray(reliability_data)
    if arr.ndim != 2:
        raise ValueError(f"reliability_data must be 2-D (coders x units), got shape {arr.shape}")
    if arr.dtype.kind in "fc":
        missing = np.isnan(arr)
    elif arr.dtype.kind == "O":
        missing = np.equal(arr, None) | np.not_equal(arr, arr)
    else:
        missing = np.zeros(arr.shape, dtype=bool)
    coders, units = np.nonzero(~missing)
    if coders.size == 0:
        raise ValueError("reliability_data has no values (everything is missing)")
    return coders, units, arr[coders, units]


# --------------------------------------------------------------------------- #
# Shared building blocks
# --------------------------------------------------------------------------- #
def _unit_value_counts(unit: Codes, code: Codes, n_values: int) -> tuple[Codes, Codes, np.ndarray, Codes]:
    """Sparse n_uc: for each distinct (unit, value) its unit, value, count; plus each rating's index.

    Output is sorted by unit then value.  A bincount replaces the sort when the
    dense key space is small, which is the usual few-categories case.
    """
    n_values = max(n_values, 1)
    key = unit.astype(np.int64) * n_values + code
    space = (int(unit.max()) + 1) * n_values if unit.size else 0
    if space <= 4 * unit.size + (1 << 20):
        counts = np.bincount(key, minlength=space)
        keys = np.flatnonzero(counts)
        position = np.cumsum(counts > 0) - 1
        count, inverse = counts[keys], position[key]
    else:
        keys, inverse, count = np.unique(key, return_inverse=True, return_counts=True)
    return keys // n_values, keys % n_values, count, inverse.reshape(-1)


def _pairable(unit: Codes, code: Codes) -> tuple[Codes, Codes]:
    """Drop units with fewer than two values: they hold no pair to agree or disagree."""
    keep = np.bincount(unit)[unit] >= 2
    return unit[keep], code[keep]


def _group_pairs(group: Codes) -> tuple[Codes, Codes]:
    """Every ordered pair (i, j), i == j included, of positions sharing a group.

    ``group`` must be sorted.  Output size is the sum of squared group sizes, so
    this is only used on small groups (values within a unit, raters within an item).
    """
    if group.size == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    sizes = np.bincount(group)
    starts = np.cumsum(sizes) - sizes
    reps = sizes[group]
    left = np.repeat(np.arange(group.size), reps)
    block_start = np.repeat(np.cumsum(reps) - reps, reps)
    right = starts[group[left]] + (np.arange(left.size) - block_start)
    return left, right


def _coincidences(unit: Codes, code: Codes, n_values: int) -> tuple[Codes, Codes, np.ndarray]:
    """Sparse coincidence entries (c, k, weight); o_ck is the sum of weights at (c, k).

    Per Krippendorff: o_ck = sum_u n_uc * (n_uk - [c == k]) / (m_u - 1) over
    pairable units.  Expects pairable input.
    """
    m = np.bincount(unit)
    ku, kc, cnt, _ = _unit_value_counts(unit, code, n_values)
    left, right = _group_pairs(ku)
    weight = cnt[left] * (cnt[right] - (left == right)) / (m[ku[left]] - 1)
    return kc[left], kc[right], weight


def _nan_to_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


# --------------------------------------------------------------------------- #
# Krippendorff's alpha
# --------------------------------------------------------------------------- #
def _nominal_disagreement(unit: Codes, code: Codes, n_values: int) -> tuple[float, float]:
    """(sum o_ck d_ck, sum n_c n_k d_ck) with d = [c != k], without a V x V matrix.

    Within unit u: sum_{c != k} n_uc n_uk = m_u^2 - sum_c n_uc^2.
    """
    m = np.bincount(unit).astype(np.float64)
    ku, _, cnt, _ = _unit_value_counts(unit, code, n_values)
    same = np.bincount(ku, weights=cnt.astype(np.float64) ** 2, minlength=m.size)
    observed = np.sum((m * m - same) / np.maximum(m - 1, 1))
    n_c = np.bincount(code, minlength=n_values).astype(np.float64)
    expected = float(code.size) ** 2 - np.sum(n_c * n_c)
    return float(observed), float(expected)


def _squared_difference_disagreement(unit: Codes, x: NDArray[np.float64]) -> tuple[float, float]:
    """(sum o_ck d_ck, sum n_c n_k d_ck) with d = (c - k)^2, in O(N).

    Within a unit, sum over ordered pairs i != j of (x_i - x_j)^2 = 2 m_u SS_u
    (SS_u = squared deviations from the unit mean); over all pairable values the
    same identity gives the expected term.  Deviations are taken two-pass for
    numerical stability.
    """
    m = np.bincount(unit).astype(np.float64)
    mean = np.bincount(unit, weights=x, minlength=m.size) / np.maximum(m, 1)
    dev = x - mean[unit]
    ss_unit = np.bincount(unit, weights=dev * dev, minlength=m.size)
    observed = np.sum(2.0 * m * ss_unit / np.maximum(m - 1, 1))
    dev_all = x - x.mean()
    expected = 2.0 * x.size * float(dev_all @ dev_all)
    return float(observed), expected


def _ordinal_positions(code: Codes, n_values: int) -> NDArray[np.float64]:
    """Mid-rank of each value, which turns Krippendorff's ordinal metric into (r_c - r_k)^2.

    Krippendorff (2011): d_ck = (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2 with n_g the
    pairable marginal counts.  With r_g = sum_{h<g} n_h + n_g / 2 this equals
    (r_k - r_c)^2 exactly, so the O(N) interval identity applies.
    """
    n_g = np.bincount(code, minlength=n_values).astype(np.float64)
    mid_rank = np.cumsum(n_g) - n_g / 2.0
    return mid_rank[code]


def _ratio_delta(c: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Krippendorff's ratio metric ((c - k) / (c + k))^2; 0 when c = k = 0."""
    total, diff = np.broadcast_arrays(c + k, c - k)
    ratio = np.divide(diff, total, out=np.zeros(total.shape), where=total != 0)
    return ratio * ratio


def _chunked_expected(
    values: NDArray[np.float64], n_c: NDArray[np.float64], delta: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> float:
    """sum_c sum_k n_c n_k delta(c, k) in row blocks, bounding memory for large V."""
    step = max(1, _CHUNK_ELEMENTS // max(values.size, 1))
    total = 0.0
    for start in range(0, values.size, step):
        block = delta(values[start : start + step, None], values[None, :])
        total += float(n_c[start : start + step] @ block @ n_c)
    return total


def _ratio_disagreement(unit: Codes, code: Codes, values: np.ndarray) -> tuple[float, float]:
    if values.size > _MAX_RATIO_VALUES:
        raise ValueError(
            f"ratio-level alpha compares every pair of distinct values; {values.size} distinct values "
            f"exceed the limit of {_MAX_RATIO_VALUES}. Round the labels or use level='interval'"
        )
    v = values.astype(np.float64)
    c, k, weight = _coincidences(unit, code, v.size)
    observed = float(weight @ _ratio_delta(v[c], v[k]))
    n_c = np.bincount(code, minlength=v.size).astype(np.float64)
    return observed, _chunked_expected(v, n_c, _ratio_delta)


def _alpha(r: _Ratings, level: str) -> float:
    unit, code = _pairable(r.unit, r.code)
    n = code.size
    if n == 0:
        return float("nan")
    if level == "nominal":
        observed, expected = _nominal_disagreement(unit, code, r.n_values)
    elif level == "ratio":
        observed, expected = _ratio_disagreement(unit, code, r.values)
    else:
        x = _ordinal_positions(code, r.n_values) if level == "ordinal" else r.values[code].astype(np.float64)
        observed, expected = _squared_difference_disagreement(unit, x)
    if expected <= 0:
        return float("nan")  # a single value throughout: nothing separates agreement from chance
    return 1.0 - (n - 1) * observed / expected


def krippendorff_alpha_long(
    items: ArrayLike,
    annotators: ArrayLike | None,
    labels: ArrayLike,
    level: str = "nominal",
    *,
    categories: Sequence[Any] | np.ndarray | None = None,
) -> float:
    """Krippendorff's alpha from long-format ratings (one row per rating).

    Alpha only needs which values were given to which unit; ``annotators`` may be
    None, and when given it is used to reject duplicate (item, annotator) pairs.
    Units with a single rating are dropped (they are not pairable).  For ordinal
    data, ``categories`` lists the labels in order (else labels must be numeric).
    Returns NaN when alpha is undefined (no pairable units, or one value only).
    """
    return _alpha(_prepare(items, annotators, labels, level, categories), level)


def krippendorff_alpha(
    reliability_data: ArrayLike,
    level: str = "nominal",
    *,
    categories: Sequence[Any] | np.ndarray | None = None,
) -> float:
    """Krippendorff's alpha from a coders x units matrix with NaN (or None) for missing.

    The canonical layout of Krippendorff (2011); converted to long format, so the
    computation and its cost are those of :func:`krippendorff_alpha_long`.
    """
    _check_level(level)
    _, units, values = _long_from_matrix(reliability_data)
    return krippendorff_alpha_long(units, None, values, level, categories=categories)


def coincidence_matrix(
    items: ArrayLike, labels: ArrayLike, *, categories: Sequence[Any] | np.ndarray | None = None
) -> tuple[np.ndarray, NDArray[np.float64]]:
    """(values, o) with o the V x V coincidence matrix of Krippendorff (2011).

    Not needed to compute alpha (which avoids the V x V matrix); exposed for
    inspection and reporting.  Only use with a modest number of distinct values.
    """
    r = _prepare(items, None, labels, "nominal", categories)
    unit, code = _pairable(r.unit, r.code)
    v = r.n_values
    c, k, weight = _coincidences(unit, code, v)
    matrix = np.bincount(c * v + k, weights=weight, minlength=v * v).reshape(v, v)
    return r.values, matrix


# --------------------------------------------------------------------------- #
# Fleiss' kappa
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class FleissResult:
    """Fleiss' kappa, or None with the reason it is undefined for these data."""

    kappa: float | None
    note: str | None = None


def _fleiss_core(n_items: int, n_raters: int, sum_sq: float, totals: np.ndarray) -> FleissResult:
    """Fleiss (1971): P_bar from sum_ij n_ij^2, P_e from category proportions."""
    if n_raters < 2:
        return FleissResult(None, "every item has a single rating; Fleiss' kappa needs at least two per item")
    ratings = n_items * n_raters
    p_bar = (sum_sq - ratings) / (ratings * (n_raters - 1))
    p = totals / ratings
    p_e = float(p @ p)
    if 1.0 - p_e <= _EPS:
        return FleissResult(None, "all ratings are in one category, so chance agreement is 1 and kappa is undefined")
    return FleissResult((p_bar - p_e) / (1.0 - p_e))


def _unequal_note(lo: int, hi: int) -> str:
    return (
        f"items have unequal numbers of ratings ({lo} to {hi}); Fleiss' kappa requires the same "
        "number of ratings per item - use krippendorff_alpha, which allows missing ratings"
    )


def _fleiss(r: _Ratings) -> FleissResult:
    m = np.bincount(r.unit, minlength=r.n_units)
    lo, hi = int(m.min()), int(m.max())
    if lo != hi:
        return FleissResult(None, _unequal_note(lo, hi))
    _, _, cnt, _ = _unit_value_counts(r.unit, r.code, r.n_values)
    totals = np.bincount(r.code, minlength=r.n_values).astype(np.float64)
    return _fleiss_core(r.n_units, lo, float(np.sum(cnt.astype(np.float64) ** 2)), totals)


def fleiss_kappa(items: ArrayLike, labels: ArrayLike) -> FleissResult:
    """Fleiss' kappa from long-format ratings (labels are nominal categories).

    Fleiss' kappa assumes every item has the same number of ratings; when they
    differ the result is ``FleissResult(None, note)`` rather than a number that
    silently means something else.
    """
    return _fleiss(_prepare(items, None, labels, "nominal"))


def fleiss_kappa_from_counts(table: ArrayLike) -> FleissResult:
    """Fleiss' kappa from an items x categories table of rating counts (Fleiss' own layout)."""
    counts = np.asarray(table)
    if counts.ndim != 2 or counts.size == 0:
        raise ValueError(f"table must be a non-empty 2-D items x categories array, got shape {counts.shape}")
    if counts.dtype.kind not in "biuf" or (counts < 0).any() or (counts != np.round(counts)).any():
        raise ValueError("table must hold non-negative integer counts")
    per_item = counts.sum(axis=1)
    lo, hi = int(per_item.min()), int(per_item.max())
    if lo != hi:
        return FleissResult(None, _unequal_note(lo, hi))
    counts = counts.astype(np.float64)
    return _fleiss_core(counts.shape[0], lo, float(np.sum(counts * counts)), counts.sum(axis=0))


# --------------------------------------------------------------------------- #
# Cohen's kappa
# --------------------------------------------------------------------------- #
def _kappa(p_o: np.ndarray, p_e: np.ndarray) -> np.ndarray:
    """(p_o - p_e) / (1 - p_e), NaN where chance agreement is 1 (both raters constant)."""
    defined = 1.0 - p_e > _EPS
    out = np.full(np.shape(p_o), np.nan)
    np.divide(p_o - p_e, 1.0 - p_e, out=out, where=defined)
    return out


def cohen_kappa(a: ArrayLike, b: ArrayLike) -> float:
    """Cohen's kappa for two raters' labels on the same items, aligned by position.

    Returns NaN when chance agreement is 1 (both raters used one and the same
    label throughout), where kappa is 0/0.
    """
    first, second = _column("a", a), _column("b", b)
    if _check_same_length(a=first, b=second) == 0:
        raise ValueError("no ratings given")
    _, codes = _factorize("labels", np.concatenate([first, second]))
    ca, cb = codes[: first.size], codes[first.size :]
    k = int(codes.max()) + 1
    p_o = np.mean(ca == cb)
    p_e = np.bincount(ca, minlength=k) @ np.bincount(cb, minlength=k) / float(first.size) ** 2
    return float(_kappa(np.asarray(p_o), np.asarray(p_e)))


@dataclass(frozen=True)
class PairwiseKappa:
    """Cohen's kappa for every pair of annotators that rated common items (sparse).

    Pairs are stored as index arrays into ``annotators`` (first < second) so that
    thousands of annotators do not force an A x A matrix; :meth:`to_matrix` builds
    one on request.  ``kappa`` is NaN where the pair shares fewer than
    ``min_shared`` items or kappa is undefined.
    """

    annotators: np.ndarray
    first: Codes
    second: Codes
    n_shared: NDArray[np.int64]
    kappa: NDArray[np.float64]
    min_shared: int = MIN_SHARED_ITEMS

    def mean(self) -> float:
        """Unweighted mean over pairs with a defined kappa; NaN when there is none."""
        finite = self.kappa[np.isfinite(self.kappa)]
        return float(finite.mean()) if finite.size else float("nan")

    def to_matrix(self) -> NDArray[np.float64]:
        """Symmetric A x A matrix in ``annotators`` order; NaN on the diagonal and for unrelated pairs."""
        size = self.annotators.size
        matrix = np.full((size, size), np.nan)
        matrix[self.first, self.second] = self.kappa
        matrix[self.second, self.first] = self.kappa
        return matrix

    def to_dict(self) -> dict[str, dict[str, float | None]]:
        """{a: {b: kappa}} in both directions for pairs sharing at least ``min_shared`` items."""
        out: dict[str, dict[str, float | None]] = {}
        keep = self.n_shared >= self.min_shared
        names = [str(a) for a in self.annotators.tolist()]
        pairs = zip(self.first[keep].tolist(), self.second[keep].tolist(), self.kappa[keep].tolist(), strict=True)
        for i, j, kappa in pairs:
            value = _nan_to_none(kappa)
            out.setdefault(names[i], {})[names[j]] = value
            out.setdefault(names[j], {})[names[i]] = value
        return out


def _rating_pairs(r: _Ratings) -> tuple[Codes, Codes, Codes, Codes]:
    """(rater a, rater b, label of a, label of b) for every pair of ratings on one item, a < b."""
    assert r.rater is not None
    order = np.argsort(r.unit, kind="stable")
    unit, rater, code = r.unit[order], r.rater[order], r.code[order]
    left, right = _group_pairs(unit)
    keep = left < right
    left, right = left[keep], right[keep]
    swap = rater[left] > rater[right]
    first = np.where(swap, right, left)
    second = np.where(swap, left, right)
    return rater[first], rater[second], code[first], code[second]


def _marginal_products(pair: Codes, code_a: Codes, code_b: Codes, n_values: int, n_pairs: int) -> np.ndarray:
    """sum_c count_a(pair, c) * count_b(pair, c): the numerator of each pair's chance agreement."""
    n_values = max(n_values, 1)
    keys_a, count_a = np.unique(pair.astype(np.int64) * n_values + code_a, return_counts=True)
    keys_b, count_b = np.unique(pair.astype(np.int64) * n_values + code_b, return_counts=True)
    common, ia, ib = np.intersect1d(keys_a, keys_b, assume_unique=True, return_indices=True)
    weights = count_a[ia].astype(np.float64) * count_b[ib]
    return np.bincount(common // n_values, weights=weights, minlength=n_pairs)


def _pairwise(r: _Ratings, min_shared: int = MIN_SHARED_ITEMS) -> PairwiseKappa:
    assert r.annotator_ids is not None
    n_annotators = r.annotator_ids.size
    rater_a, rater_b, code_a, code_b = _rating_pairs(r)
    pair_keys, pair = np.unique(rater_a.astype(np.int64) * n_annotators + rater_b, return_inverse=True)
    pair = pair.reshape(-1)
    n_pairs = pair_keys.size
    n_shared = np.bincount(pair, minlength=n_pairs)
    shared = np.maximum(n_shared, 1).astype(np.float64)
    p_o = np.bincount(pair, weights=code_a == code_b, minlength=n_pairs) / shared
    p_e = _marginal_products(pair, code_a, code_b, r.n_values, n_pairs) / shared**2
    kappa = np.where(n_shared >= min_shared, _kappa(p_o, p_e), np.nan)
    return PairwiseKappa(
        annotators=r.annotator_ids,
        first=(pair_keys // n_annotators).astype(np.intp),
        second=(pair_keys % n_annotators).astype(np.intp),
        n_shared=n_shared.astype(np.int64),
        kappa=kappa,
        min_shared=min_shared,
    )


def cohen_kappa_pairwise(
    items: ArrayLike, annotators: ArrayLike, labels: ArrayLike, *, min_shared: int = MIN_SHARED_ITEMS
) -> PairwiseKappa:
    """Cohen's kappa between every two annotators over the items both rated."""
    return _pairwise(_prepare(items, annotators, labels, "nominal"), min_shared)


# --------------------------------------------------------------------------- #
# Percent agreement and agreement with consensus
# --------------------------------------------------------------------------- #
def _percent_agreement(r: _Ratings) -> float:
    m = np.bincount(r.unit, minlength=r.n_units).astype(np.float64)
    ku, _, cnt, _ = _unit_value_counts(r.unit, r.code, r.n_values)
    agreeing_pairs = np.bincount(ku, weights=cnt * (cnt - 1.0), minlength=r.n_units)
    rated = m >= 2
    if not rated.any():
        return float("nan")
    return float(np.mean(agreeing_pairs[rated] / (m[rated] * (m[rated] - 1))))


def percent_agreement(items: ArrayLike, labels: ArrayLike) -> float:
    """Mean over items with >= 2 ratings of the share of rating pairs that agree exactly.

    Averaged per item (not pooled over pairs) so heavily rated items do not dominate.
    Not chance-corrected: report it next to alpha, never instead of it.
    """
    return _percent_agreement(_prepare(items, None, labels, "nominal"))


@dataclass(frozen=True)
class ConsensusAgreement:
    """Per annotator: how often their label matches the majority of the *other* annotators.

    Leaving the annotator out of their own majority avoids rewarding them for
    agreeing with themselves.  A tie among the others' most frequent labels gives
    credit 1/t when the annotator's label is one of the t tied labels (the chance
    that a random tie-break picks it).  Items rated by nobody else are skipped.
    """

    annotators: np.ndarray
    agreement: NDArray[np.float64]  # NaN when n_compared is 0
    n_compared: NDArray[np.int64]

    def to_dict(self) -> dict[str, dict[str, float | int | None]]:
        return {
            str(a): {"agreement": _nan_to_none(x), "n_items": int(n)}
            for a, x, n in zip(self.annotators.tolist(), self.agreement.tolist(), self.n_compared.tolist(), strict=True)
        }


def _consensus_credit(r: _Ratings) -> tuple[np.ndarray, NDArray[np.bool_]]:
    """Credit per rating and whether it was compared (item has another rating).

    With n_uc the count of label c on item u and M_u its maximum, the others'
    majority contains the annotator's own label c only if c is the unique maximum
    of n_u (removing the annotator's own vote lowers c to M_u - 1 and every other
    label is already <= M_u - 1); it then ties with the labels counted M_u - 1.
    """
    m = np.bincount(r.unit, minlength=r.n_units)
    ku, _, cnt, inverse = _unit_value_counts(r.unit, r.code, r.n_values)
    starts = np.flatnonzero(np.r_[True, ku[1:] != ku[:-1]])
    top = np.maximum.reduceat(cnt, starts)  # every unit has ratings, so index == unit code
    n_top = np.bincount(ku, weights=cnt == top[ku], minlength=r.n_units)
    n_runner_up = np.bincount(ku, weights=cnt == top[ku] - 1, minlength=r.n_units)
    unit = r.unit
    unique_mode = (cnt[inverse] == top[unit]) & (n_top[unit] == 1)
    credit = np.where(unique_mode, 1.0 / (1.0 + n_runner_up[unit]), 0.0)
    return credit, m[unit] >= 2


def _consensus(r: _Ratings) -> ConsensusAgreement:
    assert r.rater is not None and r.annotator_ids is not None
    credit, compared = _consensus_credit(r)
    rater = r.rater[compared]
    size = r.annotator_ids.size
    n_compared = np.bincount(rater, minlength=size)
    total = np.bincount(rater, weights=credit[compared], minlength=size)
    agreement = np.full(size, np.nan)
    np.divide(total, n_compared, out=agreement, where=n_compared > 0)
    return ConsensusAgreement(r.annotator_ids, agreement, n_compared.astype(np.int64))


def consensus_agreement(items: ArrayLike, annotators: ArrayLike, labels: ArrayLike) -> ConsensusAgreement:
    """Agreement of each annotator with the leave-one-out majority label (see :class:`ConsensusAgreement`)."""
    return _consensus(_prepare(items, annotators, labels, "nominal"))


# --------------------------------------------------------------------------- #
# Report
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class AgreementReport:
    """All agreement statistics for one set of ratings, JSON-ready (None instead of NaN)."""

    krippendorff_alpha: float | None
    fleiss_kappa: float | None
    fleiss_kappa_note: str | None
    cohen_kappa_mean: float | None
    percent_agreement: float | None
    n_items: int
    n_annotators: int
    n_ratings: int
    per_annotator_consensus: dict[str, dict[str, float | int | None]]
    cohen_pairwise: dict[str, dict[str, float | None]]

    SUMMARY_KEYS: ClassVar[tuple[str, ...]] = (
        "krippendorff_alpha",
        "fleiss_kappa",
        "fleiss_kappa_note",
        "cohen_kappa_mean",
        "percent_agreement",
        "n_items",
        "n_annotators",
        "n_ratings",
    )

    def to_dict(self, *, detail: bool = True) -> dict[str, Any]:
        """Summary keys (``fleiss_kappa_note`` only when kappa is null), plus per-annotator detail."""
        out = {key: getattr(self, key) for key in self.SUMMARY_KEYS}
        if self.fleiss_kappa_note is None:
            del out["fleiss_kappa_note"]
        if detail:
            out["per_annotator_consensus"] = self.per_annotator_consensus
            out["cohen_pairwise"] = self.cohen_pairwise
        return out


def agreement_report(
    items: ArrayLike,
    annotators: ArrayLike,
    labels: ArrayLike,
    level: str = "nominal",
    *,
    categories: Sequence[Any] | np.ndarray | None = None,
    min_shared: int = MIN_SHARED_ITEMS,
) -> AgreementReport:
    """Every statistic from one factorisation of the ratings.

    Alpha uses ``level``'s metric; the other statistics compare labels for
    equality.  Raises ValueError for malformed input (unknown level, length
    mismatch, non-numeric labels at a numeric level, duplicate item/annotator).
    """
    r = _prepare(items, annotators, labels, level, categories)
    assert r.annotator_ids is not None
    fleiss = _fleiss(r)
    pairwise = _pairwise(r, min_shared)
    return AgreementReport(
        krippendorff_alpha=_nan_to_none(_alpha(r, level)),
        fleiss_kappa=None if fleiss.kappa is None else float(fleiss.kappa),
        fleiss_kappa_note=fleiss.note,
        cohen_kappa_mean=_nan_to_none(pairwise.mean()),
        percent_agreement=_nan_to_none(_percent_agreement(r)),
        n_items=r.n_units,
        n_annotators=int(r.annotator_ids.size),
        n_ratings=int(r.unit.size),
        per_annotator_consensus=_consensus(r).to_dict(),
        cohen_pairwise=pairwise.to_dict(),
    )
