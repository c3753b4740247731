"""Crash recovery: heartbeat while training, stalled runs re-dispatched by the beat task, orphaned
artefacts of a dead worker removed on takeover, settings aligned with the broker."""
from datetime import timedelta

import pytest
from django.utils import timezone

from learner.models import ModelVersion, RunStatus, TrainingRun
from learner.recovery import orphaned_artifacts_remove, stalled_runs, training_runs_recover
from learner.services import training_run_create
from learner.training import _claim
from tests.factories import learner_project

pytestmark = pytest.mark.django_db


def test_takeover_is_within_two_minutes_and_the_broker_waits_out_a_whole_run(settings):
    from django.conf import settings as live

    assert live.LEARNER_TAKEOVER_SECONDS + live.LEARNER_RECOVERY_INTERVAL_SECONDS <= 120
    assert live.LEARNER_HEARTBEAT_SECONDS * 3 <= live.LEARNER_TAKEOVER_SECONDS
    assert live.CELERY_TASK_ACKS_LATE and live.CELERY_TASK_REJECT_ON_WORKER_LOST


def test_redis_visibility_timeout_outlasts_the_run_time_limit(monkeypatch):
    import importlib

    import parity.settings.base as base

    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    reloaded = importlib.reload(base)
    try:
        assert reloaded.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > reloaded.CELERY_TASK_TIME_LIMIT
    finally:
        monkeypatch.delenv("CELERY_BROKER_URL")
        importlib.reload(base)


def test_beat_schedule_runs_recovery_every_thirty_seconds():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="learner.recover_stalled_runs")
    assert task.enabled and task.interval.period == "seconds" and task.interval.every <= 30


def test_only_runs_with_a_stopped_heartbeat_are_redispatched(django_capture_on_commit_callbacks, monkeypatch):
    project, _ = learner_project(("hau_Latn",), labeled=10)
    live = training_run_create(project=project, dispatch=False)
    dead = training_run_create(project=project, dispatch=False)
    queued = training_run_create(project=project, dispatch=False)
    _claim(live.pk)
    _claim(dead.pk)
    TrainingRun.objects.filter(pk=dead.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=91))
    assert list(stalled_runs()) == [dead]
    sent = []
    from learner import tasks

    monkeypatch.setattr(tasks.train_model, "apply_async", lambda args, queue: sent.append(args[0]))
    with django_capture_on_commit_callbacks(execute=True):
        assert training_runs_recover() == [dead.pk]
    assert sent == [dead.pk] and queued.pk not in sent


def test_redispatched_run_finishes_once(django_capture_on_commit_callbacks):
    """The beat task's message trains the stalled run; the dead worker's late redelivery does nothing."""
    from learner.tasks import recover_stalled_runs, train_model

    project, _ = learner_project(("hau_Latn",), labeled=20)
    run = training_run_create(project=project, dispatch=False)
    _claim(run.pk)
    TrainingRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        recover_stalled_runs.apply(throw=True)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.model_versions.count() == 1
    train_model.apply(args=[run.pk], throw=True)  # the old message, redelivered after the visibility timeout
    assert ModelVersion.objects.filter(training_run=run).count() == 1


def test_takeover_removes_the_dead_workers_half_uploaded_folder(settings):
    import os

    from learner.artifacts import artifact_storage

    project, _ = learner_project(("hau_Latn",), labeled=20)
    run = training_run_create(project=project, dispatch=False)
    _claim(run.pk)
    storage = artifact_storage()
    orphan = storage.save(f"models/{project.slug}/hau_Latn/deadbeef/adapter.bin", _content(b"half"))
    fresh = storage.save(f"models/{project.slug}/hau_Latn/cafe/adapter.bin", _content(b"live upload"))
    old = (timezone.now() - timedelta(minutes=10)).timestamp()
    os.utime(storage.path(orphan), (old, old))
    TrainingRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    _claim(run.pk)  # taken over
    assert not storage.exists(orphan) and not os.path.exists(os.path.dirname(storage.path(orphan)))
    assert storage.exists(fresh)  # a folder written just now may belong to a live run: kept
    run.refresh_from_db()
    assert orphaned_artifacts_remove(run=run) == []


def _content(data: bytes):
    from django.core.files.base import ContentFile

    return ContentFile(data)


def test_heartbeat_thread_keeps_a_long_fit_alive(transactional_db, settings):
    import time

    from learner.recovery import heartbeat

    settings.LEARNER_HEARTBEAT_SECONDS = 0.2
    project, _ = learner_project(("hau_Latn",), labeled=5)
    run = training_run_create(project=project, dispatch=False)
    _claim(run.pk)
    stale = timezone.now() - timedelta(hours=1)
    TrainingRun.objects.filter(pk=run.pk).update(heartbeat_at=stale)
    with heartbeat(run.pk):
        time.sleep(1.0)  # a fit step that reports no progress
    run.refresh_from_db()
    assert run.heartbeat_at > stale + timedelta(minutes=59)
