"""The control draw: the lowest draw key among the controls an evaluator may get, re-keyed when served.

One indexed read instead of ``ORDER BY random()`` over every control and its leases, so a control costs
the server what a regular item does; these tests check that it still serves exactly what
``controls_available`` allows, in a random order that spreads exposure, and retires on time."""
from __future__ import annotations

import random
from collections import Counter

import pytest
from django.utils import timezone

from annotation.models import Assignment, Item
from annotation.services import RETIRED_DRAW_STEP, _draw_control, assignment_next, controls_available
from tests import factories as f
from tests.annotation.conftest import make_setup

pytestmark = pytest.mark.django_db


def _pool_with_controls(n: int, evaluators: int = 2, work: int = 1, **rules):
    setup = make_setup(overlap=1, evaluators=evaluators)
    pool = setup.evaluators[0].memberships.get().pool
    for key, value in rules.items():
        setattr(pool, key, value)
    pool.save()
    controls = [f.ItemFactory(project=setup.project, language=setup.lang, is_control=True, reference_label="politics")
                for _ in range(n)]
    for _ in range(work):
        f.ItemFactory(project=setup.project, language=setup.lang)
    return setup, pool, controls


def test_the_draw_takes_the_lowest_key_the_evaluator_may_have():
    setup, pool, controls = _pool_with_controls(4)
    user = setup.evaluators[0]
    for key, control in zip((0.4, 0.1, 0.3, 0.2), controls, strict=True):
        Item.objects.filter(pk=control.pk).update(draw_key=key)
    now = timezone.now()
    Assignment.objects.create(item=controls[1], evaluator=user, leased_at=now, expires_at=now)  # had it
    drawn = _draw_control(pool=pool, evaluator=user)
    assert drawn.pk == controls[3].pk and drawn.shown == 0
    assert set(controls_available(pool=pool, evaluator_id=user.pk).values_list("pk", flat=True)) == {
        c.pk for c in (controls[0], controls[2], controls[3])}


def test_served_controls_move_back_so_every_one_comes_round_as_often():
    setup, pool, controls = _pool_with_controls(5, evaluators=30, work=40, control_rate=1.0, gold_max_exposure=100)
    firsts = Counter()
    for n, user in enumerate(setup.evaluators):
        lease = assignment_next(evaluator=user, rng=random.Random(n))
        assert lease.is_control
        firsts[lease.item_id] += 1
    # Thirty evaluators in a row, five controls: each comes first for six of them, give or take one.
    assert set(firsts) == {c.pk for c in controls} and set(firsts.values()) <= {5, 6, 7}, firsts
    keys = list(Item.objects.filter(is_control=True).values_list("draw_key", flat=True))
    assert len(set(keys)) == 5


def test_the_order_is_shuffled_anew_every_round():
    setup, pool, controls = _pool_with_controls(6, evaluators=60, work=70, control_rate=1.0, gold_max_exposure=100)
    served = [assignment_next(evaluator=user, rng=random.Random(n)).item_id for n, user in enumerate(setup.evaluators)]
    rounds = [tuple(served[i:i + 6]) for i in range(6, 60, 6)]  # after the first round's keys have moved
    assert len(set(rounds)) >= 5, rounds  # not one fixed rotation


def test_a_control_served_to_its_last_evaluator_goes_behind_the_others_and_is_then_retired():
    setup, pool, controls = _pool_with_controls(2, evaluators=3, work=5, control_rate=1.0, gold_max_exposure=2)
    a, b, c = setup.evaluators
    Item.objects.filter(pk=controls[0].pk).update(draw_key=0.0)
    Item.objects.filter(pk=controls[1].pk).update(draw_key=5.0)  # far behind: controls[0] is served twice
    assert assignment_next(evaluator=a, rng=random.Random(1)).item_id == controls[0].pk  # shown 1 of 2
    assert 1 <= Item.objects.get(pk=controls[0].pk).draw_key < 2
    assert assignment_next(evaluator=b, rng=random.Random(2)).item_id == controls[0].pk  # shown 2 of 2
    assert Item.objects.get(pk=controls[0].pk).draw_key >= RETIRED_DRAW_STEP
    assert assignment_next(evaluator=c, rng=random.Random(3)).item_id == controls[1].pk  # [0] is retired
    assert list(controls_available(pool=pool, evaluator_id=c.pk)) == []


def test_no_control_is_served_when_the_pool_has_no_work_left_for_the_evaluator():
    setup, pool, controls = _pool_with_controls(3, evaluators=1, work=0, control_rate=1.0)
    assert _draw_control(pool=pool, evaluator=setup.evaluators[0]) is not None
    assert assignment_next(evaluator=setup.evaluators[0], rng=random.Random(0)) is None
