"""The learner's console pages as an admin meets them: promote and roll back with a confirmation,
never a worse model by one click, and numbers shown as a person reads them."""
import pytest
from django.urls import reverse

from learner.models import ModelVersion, RunStatus, SamplingRun

pytestmark = pytest.mark.django_db


def version(project, language, f1, status=ModelVersion.Status.CANDIDATE, **extra):
    return ModelVersion.objects.create(project=project, language=language, backend="ngram", adapter_path="a",
                                       macro_f1=f1, status=status, **extra)


@pytest.fixture
def console(client, staff):
    client.force_login(staff)
    return client


def test_promote_asks_for_confirmation_before_changing_the_champion(console, project, hausa):
    champion = version(project, hausa, 0.50, ModelVersion.Status.CHAMPION)
    candidate = version(project, hausa, 0.61, metrics={"champion_macro_f1": 0.52})
    url = reverse("learner:model_action", args=[candidate.pk, "promote"])
    page = console.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and 'data-test="confirm-form"' in html
    assert "0.610" in html and "0.520" in html and f"v{champion.pk}" in html  # like against like
    candidate.refresh_from_db()
    assert candidate.status == ModelVersion.Status.CANDIDATE  # looking changes nothing
    console.post(url)  # a bare POST (no confirmation) changes nothing either
    candidate.refresh_from_db()
    assert candidate.status == ModelVersion.Status.CANDIDATE
    console.post(url, {"confirm": "yes"})
    candidate.refresh_from_db(), champion.refresh_from_db()
    assert candidate.status == ModelVersion.Status.CHAMPION and champion.status == ModelVersion.Status.RETIRED


def test_a_candidate_worse_than_the_champion_is_warned_and_needs_an_explicit_override(console, project, hausa):
    champion = version(project, hausa, 0.50, ModelVersion.Status.CHAMPION)
    worse = version(project, hausa, 0.038, metrics={"champion_macro_f1": 0.49},
                    status_reason="kept as candidate: macro-F1 0.038 does not beat the champion")
    runs = console.get(reverse("learner:runs")).content.decode()
    assert "not better than champion" in runs and "Promote anyway" in runs
    url = reverse("learner:model_action", args=[worse.pk, "promote"])
    html = console.get(url).content.decode()
    assert 'data-test="worse-warning"' in html and 'name="accept_worse"' in html
    response = console.post(url, {"confirm": "yes"}, follow=True)
    assert "tick the box" in response.content.decode()
    worse.refresh_from_db(), champion.refresh_from_db()
    assert worse.status == ModelVersion.Status.CANDIDATE and champion.status == ModelVersion.Status.CHAMPION
    console.post(url, {"confirm": "yes", "accept_worse": "yes"})
    worse.refresh_from_db()
    assert worse.status == ModelVersion.Status.CHAMPION


def test_after_a_rollback_the_newer_version_is_restored_not_rolled_back_to(console, project, hausa):
    old = version(project, hausa, 0.40, ModelVersion.Status.RETIRED)
    new = version(project, hausa, 0.45, ModelVersion.Status.CHAMPION)
    html = console.get(reverse("learner:runs")).content.decode()
    assert reverse("learner:model_action", args=[old.pk, "rollback"]) in html
    console.post(reverse("learner:model_action", args=[old.pk, "rollback"]), {"confirm": "yes"})
    old.refresh_from_db(), new.refresh_from_db()
    assert old.status == ModelVersion.Status.CHAMPION and new.status == ModelVersion.Status.RETIRED
    html = console.get(reverse("learner:runs")).content.decode()
    assert reverse("learner:model_action", args=[new.pk, "rollback"]) not in html
    assert reverse("learner:model_action", args=[new.pk, "restore"]) in html and "Make champion again" in html
    # an old bookmarked "rollback" link to the newer version lands on the restore confirmation
    response = console.get(reverse("learner:model_action", args=[new.pk, "rollback"]))
    assert response["Location"] == reverse("learner:model_action", args=[new.pk, "restore"])


def test_the_champion_offers_no_action(console, project, hausa):
    champion = version(project, hausa, 0.5, ModelVersion.Status.CHAMPION)
    response = console.post(reverse("learner:model_action", args=[champion.pk, "promote"]), {"confirm": "yes"})
    assert response.status_code == 302
    assert ModelVersion.objects.get().status == ModelVersion.Status.CHAMPION


def test_confirmation_page_is_staff_only(ev_client, project, hausa):
    candidate = version(project, hausa, 0.6)
    assert ev_client.get(reverse("learner:model_action", args=[candidate.pk, "promote"])).status_code == 403
    assert ev_client.post(reverse("learner:model_action", args=[candidate.pk, "promote"]),
                          {"confirm": "yes"}).status_code == 403


def test_runs_page_shows_allocation_as_a_table_and_counts_as_integers(console, project, hausa):
    version(project, hausa, 0.5, ModelVersion.Status.CHAMPION, metrics={"n_eval": 46.0, "accuracy": 0.61})
    SamplingRun.objects.create(project=project, strategy="entropy", budget=20, status=RunStatus.SUCCEEDED,
                               allocation={"hau_Latn": {"items": 20.0, "weight": 0.5, "strategy": "entropy",
                                                        "n_scored": 300, "picked": 20, "done": True,
                                                        "reason": "champion macro-F1 0.500"}})
    html = console.get(reverse("learner:runs")).content.decode()
    assert "n_eval 46," in html or "n_eval 46<" in html
    assert "46.000" not in html and "{&#x27;" not in html and "{'" not in html  # no Python dict
    assert 'data-test="allocation"' in html and "champion macro-F1 0.500" in html
    assert '<td class="num">300</td>' in html and '<td class="num">20</td>' in html
