"""Importing items from CSV, TSV, JSONL and Label Studio's JSON task export.

Two streaming passes over the file, so 100,000 rows never sit in memory at once:

1. validate every row (no database writes) and collect *every* problem with its row number;
   a file with any bad row is rejected whole and nothing is stored;
2. inside one transaction, insert in batches, skipping rows whose external id or content hash the
   project already has (or that repeat an earlier row's text) and counting them.

Row numbers: CSV/TSV count the header as row 1; JSONL counts lines; Label Studio counts tasks.
"""
from __future__ import annotations

import csv
import hashlib
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from annotation.clean_input import json_problem, max_text_length, text_problem
from annotation.hashing import content_hash
from annotation.models import Item, Project
from annotation.selectors import items_not_stored
from evaluators.languages import LanguageCodeError, parse_tag

FORMATS = ("csv", "tsv", "jsonl", "labelstudio")
BATCH_SIZE = 1000
_EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "labelstudio"}
_KNOWN_COLUMNS = {"text", "language", "lang", "id", "external_id", "label", "prelabel", "metadata", "split",
                  "reference_label", "is_control", "priority"}
_SPLIT_ALIASES = {"train": Item.Split.POOL, "test": Item.Split.HELDOUT}  # as exports name them
_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"", "0", "false", "no", "n"}


@dataclass(frozen=True)
class RowError:
    row: int
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}"


class ImportFileError(ValidationError):
    """The file was rejected; ``errors`` lists every bad row (nothing was stored)."""

    def __init__(self, errors: list[RowError], preview: int = 50) -> None:
        # A message may quote the bad input: make it printable and encodable (lone surrogates escaped).
        errors = [RowError(e.row, _printable(e.message)) for e in errors]
        self.errors = errors
        shown = [str(error) for error in errors[:preview]]
        if len(errors) > preview:
            shown.append(f"... and {len(errors) - preview} more bad rows")
        super().__init__(shown)


def _printable(message: str) -> str:
    return message.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


class ImportBusy(Exception):
    """The same file is being imported into the project right now, or another import stored the same
    rows first: nothing of this one was stored (answered 409; retrying shows what is new)."""


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    skipped_existing: int = 0
    skipped_duplicate: int = 0
    languages: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "created": self.created, "skipped_existing": self.skipped_existing,
                "skipped_duplicate": self.skipped_duplicate, "languages": self.languages}


@dataclass(frozen=True)
class ParsedRow:
    text: str
    language: str
    external_id: str
    prelabel: str
    metadata: dict
    split: str
    reference_label: str
    is_control: bool
    priority: float


def detect_format(name: str, explicit: str | None = None) -> str:
    if explicit:
        if explicit not in FORMATS:
            raise ValidationError(f"unknown format {explicit!r} (one of {', '.join(FORMATS)})")
        return explicit
    fmt = _EXTENSIONS.get(Path(name).suffix.lower())
    if fmt is None:
        raise ValidationError(f"cannot tell the format of {name!r}: use .csv, .tsv, .jsonl or .json, or say --format")
    return fmt


# ----------------------------------------------------------------------------------------- readers
def _field_limit() -> int:
    # Room for the longest text we accept and its metadata; a longer field is a row error, not a crash.
    return max(131_072, 4 * max_text_length())


def _iter_delimited(handle: IO[str], delimiter: str) -> Iterator[tuple[int, dict | Exception]]:
    csv.field_size_limit(_field_limit())
    reader = csv.DictReader(handle, delimiter=delimiter)
    try:
        if reader.fieldnames is None:
            return
    except csv.Error as exc:
        yield 1, ValueError(f"the header cannot be read: {exc}")
        return
    names = [(name or "").strip().lower() for name in reader.fieldnames]
    if "text" not in names or not ({"language", "lang"} & set(names)):
        yield 1, ValueError(f"the header needs 'text' and 'language' columns (found: {', '.join(names)})")
        return
    reader.fieldnames = names
    while True:
        starts_on = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            message = str(exc)
            if "field larger than field limit" in message:
                message = f"a field is longer than {_field_limit():,} characters"
            yield starts_on, ValueError(message)
            continue
        row = reader.line_num  # physical line: right even with quoted newlines
        if None in record:
            yield row, ValueError("more fields than columns in the header")
            continue
        yield row, record


def _iter_jsonl(handle: IO[str]) -> Iterator[tuple[int, dict | Exception]]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, ValueError(f"invalid JSON ({exc.msg} at column {exc.colno})")
            continue
        except RecursionError:
            yield number, ValueError("the JSON is nested too deeply")
            continue
        yield number, record if isinstance(record, dict) else ValueError("each line must be a JSON object")


def _iter_json_array(handle: IO[str], chunk_size: int = 1 << 16) -> Iterator[Any]:
    """The elements of a top-level JSON array, decoded one at a time from a stream."""
    decoder = json.JSONDecoder()
    buffer, position, started = "", 0, False
    exhausted = False
    while True:
        # Skip whitespace and separators.
        while True:
            while position < len(buffer) and buffer[position] in " \t\r\n,":
                position += 1
            if position < len(buffer) or exhausted:
                break
            chunk = handle.read(chunk_size)
            buffer, position = buffer[position:] + chunk, 0
            exhausted = not chunk
        if position >= len(buffer):
            raise ValueError("the JSON array is not closed")
        if not started:
            if buffer[position] != "[":
                raise ValueError("a Label Studio export is a JSON array of tasks")
            started, position = True, position + 1
            continue
        if buffer[position] == "]":
            return
        while True:
            try:
                value, end = decoder.raw_decode(buffer, position)
                break
            except json.JSONDecodeError:
                chunk = handle.read(chunk_size)
                if not chunk:
                    raise
                buffer, position = buffer[position:] + chunk, 0
        yield value
        position = end
        if position > chunk_size:
            buffer, position = buffer[position:], 0


def _labelstudio_choice(results: list) -> str:
    if not isinstance(results, list):
        raise ValueError("an annotation's 'result' must be a list")
    for result in results:
        value = result.get("value") if isinstance(result, dict) else None
        if not isinstance(value, dict):
            raise ValueError("each annotation result needs a 'value' object")
        if value.get("choices"):
            return str(value["choices"][0])
        if "rating" in value:
            return str(value["rating"])
        if value.get("labels"):
            return str(value["labels"][0])
    return ""


def _iter_labelstudio(handle: IO[str]) -> Iterator[tuple[int, dict | Exception]]:
    try:
        for number, task in enumerate(_iter_json_array(handle), start=1):
            if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
                yield number, ValueError("a task needs a 'data' object")
                continue
            data = dict(task["data"])
            prelabel = ""
            meta = task.get("meta") or {}
            if not isinstance(meta, dict):
                yield number, ValueError("a task's 'meta' must be a JSON object")
                continue
            try:
                for source in ("annotations", "completions", "predictions"):
                    entries = task.get(source) or []
                    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                        raise ValueError(f"a task's '{source}' must be a list of objects")
                    for entry in entries:
                        prelabel = prelabel or _labelstudio_choice(entry.get("result") or [])
            except ValueError as exc:
                yield number, exc
                continue
            record = {
                "text": data.pop("text", ""),
                "language": data.pop("language", data.pop("lang", "")),
                "external_id": str(data.pop("external_id", data.pop("id", task.get("id", ""))) or ""),
                "prelabel": prelabel,
                "metadata": {**data, **meta},
            }
            yield number, record
    except json.JSONDecodeError as exc:
        yield 0, ValueError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")
    except RecursionError:
        yield 0, ValueError("the JSON is nested too deeply")
    except ValueError as exc:
        yield 0, exc


def iter_records(handle: IO[str], fmt: str) -> Iterator[tuple[int, dict | Exception]]:
    if fmt == "csv":
        return _iter_delimited(handle, ",")
    if fmt == "tsv":
        return _iter_delimited(handle, "\t")
    if fmt == "jsonl":
        return _iter_jsonl(handle)
    return _iter_labelstudio(handle)


# ----------------------------------------------------------------------------------------- rows
def _parse(record: dict, *, labels: set[str], allowed_languages: set[str]) -> ParsedRow | list[str]:
    problems: list[str] = []
    text = record.get("text")
    text = "" if text is None else str(text)
    if not text.strip():
        problems.append("empty text")
    elif problem := text_problem(text):
        problems.append(problem)
    tag = str(record.get("language") or record.get("lang") or "").strip()
    try:
        tag = parse_tag(tag).tag
        if allowed_languages and tag not in allowed_languages:
            problems.append(f"language {tag} is not one of the project's ({', '.join(sorted(allowed_languages))})")
    except LanguageCodeError as exc:
        problems.append(f"unknown language: {exc}")
    external_id = str(record.get("external_id") or record.get("id") or "").strip()
    if len(external_id) > 200:
        problems.append("external id longer than 200 characters")
    elif problem := text_problem(external_id, "the external id"):
        problems.append(problem)
    prelabel = str(record.get("prelabel") or record.get("label") or "").strip()
    if prelabel and prelabel not in labels:
        problems.append(f"unknown label {prelabel!r}")
    reference = str(record.get("reference_label") or "").strip()
    if reference and reference not in labels:
        problems.append(f"unknown reference label {reference!r}")
    metadata = record.get("metadata") or {}
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata) if metadata.strip() else {}
        except json.JSONDecodeError:
            problems.append("metadata is not valid JSON")
            metadata = {}
        except RecursionError:
            problems.append("metadata is nested too deeply")
            metadata = {}
    if not isinstance(metadata, dict):
        problems.append("metadata must be a JSON object")
        metadata = {}
    extra = {key: value for key, value in record.items() if key not in _KNOWN_COLUMNS and value not in (None, "")}
    if problem := json_problem({**extra, **metadata}):
        problems.append(problem)
    for what, value in (("label", prelabel), ("reference label", reference)):
        if problem := text_problem(value, f"the {what}", limit=200):
            problems.append(problem)
    split = str(record.get("split") or Item.Split.POOL).strip()
    split = _SPLIT_ALIASES.get(split, split)
    if split not in Item.Split.values:
        problems.append(f"unknown split {split!r} (one of {', '.join(Item.Split.values)})")
    control = str(record.get("is_control") or "").strip().lower()
    if control not in _TRUE | _FALSE:
        problems.append(f"is_control must be true or false, not {control!r}")
    if control in _TRUE and not reference:
        problems.append("a control item needs a reference_label")
    try:
        priority = float(record.get("priority") or 0.0)
        if not math.isfinite(priority):
            raise ValueError
    except (TypeError, ValueError):
        problems.append("priority must be a number")
        priority = 0.0
    if problems:
        return problems
    return ParsedRow(text=text, language=tag, external_id=external_id, prelabel=prelabel,
                     metadata={**extra, **metadata}, split=split, reference_label=reference,
                     is_control=control in _TRUE, priority=priority)


Opener = Callable[[], IO[str]]


def _validate(open_file: Opener, fmt: str, project: Project, progress) -> tuple[list[RowError], set[int], int]:
    labels = set(project.labels.values_list("value", flat=True))
    allowed = {language.tag for language in project.languages.all()}
    errors: list[RowError] = []
    seen_ids: dict[str, int] = {}
    seen_hashes: set[tuple[str, str]] = set()
    duplicate_rows: set[int] = set()
    count = 0
    with open_file() as handle:
        for row, record in iter_records(handle, fmt):
            if isinstance(record, Exception):
                errors.append(RowError(row, str(record)))
                continue
            count += 1
            parsed = _parse(record, labels=labels, allowed_languages=allowed)
            if isinstance(parsed, list):
                errors.extend(RowError(row, problem) for problem in parsed)
            else:
                if parsed.external_id:
                    if parsed.external_id in seen_ids:
                        errors.append(RowError(
                            row, f"duplicate id {parsed.external_id!r} (first on row {seen_ids[parsed.external_id]})"
                        ))
                    else:
                        seen_ids[parsed.external_id] = row
                key = (content_hash(parsed.text), parsed.language)
                if key in seen_hashes:
                    duplicate_rows.add(row)
                seen_hashes.add(key)
            if progress:
                progress(1)
    return errors, duplicate_rows, count


@transaction.atomic
def _insert(open_file: Opener, fmt: str, project: Project, source: str, duplicate_rows: set[int],
            result: ImportResult, progress) -> None:
    from evaluators.services import language_from_tag

    labels = set(project.labels.values_list("value", flat=True))
    allowed = {language.tag for language in project.languages.all()}
    languages: dict[str, Any] = {}
    batch: list[Item] = []

    def flush() -> None:
        if not batch:
            return
        fresh = items_not_stored(project=project, candidates=batch)
        result.skipped_existing += len(batch) - len(fresh)
        Item.objects.bulk_create(fresh, batch_size=BATCH_SIZE)
        result.created += len(fresh)
        for i in fresh:
            tag = languages_by_id[i.language_id]
            result.languages[tag] = result.languages.get(tag, 0) + 1
        batch.clear()

    languages_by_id: dict[int, str] = {}
    with open_file() as handle:
        for row, record in iter_records(handle, fmt):
            if progress:
                progress(1)
            if row in duplicate_rows:
                result.skipped_duplicate += 1
                continue
            parsed = _parse(record, labels=labels, allowed_languages=allowed)
            assert not isinstance(parsed, list), "validated in the first pass"
            language = languages.get(parsed.language)
            if language is None:
                language = languages[parsed.language] = language_from_tag(parsed.language)
                languages_by_id[language.pk] = language.tag
            batch.append(Item(
                project=project, language=language, text=parsed.text, external_id=parsed.external_id,
                content_hash=content_hash(parsed.text), source=source, split=parsed.split,
                reference_label=parsed.reference_label, is_control=parsed.is_control, priority=parsed.priority,
                prelabel=parsed.prelabel, metadata=parsed.metadata,
            ))
            if len(batch) >= BATCH_SIZE:
                flush()
        flush()


def items_import(
    *, project: Project, path: str | Path, fmt: str | None = None, source: str = Item.Source.IMPORT,
    progress: Callable[[str, int | None], Callable[[int], None] | None] | None = None,
) -> ImportResult:
    """Validate then import a file. Raises :class:`ImportFileError` (listing every bad row) and stores
    nothing if any row is bad. ``progress(stage, total)`` may return a callable advanced per row."""
    path = Path(path)
    fmt = detect_format(path.name, fmt)

    def open_file() -> IO[str]:
        # utf-8-sig: spreadsheets often write a byte-order mark.
        return open(path, encoding="utf-8-sig", newline="" if fmt in ("csv", "tsv") else None)

    try:
        errors, duplicate_rows, count = _validate(
            open_file, fmt, project, progress("validate", None) if progress else None
        )
    except UnicodeDecodeError as exc:
        raise ImportFileError([RowError(0, f"the file is not UTF-8 text ({exc.reason})")]) from exc
    if errors:
        raise ImportFileError(errors)
    result = ImportResult(rows=count)
    lock = f"parity:import:{project.pk}:{_file_digest(path)}"
    # cache.add is atomic in the shared cache (an INSERT in the database cache, SET NX in Redis).
    if not cache.add(lock, 1, timeout=3600):
        raise ImportBusy("the same file is being imported into this project right now: nothing was stored "
                         "from this upload; retry once the other import has finished")
    try:
        _insert(open_file, fmt, project, source, duplicate_rows, result,
                progress("import", count) if progress else None)
    except IntegrityError as exc:
        raise ImportBusy("another import stored some of these rows at the same moment: nothing was stored "
                         "from this upload; retry to add what is still new") from exc
    finally:
        cache.delete(lock)
    return result


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
