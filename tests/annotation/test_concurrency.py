"""The assignment engine under real concurrency (PostgreSQL row locks; SQLite serialises writers).

Runs on PostgreSQL (``DATABASE_URL=postgres://...``). Elsewhere it is skipped with the reason, except
in CI (env ``CI`` set), where a missing PostgreSQL is a failure rather than a silent skip.
"""
from __future__ import annotations

import os
import threading
import uuid
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Count

from annotation.models import Annotation, Assignment, Item
from annotation.services import annotation_submit, assignment_next
from tests.annotation.conftest import make_setup
from tests.factories import ItemFactory

N_THREADS = 24


def _require_postgresql() -> None:
    if connection.vendor != "postgresql":
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the concurrency tests on PostgreSQL, not {connection.vendor}")
        pytest.skip(f"row-lock concurrency needs PostgreSQL (DATABASE_URL); this run uses {connection.vendor}")


def _run_threads(target, args_list) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(args_list))

    def wrapper(*args):
        try:
            barrier.wait(timeout=30)
            target(*args)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrapper, args=args) for args in args_list]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker thread hung"
    return errors


@pytest.mark.django_db(transaction=True)
def test_many_evaluators_never_exceed_k_nor_repeat_an_item():
    _require_postgresql()
    setup = make_setup(overlap=3, evaluators=N_THREADS, items=40)
    project = setup.project

    def work(user):
        idle = 0
        while idle < 3:
            assignment = assignment_next(evaluator=user, project=project)
            if assignment is None:
                idle += 1  # items may be locked by others for a moment: look again
                continue
            idle = 0
            annotation_submit(evaluator=user, assignment_id=assignment.pk, label="sports",
                              idempotency_key=uuid.uuid4().hex)

    errors = _run_threads(work, [(user,) for user in setup.evaluators])
    assert errors == []
    per_item = Counter(Annotation.objects.filter(item__project=project).values_list("item_id", flat=True))
    assert per_item and max(per_item.values()) <= 3
    pairs = Assignment.objects.filter(item__project=project).values("item", "evaluator").annotate(n=Count("id"))
    assert all(row["n"] == 1 for row in pairs)
    for item in Item.objects.filter(project=project):
        assert item.annotation_count == per_item.get(item.pk, 0)
        assert item.active_assignments == 0
    assert sum(per_item.values()) == 40 * 3  # every slot was filled once work ran out


@pytest.mark.django_db(transaction=True)
def test_one_evaluator_in_many_tabs_gets_one_lease():
    _require_postgresql()
    setup = make_setup(overlap=3, evaluators=1, items=10)
    user = setup.evaluators[0]
    leases: list[int] = []

    def grab():
        assignment = assignment_next(evaluator=user)
        leases.append(assignment.pk)

    assert _run_threads(grab, [() for _ in range(N_THREADS)]) == []
    assert len(set(leases)) == 1
    assert Assignment.objects.filter(evaluator=user, status=Assignment.Status.ACTIVE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_racing_retries_of_one_submission_store_one_annotation():
    _require_postgresql()
    setup = make_setup(overlap=3, evaluators=1)
    ItemFactory(project=setup.project, language=setup.lang)
    user = setup.evaluators[0]
    assignment = assignment_next(evaluator=user)
    results: list[int] = []

    def submit():
        results.append(annotation_submit(evaluator=user, assignment_id=assignment.pk, label="health",
                                         idempotency_key="same-key").pk)

    assert _run_threads(submit, [() for _ in range(20)]) == []
    assert len(set(results)) == 1
    assert Annotation.objects.filter(evaluator=user).count() == 1
    assert Item.objects.get(project=setup.project).annotation_count == 1


@pytest.mark.django_db(transaction=True)
def test_identical_uploads_at_once_store_once_and_refuse_the_others(tmp_path):
    from annotation.importing import ImportBusy, items_import

    _require_postgresql()
    setup = make_setup(overlap=1, evaluators=1, items=0)
    path = tmp_path / "same.csv"
    path.write_text("text,language\n" + "".join(f"sentence {n},hau_Latn\n" for n in range(3000)))
    results, busy = [], []

    def upload():
        try:
            results.append(items_import(project=setup.project, path=path))
        except ImportBusy as exc:
            busy.append(exc)

    errors = _run_threads(upload, [()] * 3)
    assert not errors, errors  # no IntegrityError, no 500
    assert Item.objects.filter(project=setup.project).count() == 3000
    assert [r.created for r in results] == [3000] and len(busy) == 2


@pytest.mark.django_db(transaction=True)
def test_the_same_key_committed_for_another_assignment_meanwhile_is_a_conflict_not_an_error(monkeypatch):
    """Two of one evaluator's assignments submitted at once with one idempotency key: the one that inserts
    second meets the unique key of the first (committed after its read under the lock). It is a 409
    (IdempotencyConflict), its transaction leaves nothing behind, and the first stands."""
    from annotation import services
    from annotation.services import IdempotencyConflict, assignments_window

    _require_postgresql()
    setup = make_setup(overlap=3, evaluators=1, items=2)
    user = setup.evaluators[0]
    first, second = assignments_window(evaluator=user, size=2)
    refuse, raced, errors = services._refuse_unless_member, [], []

    def the_other_request():
        try:
            raced.append(annotation_submit(evaluator=user, assignment_id=second.pk, label="health",
                                           idempotency_key="one-key"))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def refuse_then_race(**kwargs):
        membership = refuse(**kwargs)
        if not raced and not errors and kwargs["item"].pk == first.item_id:
            # after the first request's key read, before its insert: the other one runs and commits
            thread = threading.Thread(target=the_other_request)
            thread.start()
            thread.join(timeout=60)
        return membership

    monkeypatch.setattr(services, "_refuse_unless_member", refuse_then_race)
    with pytest.raises(IdempotencyConflict):
        annotation_submit(evaluator=user, assignment_id=first.pk, label="health", idempotency_key="one-key")
    assert errors == [] and len(raced) == 1
    assert list(Annotation.objects.filter(evaluator=user).values_list("assignment_id", flat=True)) == [second.pk]
    first.refresh_from_db()
    assert first.status == Assignment.Status.ACTIVE
    assert Item.objects.get(pk=first.item_id).annotation_count == 0
    assert Item.objects.get(pk=second.item_id).annotation_count == 1
