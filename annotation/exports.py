"""Exporting approved labels (and only those) with their provenance.

Every row carries the pseudonymous ids of the evaluators (``EvaluatorProfile.pseudonym``, never a
username), the guideline versions they worked under, how the label was decided and the latest
agreement of the item's project × language. Formats: JSONL, CSV, and a Hugging Face ``datasets``
folder (``README.md`` dataset card + ``data/<language>/train.jsonl``), loadable with
``load_dataset("json", data_dir=...)`` or ``load_dataset(PATH, "hau_Latn")``.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings
from django.db.models import Prefetch

from annotation.models import AgreementSnapshot, Annotation, ApprovedLabel, Project

EXPORT_FORMATS = ("jsonl", "csv", "tsv", "hf")
DELIMITERS = {"csv": ",", "tsv": "\t"}
# OWASP CSV injection: a spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = [
    "id", "external_id", "text", "language", "label", "method", "confidence", "approved_at", "reviewed_by",
    "annotators", "annotator_labels", "guideline_versions", "agreement_alpha", "agreement_level", "split",
]
_LIST_COLUMNS = {"annotators", "annotator_labels", "guideline_versions"}


def _pseudonym(user) -> str:
    profile = getattr(user, "evaluator", None) if user is not None else None
    if profile is not None:
        return profile.pseudonym
    if user is None:
        return ""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"user:{user.pk}".encode(), hashlib.sha256).hexdigest()
    return f"anon-{digest[:12]}"


def _latest_alpha(project: Project) -> dict[int | None, tuple[float | None, str]]:
    latest: dict[int | None, tuple[float | None, str]] = {}
    for snapshot in AgreementSnapshot.objects.filter(project=project).order_by("created_at", "id"):
        latest[snapshot.language_id] = (snapshot.krippendorff_alpha, snapshot.level)
    return latest


def approved_rows(*, project: Project, language=None) -> Iterator[dict]:
    """One dict per approved label of regular items, streamed in chunks."""
    agreement = _latest_alpha(project)
    labels = (
        ApprovedLabel.objects.filter(item__project=project, item__is_control=False)
        .select_related("item__language", "approved_by__evaluator")
        .prefetch_related(Prefetch(
            "item__annotations",
            queryset=Annotation.objects.counted().filter(assignment__is_control=False)
            .select_related("evaluator__evaluator", "guideline_version").order_by("id"),
        ))
        .order_by("item_id")
    )
    if language is not None:
        labels = labels.filter(item__language=language)
    for approved in labels.iterator(chunk_size=1000):
        item = approved.item
        annotations = list(item.annotations.all())
        alpha, level = agreement.get(item.language_id, agreement.get(None, (None, project.agreement_level)))
        yield {
            "id": item.pk,
            "external_id": item.external_id,
            "text": item.text,
            "language": item.language.tag,
            "label": approved.label,
            "method": approved.method,
            "confidence": approved.confidence,
            "approved_at": approved.approved_at.isoformat(),
            "reviewed_by": _pseudonym(approved.approved_by) if approved.approved_by_id else "",
            "annotators": [_pseudonym(a.evaluator) for a in annotations],
            "annotator_labels": [a.label for a in annotations],
            "guideline_versions": sorted({a.guideline_version.label for a in annotations}),
            "agreement_alpha": alpha,
            "agreement_level": level,
            "split": "train" if item.split == "pool" else "test",
        }


def write_jsonl(rows: Iterable[dict], handle: io.TextIOBase) -> int:
    count = 0
    for row in rows:
        handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def _needs_quote(value: str) -> bool:
    return bool(value) and (value[0] in FORMULA_TRIGGERS or (value[0] == "'" and _needs_quote(value[1:])))


def neutralise_cell(value):
    """A text cell a spreadsheet shows as text: one that starts with = + - @, a tab or a carriage return
    (or is such a value already quoted) gets a leading apostrophe (OWASP). Numbers stay numbers;
    :func:`restore_cell` undoes it exactly."""
    if isinstance(value, str) and _needs_quote(value):
        return "'" + value
    return value


def restore_cell(value: str) -> str:
    return value[1:] if value.startswith("'") and _needs_quote(value[1:]) else value


def csv_line(row: dict | None, fmt: str = "csv") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=DELIMITERS[fmt])
    if row is None:
        writer.writerow(CSV_COLUMNS)
    else:
        writer.writerow([
            neutralise_cell(json.dumps(row[c], ensure_ascii=False) if c in _LIST_COLUMNS
                            else ("" if row[c] is None else row[c]))
            for c in CSV_COLUMNS
        ])
    return buffer.getvalue()


def write_csv(rows: Iterable[dict], handle: io.TextIOBase, fmt: str = "csv") -> int:
    handle.write(csv_line(None, fmt))
    count = 0
    for row in rows:
        handle.write(csv_line(row, fmt))
        count += 1
    return count


def read_csv_export(handle: io.TextIOBase) -> list[dict]:
    """The inverse of :func:`write_csv` (list columns decoded, numbers parsed)."""
    rows = []
    for record in csv.DictReader(handle):
        record = {key: restore_cell(value) for key, value in record.items()}
        for column in _LIST_COLUMNS:
            record[column] = json.loads(record[column])
        record["id"] = int(record["id"])
        record["confidence"] = float(record["confidence"])
        record["agreement_alpha"] = float(record["agreement_alpha"]) if record["agreement_alpha"] else None
        rows.append(record)
    return rows


def _dataset_card(project: Project, counts: dict[str, int]) -> str:
    configs = []
    for tag in sorted(counts):
        configs.append(f"- config_name: {tag}\n  data_files:\n  - split: train\n    path: data/{tag}/train.jsonl")
    configs.insert(
        0, "- config_name: all\n  default: true\n  data_files:\n  - split: train\n    path: data/*/train.jsonl"
    )
    table = "\n".join(f"| {tag} | {n} |" for tag, n in sorted(counts.items()))
    return f"""---
pretty_name: {json.dumps(project.name)}
language:
{chr(10).join(f"- {tag.split('_')[0]}" for tag in sorted(counts)) or "- und"}
task_categories:
- text-classification
configs:
{chr(10).join(configs)}
---

# {project.name}

Approved labels exported from Parity (project `{project.slug}`, {project.get_schema_type_display()} schema,
aggregation: {project.get_aggregation_display()}, overlap k={project.overlap}).

Only approved labels are included: auto-approved by the project's rule ({project.get_auto_approve_display()})
or decided by a reviewer. Each row keeps its provenance: pseudonymous evaluator ids (`annotators`) and
their labels, the guideline versions they worked under, how the label was decided (`method`,
`confidence`, `reviewed_by`) and the latest Krippendorff's alpha of the project × language.

| language | rows |
| --- | --- |
{table}

```python
from datasets import load_dataset
ds = load_dataset("json", data_files="data/*/train.jsonl")
```
"""


def export_labels(*, project: Project, fmt: str, out: str | Path, language=None) -> int:
    """Write the project's approved labels to ``out`` (a file, or a folder for ``hf``); returns rows written."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (one of {', '.join(EXPORT_FORMATS)})")
    out = Path(out)
    rows = approved_rows(project=project, language=language)
    if fmt in ("jsonl", "csv", "tsv"):
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".part")
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            count = write_jsonl(rows, handle) if fmt == "jsonl" else write_csv(rows, handle, fmt)
        tmp.replace(out)
        return count
    (out / "data").mkdir(parents=True, exist_ok=True)
    handles: dict[str, io.TextIOBase] = {}
    counts: dict[str, int] = {}
    try:
        for row in rows:
            tag = row["language"]
            if tag not in handles:
                (out / "data" / tag).mkdir(parents=True, exist_ok=True)
                handles[tag] = (out / "data" / tag / "train.jsonl").open("w", encoding="utf-8")
            handles[tag].write(json.dumps(row, ensure_ascii=False) + "\n")
            counts[tag] = counts.get(tag, 0) + 1
    finally:
        for handle in handles.values():
            handle.close()
    (out / "README.md").write_text(_dataset_card(project, counts), encoding="utf-8")
    return sum(counts.values())
