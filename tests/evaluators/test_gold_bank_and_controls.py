"""Gold bank calibration pages and API, control retirement, block-wise accuracy reporting, promotion of
approved items to controls, and suspension taking effect at once."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from annotation.models import Assignment, Item
from annotation.services import annotation_submit, assignment_next, controls_promote, promotion_candidates
from evaluators.models import CalibrationItem, ControlAnswer, PoolMembership
from evaluators.selectors import control_accuracy_reported
from evaluators.services import calibration_attempt_start, calibration_attempt_submit, membership_suspend
from tests import factories as f

pytestmark = pytest.mark.django_db


def calibration_pool(bank: int = 10, per_attempt: int = 5, cooldown: int = 24):
    project = f.ProjectFactory()
    f.published_guideline(project)
    pool = f.pool(project, pass_mark=0.8, max_attempts=3, retry_cooldown_hours=cooldown)
    golds = [(f"gold {i}", f.TOPICS[i % 3], f"explained {i}") for i in range(bank)]
    f.calibration_round(pool, golds, items_per_attempt=per_attempt)
    return pool


def fail(membership, now=None):
    attempt = calibration_attempt_start(user=membership.user, pool=membership.pool, now=now)
    gold = dict(CalibrationItem.objects.filter(pk__in=attempt.item_order).values_list("id", "reference_label"))
    answers = {pk: next(t for t in f.TOPICS if t != gold[pk]) for pk in attempt.item_order}
    return calibration_attempt_submit(user=membership.user, attempt_id=attempt.pk, answers=answers, now=now)


def test_result_page_and_api_give_pass_mark_score_and_next_attempt(client):
    pool = calibration_pool(cooldown=24)
    membership = f.member(pool)
    attempt = fail(membership)
    client.force_login(membership.user)
    html = client.get(reverse("evaluators:calibration_result", args=[attempt.pk])).content.decode()
    assert 'data-test="cal-pass-mark">80%' in html and 'data-test="cal-score">0 of 5 correct (0%)' in html
    assert 'data-test="cal-next-attempt"' in html and "after the cooldown" in html
    assert html.count("explained") == 5  # feedback for the 5 items, retired for this evaluator
    api = APIClient()
    api.force_authenticate(membership.user)
    body = api.get(f"/api/calibration/attempts/{attempt.pk}/result/").json()
    assert (body["pass_mark"], body["score"], len(body["mistakes"])) == (0.8, 0.0, 5)
    expected = attempt.submitted_at + timedelta(hours=24)
    assert abs((timezone.datetime.fromisoformat(body["next_attempt_at"]) - expected).total_seconds()) < 1
    assert body["calibration"]["can_start"] is False and body["calibration"]["gold_bank_exhausted"] is False


def test_a_refused_retry_is_a_page_in_the_sites_layout_not_a_bare_403(client):
    pool = calibration_pool(bank=5, per_attempt=5, cooldown=0)
    membership = f.member(pool)
    fail(membership)
    client.force_login(membership.user)
    response = client.get(reverse("evaluators:calibration", args=[pool.pk]))
    html = response.content.decode()
    assert response.status_code == 409
    assert 'data-test="cal-refused"' in html and "<nav" in html  # the page's own layout, with its navigation
    assert "must add gold" in html and "have been told" in html
    api = APIClient()
    api.force_authenticate(membership.user)
    refused = api.post("/api/calibration/attempts/", {"pool": pool.pk}, format="json")
    assert refused.status_code == 409 and "gold_bank_exhausted" in refused.json()
    assert "must add gold" in refused.json()["detail"]
    result = api.get(f"/api/calibration/attempts/{membership.calibration_attempts.get().pk}/result/").json()
    assert result["next_attempt_at"] is None and result["calibration"]["gold_bank_exhausted"] is True


def test_cooldown_refusal_is_a_page_too(client):
    pool = calibration_pool(bank=20, per_attempt=5, cooldown=24)
    membership = f.member(pool)
    fail(membership)
    client.force_login(membership.user)
    response = client.get(reverse("evaluators:calibration", args=[pool.pk]))
    assert response.status_code == 409 and 'data-test="cal-retry-at"' in response.content.decode()


def test_each_attempt_draws_fresh_items_until_the_bank_runs_out():
    pool = calibration_pool(bank=12, per_attempt=4, cooldown=0)
    membership = f.member(pool)
    seen = set()
    for _ in range(3):
        attempt = fail(membership)
        assert len(attempt.item_order) == 4 and not set(attempt.item_order) & seen
        seen |= set(attempt.item_order)
    assert len(seen) == 12


def _controls_setup(*, rate=1.0, exposure=100, report_every=10, evaluators=1, controls=5, regular=40):
    project = f.ProjectFactory(overlap=1)
    lang = f.language()
    f.published_guideline(project)
    pool = f.pool(project, lang, control_rate=rate, gold_max_exposure=exposure, control_report_every=report_every,
                  control_min_answers=1000, control_window=50)
    users = [f.qualified_evaluator(project, lang) for _ in range(evaluators)]
    gold = [f.ItemFactory(project=project, language=lang, is_control=True, reference_label="politics")
            for _ in range(controls)]
    for _ in range(regular):
        f.ItemFactory(project=project, language=lang)
    return project, lang, pool, users, gold


def _answer(user, label="politics"):
    assignment = assignment_next(evaluator=user)
    annotation_submit(evaluator=user, assignment_id=assignment.pk, label=label, idempotency_key=uuid.uuid4().hex)
    return assignment


def test_a_control_is_retired_after_the_configured_number_of_evaluators():
    project, lang, pool, users, gold = _controls_setup(exposure=2, evaluators=4, controls=1)
    served = [_answer(user).is_control for user in users]
    assert served == [True, True, False, False]  # the third and fourth evaluators get regular work
    assert Assignment.objects.filter(item=gold[0]).count() == 2


def test_control_accuracy_is_reported_only_over_completed_blocks():
    project, lang, pool, (user,), gold = _controls_setup(report_every=3, controls=7)
    membership = PoolMembership.objects.get(user=user, pool=pool)
    shown = []
    for n in range(7):
        _answer(user, "politics" if n % 2 == 0 else "sports")
        shown.append(control_accuracy_reported(membership=membership))
    assert [r.answers for r in shown] == [0, 0, 3, 3, 3, 6, 6]
    assert shown[2].accuracy == pytest.approx(2 / 3) and shown[3].accuracy == shown[4].accuracy == shown[2].accuracy
    assert ControlAnswer.objects.filter(membership=membership).count() == 7


def test_dashboard_counts_include_controls_and_accuracy_moves_by_blocks(client):
    project, lang, pool, (user,), gold = _controls_setup(rate=0.5, report_every=5, controls=10, regular=20)
    client.force_login(user)
    for _ in range(12):
        _answer(user)
    page = client.get(reverse("annotation:dashboard"))
    row = page.context["rows"][0]
    assert row["total"] == page.context["count_total"] == 12  # one number: controls are not set apart
    assert page.context["n_controls"] % 5 == 0


def test_promote_unanimous_approved_items_of_accurate_evaluators_to_controls(django_capture_on_commit_callbacks):
    project = f.ProjectFactory(overlap=2)
    lang = f.language()
    f.published_guideline(project)
    pool = f.pool(project, lang, control_rate=0.0, accuracy_floor=0.6)
    good, careless = f.qualified_evaluator(project, lang), f.qualified_evaluator(project, lang)
    other = f.qualified_evaluator(project, lang)
    for user, right in ((good, True), (careless, False), (other, True)):
        membership = PoolMembership.objects.get(user=user, pool=pool)
        control = f.ItemFactory(project=project, language=lang, is_control=True, reference_label="politics")
        lease = Assignment.objects.create(item=control, evaluator=user, is_control=True, leased_at=timezone.now(),
                                          expires_at=timezone.now() + timedelta(hours=1))
        annotation_submit(evaluator=user, assignment_id=lease.pk, label="politics" if right else "health",
                          idempotency_key=uuid.uuid4().hex)
        assert ControlAnswer.objects.get(membership=membership).correct is right
    agreed, mixed, careless_item = (f.ItemFactory(project=project, language=lang) for _ in range(3))
    votes = {agreed: [(good, "sports"), (other, "sports")], mixed: [(good, "sports"), (other, "health")],
             careless_item: [(good, "health"), (careless, "health")]}
    for item, pairs in votes.items():
        for user, label in pairs:
            lease = Assignment.objects.create(item=item, evaluator=user, leased_at=timezone.now(),
                                              expires_at=timezone.now() + timedelta(hours=1))
            Item.objects.filter(pk=item.pk).update(active_assignments=1)
            with django_capture_on_commit_callbacks(execute=True):  # the background aggregation runs
                annotation_submit(evaluator=user, assignment_id=lease.pk, label=label,
                                  idempotency_key=uuid.uuid4().hex)
    candidates = [item for item, _ in promotion_candidates(project=project)]
    assert candidates == [agreed]  # mixed votes went to review; the careless evaluator is under the floor
    promoted = controls_promote(project=project)
    agreed.refresh_from_db()
    assert promoted == [agreed] and agreed.is_control and agreed.reference_label == "sports"
    assert agreed.approved_label.label == "sports"  # the approval and its history stay
    assert controls_promote(project=project) == []


def test_suspension_releases_the_lease_and_the_workspace_says_why(client):
    project, lang, pool, (user, other), gold = _controls_setup(rate=0.0, evaluators=2, controls=0, regular=1)
    lease = assignment_next(evaluator=user)
    membership = PoolMembership.objects.get(user=user, pool=pool)
    membership_suspend(membership=membership, reason="too fast to have read the items")
    lease.refresh_from_db()
    assert lease.status == Assignment.Status.RELEASED and lease.item.active_assignments == 0
    assert assignment_next(evaluator=other).item == lease.item
    client.force_login(user)
    html = client.get(reverse("annotation:workspace")).content.decode()
    assert "suspended" in html and "too fast to have read the items" in html
    page = client.post(reverse("annotation:assignment_submit", args=[lease.public_id]),
                       {"label": "sports", "idempotency_key": "x"}, HTTP_ACCEPT="application/json")
    assert page.status_code == 403 and "too fast to have read the items" in page.json()["error"]


def test_admin_pages_explain_gold_bank_control_rate_retirement_and_discard(admin_client):
    pool = calibration_pool()
    round_ = pool.calibration_rounds.get()
    membership = f.member(pool)
    pool_page = admin_client.get(reverse("admin:evaluators_pool_change", args=[pool.pk])).content.decode()
    assert "gold bank" in pool_page and "Control rate" in pool_page and "Retirement" in pool_page
    round_page = admin_client.get(reverse("admin:evaluators_calibrationround_change", args=[round_.pk]))
    assert "never one the evaluator saw" in round_page.content.decode()
    member_page = admin_client.get(reverse("admin:evaluators_poolmembership_change", args=[membership.pk]))
    assert "Discard this member" in member_page.content.decode()
