"""The per-language budget split (pure function)."""
import pytest

from learner.allocation import LanguageState, allocate_budget


def items(result):
    return {tag: share["items"] for tag, share in result.items()}


def test_parity_gives_more_to_the_language_that_lags():
    states = [LanguageState("a", 0.80, 1000), LanguageState("b", 0.50, 1000), LanguageState("c", 0.30, 1000)]
    out = items(allocate_budget(100, states, mode="parity", floor=5))
    assert sum(out.values()) == 100
    assert out["c"] > out["b"] > out["a"] >= 5


def test_uniform_splits_evenly_with_largest_remainder():
    states = [LanguageState(t, f, 1000) for t, f in (("a", 0.9), ("b", 0.1), ("c", None))]
    out = items(allocate_budget(100, states, mode="uniform", floor=0))
    assert sorted(out.values()) == [33, 33, 34]


def test_no_champions_at_all_is_uniform():
    states = [LanguageState(t, None, 1000) for t in "abcd"]
    assert set(items(allocate_budget(40, states)).values()) == {10}


def test_caps_by_unlabeled_items_and_capacity_and_redistributes():
    states = [
        LanguageState("a", 0.9, 1000, capacity=None),
        LanguageState("b", 0.1, 7, capacity=None),  # lags most but only 7 items left
        LanguageState("c", 0.2, 1000, capacity=12.5),  # qualified evaluators can take 12 today
    ]
    result = allocate_budget(60, states, mode="parity", floor=1)
    out = items(result)
    assert out == {"a": 41, "b": 7, "c": 12}
    assert "unlabeled items" in result["b"]["reason"] and "qualified capacity" in result["c"]["reason"]


def test_floor_for_every_language_even_the_best():
    states = [LanguageState("best", 0.95, 500), LanguageState("worst", 0.05, 500)]
    out = items(allocate_budget(20, states, mode="parity", floor=3, min_weight=0.0))
    assert out["best"] == 3 and out["worst"] == 17


def test_floors_go_to_the_most_lagging_when_the_budget_is_short():
    states = [LanguageState(t, f, 100) for t, f in (("a", 0.9), ("b", 0.2), ("c", 0.5))]
    assert items(allocate_budget(2, states, floor=1)) == {"a": 0, "b": 1, "c": 1}


def test_total_never_exceeds_budget_nor_what_can_be_given():
    states = [LanguageState("a", 0.5, 3), LanguageState("b", None, 0), LanguageState("c", 0.2, 10, capacity=0)]
    result = allocate_budget(50, states)
    assert items(result) == {"a": 3, "b": 0, "c": 0}
    assert "no unlabeled items" in result["b"]["reason"]
    assert "no qualified evaluator capacity" in result["c"]["reason"]


@pytest.mark.parametrize("budget", [0, 1, 7, 99, 1000])
def test_sum_is_budget_when_room_allows(budget):
    states = [LanguageState(t, f, 400) for t, f in (("a", 0.61), ("b", 0.42), ("c", None), ("d", 0.42))]
    out = items(allocate_budget(budget, states, floor=2))
    assert sum(out.values()) == min(budget, 1600)
    assert out["b"] == out["d"]  # equal gaps, equal shares


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown allocation"):
        allocate_budget(10, [LanguageState("a", 0.1, 5)], mode="greedy")
    with pytest.raises(ValueError, match="once"):
        allocate_budget(10, [LanguageState("a", 0.1, 5), LanguageState("a", 0.2, 5)])
    assert allocate_budget(10, []) == {}
