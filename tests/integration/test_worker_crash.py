"""A worker killed with SIGKILL mid-run on Redis: another worker takes the run over within 2 minutes
(heartbeat + the recover_stalled_runs beat task), the run finishes once, each language's champion
changes at most once, and no model folder is left without its registry row."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from learner.models import ModelVersion, RunStatus, TrainingRun
from learner.services import training_run_create
from tests.factories import ProjectFactory, language
from tests.integration.test_celery_worker import ROOT, _approved_items, _database_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _start_worker(redis_broker, tmp_path, name: str, *, beat: bool):
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "parity.settings.test", "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": redis_broker, "CELERY_TASK_ALWAYS_EAGER": "false",
        "ARTIFACT_ROOT": str(tmp_path / "artifacts"), "PYTHONUNBUFFERED": "1",
        "LEARNER_HEARTBEAT_SECONDS": "1", "LEARNER_TAKEOVER_SECONDS": "6",
    }
    log = (tmp_path / f"{name}.log").open("w")
    command = [sys.executable, "-m", "celery", "-A", "parity", "worker", "-Q", "default", "--pool", "solo",
               "-n", f"{name}@%h", "-l", "info", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    if beat:
        command += ["-B", "--schedule", str(tmp_path / "beat-schedule")]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    return process, log


def _stop(process, log):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    log.close()


def _folders(root: Path) -> set[str]:
    base = root / "models"
    if not base.exists():
        return set()
    return {p.relative_to(root).as_posix() for p in base.glob("*/*/*") if p.is_dir()}


def test_sigkilled_worker_run_is_taken_over_and_finishes_once(postgres_db, redis_broker, tmp_path):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from learner.tasks import train_model
    from parity.celery import app

    langs = [language("hau_Latn"), language("amh_Ethi")]
    project = ProjectFactory(labels=["politics", "sports", "health"])
    project.languages.set(langs)
    for lang in langs:
        _approved_items(project, lang, n=48)
    every, _ = IntervalSchedule.objects.get_or_create(every=2, period=IntervalSchedule.SECONDS)
    # The migration's schedule row, every 2 s here (re-created: earlier transactional tests flush the tables).
    PeriodicTask.objects.update_or_create(
        name="learner: take over training runs whose worker stopped",
        defaults={"task": "learner.recover_stalled_runs", "interval": every, "enabled": True})
    run = training_run_create(project=project, languages=langs, backend="transformer", dispatch=False,
                              # no early stopping: each language trains all 60 epochs, so the window
                              # between the first version and the end of the run is wide on a fast machine
                              config={"transformer": {"epochs": 60, "patience": 1000}})

    first, first_log = _start_worker(redis_broker, tmp_path, "first", beat=False)
    second = second_log = None
    try:
        with app.connection_for_write(redis_broker) as conn:
            eager, app.conf.task_always_eager = app.conf.task_always_eager, False
            try:
                train_model.apply_async(args=[run.pk], connection=conn, queue="default")
            finally:
                app.conf.task_always_eager = eager
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:  # kill it mid-run: after the first language, before the second
            run.refresh_from_db()
            if run.status == RunStatus.RUNNING and run.model_versions.count() == 1 and run.progress < 0.95:
                break
            assert run.status in (RunStatus.QUEUED, RunStatus.RUNNING), run.message
            assert first.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
            time.sleep(0.2)
        else:
            pytest.fail("the run never got half way")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = time.monotonic()
        champions_at_kill = {v.language_id: v.pk for v in ModelVersion.objects.filter(
            project=project, status=ModelVersion.Status.CHAMPION)}

        second, second_log = _start_worker(redis_broker, tmp_path, "second", beat=True)
        while time.monotonic() < killed_at + 120:
            run.refresh_from_db()
            if run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
                break
            assert second.poll() is None, (tmp_path / "second.log").read_text()[-3000:]
            time.sleep(0.5)
        took = time.monotonic() - killed_at
        log = (tmp_path / "second.log").read_text()
        assert run.status == RunStatus.SUCCEEDED, f"{run.status} after {took:.0f}s: {run.message}\n{log[-3000:]}"
        assert took < 120
    finally:
        _stop(first, first_log)
        if second is not None:
            _stop(second, second_log)

    versions = ModelVersion.objects.filter(project=project)
    assert sorted(versions.values_list("language_id", flat=True)) == sorted(lang.pk for lang in langs)  # once
    assert TrainingRun.objects.get(pk=run.pk).model_versions.count() == 2
    for lang in langs:
        champions = versions.filter(language=lang, status=ModelVersion.Status.CHAMPION)
        assert champions.count() == 1
        if lang.pk in champions_at_kill:  # the language trained before the kill kept its champion
            assert champions.get().pk == champions_at_kill[lang.pk]
    referenced = set(versions.values_list("adapter_path", flat=True))
    assert _folders(tmp_path / "artifacts") == referenced  # no orphaned model folder
