"""One shard of a sampling run's pool, scored by one worker; the last shard of a language merges them."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from learner.models import RunStatus, SamplingRun, ScoringShard
from learner.sampling import _embedder, _finish_if_done, _model_for, _scoring_config, _store_picks, _texts_of
from learner.selectors import unlabeled_pool


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
