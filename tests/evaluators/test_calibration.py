import random
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from evaluators.models import CalibrationAttempt, CalibrationItem, MembershipEvent, Notification, PoolMembership
from evaluators.services import (
    CalibrationNotAllowed,
    calibration_allowance,
    calibration_attempt_start,
    calibration_attempt_submit,
    guideline_draft,
    guideline_publish,
)
from tests import factories as f

pytestmark = pytest.mark.django_db
State = PoolMembership.State


@pytest.fixture
def pool():
    project = f.ProjectFactory()
    f.published_guideline(project)
    pool = f.pool(project, pass_mark=0.8, max_attempts=2, retry_cooldown_hours=24)
    f.calibration_round(pool)
    return pool


def answers_for(attempt, n_wrong=0):
    gold = dict(CalibrationItem.objects.filter(pk__in=attempt.item_order).values_list("id", "reference_label"))
    answers = {}
    for position, item_id in enumerate(attempt.item_order):
        label = gold[item_id]
        if position < n_wrong:
            label = next(t for t in f.TOPICS if t != label)
        answers[item_id] = label
    return answers


def test_pass_qualifies_with_accuracy_and_kappa(pool):
    membership = f.member(pool)
    attempt = calibration_attempt_start(user=membership.user, pool=pool)
    membership.refresh_from_db()
    assert membership.state == State.CALIBRATING
    attempt = calibration_attempt_submit(user=membership.user, attempt_id=attempt.pk, answers=answers_for(attempt, 1))
    assert attempt.status == CalibrationAttempt.Status.PASSED
    assert attempt.accuracy == pytest.approx(0.9)
    assert 0.8 < attempt.kappa < 0.9  # 1 of 10 wrong over three balanced labels
    membership.refresh_from_db()
    assert membership.state == State.QUALIFIED
    assert "passed calibration attempt 1: accuracy 90%" in membership.events.last().reason
    with pytest.raises(CalibrationNotAllowed, match="qualified member cannot"):
        calibration_attempt_start(user=membership.user, pool=pool)


def test_fail_shows_mistakes_cooldown_then_max_attempts(pool):
    membership = f.member(pool)
    user, now = membership.user, timezone.now()
    first = calibration_attempt_start(user=user, pool=pool, now=now)
    assert calibration_attempt_start(user=user, pool=pool, now=now) == first  # resumed, not a new attempt
    first = calibration_attempt_submit(user=user, attempt_id=first.pk, answers=answers_for(first, 3), now=now)
    assert first.status == CalibrationAttempt.Status.FAILED and first.accuracy == pytest.approx(0.7)
    mistakes = first.answers.filter(correct=False).select_related("item")
    assert len(mistakes) == 3 and all(m.item.explanation.startswith("because") for m in mistakes)
    membership.refresh_from_db()
    assert membership.state == State.CALIBRATING
    assert "1 attempt(s) left" in MembershipEvent.objects.filter(membership=membership).last().reason

    with pytest.raises(CalibrationNotAllowed) as refused:
        calibration_attempt_start(user=user, pool=pool, now=now + timedelta(hours=23))
    assert refused.value.retry_at == first.submitted_at + timedelta(hours=24)

    later = now + timedelta(hours=25)
    # The bank of 10 was used up by the first attempt: the retry waits for gold, and the admins hear of it.
    with pytest.raises(CalibrationNotAllowed, match="must add gold") as refused:
        calibration_attempt_start(user=user, pool=pool, now=later)
    assert refused.value.exhausted
    assert Notification.objects.filter(membership=membership, subject__startswith="Add gold").count() == 1
    assert calibration_allowance(membership=membership, now=later).bank_exhausted
    round_ = first.round
    CalibrationItem.objects.bulk_create(
        CalibrationItem(round=round_, text=f"new gold {i}", reference_label=f.TOPICS[i % 3]) for i in range(10)
    )
    second = calibration_attempt_start(user=user, pool=pool, now=later)
    assert second.number == 2
    assert not set(second.item_order) & set(first.item_order)
    calibration_attempt_submit(user=user, attempt_id=second.pk, answers=answers_for(second, 5), now=later)
    allowance = calibration_allowance(membership=membership, now=later + timedelta(days=3))
    assert (allowance.used, allowance.left) == (2, 0)
    with pytest.raises(CalibrationNotAllowed, match="all 2 calibration attempts have been used"):
        calibration_attempt_start(user=user, pool=pool, now=later + timedelta(days=3))


def test_submission_is_validated_and_only_once(pool):
    membership = f.member(pool)
    attempt = calibration_attempt_start(user=membership.user, pool=pool)
    answers = answers_for(attempt)
    some_item = attempt.item_order[0]
    with pytest.raises(ValidationError, match="answers missing"):
        calibration_attempt_submit(user=membership.user, attempt_id=attempt.pk, answers={some_item: "sports"})
    with pytest.raises(ValidationError, match="unknown labels"):
        calibration_attempt_submit(
            user=membership.user, attempt_id=attempt.pk, answers={**answers, some_item: "cooking"}
        )
    with pytest.raises(CalibrationAttempt.DoesNotExist):
        calibration_attempt_submit(user=f.UserFactory(), attempt_id=attempt.pk, answers=answers)
    calibration_attempt_submit(user=membership.user, attempt_id=attempt.pk, answers=answers)
    with pytest.raises(ValidationError, match="already submitted"):
        calibration_attempt_submit(user=membership.user, attempt_id=attempt.pk, answers=answers)


def test_suspended_removed_and_outsiders_cannot_calibrate(pool):
    for state in (State.SUSPENDED, State.REMOVED):
        with pytest.raises(CalibrationNotAllowed):
            calibration_attempt_start(user=f.member(pool, state=state).user, pool=pool)
    with pytest.raises(CalibrationNotAllowed, match="not a member"):
        calibration_attempt_start(user=f.UserFactory(), pool=pool)


def test_new_major_needs_a_round_for_that_major_and_resets_attempts(pool):
    membership = f.member(pool, state=State.QUALIFIED)
    guideline_publish(version=guideline_draft(project=pool.project, body="v2", bump="major"))
    membership.refresh_from_db()
    assert membership.state == State.CALIBRATING
    with pytest.raises(ValidationError, match="no active calibration round"):
        calibration_attempt_start(user=membership.user, pool=pool)
    round_v2 = f.calibration_round(pool)
    assert round_v2.guideline_major == 2
    attempt = calibration_attempt_start(user=membership.user, pool=pool)
    assert attempt.round == round_v2 and attempt.number == 1


def test_item_order_is_random_per_attempt_and_independent_of_gold():
    project = f.ProjectFactory()
    f.published_guideline(project)
    pool = f.pool(project, gold_max_exposure=1000)
    # Items created sorted by gold label: any label-driven order would show up as a position bias.
    golds = [(f"p{i}", "politics", "") for i in range(6)] + [(f"s{i}", "sports", "") for i in range(6)]
    round_ = f.calibration_round(pool, golds, items_per_attempt=12)
    politics = set(round_.items.filter(reference_label="politics").values_list("id", flat=True))
    rng = random.Random(1234)
    orders, politics_positions = set(), []
    for _ in range(40):
        attempt = calibration_attempt_start(user=f.member(pool).user, pool=pool, rng=rng)
        # The stored draw is exactly the per-attempt seed's sample of the sorted ids: labels play no part.
        expected = random.Random(attempt.seed).sample(sorted(attempt.item_order), len(attempt.item_order))
        assert attempt.item_order == expected
        orders.add(tuple(attempt.item_order))
        politics_positions += [pos for pos, item in enumerate(attempt.item_order) if item in politics]
    assert len(orders) == 40
    mean_position = sum(politics_positions) / len(politics_positions)
    assert 4.5 < mean_position < 6.5  # 5.5 expected; a gold-sorted order would give 2.5
    assert len({a.seed for a in CalibrationAttempt.objects.all()}) == 40


def test_gold_items_shown_too_often_are_flagged(pool):
    pool.gold_max_exposure = 2
    pool.save()
    for _ in range(2):
        calibration_attempt_start(user=f.member(pool).user, pool=pool)
    items = CalibrationItem.objects.filter(round__pool=pool)
    assert all(item.times_shown == 2 and item.retire_flagged_at is not None for item in items)
