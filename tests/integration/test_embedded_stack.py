"""The embedded defaults of `make run`: SQLite file + kombu's filesystem broker + a real celery worker.

`simulate --via-broker` sends each training run through the broker and waits for the worker process
to finish it, so this passes only if the default stack really moves work between processes.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def test_simulate_through_the_filesystem_broker_and_a_worker(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")},
        "DJANGO_SETTINGS_MODULE": "parity.settings.local", "PARITY_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'parity.sqlite3'}", "PYTHONUNBUFFERED": "1",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "parity", "worker", "-Q", "default,gpu", "--pool", "solo",
         "-l", "info", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        out = tmp_path / "rounds.json"
        result = subprocess.run(
            [*manage, "simulate", "--rounds", "2", "--budget", "14", "--languages", "hau_Latn,urd_Arab",
             "--via-broker", "--out", str(out)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
    worker_log = (tmp_path / "worker.log").read_text()
    assert result.returncode == 0, result.stderr[-3000:] + worker_log[-3000:]
    rounds = json.loads(out.read_text())["rounds"]
    assert [r["labels"] for r in rounds] == [14, 28]
    trained = [line for line in worker_log.splitlines() if "learner.train_model[" in line and "succeeded" in line]
    assert len(trained) == 2, worker_log[-3000:]  # one training run per round, each done by the worker
