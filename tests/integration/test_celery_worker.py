"""A training run queued through a real Redis broker is picked up by a real celery worker process."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from annotation.models import ApprovedLabel, Item
from learner.models import ModelVersion, RunStatus
from learner.services import training_run_create
from tests.factories import ItemFactory, ProjectFactory, language

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def worker(postgres_db, redis_broker, tmp_path):
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "parity.settings.test", "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": redis_broker, "CELERY_TASK_ALWAYS_EAGER": "false",
        "ARTIFACT_ROOT": str(tmp_path / "artifacts"), "PYTHONUNBUFFERED": "1",
    }
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "parity", "worker", "-Q", "default", "--pool", "solo",
         "-l", "info", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    yield {"artifacts": tmp_path / "artifacts", "log": tmp_path / "worker.log", "process": process}
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def _approved_items(project, lang, n=24):
    labels = ["politics", "sports", "health"]
    words = {"politics": "vote parliament law", "sports": "goal match team", "health": "doctor fever clinic"}
    for i in range(n):
        label = labels[i % 3]
        item = ItemFactory(project=project, language=lang, text=f"{words[label]} number {i}",
                           status=Item.Status.APPROVED)
        ApprovedLabel.objects.create(item=item, label=label, method=ApprovedLabel.Method.MAJORITY)


def test_training_run_queued_through_redis_completes(worker, redis_broker, settings):
    from parity.celery import app

    lang = language("hau_Latn")
    project = ProjectFactory(labels=["politics", "sports", "health"])
    project.languages.set([lang])
    _approved_items(project, lang)
    run = training_run_create(project=project, languages=[lang], backend="ngram", dispatch=False)

    from learner.tasks import train_model

    with app.connection_for_write(redis_broker) as conn:
        eager = app.conf.task_always_eager
        app.conf.task_always_eager = False
        try:
            train_model.apply_async(args=[run.pk], connection=conn, queue="default")
        finally:
            app.conf.task_always_eager = eager

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
            break
        assert worker["process"].poll() is None, worker["log"].read_text()[-3000:]
        time.sleep(0.5)
    log = worker["log"].read_text()
    assert run.status == RunStatus.SUCCEEDED, f"run {run.status}: {run.message}\n{log[-3000:]}"
    assert "learner.train_model" in log and "succeeded" in log  # it really ran in the worker process
    version = ModelVersion.objects.get(training_run=run)
    assert version.status == ModelVersion.Status.CHAMPION
    assert (worker["artifacts"] / version.adapter_path / "config.json").exists()
