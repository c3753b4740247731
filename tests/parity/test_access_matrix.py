"""Role × endpoint matrix, built from the URL configuration.

1. Every URL (outside Django's admin, the schema and i18n) declares an access rule; a new endpoint
   without one fails here.
2. Every URL whose rule is a permission (not PUBLIC / LOGIN) has a row in MATRIX saying which roles
   may use it on the objects of the world below; a new guarded endpoint without a row fails here.
3. Each row is requested by each role: the roles listed get through (anything but 401/403/404 or a
   redirect to the login page), every other role is refused. ``staff`` is the demo's old "reviewer":
   ``is_staff`` and nothing else, which must grant nothing.
"""
from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from annotation.models import Item, Report
from evaluators.models import PoolMembership
from learner.models import ModelVersion, SamplingRun, TrainingRun
from parity import access
from parity.access import POOL_MANAGERS, PROJECT_MANAGERS, REVIEWERS, VIEWERS
from tests import factories as f

ROLES = ["anonymous", "staff", "evaluator", "viewer", "reviewer", "pool_manager", "other_pm", "pm", "admin"]
CONSOLE = {"viewer", "reviewer", "pool_manager", "other_pm", "pm", "admin"}
SKIP_PREFIXES = ("admin/", "api/schema/", "api/docs/", "i18n/", "static/")


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry, f"{namespace}{entry.name}"


def endpoints():
    """(route, name, [(action or None, rule)]) for every URL the platform serves."""
    for route, pattern, name in _walk(get_resolver().url_patterns):
        if route.startswith(SKIP_PREFIXES) or "format" in route:
            continue
        callback = pattern.callback
        cls = getattr(callback, "cls", None)
        if cls is not None and getattr(callback, "actions", None):
            rules = [(action, access.view_rule(cls, action)) for action in sorted(set(callback.actions.values()))]
        elif cls is not None:
            rules = [(None, access.view_rule(cls, None))]
        else:
            rules = [(None, getattr(callback, "access_rule", None))]
        yield route, name, rules


def test_every_endpoint_declares_an_access_rule():
    missing = [f"{route} ({name}) action={action}" for route, name, rules in endpoints()
               for action, rule in rules if rule is None]
    assert not missing, "endpoints without an access rule:\n" + "\n".join(missing)


@pytest.fixture
def world(db):
    """Project A in Hausa and Amharic, project B in Amharic; one user per role."""
    hau, amh = f.language("hau_Latn"), f.language("amh_Ethi")
    a = f.ProjectFactory(slug="a")
    a.languages.add(hau, amh)
    b = f.ProjectFactory(slug="b")
    b.languages.add(amh)
    f.published_guideline(a)
    pool_a = f.pool(a, hau)
    pool_a_amh = f.pool(a, amh)
    f.pool(b, amh)
    item = f.ItemFactory(project=a, language=hau, text="labari", status=Item.Status.ADJUDICATION)
    item_amh = f.ItemFactory(project=a, language=amh, text="ዜና", status=Item.Status.ADJUDICATION)
    users = {
        "anonymous": None,
        "staff": f.UserFactory(username="staff", is_staff=True),
        "evaluator": f.qualified_evaluator(a, hau, username="evaluator"),
        "viewer": f.role_user(VIEWERS, username="viewer"),
        "reviewer": f.role_user(REVIEWERS, pool_a, username="reviewer"),
        "pool_manager": f.role_user(POOL_MANAGERS, pool_a, username="poolmgr"),
        "other_pm": f.role_user(PROJECT_MANAGERS, b, username="other_pm"),
        "pm": f.role_user(PROJECT_MANAGERS, a, username="pm"),
        "admin": f.admin_user(username="admin"),
    }
    membership = f.member(pool_a, username="invitee")
    version = ModelVersion.objects.create(project=a, language=hau, backend="ngram", adapter_path="x",
                                          macro_f1=0.5, status=ModelVersion.Status.CANDIDATE)
    report = Report.objects.create(language=hau, input_text="swali", model_output="jibu", category="other")
    run = TrainingRun.objects.create(project=a, backend="ngram")
    sampling = SamplingRun.objects.create(project=a, strategy="entropy", budget=1)
    return {"run": run, "sampling": sampling, "a": a, "pool_a": pool_a, "pool_a_amh": pool_a_amh,
            "item": item, "item_amh": item_amh,
            "membership": membership, "version": version, "report": report, "users": users}


def _csv():
    upload = io.BytesIO(b"text,language\nhabari mpya,hau_Latn\n")
    upload.name = "items.csv"
    return upload


# name -> (method, url(world), data(world) or None, roles that get through, is_api)
MATRIX = {
    # --- API ---
    "project-upload": ("post", lambda w: f"/api/projects/{w['a'].slug}/import/", lambda w: {"file": _csv()},
                       {"pm", "admin"}, True),
    "project-export": ("get", lambda w: f"/api/projects/{w['a'].slug}/export/", None, {"pm", "admin"}, True),
    "project-agreement-record": ("post", lambda w: f"/api/projects/{w['a'].slug}/agreement/record/", None,
                                 {"pm", "admin"}, True),
    "project-aggregate": ("post", lambda w: f"/api/projects/{w['a'].slug}/aggregate/", None, {"pm", "admin"}, True),
    "review-list": ("get", lambda w: "/api/review/", None, {"reviewer", "other_pm", "pm", "admin"}, True),
    "review-detail": ("get", lambda w: f"/api/review/{w['item'].pk}/", None, {"reviewer", "pm", "admin"}, True),
    "review-approve": ("post", lambda w: f"/api/review/{w['item'].pk}/approve/", lambda w: {"comment": "ok"},
                       {"reviewer", "pm", "admin"}, True),
    "review-approve-other-language": ("post", lambda w: f"/api/review/{w['item_amh'].pk}/approve/",
                                      lambda w: {"comment": "ok"}, {"pm", "admin"}, True),
    "review-override": ("post", lambda w: f"/api/review/{w['item'].pk}/override/",
                        lambda w: {"label": "health"}, {"reviewer", "pm", "admin"}, True),
    "review-history": ("get", lambda w: f"/api/review/{w['item'].pk}/history/", None,
                       {"reviewer", "pm", "admin"}, True),
    "review-resolve-flag": ("post", lambda w: f"/api/review/{w['item'].pk}/resolve-flag/",
                            lambda w: {"action": "dismiss"}, {"reviewer", "pm", "admin"}, True),
    "review-resolve-flag-other-language": ("post", lambda w: f"/api/review/{w['item_amh'].pk}/resolve-flag/",
                                           lambda w: {"action": "dismiss"}, {"pm", "admin"}, True),
    # any reviewer gets through; items outside their scope come back as not_found, untouched
    "review-bulk-approve": ("post", lambda w: "/api/review/bulk-approve/", lambda w: {"items": [w["item"].pk]},
                            {"reviewer", "other_pm", "pm", "admin"}, True),
    "managed-pool-list": ("get", lambda w: "/api/manage/pools/", None, {"pool_manager", "other_pm", "pm", "admin"},
                          True),
    "managed-pool-detail": ("get", lambda w: f"/api/manage/pools/{w['pool_a'].pk}/", None,
                            {"pool_manager", "pm", "admin"}, True),
    "managed-pool-members": ("get", lambda w: f"/api/manage/pools/{w['pool_a'].pk}/members/", None,
                             {"pool_manager", "pm", "admin"}, True),
    "managed-pool-invite": ("post", lambda w: f"/api/manage/pools/{w['pool_a'].pk}/invite/",
                            lambda w: {"username": "staff"}, {"pool_manager", "pm", "admin"}, True),
    "managed-membership-list": ("get", lambda w: "/api/manage/memberships/", None,
                                {"pool_manager", "other_pm", "pm", "admin"}, True),
    "managed-membership-detail": ("get", lambda w: f"/api/manage/memberships/{w['membership'].pk}/", None,
                                  {"pool_manager", "pm", "admin"}, True),
    "managed-membership-suspend": ("post", lambda w: f"/api/manage/memberships/{w['membership'].pk}/suspend/",
                                   lambda w: {"reason": "test"}, {"pool_manager", "pm", "admin"}, True),
    "managed-membership-reinstate": ("post", lambda w: f"/api/manage/memberships/{w['membership'].pk}/reinstate/",
                                     lambda w: {"reason": "test"}, {"pool_manager", "pm", "admin"}, True),
    "managed-membership-remove": ("post", lambda w: f"/api/manage/memberships/{w['membership'].pk}/remove/",
                                  lambda w: {"reason": "test"}, {"pool_manager", "pm", "admin"}, True),
    "managed-membership-discard-discard": ("post", lambda w: f"/api/manage/memberships/{w['membership'].pk}/discard/",
                                   lambda w: {"since": "2026-01-01T00:00:00Z", "reason": "test"},
                                   {"pool_manager", "pm", "admin"}, True),
    "project-suggestions": ("post", lambda w: f"/api/projects/{w['a'].slug}/suggestions/", lambda w: {"show": True},
                            {"pm", "admin"}, True),
    "project-health": ("get", lambda w: f"/api/projects/{w['a'].slug}/health/", None, {"pm", "admin"}, True),
    "capacity-health": ("get", lambda w: "/api/health/capacity/", None, CONSOLE, True),
    "model-version-list": ("get", lambda w: "/api/model-versions/", None, CONSOLE, True),
    "model-version-detail": ("get", lambda w: f"/api/model-versions/{w['version'].pk}/", None, CONSOLE, True),
    "training-run-list": ("get", lambda w: "/api/training-runs/", None, CONSOLE, True),
    "training-run-create": ("post", lambda w: "/api/training-runs/",
                            lambda w: {"project": "a", "backend": "ngram"}, {"pm", "admin"}, True),
    "training-run-detail": ("get", lambda w: f"/api/training-runs/{w['run'].pk}/", None, CONSOLE, True),
    "sampling-run-detail": ("get", lambda w: f"/api/sampling-runs/{w['sampling'].pk}/", None, CONSOLE, True),
    "sampling-run-list": ("get", lambda w: "/api/sampling-runs/", None, CONSOLE, True),
    "sampling-run-create": ("post", lambda w: "/api/sampling-runs/",
                            lambda w: {"project": "a", "budget": 1}, {"pm", "admin"}, True),
    # --- console pages ---
    "annotation:console": ("get", lambda w: reverse("annotation:console"), None, CONSOLE, False),
    "learner:project_suggestions": ("post", lambda w: reverse("learner:project_suggestions", args=[w["a"].slug]),
                                    lambda w: {"show": "on"}, {"pm", "admin"}, False),
    "learner:health": ("get", lambda w: reverse("learner:health"), None, CONSOLE, False),
    "annotation:review_bulk_approve": ("post", lambda w: reverse("annotation:review_bulk_approve"), lambda w: {},
                                       {"reviewer", "other_pm", "pm", "admin"}, False),
    "evaluators:console_guidelines": ("get", lambda w: reverse("evaluators:console_guidelines"), None, CONSOLE,
                                      False),
    "evaluators:console_guideline_edit": (
        "post", lambda w: reverse("evaluators:console_guideline_edit", kwargs={"slug": "a"}),
        lambda w: {"body": "# hijacked", "bump": "major"}, {"pm", "admin"}, False),
    "evaluators:console_guideline_diff": (
        "get", lambda w: reverse("evaluators:console_guideline_diff", kwargs={"slug": "a"}), None, CONSOLE, False),
    "annotation:review_queue": ("get", lambda w: reverse("annotation:review_queue"), None,
                                {"reviewer", "other_pm", "pm", "admin"}, False),
    "annotation:review_resolve": ("post", lambda w: reverse("annotation:review_resolve", kwargs={"pk": w["item"].pk}),
                                  lambda w: {"action": "approve"}, {"reviewer", "pm", "admin"}, False),
    "annotation:review_resolve-other-language": (
        "post", lambda w: reverse("annotation:review_resolve", kwargs={"pk": w["item_amh"].pk}),
        lambda w: {"action": "approve"}, {"pm", "admin"}, False),
    "annotation:agreement": ("get", lambda w: reverse("annotation:agreement"), None, CONSOLE, False),
    "annotation:agreement-record": ("post", lambda w: reverse("annotation:agreement"), lambda w: {},
                                    {"other_pm", "pm", "admin"}, False),
    "annotation:report_triage": ("get", lambda w: reverse("annotation:report_triage"), None,
                                 {"reviewer", "other_pm", "pm", "admin"}, False),
    "annotation:report_triage_action": (
        "post", lambda w: reverse("annotation:report_triage_action", kwargs={"pk": w["report"].pk, "action": "reject"}),
        lambda w: {"resolution": "spam"}, {"reviewer", "pm", "admin"}, False),
    "learner:parity": ("get", lambda w: reverse("learner:parity"), None, CONSOLE, False),
    "learner:runs": ("get", lambda w: reverse("learner:runs"), None, CONSOLE, False),
    "learner:runs_status": ("get", lambda w: reverse("learner:runs_status"), None, CONSOLE, False),
    "learner:retrain": ("post", lambda w: reverse("learner:retrain"),
                        lambda w: {"project": w["a"].pk, "backend": "ngram"}, {"pm", "admin"}, False),
    "learner:model_action": (
        "post", lambda w: reverse("learner:model_action", kwargs={"pk": w["version"].pk, "action": "promote"}),
        lambda w: {}, {"pm", "admin"}, False),
}


def _row_key(name: str, action: str | None) -> str:
    """MATRIX key of one URL × action: DRF's list/detail URLs name their create/update actions."""
    if action in ("create", "update", "partial_update", "destroy") and name.endswith(("-list", "-detail")):
        return f"{name.rsplit('-', 1)[0]}-{action.replace('partial_', '')}"
    return name


def test_every_guarded_endpoint_has_a_matrix_row():
    missing = [f"{route} ({_row_key(name, action)})" for route, name, rules in endpoints()
               for action, rule in rules
               if rule not in (access.PUBLIC, access.LOGIN) and _row_key(name, action) not in MATRIX]
    assert not missing, "guarded endpoints without a row in MATRIX:\n" + "\n".join(missing)


def _request(world, role, row):
    method, url, data, _, is_api = row
    user = world["users"][role]
    client = APIClient() if is_api else Client()
    if user is not None:
        client.force_login(user)
    payload = data(world) if data else None
    kwargs = {"format": "multipart"} if is_api and payload and any(hasattr(v, "read") for v in payload.values()) \
        else ({"format": "json"} if is_api and method == "post" else {})
    return getattr(client, method)(url(world), payload, **kwargs) if payload is not None or method == "post" \
        else getattr(client, method)(url(world))


def _refused(response) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    return response.status_code == 302 and "/accounts/login/" in response.get("Location", "")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_role_matrix(world, name, role):
    row = MATRIX[name]
    response = _request(world, role, row)
    allowed = role in row[3]
    assert _refused(response) != allowed, (
        f"{role} on {name}: HTTP {response.status_code} "
        f"({'should get through' if allowed else 'should be refused'}) {response.content[:200]!r}")
    assert response.status_code < 500


def test_refused_writes_change_nothing(world):
    """The demo's staff "reviewer" of the report cannot publish, promote, start runs or decide items."""
    before = (ModelVersion.objects.filter(status=ModelVersion.Status.CHAMPION).count(),
              Item.objects.filter(status=Item.Status.APPROVED).count(),
              PoolMembership.objects.filter(state=PoolMembership.State.SUSPENDED).count())
    for name in ("learner:model_action", "learner:retrain", "evaluators:console_guideline_edit",
                 "annotation:review_resolve", "training-run-create", "review-approve", "managed-membership-suspend"):
        for role in ("staff", "evaluator", "viewer", "other_pm"):
            _request(world, role, MATRIX[name])
    after = (ModelVersion.objects.filter(status=ModelVersion.Status.CHAMPION).count(),
             Item.objects.filter(status=Item.Status.APPROVED).count(),
             PoolMembership.objects.filter(state=PoolMembership.State.SUSPENDED).count())
    assert before == after
    from evaluators.models import GuidelineVersion

    assert not GuidelineVersion.objects.filter(body__contains="hijacked").exists()
    assert TrainingRun.objects.count() == 1  # the world's own run only
