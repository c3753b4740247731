"""Fifty annotators on one server: ``python -m benchmarks.load`` (PostgreSQL via ``DATABASE_URL``).

Why: the time between a keypress and the next item decides whether annotators stay. This starts the
platform as it runs in production (gunicorn, production settings, PostgreSQL, a celery worker doing the
background aggregation), seeds a project of ``--items`` items (default 100,000) in one language with
``--users`` qualified evaluators (default 50) through the platform's own services, and drives one
bounded client per evaluator through next → (think) → submit for ``--duration`` seconds. In the same run
a few reference clients call the cheapest authenticated API GET of the app (the evaluator's own
memberships), which is the floor this stack reaches on this machine under that load. Every client and
the server stay on 127.0.0.1, and the run stops by itself.

It prints p50/p95/p99 of next, submit and the reference (as the client saw them, and as the server's
``Server-Timing`` header says), requests/s, how often PostgreSQL backends were seen waiting on a lock
(sampled from ``pg_stat_activity``), and after the run checks integrity in the database: items over k,
duplicate (item, evaluator) pairs, submissions acknowledged to a client but missing, and counter drift
(``annotation_count`` / ``active_assignments`` against the rows). JSON and a PNG of the latency
distributions go to ``benchmarks/results/``.

The client is our own thread-per-user loop on ``http.client`` keep-alive connections rather than
locust: it needs no extra dependency, starts in well under a second, and its cost per request is small
enough not to compete with the server for the two cores the target machine has.

The first ``--warmup`` seconds (default 5) are left out of the percentiles and rates, as load tools
leave out their ramp-up: every client starts at once and every server thread opens its database
connection on its first request; the whole run's client p99 is printed and kept beside them.

Options: ``--items``, ``--users``, ``--duration`` (s), ``--warmup`` (s), ``--think`` (mean seconds between items),
``--overlap`` (k), ``--workers`` / ``--threads`` (gunicorn), ``--reference-clients``, ``--port``,
``--keep-db``, ``--out``.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import finish_log_plot, scratch_database, table, write_json

ROOT = Path(__file__).resolve().parent.parent
LABELS = ["science/technology", "travel", "politics", "sports", "health", "entertainment", "geography"]
REFERENCE_PATH = "/api/my/memberships/"


@dataclass
class Samples:
    client_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    server_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    acknowledged: list[int] = field(default_factory=list)  # annotation ids the server answered 201 for
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The first ``warmup_s`` of the run are left out of the percentiles (kept in ``whole_run_ms``): all
    # clients start at once, and every server thread opens its database connection on its first request.
    started: float = 0.0
    warmup_s: float = 0.0
    whole_run_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def add(self, kind: str, client_ms: float, server_ms: float | None) -> None:
        with self.lock:
            self.whole_run_ms[kind].append(client_ms)
            if time.monotonic() - self.started < self.warmup_s:
                return
            self.client_ms[kind].append(client_ms)
            if server_ms is not None:
                self.server_ms[kind].append(server_ms)


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"n": len(values), "p50": at(0.50), "p95": at(0.95), "p99": at(0.99),
            "mean": round(statistics.fmean(values), 1)}


# --------------------------------------------------------------------------- seeding
def seed(*, items: int, users: int, overlap: int) -> dict:
    """A project, one language, ``users`` qualified evaluators who acknowledged the guideline."""
    from django.contrib.auth import get_user_model
    from tqdm import tqdm

    from annotation.services import NewItem, items_create, project_create
    from evaluators.models import PoolMembership
    from evaluators.services import (
        guideline_acknowledge,
        guideline_draft,
        guideline_publish,
        language_get_or_create,
        pool_get_or_create,
    )
    from parity.tokens import personal_token_create

    language = language_get_or_create(code="hau", script="Latn")
    project = project_create(name="Load test", slug="load", labels=LABELS, languages=[language], overlap=overlap)
    version = guideline_publish(version=guideline_draft(project=project, body="# Topic\nPick the topic."))
    pool = pool_get_or_create(project=project, language=language, control_rate=0.0)
    batch = 5000
    with tqdm(total=items, desc="items", unit="item") as bar:
        for start in range(0, items, batch):
            chunk = [NewItem(text=f"jumla ta {i} game da batun {LABELS[i % len(LABELS)]}", language=language,
                             external_id=f"load-{i}", priority=random.random())
                     for i in range(start, min(items, start + batch))]
            items_create(project=project, items=chunk)
            bar.update(len(chunk))
    tokens = []
    for n in range(users):
        user = get_user_model().objects.create_user(username=f"load-{n:03d}")  # token only: no password hashing
        PoolMembership.objects.create(pool=pool, user=user, state=PoolMembership.State.QUALIFIED)
        guideline_acknowledge(user=user, version=version)
        tokens.append(personal_token_create(user=user, name="load benchmark", days=1)[1])
    return {"project": project.slug, "tokens": tokens, "overlap": overlap}


# --------------------------------------------------------------------------- the server
def start_stack(*, port: int, workers: int, threads: int, env: dict) -> list[subprocess.Popen]:
    gunicorn = [sys.executable, "-m", "gunicorn", "parity.wsgi:application", "--bind", f"127.0.0.1:{port}",
                "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
                "--log-level", "warning", "--timeout", "60"]
    worker = [sys.executable, "-m", "celery", "-A", "parity", "worker", "-Q", "default", "--concurrency", "1",
              "-l", "warning", "--without-gossip", "--without-mingle", "-n", f"load-{port}@%h"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True) for cmd in (gunicorn, worker)]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return procs
        except OSError:
            time.sleep(0.3)
    stop_stack(procs)
    raise RuntimeError(f"gunicorn did not answer on 127.0.0.1:{port} within 60 s")


def stop_stack(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


# --------------------------------------------------------------------------- the clients
class Client:
    """One evaluator's keep-alive connection; each call returns (status, body, client ms, server ms)."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.headers = port, {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method: str, path: str, body: dict | None = None):
        payload = json.dumps(body).encode() if body is not None else None
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=payload, headers=self.headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            raise
        elapsed = (time.perf_counter() - started) * 1000
        server = None
        for part in (response.getheader("Server-Timing") or "").split(","):
            if "dur=" in part:
                server = float(part.split("dur=")[1])
        return response.status, data, elapsed, server


def annotator(client: Client, project: str, samples: Samples, deadline: float, think: float, rng: random.Random):
    while time.monotonic() < deadline:
        try:
            status, body, ms, server = client.call("POST", "/api/assignments/next/", {"project": project})
        except (OSError, http.client.HTTPException):
            samples.errors["next: connection"] += 1
            continue
        if status == 204:
            samples.errors["next: queue empty"] += 1
            time.sleep(think)
            continue
        if status != 200:
            samples.errors[f"next: HTTP {status}"] += 1
            time.sleep(0.5)
            continue
        samples.add("next", ms, server)
        assignment = json.loads(body)
        time.sleep(max(0.05, rng.uniform(0.5 * think, 1.5 * think)))
        label = rng.choice(LABELS)
        try:
            status, body, ms, server = client.call(
                "POST", f"/api/assignments/{assignment['id']}/submit/",
                {"label": label, "idempotency_key": uuid.uuid4().hex, "time_spent_ms": int(think * 1000)},
            )
        except (OSError, http.client.HTTPException):
            samples.errors["submit: connection"] += 1
            continue
        if status == 201:
            samples.add("submit", ms, server)
            with samples.lock:
                samples.acknowledged.append(json.loads(body)["id"])
        else:
            samples.errors[f"submit: HTTP {status}"] += 1


def reference(client: Client, samples: Samples, deadline: float, interval: float):
    while time.monotonic() < deadline:
        try:
            status, _, ms, server = client.call("GET", REFERENCE_PATH)
        except (OSError, http.client.HTTPException):
            samples.errors["reference: connection"] += 1
            continue
        if status == 200:
            samples.add("reference", ms, server)
        else:
            samples.errors[f"reference: HTTP {status}"] += 1
        time.sleep(interval)


def lock_sampler(stop: threading.Event, out: list[int]) -> None:
    """Count backends waiting on a lock twice a second (row locks show as waits on tuple/transactionid)."""
    from django.db import connection

    while not stop.wait(0.5):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND datname = current_database()")
            out.append(cursor.fetchone()[0])
    connection.close()


# --------------------------------------------------------------------------- integrity
def integrity(*, project_slug: str, acknowledged: list[int]) -> dict[str, int]:
    from django.db.models import Count, F, Q

    from annotation.models import Annotation, Assignment, Item

    items = Item.objects.filter(project__slug=project_slug, is_control=False)
    counted = items.annotate(
        n_annotations=Count("annotations", filter=Q(annotations__assignment__is_control=False), distinct=True),
        n_active=Count("assignments", filter=Q(assignments__status=Assignment.Status.ACTIVE), distinct=True),
        n_evaluators=Count("assignments__evaluator", filter=Q(assignments__status__in=[
            Assignment.Status.ACTIVE, Assignment.Status.SUBMITTED]), distinct=True),
    )
    stored = set(Annotation.objects.filter(pk__in=acknowledged).values_list("pk", flat=True))
    duplicates = (Annotation.objects.filter(item__project__slug=project_slug).values("item_id", "evaluator_id")
                  .annotate(n=Count("id")).filter(n__gt=1).count())
    return {
        "items_over_k": counted.filter(n_evaluators__gt=F("project__overlap")).count(),
        "duplicate_item_evaluator": duplicates,
        "lost_submissions": len(set(acknowledged) - stored),
        "annotation_count_drift": counted.exclude(annotation_count=F("n_annotations")).count(),
        "active_assignments_drift": counted.exclude(active_assignments=F("n_active")).count(),
    }


def plot(samples: Samples, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for kind in ("next", "submit", "reference"):
        values = sorted(samples.client_ms.get(kind, []))
        if values:
            ax.plot(values, [i / len(values) for i in range(1, len(values) + 1)], label=f"{kind} (n={len(values)})")
    finish_log_plot(fig, ax, path, xlabel="client-side latency (ms, log scale)",
                    ylabel="share of requests at or below", title="Latency distributions under load")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=5.0,
                        help="seconds at the start left out of the percentiles (connections opening)")
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument("--overlap", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=25)
    parser.add_argument("--reference-clients", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--out", default="benchmarks/results/load.json")
    args = parser.parse_args(argv)
    if args.items < 1 or args.users < 1 or args.duration <= 0:
        parser.error("--items, --users and --duration must be positive")
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        parser.error("the load benchmark runs on PostgreSQL: set DATABASE_URL=postgres://...")

    _, cleanup = scratch_database("_load", keep=args.keep_db)
    os.environ["DJANGO_SETTINGS_MODULE"] = "parity.settings.production"
    env = {
        **os.environ, "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false", "DEBUG": "false", "LOG_LEVEL": "WARNING", "SERVER_TIMING": "true",
        "PYTHONPATH": str(ROOT),
    }
    os.environ.update({k: env[k] for k in ("SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "LOG_LEVEL")})
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    procs: list[subprocess.Popen] = []
    try:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        seeded = seed(items=args.items, users=args.users, overlap=args.overlap)
        seed_s = time.perf_counter() - started
        connection.close()
        procs = start_stack(port=args.port, workers=args.workers, threads=args.threads, env=env)
        samples, waits, stop = Samples(started=time.monotonic(), warmup_s=args.warmup), [], threading.Event()
        deadline = time.monotonic() + args.duration
        threads = [threading.Thread(target=annotator, daemon=True, args=(
            Client(args.port, token), seeded["project"], samples, deadline, args.think, random.Random(i)))
            for i, token in enumerate(seeded["tokens"])]
        threads += [threading.Thread(target=reference, daemon=True, args=(
            Client(args.port, seeded["tokens"][i % len(seeded["tokens"])]), samples, deadline, 0.25))
            for i in range(args.reference_clients)]
        sampler = threading.Thread(target=lock_sampler, args=(stop, waits), daemon=True)
        sampler.start()
        run_started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.duration + 60)
        elapsed = time.monotonic() - run_started
        stop.set()
        sampler.join(timeout=5)
        time.sleep(1.0)  # let in-flight background aggregation settle before counting
        checks = integrity(project_slug=seeded["project"], acknowledged=samples.acknowledged)
    finally:
        stop_stack(procs)
        cleanup()

    kinds = ("next", "submit", "reference")
    client = {kind: percentiles(samples.client_ms.get(kind, [])) for kind in kinds}
    server = {kind: percentiles(samples.server_ms.get(kind, [])) for kind in kinds}
    whole_run = {kind: percentiles(samples.whole_run_ms.get(kind, [])) for kind in kinds}
    total = sum(len(samples.client_ms.get(kind, [])) for kind in kinds)
    elapsed = max(1e-9, elapsed - min(args.warmup, elapsed))  # the rates are over the measured window
    ratios = {}
    for kind in ("next", "submit"):
        for q in ("p50", "p99"):
            ref, value = client["reference"][q], client[kind][q]
            ratios[f"{kind}_{q}_vs_reference"] = round(value / ref, 2) if ref and value else None
    rows = [[kind, client[kind]["n"], client[kind]["p50"], client[kind]["p95"], client[kind]["p99"],
             server[kind]["p50"], server[kind]["p99"]] for kind in kinds]
    print(table(["request", "n", "p50 ms", "p95 ms", "p99 ms", "server p50", "server p99"], rows))
    print(f"{total / elapsed:.1f} requests/s, {len(samples.client_ms.get('submit', [])) / elapsed:.1f} submits/s "
          f"over {elapsed:.0f} s; lock waits seen: max {max(waits, default=0)}, "
          f"mean {statistics.fmean(waits) if waits else 0:.2f} backends")
    print("ratios to the reference: " + ", ".join(f"{k}={v}" for k, v in ratios.items()))
    print(f"after a {args.warmup:g} s warm-up; over the whole run, client p99: "
          + ", ".join(f"{kind} {whole_run[kind]['p99']} ms" for kind in kinds))
    print("integrity: " + ", ".join(f"{k}={v}" for k, v in checks.items()))
    if samples.errors:
        print("errors: " + ", ".join(f"{k}: {v}" for k, v in sorted(samples.errors.items())))
    result = {
        "benchmark": "load", "items": args.items, "users": args.users, "duration_s": round(elapsed, 1),
        "think_s": args.think, "overlap": args.overlap, "gunicorn": {"workers": args.workers, "threads": args.threads},
        "seed_s": round(seed_s, 1), "reference_endpoint": REFERENCE_PATH, "warmup_s": args.warmup,
        "client_ms": client, "server_ms": server, "client_ms_whole_run": whole_run,
        "requests_per_s": round(total / elapsed, 1),
        "submits_per_s": round(len(samples.client_ms.get("submit", [])) / elapsed, 1),
        "ratios": ratios, "lock_waits": {"max": max(waits, default=0),
                                         "mean": round(statistics.fmean(waits), 3) if waits else 0.0},
        "integrity": checks, "errors": dict(samples.errors), "load_average": list(os.getloadavg()),
    }
    write_json(args.out, result)
    if args.out:
        plot(samples, Path(args.out).with_suffix(".png"))
    return 0 if not any(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
