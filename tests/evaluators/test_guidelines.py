import pytest
from django.core.exceptions import ValidationError

from annotation.services import assignment_next
from evaluators.models import GuidelineAddendum, GuidelineVersion, ImmutableError, MembershipEvent, PoolMembership
from evaluators.rendering import render_markdown
from evaluators.selectors import (
    guideline_acknowledgement_report,
    guideline_current,
    guideline_diff,
    guideline_diff_html,
    guideline_is_acknowledged,
)
from evaluators.services import (
    guideline_acknowledge,
    guideline_addendum_set,
    guideline_draft,
    guideline_draft_update,
    guideline_publish,
)
from tests import factories as f

pytestmark = pytest.mark.django_db
State = PoolMembership.State


def test_published_version_is_immutable_in_save_delete_and_services():
    project = f.ProjectFactory()
    version = f.published_guideline(project, body="v1 body")
    version.body = "tampered"
    with pytest.raises(ImmutableError, match="published and cannot change"):
        version.save()
    with pytest.raises(ImmutableError):
        GuidelineVersion.objects.get(pk=version.pk).delete()
    with pytest.raises(ImmutableError):
        guideline_draft_update(version=version, body="tampered")
    with pytest.raises(ImmutableError):
        guideline_publish(version=version)
    with pytest.raises(ImmutableError):
        guideline_addendum_set(version=version, language=f.language(), body="extra")
    with pytest.raises(ImmutableError):
        GuidelineAddendum.objects.create(version=version, language=f.language(), body="x")
    assert GuidelineVersion.objects.get(pk=version.pk).body == "v1 body"


def test_drafts_are_editable_and_numbered_major_minor():
    project = f.ProjectFactory()
    draft = guideline_draft(project=project, body="first")
    guideline_draft_update(version=draft, body="first, edited")
    guideline_addendum_set(version=draft, language=f.language("urd_Arab"), body="Urdu note")
    with pytest.raises(ValidationError, match="still a draft"):
        guideline_draft(project=project, body="second")
    guideline_publish(version=draft)
    minor = guideline_draft(project=project, body="second")
    assert minor.label == "1.1"
    guideline_publish(version=minor)
    assert guideline_draft(project=project, body="third", bump="major").label == "2.0"
    assert guideline_current(project=project).label == "1.1"


def test_new_minor_requires_reacknowledgement_before_work():
    project = f.ProjectFactory()
    lang = f.language()
    f.ItemFactory(project=project, language=lang)
    user = f.qualified_evaluator(project, lang)
    assert guideline_is_acknowledged(user=user, project=project)
    guideline_publish(version=guideline_draft(project=project, body="clarified"))
    assert not guideline_is_acknowledged(user=user, project=project)
    assert assignment_next(evaluator=user) is None
    guideline_acknowledge(user=user, version=guideline_current(project=project))
    assignment = assignment_next(evaluator=user)
    assert assignment is not None
    # minor: still qualified
    assert PoolMembership.objects.get(user=user).state == State.QUALIFIED


def test_new_major_sends_qualified_members_back_to_calibration_logged():
    project = f.ProjectFactory()
    lang = f.language()
    user = f.qualified_evaluator(project, lang)
    pool = PoolMembership.objects.get(user=user).pool
    invited = f.member(pool)
    suspended = f.member(pool, state=State.SUSPENDED)
    guideline_publish(version=guideline_draft(project=project, body="rewritten", bump="major"))
    assert PoolMembership.objects.get(user=user).state == State.CALIBRATING
    event = MembershipEvent.objects.filter(membership__user=user).last()
    assert (event.from_state, event.to_state) == ("qualified", "calibrating")
    assert "v2.0" in event.reason and "re-calibration" in event.reason
    invited.refresh_from_db()
    suspended.refresh_from_db()
    assert (invited.state, suspended.state) == (State.INVITED, State.SUSPENDED)


def test_acknowledging_a_draft_is_refused():
    project = f.ProjectFactory()
    with pytest.raises(ValidationError, match="published"):
        guideline_acknowledge(user=f.UserFactory(), version=guideline_draft(project=project, body="x"))


def test_markdown_is_rendered_and_sanitised():
    html = render_markdown(
        "# Title\n\n<script>alert('x')</script>\n\n**bold** [link](javascript:alert(1)) "
        "<img src=x onerror=alert(1)> <a href='https://example.org' onclick='x()'>ok</a>"
    )
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html
    for bad in ("<script", "javascript:", "onerror", "onclick"):
        assert bad not in html
    assert 'href="https://example.org"' in html
    assert hasattr(html, "__html__")  # SafeString


def test_diff_between_versions_and_acknowledgement_report():
    project = f.ProjectFactory()
    lang = f.language()
    v1 = f.published_guideline(project, body="line one\nline two\n")
    early = f.qualified_evaluator(project, lang)
    v2 = guideline_publish(version=guideline_draft(project=project, body="line one\nline 2 <b>\n"))
    late = f.qualified_evaluator(project, lang)
    f.member(PoolMembership.objects.get(user=late).pool)  # invited, never acknowledged
    diff = guideline_diff(old=v1, new=v2)
    assert "-line two" in diff and "+line 2 <b>" in diff and diff[0] == "--- v1.0"
    assert "&lt;b&gt;" in guideline_diff_html(old=v1, new=v2)
    report = {row.user.username: row for row in guideline_acknowledgement_report(project=project)}
    assert report[early.username].latest_acknowledged == "1.0" and not report[early.username].acknowledged_current
    assert report[late.username].latest_acknowledged == "1.1" and report[late.username].acknowledged_current
    assert len(report) == 3
