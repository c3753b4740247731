"""Training runs, the champion/candidate registry and sampling runs.

A training run is idempotent and crash-safe: a redelivered message for a finished run does
nothing, a run that died half-way resumes with the languages it had not finished, and the
champion only changes inside one transaction after the candidate's files are fully stored and
it has beaten the champion on the same evaluation data. A candidate row is written in the same
transaction as the decision about it, so a crash never leaves an undecided (or half-promoted)
candidate behind.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext

from annotation.models import Item, Project
from evaluators.models import Language, PoolMembership
from evaluators.selectors import guideline_current
from learner.allocation import LanguageState as AllocationState
from learner.allocation import allocate_budget
from learner.artifacts import materialise, upload_folder
from learner.backends import fit_classifier, load_classifier, make_classifier
from learner.evaluation import classification_metrics
from learner.models import ModelVersion, RunStatus, SampledItem, SamplingRun, ScoringShard, TrainingRun
from learner.strategy_names import STRATEGIES as SAMPLING_STRATEGIES

if TYPE_CHECKING:
    from learner import scoring
from learner.selectors import approved_labels, champion_for, heldout_items, is_dev, unlabeled_pool

log = logging.getLogger(__name__)
MODEL_FREE = ("random", "coldstart")
NEEDS_WARM_MODEL = ("entropy", "least_confidence", "margin", "bald", "diversity")


def _setting(name: str, default):
    return getattr(settings, name, default)


def training_queue() -> str:
    """``LEARNER_TRAINING_QUEUE``; ``auto`` asks the workers and picks ``gpu`` if one listens on it."""
    queue = _setting("LEARNER_TRAINING_QUEUE", "default")
    if queue != "auto":
        return queue
    try:
        from parity.celery import app

        active = app.control.inspect(timeout=1.0).active_queues() or {}
        names = {q["name"] for queues in active.values() for q in queues}
        return "gpu" if "gpu" in names else "default"
    except Exception:  # no broker reachable: the default queue is always served
        return "default"


def training_run_create(
    *,
    project: Project,
    languages: list[Language] | None = None,
    backend: str = "ngram",
    config: dict | None = None,
    trigger: str = "manual",
    dispatch: bool = True,
) -> TrainingRun:
    """Queue a run; the celery task is sent only once the row is committed."""
    from learner.tasks import train_model

    with transaction.atomic():
        run = TrainingRun.objects.create(project=project, backend=backend, config=config or {}, trigger=trigger)
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


# ------------------------------------------------------------------------------------------
# training
# ------------------------------------------------------------------------------------------


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


def _wants_resample(run: TrainingRun) -> bool:
    return bool(run.config.get("resample", run.trigger != "simulation"))


def _train_language(
    run: TrainingRun, language: Language, classes: list[str], progress: Callable[[float], None] | None = None
) -> ModelVersion | None:
    project = run.project
    labels = list(approved_labels(project=project, language=language))
    texts, targets, eval_texts, eval_targets = _eval_data(project, language, labels)
    if not texts:
        return None
    classifier = make_classifier(run.backend, classes, run.config.get(run.backend))
    fit_classifier(classifier, texts, targets, dev=(eval_texts, eval_targets), progress=progress)
    metrics = classification_metrics(classes, classifier.predict_proba(eval_texts), eval_targets) if eval_texts else {}
    metrics["n_train"] = len(texts)
    location, size = _store_classifier(classifier, f"models/{project.slug}/{language.tag}")
    champion = champion_for(project=project, language=language)
    champion_f1 = _champion_score(champion, classes, eval_texts, eval_targets)
    if champion_f1 is not None:
        metrics["champion_macro_f1"] = champion_f1
    promote, reason = _decision(metrics.get("macro_f1"), champion, champion_f1, bool(eval_texts))
    return _record(
        run, language, classifier, labels, metrics, location, size, champion, promote, reason, _wants_resample(run)
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
    threshold = min_new_labels if min_new_labels is not None else int(_setting("LEARNER_RETRAIN_MIN_NEW_LABELS", 50))
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
                backends.add(champion.backend if champion else _setting("LEARNER_DEFAULT_BACKEND", "ngram"))
        if due:
            backend = "transformer" if "transformer" in backends else sorted(backends)[0]
            runs.append(
                training_run_create(
                    project=project, languages=due, backend=backend, trigger="schedule", dispatch=dispatch
                )
            )
    return runs


# ------------------------------------------------------------------------------------------
# sampling
# ------------------------------------------------------------------------------------------


def qualified_capacity(*, project: Project, language: Language) -> float:
    """Items per day the language's qualified evaluators can finish: sum of daily capacities / overlap."""
    total = (
        PoolMembership.objects.filter(
            pool__project=project,
            pool__language=language,
            state=PoolMembership.State.QUALIFIED,
            user__evaluator__isnull=False,
        ).aggregate(total=Sum("user__evaluator__daily_capacity"))["total"]
        or 0
    )
    return total / max(1, project.overlap)


def _scoring_config(seed: int) -> scoring.ScoringConfig:
    from learner import scoring  # torch loads here, not in every web process

    return scoring.ScoringConfig(
        chunk_size=int(_setting("LEARNER_SCORING_CHUNK_SIZE", 2048)),
        batch_size=int(_setting("LEARNER_SCORING_BATCH_SIZE", 64)),
        candidate_factor=int(_setting("LEARNER_DIVERSITY_CANDIDATE_FACTOR", 10)),
        mc_passes=int(_setting("LEARNER_MC_PASSES", 8)),
        seed=seed,
    )


def _texts_of(ids: list[int]) -> list[str]:
    texts = dict(Item.objects.filter(pk__in=ids).values_list("id", "text"))
    return [texts[i] for i in ids]


def _model_for(plan: dict):
    version_id = plan.get("model_version")
    if version_id is None or plan["strategy"] in MODEL_FREE:
        return None
    version = ModelVersion.objects.get(pk=version_id)
    return load_classifier(version.backend, materialise(version.adapter_path))


def _embedder(model):
    if model is not None and hasattr(model, "embed"):
        return model.embed
    from learner.backends.ngram import tfidf_embed

    return tfidf_embed


def _plan_language(project: Project, language: Language, strategy: str, k: int) -> dict:
    """Which strategy and model a language is scored with, and why."""
    champion = champion_for(project=project, language=language)
    n_approved = approved_labels(project=project, language=language).count()
    cold_min = int(_setting("LEARNER_COLDSTART_MIN_LABELS", 20))
    plan = {
        "items": k,
        "strategy": strategy,
        "model_version": champion.pk if champion else None,
        "approved_labels": n_approved,
    }
    if strategy in NEEDS_WARM_MODEL and (champion is None or n_approved < cold_min):
        plan["strategy"] = "coldstart"
        plan["why_strategy"] = (
            f"cold start (diversity only): {n_approved} approved labels < {cold_min}"
            if champion
            else "cold start (diversity only): no champion model yet"
        )
    elif strategy == "bald" and champion is not None and champion.backend != "transformer":
        plan["strategy"] = "entropy"
        plan["why_strategy"] = "bald needs MC dropout, which the ngram champion lacks: entropy instead"
    else:
        plan["why_strategy"] = f"{strategy} on champion v{champion.pk}" if champion else strategy
    return plan


def _store_picks(run: SamplingRun, picked: scoring.Picked) -> None:
    offset = run.picks.count()
    SampledItem.objects.bulk_create(
        SampledItem(run=run, item_id=item_id, score=score, rank=offset + rank)
        for rank, (item_id, score) in enumerate(zip(picked.ids, picked.scores, strict=False))
    )
    for item_id, score in zip(picked.ids, picked.scores, strict=False):
        Item.objects.filter(pk=item_id).update(priority=1.0 + float(score))


def _finish_if_done(run: SamplingRun) -> None:
    plans = run.allocation
    if all(plan.get("done", True) for plan in plans.values()):
        run.status, run.progress, run.finished_at = RunStatus.SUCCEEDED, 1.0, timezone.now()
        run.save(update_fields=["status", "progress", "finished_at"])


def sampling_run_execute(
    *,
    project: Project,
    budget: int,
    strategy: str = "entropy",
    seed: int = 0,
    allocation: str = "parity",
    shard_size: int | None = None,
    floor: int | None = None,
) -> SamplingRun:
    """Split ``budget`` across the project's languages (``parity`` or ``uniform``), score each language's
    unlabeled pool and raise the priority of the chosen items in the assignment engine.

    Pools larger than ``shard_size`` (``LEARNER_SCORING_SHARD_SIZE``) are split into id ranges scored by a
    celery group of ``learner.score_shard`` tasks; the last shard to finish merges them. The run is
    ``running`` until then."""
    from learner import scoring  # torch loads here, not in every web process

    if strategy not in SAMPLING_STRATEGIES:
        raise ValidationError(
            gettext("unknown strategy %(strategy)s: choose from %(values)s")
            % {"strategy": repr(strategy), "values": ', '.join(SAMPLING_STRATEGIES)}
        )
    shard_size = shard_size or int(_setting("LEARNER_SCORING_SHARD_SIZE", 50_000))
    floor = int(_setting("LEARNER_ALLOCATION_FLOOR", 1)) if floor is None else floor
    languages = list(project.languages.order_by("code", "script"))
    states = []
    for language in languages:
        champion = champion_for(project=project, language=language)
        states.append(
            AllocationState(
                tag=language.tag,
                macro_f1=champion.macro_f1 if champion else None,
                unlabeled=unlabeled_pool(project=project, language=language).count(),
                capacity=qualified_capacity(project=project, language=language),
            )
        )
    try:
        shares = allocate_budget(budget, states, mode=allocation, floor=floor)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    config = _scoring_config(seed)
    plans: dict[str, dict] = {}
    for language in languages:
        share = shares[language.tag]
        plan = _plan_language(project, language, strategy, share["items"]) if share["items"] else {"items": 0}
        plans[language.tag] = {**share, **plan, "seed": seed, "done": share["items"] == 0}
    run = SamplingRun.objects.create(
        project=project,
        strategy=strategy,
        budget=budget,
        status=RunStatus.RUNNING,
        allocation=plans,
        allocation_mode=allocation,
    )
    shards: list[ScoringShard] = []
    for language in languages:
        plan = plans[language.tag]
        if plan["done"]:
            continue
        pool = unlabeled_pool(project=project, language=language)
        ranges = scoring.plan_shards(pool, shard_size)
        if len(ranges) > 1:
            plan["shards"] = len(ranges)
            shards.extend(
                ScoringShard.objects.create(run=run, language=language, index=i, id_from=lo, id_to=hi)
                for i, (lo, hi) in enumerate(ranges)
            )
            continue
        model = _model_for(plan)
        partial = scoring.collect(
            scoring.stream_queryset(pool, config.chunk_size),
            model=model,
            strategy=plan["strategy"],
            k=plan["items"],
            config=config,
        )
        picked = scoring.finalize(
            partial,
            strategy=plan["strategy"],
            k=plan["items"],
            texts_of=_texts_of,
            embed=_embedder(model),
            config=config,
        )
        with transaction.atomic():
            _store_picks(run, picked)
            plan.update(done=True, n_scored=picked.n_scored, picked=len(picked.ids))
    run.allocation = plans
    run.save(update_fields=["allocation"])
    if shards:
        from celery import group

        from learner.tasks import score_shard

        queue = training_queue()
        jobs = group(score_shard.si(shard.pk).set(queue=queue) for shard in shards)
        transaction.on_commit(jobs.apply_async)
    else:
        _finish_if_done(run)
    run.refresh_from_db()
    return run


def scoring_shard_execute(*, shard_id: int) -> ScoringShard:
    """Score one shard (idempotent); the last shard of its language merges all of them into the picks."""
    from learner import scoring  # torch loads here, not in every web process

    shard = ScoringShard.objects.select_related("run", "language").get(pk=shard_id)
    if shard.status == RunStatus.SUCCEEDED:
        return shard
    run, language = shard.run, shard.language
    plan = run.allocation[language.tag]
    config = _scoring_config(plan.get("seed", 0))
    model = _model_for(plan)
    pool = unlabeled_pool(project=run.project, language=language)
    try:
        partial = scoring.collect(
            scoring.stream_queryset(pool, config.chunk_size, shard.id_from, shard.id_to),
            model=model,
            strategy=plan["strategy"],
            k=plan["items"],
            config=config,
        )
    except Exception as exc:
        ScoringShard.objects.filter(pk=shard.pk).update(status=RunStatus.FAILED)
        SamplingRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, message=f"shard {shard.index} of {language.tag}: {exc}"[:2000]
        )
        raise
    ScoringShard.objects.filter(pk=shard.pk).update(
        status=RunStatus.SUCCEEDED, result=partial.as_dict(), n_scored=partial.n_scored, finished_at=timezone.now()
    )
    with transaction.atomic():
        run = SamplingRun.objects.select_for_update().get(pk=run.pk)
        plan = run.allocation[language.tag]
        siblings = list(ScoringShard.objects.filter(run=run, language=language))
        if plan.get("done") or any(s.status != RunStatus.SUCCEEDED for s in siblings):
            shard.refresh_from_db()
            return shard
        strategy, k = plan["strategy"], plan["items"]
        merged = scoring.merge_partials(
            (scoring.Partial.from_dict(s.result) for s in siblings),
            scoring.candidates_wanted(strategy, k, config),
            per_group=strategy == "stratified_random",
        )
        picked = scoring.finalize(
            merged, strategy=strategy, k=k, texts_of=_texts_of, embed=_embedder(model), config=config
        )
        _store_picks(run, picked)
        plan.update(done=True, n_scored=picked.n_scored, picked=len(picked.ids))
        run.allocation[language.tag] = plan
        run.save(update_fields=["allocation"])
        done = sum(1 for p in run.allocation.values() if p.get("done"))
        run.progress = done / max(1, len(run.allocation))
        run.save(update_fields=["progress"])
        _finish_if_done(run)
    shard.refresh_from_db()
    return shard


__all__ = [
    "model_version_promote",
    "model_version_rollback",
    "qualified_capacity",
    "retrain_due",
    "sampling_run_execute",
    "scoring_shard_execute",
    "training_queue",
    "training_run_create",
    "training_run_execute",
]
