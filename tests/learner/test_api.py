"""The learner API: admins only; asking for a sampling round feeds the assignment queue."""
import json

import pytest
from rest_framework.test import APIClient

from learner.models import SamplingRun
from tests.factories import UserFactory, admin_user, learner_project

pytestmark = pytest.mark.django_db


def admin_client() -> APIClient:
    client = APIClient()
    client.force_authenticate(admin_user(is_staff=True))
    return client


def test_sample_now_runs_a_sampling_round(django_capture_on_commit_callbacks):
    project, _ = learner_project(("hau_Latn",), labeled=0, pool=30)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client().post(
            "/api/sampling-runs/", {"project": project.slug, "budget": 5, "strategy": "random"}, format="json"
        )
    assert response.status_code == 202
    run = SamplingRun.objects.get(project=project)
    assert run.picks.count() == 5 and run.strategy == "random"
    listed = admin_client().get("/api/sampling-runs/").json()
    assert listed["results"][0]["id"] == run.pk


def test_sample_now_rejects_an_unknown_strategy_by_name():
    project, _ = learner_project(("hau_Latn",), labeled=0, pool=5)
    response = admin_client().post(
        "/api/sampling-runs/", {"project": project.slug, "budget": 5, "strategy": "psychic"}, format="json"
    )
    assert response.status_code == 400 and "psychic" in str(response.json()["strategy"])
    assert not SamplingRun.objects.exists()


def test_sample_now_is_admin_only():
    project, _ = learner_project(("hau_Latn",), labeled=0, pool=5)
    client = APIClient()
    client.force_authenticate(UserFactory())
    assert client.post("/api/sampling-runs/", {"project": project.slug, "budget": 5}).status_code == 403
    assert APIClient().get("/api/sampling-runs/").status_code in (401, 403)


@pytest.mark.parametrize("slug", ["a\x00b", "\ud9c5\udfae", 12, ["x"], "x" * 300])
@pytest.mark.parametrize("url", ["/api/training-runs/", "/api/sampling-runs/"])
def test_project_values_no_slug_can_be_are_400(url, slug):
    client = APIClient()
    client.force_authenticate(admin_user())
    body = json.dumps({"project": slug, "budget": 1}, ensure_ascii=True)
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 400 and "project" in response.json()


def test_training_run_api_queues_a_competition_and_rejects_unknown_backends(monkeypatch):
    from learner import api
    from learner.models import TrainingRun

    real = api.training_run_create
    monkeypatch.setattr(api, "training_run_create", lambda **kw: real(**{**kw, "dispatch": False}))
    project, _ = learner_project(("hau_Latn",), labeled=0, pool=5)
    response = admin_client().post("/api/training-runs/", {"project": project.slug,
                                                           "candidates": ["ngram", "frozen"]}, format="json")
    assert response.status_code == 201 and response.json()["candidates"] == ["ngram", "frozen"]
    assert TrainingRun.objects.get().config["candidates"] == ["ngram", "frozen"]
    bad = admin_client().post("/api/training-runs/", {"project": project.slug, "candidates": ["ngram", "gpt"]},
                              format="json")
    assert bad.status_code == 400 and "gpt" in str(bad.json()["candidates"])
    plain = admin_client().post("/api/training-runs/", {"project": project.slug}, format="json").json()
    assert plain["candidates"] == [] and plain["backend"] == "ngram"
