"""The console shows which backend serves each language and the scores of the competition that decided
it; the retrain form queues a competition, and refuses unknown backends."""
import pytest
from django.urls import reverse

from learner.models import ModelVersion, TrainingRun
from tests.factories import language

pytestmark = pytest.mark.django_db


def competition_versions(project, hausa):
    decided = {"scores": {"ngram": 0.674, "frozen": 0.452, "blend": 0.701}, "winner": "blend",
               "champion": {"version": 1, "backend": "ngram", "macro_f1": 0.66}}
    champion = ModelVersion.objects.create(
        project=project, language=hausa, backend="blend", adapter_path="a", macro_f1=0.701,
        status=ModelVersion.Status.CHAMPION, metrics={"macro_f1": 0.701, "competition": decided},
        status_reason="blend won the per-language competition")
    ModelVersion.objects.create(project=project, language=hausa, backend="frozen", adapter_path="b", macro_f1=0.452,
                                metrics={"macro_f1": 0.452, "competition": decided},
                                status_reason="lost the per-language competition to blend")
    return champion


def test_parity_page_says_which_backend_serves_each_language_and_why(client, project, hausa, staff):
    urdu = language("urd_Arab")
    project.languages.add(urdu)
    competition_versions(project, hausa)
    ModelVersion.objects.create(project=project, language=urdu, backend="ngram", adapter_path="c", macro_f1=0.6,
                                status=ModelVersion.Status.CHAMPION)
    client.force_login(staff)
    html = client.get(reverse("learner:parity")).content.decode()
    served = html.split('data-test="served-by"')[1:]
    assert len(served) == 2
    hausa_cell = next(cell for cell in served if "blend" in cell.split("</td>")[0]).split("</td>")[0]
    assert "<strong>blend 0.701</strong>" in hausa_cell and "ngram 0.674" in hausa_cell
    assert "frozen 0.452" in hausa_cell and "champion v1 (ngram) 0.660" in hausa_cell
    assert any("<strong>ngram</strong>" in cell.split("</td>")[0] for cell in served)


def test_runs_page_shows_each_models_backend_and_the_deciding_scores(client, project, hausa, staff):
    competition_versions(project, hausa)
    TrainingRun.objects.create(project=project, config={"candidates": ["ngram", "frozen", "blend"]})
    client.force_login(staff)
    html = client.get(reverse("learner:runs")).content.decode()
    assert "competition: ngram, frozen, blend" in html
    assert html.count('data-test="decided-by"') == 2 and "<strong>blend 0.701</strong>" in html
    assert '<td data-test="backend">frozen</td>' in html


def test_retrain_form_queues_a_competition_and_refuses_unknown_backends(client, project, staff, monkeypatch):
    from learner import services as learner_services

    real = learner_services.training_run_create
    monkeypatch.setattr(learner_services, "training_run_create", lambda **kw: real(**{**kw, "dispatch": False}))
    client.force_login(staff)
    client.post(reverse("learner:retrain"), {"project": project.pk, "candidates": ["ngram", "blend"]})
    run = TrainingRun.objects.get()
    assert run.config["candidates"] == ["ngram", "blend"] and run.trigger == "console"
    response = client.post(reverse("learner:retrain"), {"project": project.pk, "candidates": ["ngram", "gpt-9"]},
                           follow=True)
    assert "Unknown backend." in response.content.decode() and TrainingRun.objects.count() == 1
