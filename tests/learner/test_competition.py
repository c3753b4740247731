"""Per-language backend competition: a run trains several backends for each language, every candidate
is recorded with the scores that decided, and the registry promotes the best on that language's dev
data only if it beats the champion. Bad candidates lists, a crash mid-competition, the schedule."""
import pytest
from django.core.exceptions import ValidationError

from learner.backends.ngram import NgramClassifier
from learner.models import ModelVersion, RunStatus, TrainingRun
from learner.selectors import champion_for
from learner.services import retrain_due, training_run_create, training_run_execute
from tests.factories import language, learner_project

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tiny_backbone")]
CANDIDATES = ["ngram", "frozen", "blend"]


def compete(project, candidates=CANDIDATES, **kwargs):
    run = training_run_create(project=project, candidates=candidates, dispatch=False, **kwargs)
    return training_run_execute(run_id=run.pk)


def test_each_language_is_served_by_its_best_backend_on_dev_and_the_scores_are_kept():
    project, _ = learner_project(("hau_Latn", "amh_Ethi"), labeled=30, pool=30, heldout=15)
    run = compete(project)
    assert run.status == RunStatus.SUCCEEDED and run.config["candidates"] == CANDIDATES
    for tag in ("hau_Latn", "amh_Ethi"):
        versions = list(run.model_versions.filter(language=language(tag)))
        assert sorted(v.backend for v in versions) == sorted(CANDIDATES)
        champion = champion_for(project=project, language=language(tag))
        # never worse than the best single backend on the language's evaluation data
        assert champion.macro_f1 == max(v.macro_f1 for v in versions)
        scores = champion.metrics["competition"]["scores"]
        assert scores == {v.backend: v.macro_f1 for v in versions}
        assert champion.metrics["competition"]["winner"] == champion.backend
        assert "won the per-language competition" in champion.status_reason
        losers = [v for v in versions if v.pk != champion.pk]
        assert all(v.status == ModelVersion.Status.CANDIDATE for v in losers)
        assert all(f"lost the per-language competition to {champion.backend}" in v.status_reason for v in losers)


def test_a_later_competition_must_beat_the_champion_on_the_same_data():
    project, _ = learner_project(("hau_Latn",), labeled=30, pool=30, heldout=15)
    compete(project, ["ngram"])
    champion = champion_for(project=project, language=language("hau_Latn"))
    run = compete(project, ["ngram", "blend"])
    versions = list(run.model_versions.all())
    best = max(versions, key=lambda v: (v.macro_f1, v.backend == "ngram"))
    after = champion_for(project=project, language=language("hau_Latn"))
    assert all(v.metrics["champion_macro_f1"] == pytest.approx(champion.macro_f1) for v in versions)
    assert versions[0].metrics["competition"]["champion"]["version"] == champion.pk
    if best.macro_f1 > champion.macro_f1:
        assert after.training_run_id == run.pk and after.macro_f1 == best.macro_f1
    else:
        assert after.pk == champion.pk and all(v.status == ModelVersion.Status.CANDIDATE for v in versions)
    assert after.macro_f1 >= max(v.macro_f1 for v in versions)


def test_a_crash_mid_competition_records_nothing_for_that_language_and_redelivery_finishes(monkeypatch):
    project, _ = learner_project(("hau_Latn",), labeled=24, pool=24, heldout=10)
    from learner.backends.frozen import FrozenClassifier

    real = FrozenClassifier.fit

    def boom(self, texts, labels):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(FrozenClassifier, "fit", boom)
    run = training_run_create(project=project, candidates=["ngram", "frozen"], dispatch=False)
    with pytest.raises(RuntimeError):
        training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "worker killed" in run.message
    assert not ModelVersion.objects.exists()  # the n-gram candidate trained, but no half-decided language
    monkeypatch.setattr(FrozenClassifier, "fit", real)
    TrainingRun.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED)
    training_run_execute(run_id=run.pk)
    assert sorted(run.model_versions.values_list("backend", flat=True)) == ["frozen", "ngram"]
    assert ModelVersion.objects.filter(status="champion").count() == 1


def test_bad_candidates_are_refused_before_anything_is_queued():
    project, _ = learner_project(("hau_Latn",), labeled=4, pool=4, heldout=0)
    with pytest.raises(ValidationError, match="unknown learner backend gpt"):
        training_run_create(project=project, candidates=["ngram", "gpt"], dispatch=False)
    with pytest.raises(ValidationError, match="unknown learner backend nope"):
        training_run_create(project=project, backend="nope", dispatch=False)
    with pytest.raises(ValidationError, match="shared adapter"):
        training_run_create(project=project, candidates=["ngram", "frozen"], config={"shared_adapter": True},
                            dispatch=False)
    assert not TrainingRun.objects.exists()


def test_one_candidate_behaves_like_a_plain_run(monkeypatch):
    project, _ = learner_project(("hau_Latn",), labeled=20, pool=20, heldout=10)
    fits = []
    real = NgramClassifier.fit
    monkeypatch.setattr(NgramClassifier, "fit", lambda self, t, y: (fits.append(1), real(self, t, y)))
    run = compete(project, ["ngram", "ngram"])  # duplicates collapse
    version = run.model_versions.get()
    assert len(fits) == 1 and "competition" not in version.metrics
    assert version.status_reason == "first model for this language"


def test_the_schedule_lets_the_configured_backends_compete(settings):
    settings.LEARNER_COMPETITION_BACKENDS = ["ngram", "blend"]
    project, _ = learner_project(("hau_Latn",), labeled=6, pool=6, heldout=0)
    (run,) = retrain_due(min_new_labels=1, dispatch=False)
    assert run.config["candidates"] == ["ngram", "blend"] and run.backend == "ngram"
    settings.LEARNER_COMPETITION_BACKENDS = []
    TrainingRun.objects.all().delete()
    (run,) = retrain_due(min_new_labels=1, dispatch=False)
    assert "candidates" not in run.config


def test_a_backbone_feature_champion_scores_the_pool_with_its_own_embeddings():
    from learner.services import sampling_run_execute

    project, _ = learner_project(("hau_Latn",), labeled=24, pool=40, heldout=10)
    compete(project, ["frozen"])
    champion = champion_for(project=project, language=language("hau_Latn"))
    assert champion.backend == "frozen"
    run = sampling_run_execute(project=project, budget=5, strategy="bald")
    plan = run.allocation["hau_Latn"]
    assert run.status == RunStatus.SUCCEEDED and run.picks.count() == 5
    assert plan["strategy"] == "entropy" and "frozen champion lacks" in plan["why_strategy"]
    run = sampling_run_execute(project=project, budget=4, strategy="diversity")
    assert run.picks.count() == 4
