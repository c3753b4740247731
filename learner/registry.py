"""The model registry: one champion per project x language, promotion, rollback, and the candidate row
written in the same transaction as the decision about it (so a crash never leaves an undecided or
half-promoted candidate behind)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

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
    _suggestions_on_commit(version)
    return version


def _suggestions_on_commit(version: ModelVersion) -> None:
    """Projects that show suggestions get the new champion's for every open item, in the background."""
    from annotation.models import Project

    if not Project.objects.filter(pk=version.project_id, show_suggestions=True).exists():
        return
    from annotation.services import _enqueue
    from learner.tasks import precompute_suggestions

    transaction.on_commit(lambda: _enqueue(precompute_suggestions, version.pk))


def _resample_on_commit(project_id: int) -> None:
    from learner.tasks import resample_pool

    transaction.on_commit(lambda: resample_pool.apply_async(args=[project_id]))


def model_version_rollback(*, version: ModelVersion, resample: bool = False) -> ModelVersion:
    if version.status == ModelVersion.Status.CHAMPION:
        raise ValidationError(gettext("v%(version_pk)s is already the champion") % {"version_pk": version.pk})
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


@dataclass
class Candidate:
    """One trained model of a training run for one language, stored and measured, not yet recorded."""

    backend: str
    backbone: str
    metrics: dict
    location: str
    size: int

    @property
    def macro_f1(self) -> float | None:
        return self.metrics.get("macro_f1")


def competition_winner(candidates: list[Candidate]) -> int:
    """Index of the candidate with the best evaluation macro-F1; ties (and no scores) go to the earlier one,
    so the run's order of backends is its order of preference."""
    scores = [c.macro_f1 if c.macro_f1 is not None else -1.0 for c in candidates]
    return max(range(len(candidates)), key=lambda i: (scores[i], -i))


def competition_summary(candidates: list[Candidate], winner: int, champion: ModelVersion | None,
                        champion_f1: float | None) -> dict:
    """The scores that decided a language, kept in every candidate's metrics for the console."""
    return {
        "scores": {c.backend: c.macro_f1 for c in candidates},
        "winner": candidates[winner].backend,
        "champion": {"version": champion.pk, "backend": champion.backend, "macro_f1": champion_f1}
        if champion is not None else None,
    }


def _loser_reason(candidate: Candidate, winner: Candidate) -> str:
    return (
        f"lost the per-language competition to {winner.backend} "
        f"(macro-F1 {candidate.macro_f1 or 0.0:.3f} vs {winner.macro_f1 or 0.0:.3f})"
    )


def _record_competition(
    run: TrainingRun,
    language: Language,
    labels,
    candidates: list[Candidate],
    winner: int,
    champion: ModelVersion | None,
    promote: bool,
    reason: str,
    resample: bool,
) -> list[ModelVersion]:
    """Write every candidate row of a language and act on the decision in one transaction: the winner is
    promoted (if it beat the champion), the others stay candidates with the score they lost by."""
    guideline = guideline_current(project=run.project)
    with transaction.atomic():
        # Lock the run: two deliveries of one message racing past _claim cannot both record a language.
        TrainingRun.objects.select_for_update().get(pk=run.pk)
        existing = list(run.model_versions.filter(language=language).order_by("id"))
        if existing:
            return existing
        versions = []
        for i, candidate in enumerate(candidates):
            versions.append(ModelVersion.objects.create(
                project=run.project,
                language=language,
                backend=candidate.backend,
                backbone=candidate.backbone,
                adapter_path=candidate.location,
                adapter_bytes=candidate.size,
                metrics=candidate.metrics,
                macro_f1=candidate.macro_f1,
                parent=champion,
                training_run=run,
                n_labels=len(labels),
                label_snapshot_hash=_snapshot_hash(labels),
                guideline_version=guideline.label if guideline else "",
                status_reason=reason if i == winner else _loser_reason(candidate, candidates[winner]),
            ))
        if promote:
            model_version_promote(version=versions[winner], reason=reason, resample=resample)
    return versions


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
    candidate = Candidate(run.backend, getattr(classifier, "backbone_name", ""), metrics, location, size)
    return _record_competition(run, language, labels, [candidate], 0, champion, promote, reason, resample)[0]
