"""Training runs, the champion/candidate registry and sampling runs.

A training run is idempotent and crash-safe: a redelivered message for a finished run does
nothing, a run that died half-way resumes with the languages it had not finished, and the
champion only changes inside one transaction after the candidate's files are fully stored and
it has beaten the champion on the same evaluation data.
"""
from __future__ import annotations

import hashlib
import logging
import random
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from annotation.models import Item, Project
from evaluators.models import Language
from evaluators.selectors import guideline_current
from learner.artifacts import materialise, upload_folder
from learner.backends import load_classifier, make_classifier
from learner.evaluation import classification_metrics
from learner.models import ModelVersion, RunStatus, SampledItem, SamplingRun, TrainingRun
from learner.selectors import approved_labels, champion_for, heldout_items, is_dev, unlabeled_pool
from learner.strategies.uncertainty import entropy_scores, least_confidence_scores, margin_scores

log = logging.getLogger(__name__)
SCORERS = {"entropy": entropy_scores, "least_confidence": least_confidence_scores, "margin": margin_scores}


def training_run_create(
    *, project: Project, languages: list[Language] | None = None, backend: str = "ngram",
    config: dict | None = None, trigger: str = "manual", dispatch: bool = True,
) -> TrainingRun:
    """Queue a run; the celery task is sent only once the row is committed."""
    from learner.tasks import train_model

    with transaction.atomic():
        run = TrainingRun.objects.create(project=project, backend=backend, config=config or {}, trigger=trigger)
        run.languages.set(languages or list(project.languages.all()))
        if dispatch:
            transaction.on_commit(
                lambda: train_model.apply_async(args=[run.pk], queue=settings.LEARNER_TRAINING_QUEUE)
            )
    return run


def _claim(run_id: int) -> TrainingRun | None:
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run_id)
        if run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
            return None  # a redelivered message: the work is done
        run.status, run.started_at = RunStatus.RUNNING, run.started_at or timezone.now()
        run.save(update_fields=["status", "started_at"])
        return run


def _progress(run: TrainingRun, value: float, message: str = "") -> None:
    TrainingRun.objects.filter(pk=run.pk).update(progress=min(1.0, max(0.0, value)), message=message)


def _eval_data(project: Project, language: Language, labels) -> tuple[list[str], list[str], list, list]:
    """(train texts, train labels, eval texts, eval labels): held-out items when the project has
    them, else the stable-hash dev share of the approved labels."""
    heldout = list(heldout_items(project=project, language=language).values_list("text", "reference_label"))
    train, dev = [], []
    for approved in labels:
        (dev if not heldout and is_dev(approved.item_id) else train).append((approved.item.text, approved.label))
    evaluation = heldout or dev
    return [t for t, _ in train], [y for _, y in train], [t for t, _ in evaluation], [y for _, y in evaluation]


def _snapshot_hash(labels) -> str:
    digest = hashlib.sha256()
    for approved in labels:
        digest.update(f"{approved.item_id}:{approved.label};".encode())
    return digest.hexdigest()


@transaction.atomic
def model_version_promote(*, version: ModelVersion, reason: str) -> ModelVersion:
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
    return version


def model_version_rollback(*, version: ModelVersion) -> ModelVersion:
    if version.status == ModelVersion.Status.CHAMPION:
        raise ValidationError(f"v{version.pk} is already the champion")
    return model_version_promote(version=version, reason="rolled back to by an admin")


def _train_language(run: TrainingRun, language: Language, classes: list[str]) -> ModelVersion | None:
    project = run.project
    labels = list(approved_labels(project=project, language=language))
    texts, targets, eval_texts, eval_targets = _eval_data(project, language, labels)
    if not texts:
        return None
    classifier = make_classifier(run.backend, classes, run.config.get(run.backend))
    classifier.fit(texts, targets)
    metrics = classification_metrics(classes, classifier.predict_proba(eval_texts), eval_targets) if eval_texts else {}
    metrics["n_train"] = len(texts)
    workdir = Path(tempfile.mkdtemp(prefix="parity-train-"))
    try:
        classifier.save(workdir)
        location, size = upload_folder(workdir, f"models/{project.slug}/{language.tag}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    champion = champion_for(project=project, language=language)
    guideline = guideline_current(project=project)
    candidate = ModelVersion.objects.create(
        project=project, language=language, backend=run.backend,
        backbone=getattr(classifier, "backbone_name", ""), adapter_path=location, adapter_bytes=size,
        metrics=metrics, macro_f1=metrics.get("macro_f1"), parent=champion, training_run=run,
        n_labels=len(labels), label_snapshot_hash=_snapshot_hash(labels),
        guideline_version=guideline.label if guideline else "",
    )
    _decide(candidate, champion, eval_texts, eval_targets)
    return candidate


def _decide(candidate: ModelVersion, champion: ModelVersion | None, eval_texts, eval_targets) -> None:
    if champion is None:
        model_version_promote(version=candidate, reason="first model for this language")
        return
    if not eval_texts:
        candidate.status_reason = "kept as candidate: no evaluation data to compare with the champion"
        candidate.save(update_fields=["status_reason"])
        return
    # Re-measure the champion on the same data the candidate was measured on.
    old = load_classifier(champion.backend, materialise(champion.adapter_path))
    classes = candidate.metrics.get("per_class_f1", {}).keys()
    champion_f1 = classification_metrics(list(classes), old.predict_proba(eval_texts), eval_targets)["macro_f1"]
    if candidate.macro_f1 is not None and candidate.macro_f1 > champion_f1:
        model_version_promote(
            version=candidate, reason=f"macro-F1 {candidate.macro_f1:.3f} beats champion's {champion_f1:.3f}"
        )
    else:
        candidate.status_reason = (
            f"kept as candidate: macro-F1 {candidate.macro_f1:.3f} does not beat champion v{champion.pk}'s "
            f"{champion_f1:.3f} on the same data"
        )
        candidate.save(update_fields=["status_reason"])


def training_run_execute(*, run_id: int) -> TrainingRun:
    run = _claim(run_id)
    if run is None:
        return TrainingRun.objects.get(pk=run_id)
    classes = list(run.project.labels.values_list("value", flat=True))
    languages = list(run.languages.order_by("code", "script"))
    done = set(run.model_versions.values_list("language_id", flat=True))
    try:
        for n, language in enumerate(languages):
            if language.pk in done:  # finished before a crash: do not train it twice
                continue
            _progress(run, n / max(1, len(languages)), f"training {language.tag}")
            _train_language(run, language, classes)
    except Exception as exc:
        TrainingRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, message=f"{exc.__class__.__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
        raise
    TrainingRun.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED, progress=1.0, message="done", finished_at=timezone.now()
    )
    run.refresh_from_db()
    return run


def _uniform_allocation(budget: int, available: dict[Language, int]) -> dict[Language, int]:
    allocation = {language: 0 for language in available}
    remaining = budget
    while remaining > 0:
        open_languages = [lang for lang, n in available.items() if allocation[lang] < n]
        if not open_languages:
            break
        for language in open_languages:
            if remaining == 0:
                break
            allocation[language] += 1
            remaining -= 1
    return allocation


def sampling_run_execute(
    *, project: Project, budget: int, strategy: str = "entropy", seed: int = 0
) -> SamplingRun:
    """Pick the most informative unlabeled items per language and raise their priority."""
    if strategy not in SCORERS:
        raise ValidationError(f"unknown strategy {strategy!r}: choose from {', '.join(SCORERS)}")
    languages = list(project.languages.order_by("code", "script"))
    pools = {language: list(unlabeled_pool(project=project, language=language).values_list("id", "text"))
             for language in languages}
    allocation = _uniform_allocation(budget, {lang: len(rows) for lang, rows in pools.items()})
    run = SamplingRun.objects.create(project=project, strategy=strategy, budget=budget, status=RunStatus.RUNNING)
    why, picks = {}, []
    rng = random.Random(seed)
    for language, k in allocation.items():
        rows = pools[language]
        if k == 0:
            why[language.tag] = {"items": 0, "reason": "no unlabeled items"}
            continue
        champion = champion_for(project=project, language=language)
        if champion is None:
            chosen = rng.sample(range(len(rows)), k)
            scores = [0.0] * k
            why[language.tag] = {"items": k, "reason": "cold start: random sample, no champion model yet"}
        else:
            model = load_classifier(champion.backend, materialise(champion.adapter_path))
            probs = torch.from_numpy(np.asarray(model.predict_proba([text for _, text in rows]), dtype=np.float32))
            values, indices = torch.topk(SCORERS[strategy](probs), k)
            chosen, scores = indices.tolist(), values.tolist()
            why[language.tag] = {"items": k, "reason": f"{strategy} on champion v{champion.pk}"}
        picks.extend((rows[i][0], score) for i, score in zip(chosen, scores))
    with transaction.atomic():
        SampledItem.objects.bulk_create(
            SampledItem(run=run, item_id=item_id, score=score, rank=rank) for rank, (item_id, score) in enumerate(picks)
        )
        for item_id, score in picks:
            Item.objects.filter(pk=item_id).update(priority=1.0 + float(score))
        run.allocation, run.status, run.progress, run.finished_at = why, RunStatus.SUCCEEDED, 1.0, timezone.now()
        run.save(update_fields=["allocation", "status", "progress", "finished_at"])
    return run


__all__ = [
    "model_version_promote", "model_version_rollback", "sampling_run_execute", "training_run_create",
    "training_run_execute",
]
