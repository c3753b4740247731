"""Backends on a real backbone, per language: ``python -m benchmarks.backbones`` (CPU is enough).

For each language and backend (``ngram``, ``frozen``, ``blend``, ``transformer`` = LoRA) the platform's
own classifier is trained on all of SIB-200's ``train.tsv`` (701 rows), early-stopped / weighted on
``dev.tsv`` where the backend does that, and measured on ``test.tsv``: test and dev macro-F1,
training time (per epoch for LoRA, one fit for the others), and the peak resident memory of the
process that trained it (each (language, backend) trains in a fresh process, so the peaks are its own).

Then the per-language competition as the registry runs it: the backend with the best *dev* macro-F1
serves the language. The table says which backend wins each language, by how much on dev, and what
that choice scores on test against the best single backend there. Target: the competition never
serves a language worse than its best single backend on dev (it cannot, by construction; the table
shows it holds with the real numbers).

    LEARNER_BACKBONE=var/backbones/gemma3-270m python -m benchmarks.backbones \\
        --data ../shared/data/sib200 --languages hau_Latn,amh_Ethi,urd_Arab,eng_Latn \\
        --out benchmarks/results/backbones.json --png benchmarks/results/backbones.png

Results are written after every (language, backend), and ``--resume`` skips those already in ``--out``,
so a long CPU run can be stopped and continued. ``--lora-config`` overrides the LoRA config (JSON).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import time
from pathlib import Path

from benchmarks.common import machine, table, write_json

BACKENDS = ("ngram", "frozen", "blend", "transformer")
LORA_DEFAULTS = {"epochs": 3, "patience": 2, "batch_size": 16, "max_length": 128, "lr": 1e-3, "r": 8, "alpha": 16}


def _macro_f1(classes: list[str], probs, labels: list[str]) -> float:
    from sklearn.metrics import f1_score

    predicted = [classes[i] for i in probs.argmax(axis=1)]
    return float(f1_score(labels, predicted, average="macro", labels=classes, zero_division=0))


def train_group(job: dict) -> list[dict]:
    """Train and measure ``job["backends"]`` on one language in one fresh process, in order. ``frozen`` then
    ``blend`` share it as they share a competition run's worker: the blend reuses the memoised backbone
    features, so its time is the blend's own work and its peak memory includes the frozen learner's."""
    import torch

    from benchmarks.common import setup_django

    setup_django()
    if job.get("threads"):
        torch.set_num_threads(job["threads"])
    return [train_one({**job, "backend": backend}) for backend in job["backends"]]


def train_one(job: dict) -> dict:
    from learner.backends import fit_classifier, make_classifier

    backend, classes, backbone = job["backend"], job["classes"], job["backbone"]
    config = {
        "ngram": {},
        "frozen": {"backbone": backbone},
        "blend": {"frozen": {"backbone": backbone}},
        "transformer": {"backbone": backbone, **LORA_DEFAULTS, **job.get("lora_config", {})},
    }[backend]
    (train_x, train_y), (dev_x, dev_y), (test_x, test_y) = job["train"], job["dev"], job["test"]
    model = make_classifier(backend, classes, config)
    started = time.perf_counter()
    fit_classifier(model, train_x, train_y, dev=(dev_x, dev_y))
    seconds = time.perf_counter() - started
    result = {
        "backend": backend,
        "test_macro_f1": round(_macro_f1(classes, model.predict_proba(test_x), test_y), 4),
        "dev_macro_f1": round(_macro_f1(classes, model.predict_proba(dev_x), dev_y), 4),
        "train_seconds": round(seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "config": config,
    }
    history = getattr(model, "history", None)
    if history:
        result["epochs"] = history
        result["seconds_per_epoch"] = round(sum(h["seconds"] for h in history) / len(history), 1)
    if backend == "blend":
        result["blend_weight"] = model.weight
    if backend == "frozen":
        result["chosen_C"] = model.chosen_C
    return result


def competition(per_backend: dict[str, dict]) -> dict:
    """What the registry would serve: the best dev macro-F1 (ties: the earlier backend in BACKENDS)."""
    ranked = [b for b in BACKENDS if b in per_backend]
    winner = max(ranked, key=lambda b: (per_backend[b]["dev_macro_f1"], -ranked.index(b)))
    runner_up = max((b for b in ranked if b != winner), key=lambda b: per_backend[b]["dev_macro_f1"], default=None)
    best_test = max(ranked, key=lambda b: per_backend[b]["test_macro_f1"])
    best_dev_single = max(per_backend[b]["dev_macro_f1"] for b in ranked)
    return {
        "winner": winner,
        "winner_dev": per_backend[winner]["dev_macro_f1"],
        "runner_up": runner_up,
        "dev_margin": round(per_backend[winner]["dev_macro_f1"] - per_backend[runner_up]["dev_macro_f1"], 4)
        if runner_up else None,
        "served_test": per_backend[winner]["test_macro_f1"],
        "best_test_backend": best_test,
        "best_test": per_backend[best_test]["test_macro_f1"],
        "never_worse_on_dev": per_backend[winner]["dev_macro_f1"] >= best_dev_single,
        "backends": ranked,
    }


def _plot(results: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    tags = list(results["languages"])
    fig, ax = plt.subplots(figsize=(8, 3.6))
    width = 0.8 / len(BACKENDS)
    for i, backend in enumerate(BACKENDS):
        values = [results["languages"][t]["backends"].get(backend, {}).get("test_macro_f1", np.nan) for t in tags]
        ax.bar(np.arange(len(tags)) + i * width, values, width, label=backend)
    for j, tag in enumerate(tags):
        comp = results["languages"][tag].get("competition")
        if comp:
            ax.annotate("served: " + comp["winner"], (j + 1.5 * width, comp["served_test"] + 0.03), ha="center",
                        fontsize=7)
    ax.set_xticks(np.arange(len(tags)) + 1.5 * width, tags)
    ax.set_ylim(0, 1)
    ax.set_ylabel("test macro-F1 (full data)")
    ax.set_title(f"backends on {Path(results['backbone']).name}, per language (missing bar: not run)")
    ax.legend(fontsize=7, ncols=4, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def report(results: dict) -> None:
    rows, comp_rows = [], []
    for tag, entry in results["languages"].items():
        for backend in BACKENDS:
            r = entry["backends"].get(backend)
            if r:
                rows.append([tag, backend, r["test_macro_f1"], r["dev_macro_f1"], r["train_seconds"],
                             r.get("seconds_per_epoch"), len(r.get("epochs", [])) or None, r["peak_rss_mb"]])
        comp = entry.get("competition")
        if comp:
            comp_rows.append([tag, comp["winner"], comp["winner_dev"], comp["runner_up"], comp["dev_margin"],
                              comp["served_test"], f"{comp['best_test_backend']} {comp['best_test']}",
                              ",".join(comp["backends"])])
    print(table(["language", "backend", "test F1", "dev F1", "train s", "s/epoch", "epochs", "peak MB"], rows))
    print(table(["language", "served (best dev)", "dev F1", "runner-up", "dev margin", "test F1 served",
                 "best on test", "compared"], comp_rows))


def main(argv: list[str] | None = None) -> dict:
    from annotation.corpora import labels_of, load_sib200

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/data/sib200")
    parser.add_argument("--languages", default="hau_Latn,amh_Ethi,urd_Arab,eng_Latn")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--backbone", default=os.environ.get("LEARNER_BACKBONE", ""),
                        help="local folder (default: LEARNER_BACKBONE), e.g. var/backbones/gemma3-270m")
    parser.add_argument("--lora-config", default="{}", help='JSON overrides, e.g. \'{"max_length": 96}\'')
    parser.add_argument("--threads", type=int, default=0, help="torch threads per job (0: torch's default)")
    parser.add_argument("--resume", action="store_true", help="skip (language, backend) pairs already in --out")
    parser.add_argument("--out", default="benchmarks/results/backbones.json")
    parser.add_argument("--png", default="benchmarks/results/backbones.png")
    args = parser.parse_args(argv)
    if not args.backbone:
        raise SystemExit("name the backbone: --backbone or LEARNER_BACKBONE (python manage.py backbone install "
                         "gemma3-270m materialises Gemma 3 270M)")
    backbone = str(Path(args.backbone).resolve())
    tags = [t for t in args.languages.split(",") if t]
    backends = [b for b in args.backends.split(",") if b]
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown:
        raise SystemExit(f"unknown backend(s) {', '.join(unknown)}: choose from {', '.join(BACKENDS)}")
    results = {"backbone": backbone, "machine": machine(), "languages": {}}
    if args.resume and args.out and Path(args.out).exists():
        results = json.loads(Path(args.out).read_text(encoding="utf-8"))
    corpus = load_sib200(args.data, tags)
    context = multiprocessing.get_context("spawn")
    # n-grams for every language first, then LoRA on the first language, then the backbone-feature
    # learners and LoRA language by language: a run cut short keeps the most informative columns.
    groups = [(t, ["ngram"]) for t in tags if "ngram" in backends]
    feature_backends = [b for b in ("frozen", "blend") if b in backends]
    for i, tag in enumerate(tags):
        if i == 0 and "transformer" in backends:
            groups.append((tag, ["transformer"]))
        if feature_backends:
            groups.append((tag, feature_backends))
        if i > 0 and "transformer" in backends:
            groups.append((tag, ["transformer"]))
    for tag, group in groups:
        entry = results["languages"].setdefault(tag, {"backends": {}})
        todo = [b for b in group if b not in entry["backends"]]
        if not todo:
            continue
        split = {name: ([r.text for r in corpus[tag][name]], [r.label for r in corpus[tag][name]])
                 for name in ("train", "dev", "test")}
        job = {"backends": todo, "classes": labels_of(args.data, tag), "backbone": backbone,
               "lora_config": json.loads(args.lora_config), "threads": args.threads, **split}
        print(f"{time.strftime('%H:%M:%S')} {tag} {', '.join(todo)} ...", flush=True)
        with context.Pool(1) as pool:
            for result in pool.apply(train_group, (job,)):
                entry["backends"][result["backend"]] = result
                print(f"{time.strftime('%H:%M:%S')} {tag} {result['backend']}: {result}", flush=True)
        if len(entry["backends"]) > 1:
            entry["competition"] = competition(entry["backends"])
        write_json(args.out, results)
        if args.png:
            _plot(results, args.png)
    report(results)
    return results


if __name__ == "__main__":
    main()
