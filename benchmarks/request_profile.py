"""Where one request's time goes: ``python -m benchmarks.request_profile`` (PostgreSQL via ``DATABASE_URL``).

Why: the single-user target (server time of next + submit under 25 ms p50) is a sum of small costs
(connection set-up, token authentication, the cache, role checks, the view's queries, serialisation).
This seeds a small project on a scratch database through the platform's services (as ``benchmarks.load``
does), then drives the reference GET, next and submit through Django's test client in this process with
the production settings, and prints for each: the median wall time, the number of SQL queries and their
summed time, the queries themselves (``--show-queries``) and the top functions by cumulative time
(``--profile``, cProfile). No server and no network: what it measures is the app's own cost.

Options: ``--items`` (default 2,000), ``--repeat`` (requests per kind, default 60), ``--show-queries``,
``--profile``.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import statistics
import time
import uuid

from benchmarks.common import scratch_database


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--show-queries", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        parser.error("set DATABASE_URL=postgres://... (the target is measured on PostgreSQL)")
    _, cleanup = scratch_database("_profile", keep=args.keep_db)
    os.environ["DJANGO_SETTINGS_MODULE"] = "parity.settings.production"
    os.environ.update({"SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "testserver,127.0.0.1",
                       "SECURE_SSL_REDIRECT": "false", "LOG_LEVEL": "WARNING"})
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from benchmarks.load import LABELS, REFERENCE_PATH, seed

    try:
        call_command("migrate", verbosity=0)
        seeded = seed(items=args.items, users=1, overlap=3)
        connection.close()
        client = Client(HTTP_AUTHORIZATION=f"Token {seeded['tokens'][0]}", secure=True)
        project = seeded["project"]
        timings: dict[str, list[float]] = {"reference": [], "next": [], "submit": []}
        queries: dict[str, list[tuple[int, float]]] = {kind: [] for kind in timings}
        last_sql: dict[str, list[str]] = {}
        profiler = cProfile.Profile() if args.profile else None

        per_position: dict[str, list[list[float]]] = {kind: [] for kind in timings}

        def call(kind: str, method: str, path: str, body: dict | None = None):
            captured: list[tuple[str, float]] = []

            def timed(execute, sql, params, many, context):
                started = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    captured.append((sql, (time.perf_counter() - started) * 1000))

            with connection.execute_wrapper(timed):
                if profiler:
                    profiler.enable()
                started = time.perf_counter()
                response = getattr(client, method)(path, data=json.dumps(body) if body is not None else None,
                                                   content_type="application/json")
                elapsed = (time.perf_counter() - started) * 1000
                if profiler:
                    profiler.disable()
            timings[kind].append(elapsed)
            queries[kind].append((len(captured), sum(ms for _, ms in captured)))
            last_sql[kind] = [sql for sql, _ in captured]
            per_position[kind].append([ms for _, ms in captured])
            return response

        for _ in range(args.repeat):
            response = call("reference", "get", REFERENCE_PATH)
            assert response.status_code == 200, response.content
            response = call("next", "post", "/api/assignments/next/", {"project": project})
            assert response.status_code == 200, response.content
            assignment = response.json()
            response = call("submit", "post", f"/api/assignments/{assignment['id']}/submit/",
                            {"label": LABELS[0], "idempotency_key": uuid.uuid4().hex, "time_spent_ms": 100})
            assert response.status_code == 201, response.content
        print(f"{'request':<10} {'p50 ms':>8} {'mean ms':>8} {'queries':>8} {'sql ms p50':>10}")
        for kind, values in timings.items():
            counts = [n for n, _ in queries[kind]]
            sql_ms = [ms for _, ms in queries[kind]]
            print(f"{kind:<10} {statistics.median(values):8.1f} {statistics.fmean(values):8.1f} "
                  f"{statistics.median(counts):8.0f} {statistics.median(sql_ms):10.1f}")
        if args.show_queries:
            for kind, sql in last_sql.items():
                print(f"\n--- {kind}: {len(sql)} queries (median ms of each over the runs with this count)")
                runs = [run for run in per_position[kind] if len(run) == len(sql)]
                for i, line in enumerate(sql):
                    print(f"  {statistics.median(run[i] for run in runs):6.2f}  {line[:200]}")
        if profiler:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("PROFILE_SORT", "cumulative"))
            stats.print_stats(int(os.environ.get("PROFILE_TOP", "45")))
            print(out.getvalue())
    finally:
        cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
