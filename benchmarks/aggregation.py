"""Cost of Dawid–Skene aggregation at 10k, 100k and 1M annotations: ``python -m benchmarks.aggregation``.

Why: until this change every submission that completed an item refitted Dawid–Skene over the whole
project × language inside the request, and then read each wanted verdict by scanning the whole frame.
Now submissions ask for one coalesced background job per project × language, which fits once for every
item that reached k since the last job. This benchmark measures, on synthetic votes shaped like the
platform's (k = 3 evaluators per item out of a pool, 7 labels, evaluators of mixed accuracy):

- ``fit_s``: one crowd-kit Dawid–Skene fit over all annotations (what one job costs, and what *every*
  completing submission used to cost);
- ``verdicts_s``: reading the verdicts of a batch of ``--batch`` items, vectorised (as now);
- ``per_task_s``: the same batch read the old way, one frame scan per item (measured on a slice of the
  batch and scaled, since at 1M annotations the full old reading takes minutes);
- ``peak_mb``: peak traced Python memory during the fit;
- ``old_per_label_ms`` vs ``batched_per_label_ms``: the aggregation cost each label paid before (a full
  fit for every completed item, i.e. per k labels) and now (one fit per job, shared by the batch).

Options: ``--sizes 10000,100000,1000000``, ``--batch 1000``, ``--k 3``, ``--workers 50``, ``--seed``,
``--out benchmarks/results/aggregation.json`` (a PNG is written beside it).
"""
from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

from benchmarks.common import finish_log_plot, table, write_json

LABELS = ["science/technology", "travel", "politics", "sports", "health", "entertainment", "geography"]


def synthetic_votes(n_annotations: int, *, k: int, workers: int, seed: int) -> list[tuple[int, int, str]]:
    rng = np.random.default_rng(seed)
    n_items = n_annotations // k
    truth = rng.integers(0, len(LABELS), n_items)
    accuracy = rng.uniform(0.55, 0.95, workers)
    who = np.stack([rng.choice(workers, size=k, replace=False) for _ in range(n_items)])
    correct = rng.random((n_items, k)) < accuracy[who]
    noise = rng.integers(0, len(LABELS), (n_items, k))
    labels = np.where(correct, truth[:, None], noise)
    items = np.repeat(np.arange(n_items), k)
    return list(zip(items.tolist(), who.ravel().tolist(), [LABELS[i] for i in labels.ravel()], strict=True))


def _fit(rows):
    import pandas as pd
    from crowdkit.aggregation import DawidSkene

    frame = pd.DataFrame(rows, columns=["task", "worker", "label"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = DawidSkene(n_iter=100).fit(frame)
    return frame, model


def _per_task_reading(frame, probas, tasks) -> None:
    for task in tasks:
        votes = frame.loc[frame["task"] == task, "label"].tolist()
        row = probas.loc[task].sort_values(ascending=False)
        _ = (row.index[0], float(row.iloc[0]), len(set(votes)) == 1)


def measure(n_annotations: int, *, k: int, workers: int, batch: int, seed: int, per_task_sample: int) -> dict:
    from annotation.aggregation import verdicts_from_posteriors

    rows = synthetic_votes(n_annotations, k=k, workers=workers, seed=seed)
    n_items = len(rows) // k
    started = time.perf_counter()
    frame, model = _fit(rows)
    fit_s = time.perf_counter() - started
    wanted = list(range(max(0, n_items - batch), n_items))  # the batch that just reached k
    started = time.perf_counter()
    verdicts = verdicts_from_posteriors(frame, model.probas_, wanted)
    verdicts_s = time.perf_counter() - started
    sample = wanted[:per_task_sample]
    started = time.perf_counter()
    _per_task_reading(frame, model.probas_, sample)
    per_task_s = (time.perf_counter() - started) * len(wanted) / max(1, len(sample))
    tracemalloc.start()  # a second fit, traced (tracing slows it, so it is not the timed one)
    _fit(rows)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    job_s = fit_s + verdicts_s
    return {
        "annotations": len(rows), "items": n_items, "workers": workers, "batch": len(wanted),
        "fit_s": round(fit_s, 3), "verdicts_s": round(verdicts_s, 4), "per_task_s": round(per_task_s, 3),
        "peak_mb": round(peak / 2**20, 1), "iterations": len(getattr(model, "loss_history_", []) or []),
        "old_per_label_ms": round((fit_s + per_task_s / max(1, len(wanted))) / k * 1000, 2),
        "batched_per_label_ms": round(job_s / (len(wanted) * k) * 1000, 3),
        "decided": sum(v.label is not None for v in verdicts.values()),
    }


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["annotations"] for r in results]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(sizes, [r["old_per_label_ms"] for r in results], "o-", label="before: a full fit per completed item")
    ax.plot(sizes, [r["batched_per_label_ms"] for r in results], "o-", label="now: one job per batch")
    ax.set_yscale("log")
    finish_log_plot(fig, ax, path, xlabel="annotations in the project × language",
                    ylabel="aggregation cost per label (ms)", title="Dawid–Skene cost per label")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--per-task-sample", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/results/aggregation.json")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if any(size < args.k for size in sizes):
        parser.error(f"every size must be at least k={args.k}")
    _fit(synthetic_votes(30, k=args.k, workers=min(args.workers, 10), seed=args.seed))  # imports, warm caches
    results = []
    for size in sizes:
        result = measure(size, k=args.k, workers=args.workers, batch=args.batch, seed=args.seed,
                         per_task_sample=args.per_task_sample)
        results.append(result)
        print(f"{size:>9} annotations: fit {result['fit_s']:.2f} s", flush=True)
    headers = ["annotations", "fit_s", "verdicts_s", "per_task_s", "peak_mb", "old_per_label_ms",
               "batched_per_label_ms"]
    print(table(headers, [[r[h] for h in headers] for r in results]))
    write_json(args.out, {"benchmark": "aggregation", "k": args.k, "workers": args.workers, "batch": args.batch,
                          "results": results})
    if args.out:
        plot(results, Path(args.out).with_suffix(".png"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
