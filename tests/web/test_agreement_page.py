"""The agreement page stays readable when a snapshot lands after every aggregation."""
import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from annotation.models import AgreementSnapshot

pytestmark = pytest.mark.django_db


def snapshot(project, language, alpha, when, **extra):
    snap = AgreementSnapshot.objects.create(project=project, language=language, krippendorff_alpha=alpha,
                                            n_items=10, n_annotators=3, n_ratings=30, **extra)
    AgreementSnapshot.objects.filter(pk=snap.pk).update(created_at=when)
    return snap


@pytest.fixture
def busy(project, hausa):
    """Two days of work: 60 snapshots today within minutes, 3 yesterday."""
    now = timezone.now().replace(hour=12, minute=0)
    for n in range(60):
        snapshot(project, hausa, 0.3 + n / 1000, now + timedelta(minutes=n // 2))
    for n in range(3):
        snapshot(project, hausa, 0.2, now - timedelta(days=1, minutes=n))
    return project


def test_overview_shows_one_row_per_day_not_one_per_snapshot(client, staff, busy):
    client.force_login(staff)
    html = client.get(reverse("annotation:agreement")).content.decode()
    table = re.search(r'<table data-test="days">.*?</table>', html, re.S).group(0)
    assert table.count("<tr>") == 3  # header + two days
    assert '<td class="num">60</td>' in table and '<td class="num">3</td>' in table
    assert "0.359" in table  # the day's last (cumulative) value
    assert "All 63 snapshots over 2 days" in html


def test_detail_lists_every_snapshot_paginated(client, staff, busy, hausa):
    client.force_login(staff)
    url = reverse("annotation:agreement")
    first = client.get(url, {"project": busy.slug, "language": hausa.tag}).content.decode()
    rows = re.search(r'<table data-test="snapshots">.*?</table>', first, re.S).group(0).count("<tr>") - 1
    assert rows == 50 and "Page 1 of 2" in first and "Older" in first
    second = client.get(url, {"project": busy.slug, "language": hausa.tag, "page": 2}).content.decode()
    assert re.search(r'<table data-test="snapshots">.*?</table>', second, re.S).group(0).count("<tr>") - 1 == 13


def test_chart_has_dates_on_a_time_axis_and_room_below_the_lowest_value(client, staff, project, hausa):
    now = timezone.now()
    snapshot(project, hausa, -0.31, now - timedelta(hours=2), fleiss_kappa=-0.2)
    snapshot(project, hausa, 0.5, now, fleiss_kappa=0.45)
    client.force_login(staff)
    html = client.get(reverse("annotation:agreement")).content.decode()
    spec = json.loads(re.search(r'<script id="chart-data-[^"]+" type="application/json">(.*?)</script>',
                                html, re.S).group(1))
    alpha = next(s for s in spec["series"] if s["name"].startswith("Krippendorff"))
    assert [p["y"] for p in alpha["points"]] == [-0.31, 0.5]
    assert all(p["x"] > 1_600_000_000_000 for p in alpha["points"])  # epoch ms: drawn as dates
    assert spec["x_axis"] == "time" and spec["y_min"] < -0.31  # the first point is not cut off
    assert 'data-test="fleiss">0.450<' in html


def test_fleiss_note_explains_which_items_it_covers(client, staff, project, hausa):
    snapshot(project, hausa, 0.5, timezone.now(), fleiss_kappa=0.4,
             counts={"fleiss_kappa_note": "over the 8 items with all 3 ratings; 2 items with fewer or more "
                                          "ratings left out"})
    client.force_login(staff)
    html = client.get(reverse("annotation:agreement")).content.decode()
    assert 'data-test="fleiss-note">over the 8 items with all 3 ratings' in html
