"""The assignment engine: qualification, priority, overlap k, controls, guideline, leases, skips, scoping."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from annotation.models import Assignment, Item
from annotation.services import assignment_next, assignment_skip, assignments_expire, item_flag
from evaluators.models import Pool
from evaluators.services import guideline_draft, guideline_publish
from tests.annotation.conftest import label_next, make_setup
from tests.factories import ItemFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_highest_priority_first_and_never_the_same_item_twice():
    setup = make_setup(overlap=1, evaluators=1)
    low = ItemFactory(project=setup.project, language=setup.lang, priority=0.1)
    high = ItemFactory(project=setup.project, language=setup.lang, priority=5.0)
    user = setup.evaluators[0]
    first = assignment_next(evaluator=user)
    assert first.item_id == high.pk
    assert assignment_next(evaluator=user).pk == first.pk  # the open lease comes back
    label_next(user, "sports")
    assert assignment_next(evaluator=user).item_id == low.pk


def test_api_next_in_a_project_is_a_404_unless_the_user_may_see_the_project():
    """``next`` with a project: the project is looked up as projects_for lists it (members of its pools
    in any state, its managers, reviewers and pool managers, admins and viewers); another project or an
    unknown slug is a 404, never "no work" (which would tell that the project exists)."""
    from parity.access import PROJECT_MANAGERS, REVIEWERS, VIEWERS
    from tests.factories import admin_user, pool_admin, role_user

    setup = make_setup(overlap=1, evaluators=1, items=1)
    other = make_setup(overlap=1, evaluators=1, items=1, tag="swh_Latn")
    pool_of_other = Pool.objects.get(project=other.project)
    outsider, suspended = setup.evaluators[0], other.evaluators[0]
    from evaluators.models import PoolMembership

    PoolMembership.objects.filter(user=suspended).update(state=PoolMembership.State.SUSPENDED)

    def status(user, slug):
        client = APIClient()
        client.force_authenticate(user)
        return client.post("/api/assignments/next/", {"project": slug}, format="json").status_code

    assert status(outsider, other.project.slug) == 404  # a member elsewhere only
    assert status(outsider, "no-such-project") == 404
    assert status(outsider, setup.project.slug) == 200
    assert status(suspended, other.project.slug) == 403  # a member (suspended): told why, not a 404
    for user in (admin_user(), role_user(VIEWERS), role_user(PROJECT_MANAGERS, obj=other.project),
                 role_user(REVIEWERS, obj=pool_of_other), pool_admin(pool_of_other)):
        assert status(user, other.project.slug) == 204, user  # sees it, has no work there
    assert status(UserFactory(), other.project.slug) == 404


def test_never_more_than_k_evaluators_per_item():
    setup = make_setup(overlap=2, evaluators=3, items=1)
    a, b, c = setup.evaluators
    assert assignment_next(evaluator=a) is not None
    assert assignment_next(evaluator=b) is not None
    assert assignment_next(evaluator=c) is None  # two leases fill the item's k=2 slots
    item = Item.objects.get(project=setup.project)
    assert item.active_assignments == 2


def test_unqualified_or_unacknowledged_evaluators_get_nothing():
    setup = make_setup(evaluators=1, items=2)
    outsider = UserFactory()
    assert assignment_next(evaluator=outsider) is None
    guideline_publish(version=guideline_draft(project=setup.project, body="v1.1: new rule"))
    assert assignment_next(evaluator=setup.evaluators[0]) is None  # must acknowledge the new version


def test_held_out_and_control_items_are_not_regular_work():
    setup = make_setup(overlap=1, evaluators=1)
    ItemFactory(project=setup.project, language=setup.lang, split=Item.Split.HELDOUT)
    ItemFactory(project=setup.project, language=setup.lang, is_control=True, reference_label="sports")
    assert assignment_next(evaluator=setup.evaluators[0], rng=random.Random(0)) is None


def test_control_items_are_mixed_in_at_the_pool_rate():
    setup = make_setup(overlap=3, evaluators=1, items=3)
    Pool.objects.filter(project=setup.project).update(control_rate=1.0)
    control = ItemFactory(project=setup.project, language=setup.lang, is_control=True, reference_label="sports")
    user = setup.evaluators[0]
    assignment = assignment_next(evaluator=user, rng=random.Random(1))
    assert (assignment.item_id, assignment.is_control) == (control.pk, True)
    label_next(user, "sports")
    control.refresh_from_db()
    assert (control.annotation_count, control.active_assignments) == (0, 0)  # controls never use up k
    assert not assignment_next(evaluator=user, rng=random.Random(1)).is_control  # each control once


def test_lease_expiry_returns_the_item_to_the_queue():
    setup = make_setup(overlap=1, evaluators=2, items=1)
    a, b = setup.evaluators
    past = timezone.now() - timedelta(hours=2)
    lease = assignment_next(evaluator=a, now=past)
    assert assignment_next(evaluator=b) is None
    assert assignments_expire() == 1
    assert assignments_expire() == 0  # idempotent
    lease.refresh_from_db()
    assert lease.status == Assignment.Status.EXPIRED
    assert Item.objects.get(project=setup.project).active_assignments == 0
    assert assignment_next(evaluator=b) is not None
    assert assignment_next(evaluator=a) is None  # an expired lease is not handed back


def test_expire_leases_is_scheduled_with_celery_beat():
    task = PeriodicTask.objects.get(task="annotation.expire_leases")
    assert task.enabled and task.interval.every == 5


def test_skip_records_the_reason_and_frees_the_slot():
    setup = make_setup(overlap=1, evaluators=2, items=1)
    a, b = setup.evaluators
    lease = assignment_next(evaluator=a)
    with pytest.raises(Exception, match="why"):
        assignment_skip(evaluator=a, assignment_id=lease.pk, reason=" ")
    skipped = assignment_skip(evaluator=a, assignment_id=lease.pk, reason="I do not understand the dialect")
    assert (skipped.status, skipped.skip_reason) == ("skipped", "I do not understand the dialect")
    assert assignment_skip(evaluator=a, assignment_id=lease.pk, reason="again").status == "skipped"  # retry
    assert Item.objects.get(project=setup.project).active_assignments == 0
    assert assignment_next(evaluator=a) is None
    assert assignment_next(evaluator=b) is not None


def test_flag_releases_the_lease_with_a_comment():
    setup = make_setup(overlap=1, evaluators=1, items=1)
    user = setup.evaluators[0]
    lease = assignment_next(evaluator=user)
    flag = item_flag(evaluator=user, assignment_id=lease.pk, reason="wrong_language", comment="this is Yoruba")
    lease.refresh_from_db()
    assert (flag.reason, flag.comment, lease.status) == ("wrong_language", "this is Yoruba", "skipped")


def test_evaluator_cannot_read_or_change_another_evaluators_assignment():
    setup = make_setup(overlap=2, evaluators=2, items=1)
    owner, other = setup.evaluators
    lease = assignment_next(evaluator=owner)
    client = APIClient()
    client.force_authenticate(other)
    assert client.get(f"/api/assignments/{lease.public_id}/").status_code == 404
    assert client.post(f"/api/assignments/{lease.public_id}/submit/",
                       {"label": "sports", "idempotency_key": "k"}, format="json").status_code == 404
    # submit looks the assignment up in the service (by public id, under its lock): a bad body on someone
    # else's assignment is still a 404 first, and a malformed id is a 404 too
    assert client.post(f"/api/assignments/{lease.public_id}/submit/", {}, format="json").status_code == 404
    assert client.post(f"/api/assignments/{'0' * 33}/submit/",
                       {"label": "sports", "idempotency_key": "k"}, format="json").status_code == 404
    assert client.post(f"/api/assignments/{lease.public_id}/skip/", {"reason": "x"}, format="json").status_code == 404
    assert client.post(f"/api/assignments/{lease.public_id}/flag/", {"reason": "offensive"},
                       format="json").status_code == 404
    assert client.get("/api/assignments/").json()["results"] == []
    with pytest.raises(Assignment.DoesNotExist):  # the services refuse too, not only the API
        assignment_skip(evaluator=other, assignment_id=lease.pk, reason="x")
    lease.refresh_from_db()
    assert lease.status == Assignment.Status.ACTIVE
    client.force_authenticate(owner)
    assert client.get(f"/api/assignments/{lease.public_id}/").status_code == 200
    assert client.get(f"/api/assignments/{lease.pk}/").status_code == 404  # row ids are not addresses


def test_api_next_submit_and_skip_flow():
    setup = make_setup(overlap=1, evaluators=1, items=2)
    client = APIClient()
    client.force_authenticate(setup.evaluators[0])
    first = client.post("/api/assignments/next/", {}, format="json").json()
    assert set(first["item"]) == {"id", "text", "language", "direction"}  # no reference label, no control flag
    response = client.post(f"/api/assignments/{first['id']}/submit/",
                           {"label": "sports", "idempotency_key": "abc", "time_spent_ms": 900}, format="json")
    assert response.status_code == 201
    second = client.post("/api/assignments/next/", {"project": setup.project.slug}, format="json").json()
    assert client.post(f"/api/assignments/{second['id']}/skip/", {"reason": "too long"},
                       format="json").status_code == 200
    assert client.post("/api/assignments/next/", {}, format="json").status_code == 204
