"""The review queue: no preselected override label, the Flagged tab and its three resolutions, filters by
project / language / reason, bulk approval of proposed labels, and who may use it."""
from __future__ import annotations

import re
import uuid

import pytest
from django.urls import reverse

from annotation.models import ApprovedLabel, ApprovedLabelHistory, Assignment, Item, ItemFlag
from annotation.services import assignment_next, item_flag
from parity.access import REVIEWERS
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer(db):
    """An admin reviews every project × language (the filters below span several); scoped reviewers are
    tested at the end of this module and in tests/parity/test_access_matrix.py."""
    return f.admin_user(username=f"rev-{uuid.uuid4().hex[:6]}")


@pytest.fixture
def rc(client, reviewer):
    client.force_login(reviewer)
    return client


def waiting(project, lang, reason="tie", proposed="", text=None):
    return f.ItemFactory(project=project, language=lang, status=Item.Status.ADJUDICATION, review_reason=reason,
                         proposed_label=proposed, proposed_confidence=0.5 if proposed else None,
                         **({"text": text} if text else {}))


def flagged(project, lang, evaluator, reason="offensive", comment="insult in the second clause"):
    item = f.ItemFactory(project=project, language=lang, text="flag me")
    lease = assignment_next(evaluator=evaluator)
    assert lease.item_id == item.pk
    item_flag(evaluator=evaluator, assignment_id=lease.pk, reason=reason, comment=comment)
    return item


def test_override_menu_has_no_preselected_label(rc, project, hausa):
    waiting(project, hausa, proposed="sports", reason="low confidence (0.50 < 0.70)")
    html = rc.get(reverse("annotation:review_queue")).content.decode()
    select = re.search(r"<select[^>]*data-label-select[^>]*>(.*?)</select>", html, re.S)
    options = re.findall(r'<option value="([^"]*)"( selected)?', select.group(1))
    assert options[0] == ("", " selected") and all(not sel for _, sel in options[1:])
    assert 'required' in select.group(0)


def test_override_without_a_label_is_refused_and_nothing_approved(rc, project, hausa):
    item = waiting(project, hausa)
    response = rc.post(reverse("annotation:review_resolve", args=[item.pk]), {"action": "override", "label": ""},
                       follow=True)
    assert "Choose a label" in response.content.decode()
    assert not ApprovedLabel.objects.filter(item=item).exists()


def test_flagged_items_reach_the_queue_with_reason_and_comment(rc, project, hausa, evaluator):
    item = flagged(project, hausa, evaluator)
    page = rc.get(reverse("annotation:review_queue"))
    assert page.context["counts"]["flagged"] == 1
    html = rc.get(reverse("annotation:review_queue") + "?reason=flagged").content.decode()
    assert f'data-item="{item.pk}"' in html and "insult in the second clause" in html and "offensive" in html.lower()
    assert evaluator.get_username() in html


def test_dismiss_keeps_the_item_in_the_pool(rc, project, hausa, evaluator):
    item = flagged(project, hausa, evaluator)
    rc.post(reverse("annotation:review_resolve", args=[item.pk]), {"action": "dismiss", "query": "reason=flagged"})
    flag = ItemFlag.objects.get(item=item)
    assert flag.resolution == ItemFlag.Resolution.DISMISSED and flag.resolved_by is not None
    item.refresh_from_db()
    assert item.status == Item.Status.OPEN
    assert rc.get(reverse("annotation:review_queue") + "?reason=flagged").context["rows"] == []


def test_remove_takes_the_item_out_of_the_pool_and_ends_its_leases(rc, project, hausa, evaluator):
    item = flagged(project, hausa, evaluator)
    other = f.qualified_evaluator(project, hausa, username="other")
    lease = assignment_next(evaluator=other)
    assert lease.item_id == item.pk
    response = rc.post(reverse("annotation:review_resolve", args=[item.pk]),
                       {"action": "remove", "query": "reason=flagged", "pos": "0"})
    assert response.status_code == 302 and "reason=flagged" in response.url and "pos=0" in response.url
    item.refresh_from_db()
    lease.refresh_from_db()
    assert item.status == Item.Status.REMOVED and item.active_assignments == 0
    assert lease.status == Assignment.Status.RELEASED
    third = f.qualified_evaluator(project, hausa, username="third")
    assert assignment_next(evaluator=third) is None  # never served again


def test_relabel_approves_the_reviewers_label(rc, project, hausa, evaluator):
    item = flagged(project, hausa, evaluator)
    rc.post(reverse("annotation:review_resolve", args=[item.pk]), {"action": "relabel", "label": "health"})
    item.refresh_from_db()
    assert item.status == Item.Status.APPROVED and item.approved_label.label == "health"
    assert ApprovedLabelHistory.objects.filter(item=item, action=ApprovedLabelHistory.Action.OVERRIDE).exists()
    assert ItemFlag.objects.get(item=item).resolution == ItemFlag.Resolution.RELABELLED


def test_resolving_an_item_without_open_flags_is_refused(rc, project, hausa):
    item = f.ItemFactory(project=project, language=hausa)
    response = rc.post(reverse("annotation:review_resolve", args=[item.pk]), {"action": "remove"}, follow=True)
    assert "no open flag" in response.content.decode()
    item.refresh_from_db()
    assert item.status == Item.Status.OPEN


def test_filters_by_reason_project_and_language(rc, project, hausa, urdu):
    tie = waiting(project, hausa, reason="tie", text="a tie")
    low = waiting(project, hausa, reason="low confidence (0.40 < 0.70)", proposed="sports", text="unsure")
    single = waiting(project, hausa, reason="a single label (the language is short of evaluators): a reviewer decides",
                     proposed="health", text="alone")
    project.languages.add(urdu)
    in_urdu = waiting(project, urdu, reason="tie", text="urdu tie")
    other = f.ProjectFactory(slug="other")
    elsewhere = waiting(other, hausa, reason="tie", text="other project")

    def shown(query):
        return {row.item.pk for row in rc.get(reverse("annotation:review_queue") + query).context["rows"]}

    assert shown("") == {tie.pk, low.pk, single.pk, in_urdu.pk, elsewhere.pk}
    assert shown("?reason=tie") == {tie.pk, in_urdu.pk, elsewhere.pk}
    assert shown("?reason=low_confidence") == {low.pk}
    assert shown("?reason=single_label") == {single.pk}
    assert shown("?project=topics&reason=tie") == {tie.pk, in_urdu.pk}
    assert shown("?project=topics&language=urd_Arab") == {in_urdu.pk}
    assert shown("?reason=nonsense") == shown("")  # an unknown reason filters nothing


def test_bulk_approve_approves_proposals_and_names_the_ones_refused(rc, project, hausa):
    a = waiting(project, hausa, proposed="sports", reason="low confidence")
    b = waiting(project, hausa, proposed="health", reason="low confidence")
    tie = waiting(project, hausa, reason="tie")
    response = rc.post(reverse("annotation:review_bulk_approve"), {"items": [a.pk, b.pk, tie.pk]}, follow=True)
    html = response.content.decode()
    assert {i.approved_label.label for i in Item.objects.filter(pk__in=[a.pk, b.pk])} == {"sports", "health"}
    assert "2 items approved" in html and f"Item {tie.pk} not approved" in html
    tie.refresh_from_db()
    assert tie.status == Item.Status.ADJUDICATION


def test_bulk_approve_with_nothing_selected_says_so(rc):
    response = rc.post(reverse("annotation:review_bulk_approve"), {}, follow=True)
    assert "Select the items" in response.content.decode()


def test_only_reviewers_use_the_queue(client, evaluator, project, hausa):
    item = waiting(project, hausa, proposed="sports")
    client.force_login(evaluator)
    assert client.get(reverse("annotation:review_queue")).status_code == 403
    assert client.post(reverse("annotation:review_bulk_approve"), {"items": [item.pk]}).status_code == 403
    assert client.post(reverse("annotation:review_resolve", args=[item.pk]), {"action": "remove"}).status_code == 403
    client.logout()
    assert client.get(reverse("annotation:review_queue")).status_code == 302  # to the login page


def test_the_back_link_keeps_only_a_safe_query(rc, project, hausa):
    item = waiting(project, hausa, proposed="sports")
    response = rc.post(reverse("annotation:review_resolve", args=[item.pk]),
                       {"action": "approve", "query": "x=1\r\nLocation: http://evil"})
    assert response.url == reverse("annotation:review_queue")


def test_a_scoped_reviewer_sees_and_decides_only_the_languages_they_review(client, project, hausa, urdu):
    project.languages.add(urdu)
    mine = waiting(project, hausa, reason="low confidence (0.40 < 0.70)", proposed="sports", text="mine")
    theirs = waiting(project, urdu, reason="low confidence (0.40 < 0.70)", proposed="sports", text="not mine")
    rita = f.role_user(REVIEWERS, f.pool(project, hausa), username="rita")
    client.force_login(rita)
    rows = client.get(reverse("annotation:review_queue")).context["rows"]
    assert {row.item.pk for row in rows} == {mine.pk}
    assert client.post(reverse("annotation:review_resolve", args=[theirs.pk]), {"action": "approve"}).status_code == 404
    client.post(reverse("annotation:review_bulk_approve"), {"items": [mine.pk, theirs.pk]})
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert (mine.status, theirs.status) == ("approved", "adjudication")


def _nav_links(client) -> list[str]:
    html = client.get(reverse("tokens")).content.decode()  # a page every signed-in user opens
    nav = re.search(r'<nav aria-label="[^"]*">(.*?)</nav>', html, re.S).group(1)
    return re.findall(r'<a href="([^"]+)"', nav)


@pytest.mark.parametrize("role", ["reviewer only", "reviewer and evaluator"])
def test_a_reviewer_without_any_console_role_sees_the_review_link(client, project, hausa, role):
    user = (f.qualified_evaluator(project, hausa, username="both") if role == "reviewer and evaluator"
            else f.UserFactory(username="solo"))
    from parity.access import role_grant

    role_grant(user=user, role=REVIEWERS, obj=f.pool(project, hausa))
    client.force_login(user)
    assert reverse("annotation:review_queue") in _nav_links(client)
    assert client.get(reverse("annotation:review_queue")).status_code == 200


def test_a_pure_evaluator_and_a_pool_manager_do_not_see_the_review_link(client, evaluator, project, hausa):
    client.force_login(evaluator)
    links = _nav_links(client)
    assert reverse("annotation:review_queue") not in links and reverse("annotation:workspace") in links
    from parity.access import POOL_MANAGERS

    client.force_login(f.role_user(POOL_MANAGERS, f.pool(project, hausa), username="pm-pool"))
    assert reverse("annotation:review_queue") not in _nav_links(client)


def test_a_reviewer_group_member_without_a_pool_does_not_see_the_review_link(client, project, hausa):
    """The group alone reviews nothing (the queue would be empty, its actions refused)."""
    from parity.access import role_grant

    user = f.UserFactory(username="nopool")
    role_grant(user=user, role=REVIEWERS)
    client.force_login(user)
    assert reverse("annotation:review_queue") not in _nav_links(client)


def test_resolving_a_flag_twice_from_the_queue_is_no_error(rc, project, hausa, evaluator):
    item = flagged(project, hausa, evaluator)
    url = reverse("annotation:review_resolve", args=[item.pk])
    rc.post(url, {"action": "dismiss"})
    again = rc.post(url, {"action": "dismiss"}, follow=True).content.decode()
    assert "flag dismissed" in again and "no open flag" not in again
    assert ItemFlag.objects.get(item=item).resolution == ItemFlag.Resolution.DISMISSED
