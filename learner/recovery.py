"""Crash recovery of training runs: a heartbeat while a run trains, and a beat task that hands a run
whose heartbeat stopped to another worker within ``LEARNER_TAKEOVER_SECONDS``.

Why not rely on the broker alone: with ``acks_late`` a killed worker's message comes back only after
the broker's visibility timeout, which must exceed the longest run (else a live run would be
delivered twice), i.e. hours. The heartbeat lease says within seconds that nobody works on the run;
``recover_stalled_runs`` (celery beat, every ``LEARNER_RECOVERY_INTERVAL_SECONDS``) re-dispatches it;
the lease in ``learner.services._claim`` makes sure only one worker trains it, and the late
redelivery of the dead worker's message finds the run finished and does nothing.
"""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from learner.models import ModelVersion, RunStatus, TrainingRun

logger = logging.getLogger(__name__)


def heartbeat_seconds() -> float:
    return float(getattr(settings, "LEARNER_HEARTBEAT_SECONDS", 15))


def takeover_seconds() -> float:
    return float(getattr(settings, "LEARNER_TAKEOVER_SECONDS", 90))


@contextmanager
def heartbeat(run_id: int):
    """Keep ``heartbeat_at`` fresh from a side thread while the body trains (a long fit step reports no
    progress). Inside an outer transaction (tests, a caller's atomic block) other workers cannot see
    the run anyway, so no thread is started."""
    if connection.in_atomic_block:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(heartbeat_seconds()):
                TrainingRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(heartbeat_at=timezone.now())
        except Exception:  # a lost database connection must not kill the training itself
            logger.exception("heartbeat of training run %s stopped", run_id)
        finally:
            connections.close_all()

    thread = threading.Thread(target=beat, name=f"run-{run_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=heartbeat_seconds() + 5)


def stalled_runs():
    """RUNNING runs whose worker stopped beating more than LEARNER_TAKEOVER_SECONDS ago."""
    cutoff = timezone.now() - timedelta(seconds=takeover_seconds())
    return TrainingRun.objects.filter(status=RunStatus.RUNNING, heartbeat_at__lt=cutoff)


def training_runs_recover() -> list[int]:
    """Re-dispatch every stalled run (the beat task). Sending twice is harmless: the lease lets one
    delivery train and makes the others wait, then find the run finished."""
    from django.db import transaction

    from learner.services import training_queue
    from learner.tasks import train_model

    ids = list(stalled_runs().values_list("pk", flat=True))
    queue = training_queue() if ids else None
    for run_id in ids:
        logger.warning("training run %s: heartbeat stopped, re-dispatching", run_id)
        TrainingRun.objects.filter(pk=run_id).update(message="worker stopped; handed to another worker")
        transaction.on_commit(lambda run_id=run_id: train_model.apply_async(args=[run_id], queue=queue))
    return ids


def orphaned_artifacts_remove(*, run: TrainingRun) -> list[str]:
    """After a takeover: model folders of the run's languages that no model version points at, left
    by the dead worker mid-upload. Only folders older than the takeover threshold go, so a live run
    of the same language that is uploading right now keeps its files."""
    from learner.artifacts import artifact_storage

    storage = artifact_storage()
    referenced = set(ModelVersion.objects.filter(project=run.project).values_list("adapter_path", flat=True))
    cutoff = timezone.now() - timedelta(seconds=takeover_seconds())
    removed = []
    for language in run.languages.all():
        prefix = f"models/{run.project.slug}/{language.tag}"
        try:
            folders, _ = storage.listdir(prefix)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for folder in folders:
            location = f"{prefix}/{folder}"
            if location in referenced:
                continue
            files = list(_walk(storage, location))
            if files and max(storage.get_modified_time(name) for name in files) > cutoff:
                continue
            for name in files:
                storage.delete(name)
            _remove_empty_dirs(storage, location)
            removed.append(location)
    return removed


def _walk(storage, location: str):
    folders, files = storage.listdir(location)
    for name in files:
        yield f"{location}/{name}"
    for folder in folders:
        yield from _walk(storage, f"{location}/{folder}")


def _remove_empty_dirs(storage, location: str) -> None:
    """Filesystem storage keeps empty folders behind; object stores have none."""
    import os

    path = getattr(storage, "path", None)
    if path is None:
        return
    try:
        root = path(location)
    except NotImplementedError:
        return
    for current, _dirs, _files in sorted(os.walk(root), key=lambda entry: -len(entry[0])):
        try:
            os.rmdir(current)
        except OSError:
            pass
