"""Pool scoring: streaming top-k, sharded == unsharded, diversity and cold start, sampling runs."""
import numpy as np
import pytest
import torch

from annotation.models import Item
from learner.backends.ngram import NgramClassifier, tfidf_embed
from learner.models import RunStatus, SampledItem, ScoringShard
from learner.scoring import (
    Partial,
    RunningTopK,
    ScoringConfig,
    collect,
    finalize,
    merge_partials,
    score_pool,
)
from learner.services import sampling_run_execute, training_run_create, training_run_execute
from learner.strategies import entropy_scores
from tests.factories import TOPICS, learner_project

pytestmark = pytest.mark.django_db


class FakeModel:
    """Probabilities from a hash of the text; records the largest batch it was ever given."""

    device = torch.device("cpu")

    def __init__(self):
        self.largest = 0

    def predict_proba(self, texts):
        self.largest = max(self.largest, len(texts))
        rng = [np.random.default_rng(abs(hash(t)) % 2**32).random(3) + 0.05 for t in texts]
        p = np.array(rng, dtype=np.float32)
        return p / p.sum(axis=1, keepdims=True)


def rows(n):
    return [(i * 3 + 1, f"text {i}") for i in range(n)]


def test_running_topk_matches_a_full_sort_with_ties_to_the_lowest_id():
    gen = torch.Generator().manual_seed(0)
    scores = torch.randint(0, 20, (500,), generator=gen).double()  # many ties
    ids = torch.randperm(500, generator=gen) + 1000
    top = RunningTopK(37)
    for start in range(0, 500, 64):
        top.push(scores[start:start + 64], ids[start:start + 64])
    expected = sorted(zip(ids.tolist(), scores.tolist(), strict=False), key=lambda p: (-p[1], p[0]))[:37]
    assert top.items() == expected


@pytest.mark.parametrize("strategy", ["entropy", "margin", "least_confidence", "random"])
def test_streaming_equals_scoring_everything_at_once(strategy):
    model, pool = FakeModel(), rows(1000)
    small = collect(pool, model=model, strategy=strategy, k=25, config=ScoringConfig(chunk_size=64))
    assert model.largest <= 64  # memory bounded by the chunk, whatever the pool size
    big = collect(pool, model=FakeModel(), strategy=strategy, k=25, config=ScoringConfig(chunk_size=10_000))
    assert small.candidates == big.candidates and small.n_scored == 1000
    if strategy == "entropy":
        probs = torch.from_numpy(FakeModel().predict_proba([t for _, t in pool]))
        best = torch.topk(entropy_scores(probs), 25).indices.tolist()
        assert [c[0] for c in small.candidates] == [pool[i][0] for i in best]


@pytest.mark.parametrize("strategy", ["entropy", "random", "stratified_random", "diversity", "coldstart"])
def test_sharded_partials_merge_to_the_unsharded_pick(strategy):
    pool, k = rows(600), 20
    config = ScoringConfig(chunk_size=50, candidate_factor=5, seed=3)
    texts = dict(pool)

    def texts_of(ids):
        return [texts[i] for i in ids]

    whole = score_pool(pool, model=FakeModel(), strategy=strategy, k=k, texts_of=texts_of, embed=tfidf_embed,
                       config=config)
    parts = [collect(pool[a:b], model=FakeModel(), strategy=strategy, k=k, config=config)
             for a, b in ((0, 170), (170, 400), (400, 600))]
    m = k * 5 if strategy in ("diversity", "coldstart") else k
    merged = merge_partials([Partial.from_dict(p.as_dict()) for p in parts], m,
                            per_group=strategy == "stratified_random")
    sharded = finalize(merged, strategy=strategy, k=k, texts_of=texts_of, embed=tfidf_embed, config=config)
    assert sharded.ids == whole.ids and len(whole.ids) == k and len(set(whole.ids)) == k
    assert sharded.n_scored == whole.n_scored == 600


def test_diversity_spreads_a_batch_of_near_duplicates():
    # 50 near-identical confusing sentences and 50 different, slightly less confusing ones
    dupes = [(i, f"the same confusing sentence {i % 3}") for i in range(50)]
    others = [(100 + i, f"{w} {w[::-1]} varied words number {i}") for i, w in
              enumerate(["alpha", "beta", "gamma", "delta", "omega"] * 10)]
    pool = dupes + others

    class Confused(FakeModel):
        def predict_proba(self, texts):
            return np.array([[0.34, 0.33, 0.33] if "confusing" in t else [0.5, 0.3, 0.2] for t in texts],
                            dtype=np.float32)

    texts = dict(pool)
    plain = score_pool(pool, model=Confused(), strategy="entropy", k=10)
    diverse = score_pool(pool, model=Confused(), strategy="diversity", k=10, embed=tfidf_embed,
                         texts_of=lambda ids: [texts[i] for i in ids], config=ScoringConfig(candidate_factor=10))
    assert all(i < 100 for i in plain.ids)
    assert any(i >= 100 for i in diverse.ids)
    assert len({texts[i] for i in diverse.ids}) > len({texts[i] for i in plain.ids})


def test_cold_start_without_a_model_covers_the_topics():
    from annotation.corpora import synthetic_corpus

    corpus = synthetic_corpus(["hau_Latn"], labels=TOPICS, sizes={"train": 300}, topic_share=0.6)["hau_Latn"]
    pool = [(i, row.text) for i, row in enumerate(corpus["train"])]
    label = {i: row.label for i, row in enumerate(corpus["train"])}
    texts = dict(pool)
    picked = score_pool(pool, model=None, strategy="coldstart", k=9, embed=tfidf_embed,
                        texts_of=lambda ids: [texts[i] for i in ids])
    assert len(picked.ids) == 9 and len({label[i] for i in picked.ids}) == 3


def test_ngram_embed_has_a_row_per_text():
    model = NgramClassifier(TOPICS)
    model.fit(["aa bb", "cc dd", "ee ff", "aa cc"], ["politics", "sports", "health", "politics"])
    emb = model.embed(["aa bb", "cc dd", "zz"])
    assert emb.shape[0] == 3 and torch.isfinite(emb).all()


# ------------------------------------------------------------------------------------------
# sampling runs against the database
# ------------------------------------------------------------------------------------------


def _trained_project(*args, **kwargs):
    project, truth = learner_project(*args, **kwargs)
    run = training_run_create(project=project, dispatch=False)
    training_run_execute(run_id=run.pk)
    return project, truth


def test_sampling_run_records_allocation_and_raises_priority(settings):
    settings.LEARNER_COLDSTART_MIN_LABELS = 10
    project, _ = _trained_project(labeled={"hau_Latn": 40, "amh_Ethi": 12}, pool=80)
    run = sampling_run_execute(project=project, budget=20, strategy="entropy")
    assert run.status == RunStatus.SUCCEEDED and run.allocation_mode == "parity"
    picks = list(run.picks.select_related("item"))
    assert len(picks) == 20 and len({p.item_id for p in picks}) == 20
    for _tag, plan in run.allocation.items():
        assert plan["reason"] and plan["strategy"] == "entropy" and plan["done"]
        assert plan["picked"] == plan["items"]
    assert sum(plan["items"] for plan in run.allocation.values()) == 20
    assert not Item.objects.filter(pk__in=[p.item_id for p in picks], status=Item.Status.APPROVED).exists()
    assert all(p.item.priority >= 1.0 for p in picks)


def test_parity_allocation_favours_the_weaker_language(settings):
    settings.LEARNER_COLDSTART_MIN_LABELS = 5
    # harder synthetic text (topic_share 0.3) so 6 labels really leave amh far behind 45 for hau
    project, _ = _trained_project(labeled={"hau_Latn": 45, "amh_Ethi": 6}, pool=100, topic_share=0.3)
    f1 = {v.language.tag: v.macro_f1 for v in project.model_versions.select_related("language")}
    weak = min(f1, key=f1.get)
    assert max(f1.values()) - f1[weak] > 0.2, f1  # the premise: one language lags
    parity = sampling_run_execute(project=project, budget=30, allocation="parity")
    uniform = sampling_run_execute(project=project, budget=30, allocation="uniform")
    assert parity.allocation[weak]["items"] > uniform.allocation[weak]["items"] == 15


def test_cold_start_is_used_below_the_label_threshold(settings):
    settings.LEARNER_COLDSTART_MIN_LABELS = 50
    project, _ = _trained_project(labeled=20, pool=60)
    run = sampling_run_execute(project=project, budget=10, strategy="entropy")
    assert {plan["strategy"] for plan in run.allocation.values()} == {"coldstart"}
    assert "cold start" in run.allocation["hau_Latn"]["why_strategy"]
    assert run.picks.count() == 10


def test_no_capacity_no_items(settings):
    project, _ = learner_project(labeled=0, pool=30, evaluators=0)
    run = sampling_run_execute(project=project, budget=10, strategy="random")
    assert run.picks.count() == 0 and "capacity" in run.allocation["hau_Latn"]["reason"]


def test_sharded_sampling_run_picks_what_the_unsharded_run_picks(settings, django_capture_on_commit_callbacks):
    settings.LEARNER_COLDSTART_MIN_LABELS = 5
    project, _ = _trained_project(labeled=30, pool=150)
    one = sampling_run_execute(project=project, budget=24, strategy="entropy", shard_size=10_000)
    expected = [p.item_id for p in one.picks.all()]
    SampledItem.objects.filter(run=one).delete()  # same pool again (priorities do not change the pool)
    with django_capture_on_commit_callbacks(execute=True):
        sharded = sampling_run_execute(project=project, budget=24, strategy="entropy", shard_size=40)
    sharded.refresh_from_db()
    assert ScoringShard.objects.filter(run=sharded).count() == 6  # 120 unlabeled per language / 40
    assert sharded.status == RunStatus.SUCCEEDED
    assert [p.item_id for p in sharded.picks.all()] == expected and len(expected) == 24
    assert sharded.allocation["hau_Latn"]["shards"] == 3


@pytest.mark.parametrize("strategy", ["margin", "least_confidence", "diversity", "random", "stratified_random",
                                      "bald"])
def test_every_strategy_runs_through_the_sampling_service(settings, strategy):
    settings.LEARNER_COLDSTART_MIN_LABELS = 5
    project, _ = _trained_project(("hau_Latn",), labeled=30, pool=70)
    run = sampling_run_execute(project=project, budget=8, strategy=strategy, allocation="uniform")
    plan = run.allocation["hau_Latn"]
    assert run.status == RunStatus.SUCCEEDED and run.picks.count() == 8 and plan["picked"] == 8
    if strategy == "bald":  # the ngram champion has no dropout
        assert plan["strategy"] == "entropy" and "MC dropout" in plan["why_strategy"]


def test_unknown_strategy_is_a_clear_error():
    from django.core.exceptions import ValidationError

    project, _ = learner_project(("hau_Latn",), labeled=0, pool=5)
    with pytest.raises(ValidationError, match="unknown strategy"):
        sampling_run_execute(project=project, budget=3, strategy="clairvoyant")
