"""Streaming import at size: ``python -m benchmarks.importing [--rows 100000] [--out FILE.json]``.

Why: an import must validate every row before storing any (nothing half-written) yet never hold a
whole file in memory. This writes a JSONL and a CSV file of ``--rows`` rows, imports each into a fresh
project on a scratch database (PostgreSQL when ``DATABASE_URL`` points at it, else a temporary SQLite
file) and reports rows/s and the peak memory Python allocated during the import (``tracemalloc``),
next to the file's size. What memory does grow with is one hash per row for duplicate detection,
not the rows themselves.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
import tracemalloc
from pathlib import Path

from benchmarks.common import scratch_database, table, write_json


def _write_files(folder: Path, rows: int) -> dict[str, Path]:
    words = ["kasuwa", "gwamnati", "wasanni", "lafiya", "tafiya", "kimiyya", "fim", "yanki"]
    jsonl, csv = folder / "items.jsonl", folder / "items.csv"
    with jsonl.open("w", encoding="utf-8") as j, csv.open("w", encoding="utf-8") as c:
        c.write("id,text,language\n")
        for n in range(rows):
            text = " ".join(words[(n * k) % len(words)] for k in range(1, 12)) + f" {n}"
            j.write(json.dumps({"id": f"r{n}", "text": text, "language": "hau_Latn"}) + "\n")
            c.write(f"r{n},{text},hau_Latn\n")
    return {"jsonl": jsonl, "csv": csv}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--out", default="benchmarks/results/importing.json")
    parser.add_argument("--keep", action="store_true", help="keep the scratch PostgreSQL database")
    args = parser.parse_args()

    vendor, cleanup = scratch_database("_bench_importing", keep=args.keep)
    from benchmarks.common import setup_django

    setup_django()
    from django.core.management import call_command

    from annotation.importing import items_import
    from annotation.services import project_create
    from evaluators.services import language_from_tag

    call_command("migrate", verbosity=0)
    language = language_from_tag("hau_Latn")
    results = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            files = _write_files(Path(folder), args.rows)
            for fmt, path in files.items():
                project = project_create(name=f"import {fmt}", slug=f"bench-import-{fmt}", labels=["a", "b"],
                                         languages=[language])
                tracemalloc.start()
                started = time.perf_counter()
                result = items_import(project=project, path=path)
                seconds = time.perf_counter() - started
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                results.append({
                    "format": fmt, "rows": result.rows, "created": result.created, "seconds": round(seconds, 2),
                    "rows_per_s": round(result.rows / seconds), "file_mb": round(path.stat().st_size / 2**20, 1),
                    "peak_python_mb": round(peak / 2**20, 1),
                })
    finally:
        cleanup()
    print(f"{vendor}: {args.rows:,} rows per file")
    print(table(["format", "rows", "seconds", "rows/s", "file MB", "peak Python MB"],
                [[r["format"], r["rows"], r["seconds"], r["rows_per_s"], r["file_mb"], r["peak_python_mb"]]
                 for r in results]))
    write_json(args.out, {"database": vendor, "rows": args.rows, "results": results})


if __name__ == "__main__":
    main()
