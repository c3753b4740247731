"""The next-item query at size: ``python -m benchmarks.assignment [--items 100000] [--out FILE.json]``.

Why: ``assignment_next`` runs on every click of every evaluator, so with 100,000 items in a pool it must
walk an index to the first free item, never scan or sort the table.

With ``DATABASE_URL`` pointing at PostgreSQL the benchmark creates its own database next to it
(``<name>_bench_assignment``; dropped afterwards unless ``--keep``); otherwise it uses a temporary SQLite
file. It builds one project × language with ``--items`` items (40% already approved, random priorities),
20 qualified evaluators (one of them with 1,000 items already done), then prints:

* the EXPLAIN (ANALYZE on PostgreSQL) of the next-item query and whether it uses ``item_open_queue_idx``;
* timings of ``assignment_next`` + ``annotation_submit`` round trips (p50 / p95 / max, ms).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import time
import uuid
from pathlib import Path

from benchmarks.common import scratch_database


def _build(n_items: int, n_evaluators: int, seed: int):
    from django.utils import timezone

    from annotation.hashing import content_hash
    from annotation.models import Assignment, Item
    from annotation.services import project_create
    from evaluators.models import PoolMembership
    from evaluators.services import (
        evaluator_create,
        guideline_acknowledge,
        guideline_draft,
        guideline_publish,
        language_from_tag,
        membership_invite,
        pool_get_or_create,
    )

    rng = random.Random(seed)
    lang = language_from_tag("hau_Latn")
    project = project_create(name="bench", slug=f"bench-{uuid.uuid4().hex[:6]}", labels=["a", "b", "c"],
                             languages=[lang], overlap=3)
    version = guideline_publish(version=guideline_draft(project=project, body="bench"))
    pool = pool_get_or_create(project=project, language=lang, control_rate=0.0)
    users = []
    for n in range(n_evaluators):
        user = evaluator_create(username=f"bench-{project.slug}-{n}", languages=[lang]).user
        membership = membership_invite(pool=pool, user=user)
        PoolMembership.objects.filter(pk=membership.pk).update(state=PoolMembership.State.QUALIFIED)
        guideline_acknowledge(user=user, version=version)
        users.append(user)
    started = time.perf_counter()
    batch = []
    for i in range(n_items):
        text = f"bench sentence {i} {rng.random()}"
        approved = rng.random() < 0.4
        batch.append(Item(
            project=project, language=lang, text=text, content_hash=content_hash(text),
            priority=rng.random(), status=Item.Status.APPROVED if approved else Item.Status.OPEN,
            annotation_count=3 if approved else 0,
        ))
        if len(batch) == 5000:
            Item.objects.bulk_create(batch)
            batch.clear()
    Item.objects.bulk_create(batch)
    build_s = time.perf_counter() - started
    # A busy evaluator: 1,000 done items among the best-priority open ones.
    now = timezone.now()
    done = Item.objects.filter(project=project, status=Item.Status.OPEN).order_by("-priority")[:1000]
    Assignment.objects.bulk_create(
        Assignment(item=item, evaluator=users[0], status=Assignment.Status.SUBMITTED, leased_at=now, expires_at=now)
        for item in done
    )
    return project, pool, users, build_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--evaluators", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=300, help="assignment_next + submit round trips")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL benchmark database")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/assignment.json"))
    args = parser.parse_args()

    vendor, cleanup = scratch_database("_bench_assignment", keep=args.keep)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parity.settings.test")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from annotation.services import annotation_submit, assignment_next, next_item_queryset

    try:
        call_command("migrate", verbosity=0)
        project, pool, users, build_s = _build(args.items, args.evaluators, args.seed)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        query = (
            next_item_queryset(pool=pool, evaluator_id=users[0].pk, overlap=project.overlap)
            .select_for_update(skip_locked=True, of=("self",))[:1]
        )
        with transaction.atomic():
            plan = query.explain(analyze=True, buffers=True) if vendor == "postgresql" else query.explain()
            transaction.set_rollback(True)
        uses_index = "item_open_queue_idx" in plan
        seq_scan_items = "Seq Scan on annotation_item" in plan or "SCAN annotation_item" in plan.replace(
            "USING INDEX", "#")
        rng = random.Random(args.seed)
        timings_ms, probe_ms = [], []
        for n in range(args.rounds):
            user = users[n % len(users)]
            started = time.perf_counter()
            with transaction.atomic():
                query_started = time.perf_counter()
                list(next_item_queryset(pool=pool, evaluator_id=user.pk, overlap=project.overlap)
                     .values_list("id", flat=True)[:1])
                probe_ms.append((time.perf_counter() - query_started) * 1000)
            assignment = assignment_next(evaluator=user, project=project)
            annotation_submit(evaluator=user, assignment_id=assignment.pk, label=rng.choice(["a", "b", "c"]),
                              idempotency_key=f"bench-{n}")
            timings_ms.append((time.perf_counter() - started) * 1000)
        timings_ms.sort()
        probe_ms.sort()
        result = {
            "benchmark": "assignment_next at size",
            "database": vendor,
            "items": args.items,
            "evaluators": args.evaluators,
            "build_seconds": round(build_s, 2),
            "rounds": args.rounds,
            "next_item_query_ms": {"p50": round(statistics.median(probe_ms), 3),
                                   "p95": round(probe_ms[int(0.95 * (len(probe_ms) - 1))], 3),
                                   "max": round(probe_ms[-1], 3)},
            "next_plus_submit_ms": {"p50": round(statistics.median(timings_ms), 3),
                                    "p95": round(timings_ms[int(0.95 * (len(timings_ms) - 1))], 3),
                                    "max": round(timings_ms[-1], 3)},
            "uses_item_open_queue_idx": uses_index,
            "seq_scan_on_items": seq_scan_items,
            "plan": plan,
            "python": platform.python_version(),
        }
        print(plan)
        print()
        print(f"{vendor}: {args.items} items built in {build_s:.1f}s")
        print(f"next-item query      p50 {result['next_item_query_ms']['p50']:.2f} ms  "
              f"p95 {result['next_item_query_ms']['p95']:.2f} ms")
        print(f"next + submit        p50 {result['next_plus_submit_ms']['p50']:.2f} ms  "
              f"p95 {result['next_plus_submit_ms']['p95']:.2f} ms")
        print(f"uses item_open_queue_idx: {uses_index}; sequential scan of items: {seq_scan_items}")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.out}")
    finally:
        cleanup()


if __name__ == "__main__":
    main()
