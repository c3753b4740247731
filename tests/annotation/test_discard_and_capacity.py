"""Discarding a member's annotations, per-language overlap, aggregating short of evaluators, and the
save-time capacity warning."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from annotation.capacity import capacity_report, effective_overlap
from annotation.models import Annotation, AnnotationDiscard, ApprovedLabel, ApprovedLabelHistory, Item
from annotation.services import aggregation_batch_run, annotations_discard, assignment_next
from evaluators.models import MembershipEvent, Pool, PoolMembership
from tests import factories as f
from tests.annotation.conftest import label_next, make_setup

pytestmark = pytest.mark.django_db


def test_discard_takes_a_members_labels_out_and_reopens_what_relied_on_them():
    setup = make_setup(overlap=2, evaluators=3, items=2)
    cheat, honest, other = setup.evaluators
    for user in (cheat, honest):
        label_next(user, "sports")
        label_next(user, "sports")
    assert ApprovedLabel.objects.count() == 2
    membership = PoolMembership.objects.get(user=cheat)
    admin = f.UserFactory(is_staff=True)
    before = timezone.now() - timedelta(hours=1)

    with pytest.raises(ValidationError, match="reason"):
        annotations_discard(membership=membership, since=before, reason=" ", actor=admin)
    discard = annotations_discard(membership=membership, since=before, reason="random clicking", actor=admin)

    assert (discard.n_annotations, discard.n_reopened) == (2, 2)
    assert not ApprovedLabel.objects.exists()  # training can no longer use them
    assert set(Item.objects.values_list("status", "annotation_count")) == {(Item.Status.OPEN, 1)}
    assert Annotation.objects.filter(evaluator=cheat, discarded_at__isnull=False).count() == 2  # kept, marked
    reopen = ApprovedLabelHistory.objects.filter(action=ApprovedLabelHistory.Action.REOPEN)
    assert reopen.count() == 2 and all(h.previous_label == "sports" and h.actor == admin for h in reopen)
    event = MembershipEvent.objects.filter(membership=membership).last()
    assert "discarded 2 annotation(s)" in event.reason and "random clicking" in event.reason
    # The items are back in the queue and approve again with a third evaluator's labels.
    label_next(other, "health")
    label_next(other, "health")
    # honest "sports" against other "health": the cheat's discarded "sports" no longer breaks the tie.
    assert set(Item.objects.values_list("status", "review_reason")) == {(Item.Status.ADJUDICATION, "tie")}
    # The discarded votes never count again.
    assert set(Annotation.objects.counted().values_list("evaluator", flat=True)) == {honest.pk, other.pk}


def test_discard_over_the_api_is_for_pool_admins_only():
    setup = make_setup(overlap=1, evaluators=1, items=1)
    user = setup.evaluators[0]
    label_next(user, "sports")
    membership = PoolMembership.objects.get(user=user)
    url = f"/api/manage/memberships/{membership.pk}/discard/"
    body = {"since": (timezone.now() - timedelta(days=1)).isoformat(), "reason": "spam"}
    evaluator = APIClient()
    evaluator.force_authenticate(user)
    assert evaluator.post(url, body, format="json").status_code == 403
    admin = APIClient()
    admin.force_authenticate(f.pool_admin(membership.pool))
    response = admin.post(url, body, format="json")
    assert response.status_code == 201 and response.json()["n_reopened"] == 1
    future = admin.post(url, {**body, "since": (timezone.now() + timedelta(days=1)).isoformat()}, format="json")
    assert future.status_code == 400 and "future" in str(future.json())
    assert AnnotationDiscard.objects.count() == 1


def test_discard_page_in_the_admin(admin_client):
    setup = make_setup(overlap=1, evaluators=1, items=1)
    label_next(setup.evaluators[0], "sports")
    membership = PoolMembership.objects.get(user=setup.evaluators[0])
    change = admin_client.get(f"/admin/evaluators/poolmembership/{membership.pk}/change/").content.decode()
    url = f"/admin/evaluators/poolmembership/{membership.pk}/discard/"
    assert url in change
    assert admin_client.get(url).status_code == 200
    since = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = admin_client.post(url, {"since": since, "reason": "bot"})
    assert response.status_code == 302
    assert AnnotationDiscard.objects.get().n_annotations == 1 and not ApprovedLabel.objects.exists()


def test_a_pool_can_set_its_own_overlap():
    setup = make_setup(overlap=3, evaluators=1, items=2)
    Pool.objects.filter(project=setup.project).update(overlap=1)
    assert effective_overlap(project=setup.project, language_id=setup.lang.pk) == 1
    label_next(setup.evaluators[0], "sports")
    assert ApprovedLabel.objects.count() == 1
    row = capacity_report(project=setup.project)[0]
    assert (row.overlap, row.capacity, row.ok) == (1, 1, True)


def test_the_plain_pools_overlap_is_the_k_of_evaluators_in_a_dialect_pool():
    """k is read with next's pools and with submit's item lock (one query less each): it is still the
    language's k (the plain pool's overlap), not the overlap of the evaluator's own (dialect) pool."""
    setup = make_setup(overlap=3, evaluators=2, items=1)
    first, second = setup.evaluators
    Pool.objects.filter(project=setup.project, language=setup.lang, dialect="").update(overlap=1)
    dialect = Pool.objects.create(project=setup.project, language=setup.lang, dialect="kano", control_rate=0.0)
    PoolMembership.objects.filter(user__in=[first, second]).update(pool=dialect)
    lease = assignment_next(evaluator=first)
    assert lease is not None
    assert assignment_next(evaluator=second) is None  # k = 1: the one lease fills the item
    label_next(first, "sports")
    assert ApprovedLabel.objects.filter(item=lease.item).exists()  # decided with k = 1, not the project's 3


def test_short_of_evaluators_one_label_goes_to_review_and_a_sweep_decides_waiting_items():
    setup = make_setup(overlap=3, evaluators=2, items=2, aggregate_when_short=True, short_min_labels=1)
    first, second = setup.evaluators
    label_next(first, "sports")
    label_next(second, "sports")  # capacity 2: aggregated with 2 labels
    assert ApprovedLabel.objects.count() == 1
    PoolMembership.objects.filter(user=second).update(state=PoolMembership.State.SUSPENDED)
    assert effective_overlap(project=setup.project, language_id=setup.lang.pk) == 1
    label_next(first, "health")  # capacity 1: one label, which a reviewer must confirm
    waiting = Item.objects.get(status=Item.Status.ADJUDICATION)
    assert "single label" in waiting.review_reason


def test_items_that_waited_for_k_are_decided_once_the_project_aggregates_short():
    setup = make_setup(overlap=3, evaluators=2, items=2)
    for user in setup.evaluators:
        label_next(user, "sports")
        label_next(user, "sports")
    assert aggregation_batch_run(project=setup.project) == 0  # k = 3: both items wait
    setup.project.aggregate_when_short = True
    setup.project.save()
    assert aggregation_batch_run(project=setup.project) == 2
    assert ApprovedLabel.objects.count() == 2


def test_no_control_is_served_when_there_is_no_regular_work():
    setup = make_setup(overlap=1, evaluators=1)
    pool = Pool.objects.get(project=setup.project)
    pool.control_rate = 1.0
    pool.save()
    f.ItemFactory(project=setup.project, language=setup.lang, is_control=True, reference_label="sports")
    assert assignment_next(evaluator=setup.evaluators[0]) is None


def test_saving_a_project_with_k_above_capacity_warns(admin_client):
    setup = make_setup(overlap=2, evaluators=2)
    project = setup.project
    url = f"/admin/annotation/project/{project.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200 and "capacity" in page.content.decode()
    form = page.context["adminform"].form
    data = {name: form.initial.get(name, "") for name in form.fields}
    data.update({"name": project.name, "slug": project.slug, "overlap": 3, "schema_type": "nominal",
                 "aggregation": "majority", "auto_approve": "majority", "min_confidence": 0, "lease_minutes": 30,
                 "short_min_labels": 2, "languages": [setup.lang.pk]})
    data.pop("aggregate_when_short", None)
    data.pop("auto_approve_accurate_only", None)
    labels = list(project.labels.all())
    data.update({"labels-TOTAL_FORMS": len(labels), "labels-INITIAL_FORMS": len(labels), "labels-MIN_NUM_FORMS": 0,
                 "labels-MAX_NUM_FORMS": 1000})
    for i, label in enumerate(labels):
        data.update({f"labels-{i}-id": label.pk, f"labels-{i}-project": project.pk, f"labels-{i}-value": label.value,
                     f"labels-{i}-display": label.display, f"labels-{i}-order": label.order})
    response = admin_client.post(url, data, follow=True)
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any("Capacity below overlap" in m and "k=3" in m for m in shown), shown
