"""The scoring of benchmarks.control_timing: what it reports must mean what the README says."""
from __future__ import annotations

import random

from benchmarks.control_timing import auc, youden_held_out


def test_times_that_separate_controls_score_one_and_equal_times_score_chance():
    truth = [i % 3 == 0 for i in range(90)]
    separated = [20.0 + random.Random(i).random() if c else 10.0 + random.Random(i).random()
                 for i, c in enumerate(truth)]
    assert auc(separated, truth) == 1.0 and youden_held_out(separated, truth) == 1.0
    same = [10.0] * 90
    assert auc(same, truth) == 0.5 and youden_held_out(same, truth) == 0.0


def test_noise_alone_stays_near_chance_on_the_held_out_half():
    rng = random.Random(5)
    truth = [rng.random() < 0.3 for _ in range(600)]
    noise = [rng.gauss(12.0, 2.0) for _ in truth]
    assert abs(youden_held_out(noise, truth)) < 0.15 and abs(auc(noise, truth) - 0.5) < 0.06


def test_a_half_without_both_kinds_gives_no_score():
    assert youden_held_out([1.0, 2.0, 3.0, 4.0], [True, True, False, True]) is None
    assert auc([1.0, 2.0], [False, False]) is None
