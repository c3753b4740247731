"""The beat sweep reads only the project × language pairs changed since its durable watermark.

It used to run a DISTINCT over every regular annotation every minute. Now a ``SweepWatermark`` row holds
when the last completed sweep started; the next one reads labels updated since then (minus an overlap),
plus the pairs it carried because their snapshot was not due yet, and goes over everything on its first
run and once per ``AGGREGATION_SWEEP_FULL_S``. None of that may miss a pair.
"""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from annotation import services
from annotation.models import AgreementSnapshot, Annotation, Item, Project, SweepWatermark
from annotation.services import SWEEP_NAME, aggregation_sweep, annotation_submit, assignment_next
from tests.annotation.conftest import make_setup

pytestmark = pytest.mark.django_db


def _lost(user, label="sports"):
    """Submit a label whose aggregation job never reaches the broker (the commit hooks do not run)."""
    from django.test import TestCase

    lease = assignment_next(evaluator=user)
    with TestCase.captureOnCommitCallbacks(execute=False):
        return annotation_submit(evaluator=user, assignment_id=lease.pk, label=label,
                                 idempotency_key=uuid.uuid4().hex)


def _open(setup) -> int:
    return Item.objects.filter(project=setup.project, status=Item.Status.OPEN).count()


def test_the_first_run_without_a_watermark_covers_every_pair():
    one, two = make_setup(overlap=1, evaluators=1, items=2), make_setup(overlap=1, evaluators=1, items=1,
                                                                        tag="swh_Latn")
    for setup in (one, two):
        _lost(setup.evaluators[0])
    assert not SweepWatermark.objects.exists()
    result = aggregation_sweep()
    assert (result["decided"], result["pairs"], result["full"]) == (2, 2, 1)
    assert _open(one) == 1 and _open(two) == 0  # one's second item has no label yet
    mark = SweepWatermark.objects.get(name=SWEEP_NAME)
    assert mark.value is not None and mark.full_at == mark.value and mark.pending == []


def test_later_sweeps_read_only_the_pairs_that_changed(settings):
    settings.AGGREGATION_SWEEP_OVERLAP_S = 0  # the labels below are seconds apart; see the next test
    one, two = make_setup(overlap=1, evaluators=1, items=2), make_setup(overlap=1, evaluators=1, items=2,
                                                                        tag="swh_Latn")
    for setup in (one, two):
        _lost(setup.evaluators[0])
    assert aggregation_sweep()["pairs"] == 2  # first run: everything
    assert aggregation_sweep() == {"decided": 0, "snapshots": 0, "pairs": 0, "full": 0}  # nothing changed
    _lost(two.evaluators[0])
    result = aggregation_sweep()
    assert (result["decided"], result["pairs"]) == (1, 1)  # only two's pair was read
    assert _open(two) == 0 and _open(one) == 1


def test_a_label_written_during_a_sweep_is_picked_up_by_the_next_one(monkeypatch):
    one = make_setup(overlap=1, evaluators=1, items=1)
    early = make_setup(overlap=1, evaluators=1, items=1, tag="swh_Latn")
    late = make_setup(overlap=1, evaluators=1, items=1, tag="yor_Latn")
    aggregation_sweep()  # the watermark exists: the sweeps below are incremental
    _lost(one.evaluators[0])
    started = timezone.now()
    real_job, written = services.aggregation_job_run, []

    def job_while_submissions_commit(*, project, language):
        if not written:
            # A submission whose row was stamped just before this sweep started commits only now, after
            # the sweep read the changed pairs (its own dispatch is lost) ...
            written.append(_lost(early.evaluators[0]))
            Annotation.objects.filter(pk=written[0].pk).update(updated_at=started - timedelta(seconds=1))
            written.append(_lost(late.evaluators[0]))  # ... and one stamped during the sweep
        return real_job(project=project, language=language)

    monkeypatch.setattr(services, "aggregation_job_run", job_while_submissions_commit)
    result = aggregation_sweep(now=started)
    assert (result["pairs"], result["decided"]) == (1, 1)  # one's pair; the others were not there yet
    assert (_open(early), _open(late)) == (1, 1)
    monkeypatch.setattr(services, "aggregation_job_run", real_job)
    result = aggregation_sweep()
    assert result["decided"] == 2 and (_open(early), _open(late)) == (0, 0)  # nothing missed


def test_a_pair_whose_snapshot_was_not_due_is_carried_until_it_is(settings):
    settings.AGREEMENT_SNAPSHOT_EVERY_LABELS, settings.AGREEMENT_SNAPSHOT_INTERVAL_S = 1000, 900
    setup = make_setup(overlap=1, evaluators=1, items=3)
    _lost(setup.evaluators[0])
    start = timezone.now()
    aggregation_sweep(now=start)
    assert AgreementSnapshot.objects.filter(project=setup.project).count() == 1  # the pair's first snapshot
    _lost(setup.evaluators[0])
    result = aggregation_sweep(now=start + timedelta(seconds=60))
    assert result["decided"] == 1  # decided; the snapshot is not due yet (one label, one minute)
    assert AgreementSnapshot.objects.filter(project=setup.project).count() == 1
    pair = [setup.project.pk, setup.lang.pk]
    assert SweepWatermark.objects.get(name=SWEEP_NAME).pending == [pair]  # kept durably
    for later in (300, 600):  # once past the overlap, the watermark alone no longer reads the pair
        result = aggregation_sweep(now=start + timedelta(seconds=later))
        assert (result["pairs"], result["snapshots"]) == (1, 0)
    assert SweepWatermark.objects.get(name=SWEEP_NAME).pending == [pair]
    # Twenty minutes after the snapshot, with no new label: the carried pair gets its snapshot.
    result = aggregation_sweep(now=start + timedelta(seconds=1200))
    assert (result["pairs"], result["snapshots"]) == (1, 1)
    assert AgreementSnapshot.objects.filter(project=setup.project).count() == 2
    assert SweepWatermark.objects.get(name=SWEEP_NAME).pending == []
    assert aggregation_sweep(now=start + timedelta(seconds=1260))["pairs"] == 0


def test_a_full_pass_catches_items_made_pending_without_a_new_label(settings):
    settings.AGGREGATION_SWEEP_FULL_S = 3600
    setup = make_setup(overlap=2, evaluators=1, items=1)
    _lost(setup.evaluators[0])
    start = timezone.now()
    assert aggregation_sweep(now=start)["decided"] == 0  # one label of k = 2
    assert aggregation_sweep(now=start + timedelta(seconds=300))["pairs"] == 1  # the overlap reads it once more
    Project.objects.filter(pk=setup.project.pk).update(overlap=1)  # k lowered, no label written
    assert aggregation_sweep(now=start + timedelta(seconds=600))["decided"] == 0  # incremental: not read
    result = aggregation_sweep(now=start + timedelta(seconds=3700))
    assert (result["full"], result["decided"]) == (1, 1)


def test_a_discard_counts_as_a_change(settings):
    settings.AGGREGATION_SWEEP_OVERLAP_S = 0
    setup = make_setup(overlap=1, evaluators=1, items=2)
    annotation = _lost(setup.evaluators[0])
    aggregation_sweep()
    before = Annotation.objects.get(pk=annotation.pk).updated_at
    from evaluators.models import PoolMembership

    membership = PoolMembership.objects.get(user=setup.evaluators[0], pool__project=setup.project)
    services.annotations_discard(membership=membership, since=before - timedelta(minutes=1), reason="spam",
                                 actor=None)
    assert Annotation.objects.get(pk=annotation.pk).updated_at > before
    assert aggregation_sweep()["pairs"] == 1
