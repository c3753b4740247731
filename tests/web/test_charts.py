"""The vendored chart library is the pinned release, with its licence beside it."""
import hashlib
from pathlib import Path

import pytest

from annotation.charts import Chart, Point, Series, chart_png, padded_range

VENDOR = Path(__file__).resolve().parents[2] / "static" / "vendor" / "chartjs"


def test_vendored_chartjs_is_the_pinned_release_with_its_licence():
    script = (VENDOR / "chart.umd.min.js").read_bytes()
    readme = (VENDOR / "README.md").read_text()
    assert hashlib.sha256(script).hexdigest() in readme
    assert script.startswith(b"/*!\n * Chart.js v4.6.1")
    assert "MIT" in (VENDOR / "LICENSE.md").read_text()


def test_chart_ids_are_restricted_to_safe_characters():
    with pytest.raises(ValueError, match="chart id"):
        Chart(id='x" onload="alert(1)', kind="bar", title="t", y_label="y")


def test_padded_range_keeps_every_point_inside_the_axes():
    assert padded_range([-0.31, 0.2]) == (-0.36, 1.05)
    assert padded_range([None]) == (-0.05, 1.05)


def test_png_export_draws_bars_with_missing_values_and_time_lines():
    bar = Chart(id="b", kind="bar", x_axis="category", title="F1", y_label="F1", y_min=0, y_max=1,
                series=[Series("f1", [Point("hau_Latn", 0.4), Point("amh_Ethi", None)])],
                notes={"amh_Ethi": "not trained yet"})
    line = Chart(id="l", kind="line", title="alpha", y_label="alpha",
                 series=[Series("alpha", [Point(1_700_000_000_000, 0.2), Point(1_700_003_600_000, 0.3)]),
                         Series("cand", [Point(1_700_001_000_000, 0.1)], line=False, hollow=True)])
    for chart in (bar, line):
        assert chart_png(chart)[:4] == b"\x89PNG"


def test_collectstatic_with_the_manifest_storage_accepts_the_vendored_files(settings, tmp_path):
    """`make run` collects static files with whitenoise's manifest storage, which fails on a file
    that names a missing one (Chart.js names its source map)."""
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    call_command("collectstatic", interactive=False, verbosity=0)
    manifest = (tmp_path / "staticfiles.json").read_text()
    assert "vendor/chartjs/chart.umd.min.js" in manifest and "parity/charts.js" in manifest
    map_sha = hashlib.sha256((VENDOR / "chart.umd.min.js.map").read_bytes()).hexdigest()
    assert map_sha in (VENDOR / "README.md").read_text()
