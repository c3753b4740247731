"""Turning a project's model suggestions on and off from the console's health page: a POST with CSRF,
for the project's managers and admins only, with a confirmation message and an entry in the project's
admin history; the workspace shows suggestions only while they are on."""
from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse

from parity.access import PROJECT_MANAGERS, REVIEWERS, VIEWERS
from tests import factories as f

pytestmark = pytest.mark.django_db


def _url(project):
    return reverse("learner:project_suggestions", args=[project.slug])


@pytest.fixture
def manager(project):
    return f.role_user(PROJECT_MANAGERS, project, username="mona")


def test_a_manager_turns_suggestions_on_and_off_with_a_message_and_a_log_entry(client, manager, project):
    client.force_login(manager)
    page = client.get(reverse("learner:health")).content.decode()
    assert 'data-test="suggestions-settings"' in page and "Turn suggestions on" in page
    response = client.post(_url(project), {"show": "on"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("learner:health")
    html = response.content.decode()
    assert "Suggestions turned on for Topics" in html and "Turn suggestions off" in html
    project.refresh_from_db()
    assert project.show_suggestions is True
    entry = LogEntry.objects.get(object_id=str(project.pk))
    assert entry.user == manager and "Show suggestions" in entry.get_change_message()
    # the same request again changes nothing and says so
    again = client.post(_url(project), {"show": "on"}, follow=True).content.decode()
    assert "already on" in again and LogEntry.objects.filter(object_id=str(project.pk)).count() == 1
    off = client.post(_url(project), {"show": "off"}, follow=True).content.decode()
    assert "Suggestions turned off for Topics" in off
    project.refresh_from_db()
    assert project.show_suggestions is False and LogEntry.objects.filter(object_id=str(project.pk)).count() == 2


def test_the_toggle_reaches_the_workspace_and_the_review_queue(client):
    """A real champion: the workspace and the queue show its suggestion only while the project has them on."""
    from learner.models import ModelVersion
    from learner.services import training_run_create, training_run_execute

    project, _truth = f.learner_project(("hau_Latn",), pool=60, labeled=40, heldout=20, evaluators=1, seed=3)
    training_run_execute(run_id=training_run_create(project=project, dispatch=False).pk)
    assert ModelVersion.objects.filter(project=project, status=ModelVersion.Status.CHAMPION).exists()
    evaluator = project.pools.get().memberships.get().user
    ev = Client()
    ev.force_login(evaluator)
    assert 'data-test="suggestion" hidden' in ev.get(reverse("annotation:workspace")).content.decode()
    client.force_login(f.role_user(PROJECT_MANAGERS, project, username="mona"))
    client.post(_url(project), {"show": "on"})
    html = ev.get(reverse("annotation:workspace")).content.decode()
    assert 'data-test="suggestion" hidden' not in html and 'data-test="suggestion"' in html
    client.post(_url(project), {"show": "off"})
    assert 'data-test="suggestion" hidden' in ev.get(reverse("annotation:workspace")).content.decode()


@pytest.mark.parametrize("who", ["evaluator", "viewer", "reviewer", "other manager"])
def test_others_are_refused_and_nothing_changes(client, project, hausa, evaluator, who):
    other = f.ProjectFactory(slug="other")
    user = {"evaluator": lambda: evaluator, "viewer": lambda: f.role_user(VIEWERS, username="vic"),
            "reviewer": lambda: f.role_user(REVIEWERS, f.pool(project, hausa), username="rev"),
            "other manager": lambda: f.role_user(PROJECT_MANAGERS, other, username="otto")}[who]()
    client.force_login(user)
    assert client.post(_url(project), {"show": "on"}).status_code == 403
    project.refresh_from_db()
    assert project.show_suggestions is False and not LogEntry.objects.exists()
    if who in ("viewer", "reviewer"):  # they see the health page and the state, without the button
        html = client.get(reverse("learner:health")).content.decode()
        assert "Turn suggestions on" not in html


def test_get_and_a_missing_csrf_token_are_refused(manager, project):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    assert client.get(_url(project)).status_code == 405
    assert client.post(_url(project), {"show": "on"}).status_code == 403
    project.refresh_from_db()
    assert project.show_suggestions is False


def test_a_bad_value_is_refused_with_a_message(client, manager, project):
    client.force_login(manager)
    html = client.post(_url(project), {"show": "maybe"}, follow=True).content.decode()
    assert "Say whether to turn suggestions on or off" in html
    project.refresh_from_db()
    assert project.show_suggestions is False


def test_an_unknown_project_is_a_404(client, manager):
    client.force_login(manager)
    assert client.post(reverse("learner:project_suggestions", args=["nope"]), {"show": "on"}).status_code == 404


# --- the API -------------------------------------------------------------------------------------

def _api(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_sets_suggestions_for_a_manager_and_repeats_safely(manager, project):
    url = f"/api/projects/{project.slug}/suggestions/"
    response = _api(manager).post(url, {"show": True}, format="json")
    assert response.status_code == 200
    assert response.json() == {"project": "topics", "show": True, "changed": True}
    assert _api(manager).post(url, {"show": True}, format="json").json()["changed"] is False
    project.refresh_from_db()
    assert project.show_suggestions is True and LogEntry.objects.filter(object_id=str(project.pk)).count() == 1


@pytest.mark.parametrize("body", [{}, {"show": "perhaps"}, {"show": None}])
def test_the_api_names_a_bad_show_value(manager, project, body):
    response = _api(manager).post(f"/api/projects/{project.slug}/suggestions/", body, format="json")
    assert response.status_code == 400 and "show" in response.json()
    project.refresh_from_db()
    assert project.show_suggestions is False


def test_the_api_refuses_others(project, hausa, evaluator):
    url = f"/api/projects/{project.slug}/suggestions/"
    reviewer = f.role_user(REVIEWERS, f.pool(project, hausa), username="rev")
    assert _api(reviewer).post(url, {"show": True}, format="json").status_code == 403
    assert _api(evaluator).post(url, {"show": True}, format="json").status_code == 403
    stranger = f.role_user(PROJECT_MANAGERS, f.ProjectFactory(slug="other"), username="otto")
    assert _api(stranger).post(url, {"show": True}, format="json").status_code == 404
    project.refresh_from_db()
    assert project.show_suggestions is False
