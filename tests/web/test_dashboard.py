"""The landing page (annotation.dashboard): no dead ends. A refused calibration retry is not offered as a
link; a suspended member learns why and who can reinstate them; reviewers and admins in no pool land on
their own pages; the cards count what the table counts."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from evaluators.models import PoolMembership
from evaluators.roles import REVIEWERS
from evaluators.services import membership_suspend
from tests import factories as f
from tests.evaluators.test_gold_bank_and_controls import calibration_pool, fail

pytestmark = pytest.mark.django_db


def _dashboard(client, user):
    client.force_login(user)
    return client.get(reverse("annotation:dashboard"))


def test_first_attempt_is_offered_as_a_link(client):
    membership = f.member(calibration_pool())
    html = _dashboard(client, membership.user).content.decode()
    assert 'data-test="calibration-link"' in html


def test_cooldown_shows_when_the_next_attempt_may_start_instead_of_a_link(client):
    membership = f.member(calibration_pool(bank=20, per_attempt=5, cooldown=24))
    attempt = fail(membership)
    response = _dashboard(client, membership.user)
    html = response.content.decode()
    assert 'data-test="calibration-link"' not in html
    assert 'data-test="calibration-wait"' in html and "next calibration attempt can start" in html
    step = response.context["rows"][0]["calibration"]
    assert abs((step.retry_at - attempt.submitted_at).total_seconds() - 24 * 3600) < 2


def test_an_exhausted_gold_bank_says_the_admin_must_add_gold(client):
    membership = f.member(calibration_pool(bank=5, per_attempt=5, cooldown=0))
    fail(membership)
    html = _dashboard(client, membership.user).content.decode()
    assert 'data-test="calibration-link"' not in html
    assert 'data-test="calibration-blocked"' in html and "must add gold" in html


def test_no_attempts_left_is_said_too(client):
    membership = f.member(calibration_pool(bank=40, per_attempt=5, cooldown=0))
    for _ in range(3):
        fail(membership)
    membership.refresh_from_db()
    html = _dashboard(client, membership.user).content.decode()
    assert 'data-test="calibration-link"' not in html and "every calibration attempt" in html


def test_a_suspended_member_sees_the_reason_and_who_can_reinstate(client):
    project = f.ProjectFactory()
    lang = f.language("hau_Latn")
    user = f.qualified_evaluator(project, lang, username="musa")
    membership = PoolMembership.objects.get(user=user)
    admin = f.pool_admin(membership.pool, username="coordinator")
    membership_suspend(membership=membership, reason="control accuracy 40% below the floor", actor=admin)
    html = _dashboard(client, user).content.decode()
    assert 'data-test="suspended"' in html
    assert "control accuracy 40% below the floor" in html and "coordinator" in html and "reinstate" in html


def test_a_reviewer_outside_every_pool_lands_on_the_review_queue(client):
    other = f.ProjectFactory(slug="elsewhere")
    reviewer = f.role_user(REVIEWERS, f.pool(other, f.language("hau_Latn")), username="rita")
    response = _dashboard(client, reviewer)
    assert response.status_code == 302 and response.url == reverse("annotation:review_queue")
    assert client.get(reverse("annotation:dashboard") + "?stay=1").status_code == 200


def test_staff_outside_every_pool_land_on_the_console(client):
    staff = f.admin_user(username="boss")
    response = _dashboard(client, staff)
    assert response.status_code == 302 and response.url == reverse("annotation:console")


def test_an_evaluator_in_a_pool_stays_on_the_dashboard(client, evaluator):
    evaluator.groups.add(Group.objects.get_or_create(name=REVIEWERS)[0])
    assert _dashboard(client, evaluator).status_code == 200


def test_calibration_answers_as_json_without_a_page_load(client):
    from evaluators.models import CalibrationAttempt, CalibrationItem

    membership = f.member(calibration_pool(bank=10, per_attempt=3, cooldown=0))
    client.force_login(membership.user)
    url = reverse("evaluators:calibration", args=[membership.pool.pk])
    page = client.get(url)
    assert page.status_code == 200 and "parity/calibration.js" in page.content.decode()
    assert "<script>" not in page.content.decode()  # no inline script (CSP)
    attempt = CalibrationAttempt.objects.get(membership=membership)
    gold = dict(CalibrationItem.objects.filter(pk__in=attempt.item_order).values_list("id", "reference_label"))
    order = list(attempt.item_order)
    first = client.post(url, {"item": order[0], "label": gold[order[0]]}, HTTP_ACCEPT="application/json").json()
    assert first["position"] == 2 and first["total"] == 3 and first["item"]["id"] == order[1]
    assert "reference_label" not in first["item"] and gold[order[1]] not in first["item"].values()
    stale = client.post(url, {"item": order[0], "label": "sports"}, HTTP_ACCEPT="application/json").json()
    assert stale["position"] == 2  # an answer for an item already answered changes nothing
    client.post(url, {"item": order[1], "label": gold[order[1]]}, HTTP_ACCEPT="application/json")
    last = client.post(url, {"item": order[2], "label": gold[order[2]]}, HTTP_ACCEPT="application/json").json()
    attempt.refresh_from_db()
    assert last["redirect"] == reverse("evaluators:calibration_result", args=[attempt.pk])
    assert attempt.status == CalibrationAttempt.Status.PASSED
