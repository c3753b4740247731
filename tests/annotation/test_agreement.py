"""Tests for annotation.agreement and the ``agreement`` management command.

Published worked examples pin the formulas (Krippendorff 2011, Fleiss 1971 via
the Wikipedia worked example, sklearn for Cohen); small brute-force reference
implementations written straight from the paper's definitions check the
vectorised code on random data, including missing ratings.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from collections import Counter
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from annotation.agreement import (
    LEVELS,
    agreement_report,
    cohen_kappa,
    cohen_kappa_pairwise,
    coincidence_matrix,
    consensus_agreement,
    fleiss_kappa,
    fleiss_kappa_from_counts,
    krippendorff_alpha,
    krippendorff_alpha_long,
    percent_agreement,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
NAN = np.nan

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section E:
# 4 observers (rows A-D) x 12 units, missing values as NaN.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]
KRIPPENDORFF_2011_ALPHA = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}

# Wikipedia "Fleiss' kappa" worked example: 10 subjects x 5 categories, 14 raters each.
FLEISS_WIKIPEDIA = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


# --------------------------------------------------------------------------- #
# Helpers: data generation and brute-force references from the definitions
# --------------------------------------------------------------------------- #
def to_long(matrix: list[list[float]] | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    arr = np.asarray(matrix, dtype=float)
    coders, units = np.nonzero(~np.isnan(arr))
    return units, coders, arr[coders, units]


def random_ratings(
    seed: int, n_items: int = 40, n_annotators: int = 6, n_values: int = 4, missing: float = 0.4
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, n_values + 1, n_items)
    noise = rng.integers(1, n_values + 1, (n_items, n_annotators))
    labels = np.where(rng.random((n_items, n_annotators)) < 0.6, truth[:, None], noise)
    items, annotators = np.nonzero(rng.random((n_items, n_annotators)) >= missing)
    return items, annotators, labels[items, annotators].astype(float)


def reference_alpha(items: np.ndarray, labels: np.ndarray, level: str) -> float:
    """Krippendorff (2011) step by step: coincidence matrix, metric, D_o / D_e."""
    by_unit: dict[object, list[float]] = {}
    for item, label in zip(items.tolist(), labels.tolist(), strict=True):
        by_unit.setdefault(item, []).append(label)
    values = sorted(set(labels.tolist()))
    index = {v: i for i, v in enumerate(values)}
    o = np.zeros((len(values), len(values)))
    for unit_values in by_unit.values():
        m = len(unit_values)
        if m < 2:
            continue
        for i, j in itertools.permutations(range(m), 2):
            o[index[unit_values[i]], index[unit_values[j]]] += 1 / (m - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()

    def delta(c: int, k: int) -> float:
        vc, vk = values[c], values[k]
        if level == "nominal":
            return float(c != k)
        if level == "interval":
            return (vc - vk) ** 2
        if level == "ratio":
            return 0.0 if vc + vk == 0 else ((vc - vk) / (vc + vk)) ** 2
        lo, hi = min(c, k), max(c, k)
        return (sum(n_c[lo : hi + 1]) - (n_c[c] + n_c[k]) / 2) ** 2

    pairs = list(itertools.product(range(len(values)), repeat=2))
    observed = sum(o[c, k] * delta(c, k) for c, k in pairs)
    expected = sum(n_c[c] * n_c[k] * delta(c, k) for c, k in pairs)
    return 1 - (n - 1) * observed / expected


def reference_consensus(items: np.ndarray, annotators: np.ndarray, labels: np.ndarray) -> dict[str, float | None]:
    """Leave-one-out majority with 1/t credit for a t-way tie containing the label."""
    rows = list(zip(items.tolist(), annotators.tolist(), labels.tolist(), strict=True))
    credit: dict[str, list[float]] = {str(a): [] for a in set(annotators.tolist())}
    for item, annotator, label in rows:
        others = Counter(lab for it, ann, lab in rows if it == item and ann != annotator)
        if not others:
            continue
        top = max(others.values())
        modes = [lab for lab, count in others.items() if count == top]
        credit[str(annotator)].append(1 / len(modes) if label in modes else 0.0)
    return {a: (float(np.mean(c)) if c else None) for a, c in credit.items()}


# --------------------------------------------------------------------------- #
# Krippendorff's alpha
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("level", LEVELS)
def test_alpha_matches_krippendorff_2011_example(level: str) -> None:
    assert krippendorff_alpha(KRIPPENDORFF_2011, level) == pytest.approx(KRIPPENDORFF_2011_ALPHA[level], abs=5e-4)


def test_coincidence_matrix_matches_krippendorff_2011_example() -> None:
    items, _, labels = to_long(KRIPPENDORFF_2011)
    values, o = coincidence_matrix(items, labels)
    assert values.tolist() == [1, 2, 3, 4, 5]
    assert o.sum(axis=1) == pytest.approx([9, 13, 10, 5, 3])  # n_c, n = 40 pairable values
    assert o == pytest.approx(o.T)
    assert o[0, 0] == pytest.approx(7) and o[0, 1] == pytest.approx(4 / 3) and o[4, 4] == pytest.approx(3)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("seed", range(5))
def test_alpha_matches_brute_force_reference(level: str, seed: int) -> None:
    items, _, labels = random_ratings(seed, n_values=5)
    assert krippendorff_alpha_long(items, None, labels, level) == pytest.approx(
        reference_alpha(items, labels, level), rel=1e-9
    )


@pytest.mark.parametrize("level", LEVELS)
def test_long_format_and_matrix_apis_agree(level: str) -> None:
    items, annotators, labels = random_ratings(11, n_items=200)
    matrix = np.full((annotators.max() + 1, items.max() + 1), np.nan)
    matrix[annotators, items] = labels
    long_alpha = krippendorff_alpha_long(items, annotators, labels, level)
    assert krippendorff_alpha(matrix, level) == pytest.approx(long_alpha, rel=1e-12)
    # Ids need not be integers or contiguous.
    named_items = np.array([f"item-{i * 7}" for i in items])
    named_annotators = np.array([f"ann-{a}" for a in annotators])
    assert krippendorff_alpha_long(named_items, named_annotators, labels, level) == pytest.approx(long_alpha)


@pytest.mark.parametrize("level", LEVELS)
def test_perfect_agreement_gives_one(level: str) -> None:
    matrix = [[1, 2, 3, 4, 2], [1, 2, 3, 4, 2], [1, NAN, 3, 4, NAN]]
    assert krippendorff_alpha(matrix, level) == pytest.approx(1.0)


@pytest.mark.parametrize("level", LEVELS)
def test_single_value_everywhere_is_undefined(level: str) -> None:
    assert np.isnan(krippendorff_alpha([[3, 3, 3], [3, 3, NAN]], level))


def test_no_pairable_unit_is_undefined() -> None:
    assert np.isnan(krippendorff_alpha_long([1, 2, 3], ["a", "b", "c"], ["x", "y", "x"]))


@pytest.mark.parametrize("level", LEVELS)
def test_single_rating_units_are_dropped(level: str) -> None:
    items, annotators, labels = random_ratings(3)
    base = krippendorff_alpha_long(items, annotators, labels, level)
    extra_items = np.concatenate([items, [1000, 1001, 1002]])
    extra_annotators = np.concatenate([annotators, [0, 1, 2]])
    extra_labels = np.concatenate([labels, [1.0, 4.0, 2.0]])
    assert krippendorff_alpha_long(extra_items, extra_annotators, extra_labels, level) == pytest.approx(base)


def test_nominal_accepts_string_labels() -> None:
    items, annotators, labels = to_long(KRIPPENDORFF_2011)
    names = np.array(["a", "b", "c", "d", "e"])[labels.astype(int) - 1]
    assert krippendorff_alpha_long(items, annotators, names) == pytest.approx(0.743, abs=5e-4)


def test_ordinal_depends_only_on_order_and_accepts_categories() -> None:
    items, _, labels = to_long(KRIPPENDORFF_2011)
    expected = KRIPPENDORFF_2011_ALPHA["ordinal"]
    assert krippendorff_alpha_long(items, None, labels**3 + 10, "ordinal") == pytest.approx(expected, abs=5e-4)
    words = np.array(["none", "low", "mid", "high", "max"])[labels.astype(int) - 1]
    order = ["none", "low", "mid", "high", "max"]
    assert krippendorff_alpha_long(items, None, words, "ordinal", categories=order) == pytest.approx(expected, abs=5e-4)


def test_interval_is_invariant_to_affine_rescaling() -> None:
    items, _, labels = to_long(KRIPPENDORFF_2011)
    base = krippendorff_alpha_long(items, None, labels, "interval")
    assert krippendorff_alpha_long(items, None, 1e6 + 0.001 * labels, "interval") == pytest.approx(base, rel=1e-6)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: krippendorff_alpha(KRIPPENDORFF_2011, "circular"), "unknown level 'circular'"),
        (lambda: krippendorff_alpha_long([1, 1], None, ["a", "b"], "interval"), "label 'a' at position 0"),
        (lambda: krippendorff_alpha_long([1, 1], None, ["low", "high"], "ordinal"), "categories="),
        (lambda: krippendorff_alpha_long([1, 1], None, [1, -2], "ratio"), "label -2 at position 1 is negative"),
        (lambda: krippendorff_alpha_long([1, 1, 2], None, [1, 2], "nominal"), "same length"),
        (
            lambda: krippendorff_alpha_long([7, 7], ["a", "a"], [1, 2]),
            "annotator 'a' rated item 7 more than once (positions 0 and 1)",
        ),
        (lambda: krippendorff_alpha_long([1, 1], None, ["x", None]), "missing value at position 1"),
        (lambda: krippendorff_alpha_long([1, 1], None, [1.0, np.inf], "interval"), "finite"),
        (lambda: krippendorff_alpha_long([], None, []), "no ratings"),
        (lambda: krippendorff_alpha([1, 2, 3]), "2-D"),
        (lambda: krippendorff_alpha([[NAN, NAN]]), "everything is missing"),
        (
            lambda: krippendorff_alpha_long([1, 1], None, ["a", "z"], "ordinal", categories=["a", "b"]),
            "label 'z' at position 1 is not one of the categories",
        ),
        (lambda: krippendorff_alpha_long([1, 1], None, [1, 2], "interval", categories=[1, 2]), "categories="),
    ],
)
def test_bad_input_raises_clear_value_error(call, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


# --------------------------------------------------------------------------- #
# Fleiss' kappa
# --------------------------------------------------------------------------- #
def test_fleiss_matches_wikipedia_worked_example() -> None:
    result = fleiss_kappa_from_counts(FLEISS_WIKIPEDIA)
    assert result.note is None
    assert result.kappa == pytest.approx(0.210, abs=5e-4)


def test_fleiss_long_format_matches_counts_table() -> None:
    table = np.asarray(FLEISS_WIKIPEDIA)
    n_items, n_categories = table.shape
    items = np.repeat(np.repeat(np.arange(n_items), n_categories), table.ravel())
    labels = np.repeat(np.tile(np.arange(n_categories), n_items), table.ravel())
    assert fleiss_kappa(items, labels).kappa == pytest.approx(fleiss_kappa_from_counts(table).kappa)


def test_fleiss_is_none_with_note_for_unequal_rating_counts() -> None:
    result = fleiss_kappa([1, 1, 1, 2, 2], ["a", "a", "b", "b", "b"])
    assert result.kappa is None
    assert "unequal numbers of ratings (2 to 3)" in result.note
    assert fleiss_kappa_from_counts([[2, 1], [0, 2]]).kappa is None


def test_fleiss_is_none_when_all_ratings_share_one_category() -> None:
    result = fleiss_kappa([1, 1, 2, 2], ["a", "a", "a", "a"])
    assert result.kappa is None and "one category" in result.note


def test_fleiss_perfect_agreement_gives_one() -> None:
    assert fleiss_kappa([1, 1, 2, 2, 3, 3], ["a", "a", "b", "b", "a", "a"]).kappa == pytest.approx(1.0)


# --------------------------------------------------------------------------- #
# Cohen's kappa, percent agreement, consensus
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("seed", range(5))
def test_cohen_kappa_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.choice(["cat", "dog", "bird"], 60)
    b = np.where(rng.random(60) < 0.6, a, rng.choice(["cat", "dog", "bird", "fish"], 60))
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))


def test_cohen_kappa_edge_cases() -> None:
    assert cohen_kappa([1, 2, 3, 1], [1, 2, 3, 1]) == pytest.approx(1.0)
    assert np.isnan(cohen_kappa(["x", "x"], ["x", "x"]))
    with pytest.raises(ValueError, match="same length"):
        cohen_kappa([1, 2], [1])


def test_pairwise_cohen_matches_sklearn_on_shared_items() -> None:
    items, annotators, labels = random_ratings(5, n_items=80, n_annotators=5, missing=0.3)
    pairwise = cohen_kappa_pairwise(items, annotators, labels)
    matrix = pairwise.to_matrix()
    ratings = {(i, a): lab for i, a, lab in zip(items.tolist(), annotators.tolist(), labels.tolist(), strict=True)}
    for a, b in itertools.combinations(range(5), 2):
        shared = sorted(i for (i, ann) in ratings if ann == a and (i, b) in ratings)
        expected = cohen_kappa_score([ratings[i, a] for i in shared], [ratings[i, b] for i in shared])
        assert matrix[a, b] == pytest.approx(expected) and matrix[b, a] == pytest.approx(expected)
    assert np.isnan(np.diag(matrix)).all()
    assert pairwise.mean() == pytest.approx(np.nanmean(matrix[np.triu_indices(5, 1)]))


def test_pairwise_cohen_needs_two_shared_items() -> None:
    pairwise = cohen_kappa_pairwise([1, 1, 2, 2, 3], ["a", "b", "a", "b", "c"], ["x", "y", "y", "y", "x"])
    assert set(pairwise.to_dict()) == {"a", "b"}  # c shares nothing
    assert pairwise.to_dict()["a"]["b"] == pytest.approx(cohen_kappa_score(["x", "y"], ["y", "y"]))
    single = cohen_kappa_pairwise([1, 1], ["a", "b"], ["x", "y"])
    assert single.to_dict() == {} and np.isnan(single.mean())


def test_percent_agreement_is_mean_over_items_of_agreeing_pairs() -> None:
    # item 1: 3 of 3 pairs agree; item 2: 1 of 3; item 3: 0 of 1; item 4 (single rating) is skipped.
    items = [1, 1, 1, 2, 2, 2, 3, 3, 4]
    labels = ["a", "a", "a", "a", "a", "b", "a", "b", "a"]
    assert percent_agreement(items, labels) == pytest.approx((1 + 1 / 3 + 0) / 3)


@pytest.mark.parametrize("seed", range(4))
def test_consensus_matches_reference(seed: int) -> None:
    items, annotators, labels = random_ratings(seed, n_items=60, n_annotators=5, n_values=3, missing=0.3)
    result = consensus_agreement(items, annotators, labels).to_dict()
    for annotator, expected in reference_consensus(items, annotators, labels).items():
        got = result[annotator]["agreement"]
        assert (got is None and expected is None) or got == pytest.approx(expected)


def test_consensus_ties_give_fractional_credit() -> None:
    result = consensus_agreement([1, 1, 1], ["a", "b", "c"], ["x", "x", "y"]).to_dict()
    assert result["a"]["agreement"] == pytest.approx(0.5)  # others: x, y -> tie
    assert result["c"]["agreement"] == 0.0  # others: x, x
    assert result["a"]["n_items"] == 1


# --------------------------------------------------------------------------- #
# Report
# --------------------------------------------------------------------------- #
SUMMARY_KEYS = {
    "krippendorff_alpha",
    "fleiss_kappa",
    "cohen_kappa_mean",
    "percent_agreement",
    "n_items",
    "n_annotators",
    "n_ratings",
}


def test_report_with_unequal_counts_has_null_fleiss_and_note() -> None:
    items, annotators, labels = to_long(KRIPPENDORFF_2011)
    report = agreement_report(items, annotators, labels, "interval")
    summary = report.to_dict(detail=False)
    assert set(summary) == SUMMARY_KEYS | {"fleiss_kappa_note"}
    assert summary["fleiss_kappa"] is None and "unequal" in summary["fleiss_kappa_note"]
    assert summary["krippendorff_alpha"] == pytest.approx(0.849, abs=5e-4)
    assert (summary["n_items"], summary["n_annotators"], summary["n_ratings"]) == (12, 4, 41)
    detail = report.to_dict()
    assert set(detail["per_annotator_consensus"]) == {"0", "1", "2", "3"}
    assert detail["cohen_pairwise"]["0"]["1"] == pytest.approx(report.cohen_pairwise["1"]["0"])
    json.dumps(detail, allow_nan=False)


def test_report_with_equal_counts_has_fleiss_and_no_note() -> None:
    table = np.asarray(FLEISS_WIKIPEDIA)
    items = np.repeat(np.repeat(np.arange(10), 5), table.ravel())
    labels = np.repeat(np.tile(np.arange(5), 10), table.ravel())
    annotators = np.concatenate([np.arange(14)] * 10)
    summary = agreement_report(items, annotators, labels).to_dict(detail=False)
    assert set(summary) == SUMMARY_KEYS
    assert summary["fleiss_kappa"] == pytest.approx(0.210, abs=5e-4)


def test_report_of_undefined_statistics_is_json_null() -> None:
    summary = agreement_report([1, 1], ["a", "b"], ["x", "x"]).to_dict(detail=False)
    assert summary["krippendorff_alpha"] is None and summary["cohen_kappa_mean"] is None
    assert summary["percent_agreement"] == 1.0
    json.dumps(summary, allow_nan=False)


# --------------------------------------------------------------------------- #
# Management command
# --------------------------------------------------------------------------- #
@pytest.fixture
def django_ready() -> None:
    """Settings for call_command; pytest-django normally provides them already."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parity.settings.test")
    import django

    django.setup()


def write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ratings.csv"
    path.write_text(text, encoding="utf-8")
    return path


def run_command(path: Path, *args: str) -> tuple[str, str]:
    from django.core.management import call_command

    out, err = StringIO(), StringIO()
    call_command("agreement", "--input", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def krippendorff_csv() -> str:
    items, annotators, labels = to_long(KRIPPENDORFF_2011)
    rows = [f"u{i},coder{'ABCD'[a]},{int(v)}" for i, a, v in zip(items, annotators, labels, strict=True)]
    return "item,annotator,label\n" + "\n".join(rows) + "\n"


@pytest.mark.usefixtures("django_ready")
@pytest.mark.parametrize("level", LEVELS)
def test_command_prints_one_json_object(tmp_path: Path, level: str) -> None:
    out, err = run_command(write_csv(tmp_path, krippendorff_csv()), "--level", level)
    result = json.loads(out)
    assert set(result) == SUMMARY_KEYS | {"fleiss_kappa_note"}
    assert result["krippendorff_alpha"] == pytest.approx(KRIPPENDORFF_2011_ALPHA[level], abs=5e-4)
    assert result["fleiss_kappa"] is None and result["fleiss_kappa_note"]
    assert (result["n_items"], result["n_annotators"], result["n_ratings"]) == (12, 4, 41)
    assert err == ""


@pytest.mark.usefixtures("django_ready")
def test_command_equal_counts_reports_fleiss(tmp_path: Path) -> None:
    csv_text = "annotator,item,label,comment\na,1,x,\nb,1,x,\na,2,y,ok\nb,2,x,\n\n"
    result = json.loads(run_command(write_csv(tmp_path, csv_text))[0])
    assert set(result) == SUMMARY_KEYS
    assert result["fleiss_kappa"] == pytest.approx(fleiss_kappa([1, 1, 2, 2], ["x", "x", "y", "x"]).kappa)


MALFORMED_CSV = [
    ("", "nominal", "row 1: file is empty"),
    ("item,annotator\n1,a\n", "nominal", "row 1: missing column(s) label"),
    ("item,annotator,label\n1,a,x\n1,b,\n", "nominal", "row 3: empty label"),
    ("item,annotator,label\n1,a,x\n1,b\n", "nominal", "row 3: empty label"),
    ("item,annotator,label\n1,a,x\n,b,y\n", "nominal", "row 3: empty item"),
    ("item,annotator,label\n1,a,2\n1,b,two\n", "interval", "row 3: label 'two' is not a number"),
    ("item,annotator,label\n1,a,2\n1,b,nan\n", "interval", "row 3: label 'nan' is not a finite number"),
    ("item,annotator,label\n1,a,x\n2,a,y\n1,a,z\n", "nominal", "row 4: duplicate rating"),
    ("item,annotator,label\n1,a,2\n1,b,-1\n", "ratio", "row 3: label '-1' is negative"),
    ("item,annotator,label\n", "nominal", "row 2: no ratings"),
]


@pytest.mark.usefixtures("django_ready")
@pytest.mark.parametrize(("csv_text", "level", "expected"), MALFORMED_CSV)
def test_command_rejects_malformed_input_with_exit_2(tmp_path: Path, csv_text: str, level: str, expected: str) -> None:
    from django.core.management import call_command

    path = write_csv(tmp_path, csv_text)
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as excinfo:
        call_command("agreement", "--input", str(path), "--level", level, stdout=out, stderr=err)
    assert excinfo.value.code == 2
    message = err.getvalue()
    assert expected in message and str(path) in message
    assert message.count("\n") == 1 and out.getvalue() == ""


@pytest.mark.usefixtures("django_ready")
def test_command_missing_file_exits_2(tmp_path: Path) -> None:
    from django.core.management import call_command

    err = StringIO()
    with pytest.raises(SystemExit) as excinfo:
        call_command("agreement", "--input", str(tmp_path / "nope.csv"), stdout=StringIO(), stderr=err)
    assert excinfo.value.code == 2 and "file not found" in err.getvalue()


@pytest.mark.slow
@pytest.mark.skipif(not (REPO_ROOT / "manage.py").exists(), reason="manage.py not present")
def test_manage_py_subprocess_exit_codes(tmp_path: Path) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "parity.settings.test"}
    command = [sys.executable, "manage.py", "agreement", "--input"]
    good = subprocess.run(
        [*command, str(write_csv(tmp_path, krippendorff_csv()))],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["krippendorff_alpha"] == pytest.approx(0.743, abs=5e-4)
    bad = subprocess.run(
        [*command, str(write_csv(tmp_path, "item,annotator,label\n1,a,x\n1,a,y\n"))],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "row 3" in bad.stderr and bad.stdout == ""
