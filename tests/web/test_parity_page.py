"""The parity dashboard tells the truth about untrained languages and about candidates."""
import json
import re

import pytest
from django.urls import reverse

from learner.models import ModelVersion
from tests.factories import language

pytestmark = pytest.mark.django_db
Status = ModelVersion.Status


def version(project, lang, f1, status):
    return ModelVersion.objects.create(project=project, language=lang, backend="ngram", adapter_path="a",
                                       macro_f1=f1, status=status)


def charts(html: str) -> dict:
    blocks = re.findall(r'<script id="chart-data-([^"]+)" type="application/json">(.*?)</script>', html, re.S)
    return {chart_id: json.loads(body) for chart_id, body in blocks}


@pytest.fixture
def three_languages(project, hausa):
    for tag in ("amh_Ethi", "urd_Arab"):
        project.languages.add(language(tag))
    return project


def test_untrained_languages_are_marked_and_not_counted_as_worst_or_gap(client, staff, three_languages, hausa):
    version(three_languages, hausa, 0.42, Status.CHAMPION)
    client.force_login(staff)
    html = client.get(reverse("learner:parity")).content.decode()
    # One trained language: no worst, no gap (not "worst = hau_Latn, gap 0.000").
    assert 'data-test="worst">—<' in html and 'data-test="gap">—<' in html
    assert 'data-test="untrained"' in html and '<strong><bdi title="amh_Ethi">Amharic</bdi></strong>' in html
    assert "at least two trained languages" in html
    row = re.search(r'data-test="row-urd_Arab">(.*?)</tr>', html, re.S).group(1)
    assert "not trained yet" in row and "0.000" not in row
    f1 = charts(html)[f"p{three_languages.pk}-f1"]
    values = {p["x"]: p["y"] for p in f1["series"][0]["points"]}
    assert values == {"Amharic": None, "Hausa": 0.42, "Urdu": None}  # not drawn as 0, named in English here
    assert f1["notes"] == {"Amharic": "not trained yet", "Urdu": "not trained yet"}


def test_worst_and_gap_use_trained_languages_only(client, staff, three_languages, hausa):
    version(three_languages, hausa, 0.8, Status.CHAMPION)
    version(three_languages, language("amh_Ethi"), 0.5, Status.CHAMPION)
    client.force_login(staff)
    html = client.get(reverse("learner:parity")).content.decode()
    assert 'data-test="worst"><bdi>Amharic</bdi> 0.500<' in html and 'data-test="gap">0.300<' in html
    assert '<strong><bdi title="urd_Arab">Urdu</bdi></strong>' in html


def test_version_history_keeps_candidates_off_the_champion_line(client, staff, project, hausa):
    old = version(project, hausa, 0.40, Status.RETIRED)
    live = version(project, hausa, 0.55, Status.CHAMPION)
    bad = version(project, hausa, 0.038, Status.CANDIDATE)
    client.force_login(staff)
    history = charts(client.get(reverse("learner:parity")).content.decode())[f"p{project.pk}-history"]
    by_name = {s["name"]: s for s in history["series"]}
    champions, candidates = by_name["Hausa champions"], by_name["Hausa candidates (not promoted)"]
    assert [p["y"] for p in champions["points"]] == [0.40, 0.55] and champions["line"] is True
    assert [p["y"] for p in candidates["points"]] == [0.038]
    assert candidates["line"] is False and candidates["hollow"] is True
    assert f"v{bad.pk}" in candidates["points"][0]["text"] and f"v{old.pk}" in champions["points"][0]["text"]
    assert all(isinstance(p["x"], int) for p in champions["points"])  # epoch ms: a time axis with dates
    assert history["y_min"] < 0.038  # the lowest point is not cut off by the axis
    assert live.pk


def test_charts_are_drawn_from_vendored_static_files_and_export_png(client, staff, project, hausa):
    version(project, hausa, 0.6, Status.CHAMPION)
    client.force_login(staff)
    html = client.get(reverse("learner:parity")).content.decode()
    assert "/static/vendor/chartjs/chart.umd.min.js" in html and "/static/parity/charts.js" in html
    assert "cdn" not in html.lower() and "<script>" not in html  # no inline script (CSP)
    png = client.get(reverse("learner:parity"), {"png": f"p{project.pk}-f1"})
    assert png.status_code == 200 and png["Content-Type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get(reverse("learner:parity"), {"png": "nope"}).status_code == 404
