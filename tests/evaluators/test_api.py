import json

import pytest
from rest_framework.test import APIClient

from evaluators.models import CalibrationAttempt, CalibrationItem, PoolMembership
from evaluators.services import membership_suspend
from tests import factories as f

pytestmark = pytest.mark.django_db
State = PoolMembership.State
LABELS = ["alpha-label", "beta-label", "gamma-label"]


@pytest.fixture
def world():
    project = f.ProjectFactory(labels=LABELS)
    f.published_guideline(project, body="# Rules\n<script>alert('x')</script>\nBe **careful**.")
    pool = f.pool(project, pass_mark=0.8, max_attempts=2)
    golds = [(f"calibration text {i}", LABELS[i % 3], f"EXPLANATION-{i}") for i in range(9)]
    f.calibration_round(pool, golds)
    admin = f.pool_admin(pool)
    alice, bob = f.member(pool, username="alice"), f.member(pool, username="bob")
    other_pool = f.pool(f.ProjectFactory(labels=LABELS))
    stranger = f.member(other_pool, username="stranger", state=State.QUALIFIED)
    return {"project": project, "pool": pool, "admin": admin, "alice": alice, "bob": bob,
            "other_pool": other_pool, "stranger": stranger}


def client_for(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def assert_no_gold(response):
    text = response.content.decode()
    for label in LABELS:
        assert label not in text, f"gold label {label!r} leaked in {response.request['PATH_INFO']}"
    assert "EXPLANATION" not in text and "reference" not in text and "explanation" not in text


def test_anonymous_is_refused_everywhere(world):
    pool, membership = world["pool"], world["alice"]
    client = client_for()
    calls = [
        ("get", "/api/my/memberships/"), ("get", f"/api/my/memberships/{membership.pk}/"),
        ("get", f"/api/guidelines/{world['project'].slug}/"),
        ("post", f"/api/guidelines/{world['project'].slug}/acknowledge/"),
        ("get", "/api/calibration/attempts/"), ("post", "/api/calibration/attempts/"),
        ("get", "/api/calibration/attempts/1/"), ("post", "/api/calibration/attempts/1/submit/"),
        ("get", "/api/calibration/attempts/1/result/"),
        ("get", "/api/manage/pools/"), ("get", f"/api/manage/pools/{pool.pk}/members/"),
        ("post", f"/api/manage/pools/{pool.pk}/invite/"), ("get", "/api/manage/memberships/"),
        ("post", f"/api/manage/memberships/{membership.pk}/suspend/"),
        ("post", f"/api/manage/memberships/{membership.pk}/reinstate/"),
        ("post", f"/api/manage/memberships/{membership.pk}/remove/"),
    ]
    for method, url in calls:
        assert getattr(client, method)(url).status_code in (401, 403), url


def test_my_memberships_are_mine_only(world):
    alice = world["alice"]
    response = client_for(alice.user).get("/api/my/memberships/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [alice.pk]
    assert results[0]["state"] == "invited" and results[0]["calibration"]["attempts_left"] == 2
    assert client_for(alice.user).get(f"/api/my/memberships/{world['bob'].pk}/").status_code == 404


def test_guideline_rendered_raw_acknowledged_and_scoped(world):
    alice, slug = world["alice"], world["project"].slug
    client = client_for(alice.user)
    body = client.get(f"/api/guidelines/{slug}/").json()
    assert body["version"] == "1.0" and body["acknowledged"] is False
    assert "<script>" in body["body_markdown"] and "<script" not in body["body_html"]
    assert "<strong>careful</strong>" in body["body_html"]
    assert client.post(f"/api/guidelines/{slug}/acknowledge/").status_code == 201
    assert client.get(f"/api/guidelines/{slug}/").json()["acknowledged"] is True
    other_slug = world["other_pool"].project.slug
    assert client.get(f"/api/guidelines/{other_slug}/").status_code == 404
    assert client.post(f"/api/guidelines/{other_slug}/acknowledge/").status_code == 404


def test_calibration_flow_never_leaks_gold_before_submit(world):
    alice, pool = world["alice"], world["pool"]
    client = client_for(alice.user)
    started = client.post("/api/calibration/attempts/", {"pool": pool.pk}, format="json")
    assert started.status_code == 201
    assert_no_gold(started)
    attempt = started.json()
    assert [i["id"] for i in attempt["items"]] == CalibrationAttempt.objects.get(pk=attempt["id"]).item_order
    assert set(attempt["items"][0]) == {"id", "text"}
    assert attempt["accuracy"] is None
    for url in (f"/api/calibration/attempts/{attempt['id']}/", "/api/calibration/attempts/", "/api/my/memberships/"):
        response = client.get(url)
        assert response.status_code == 200
        assert_no_gold(response)
    early = client.get(f"/api/calibration/attempts/{attempt['id']}/result/")
    assert early.status_code == 409
    assert_no_gold(early)
    bad = client.post(f"/api/calibration/attempts/{attempt['id']}/submit/",
                      {"answers": [{"item": attempt["items"][0]["id"], "label": "alpha-label"}]}, format="json")
    assert bad.status_code == 400 and "answers missing" in json.dumps(bad.json())
    assert_no_gold(bad)  # the error names items, never their gold

    # Answer everything with the first label: 3 of 9 right, fail.
    answers = [{"item": i["id"], "label": "alpha-label"} for i in attempt["items"]]
    submitted = client.post(f"/api/calibration/attempts/{attempt['id']}/submit/", {"answers": answers},
                            format="json")
    assert submitted.status_code == 200
    result = submitted.json()
    assert result["passed"] is False and result["accuracy"] == pytest.approx(1 / 3)
    assert len(result["mistakes"]) == 6
    mistake = result["mistakes"][0]
    gold = CalibrationItem.objects.get(pk=mistake["item"])
    assert mistake["reference_label"] == gold.reference_label and mistake["explanation"] == gold.explanation
    assert client.get(f"/api/calibration/attempts/{attempt['id']}/result/").json()["mistakes"] == result["mistakes"]
    retry = client.post("/api/calibration/attempts/", {"pool": pool.pk}, format="json")
    assert retry.status_code == 409 and "retry_at" in retry.json()


def test_calibration_pass_over_api_qualifies(world):
    bob, pool = world["bob"], world["pool"]
    client = client_for(bob.user)
    attempt = client.post("/api/calibration/attempts/", {"pool": pool.pk}, format="json").json()
    gold = dict(CalibrationItem.objects.values_list("id", "reference_label"))
    answers = [{"item": i["id"], "label": gold[i["id"]]} for i in attempt["items"]]
    result = client.post(f"/api/calibration/attempts/{attempt['id']}/submit/", {"answers": answers},
                         format="json").json()
    assert result["passed"] is True and result["mistakes"] == []
    bob.refresh_from_db()
    assert bob.state == State.QUALIFIED


def test_another_users_attempt_is_a_404(world):
    alice, bob, pool = world["alice"], world["bob"], world["pool"]
    attempt = client_for(alice.user).post("/api/calibration/attempts/", {"pool": pool.pk}, format="json").json()
    other = client_for(bob.user)
    assert other.get(f"/api/calibration/attempts/{attempt['id']}/").status_code == 404
    assert other.get(f"/api/calibration/attempts/{attempt['id']}/result/").status_code == 404
    assert other.post(f"/api/calibration/attempts/{attempt['id']}/submit/", {"answers": []},
                      format="json").status_code == 404
    assert other.get("/api/calibration/attempts/").json()["results"] == []
    # Starting in a pool one is not a member of is a 404 too.
    stranger = client_for(world["stranger"].user)
    assert stranger.post("/api/calibration/attempts/", {"pool": pool.pk}, format="json").status_code == 404


def test_pool_management_for_admins_only(world):
    admin, pool, alice = world["admin"], world["pool"], world["alice"]
    evaluator = client_for(alice.user)
    assert evaluator.get("/api/manage/pools/").status_code == 403
    assert evaluator.post(f"/api/manage/memberships/{alice.pk}/suspend/", {"reason": "x"}).status_code == 403

    client = client_for(admin)
    assert [p["id"] for p in client.get("/api/manage/pools/").json()["results"]] == [pool.pk]
    members = client.get(f"/api/manage/pools/{pool.pk}/members/").json()["results"]
    assert {m["username"] for m in members} == {"alice", "bob"}
    # Another pool's members and pages are 404 to this admin.
    other_pool, stranger = world["other_pool"], world["stranger"]
    assert client.get(f"/api/manage/pools/{other_pool.pk}/members/").status_code == 404
    assert client.post(f"/api/manage/memberships/{stranger.pk}/suspend/", {"reason": "x"}).status_code == 404

    newcomer = f.UserFactory(username="newcomer")
    invited = client.post(f"/api/manage/pools/{pool.pk}/invite/", {"username": "newcomer"}, format="json")
    assert invited.status_code == 201 and invited.json()["state"] == "invited"
    assert PoolMembership.objects.filter(pool=pool, user=newcomer).exists()
    assert client.post(f"/api/manage/pools/{pool.pk}/invite/", {"username": "ghost"}).status_code == 400

    PoolMembership.objects.filter(pk=alice.pk).update(state=State.QUALIFIED)
    url = f"/api/manage/memberships/{alice.pk}"
    assert client.post(f"{url}/suspend/", {}, format="json").status_code == 400  # reason required
    suspended = client.post(f"{url}/suspend/", {"reason": "sloppy"}, format="json")
    assert suspended.status_code == 200 and suspended.json()["state"] == "suspended"
    assert client.post(f"{url}/suspend/", {"reason": "again"}, format="json").status_code == 400
    assert client.post(f"{url}/reinstate/", {}, format="json").json()["state"] == "qualified"
    assert client.post(f"{url}/remove/", {"reason": "left"}, format="json").json()["state"] == "removed"
    assert client.post(f"{url}/reinstate/", {}, format="json").status_code == 400
    assert client.get("/api/manage/memberships/", {"pool": other_pool.pk}).json()["results"] == []


def test_superuser_manages_every_pool(world):
    root = f.UserFactory(is_superuser=True, is_staff=True)
    stranger = world["stranger"]
    membership_suspend(membership=stranger, reason="test")
    response = client_for(root).post(f"/api/manage/memberships/{stranger.pk}/reinstate/", {}, format="json")
    assert response.status_code == 200
