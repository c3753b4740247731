"""Sampling runs: split a budget across a project's languages, score each language's unlabeled pool and
raise the priority of the chosen items in the assignment engine (large pools go out as scoring shards,
see ``learner.scoring_shards``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext

from annotation.models import Item, Project
from evaluators.models import Language, PoolMembership
from learner.allocation import LanguageState as AllocationState
from learner.allocation import allocate_budget
from learner.artifacts import materialise
from learner.backends import load_classifier
from learner.conf import setting, training_queue
from learner.models import ModelVersion, RunStatus, SampledItem, SamplingRun, ScoringShard
from learner.selectors import approved_labels, champion_for, unlabeled_pool
from learner.strategy_names import STRATEGIES as SAMPLING_STRATEGIES

if TYPE_CHECKING:
    from learner import scoring

MODEL_FREE = ("random", "coldstart")
NEEDS_WARM_MODEL = ("entropy", "least_confidence", "margin", "bald", "diversity")


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
        chunk_size=int(setting("LEARNER_SCORING_CHUNK_SIZE", 2048)),
        batch_size=int(setting("LEARNER_SCORING_BATCH_SIZE", 64)),
        candidate_factor=int(setting("LEARNER_DIVERSITY_CANDIDATE_FACTOR", 10)),
        mc_passes=int(setting("LEARNER_MC_PASSES", 8)),
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
    cold_min = int(setting("LEARNER_COLDSTART_MIN_LABELS", 20))
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
        plan["why_strategy"] = f"bald needs MC dropout, which the {champion.backend} champion lacks: entropy instead"
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
    shard_size = shard_size or int(setting("LEARNER_SCORING_SHARD_SIZE", 50_000))
    floor = int(setting("LEARNER_ALLOCATION_FLOOR", 1)) if floor is None else floor
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
