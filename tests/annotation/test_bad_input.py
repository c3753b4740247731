"""Every bad input the attacker's report listed gets a row-numbered error (or a 404 for an id), never
a 500; nothing already stored is lost or half-written."""
from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from annotation.models import Item
from tests.annotation.conftest import make_setup
from tests.factories import admin_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def upload():
    setup = make_setup()
    client = APIClient()
    client.force_authenticate(admin_user())
    url = f"/api/projects/{setup.project.slug}/import/"
    kept = Item.objects.create(project=setup.project, language=setup.lang, text="already here", content_hash="x")

    def post(name: str, body: bytes | str):
        data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        response = client.post(url, {"file": SimpleUploadedFile(name, data)}, format="multipart")
        assert Item.objects.filter(project=setup.project).exclude(pk=kept.pk).count() == 0 or \
            response.status_code == 201
        assert Item.objects.filter(pk=kept.pk).exists()
        return response

    return post


def _errors(response) -> list[tuple[int, str]]:
    assert response.status_code == 400, response.content[:300]
    return [(e["row"], e["message"]) for e in response.json()["errors"]]


def _jsonl(*records) -> str:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n"


def test_csv_field_over_the_csv_limit(upload):
    errors = _errors(upload("a.csv", "text,language\n" + "x" * 200_000 + ",hau_Latn\nok,hau_Latn\n"))
    assert errors[0][0] == 2 and "longer than" in errors[0][1]


def test_text_over_the_configured_maximum(upload, settings):
    settings.PARITY_MAX_TEXT_LENGTH = 100
    errors = _errors(upload("a.csv", "text,language\n" + "y" * 101 + ",hau_Latn\n"))
    assert errors == [(2, "text is 101 characters long; the limit is 100 (PARITY_MAX_TEXT_LENGTH)")]


def test_twenty_megabyte_text_is_refused(upload):
    errors = _errors(upload("a.jsonl", _jsonl({"text": "z" * 20_000_000, "language": "hau_Latn"})))
    assert errors[0][0] == 1 and "the limit is 10,000" in errors[0][1]


@pytest.mark.parametrize("record,message", [
    ({"text": "a\x00b", "language": "hau_Latn"}, "text contains a NUL character"),
    ({"text": "ok", "language": "hau_Latn", "metadata": {"k": "v\x00"}}, "contains a NUL character"),
    ('{"text": "bad \\ud800 surrogate", "language": "hau_Latn"}', "lone UTF-16 surrogate"),
    ('{"text": "ok", "language": "hau_Latn", "metadata": {"x": NaN}}', "JSON cannot store"),
    ('{"text": "ok", "language": "hau_Latn", "metadata": {"x": Infinity}}', "JSON cannot store"),
    ('{"text": "ok", "language": "hau_Latn", "metadata": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested"),
    ('{"text": "ok", "language": "hau_Latn", "metadata": ' + '{"a":' * 40 + "1" + "}" * 40 + "}", "nested"),
])
def test_jsonl_rows_that_cannot_be_stored(upload, record, message):
    errors = _errors(upload("a.jsonl", _jsonl({"text": "fine", "language": "hau_Latn"}, record)))
    assert len(errors) == 1 and errors[0][0] == 2 and message in errors[0][1], errors


def test_csv_nul_in_metadata_column(upload):
    errors = _errors(upload("a.csv", 'text,language,metadata\nok,hau_Latn,"{""a"": ""\\u0000""}"\n'))
    assert errors == [(2, "a metadata value contains a NUL character")]


@pytest.mark.parametrize("task,message", [
    ({"data": {"text": "t", "language": "hau_Latn"}, "annotations": ["sports"]}, "'annotations' must be a list"),
    ({"data": {"text": "t", "language": "hau_Latn"}, "annotations": [{"result": "sports"}]}, "'result' must be"),
    ({"data": {"text": "t", "language": "hau_Latn"}, "annotations": [{"result": ["x"]}]}, "'value' object"),
    ({"data": {"text": "t", "language": "hau_Latn"}, "meta": "a string"}, "'meta' must be a JSON object"),
    ({"data": {"text": "t", "language": "hau_Latn"}, "predictions": "x"}, "'predictions' must be a list"),
])
def test_label_studio_tasks_of_the_wrong_shape(upload, task, message):
    good = {"data": {"text": "fine", "language": "hau_Latn"}}
    errors = _errors(upload("a.json", json.dumps([good, task])))
    assert len(errors) == 1 and errors[0][0] == 2 and message in errors[0][1], errors


def test_error_messages_quoting_bad_input_are_valid_json(upload):
    response = upload("a.jsonl", _jsonl('{"text": "ok", "language": "hau_Latn", "label": "\\udc80\\u0000"}'))
    assert _errors(response)[0][0] == 1


@pytest.mark.parametrize("url", [
    "/api/assignments/abc/", "/api/assignments/abc/submit/", "/api/assignments/abc/skip/",
    "/api/assignments/abc/flag/", "/api/annotations/abc/", "/api/review/abc/", "/api/review/abc/history/",
    "/api/review/abc/approve/", "/api/review/abc/override/", "/api/manage/pools/abc/",
    "/api/manage/pools/abc/members/", "/api/manage/memberships/abc/suspend/", "/api/calibration/attempts/abc/",
    "/api/calibration/attempts/abc/submit/", "/api/model-versions/abc/", "/api/training-runs/abc/",
    "/api/reports/%00/", "/api/reports/%ED%A0%80/",
])
def test_non_numeric_ids_are_404(url):
    client = APIClient()
    client.force_authenticate(admin_user())
    method = client.post if url.rstrip("/").rsplit("/", 1)[-1] in {
        "submit", "skip", "flag", "approve", "override", "suspend"} else client.get
    assert method(url, {}, format="json").status_code == 404


@pytest.mark.parametrize("path", ["/report/%00/", "/report/%ED%A0%80/", "/report/" + "a" * 500 + "/"])
def test_report_status_page_with_garbage_reference_is_404(path):
    assert Client().get(path).status_code == 404


def test_cli_reports_the_same_row_errors(tmp_path, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    setup = make_setup()
    admin_user(username="ops")
    path = tmp_path / "a.jsonl"
    path.write_text(_jsonl({"text": "a\x00b", "language": "hau_Latn"}), encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("import_items", str(path), "--project", setup.project.slug, "--no-progress", "--as", "ops")
    assert caught.value.returncode == 2 and "row 1: text contains a NUL character" in capsys.readouterr().err


def test_upload_while_the_same_file_is_being_imported_is_409(upload):
    from django.core.cache import cache

    from annotation.importing import _file_digest

    body = b"text,language\nhabari,hau_Latn\n"
    project = Item.objects.first().project
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.csv"
        path.write_bytes(body)
        lock = f"parity:import:{project.pk}:{_file_digest(path)}"
    cache.add(lock, 1)  # another request is importing this very file
    response = upload("a.csv", body)
    assert response.status_code == 409 and "being imported" in response.json()["detail"]
    cache.delete(lock)
    assert upload("a.csv", body).status_code == 201


@pytest.mark.parametrize("url", ["/api/projects/%00/", "/api/projects/%00/export/", "/api/guidelines/%00/",
                                 "/api/projects/%ED%A0%80/agreement/"])
def test_slug_paths_with_nul_or_surrogates_are_404(url):
    client = APIClient()
    client.force_authenticate(admin_user())
    assert client.get(url).status_code == 404
