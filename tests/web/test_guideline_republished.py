"""A guideline republished while an evaluator works: the refused label comes back with the new version and
what changed (JSON for the workspace's inline panel), the item stays leased, acknowledging from there
lets the same label through; without JavaScript the guideline page acknowledges and returns to the item."""
from __future__ import annotations

import pytest
from django.urls import reverse

from annotation.models import Annotation, Assignment
from evaluators.models import GuidelineAcknowledgement
from evaluators.services import guideline_draft, guideline_publish

pytestmark = pytest.mark.django_db

JSON = {"content_type": "application/json", "HTTP_ACCEPT": "application/json"}
NEW_BODY = "# Guideline\n\nPick the **topic**.\n\nSport news about money is *economy*."


@pytest.fixture
def lease(ev_client, items):
    ev_client.get(reverse("annotation:workspace"))
    return Assignment.objects.filter(status=Assignment.Status.ACTIVE).order_by("id").first()


def _republish(project):
    return guideline_publish(version=guideline_draft(project=project, body=NEW_BODY))


def test_refused_label_brings_the_new_version_and_what_changed(ev_client, project, lease):
    version = _republish(project)
    response = ev_client.post(reverse("annotation:assignment_submit", args=[lease.public_id]),
                              {"label": "sports", "idempotency_key": "k-1"}, **JSON)
    assert response.status_code == 409
    body = response.json()
    guideline = body["guideline"]
    assert guideline["id"] == version.pk and guideline["label"] == version.label
    assert guideline["previous"] == "1.0" and guideline["added"] >= 1
    assert {"kind": "add", "text": "Sport news about money is *economy*."} in guideline["changes"]
    assert "<em>economy</em>" in guideline["html"] and "<script" not in guideline["html"]
    assert guideline["acknowledge_url"] == reverse("evaluators:guideline", args=[project.slug])
    assert "kept" in body["error"]
    lease.refresh_from_db()
    assert lease.status == Assignment.Status.ACTIVE and not Annotation.objects.exists()  # the item stays


def test_acknowledging_from_the_panel_lets_the_same_label_through(ev_client, project, lease, evaluator):
    version = _republish(project)
    url = reverse("annotation:assignment_submit", args=[lease.public_id])
    ev_client.post(url, {"label": "sports", "idempotency_key": "k-1"}, **JSON)
    ack = ev_client.post(reverse("evaluators:guideline", args=[project.slug]), {"version": version.pk},
                         HTTP_ACCEPT="application/json")
    assert ack.status_code == 200 and ack.json()["acknowledged"] == version.pk
    assert GuidelineAcknowledgement.objects.filter(user=evaluator, version=version).exists()
    again = ev_client.post(url, {"label": "sports", "idempotency_key": "k-1"}, **JSON)  # the same key
    assert again.status_code == 200 and again.json()["submitted"]["label"] == "sports"
    assert Annotation.objects.get().guideline_version == version


def test_acknowledging_a_version_that_is_no_longer_current_is_refused(ev_client, project, lease, evaluator):
    shown = _republish(project)
    newer = guideline_publish(version=guideline_draft(project=project, body=NEW_BODY + "\n\nAnd one more rule."))
    ack = ev_client.post(reverse("evaluators:guideline", args=[project.slug]), {"version": shown.pk},
                         HTTP_ACCEPT="application/json")
    assert ack.status_code == 409 and ack.json()["current"] == newer.pk
    assert not GuidelineAcknowledgement.objects.filter(user=evaluator, version__in=[shown, newer]).exists()


def test_without_javascript_the_guideline_page_acknowledges_and_returns_to_the_item(ev_client, project, lease):
    _republish(project)
    response = ev_client.post(reverse("annotation:assignment_submit", args=[lease.public_id]), {"label": "sports"})
    back = reverse("annotation:assignment", args=[lease.public_id])
    assert response.status_code == 302 and response.url.endswith(f"?next={back}")
    page = ev_client.get(response.url).content.decode()
    assert 'data-test="diff-summary"' in page and "Lines added: 1" in page and f'value="{back}"' in page
    done = ev_client.post(reverse("evaluators:guideline", args=[project.slug]), {"next": back})
    assert done.status_code == 302 and done.url == back
    assert ev_client.get(back).status_code == 200  # the item is still there


def test_the_acknowledgement_never_redirects_off_site(ev_client, project):
    _republish(project)
    done = ev_client.post(reverse("evaluators:guideline", args=[project.slug]), {"next": "https://evil.example/"})
    assert done.status_code == 302 and done.url == reverse("annotation:dashboard")


def test_workspace_has_the_panel_the_timer_and_a_flag_sentence(ev_client, items):
    html = ev_client.get(reverse("annotation:workspace")).content.decode()
    assert 'data-test="guideline-changed"' in html and 'data-test="item-timer"' in html
    assert "a reviewer will look at it" in html


def test_the_session_goal_is_fixed_then_reached_then_renewed(ev_client, project, hausa, evaluator, monkeypatch):
    from annotation import views
    from annotation.services import assignment_next
    from tests.factories import ItemFactory

    for n in range(4):
        ItemFactory(project=project, language=hausa, text=f"more {n}")
    monkeypatch.setattr(views, "SESSION_TARGET", 2)

    def submit(key):
        lease = assignment_next(evaluator=evaluator)
        return ev_client.post(reverse("annotation:assignment_submit", args=[lease.public_id]),
                              {"label": "sports", "idempotency_key": key}, **JSON).json()["progress"]

    for n in range(3):
        progress = submit(f"g{n}")
        assert progress["session_target"] == 2  # fixed: it does not grow with the evaluator
    assert progress["session_done"] == 3 and progress["session_goal_reached"] and progress["session_percent"] == 100
    html = ev_client.get(reverse("annotation:workspace")).content.decode()
    assert 'data-test="goal-reached"' in html and 'data-test="goal-reached" hidden' not in html
    renewed = ev_client.post(reverse("annotation:session_goal"), {}, **JSON).json()
    assert renewed == {"session_target": 5, "session_done": 3}
    progress = submit("g9")
    assert (progress["session_target"], progress["session_goal_reached"]) == (5, False)
