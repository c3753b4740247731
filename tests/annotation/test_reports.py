"""The public issue-report form: validation, honeypot, throttling, status by reference, triage."""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from annotation.forms import ReportForm
from annotation.models import Item, Report
from annotation.selectors import report_by_reference
from annotation.services import report_accept, report_create, report_mark_duplicate, report_reject
from tests.annotation.conftest import make_setup
from tests.factories import admin_user

pytestmark = pytest.mark.django_db

VALID = {
    "language": "hau_Latn", "input_text": "Wanene shugaban kasa?", "model_output": "sports",
    "category": "wrong_label", "suggested_correction": "politics", "contact": "",
}


@pytest.fixture
def setup():
    return make_setup(overlap=3)


def test_form_accepts_a_valid_report_and_stores_it(setup):
    form = ReportForm(data={**VALID, "website": ""})
    assert form.is_valid(), form.errors
    report = form.save()
    assert report.status == Report.Status.NEW and len(report.reference) >= 20
    assert report_by_reference(report.reference) == report


def test_form_honeypot_and_bad_language(setup):
    assert "website" in ReportForm(data={**VALID, "website": "http://spam"}).errors
    assert "language" in ReportForm(data={**VALID, "language": "english"}).errors
    assert "language" in ReportForm(data={**VALID, "language": "xxx_Latn"}).errors
    assert "language" in ReportForm(data={**VALID, "language": "yor_Latn"}).errors  # valid but not served
    assert Report.objects.count() == 0


def test_references_are_unique_and_unguessable(setup):
    refs = {report_create(**VALID).reference for _ in range(20)}
    assert len(refs) == 20
    assert report_by_reference("not-a-reference") is None


def test_api_create_needs_no_login_and_status_shows_only_that_report(setup):
    client = APIClient()
    response = client.post("/api/reports/", VALID, format="json")
    assert response.status_code == 201, response.content
    reference = response.json()["reference"]
    other = report_create(**{**VALID, "input_text": "another one"})
    status = client.get(f"/api/reports/{reference}/").json()
    assert status["reference"] == reference and status["status"] == "new"
    assert "input_text" not in status and "contact" not in status and "item" not in status
    assert other.reference not in str(status)
    assert client.get("/api/reports/unknown-reference/").status_code == 404


def test_api_honeypot_and_bad_language_are_refused(setup):
    client = APIClient()
    assert client.post("/api/reports/", {**VALID, "website": "x"}, format="json").status_code == 400
    response = client.post("/api/reports/", {**VALID, "language": "zzz_Latn"}, format="json")
    assert response.status_code == 400 and "language" in response.json()
    assert Report.objects.count() == 0


def test_api_is_throttled_per_client(setup, settings):
    client = APIClient()
    codes = [client.post("/api/reports/", {**VALID, "input_text": f"n {n}"}, format="json").status_code
             for n in range(12)]
    assert codes[:10] == [201] * 10  # REPORT_THROTTLE_RATE default: 10/hour
    assert codes[10:] == [429, 429]
    other_client = APIClient(REMOTE_ADDR="10.1.2.3")
    assert other_client.post("/api/reports/", VALID, format="json").status_code == 201


def test_accept_creates_a_high_priority_item(setup):
    report = report_create(**VALID)
    staff = admin_user(is_staff=True)
    item = report_accept(report=report, actor=staff)
    assert item.project == setup.project and item.source == Item.Source.REPORT
    assert item.priority >= 100 and item.prelabel == "politics"
    assert item.metadata["model_output"] == "sports"
    report.refresh_from_db()
    assert (report.status, report.item, report.triaged_by) == ("accepted", item, staff)
    with pytest.raises(ValidationError, match="already triaged"):
        report_reject(report=report, reason="no")


def test_reject_and_duplicate(setup):
    first, second, third = (report_create(**{**VALID, "input_text": t}) for t in ("a", "b", "c"))
    with pytest.raises(ValidationError):
        report_reject(report=first, reason=" ")
    assert report_reject(report=first, reason="not a model error").status == "rejected"
    dup = report_mark_duplicate(report=third, of=second)
    assert (dup.status, dup.duplicate_of) == ("duplicate", second)
    assert APIClient().get(f"/api/reports/{first.reference}/").json()["resolution"] == "not a model error"


def test_admin_triage_actions(setup, client):
    staff = admin_user(is_staff=True)
    client.force_login(staff)
    reports = [report_create(**{**VALID, "input_text": t}) for t in ("one", "two")]
    response = client.post("/admin/annotation/report/", {
        "action": "accept", "_selected_action": [reports[0].pk],
    })
    assert response.status_code == 302
    reports[0].refresh_from_db()
    assert reports[0].status == "accepted"
    assert client.get("/admin/annotation/report/").status_code == 200
