"""The five attacks of issue 10, each played as a motivated evaluator would, through the API.

Every test here failed on the main branch before the fix: a leaked calibration key passed, controls were
told apart by their ids, a removed member kept working, a conflicting retry was silently accepted, and a
language without enough evaluators stalled without a word.
"""
from __future__ import annotations

import uuid
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from annotation.models import Annotation, ApprovedLabel, Assignment
from evaluators.models import PoolMembership
from evaluators.services import membership_remove
from tests import factories as f
from tests.annotation.conftest import make_setup

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- 1. a leaked calibration key --------------------------------------------------------------------


def test_a_leaked_calibration_key_does_not_pass_the_retry():
    project = f.ProjectFactory()
    f.published_guideline(project)
    pool = f.pool(project, pass_mark=0.8, max_attempts=3, retry_cooldown_hours=0)
    golds = [(f"gold sentence {i}", f.TOPICS[i % 3], f"because {i}") for i in range(30)]
    f.calibration_round(pool, golds, items_per_attempt=10)
    membership = f.member(pool)
    client = api(membership.user)

    first = client.post("/api/calibration/attempts/", {"pool": pool.pk}, format="json").json()
    assert len(first["items"]) == 10
    answers = [{"item": i["id"], "label": "politics"} for i in first["items"]]
    result = client.post(f"/api/calibration/attempts/{first['id']}/submit/", {"answers": answers},
                         format="json").json()
    assert result["passed"] is False
    # The key the evaluator now holds: every gold answer the feedback revealed, and what was right.
    key = {m["item"]: m["reference_label"] for m in result["mistakes"]}
    key.update({a["item"]: "politics" for a in answers if a["item"] not in key})
    best_guess = Counter(key.values()).most_common(1)[0][0]

    second = client.post("/api/calibration/attempts/", {"pool": pool.pk}, format="json").json()
    assert second["number"] == 2
    assert not {i["id"] for i in second["items"]} & set(key)  # nothing seen before comes back
    answers = [{"item": i["id"], "label": key.get(i["id"], best_guess)} for i in second["items"]]
    result = client.post(f"/api/calibration/attempts/{second['id']}/submit/", {"answers": answers},
                         format="json").json()
    assert result["passed"] is False
    membership.refresh_from_db()
    assert membership.state != PoolMembership.State.QUALIFIED


# --- 2. telling controls from work ----------------------------------------------------------------


def _as_number(value) -> float:
    """An id as the attacker would compare it: as a number when it is one, else by its text."""
    try:
        return float(int(str(value)))
    except ValueError:
        return float(int(uuid.UUID(str(value)).hex, 16))


def _youden(flags: list[bool], truth: list[bool]) -> float:
    """True-positive rate minus false-positive rate: 0 for a coin, 1 for a perfect detector."""
    tp = sum(f_ and t for f_, t in zip(flags, truth, strict=True))
    fp = sum(f_ and not t for f_, t in zip(flags, truth, strict=True))
    positives, negatives = sum(truth), len(truth) - sum(truth)
    return tp / positives - fp / negatives


def test_a_classifier_on_what_the_evaluator_receives_finds_controls_no_better_than_chance(client):
    setup = make_setup(overlap=1, evaluators=1)
    user = setup.evaluators[0]
    pool = user.memberships.get().pool
    pool.control_rate, pool.gold_max_exposure, pool.control_min_answers = 0.35, 100, 1000
    pool.save()
    # Controls are created first, as an admin seeding gold would: they hold the lowest row ids.
    for n in range(60):
        f.ItemFactory(project=setup.project, language=setup.lang, is_control=True, reference_label="politics",
                      text=f"gold {n}")
    for n in range(120):
        f.ItemFactory(project=setup.project, language=setup.lang, text=f"work {n}")
    client.force_login(user)
    seen = []  # (what the evaluator received, truth)
    work = []  # per cycle: the headers of both responses, and the queries the server ran for each
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/assignments/next/", {}, content_type="application/json")
    while response.status_code == 200:
        received = response.json()
        next_headers, next_queries = _headers(response), len(queries)
        assignment = Assignment.objects.get(evaluator=user, status=Assignment.Status.ACTIVE)
        with CaptureQueriesContext(connection) as queries:
            submitted = client.post(
                f"/api/assignments/{received['id']}/submit/",
                {"label": "sports", "idempotency_key": uuid.uuid4().hex, "time_spent_ms": 800},
                content_type="application/json",
            )
        assert submitted.status_code == 201
        seen.append((received, submitted.json(), assignment.is_control))
        work.append((next_headers, _headers(submitted), next_queries, len(queries)))
        with CaptureQueriesContext(connection) as queries:
            response = client.post("/api/assignments/next/", {}, content_type="application/json")
    truth = [is_control for _, _, is_control in seen]
    assert 20 <= sum(truth) <= 60 and len(truth) - sum(truth) == 120

    # 1. "An id lower than the highest seen so far is a control" (item and assignment ids).
    for field in ("item", "assignment"):
        flags, highest = [], None
        for received, _, _ in seen:
            value = _as_number(received["item"]["id"] if field == "item" else received["id"])
            flags.append(highest is not None and value < highest)
            highest = value if highest is None else max(highest, value)
        assert _youden(flags, truth) < 0.3, field
    # 2. Anything in the response's shape or flags that differs between controls and work.
    for index in (0, 1):
        shapes = [tuple(sorted(str(kv) for kv in _shape(part[index]).items())) for part in seen]
        usual = Counter(shapes).most_common(1)[0][0]
        assert _youden([s != usual for s in shapes], truth) < 0.3
    editable = [not sub["editable"] for _, sub, _ in seen]
    assert _youden([not e for e in editable], truth) < 0.3
    # 3. Timing: no Server-Timing header (to the tenth of a millisecond, it told controls apart by the
    # extra work their path did: Youden J 0.9 on next, 1.0 on submit), the same headers for both, and the
    # same number of queries on both paths, so a control costs the server what work does.
    for index in (0, 1):
        assert all("server-timing" not in headers for headers in (cycle[index] for cycle in work))
        assert len({cycle[index] for cycle in work}) == 1
    for index in (2, 3):
        counts = [cycle[index] for cycle in work]
        usual = Counter(counts).most_common(1)[0][0]
        assert _youden([n != usual for n in counts], truth) < 0.3
        assert _youden([n > usual for n in counts], truth) < 0.3 and _youden([n < usual for n in counts], truth) < 0.3
        assert {n for n, control in zip(counts, truth, strict=True) if control} == {usual}, counts


def _headers(response) -> tuple[str, ...]:
    """The names of a response's headers (their values are the same cookie, type and policy strings)."""
    return tuple(sorted(name.lower() for name in response.headers))


def _shape(payload: dict) -> dict:
    """Keys, value types and boolean values: what a response looks like, not what it says."""
    out = {}
    for key, value in payload.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in _shape(value).items()})
        else:
            out[key] = value if isinstance(value, bool) else type(value).__name__
    return out


def test_workspace_counters_move_the_same_after_a_control_and_after_work(client):
    setup = make_setup(overlap=1, evaluators=1)
    user = setup.evaluators[0]
    pool = user.memberships.get().pool
    pool.control_rate, pool.gold_max_exposure, pool.control_min_answers = 0.4, 100, 1000
    pool.save()
    for n in range(15):
        f.ItemFactory(project=setup.project, language=setup.lang, is_control=True, reference_label="politics",
                      text=f"gold {n}")
    for n in range(30):
        f.ItemFactory(project=setup.project, language=setup.lang, text=f"work {n}")
    client.force_login(user)
    deltas = {True: set(), False: set()}
    page = client.get("/work/")
    current = page.context["data"]
    progress = page.context["progress"]
    while current is not None:
        # The workspace holds a prefetch window of leases: the one on screen is ``current``.
        was_control = Assignment.objects.get(evaluator=user, public_id=current["id"]).is_control
        body = client.post(current["urls"]["submit"], {"label": "sports", "idempotency_key": uuid.uuid4().hex},
                           content_type="application/json").json()
        if body["next"] is None:
            break
        new = body["progress"]
        deltas[was_control].add((new["queue_done"] - progress["queue_done"],
                                 new["queue_total"] - progress["queue_total"], new["session_done"]
                                 - progress["session_done"]))
        progress, current = new, body["next"]
    assert deltas[True] and deltas[False]
    assert deltas[True] <= deltas[False] or deltas[False] <= deltas[True]  # same moves, not tell-tale ones
    assert deltas[True] == {(1, 0, 1)} and deltas[False] == {(1, 0, 1)}


# --- 3. a removed member keeps working -----------------------------------------------------------


def test_a_removed_member_cannot_fetch_submit_or_edit_and_the_lease_goes_back():
    setup = make_setup(overlap=2, evaluators=2, items=2)
    user, other = setup.evaluators
    client = api(user)
    done = client.post("/api/assignments/next/", {}, format="json").json()
    annotation = client.post(f"/api/assignments/{done['id']}/submit/",
                             {"label": "sports", "idempotency_key": "first"}, format="json").json()
    held = client.post("/api/assignments/next/", {}, format="json").json()
    lease = Assignment.objects.get(evaluator=user, status=Assignment.Status.ACTIVE)
    item = lease.item
    assert item.active_assignments == 1

    membership = PoolMembership.objects.get(user=user)
    membership_remove(membership=membership, reason="copied answers from a friend")
    item.refresh_from_db()
    assert item.active_assignments == 0  # the lease went back to the queue at once
    lease.refresh_from_db()
    assert lease.status == "released"

    refused = client.post("/api/assignments/next/", {}, format="json")
    assert refused.status_code == 403 and "removed" in refused.json()["detail"]
    assert "copied answers from a friend" in refused.json()["detail"]
    submit = client.post(f"/api/assignments/{held['id']}/submit/", {"label": "sports", "idempotency_key": "late"},
                         format="json")
    assert submit.status_code == 403 and "removed" in submit.json()["detail"]
    edit = client.patch(f"/api/annotations/{annotation['id']}/", {"label": "health"}, format="json")
    assert edit.status_code == 403 and "removed" in edit.json()["detail"]
    assert Annotation.objects.filter(evaluator=user).count() == 1
    assert Annotation.objects.get(evaluator=user).label == "sports"
    assert item.annotation_count == 0
    # The slot serves someone else.
    assert api(other).post("/api/assignments/next/", {}, format="json").status_code == 200


# --- 4. a conflicting retry ------------------------------------------------------------------------


def test_the_same_idempotency_key_with_another_label_is_a_409():
    setup = make_setup(overlap=1, evaluators=1, items=2)
    client = api(setup.evaluators[0])
    lease = client.post("/api/assignments/next/", {}, format="json").json()
    url = f"/api/assignments/{lease['id']}/submit/"
    first = client.post(url, {"label": "sports", "idempotency_key": "k-1", "time_spent_ms": 700}, format="json")
    assert first.status_code == 201
    again = client.post(url, {"label": "sports", "idempotency_key": "k-1", "time_spent_ms": 700}, format="json")
    assert again.status_code in (200, 201) and again.json()["id"] == first.json()["id"]
    conflict = client.post(url, {"label": "health", "idempotency_key": "k-1", "time_spent_ms": 700}, format="json")
    assert conflict.status_code == 409
    assert "idempotency key" in conflict.json()["detail"] and "different" in conflict.json()["detail"]
    other = client.post("/api/assignments/next/", {}, format="json").json()
    elsewhere = client.post(f"/api/assignments/{other['id']}/submit/", {"label": "sports", "idempotency_key": "k-1",
                                                                         "time_spent_ms": 700}, format="json")
    assert elsewhere.status_code == 409
    assert list(Annotation.objects.values_list("label", flat=True)) == ["sports"]


# --- 5. a language below capacity ----------------------------------------------------------------


def test_a_language_below_capacity_is_reported_and_still_approves_when_configured():
    setup = make_setup(overlap=3, evaluators=2, items=3)
    staff = f.admin_user()
    health = api(staff).get(f"/api/projects/{setup.project.slug}/health/")
    assert health.status_code == 200
    row = next(r for r in health.json()["languages"] if r["language"] == setup.lang.tag)
    assert (row["overlap"], row["capacity"], row["ok"]) == (3, 2, False)
    assert "invite" in row["advice"] and "overlap" in row["advice"]
    assert health.json()["ok"] is False

    from tests.annotation.conftest import label_next

    for user in setup.evaluators:
        label_next(user, "sports")
    assert not ApprovedLabel.objects.exists()  # waits for a third evaluator who does not exist

    setup.project.aggregate_when_short = True
    setup.project.save()
    for user in setup.evaluators:
        label_next(user, "sports")
    assert ApprovedLabel.objects.count() >= 1
    row = next(r for r in api(staff).get(f"/api/projects/{setup.project.slug}/health/").json()["languages"]
               if r["language"] == setup.lang.tag)
    assert row["effective_overlap"] == 2
    assert api(setup.evaluators[0]).get(f"/api/projects/{setup.project.slug}/health/").status_code == 403
    overview = api(staff).get("/api/health/capacity/")
    assert overview.status_code == 200 and overview.json()[0]["project"] == setup.project.slug
    assert api(setup.evaluators[0]).get("/api/health/capacity/").status_code == 403


def test_the_workspace_answers_a_conflicting_retry_with_409_too(client):
    setup = make_setup(overlap=1, evaluators=1, items=2)
    user = setup.evaluators[0]
    client.force_login(user)
    data = client.get("/work/").context["data"]
    url = data["urls"]["submit"]
    first = client.post(url, {"label": "sports", "idempotency_key": "w-1"}, content_type="application/json",
                        HTTP_ACCEPT="application/json")
    assert first.status_code == 200
    conflict = client.post(url, {"label": "health", "idempotency_key": "w-1"}, content_type="application/json",
                           HTTP_ACCEPT="application/json")
    assert conflict.status_code == 409 and "idempotency key" in conflict.json()["error"]
    assert list(Annotation.objects.values_list("label", flat=True)) == ["sports"]
