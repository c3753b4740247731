"""Control statistics leave the submit request: one coalesced background job per pool member.

The submit path stores the control answer (its correctness read off the gold label at write time) and
asks for ``evaluators.control_statistics`` once the transaction commits; the job counts the gold
exposure, replays the rolling window answer by answer and suspends at the same answer, with the same
numbers, as the in-request check did.
"""
from __future__ import annotations

import random
import threading

import pytest
from django.db import connection

from annotation.services import annotation_submit, assignment_next
from evaluators import services
from evaluators.models import ControlAnswer, GoldExposure, MembershipEvent, Notification, PoolMembership
from evaluators.selectors import control_accuracy
from evaluators.services import control_statistics_run, control_statistics_sweep
from evaluators.tasks import control_statistics
from tests import factories as f
from tests.annotation.test_concurrency import _require_postgresql

pytestmark = pytest.mark.django_db
State = PoolMembership.State
WINDOW, MIN_ANSWERS, FLOOR = 5, 4, 0.6
GOLD, WRONG = "politics", "sports"


def _setup(users: int = 1, controls: int = 12):
    project = f.ProjectFactory(overlap=1)
    lang = f.language()
    f.published_guideline(project)
    pool = f.pool(project, lang, control_rate=1.0, control_window=WINDOW, control_min_answers=MIN_ANSWERS,
                  accuracy_floor=FLOOR, gold_max_exposure=1000)
    f.pool_admin(pool, email="pool-admin@example.org")
    members = [f.qualified_evaluator(project, lang) for _ in range(users)]
    for _ in range(controls):
        f.ItemFactory(project=project, language=lang, is_control=True, reference_label=GOLD)
    for _ in range(20):  # controls are mixed into real work only
        f.ItemFactory(project=project, language=lang)
    return pool, members


def _answer(user, correct: bool, key: str):
    assignment = assignment_next(evaluator=user)
    assert assignment is not None and assignment.is_control
    return annotation_submit(evaluator=user, assignment_id=assignment.pk, label=GOLD if correct else WRONG,
                             idempotency_key=key)


def _membership(pool, user) -> PoolMembership:
    return PoolMembership.objects.get(pool=pool, user=user)


def _old_inline_decision(sequence: list[bool]) -> tuple[int, str] | None:
    """The rule the submit request applied before (control_accuracy_enforce after each answer): the
    answer number at which a qualified member is suspended, and the reason's numbers."""
    for n in range(1, len(sequence) + 1):
        recent = sequence[:n][-WINDOW:]
        accuracy = sum(recent) / len(recent)
        if len(recent) >= MIN_ANSWERS and accuracy < FLOOR:
            return n, f"control accuracy {accuracy:.0%} over the last {len(recent)} control items"
    return None


SEQUENCES = [
    [True, True, True, False, False, False, True, True],   # 40% at the 6th answer
    [False, False, False, False, True, True, True, True],  # 0% at the 4th: the minimum, not the window
    [True, True, True, False, False, True, True, True],    # never under 60% (exactly 60% is not under)
    [True, False, True, False, True, False, False, True, True, True],
] + [[random.Random(seed).random() < 0.62 for _ in range(10)] for seed in range(6)]


@pytest.mark.parametrize("sequence", SEQUENCES)
def test_the_background_job_decides_as_the_inline_check_did(sequence, django_capture_on_commit_callbacks):
    pool, (inline_user, batched_user) = _setup(users=2)
    expected = _old_inline_decision(sequence)

    # Inline-equivalent: the job runs after every single answer (what the request used to do).
    suspended_after = None
    for n, correct in enumerate(sequence, start=1):
        with django_capture_on_commit_callbacks(execute=True):
            _answer(inline_user, correct, f"inline-{n}")
        if _membership(pool, inline_user).state == State.SUSPENDED:
            suspended_after = n
            break
    # Batched: every answer is stored first (as when the job is a few seconds behind), then one job.
    with django_capture_on_commit_callbacks(execute=False):
        answers = [_answer(batched_user, correct, f"batched-{n}") for n, correct in enumerate(sequence, start=1)]
    membership = _membership(pool, batched_user)
    assert membership.state == State.QUALIFIED  # nothing decided inside the requests
    assert not ControlAnswer.objects.filter(membership=membership, scored=True).exists()
    result = control_statistics_run(membership_id=membership.pk)
    membership.refresh_from_db()

    assert result.scored == len(sequence)
    if expected is None:
        assert suspended_after is None and result.suspended_at is None and membership.state == State.QUALIFIED
        assert not MembershipEvent.objects.filter(to_state="suspended").exists()
        return
    at, numbers = expected
    assert suspended_after == at  # the job after each answer: the same answer count as the old rule
    trigger = ControlAnswer.objects.get(annotation=answers[at - 1])
    assert result.suspended_at == trigger.pk  # batched: suspended at the same answer, not at the last one
    assert membership.state == State.SUSPENDED
    reasons = list(MembershipEvent.objects.filter(to_state="suspended").values_list("reason", flat=True))
    assert len(reasons) == 2 and all(numbers in reason for reason in reasons)  # same accuracy, same count
    assert Notification.objects.filter(kind=Notification.Kind.SUSPENSION).count() == 2
    assert assignment_next(evaluator=batched_user) is None  # suspended: its leases went back, no more work


def test_the_submit_only_stores_the_answer(django_capture_on_commit_callbacks):
    pool, (user,) = _setup()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for n in range(4):
            _answer(user, False, f"k{n}")
    membership = _membership(pool, user)
    answers = list(ControlAnswer.objects.filter(membership=membership).order_by("id"))
    assert [(a.correct, a.scored) for a in answers] == [(False, False)] * 4  # correctness stored at write time
    assert control_accuracy(membership=membership).total == 4  # the console reads the stored answers at once
    assert not GoldExposure.objects.exists() and membership.state == State.QUALIFIED  # counted later
    for callback in callbacks:  # the commit hands the statistics to the job (coalesced: it runs once)
        callback()
    membership.refresh_from_db()
    assert membership.state == State.SUSPENDED
    assert ControlAnswer.objects.filter(membership=membership, scored=False).count() == 0
    assert sorted(GoldExposure.objects.values_list("times_shown", flat=True)) == [1, 1, 1, 1]


def test_a_redelivered_job_does_not_count_twice(django_capture_on_commit_callbacks):
    pool, (user,) = _setup()
    with django_capture_on_commit_callbacks(execute=False):
        for n in range(3):
            _answer(user, n == 0, f"k{n}")
    membership = _membership(pool, user)
    assert control_statistics.apply(args=[membership.pk]).get() == 3
    assert control_statistics.apply(args=[membership.pk]).get() == 0  # redelivered after it finished
    assert sorted(GoldExposure.objects.values_list("times_shown", flat=True)) == [1, 1, 1]
    assert ControlAnswer.objects.filter(scored=True).count() == 3


def test_a_job_that_crashes_half_way_leaves_nothing_counted(monkeypatch, django_capture_on_commit_callbacks):
    pool, (user,) = _setup()
    with django_capture_on_commit_callbacks(execute=False):
        for n in range(4):
            _answer(user, False, f"k{n}")
    membership = _membership(pool, user)
    real, calls = services.gold_exposure_count, []

    def dies_on_the_third(**kwargs):
        calls.append(kwargs)
        if len(calls) == 3:
            raise SystemExit("worker killed")  # after two exposures were written in the job's transaction
        return real(**kwargs)

    monkeypatch.setattr(services, "gold_exposure_count", dies_on_the_third)
    with pytest.raises(SystemExit):
        control_statistics_run(membership_id=membership.pk)
    assert not GoldExposure.objects.filter(times_shown__gt=0).exists()  # rolled back with the job
    assert ControlAnswer.objects.filter(scored=False).count() == 4
    monkeypatch.setattr(services, "gold_exposure_count", real)
    result = control_statistics_run(membership_id=membership.pk)  # the broker delivers it again (acks_late)
    assert result.scored == 4
    assert sorted(GoldExposure.objects.values_list("times_shown", flat=True)) == [1, 1, 1, 1]
    membership.refresh_from_db()
    assert membership.state == State.SUSPENDED
    assert MembershipEvent.objects.filter(membership=membership, to_state="suspended").count() == 1


def test_a_burst_of_answers_queues_one_job_per_member(monkeypatch, django_capture_on_commit_callbacks):
    pool, (first, second) = _setup(users=2)
    sent = []
    monkeypatch.setattr(control_statistics, "apply_async", lambda args, countdown: sent.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            _answer(first, True, f"a{n}")
            _answer(second, True, f"b{n}")
    one, two = _membership(pool, first), _membership(pool, second)
    assert sorted(sent) == sorted([[one.pk], [two.pk]])  # six answers, one pending job per member
    assert control_statistics(*sent[0]) == 3  # the worker runs it: the mark is cleared
    with django_capture_on_commit_callbacks(execute=True):
        _answer(first if sent[0] == [one.pk] else second, True, "again")
    assert len(sent) == 3  # after that job started, a new answer asks for the next one


def test_a_broker_outage_keeps_the_submission_and_the_sweep_counts(monkeypatch, django_capture_on_commit_callbacks):
    pool, (user,) = _setup()

    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(control_statistics, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(4):
            _answer(user, False, f"k{n}")  # every submit succeeds; each retries the dispatch (mark cleared)
    membership = _membership(pool, user)
    assert membership.state == State.QUALIFIED and ControlAnswer.objects.filter(scored=False).count() == 4
    assert control_statistics_sweep() == 0  # fresh answers are left to their own jobs
    assert control_statistics_sweep(older_than_s=0) == 1
    membership.refresh_from_db()
    assert membership.state == State.SUSPENDED and not ControlAnswer.objects.filter(scored=False).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_jobs_for_one_member_count_each_answer_once(monkeypatch):
    _require_postgresql()
    monkeypatch.setattr(control_statistics, "apply_async", lambda args, countdown: None)  # the workers below
    pool, (user,) = _setup()
    for n in range(6):
        _answer(user, n % 2 == 0, f"k{n}")
    membership = _membership(pool, user)
    barrier, results, errors = threading.Barrier(3), [], []

    def run():
        try:
            barrier.wait()
            results.append(control_statistics_run(membership_id=membership.pk).scored)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(results) == [0, 0, 6]  # the row lock serialises them; the later ones find nothing left
    assert sorted(GoldExposure.objects.values_list("times_shown", flat=True)) == [1] * 6


def test_the_submit_response_does_not_depend_on_the_answer_being_right(django_capture_on_commit_callbacks):
    """Correctness is stored at write time, but nothing the evaluator receives changes with it."""
    from rest_framework.test import APIClient

    pool, (user,) = _setup()
    client = APIClient()
    client.force_authenticate(user)
    bodies = []
    for n, label in enumerate([GOLD, WRONG]):
        lease = client.post("/api/assignments/next/", {}, format="json").json()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/api/assignments/{lease['id']}/submit/",
                                   {"label": label, "idempotency_key": f"k{n}"}, format="json")
        assert response.status_code == 201
        bodies.append(response.json())
    assert [a.correct for a in ControlAnswer.objects.order_by("id")] == [True, False]
    keys = {"id", "assignment", "item", "label", "created_at", "updated_at"}
    assert [{k: v for k, v in body.items() if k not in keys} for body in bodies] == [
        {k: v for k, v in bodies[0].items() if k not in keys}
    ] * 2  # the same guideline version, time spent and editable flag for a right and a wrong answer
