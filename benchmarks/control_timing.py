"""Can response times tell a control item from work? ``python -m benchmarks.control_timing``.

Why: nothing an evaluator receives may tell a gold control from a regular item, timing included. A
scripted evaluator can time every ``next`` and ``submit``; if the control path does more work (more
queries, a job dispatch before the response) its times single the controls out, and the evaluator then
answers those with care and the rest at random. This plays that attacker against the app as it runs in
production (gunicorn, production settings, PostgreSQL via ``DATABASE_URL``, a celery worker), over
127.0.0.1 keep-alive connections, so the times are what such a client sees with no network noise.

One evaluator, a pool with ``--control-rate`` of controls, ``--cycles`` of next → submit. After the run
each lease is looked up in the database (control or not; the client never learns it). For each of next
and submit it reports the median time of controls and of work, and two classifiers built only from the
times: a threshold fitted on the first half of the cycles and scored on the second (Youden J: 0 is
chance, 1 tells every control apart) and the AUC of the raw times (0.5 is chance); the same for the
request that follows each submit, which would show work the server did after the response. With ``SERVER_TIMING``
(``--server-timing``) it also scores the server's own ``Server-Timing`` value, as a build that sent the
header to everyone would leak it. A JSON goes to ``--out``.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import time
import uuid

from benchmarks.common import scratch_database, table, write_json


def youden_held_out(times: list[float], truth: list[bool]) -> float | None:
    """J of the best threshold (either direction, between two observed times) on the first half, measured on
    the second half."""
    half = len(times) // 2
    train = list(zip(times[:half], truth[:half], strict=True))
    test = list(zip(times[half:], truth[half:], strict=True))
    if not any(t for _, t in train) or all(t for _, t in train) or not any(t for _, t in test) or all(
            t for _, t in test):
        return None

    def j(rows, cut, sign):
        positives = [v for v, t in rows if t]
        negatives = [v for v, t in rows if not t]
        tpr = sum(sign * (v - cut) > 0 for v in positives) / len(positives)
        fpr = sum(sign * (v - cut) > 0 for v in negatives) / len(negatives)
        return tpr - fpr

    values = sorted({v for v, _ in train})
    cuts = [(a + b) / 2 for a, b in zip(values, values[1:], strict=False)] or values  # between observed times
    cut, sign = max(((c, s) for c in cuts for s in (1, -1)), key=lambda cs: j(train, *cs))
    return round(j(test, cut, sign), 3)


def auc(times: list[float], truth: list[bool]) -> float | None:
    """P(a control's time > a work item's time), ties counting half (Mann-Whitney)."""
    positives = [v for v, t in zip(times, truth, strict=True) if t]
    negatives = [v for v, t in zip(times, truth, strict=True) if not t]
    if not positives or not negatives:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return round(wins / (len(positives) * len(negatives)), 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=600)
    parser.add_argument("--control-rate", type=float, default=0.3)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--think", type=float, default=0.02, help="seconds between requests")
    parser.add_argument("--overlap", type=int, default=3, help="k (with one evaluator no item completes)")
    parser.add_argument("--server-timing", action="store_true", help="turn the Server-Timing header on")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--out", default="benchmarks/results/control_timing.json")
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        parser.error("set DATABASE_URL=postgres://... (the attack is played against the production stack)")
    from benchmarks.load import LABELS, ROOT, Client, seed, start_stack, stop_stack

    _, cleanup = scratch_database("_ctiming")
    os.environ["DJANGO_SETTINGS_MODULE"] = "parity.settings.production"
    env = {**os.environ, "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1,localhost",
           "SECURE_SSL_REDIRECT": "false", "DEBUG": "false", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT),
           "SERVER_TIMING": "true" if args.server_timing else "false"}
    os.environ.update({k: env[k] for k in ("SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "LOG_LEVEL")})
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from annotation.models import Assignment, Project
    from annotation.services import NewItem, items_create
    from evaluators.models import Pool

    procs: list[subprocess.Popen] = []
    try:
        call_command("migrate", verbosity=0)
        seeded = seed(items=args.items, users=1, overlap=args.overlap)
        project = Project.objects.get(slug=seeded["project"])
        pool = Pool.objects.get(project=project)
        controls = int(args.cycles * args.control_rate * 2) + 50  # never runs out within the run
        items_create(project=project, items=[
            NewItem(text=f"gold jumla ta {i} game da batun {LABELS[i % len(LABELS)]}", language=pool.language,
                    external_id=f"gold-{i}", is_control=True, reference_label=LABELS[i % len(LABELS)])
            for i in range(controls)])
        Pool.objects.filter(pk=pool.pk).update(control_rate=args.control_rate, gold_max_exposure=1000,
                                               control_min_answers=10**6)
        connection.close()
        procs = start_stack(port=args.port, workers=2, threads=4, env=env)
        client = Client(args.port, seeded["tokens"][0])
        rows = []  # (public id, next client ms, next server ms, submit client ms, submit server ms)
        for n in range(args.cycles + 20):
            status, body, next_ms, next_server = client.call("POST", "/api/assignments/next/",
                                                             {"project": seeded["project"]})
            assert status == 200, (status, body)
            lease = json.loads(body)
            time.sleep(args.think)
            status, body, submit_ms, submit_server = client.call(
                "POST", f"/api/assignments/{lease['id']}/submit/",
                {"label": LABELS[n % len(LABELS)], "idempotency_key": uuid.uuid4().hex, "time_spent_ms": 900})
            assert status == 201, (status, body)
            time.sleep(args.think)
            if n >= 20:  # the first cycles warm the server's connections and caches
                rows.append((lease["id"], next_ms, next_server, submit_ms, submit_server))
        stop_stack(procs)
        procs = []
        controls_by_id = dict(Assignment.objects.filter(public_id__in=[r[0] for r in rows])
                              .values_list("public_id", "is_control"))
        truth = [controls_by_id[uuid.UUID(r[0])] for r in rows]
        # The next request after each submit, on the same keep-alive connection: it would wait for work
        # the server did after the previous response (a dispatch), if that work depended on the item.
        rows = [(*row, following[1]) for row, following in zip(rows, rows[1:], strict=False)]
        truth = truth[:len(rows)]
        result = {"cycles": len(rows), "controls": sum(truth), "control_rate": args.control_rate,
                  "overlap": args.overlap, "think_s": args.think,
                  "server_timing_header": args.server_timing, "measures": {}}
        lines = []
        for name, index in (("next (client)", 1), ("next (Server-Timing)", 2), ("submit (client)", 3),
                            ("submit (Server-Timing)", 4), ("the next request after the submit (client)", 5)):
            times = [r[index] for r in rows]
            if any(t is None for t in times):
                continue
            measure = {
                "control_median_ms": round(statistics.median(t for t, c in zip(times, truth, strict=True) if c), 2),
                "work_median_ms": round(statistics.median(t for t, c in zip(times, truth, strict=True) if not c), 2),
                "youden_j_held_out": youden_held_out(times, truth), "auc": auc(times, truth),
            }
            result["measures"][name] = measure
            lines.append([name, measure["control_median_ms"], measure["work_median_ms"],
                          measure["youden_j_held_out"], measure["auc"]])
        print(f"{len(rows)} cycles, {sum(truth)} controls (rate {args.control_rate})")
        print(table(["measure", "control p50 ms", "work p50 ms", "Youden J (held out)", "AUC"], lines))
        write_json(args.out, result)
    finally:
        stop_stack(procs)
        cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
