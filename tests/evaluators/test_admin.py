import pytest
from django.urls import reverse

from evaluators.models import GuidelineVersion, MembershipEvent, Notification, PoolMembership
from evaluators.services import guideline_draft, notification_create
from tests import factories as f

pytestmark = pytest.mark.django_db
State = PoolMembership.State


@pytest.fixture
def console(client):
    root = f.UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(root)
    return client


def test_every_console_page_renders(console):
    project = f.ProjectFactory()
    pool = f.pool(project)
    f.calibration_round(pool)
    f.member(pool, state=State.QUALIFIED)
    f.published_guideline(project)
    notification_create(pool=pool, subject="hello", message="world")
    for model in ["language", "evaluatorprofile", "pool", "poolmembership", "membershipevent", "guideline",
                  "guidelineversion", "guidelineacknowledgement", "calibrationround", "calibrationattempt",
                  "controlanswer", "goldexposure", "notification"]:
        assert console.get(reverse(f"admin:evaluators_{model}_changelist")).status_code == 200, model
    membership = PoolMembership.objects.get()
    for url in [reverse("admin:evaluators_pool_change", args=[pool.pk]),
                reverse("admin:evaluators_poolmembership_change", args=[membership.pk]),
                reverse("admin:evaluators_poolmembership_add"), reverse("admin:evaluators_guidelineversion_add"),
                reverse("admin:evaluators_calibrationround_change", args=[pool.calibration_rounds.get().pk])]:
        assert console.get(url).status_code == 200, url


def test_guideline_editor_preview_publish_diff_and_report(console):
    project = f.ProjectFactory()
    v1 = f.published_guideline(project, body="Keep it short.\n<script>alert(1)</script>")
    f.qualified_evaluator(project, f.language(), username="ada")
    page = console.get(reverse("admin:evaluators_guidelineversion_change", args=[v1.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page and 'name="body"' not in page  # preview sanitised, read-only
    response = console.post(reverse("admin:evaluators_guidelineversion_add"),
                            {"guideline": v1.guideline.pk, "bump": "major", "body": "Keep it **very** short.",
                             "addenda-TOTAL_FORMS": 0, "addenda-INITIAL_FORMS": 0})
    assert response.status_code == 302
    v2 = GuidelineVersion.objects.get(major=2)
    assert v2.status == "draft" and v2.created_by.username == "root"
    console.post(reverse("admin:evaluators_guidelineversion_changelist"),
                 {"action": "publish", "_selected_action": [v2.pk]})
    v2.refresh_from_db()
    assert v2.is_published
    assert PoolMembership.objects.get(user__username="ada").state == State.CALIBRATING
    diff = console.get(reverse("admin:evaluators_guidelineversion_diff", args=[v2.pk]), {"against": v1.pk})
    assert diff.status_code == 200 and "Keep it **very** short." in diff.content.decode()
    assert "&lt;script&gt;" in diff.content.decode()
    report = console.get(reverse("admin:evaluators_guideline_acknowledgements", args=[v1.guideline.pk]))
    assert report.status_code == 200 and "ada" in report.content.decode() and "v1.0" in report.content.decode()


def test_published_version_cannot_be_edited_or_deleted_in_the_console(console):
    project = f.ProjectFactory()
    v1 = f.published_guideline(project, body="original")
    console.post(reverse("admin:evaluators_guidelineversion_change", args=[v1.pk]),
                 {"body": "changed", "addenda-TOTAL_FORMS": 0, "addenda-INITIAL_FORMS": 0})
    assert GuidelineVersion.objects.get(pk=v1.pk).body == "original"
    assert console.post(reverse("admin:evaluators_guidelineversion_delete", args=[v1.pk]),
                        {"post": "yes"}).status_code == 403
    draft = guideline_draft(project=project, body="draft")
    console.post(reverse("admin:evaluators_guidelineversion_change", args=[draft.pk]),
                 {"body": "draft, edited", "addenda-TOTAL_FORMS": 0, "addenda-INITIAL_FORMS": 0})
    assert GuidelineVersion.objects.get(pk=draft.pk).body == "draft, edited"


def test_invite_and_membership_actions_are_logged(console):
    pool = f.pool()
    user = f.UserFactory(username="newbie")
    response = console.post(reverse("admin:evaluators_poolmembership_add"),
                            {"pool": pool.pk, "user": user.pk, "reason": "speaks Hausa"})
    assert response.status_code == 302
    membership = PoolMembership.objects.get(user=user)
    assert membership.events.get().reason == "speaks Hausa"
    PoolMembership.objects.filter(pk=membership.pk).update(state=State.QUALIFIED)
    changelist = reverse("admin:evaluators_poolmembership_changelist")
    console.post(changelist, {"action": "membership_suspended", "_selected_action": [membership.pk]})
    membership.refresh_from_db()
    assert membership.state == State.SUSPENDED
    console.post(changelist, {"action": "membership_reinstated", "_selected_action": [membership.pk]})
    membership.refresh_from_db()
    assert membership.state == State.QUALIFIED
    assert list(MembershipEvent.objects.filter(membership=membership).values_list("to_state", flat=True)) == [
        "invited", "suspended", "qualified"]
    assert Notification.objects.count() == 0
