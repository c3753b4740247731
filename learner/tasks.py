"""Celery tasks: thin, idempotent wrappers that load ids and call services."""
from celery import shared_task

from learner.services import training_run_execute


@shared_task(bind=True, acks_late=True, name="learner.train_model")
def train_model(self, run_id: int) -> dict:
    run = training_run_execute(run_id=run_id)
    return {"run": run.pk, "status": run.status}
