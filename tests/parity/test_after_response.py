"""Job dispatches run after the response is sent, and Server-Timing is only there when asked for.

A submit that asked for a background job used to pay for the dispatch (cache and broker) before its
response, so the answers that always ask for one (those on control items) were the slow ones."""
from __future__ import annotations

import logging

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings

from parity.after_response import AfterResponseMiddleware, after_response


def _view_queueing(done: list[str]):
    def view(request):
        after_response(lambda: done.append("first"))
        after_response(lambda: 1 / 0)  # a failing one is logged and does not stop the next
        after_response(lambda: done.append("second"))
        done.append("view returned")
        return HttpResponse("ok")

    return view


@pytest.mark.django_db  # closing a response sends request_finished
def test_work_queued_in_a_request_runs_when_the_response_is_closed(caplog):
    done: list[str] = []
    response = AfterResponseMiddleware(_view_queueing(done))(RequestFactory().get("/"))
    assert done == ["view returned"]  # the body can be written before any of it runs
    # What the WSGI server calls once the body is written (without its connection tidying, as Django's
    # test client does: the test's transaction holds the connection).
    request_finished.disconnect(close_old_connections)
    try:
        with caplog.at_level(logging.ERROR, logger="parity.after_response"):
            response.close()
    finally:
        request_finished.connect(close_old_connections)
    assert done == ["view returned", "first", "second"]
    assert "ZeroDivisionError" in caplog.text


def test_outside_a_request_work_runs_at_once():
    done: list[str] = []
    after_response(lambda: done.append("now"))
    assert done == ["now"]


def test_work_queued_by_a_view_that_raises_still_runs():
    done: list[str] = []

    def view(request):
        after_response(lambda: done.append("dispatched"))
        raise RuntimeError("the view failed after its transaction committed")

    with pytest.raises(RuntimeError):
        AfterResponseMiddleware(view)(RequestFactory().get("/"))
    assert done == ["dispatched"]


@pytest.mark.django_db
def test_server_timing_is_off_by_default_and_on_when_set():
    assert "Server-Timing" not in Client().get("/healthz").headers
    with override_settings(SERVER_TIMING=True):
        assert Client().get("/healthz").headers["Server-Timing"].startswith("app;dur=")


@pytest.mark.django_db(transaction=True)
def test_a_submit_dispatches_its_job_after_its_response(monkeypatch):
    """Committed for real (no test transaction): the control answer's statistics job is queued from the
    response's close, not before the response."""
    import uuid

    from annotation.models import Assignment
    from parity import coalesce
    from tests import factories as f
    from tests.annotation.conftest import make_setup

    setup = make_setup(overlap=1, evaluators=1)
    user = setup.evaluators[0]
    pool = user.memberships.get().pool
    pool.control_rate = 1.0
    pool.save()
    f.ItemFactory(project=setup.project, language=setup.lang, is_control=True, reference_label="politics")
    f.ItemFactory(project=setup.project, language=setup.lang)
    events: list[str] = []
    monkeypatch.setattr(coalesce, "_dispatch_now", lambda **kwargs: events.append(f"dispatch {kwargs['what']}"))
    client = Client()
    client.force_login(user)
    lease = client.post("/api/assignments/next/", {}, content_type="application/json").json()
    assert Assignment.objects.get(public_id=lease["id"]).is_control
    handler = client.handler
    real_get_response = handler.get_response

    def get_response(request):
        response = real_get_response(request)
        events.append("response ready")
        return response

    monkeypatch.setattr(handler, "get_response", get_response)
    submitted = client.post(f"/api/assignments/{lease['id']}/submit/",
                            {"label": "sports", "idempotency_key": uuid.uuid4().hex}, content_type="application/json")
    assert submitted.status_code == 201
    assert events[0] == "response ready" and events[1].startswith("dispatch the control statistics"), events
