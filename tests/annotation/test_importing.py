"""Importing items: formats, row-numbered validation errors, atomicity, duplicates, CLI and API."""
from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from annotation.importing import ImportFileError, items_import
from annotation.models import Item
from parity.access import PROJECT_MANAGERS
from tests.annotation.conftest import make_setup
from tests.factories import ItemFactory, ProjectFactory, admin_user, language, role_user

pytestmark = pytest.mark.django_db


def write(tmp_path, name: str, body: str):
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def test_csv_import_with_metadata_prelabel_and_extra_columns(tmp_path):
    setup = make_setup()
    path = write(tmp_path, "items.csv", (
        "id,text,language,label,metadata,source\n"
        "a1,Labari game da siyasa,hau_Latn,politics,\"{\"\"url\"\": \"\"x\"\"}\",news\n"
        "a2,\"Wasan kwallon kafa,\nda yamma\",hau_Latn,,,\n"
    ))
    result = items_import(project=setup.project, path=path)
    assert (result.created, result.rows) == (2, 2)
    first = Item.objects.get(project=setup.project, external_id="a1")
    assert first.prelabel == "politics"
    assert first.metadata == {"url": "x", "source": "news"}
    assert Item.objects.get(external_id="a2").text == "Wasan kwallon kafa,\nda yamma"


def test_tsv_and_jsonl(tmp_path):
    setup = make_setup()
    tsv = write(tmp_path, "items.tsv", "text\tlanguage\tid\nsentence one\thau_Latn\tt1\n")
    jsonl = write(tmp_path, "items.jsonl", json.dumps(
        {"text": "sentence two", "language": "hau_Latn", "id": "j1", "metadata": {"k": 1}}) + "\n\n")
    assert items_import(project=setup.project, path=tsv).created == 1
    assert items_import(project=setup.project, path=jsonl).created == 1
    assert Item.objects.get(external_id="j1").metadata == {"k": 1}


def test_label_studio_export(tmp_path):
    setup = make_setup()
    tasks = [
        {"id": 11, "data": {"text": "first task", "language": "hau_Latn", "source": "web"},
         "annotations": [{"result": [{"type": "choices", "value": {"choices": ["sports"]}}]}]},
        {"id": 12, "data": {"text": "second task", "language": "hau_Latn"},
         "predictions": [{"result": [{"value": {"choices": ["health"]}}]}]},
    ]
    path = write(tmp_path, "export.json", json.dumps(tasks, indent=2))
    result = items_import(project=setup.project, path=path)
    assert result.created == 2
    first = Item.objects.get(external_id="11")
    assert (first.prelabel, first.metadata) == ("sports", {"source": "web"})
    assert Item.objects.get(external_id="12").prelabel == "health"


def test_every_bad_row_is_reported_and_nothing_is_stored(tmp_path):
    setup = make_setup()
    path = write(tmp_path, "bad.csv", (
        "id,text,language,label\n"
        "1,good row,hau_Latn,politics\n"       # row 2: fine
        "2,,hau_Latn,\n"                       # row 3: empty text
        "3,text,xxx_Latn,\n"                   # row 4: unknown language
        "4,more text,hau_Latn,cooking\n"       # row 5: unknown label
        "1,again,hau_Latn,\n"                  # row 6: duplicate id
        "6,foreign,urd_Arab,\n"                # row 7: not a language of the project
    ))
    with pytest.raises(ImportFileError) as caught:
        items_import(project=setup.project, path=path)
    problems = {(e.row, e.message.split(":")[0].split(" '")[0]) for e in caught.value.errors}
    assert {row for row, _ in problems} == {3, 4, 5, 6, 7}
    messages = " | ".join(str(e) for e in caught.value.errors)
    assert "row 3: empty text" in messages
    assert "row 4: unknown language" in messages
    assert "row 5: unknown label 'cooking'" in messages
    assert "row 6: duplicate id '1' (first on row 2)" in messages
    assert Item.objects.filter(project=setup.project).count() == 0


def test_bad_json_lines_are_named(tmp_path):
    setup = make_setup()
    path = write(tmp_path, "bad.jsonl", '{"text": "ok", "language": "hau_Latn"}\n{not json}\n[1, 2]\n')
    with pytest.raises(ImportFileError) as caught:
        items_import(project=setup.project, path=path)
    assert [e.row for e in caught.value.errors] == [2, 3]
    assert Item.objects.count() == 0


def test_duplicates_are_skipped_and_counted(tmp_path):
    setup = make_setup()
    ItemFactory(project=setup.project, language=setup.lang, text="already here", external_id="old")
    path = write(tmp_path, "dups.csv", (
        "id,text,language\n"
        "old,a new text with an old id,hau_Latn\n"
        "n1,already   here,hau_Latn\n"  # same content hash (whitespace collapsed)
        "n2,fresh text,hau_Latn\n"
        "n3,fresh text,hau_Latn\n"  # repeated in the file
    ))
    result = items_import(project=setup.project, path=path)
    assert (result.created, result.skipped_existing, result.skipped_duplicate) == (1, 2, 1)
    assert Item.objects.filter(project=setup.project).count() == 2


def test_large_file_is_inserted_in_batches(tmp_path, django_assert_max_num_queries):
    setup = make_setup()
    path = tmp_path / "big.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for n in range(5000):
            handle.write(json.dumps({"text": f"row {n}", "language": "hau_Latn", "id": f"r{n}"}) + "\n")
    with django_assert_max_num_queries(250):  # batched inserts, not a query per row
        result = items_import(project=setup.project, path=path)
    assert result.created == 5000


def test_cli_reports_rows_and_exit_status(tmp_path, capsys):
    setup = make_setup()
    good = write(tmp_path, "good.csv", "text,language\nhello there,hau_Latn\n")
    manager = role_user(PROJECT_MANAGERS, setup.project, username="manager")
    outsider = role_user(PROJECT_MANAGERS, ProjectFactory(), username="outsider")
    with pytest.raises(CommandError, match="--as USERNAME"):
        call_command("import_items", str(good), "--project", setup.project.slug, "--no-progress")
    with pytest.raises(CommandError, match="outsider lacks annotation.manage_project"):
        call_command("import_items", str(good), "--project", setup.project.slug, "--as", outsider.username)
    call_command("import_items", str(good), "--project", setup.project.slug, "--no-progress", "--as", manager.username)
    assert "1 item(s) imported" in capsys.readouterr().out
    bad = write(tmp_path, "bad.csv", "text,language\n,hau_Latn\n")
    with pytest.raises(CommandError) as caught:
        call_command("import_items", str(bad), "--project", setup.project.slug, "--no-progress", "--as", "manager")
    assert caught.value.returncode == 2
    assert "row 2: empty text" in capsys.readouterr().err


def test_api_upload_staff_only_and_lists_errors(tmp_path):
    setup = make_setup()
    staff = admin_user(is_staff=True)
    client = APIClient()
    url = f"/api/projects/{setup.project.slug}/import/"
    client.force_authenticate(setup.evaluators[0])
    body = b"text,language\nhello,hau_Latn\n"
    from django.core.files.uploadedfile import SimpleUploadedFile

    assert client.post(url, {"file": SimpleUploadedFile("a.csv", body)}, format="multipart").status_code == 403
    client.force_authenticate(staff)
    response = client.post(url, {"file": SimpleUploadedFile("a.csv", body)}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 1
    bad = b"text,language\n,hau_Latn\nok,zzz_Latn\n"
    response = client.post(url, {"file": SimpleUploadedFile("b.csv", bad)}, format="multipart")
    assert response.status_code == 400
    assert [e["row"] for e in response.json()["errors"]] == [2, 3]
    assert Item.objects.filter(project=setup.project).count() == 1


def test_language_outside_project_is_fine_when_project_lists_none(tmp_path):
    setup = make_setup()
    setup.project.languages.clear()
    path = write(tmp_path, "x.csv", "text,language\nاردو جملہ,urd_Arab\n")
    assert items_import(project=setup.project, path=path).created == 1
    assert Item.objects.get(project=setup.project).language == language("urd_Arab")
