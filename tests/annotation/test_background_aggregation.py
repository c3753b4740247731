"""Aggregation leaves the submit request: one coalesced background job per project × language.

The annotator waits only for validate → store → counters; the decision (majority or Dawid–Skene), the
approval and the agreement snapshot happen in ``annotation.aggregate_language`` after the commit, with
the same results the in-request path gave.
"""
from __future__ import annotations

import random
import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import TestCase
from django.utils import timezone

from annotation import services
from annotation.aggregation import dawid_skene
from annotation.models import AgreementSnapshot, Annotation, ApprovedLabel, Item, Project
from annotation.services import (
    _aggregate_items,
    aggregation_sweep,
    agreement_snapshot_if_due,
    annotation_submit,
    assignment_next,
)
from annotation.tasks import aggregate_language
from tests.annotation.conftest import make_setup
from tests.annotation.test_concurrency import _require_postgresql
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db
LABELS = ["sports", "health", "politics"]


def _submit(user, label):
    lease = assignment_next(evaluator=user)
    return annotation_submit(evaluator=user, assignment_id=lease.pk, label=label, idempotency_key=uuid.uuid4().hex)


def test_submit_returns_before_the_item_is_decided(django_capture_on_commit_callbacks):
    setup = make_setup(overlap=2, evaluators=2, items=1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for user in setup.evaluators:
            _submit(user, "sports")
    item = Item.objects.get(project=setup.project)
    assert (item.status, item.annotation_count) == (Item.Status.OPEN, 2)  # counted, not yet decided
    assert not ApprovedLabel.objects.exists()
    for callback in callbacks:  # the commit hands the decision to the background job
        callback()
    item.refresh_from_db()
    assert item.status == Item.Status.APPROVED and item.approved_label.label == "sports"


def test_a_burst_of_completed_items_queues_one_job(monkeypatch, django_capture_on_commit_callbacks):
    setup = make_setup(overlap=1, evaluators=1, items=5)
    sent = []
    monkeypatch.setattr(aggregate_language, "apply_async", lambda args, countdown: sent.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            _submit(setup.evaluators[0], "health")
    assert sent == [[setup.project.pk, setup.lang.pk]]  # five completed items, one pending job
    aggregate_language(*sent[0])  # the worker runs it: every item is decided, the mark is cleared
    assert ApprovedLabel.objects.filter(item__project=setup.project).count() == 5
    with django_capture_on_commit_callbacks(execute=True):
        ItemFactory(project=setup.project, language=setup.lang)
        _submit(setup.evaluators[0], "health")
    assert len(sent) == 2  # after the job started, a new completion asks for the next one


def test_a_broker_outage_keeps_the_submission_and_the_sweep_decides(monkeypatch, django_capture_on_commit_callbacks):
    setup = make_setup(overlap=1, evaluators=1, items=2)

    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(aggregate_language, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        _submit(setup.evaluators[0], "sports")
    assert Annotation.objects.count() == 1  # stored though the job could not be queued
    assert cache.get(services._pending_key(setup.project.pk, setup.lang.pk)) is None  # not stuck as pending
    assert aggregation_sweep()["decided"] == 1
    assert Item.objects.filter(status=Item.Status.APPROVED).count() == 1
    assert aggregation_sweep()["decided"] == 0  # idempotent


@pytest.mark.parametrize("aggregation", [Project.Aggregation.MAJORITY, Project.Aggregation.DAWID_SKENE])
def test_background_results_equal_the_in_request_results(aggregation, django_capture_on_commit_callbacks):
    """The same votes decided the old way (inside each submit) and the new way give the same labels."""
    rng = random.Random(7)
    votes = [[rng.choice(LABELS) if rng.random() < 0.3 else LABELS[i % 3] for _ in range(3)] for i in range(30)]
    outcomes = []
    for background in (False, True):
        setup = make_setup(overlap=3, evaluators=3, items=len(votes), aggregation=aggregation)
        items = list(Item.objects.filter(project=setup.project).order_by("id"))
        by_pk = {item.pk: i for i, item in enumerate(items)}
        with django_capture_on_commit_callbacks(execute=background):
            for j, user in enumerate(setup.evaluators):
                for _ in items:
                    lease = assignment_next(evaluator=user)
                    annotation_submit(evaluator=user, assignment_id=lease.pk, label=votes[by_pk[lease.item_id]][j],
                                      idempotency_key=uuid.uuid4().hex)
        if not background:  # today's path: every item decided by itself, as soon as it has k labels
            for item in Item.objects.filter(project=setup.project).order_by("id"):
                item.project = setup.project
                _aggregate_items(project=setup.project, language_id=setup.lang.pk, items=[item])
        outcomes.append([
            (item.status, getattr(ApprovedLabel.objects.filter(item=item).first(), "label", None), item.review_reason)
            for item in Item.objects.filter(project=setup.project).order_by("id")
        ])
    assert outcomes[0] == outcomes[1]
    assert {status for status, _, _ in outcomes[1]} >= {Item.Status.APPROVED}


def _reference_dawid_skene(rows, only):
    """The wrapper as it was: one scan of the frame per task (kept here to compare results)."""
    import pandas as pd
    from crowdkit.aggregation import DawidSkene

    frame = pd.DataFrame(rows, columns=["task", "worker", "label"])
    probas = DawidSkene(n_iter=100).fit(frame).probas_
    out = {}
    for task in set(only) & set(frame["task"]):
        votes = frame.loc[frame["task"] == task, "label"].tolist()
        row = probas.loc[task].sort_values(ascending=False)
        top, second = float(row.iloc[0]), float(row.iloc[1])
        out[int(task)] = (None if abs(top - second) < 1e-6 else str(row.index[0]), top, len(set(votes)) == 1)
    return out


def test_vectorised_dawid_skene_verdicts_match_the_per_task_reading():
    rng = random.Random(3)
    rows = []
    for task in range(300):
        truth = rng.choice(LABELS)
        for worker in rng.sample(range(12), 3):
            rows.append((task, worker, truth if rng.random() < 0.75 else rng.choice(LABELS)))
    only = list(range(0, 300, 3)) + [10_000]  # an unknown task is ignored
    got = dawid_skene(rows, only=only)
    expected = _reference_dawid_skene(rows, only)
    assert set(got) == set(expected)
    for task, (label, confidence, unanimous) in expected.items():
        assert (got[task].label, got[task].unanimous) == (label, unanimous)
        assert got[task].confidence == pytest.approx(confidence)


def test_agreement_is_snapshotted_per_n_labels_or_per_window(settings, django_capture_on_commit_callbacks):
    settings.AGREEMENT_SNAPSHOT_EVERY_LABELS = 6
    settings.AGREEMENT_SNAPSHOT_INTERVAL_S = 3600
    setup = make_setup(overlap=2, evaluators=2, items=6)
    for _ in range(6):
        with django_capture_on_commit_callbacks(execute=True):
            for user in setup.evaluators:
                _submit(user, "sports")
    snapshots = list(AgreementSnapshot.objects.filter(project=setup.project, language=setup.lang)
                     .order_by("created_at").values_list("n_ratings", flat=True))
    assert snapshots == [2, 8]  # the first decision, then 6 labels later; not one per item
    assert agreement_snapshot_if_due(project=setup.project, language=setup.lang) is None
    Annotation.objects.filter(item__project=setup.project).update(updated_at=timezone.now() + timedelta(seconds=1))
    later = timezone.now() + timedelta(hours=2)
    snapshot = agreement_snapshot_if_due(project=setup.project, language=setup.lang, now=later)
    assert snapshot is not None and snapshot.n_ratings == 12  # the window passed with changes


@pytest.mark.django_db(transaction=True)
def test_submit_and_next_take_no_lock_on_the_project_row():
    """A transaction holding the project row FOR UPDATE must not stall annotators (PostgreSQL)."""
    _require_postgresql()
    setup = make_setup(overlap=2, evaluators=2, items=3)
    from django.db import connections

    holder = connections.create_connection("default")
    try:
        holder.set_autocommit(False)
        with holder.cursor() as cursor:
            cursor.execute("SELECT id FROM annotation_project WHERE id = %s FOR UPDATE", [setup.project.pk])
            cursor.execute("SELECT id FROM evaluators_pool WHERE project_id = %s FOR UPDATE", [setup.project.pk])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        for user in setup.evaluators:
            with TestCase.captureOnCommitCallbacks(execute=False):  # the aggregation job is not under test here
                _submit(user, "sports")
        assert Annotation.objects.count() == 2
    finally:
        holder.rollback()
        holder.close()
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")


@pytest.mark.django_db(transaction=True)
def test_the_job_and_the_api_aggregate_outside_any_transaction():
    """A celery worker, the beat sweep and the API's aggregate action call the aggregation with no
    transaction open (no test-case wrapper around them); its row locks must bring their own. Found by
    schemathesis as a 500 on POST /api/projects/<slug>/aggregate/ on PostgreSQL."""
    _require_postgresql()
    setup = make_setup(overlap=1, evaluators=1, items=3)
    for label in ("sports", "health", "politics"):
        # each submit commits on its own; its on_commit runs the (eager) job with no transaction open
        _submit(setup.evaluators[0], label)
    assert Item.objects.filter(project=setup.project, status=Item.Status.APPROVED).count() == 3
    Item.objects.filter(project=setup.project).update(status=Item.Status.OPEN)  # as if the job was lost
    ApprovedLabel.objects.filter(item__project=setup.project).delete()
    assert services.aggregation_batch_run(project=setup.project) == 3  # the API's and the admin's call
    assert Item.objects.filter(project=setup.project, status=Item.Status.APPROVED).count() == 3
