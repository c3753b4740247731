"""Export of approved labels with provenance: JSONL, CSV, Hugging Face folder, CLI, API; round trips."""
from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from annotation.exports import export_labels, read_csv_export
from annotation.importing import items_import
from annotation.models import Item
from annotation.services import agreement_snapshot_record, review_override
from tests.annotation.conftest import label_next, make_setup
from tests.factories import ItemFactory, ProjectFactory, admin_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def labelled():
    setup = make_setup(overlap=2, evaluators=2)
    for n, votes in enumerate([["sports", "sports"], ["health", "health"], ["sports", "health"]]):
        ItemFactory(project=setup.project, language=setup.lang, text=f"jumla ta {n}", external_id=f"x{n}",
                    metadata={"n": n})
        for user, label in zip(setup.evaluators, votes, strict=True):
            label_next(user, label)
    agreement_snapshot_record(project=setup.project, language=setup.lang)
    return setup


def test_jsonl_has_only_approved_labels_with_provenance(labelled, tmp_path):
    count = export_labels(project=labelled.project, fmt="jsonl", out=tmp_path / "out.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert count == len(rows) == 2  # the tie waits for review and is not exported
    pseudonyms = {user.evaluator.pseudonym for user in labelled.evaluators}
    for row in rows:
        assert set(row["annotators"]) == pseudonyms
        assert not {user.username for user in labelled.evaluators} & set(row["annotators"])
        assert row["guideline_versions"] == ["1.0"]
        assert row["method"] == "majority" and row["language"] == "hau_Latn"
        assert row["agreement_level"] == "nominal" and "agreement_alpha" in row
    assert {row["label"] for row in rows} == {"sports", "health"}


def test_csv_round_trip_equals_jsonl(labelled, tmp_path):
    tie = Item.objects.get(project=labelled.project, external_id="x2")
    review_override(item=tie, label="health", reviewer=admin_user(is_staff=True))
    export_labels(project=labelled.project, fmt="jsonl", out=tmp_path / "a.jsonl")
    export_labels(project=labelled.project, fmt="csv", out=tmp_path / "a.csv")
    from_jsonl = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    with (tmp_path / "a.csv").open(encoding="utf-8", newline="") as handle:
        from_csv = read_csv_export(handle)
    assert from_csv == from_jsonl
    assert from_jsonl[-1]["method"] == "review" and from_jsonl[-1]["reviewed_by"].startswith(("ev-", "anon-"))


def test_export_imports_back_into_a_new_project(labelled, tmp_path):
    export_labels(project=labelled.project, fmt="jsonl", out=tmp_path / "out.jsonl")
    fresh = ProjectFactory()
    result = items_import(project=fresh, path=tmp_path / "out.jsonl")
    assert result.created == 2
    imported = {item.external_id: (item.text, item.prelabel) for item in Item.objects.filter(project=fresh)}
    original = {
        item.external_id: (item.text, item.approved_label.label)
        for item in Item.objects.filter(project=labelled.project, status="approved")
    }
    assert imported == original


def test_hugging_face_layout(labelled, tmp_path):
    out = tmp_path / "dataset"
    call_command("export_labels", "--project", labelled.project.slug, "--format", "hf", "--out", str(out),
                 stdout=io.StringIO())
    card = (out / "README.md").read_text()
    assert card.startswith("---\n") and "config_name: hau_Latn" in card and "path: data/*/train.jsonl" in card
    lines = (out / "data" / "hau_Latn" / "train.jsonl").read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(line)["split"] == "train" for line in lines)


def test_api_streams_csv_and_jsonl_for_staff(labelled):
    client = APIClient()
    url = f"/api/projects/{labelled.project.slug}/export/"
    client.force_authenticate(labelled.evaluators[0])
    assert client.get(url).status_code == 403
    client.force_authenticate(admin_user(is_staff=True))
    response = client.get(url, {"file_format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines()[0].startswith("id,external_id,text,language,label")
    response = client.get(url)
    rows = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert len(rows) == 2


FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "'=quoted"]


@pytest.fixture
def formula_items():
    """Approved items whose text (and external id) a spreadsheet would run as a formula."""
    from tests.factories import approve

    setup = make_setup(overlap=1, evaluators=1)
    for n, text in enumerate(FORMULAS):
        approve(ItemFactory(project=setup.project, language=setup.lang, text=text, external_id=f"=cmd|{n}"),
                "sports")
    approve(ItemFactory(project=setup.project, language=setup.lang, text="plain 'tis", external_id="ok"), "sports")
    return setup


def _cells(text: str, delimiter: str) -> list[list[str]]:
    import csv

    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def _assert_no_live_formula(rows):
    for row in rows[1:]:
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r", f"live formula cell {cell!r}"


@pytest.mark.parametrize("fmt,delimiter", [("csv", ","), ("tsv", "\t")])
def test_command_neutralises_formula_cells_and_reads_back_exactly(formula_items, tmp_path, fmt, delimiter):
    out = tmp_path / f"labels.{fmt}"
    admin_user(username="ops")
    call_command("export_labels", project=formula_items.project.slug, format=fmt, out=str(out))
    rows = _cells(out.read_text(encoding="utf-8"), delimiter)
    _assert_no_live_formula(rows)
    texts = {row[rows[0].index("text")] for row in rows[1:]}
    assert "'=HYPERLINK(\"http://evil.example\",\"click\")" in texts and "plain 'tis" in texts
    if fmt == "csv":
        with out.open(encoding="utf-8", newline="") as handle:
            restored = {row["text"] for row in read_csv_export(handle)}
        assert restored == {*FORMULAS, "plain 'tis"}


@pytest.mark.parametrize("fmt,delimiter", [("csv", ","), ("tsv", "\t")])
def test_api_neutralises_formula_cells(formula_items, fmt, delimiter):
    client = APIClient()
    client.force_authenticate(admin_user())
    response = client.get(f"/api/projects/{formula_items.project.slug}/export/?file_format={fmt}")
    assert response.status_code == 200
    rows = _cells(b"".join(response.streaming_content).decode(), delimiter)
    assert len(rows) == len(FORMULAS) + 2
    _assert_no_live_formula(rows)
