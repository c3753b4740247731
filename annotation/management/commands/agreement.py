"""``manage.py agreement --input ratings.csv [--level nominal|ordinal|interval|ratio]``.

Prints one JSON object of inter-annotator agreement statistics for a CSV with a
header and the columns ``item,annotator,label`` (one row per rating; a missing
rating is a missing row; other columns are ignored).

Malformed input exits with status 2 and a single line on stderr naming the row
(header = row 1), so scripts can tell bad data (2) from a crash (1).  It never
touches the database: statistics come from :mod:`annotation.agreement`.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from argparse import ArgumentParser
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand

from annotation.agreement import LEVELS, NUMERIC_LEVELS, agreement_report

REQUIRED_COLUMNS: tuple[str, ...] = ("item", "annotator", "label")
EXIT_BAD_INPUT = 2


class InputError(Exception):
    """Bad input file; ``row`` is the CSV row (header = 1) when one is to blame."""

    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.row = row

    def __str__(self) -> str:
        message = super().__str__()
        return message if self.row is None else f"row {self.row}: {message}"


@dataclass
class Ratings:
    """Long-format columns read from the CSV."""

    items: list[str] = field(default_factory=list)
    annotators: list[str] = field(default_factory=list)
    labels: list[Any] = field(default_factory=list)


def _column_positions(header: list[str]) -> dict[str, int]:
    names = [name.strip().lower() for name in header]
    duplicated = sorted({name for name in names if name in REQUIRED_COLUMNS and names.count(name) > 1})
    if duplicated:
        raise InputError(f"duplicate column(s) {', '.join(duplicated)} in header", row=1)
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; header must contain {','.join(REQUIRED_COLUMNS)}", row=1
        )
    return {name: names.index(name) for name in REQUIRED_COLUMNS}


def _parse_label(text: str, level: str, row: int) -> Any:
    """Nominal labels stay strings; numeric levels need finite numbers (ratio: non-negative)."""
    if level not in NUMERIC_LEVELS:
        return text
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"label {text!r} is not a number (required at {level} level)", row) from None
    if not math.isfinite(value):
        raise InputError(f"label {text!r} is not a finite number", row)
    if level == "ratio" and value < 0:
        raise InputError(f"label {text!r} is negative (ratio level needs values >= 0)", row)
    return value


def _records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """(row number, fields) for non-blank data rows; wraps csv errors with the row."""
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(f"malformed CSV: {exc}", reader.line_num) from None
        if any(value.strip() for value in fields):
            yield reader.line_num, fields


def _parse_rows(reader: Any, level: str) -> Ratings:
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", row=1) from None
    if header is None:
        raise InputError(f"file is empty; expected a header {','.join(REQUIRED_COLUMNS)}", row=1)
    columns = _column_positions(header)
    ratings = Ratings()
    first_seen: dict[tuple[str, str], int] = {}
    for row, fields in _records(reader):
        item, annotator, label = (
            fields[columns[name]].strip() if columns[name] < len(fields) else "" for name in REQUIRED_COLUMNS
        )
        for name, value in (("item", item), ("annotator", annotator), ("label", label)):
            if not value:
                raise InputError(f"empty {name}", row)
        previous = first_seen.setdefault((item, annotator), row)
        if previous != row:
            raise InputError(
                f"duplicate rating: annotator {annotator!r} already rated item {item!r} on row {previous}", row
            )
        ratings.items.append(item)
        ratings.annotators.append(annotator)
        ratings.labels.append(_parse_label(label, level, row))
    if not ratings.items:
        raise InputError("no ratings after the header", row=2)
    return ratings


def read_ratings(path: Path, level: str) -> Ratings:
    """Read and validate the ratings CSV; raises :class:`InputError` naming the row."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return _parse_rows(csv.reader(handle), level)
    except FileNotFoundError:
        raise InputError("file not found") from None
    except IsADirectoryError:
        raise InputError("is a directory, not a CSV file") from None
    except PermissionError:
        raise InputError("permission denied") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


class Command(BaseCommand):
    help = "Inter-annotator agreement (Krippendorff's alpha, Fleiss' and Cohen's kappa) for a CSV of ratings."

    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--input", required=True, type=Path, help="CSV with header item,annotator,label")
        parser.add_argument(
            "--level", choices=LEVELS, default="nominal", help="measurement level for Krippendorff's alpha"
        )
        parser.add_argument(
            "--detail", action="store_true", help="also output per_annotator_consensus and cohen_pairwise"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["input"]
        try:
            ratings = read_ratings(path, options["level"])
            report = agreement_report(ratings.items, ratings.annotators, ratings.labels, options["level"])
        except (InputError, ValueError) as exc:
            self._fail(f"{path}: {exc}")
        self.stdout.write(json.dumps(report.to_dict(detail=options["detail"]), allow_nan=False))

    def _fail(self, message: str) -> NoReturn:
        """Exit 2 (bad input) rather than CommandError's 1, with a one-line message."""
        self.stderr.write(f"agreement: error: {' '.join(message.splitlines())}")
        sys.exit(EXIT_BAD_INPUT)
