"""The review queue's flag resolution and bulk approval over the API: the same services as the web
queue, with the API's rules (a role on the project × language, a 400 naming the field, 404 outside
the reviewer's scope) and safe repeats."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from annotation.models import ApprovedLabel, ApprovedLabelHistory, Assignment, Item, ItemFlag
from annotation.services import assignment_next, item_flag
from parity.access import REVIEWERS
from tests import factories as f

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def hausa(db):
    return f.language("hau_Latn")


@pytest.fixture
def urdu(db):
    return f.language("urd_Arab")


@pytest.fixture
def project(hausa):
    project = f.ProjectFactory(slug="topics", name="Topics")
    project.languages.add(hausa)
    f.published_guideline(project)
    return project


@pytest.fixture
def evaluator(project, hausa):
    return f.qualified_evaluator(project, hausa, username="amina")


@pytest.fixture
def rita(project, hausa):
    """Reviews Topics in Hausa only."""
    return f.role_user(REVIEWERS, f.pool(project, hausa), username="rita")


def waiting(project, lang, proposed="sports", reason="low confidence (0.40 < 0.70)"):
    return f.ItemFactory(project=project, language=lang, status=Item.Status.ADJUDICATION, review_reason=reason,
                         proposed_label=proposed, proposed_confidence=0.4 if proposed else None)


def flagged(project, lang, evaluator):
    item = f.ItemFactory(project=project, language=lang, text="flag me", priority=50)
    lease = assignment_next(evaluator=evaluator)
    assert lease.item_id == item.pk
    item_flag(evaluator=evaluator, assignment_id=lease.pk, reason="offensive", comment="an insult")
    return item


# --- resolve-flag --------------------------------------------------------------------------------

def test_dismiss_keeps_the_item_and_a_repeat_changes_nothing(rita, project, hausa, evaluator):
    item = flagged(project, hausa, evaluator)
    url = f"/api/review/{item.pk}/resolve-flag/"
    first = _client(rita).post(url, {"action": "dismiss", "comment": "fine"}, format="json")
    assert first.status_code == 200, first.content
    assert first.json() == {"item": item.pk, "resolution": "dismissed", "repeated": False}
    flag = ItemFlag.objects.get(item=item)
    assert (flag.resolution, flag.resolved_by, flag.resolution_comment) == ("dismissed", rita, "fine")
    resolved_at = flag.resolved_at
    again = _client(rita).post(url, {"action": "dismiss"}, format="json")
    assert again.status_code == 200 and again.json()["repeated"] is True
    flag.refresh_from_db()
    assert flag.resolved_at == resolved_at and flag.resolution_comment == "fine"
    item.refresh_from_db()
    assert item.status == Item.Status.OPEN
    # another action on an item whose flags are settled is refused, naming the item
    other = _client(rita).post(url, {"action": "remove"}, format="json")
    assert other.status_code == 400 and "no open flag" in str(other.json())
    item.refresh_from_db()
    assert item.status == Item.Status.OPEN


def test_remove_takes_the_item_out_and_ends_its_leases(rita, project, hausa, evaluator):
    item = flagged(project, hausa, evaluator)
    response = _client(rita).post(f"/api/review/{item.pk}/resolve-flag/", {"action": "remove"}, format="json")
    assert response.status_code == 200 and response.json()["resolution"] == "removed"
    item.refresh_from_db()
    assert item.status == Item.Status.REMOVED
    assert not Assignment.objects.filter(item=item, status=Assignment.Status.ACTIVE).exists()


def test_relabel_approves_the_label_and_a_repeat_does_not_add_history(rita, project, hausa, evaluator):
    item = flagged(project, hausa, evaluator)
    url = f"/api/review/{item.pk}/resolve-flag/"
    assert _client(rita).post(url, {"action": "relabel", "label": "health"}, format="json").status_code == 200
    assert ApprovedLabel.objects.get(item=item).label == "health"
    history = ApprovedLabelHistory.objects.filter(item=item).count()
    again = _client(rita).post(url, {"action": "relabel", "label": "health"}, format="json")
    assert again.status_code == 200 and again.json()["repeated"] is True
    assert ApprovedLabelHistory.objects.filter(item=item).count() == history
    # a different label is not a repeat: the flags are settled, so it is refused
    assert _client(rita).post(url, {"action": "relabel", "label": "sports"}, format="json").status_code == 400
    assert ApprovedLabel.objects.get(item=item).label == "health"


@pytest.mark.parametrize(("body", "field", "words"), [
    ({}, "action", "required"),
    ({"action": "explode"}, "action", "explode"),
    ({"action": "relabel"}, "label", "relabel needs the label"),
    ({"action": "dismiss", "label": "health"}, "label", "only relabel takes a label"),
    ({"action": "relabel", "label": "no-such-label"}, None, "no-such-label"),
])
def test_bad_flag_input_is_a_400_naming_the_problem(rita, project, hausa, evaluator, body, field, words):
    item = flagged(project, hausa, evaluator)
    response = _client(rita).post(f"/api/review/{item.pk}/resolve-flag/", body, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    if field:
        assert field in errors
    assert words in str(errors)
    assert ItemFlag.objects.get(item=item).resolved_at is None


def test_a_reviewer_of_another_language_gets_a_404_and_changes_nothing(project, hausa, urdu, evaluator):
    project.languages.add(urdu)
    item = flagged(project, hausa, evaluator)
    urdu_reviewer = f.role_user(REVIEWERS, f.pool(project, urdu), username="usman")
    response = _client(urdu_reviewer).post(f"/api/review/{item.pk}/resolve-flag/", {"action": "remove"},
                                           format="json")
    assert response.status_code == 404
    assert _client(evaluator).post(f"/api/review/{item.pk}/resolve-flag/", {"action": "remove"},
                                   format="json").status_code == 403
    item.refresh_from_db()
    assert item.status == Item.Status.OPEN and ItemFlag.objects.get(item=item).resolved_at is None


# --- bulk-approve --------------------------------------------------------------------------------

def test_bulk_approve_approves_proposals_names_ties_and_repeats_safely(rita, project, hausa):
    a, b = waiting(project, hausa), waiting(project, hausa, proposed="health")
    tie = waiting(project, hausa, proposed="", reason="tie (sports, health)")
    response = _client(rita).post("/api/review/bulk-approve/", {"items": [a.pk, b.pk, tie.pk]}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["approved"] == [a.pk, b.pk] and body["already_approved"] == [] and body["not_found"] == []
    assert [r["item"] for r in body["refused"]] == [tie.pk] and "no proposed label" in body["refused"][0]["reason"]
    assert dict(ApprovedLabel.objects.filter(item__in=[a, b]).values_list("item_id", "label")) == {
        a.pk: "sports", b.pk: "health"}
    history = ApprovedLabelHistory.objects.count()
    again = _client(rita).post("/api/review/bulk-approve/", {"items": [a.pk, b.pk]}, format="json").json()
    assert again["approved"] == [] and again["already_approved"] == [a.pk, b.pk] and again["refused"] == []
    assert ApprovedLabelHistory.objects.count() == history


def test_bulk_approve_outside_the_reviewers_scope_does_nothing(rita, project, hausa, urdu):
    project.languages.add(urdu)
    theirs = waiting(project, urdu)
    elsewhere = f.ProjectFactory(slug="elsewhere")
    elsewhere.languages.add(hausa)
    other_project = waiting(elsewhere, hausa)
    mine = waiting(project, hausa)
    response = _client(rita).post("/api/review/bulk-approve/",
                                  {"items": [theirs.pk, other_project.pk, mine.pk, 999999]}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["approved"] == [mine.pk]
    assert sorted(body["not_found"]) == sorted([theirs.pk, other_project.pk, 999999])
    for item in (theirs, other_project):
        item.refresh_from_db()
        assert item.status == Item.Status.ADJUDICATION
        assert not ApprovedLabel.objects.filter(item=item).exists()


@pytest.mark.parametrize(("body", "words"), [
    ({}, "required"),
    ({"items": []}, "at least 1"),
    ({"items": ["seven"]}, "valid integer"),
    ({"items": [0]}, "greater than or equal to 1"),
    ({"items": list(range(1, 202))}, "no more than 200"),
    ({"items": 5}, "list"),
])
def test_bad_bulk_input_is_a_400_naming_the_field(rita, body, words):
    response = _client(rita).post("/api/review/bulk-approve/", body, format="json")
    assert response.status_code == 400, response.content
    assert "items" in response.json() and words in str(response.json()["items"])


def test_bulk_approve_needs_a_review_role(project, hausa, evaluator):
    item = waiting(project, hausa)
    assert _client(evaluator).post("/api/review/bulk-approve/", {"items": [item.pk]}, format="json").status_code == 403
    assert APIClient().post("/api/review/bulk-approve/", {"items": [item.pk]}, format="json").status_code in (401, 403)
    item.refresh_from_db()
    assert item.status == Item.Status.ADJUDICATION


def test_the_schema_documents_both_operations_with_summaries(client):
    schema = client.get("/api/schema/?format=json").json()
    flag = schema["paths"]["/api/review/{id}/resolve-flag/"]["post"]
    bulk = schema["paths"]["/api/review/bulk-approve/"]["post"]
    assert flag["summary"].startswith("Resolve an item's flags") and "400" in flag["responses"]
    assert bulk["summary"].startswith("Approve the proposed label of several items")
    assert "not_found" in str(schema["components"]["schemas"]["BulkApproveResult"])
