"""Celery tasks: thin, idempotent wrappers that load ids and call services."""
from celery import shared_task
from django.conf import settings

from annotation.models import Project
from learner.services import RunBusy, sampling_run_execute, scoring_shard_execute, training_run_execute
from learner.services import retrain_due as retrain_due_service


@shared_task(bind=True, acks_late=True, name="learner.train_model", max_retries=None)
def train_model(self, run_id: int) -> dict:
    try:
        run = training_run_execute(run_id=run_id)
    except RunBusy as busy:
        # A live worker has it: come back once its lease could have lapsed, never train in parallel.
        raise self.retry(countdown=max(5.0, busy.retry_in)) from busy
    return {"run": run.pk, "status": run.status}


@shared_task(name="learner.recover_stalled_runs")
def recover_stalled_runs() -> dict:
    """Beat (every LEARNER_RECOVERY_INTERVAL_SECONDS): runs whose worker died go to another worker."""
    from learner.recovery import training_runs_recover

    return {"redispatched": training_runs_recover()}


@shared_task(acks_late=True, name="learner.retrain_due")
def retrain_due() -> dict:
    """Run by the django-celery-beat schedule (editable in the admin console)."""
    runs = retrain_due_service()
    return {"runs": [run.pk for run in runs]}


@shared_task(acks_late=True, name="learner.score_shard")
def score_shard(shard_id: int) -> dict:
    shard = scoring_shard_execute(shard_id=shard_id)
    return {"shard": shard.pk, "status": shard.status, "n_scored": shard.n_scored}


@shared_task(acks_late=True, name="learner.resample_pool")
def resample_pool(
    project_id: int, budget: int | None = None, strategy: str | None = None, allocation: str | None = None
) -> dict:
    """After a promotion, or when an admin asks: rescore the pool and feed the queue."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return {"run": None}
    run = sampling_run_execute(
        project=project, budget=int(budget or getattr(settings, "LEARNER_RESAMPLE_BUDGET", 100)),
        strategy=strategy or getattr(settings, "LEARNER_SAMPLING_STRATEGY", "entropy"),
        allocation=allocation or getattr(settings, "LEARNER_ALLOCATION", "parity"),
    )
    return {"run": run.pk, "status": run.status}


@shared_task(acks_late=True, name="learner.precompute_suggestions")
def precompute_suggestions(version_id: int) -> dict:
    """After a promotion: the new champion's suggestion for every open item (idempotent: items already
    holding this version's suggestion are skipped)."""
    from learner.suggestions import suggestions_precompute

    return {"version": version_id, "n_items": suggestions_precompute(version_id=version_id)}
