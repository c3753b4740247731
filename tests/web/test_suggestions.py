"""Model suggestions: off by default; when a project turns them on, the workspace and the review queue
show the real champion's top label and confidence (cached per item, recomputed for a new champion), and
the annotation records what was shown. Predictions come from the trained model, never invented."""
from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from annotation.models import Annotation, Assignment, Item
from annotation.suggestions import suggestions_for
from learner.models import ModelVersion
from learner.services import training_run_create, training_run_execute
from learner.suggestions import ChampionSuggester, suggestions_precompute
from tests import factories as f

pytestmark = pytest.mark.django_db

JSON = {"content_type": "application/json", "HTTP_ACCEPT": "application/json"}


@pytest.fixture
def trained():
    project, truth = f.learner_project(("hau_Latn",), pool=60, labeled=40, heldout=20, evaluators=1, seed=3)
    run = training_run_execute(run_id=training_run_create(project=project, dispatch=False).pk)
    champion = ModelVersion.objects.get(project=project, status=ModelVersion.Status.CHAMPION)
    assert run.status == "succeeded"
    evaluator = project.pools.get().memberships.get().user
    return project, truth["hau_Latn"], champion, evaluator


def _open(project):
    return list(Item.objects.filter(project=project, status=Item.Status.OPEN).select_related("project"))


def test_off_by_default(trained, client):
    project, _truth, _champion, evaluator = trained
    assert project.show_suggestions is False
    assert suggestions_for(_open(project)) == {}
    client.force_login(evaluator)
    html = client.get(reverse("annotation:workspace")).content.decode()
    assert 'data-test="suggestion" hidden' in html


def test_suggestions_are_the_champions_predictions_cached_per_item(trained):
    project, _truth, champion, _evaluator = trained
    project.show_suggestions = True
    project.save()
    items = _open(project)
    shown = suggestions_for(items)
    expected = ChampionSuggester().predict(version_id=champion.pk, texts=[i.text for i in items])
    assert [(shown[i.pk].label, round(shown[i.pk].confidence, 6)) for i in items] == [
        (label, round(conf, 6)) for label, conf in expected]
    assert all(s.version == champion.pk and 0 < s.confidence <= 1 for s in shown.values())
    stored = Item.objects.get(pk=items[0].pk)
    assert (stored.suggestion_version, stored.suggestion_label) == (champion.pk, shown[items[0].pk].label)
    # Cached: a second read does not predict again.
    class Refuse:
        def champion_id(self, **kwargs):
            return champion.pk

        def predict(self, **kwargs):
            raise AssertionError("predicted again")

    from annotation import suggestions

    previous = suggestions._suggester
    suggestions.suggester_register(Refuse())
    try:
        assert suggestions_for(_open(project)).keys() == shown.keys()
    finally:
        suggestions.suggester_register(previous)


def test_no_champion_no_suggestion(trained):
    project, _truth, champion, _evaluator = trained
    project.show_suggestions = True
    project.save()
    ModelVersion.objects.filter(pk=champion.pk).update(status=ModelVersion.Status.RETIRED)
    assert suggestions_for(_open(project)) == {}


def test_precompute_after_promotion_fills_every_open_item(trained):
    project, _truth, champion, _evaluator = trained
    project.show_suggestions = True
    project.save()
    n = suggestions_precompute(version_id=champion.pk)
    assert n == len(_open(project)) > 0
    assert not Item.objects.filter(project=project, status=Item.Status.OPEN).exclude(
        suggestion_version=champion.pk).exists()
    assert suggestions_precompute(version_id=champion.pk) == 0  # idempotent


def test_workspace_shows_and_the_annotation_records_it(trained, client):
    project, _truth, champion, evaluator = trained
    project.show_suggestions = True
    project.save()
    client.force_login(evaluator)
    html = client.get(reverse("annotation:workspace")).content.decode()
    assert 'data-test="suggestion" hidden' not in html and "Model suggestion" in html
    lease = Assignment.objects.filter(evaluator=evaluator, status=Assignment.Status.ACTIVE).order_by("id").first()
    item = Item.objects.get(pk=lease.item_id)
    body = client.post(reverse("annotation:assignment_submit", args=[lease.public_id]),
                       {"label": "sports", "idempotency_key": uuid.uuid4().hex, "suggestion_version": champion.pk},
                       **JSON).json()
    assert body["next"]["suggestion"]["version"] == champion.pk
    annotation = Annotation.objects.get(assignment=lease)
    assert (annotation.suggestion_shown_label, annotation.suggestion_shown_version) == (item.suggestion_label,
                                                                                       champion.pk)
    assert annotation.suggestion_shown_confidence == pytest.approx(item.suggestion_confidence)


def test_a_forged_or_missing_echo_records_nothing(trained, client):
    project, _truth, champion, evaluator = trained
    project.show_suggestions = True
    project.save()
    client.force_login(evaluator)
    client.get(reverse("annotation:workspace"))
    leases = list(Assignment.objects.filter(evaluator=evaluator, status=Assignment.Status.ACTIVE).order_by("id"))
    for lease, echo in zip(leases, [champion.pk + 999, None], strict=False):
        client.post(reverse("annotation:assignment_submit", args=[lease.public_id]),
                    {"label": "sports", "idempotency_key": uuid.uuid4().hex, "suggestion_version": echo}, **JSON)
        annotation = Annotation.objects.get(assignment=lease)
        assert annotation.suggestion_shown_label == "" and annotation.suggestion_shown_version is None


def test_review_queue_shows_the_suggestion(trained, admin_client):
    project, _truth, champion, _evaluator = trained
    project.show_suggestions = True
    project.save()
    item = _open(project)[0]
    Item.objects.filter(pk=item.pk).update(status=Item.Status.ADJUDICATION, review_reason="tie")
    html = admin_client.get(reverse("annotation:review_queue")).content.decode()
    stored = Item.objects.get(pk=item.pk)
    assert f"Model suggestion (v{champion.pk})" in html and stored.suggestion_label in html


def test_promoting_a_champion_precomputes_in_the_background(trained, django_capture_on_commit_callbacks):
    from learner.services import model_version_promote

    project, _truth, champion, _evaluator = trained
    project.show_suggestions = True
    project.save()
    with django_capture_on_commit_callbacks(execute=True):
        model_version_promote(version=champion, reason="again")  # tasks run eagerly in the test settings
    assert not Item.objects.filter(project=project, status=Item.Status.OPEN).exclude(
        suggestion_version=champion.pk).exists()
