"""The public report form and status page as a speaker of the language meets them, and the triage
messages an admin reads."""
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from annotation.models import Report
from tests.factories import language

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(project):
    for tag in ("amh_Ethi", "urd_Arab"):
        project.languages.add(language(tag))
    return project


def test_languages_are_listed_in_their_own_names_with_their_script_direction(client, served):
    html = client.get(reverse("annotation:report_create")).content.decode()
    select = re.search(r'<select name="language".*?</select>', html, re.S).group(0)
    assert '<option value="amh_Ethi" lang="am" dir="ltr">አማርኛ — Amharic</option>' in select
    assert '<option value="urd_Arab" lang="ur" dir="rtl">اردو — Urdu</option>' in select
    assert '<option value="hau_Latn" lang="ha" dir="ltr">Hausa</option>' in select
    assert "(amh_Ethi)" not in select


def test_status_page_shows_the_address_to_keep_category_and_correction(client, served):
    client.post(reverse("annotation:report_create"), {
        "language": "amh_Ethi", "input_text": "ሰላም ነው?", "model_output": "Hello in Hausa",
        "category": "wrong_label", "suggested_correction": "ሰላም", "contact": "", "website": ""})
    report = Report.objects.get()
    html = client.get(reverse("annotation:report_status", args=[report.reference])).content.decode()
    address = f"http://testserver/report/{report.reference}/"
    assert reverse("annotation:report_status", args=[report.reference]) == f"/report/{report.reference}/"
    assert f'href="{address}" data-test="address" dir="ltr">{address}</a>' in html
    assert 'data-test="category">wrong answer or label<' in html
    assert 'data-test="suggested-correction">ሰላም<' in html
    assert '<span lang="am" dir="ltr">አማርኛ</span>' in html


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)][-1:]  # the one this action added


def _report(client, text):
    client.post(reverse("annotation:report_create"), {
        "language": "hau_Latn", "input_text": text, "model_output": "x", "category": "other",
        "suggested_correction": "", "contact": "", "website": ""})
    return Report.objects.get(input_text=text)


def test_triage_messages_read_as_sentences(client, served, staff):
    first, second, third = (_report(client, f"sentence {n}") for n in range(3))
    client.force_login(staff)
    response = client.post(reverse("annotation:report_triage_action", args=[first.pk, "accept"]))
    first.refresh_from_db()
    assert _messages(response) == [
        f"Accepted report {first.reference[:8]}: it is item #{first.item_id}, queued for native speakers to label."]
    response = client.post(reverse("annotation:report_triage_action", args=[second.pk, "reject"]),
                           {"resolution": "not a model problem"})
    assert _messages(response) == [
        f"Rejected report {second.reference[:8]}. The reporter sees your reason on the status page."]
    response = client.post(reverse("annotation:report_triage_action", args=[third.pk, "duplicate"]),
                           {"duplicate_of": first.reference})
    assert _messages(response) == [
        f"Marked report {third.reference[:8]} as a duplicate of {first.reference[:8]}."]
