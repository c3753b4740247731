"""Submissions (idempotency, edits), aggregation (majority, Dawid-Skene), adjudication and review."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.test import APIClient

from annotation.models import Annotation, ApprovedLabel, ApprovedLabelHistory, Item, Project
from annotation.services import (
    IdempotencyConflict,
    adjudication_resolve,
    aggregation_batch_run,
    annotation_submit,
    annotation_update,
    assignment_next,
    review_approve,
    review_override,
)
from evaluators.models import Pool
from evaluators.services import guideline_draft, guideline_publish
from learner.selectors import approved_labels
from tests.annotation.conftest import label_next, make_setup
from tests.factories import ItemFactory, admin_user

pytestmark = pytest.mark.django_db


def vote(setup, labels):
    if not Item.objects.filter(project=setup.project).exists():
        ItemFactory(project=setup.project, language=setup.lang)
    for user, label in zip(setup.evaluators, labels, strict=False):
        label_next(user, label)
    return Item.objects.get(project=setup.project)


def test_retried_submit_returns_the_first_annotation():
    setup = make_setup(overlap=2, evaluators=1, items=1)
    user = setup.evaluators[0]
    lease = assignment_next(evaluator=user)
    first = annotation_submit(evaluator=user, assignment_id=lease.pk, label="sports", idempotency_key="k1",
                              time_spent_ms=4200)
    again = annotation_submit(evaluator=user, assignment_id=lease.pk, label="sports", idempotency_key="k1",
                              time_spent_ms=4200)
    assert again.pk == first.pk and again.label == "sports"
    with pytest.raises(IdempotencyConflict, match="different submission"):  # same key, other payload
        annotation_submit(evaluator=user, assignment_id=lease.pk, label="health", idempotency_key="k1")
    assert (first.time_spent_ms, first.guideline_version.label) == (4200, "1.0")
    assert Item.objects.get(project=setup.project).annotation_count == 1
    with pytest.raises(ValidationError):  # a new key cannot annotate the same assignment twice
        annotation_submit(evaluator=user, assignment_id=lease.pk, label="health", idempotency_key="k2")


def test_submit_refuses_unknown_labels_and_stale_guidelines():
    setup = make_setup(overlap=1, evaluators=1, items=1)
    user = setup.evaluators[0]
    lease = assignment_next(evaluator=user)
    with pytest.raises(ValidationError, match="unknown label"):
        annotation_submit(evaluator=user, assignment_id=lease.pk, label="cooking", idempotency_key="a")
    shown = Annotation._meta.get_field("guideline_version").related_model.objects.get()
    guideline_publish(version=guideline_draft(project=setup.project, body="changed"))
    with pytest.raises(PermissionDenied):
        annotation_submit(evaluator=user, assignment_id=lease.pk, label="sports", idempotency_key="b",
                          guideline_version_id=shown.pk)


def test_majority_auto_approves_and_keeps_history():
    setup = make_setup()
    item = vote(setup, ["sports", "sports", "health"])
    approved = ApprovedLabel.objects.get(item=item)
    assert (item.status, approved.label, approved.method) == ("approved", "sports", "majority")
    assert approved.confidence == pytest.approx(2 / 3)
    assert list(item.label_history.values_list("action", "label")) == [("auto", "sports")]
    assert list(approved_labels(project=setup.project, language=setup.lang)) == [approved]


def test_tie_goes_to_adjudication_and_reviewer_decides():
    setup = make_setup(overlap=2, evaluators=2, items=1)
    item = vote(setup, ["sports", "health"])
    assert (item.status, item.review_reason, item.proposed_label) == ("adjudication", "tie", "")
    assert not approved_labels(project=setup.project, language=setup.lang).exists()  # never trained on
    reviewer = admin_user(is_staff=True)
    with pytest.raises(ValidationError, match="choose one"):
        review_approve(item=item, reviewer=reviewer)
    approved = adjudication_resolve(item=item, label="health", reviewer=reviewer)
    assert (approved.label, approved.method, approved.approved_by) == ("health", "review", reviewer)
    with pytest.raises(ValidationError, match="already approved"):
        adjudication_resolve(item=item, label="sports", reviewer=reviewer)


@pytest.mark.parametrize(("rule", "votes", "status"), [
    (Project.AutoApprove.UNANIMOUS, ["sports", "sports", "health"], "adjudication"),
    (Project.AutoApprove.UNANIMOUS, ["sports", "sports", "sports"], "approved"),
    (Project.AutoApprove.NEVER, ["sports", "sports", "sports"], "adjudication"),
])
def test_auto_approve_rule_is_a_project_setting(rule, votes, status):
    setup = make_setup(auto_approve=rule)
    assert vote(setup, votes).status == status


def test_low_confidence_goes_to_review_and_reviewer_approves_the_proposal():
    setup = make_setup(min_confidence=0.9)
    item = vote(setup, ["sports", "sports", "health"])
    assert item.status == "adjudication" and item.review_reason.startswith("low confidence")
    reviewer = admin_user(is_staff=True)
    approved = review_approve(item=item, reviewer=reviewer, comment="fine")
    assert (approved.label, approved.method, approved.approved_by) == ("sports", "majority", reviewer)
    assert list(item.label_history.values_list("action", flat=True)) == ["approve"]


def test_accuracy_floor_rule_needs_good_control_answers():
    setup = make_setup(auto_approve=Project.AutoApprove.UNANIMOUS, auto_approve_accurate_only=True)
    item = vote(setup, ["sports", "sports", "sports"])
    assert item.status == "adjudication"  # nobody has control answers yet
    assert "accuracy floor" in item.review_reason


def test_override_changes_an_approved_label_and_keeps_the_old_one():
    setup = make_setup()
    item = vote(setup, ["sports", "sports", "sports"])
    reviewer = admin_user(is_staff=True)
    review_override(item=item, label="politics", reviewer=reviewer, comment="about the minister")
    history = list(item.label_history.values_list("action", "previous_label", "label"))
    assert history == [("auto", "", "sports"), ("override", "sports", "politics")]
    assert ApprovedLabel.objects.get(item=item).label == "politics"
    assert ApprovedLabelHistory.objects.filter(item=item).count() == 2


def test_evaluator_edits_own_annotation_until_reviewed(django_capture_on_commit_callbacks):
    setup = make_setup(overlap=2, evaluators=2, items=1)
    a, b = setup.evaluators
    mine = label_next(a, "sports")
    assert annotation_update(evaluator=a, annotation_id=mine.pk, label="health").label == "health"
    with pytest.raises(Annotation.DoesNotExist):
        annotation_update(evaluator=b, annotation_id=mine.pk, label="sports")
    label_next(b, "sports")  # health vs sports: a tie
    item = Item.objects.get(project=setup.project)
    assert item.status == "adjudication"
    with django_capture_on_commit_callbacks(execute=True):  # the edit settles it, in the background job
        annotation_update(evaluator=a, annotation_id=mine.pk, label="sports")
    item.refresh_from_db()
    assert item.status == "approved"
    with pytest.raises(ValidationError, match="reviewed"):
        annotation_update(evaluator=a, annotation_id=mine.pk, label="health")


def test_annotations_api_is_scoped_and_editable():
    setup = make_setup(overlap=2, evaluators=2, items=1)
    a, b = setup.evaluators
    mine = label_next(a, "sports")
    client = APIClient()
    client.force_authenticate(b)
    assert client.get(f"/api/annotations/{mine.pk}/").status_code == 404
    assert client.patch(f"/api/annotations/{mine.pk}/", {"label": "health"}, format="json").status_code == 404
    client.force_authenticate(a)
    response = client.patch(f"/api/annotations/{mine.pk}/", {"label": "health"}, format="json")
    assert response.status_code == 200 and response.json()["label"] == "health"


def test_dawid_skene_aggregation_over_the_language(django_capture_on_commit_callbacks):
    setup = make_setup(aggregation=Project.Aggregation.DAWID_SKENE, evaluators=3)
    a, b, c = setup.evaluators
    items = [ItemFactory(project=setup.project, language=setup.lang) for _ in range(6)]
    truth = ["sports", "health", "politics", "sports", "health", "politics"]
    with django_capture_on_commit_callbacks(execute=True):  # one background job decides the batch
        for user, noisy in ((a, False), (b, False), (c, True)):
            for _ in items:
                lease = assignment_next(evaluator=user)
                answer = truth[items.index(lease.item)]
                label = "health" if noisy and answer != "health" else answer
                annotation_submit(evaluator=user, assignment_id=lease.pk, label=label,
                                  idempotency_key=f"{user.pk}-{lease.pk}")
    labels = dict(ApprovedLabel.objects.filter(item__project=setup.project).values_list("item_id", "label"))
    assert labels == {item.pk: t for item, t in zip(items, truth, strict=True)}
    assert set(ApprovedLabel.objects.values_list("method", flat=True)) == {"dawid_skene"}


def test_batch_aggregation_decides_pending_items():
    setup = make_setup(overlap=3)
    item = ItemFactory(project=setup.project, language=setup.lang)
    for user in setup.evaluators:
        label_next(user, "sports")
    Item.objects.filter(pk=item.pk).update(status=Item.Status.OPEN)
    ApprovedLabel.objects.filter(item=item).delete()
    assert aggregation_batch_run(project=setup.project) == 1
    assert Item.objects.get(pk=item.pk).status == "approved"


def test_review_api_is_staff_only():
    setup = make_setup(overlap=2, evaluators=2, items=1)
    item = vote(setup, ["sports", "health"])
    client = APIClient()
    client.force_authenticate(setup.evaluators[0])
    assert client.get("/api/review/").status_code == 403
    client.force_authenticate(admin_user(is_staff=True))
    queue = client.get("/api/review/").json()["results"]
    assert [row["id"] for row in queue] == [item.pk]
    assert sorted(v["label"] for v in queue[0]["votes"]) == ["health", "sports"]
    response = client.post(f"/api/review/{item.pk}/override/", {"label": "health"}, format="json")
    assert response.status_code == 200 and response.json()["label"] == "health"
    history = client.get(f"/api/review/{item.pk}/history/").json()
    assert [h["action"] for h in history] == ["override"]


def test_pool_accuracy_floor_is_read_from_the_pool():
    setup = make_setup(auto_approve_accurate_only=True)
    Pool.objects.filter(project=setup.project).update(accuracy_floor=0.0)
    # with a floor of 0 an evaluator still needs control answers to be trusted
    assert vote(setup, ["sports"] * 3).status == "adjudication"
