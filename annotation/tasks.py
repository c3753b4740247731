"""Celery tasks of the annotation app: thin, idempotent wrappers that load ids and call services."""
from celery import shared_task

from annotation.models import Project
from annotation.services import (
    aggregation_batch_run,
    aggregation_job_run,
    aggregation_sweep,
    agreement_snapshot_if_due,
    assignments_expire,
)
from evaluators.models import Language


@shared_task(name="annotation.expire_leases")
def expire_leases() -> int:
    return assignments_expire()


@shared_task(name="annotation.aggregate_language")
def aggregate_language(project_id: int, language_id: int) -> int:
    """The coalesced job a submission asks for: aggregate one project × language, snapshot when due."""
    project = Project.objects.filter(pk=project_id).first()
    language = Language.objects.filter(pk=language_id).first()
    if project is None or language is None:
        return 0
    return aggregation_job_run(project=project, language=language)


@shared_task(name="annotation.aggregation_sweep")
def sweep_aggregation() -> dict[str, int]:
    return aggregation_sweep()


@shared_task(name="annotation.record_agreement")
def record_agreement(project_id: int, language_id: int | None = None) -> int | None:
    """Snapshot agreement of one project × language when one is due (kept for queued messages)."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return None
    language = Language.objects.filter(pk=language_id).first() if language_id else None
    snapshot = agreement_snapshot_if_due(project=project, language=language)
    return snapshot.pk if snapshot else None


@shared_task(name="annotation.aggregate")
def aggregate(project_id: int) -> int:
    project = Project.objects.filter(pk=project_id).first()
    return aggregation_batch_run(project=project) if project else 0
