"""The load benchmark's own arithmetic and integrity checks (the run itself needs gunicorn on PostgreSQL)."""
from __future__ import annotations

import pytest

from annotation.models import Annotation, Item
from benchmarks.load import integrity, percentiles
from tests.annotation.conftest import label_next, make_setup


def test_percentiles_are_nearest_rank_and_empty_is_none():
    values = [float(v) for v in range(1, 101)]
    summary = percentiles(values)
    assert (summary["n"], summary["p50"], summary["p95"], summary["p99"]) == (100, 51.0, 96.0, 100.0)
    assert percentiles([])["p50"] is None


@pytest.mark.django_db
def test_integrity_is_clean_after_real_work_and_catches_each_fault():
    setup = make_setup(overlap=2, evaluators=3, items=3)
    acknowledged = [label_next(user, "sports").pk for user in setup.evaluators]
    checks = integrity(project_slug=setup.project.slug, acknowledged=acknowledged)
    assert checks == {"items_over_k": 0, "duplicate_item_evaluator": 0, "lost_submissions": 0,
                      "annotation_count_drift": 0, "active_assignments_drift": 0}
    item = Item.objects.filter(project=setup.project, annotation_count__gt=0).first()
    Item.objects.filter(pk=item.pk).update(annotation_count=5, active_assignments=1)  # counters drift
    lost = Annotation.objects.order_by("-pk").first()
    lost.delete()  # a submission the client saw acknowledged is gone
    checks = integrity(project_slug=setup.project.slug, acknowledged=acknowledged)
    assert checks["annotation_count_drift"] >= 1 and checks["active_assignments_drift"] == 1
    assert checks["lost_submissions"] == 1


def test_the_load_benchmark_refuses_sqlite(monkeypatch, capsys):
    from benchmarks.load import main

    monkeypatch.setenv("DATABASE_URL", "sqlite:///x.sqlite3")
    with pytest.raises(SystemExit):
        main(["--duration", "1"])
    assert "PostgreSQL" in capsys.readouterr().err
