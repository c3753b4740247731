"""Training runs: queueing, claiming with a heartbeat lease, training per language or one shared adapter,
and the retrain schedule.

A training run is idempotent and crash-safe: a redelivered message for a finished run does
nothing, a run that died half-way resumes with the languages it had not finished, and the
champion only changes inside one transaction after the candidate's files are fully stored and
it has beaten the champion on the same evaluation data (see ``learner.registry``).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from annotation.models import Project
from evaluators.models import Language
from learner.artifacts import materialise, upload_folder
from learner.backends import BACKENDS, fit_classifier, load_classifier, make_classifier
from learner.conf import setting, training_queue
from learner.evaluation import classification_metrics
from learner.models import ModelVersion, RunStatus, TrainingRun
from learner.registry import Candidate, _decision, _record, _record_competition, competition_summary, competition_winner
from learner.selectors import approved_labels, champion_for, heldout_items, is_dev


def training_run_create(
    *,
    project: Project,
    languages: list[Language] | None = None,
    backend: str = "ngram",
    config: dict | None = None,
    trigger: str = "manual",
    dispatch: bool = True,
    candidates: list[str] | None = None,
) -> TrainingRun:
    """Queue a run; the celery task is sent only once the row is committed. ``candidates`` (two or more
    backends) makes it a per-language competition: each language is served by whichever wins."""
    from learner.tasks import train_model

    config = dict(config or {})
    if candidates:
        config["candidates"] = list(dict.fromkeys(candidates))
        backend = config["candidates"][0]
    unknown = sorted({backend, *config.get("candidates", [])} - set(BACKENDS))
    if unknown:
        raise ValidationError(f"unknown learner backend {', '.join(unknown)}: choose from {', '.join(BACKENDS)}")
    if len(config.get("candidates", [])) > 1 and config.get("shared_adapter"):
        raise ValidationError("a shared adapter trains one backend for all languages: drop the candidates")
    with transaction.atomic():
        run = TrainingRun.objects.create(project=project, backend=backend, config=config, trigger=trigger)
        run.languages.set(languages or list(project.languages.all()))
        if dispatch:
            queue = training_queue()
            transaction.on_commit(lambda: train_model.apply_async(args=[run.pk], queue=queue))
    return run


class RunBusy(Exception):
    """Another worker holds a live lease on the run: this delivery must wait, not train twice."""

    def __init__(self, run_id: int, retry_in: float) -> None:
        super().__init__(f"training run {run_id} is running elsewhere; retry in {retry_in:.0f}s")
        self.retry_in = retry_in


def run_lease_seconds() -> float:
    """How long a silent heartbeat still means "a live worker has it" (learner.recovery)."""
    from learner.recovery import takeover_seconds

    return takeover_seconds()


def _claim(run_id: int) -> TrainingRun | None:
    """Take the run, or say why not. A RUNNING run whose heartbeat is fresh belongs to a live worker
    (RunBusy); one whose heartbeat went stale was left by a killed worker and is taken over."""
    now = timezone.now()
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run_id)
        if run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
            return None  # a redelivered message: the work is done
        lease = run_lease_seconds()
        taken_over = run.status == RunStatus.RUNNING
        if taken_over and run.heartbeat_at is not None:
            age = (now - run.heartbeat_at).total_seconds()
            if age < lease:
                raise RunBusy(run.pk, lease - age)
        run.status, run.started_at, run.heartbeat_at = RunStatus.RUNNING, run.started_at or now, now
        run.save(update_fields=["status", "started_at", "heartbeat_at"])
    if taken_over:
        from learner.recovery import orphaned_artifacts_remove

        orphaned_artifacts_remove(run=run)
    return run


def _progress(run: TrainingRun, value: float, message: str = "", on_progress: Callable | None = None) -> None:
    value = min(1.0, max(0.0, value))
    TrainingRun.objects.filter(pk=run.pk).update(progress=value, message=message, heartbeat_at=timezone.now())
    if on_progress:
        on_progress(value, message)


def _eval_data(project: Project, language: Language, labels) -> tuple[list[str], list[str], list, list]:
    """(train texts, train labels, eval texts, eval labels): held-out items when the project has
    them, else the stable-hash dev share of the approved labels."""
    heldout = list(heldout_items(project=project, language=language).values_list("text", "reference_label"))
    train, dev = [], []
    for approved in labels:
        (dev if not heldout and is_dev(approved.item_id) else train).append((approved.item.text, approved.label))
    evaluation = heldout or dev
    return [t for t, _ in train], [y for _, y in train], [t for t, _ in evaluation], [y for _, y in evaluation]


def _store_classifier(classifier, prefix: str) -> tuple[str, int]:
    workdir = Path(tempfile.mkdtemp(prefix="parity-train-"))
    try:
        classifier.save(workdir)
        return upload_folder(workdir, prefix)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _champion_score(champion: ModelVersion | None, classes: list[str], eval_texts, eval_targets) -> float | None:
    """The champion re-measured on the candidate's evaluation data (None: no champion or no data)."""
    if champion is None or not eval_texts:
        return None
    old = load_classifier(champion.backend, materialise(champion.adapter_path))
    return classification_metrics(classes, old.predict_proba(eval_texts), eval_targets)["macro_f1"]


def _wants_resample(run: TrainingRun) -> bool:
    return bool(run.config.get("resample", run.trigger != "simulation"))


def run_candidates(run: TrainingRun) -> list[str]:
    """The backends a run trains per language: ``config["candidates"]`` (a per-language competition) or the
    run's one backend."""
    return list(run.config.get("candidates") or [run.backend])


def _train_candidate(run: TrainingRun, backend: str, classes: list[str], texts, targets, eval_texts, eval_targets,
                     prefix: str, progress: Callable[[float], None] | None) -> Candidate:
    classifier = make_classifier(backend, classes, run.config.get(backend))
    started = time.perf_counter()
    fit_classifier(classifier, texts, targets, dev=(eval_texts, eval_targets), progress=progress)
    metrics = classification_metrics(classes, classifier.predict_proba(eval_texts), eval_targets) if eval_texts else {}
    metrics["n_train"] = len(texts)
    metrics["train_seconds"] = round(time.perf_counter() - started, 2)
    if getattr(classifier, "weight", None) is not None and backend == "blend":
        metrics["blend_weight"] = classifier.weight
    location, size = _store_classifier(classifier, prefix)
    return Candidate(backend, getattr(classifier, "backbone_name", ""), metrics, location, size)


def _train_language(
    run: TrainingRun, language: Language, classes: list[str], progress: Callable[[float], None] | None = None
) -> list[ModelVersion] | None:
    """Train each candidate backend on the language's labels; the best on the evaluation data competes with
    the champion, re-measured on the same data, and is promoted only if it beats it."""
    project = run.project
    labels = list(approved_labels(project=project, language=language))
    texts, targets, eval_texts, eval_targets = _eval_data(project, language, labels)
    if not texts:
        return None
    backends = run_candidates(run)
    prefix = f"models/{project.slug}/{language.tag}"
    candidates = []
    for n, backend in enumerate(backends):
        share = (lambda f, n=n: progress((n + f) / len(backends))) if progress else None
        candidates.append(
            _train_candidate(run, backend, classes, texts, targets, eval_texts, eval_targets, prefix, share)
        )
    champion = champion_for(project=project, language=language)
    champion_f1 = _champion_score(champion, classes, eval_texts, eval_targets)
    winner = competition_winner(candidates)
    for candidate in candidates:
        if champion_f1 is not None:
            candidate.metrics["champion_macro_f1"] = champion_f1
        if len(candidates) > 1:
            candidate.metrics["competition"] = competition_summary(candidates, winner, champion, champion_f1)
    promote, reason = _decision(candidates[winner].macro_f1, champion, champion_f1, bool(eval_texts))
    if len(candidates) > 1:
        reason = f"{candidates[winner].backend} won the per-language competition; {reason}"
    return _record_competition(
        run, language, labels, candidates, winner, champion, promote, reason, _wants_resample(run)
    )


def _train_shared(
    run: TrainingRun, languages: list[Language], classes: list[str], progress: Callable[[float], None] | None = None
) -> list[ModelVersion]:
    """One adapter for all the run's languages. It becomes a language's champion only if it beats that
    language's champion and regresses no other language by more than ``tolerance`` (macro-F1)."""
    project = run.project
    tolerance = float(run.config.get("shared_tolerance", 0.01))
    data = {}
    for language in languages:
        labels = list(approved_labels(project=project, language=language))
        data[language.pk] = (labels, *_eval_data(project, language, labels))
    texts = [t for d in data.values() for t in d[1]]
    targets = [y for d in data.values() for y in d[2]]
    if not texts:
        return []
    eval_texts = [t for d in data.values() for t in d[3]]
    eval_targets = [y for d in data.values() for y in d[4]]
    classifier = make_classifier(run.backend, classes, run.config.get(run.backend))
    fit_classifier(classifier, texts, targets, dev=(eval_texts, eval_targets), progress=progress)
    location, size = _store_classifier(classifier, f"models/{project.slug}/shared")
    per_language = {}
    for language in languages:
        labels, tr_texts, _, ev_texts, ev_targets = data[language.pk]
        metrics = classification_metrics(classes, classifier.predict_proba(ev_texts), ev_targets) if ev_texts else {}
        metrics.update(n_train=len(texts), n_train_language=len(tr_texts), shared_adapter=True)
        champion = champion_for(project=project, language=language)
        champion_f1 = _champion_score(champion, classes, ev_texts, ev_targets)
        if champion_f1 is not None:
            metrics["champion_macro_f1"] = champion_f1
        per_language[language.pk] = (labels, metrics, champion, champion_f1, bool(ev_texts))
    regressions = [
        f"{language.tag} {m.get('macro_f1', 0.0):.3f} < champion {c_f1:.3f} - {tolerance}"
        for language in languages
        for (_, m, _, c_f1, _) in [per_language[language.pk]]
        if c_f1 is not None and (m.get("macro_f1") or 0.0) < c_f1 - tolerance
    ]
    versions = []
    for language in languages:
        labels, metrics, champion, champion_f1, has_eval = per_language[language.pk]
        promote, reason = _decision(metrics.get("macro_f1"), champion, champion_f1, has_eval)
        if promote and regressions:
            promote, reason = False, "kept as candidate: the shared adapter regresses " + "; ".join(regressions)
        versions.append(
            _record(
                run,
                language,
                classifier,
                labels,
                metrics,
                location,
                size,
                champion,
                promote,
                reason,
                _wants_resample(run),
            )
        )
    return versions


def training_run_execute(*, run_id: int, on_progress: Callable[[float, str], None] | None = None) -> TrainingRun:
    """Train every language of the run (idempotent: a finished run is left alone, a resumed run skips the
    languages it already recorded). ``on_progress(fraction, message)`` mirrors the progress field."""
    run = _claim(run_id)
    if run is None:
        return TrainingRun.objects.get(pk=run_id)
    classes = list(run.project.labels.values_list("value", flat=True))
    languages = list(run.languages.order_by("code", "script"))
    done = set(run.model_versions.values_list("language_id", flat=True))
    todo = [language for language in languages if language.pk not in done]
    total = max(1, len(languages))
    from learner.recovery import heartbeat

    with heartbeat(run.pk):
        _train_todo(run, languages, todo, done, classes, total, on_progress)
    TrainingRun.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED, progress=1.0, message="done", finished_at=timezone.now()
    )
    if on_progress:
        on_progress(1.0, "done")
    run.refresh_from_db()
    return run


def _train_todo(run, languages, todo, done, classes, total, on_progress) -> None:
    """Train the languages still to do; a failure marks the run FAILED and is re-raised."""
    try:
        if run.config.get("shared_adapter") and todo:
            _progress(run, len(done) / total, "training a shared adapter", on_progress)
            _train_shared(run, todo, classes, lambda f: _progress(run, f, "training a shared adapter", on_progress))
        else:
            for language in todo:
                n = languages.index(language)
                message = f"training {language.tag}"
                _progress(run, n / total, message, on_progress)
                _train_language(
                    run,
                    language,
                    classes,
                    lambda f, n=n, message=message: _progress(run, (n + f) / total, message, on_progress),
                )
    except Exception as exc:
        TrainingRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, message=f"{exc.__class__.__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
        raise


def retrain_due(*, min_new_labels: int | None = None, dispatch: bool = True) -> list[TrainingRun]:
    """The beat schedule's job: a run per project for its languages with at least
    ``LEARNER_RETRAIN_MIN_NEW_LABELS`` approved labels newer than their last model (champion or candidate),
    skipping languages that already have a queued or running run."""
    threshold = min_new_labels if min_new_labels is not None else int(setting("LEARNER_RETRAIN_MIN_NEW_LABELS", 50))
    runs = []
    for project in Project.objects.prefetch_related("languages").order_by("id"):
        busy = set(
            TrainingRun.objects.filter(project=project, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).values_list(
                "languages", flat=True
            )
        )
        due, backends = [], set()
        for language in project.languages.order_by("code", "script"):
            if language.pk in busy:
                continue
            latest = ModelVersion.objects.filter(project=project, language=language).order_by("-created_at", "-id")
            latest = latest.first()
            count = approved_labels(project=project, language=language).count()
            new = count - (latest.n_labels if latest else 0)
            if count > 0 and new >= max(1, threshold):
                due.append(language)
                champion = champion_for(project=project, language=language)
                backends.add(champion.backend if champion else setting("LEARNER_DEFAULT_BACKEND", "ngram"))
        if due:
            backend = "transformer" if "transformer" in backends else sorted(backends)[0]
            # LEARNER_COMPETITION_BACKENDS: every scheduled run lets these backends compete per language
            competing = list(setting("LEARNER_COMPETITION_BACKENDS", []) or [])
            runs.append(
                training_run_create(
                    project=project, languages=due, backend=backend, trigger="schedule", dispatch=dispatch,
                    candidates=competing if len(competing) > 1 else None,
                )
            )
    return runs
