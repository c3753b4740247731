"""Query discipline: every page and endpoint an annotator or reviewer uses runs a fixed number of queries.

Each case is measured in a small and in a three-times larger world (more items, labels, votes waiting
for review); the count must be the same in both and equal to the number fixed here, so an N+1 (a query
per item, vote or label) or a new query on the hot path fails the suite and shows up in review.
When a change needs more queries on purpose, update the number and say why in the commit.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from annotation.models import Assignment, Item
from annotation.services import annotation_submit, assignment_next, assignments_window
from evaluators.models import Pool
from parity.access import REVIEWERS
from tests.annotation.conftest import make_setup
from tests.factories import ItemFactory, role_user

pytestmark = pytest.mark.django_db


@dataclass
class World:
    setup: object
    annotator: object
    reviewer: object
    waiting: Item  # an item in adjudication


def _world(scale: int) -> World:
    """10 + 4 × ``scale`` open items, 3 × ``scale`` items decided by two evaluators who disagree on 2 of 3."""
    setup = make_setup(overlap=2, evaluators=3, items=10 + 4 * scale)  # the window always fills
    a, b, annotator = setup.evaluators
    for n in range(3 * scale):
        item = ItemFactory(project=setup.project, language=setup.lang, priority=-1)
        for user, label in ((a, "sports"), (b, "sports" if n % 3 == 0 else "health")):
            lease = Assignment.objects.create(item=item, evaluator=user, status=Assignment.Status.ACTIVE,
                                              leased_at=item.created_at, expires_at=item.created_at)
            Item.objects.filter(pk=item.pk).update(active_assignments=1)
            with TestCase.captureOnCommitCallbacks(execute=True):
                annotation_submit(evaluator=user, assignment_id=lease.pk, label=label,
                                  idempotency_key=uuid.uuid4().hex)
    for _ in range(scale):  # the annotator's own history
        lease = assignment_next(evaluator=annotator)
        with TestCase.captureOnCommitCallbacks(execute=True):
            annotation_submit(evaluator=annotator, assignment_id=lease.pk, label="politics",
                              idempotency_key=uuid.uuid4().hex)
    reviewer = role_user(REVIEWERS, Pool.objects.get(project=setup.project, language=setup.lang))
    waiting = Item.objects.filter(project=setup.project, status=Item.Status.ADJUDICATION).order_by("id").first()
    assert waiting is not None
    return World(setup=setup, annotator=annotator, reviewer=reviewer, waiting=waiting)


def _lease(world: World) -> Assignment:
    """The item on the annotator's screen, with the workspace's window leased behind it."""
    from django.conf import settings

    return assignments_window(evaluator=world.annotator, size=settings.WORKSPACE_PREFETCH)[0]


def _web(world, user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


# Each case prepares what the user has (logged in, a lease in hand) and returns the request alone.
def _dashboard(w):
    c = _web(w, w.annotator)
    return lambda: c.get(reverse("annotation:dashboard"))


def _workspace(w):
    c = _web(w, w.annotator)
    return lambda: c.get(reverse("annotation:workspace"))


def _assignment_page(w):
    c, lease = _web(w, w.annotator), _lease(w)
    return lambda: c.get(reverse("annotation:assignment", args=[lease.public_id]))


def _web_submit(w):
    c, lease = _web(w, w.annotator), _lease(w)
    return lambda: c.post(reverse("annotation:assignment_submit", args=[lease.public_id]),
                          {"label": "sports", "idempotency_key": "q"}, content_type="application/json")


def _web_skip(w):
    c, lease = _web(w, w.annotator), _lease(w)
    return lambda: c.post(reverse("annotation:assignment_skip", args=[lease.public_id]),
                          {"reason": "unsure"}, content_type="application/json")


def _web_flag(w):
    c, lease = _web(w, w.annotator), _lease(w)
    return lambda: c.post(reverse("annotation:assignment_flag", args=[lease.public_id]),
                          {"reason": "other"}, content_type="application/json")


def _web_release(w):
    c, lease = _web(w, w.annotator), _lease(w)
    return lambda: c.post(reverse("annotation:workspace_release"), {"ids": [str(lease.public_id)]},
                          content_type="application/json")


def _api_next(w):
    c = _api(w.annotator)
    return lambda: c.post("/api/assignments/next/", {}, format="json")


def _api_next_in_project(w):
    c = _api(w.annotator)
    return lambda: c.post("/api/assignments/next/", {"project": w.setup.project.slug}, format="json")


def _token_client(user):
    """An API client with a personal token, as scripts and ``benchmarks.load`` authenticate."""
    from parity.tokens import personal_token_create

    _row, token = personal_token_create(user=user, name="query count", days=1)
    personal_token_create(user=user, name="another token", days=1)  # knox used to read them all per request
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _token_next(w):
    c = _token_client(w.annotator)
    return lambda: c.post("/api/assignments/next/", {"project": w.setup.project.slug}, format="json")


def _token_submit(w):
    c, lease = _token_client(w.annotator), _lease(w)
    return lambda: c.post(f"/api/assignments/{lease.public_id}/submit/", {"label": "sports", "idempotency_key": "q"},
                          format="json")


def _api_submit(w):
    c, lease = _api(w.annotator), _lease(w)
    return lambda: c.post(f"/api/assignments/{lease.public_id}/submit/", {"label": "sports", "idempotency_key": "q"},
                          format="json")


def _api_assignments(w):
    c = _api(w.annotator)
    return lambda: c.get("/api/assignments/")


def _api_annotations(w):
    c = _api(w.annotator)
    return lambda: c.get("/api/annotations/")


def _api_memberships(w):
    c = _api(w.annotator)
    return lambda: c.get("/api/my/memberships/")


def _review_page(w):
    c = _web(w, w.reviewer)
    return lambda: c.get(reverse("annotation:review_queue"))


def _review_resolve(w):
    c = _web(w, w.reviewer)
    return lambda: c.post(reverse("annotation:review_resolve", args=[w.waiting.pk]),
                          {"action": "override", "label": "health"})


def _api_review_list(w):
    c = _api(w.reviewer)
    return lambda: c.get("/api/review/")


def _api_review_override(w):
    c = _api(w.reviewer)
    return lambda: c.post(f"/api/review/{w.waiting.pk}/override/", {"label": "health"}, format="json")


def _api_review_history(w):
    c = _api(w.reviewer)
    return lambda: c.get(f"/api/review/{w.waiting.pk}/history/")


def _api_review_resolve_flag(w):
    from annotation.services import item_flag

    lease = _lease(w)
    item_flag(evaluator=w.annotator, assignment_id=lease.pk, reason="offensive", comment="")
    c = _api(w.reviewer)
    return lambda: c.post(f"/api/review/{lease.item_id}/resolve-flag/", {"action": "dismiss"}, format="json")


def _api_review_bulk_approve(w):
    # the tie waiting for review gets a proposal, so the measure includes one real approval
    Item.objects.filter(pk=w.waiting.pk).update(proposed_label="sports", proposed_confidence=0.5)
    c = _api(w.reviewer)
    return lambda: c.post("/api/review/bulk-approve/", {"items": [w.waiting.pk]}, format="json")


CASES = {
    "dashboard": (_dashboard, 200),
    "workspace": (_workspace, 200),
    "assignment page": (_assignment_page, 200),
    "web submit": (_web_submit, 200),
    "web skip": (_web_skip, 200),
    "web flag": (_web_flag, 200),
    "web release": (_web_release, 200),
    "api next": (_api_next, 200),
    "api next in a project": (_api_next_in_project, 200),
    "token next": (_token_next, 200),
    "token submit": (_token_submit, 201),
    "api submit": (_api_submit, 201),
    "api assignments": (_api_assignments, 200),
    "api annotations": (_api_annotations, 200),
    "api memberships": (_api_memberships, 200),
    "review page": (_review_page, 200),
    "review resolve": (_review_resolve, 302),
    "api review list": (_api_review_list, 200),
    "api review override": (_api_review_override, 200),
    "api review history": (_api_review_history, 200),
    "api review resolve flag": (_api_review_resolve_flag, 200),
    "api review bulk approve": (_api_review_bulk_approve, 200),
}

EXPECTED = {
    # annotator (the dashboard's cards add up the table's rows instead of counting again; web pages read the
    # shared database cache for the queue total)
    "dashboard": 13, "workspace": 43, "assignment page": 28,
    "web submit": 42, "web skip": 38, "web flag": 42, "web release": 8,  # answer + refill of the window
    # issue 13, single user: a new lease is one INSERT when the item's lock query saw no earlier assignment
    # of the evaluator (get_or_create took a read, a savepoint, the insert and a release: -3 per lease, so
    # -9 for the workspace's window of 3, -3 for web submit/skip/flag refilling it); the pools a lease is
    # drawn from come with their "current guideline acknowledged" test in one query (two more per pool
    # before: -2 next and every refill); the response reuses the project and language read with the lease
    # or the assignment (-2 next, -1 submit); submit reads the idempotency key once under the lock (-1) and
    # the guideline version with its acknowledgement in one query (-2), and the API submit looks its
    # assignment up by public id under the lock instead of reading it first in the view (-1); next in a
    # project no longer prefetches labels and languages (-2); a token request reads the token alone, not
    # all of the user's tokens (-1 on every token request).
    # issue 13 (h13b): submit asks whether the project has the label in its assignment lock query (-1, web
    # submit too), and the API response's "editable" reuses the k that submit read (-1); an evaluator in
    # one pool gets its best free item locked at once, without the probe that chooses between pools (-1
    # per lease: next, every refill, -3 for the workspace's window of 3); next in a project asks
    # "may the user see it" with EXISTS tests and the admin/viewer role in that one query (-1); the
    # annotation's insert has no savepoint of its own (SAVEPOINT and RELEASE: -2 per submit), the rare race
    # on the idempotency key is read after the rollback (annotation_submit); the pool overlap that k depends
    # on is read with the eligible pools (-1 next and every refill) and with submit's item lock (-1).
    "api next": 8, "api next in a project": 9, "token next": 10, "token submit": 11, "api submit": 10,
    "api assignments": 2, "api annotations": 3, "api memberships": 10,
    # reviewer (the role is checked on the object, project × language; the review page adds the two tab
    # counts and the project/language filter menus, one query each, all scoped to what the reviewer reviews)
    "review page": 17, "review resolve": 14, "api review list": 6, "api review override": 12,
    "api review history": 5,
    "api review resolve flag": 13, "api review bulk approve": 11,  # resolve: the item locked first; bulk: one approval
}


def _measure(case: str, scale: int) -> int:
    prepare, status = CASES[case]
    request = prepare(_world(scale))
    with CaptureQueriesContext(connection) as queries:
        response = request()
    assert response.status_code == status, (case, response.status_code, getattr(response, "content", b"")[:300])
    return len(queries)


@pytest.mark.parametrize("case", sorted(CASES))
def test_queries_do_not_grow_with_the_data_and_match_the_fixed_number(case, django_assert_num_queries):
    small = _measure(case, scale=1)
    large = _measure(case, scale=3)
    assert small == large, f"{case}: {small} queries with little data, {large} with three times as much (an N+1?)"
    prepare, _status = CASES[case]
    request = prepare(_world(2))
    with django_assert_num_queries(EXPECTED[case]):
        request()
