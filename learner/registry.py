"""The model registry: one champion per project x language, promotion, rollback, and the candidate row
written in the same transaction as the decision about it (so a crash never leaves an undecided or
half-promoted candidate behind)."""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.db import transaction

from evaluators.models import Language
from evaluators.selectors import guideline_current
from learner.models import ModelVersion, TrainingRun


def _snapshot_hash(labels) -> str:
    digest = hashlib.sha256()
    for approved in labels:
        digest.update(f"{approved.item_id}:{approved.label};".encode())
    return digest.hexdigest()


@transaction.atomic
def model_version_promote(*, version: ModelVersion, reason: str, resample: bool = False) -> ModelVersion:
    """Make ``version`` its language's champion. With ``resample`` the pool is rescored and a new sampling
    run feeds the queue once the promotion is committed."""
    current = (
        ModelVersion.objects.select_for_update()
        .filter(project=version.project, language=version.language, status=ModelVersion.Status.CHAMPION)
        .exclude(pk=version.pk)
        .first()
    )
    if current is not None:
        current.status, current.status_reason = ModelVersion.Status.RETIRED, f"replaced by v{version.pk}"
        current.save(update_fields=["status", "status_reason"])
    version.status, version.status_reason = ModelVersion.Status.CHAMPION, reason
    version.save(update_fields=["status", "status_reason"])
    if resample:
        _resample_on_commit(version.project_id)
    return version


def _resample_on_commit(project_id: int) -> None:
    from learner.tasks import resample_pool

    transaction.on_commit(lambda: resample_pool.apply_async(args=[project_id]))


def model_version_rollback(*, version: ModelVersion, resample: bool = False) -> ModelVersion:
    if version.status == ModelVersion.Status.CHAMPION:
        raise ValidationError(f"v{version.pk} is already the champion")
    return model_version_promote(version=version, reason="rolled back to by an admin", resample=resample)


def _decision(
    candidate_f1: float | None, champion: ModelVersion | None, champion_f1: float | None, has_eval: bool
) -> tuple[bool, str]:
    if champion is None:
        return True, "first model for this language"
    if not has_eval or champion_f1 is None:
        return False, "kept as candidate: no evaluation data to compare with the champion"
    if candidate_f1 is not None and candidate_f1 > champion_f1:
        return True, f"macro-F1 {candidate_f1:.3f} beats champion's {champion_f1:.3f}"
    return False, (
        f"kept as candidate: macro-F1 {candidate_f1 or 0.0:.3f} does not beat champion v{champion.pk}'s "
        f"{champion_f1:.3f} on the same data"
    )


def _record(
    run: TrainingRun,
    language: Language,
    classifier,
    labels,
    metrics: dict,
    location: str,
    size: int,
    champion: ModelVersion | None,
    promote: bool,
    reason: str,
    resample: bool,
) -> ModelVersion:
    """Write the candidate row and act on the decision in one transaction."""
    guideline = guideline_current(project=run.project)
    with transaction.atomic():
        # Lock the run: two deliveries of one message racing past _claim cannot both record a language.
        TrainingRun.objects.select_for_update().get(pk=run.pk)
        existing = run.model_versions.filter(language=language).first()
        if existing is not None:
            return existing
        candidate = ModelVersion.objects.create(
            project=run.project,
            language=language,
            backend=run.backend,
            backbone=getattr(classifier, "backbone_name", ""),
            adapter_path=location,
            adapter_bytes=size,
            metrics=metrics,
            macro_f1=metrics.get("macro_f1"),
            parent=champion,
            training_run=run,
            n_labels=len(labels),
            label_snapshot_hash=_snapshot_hash(labels),
            guideline_version=guideline.label if guideline else "",
            status_reason=reason,
        )
        if promote:
            model_version_promote(version=candidate, reason=reason, resample=resample)
    return candidate
