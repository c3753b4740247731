"""Learning curves of query strategies: ``python -m benchmarks.active_learning``.

For each language and strategy: start from ``--seed-size`` random rows of ``train.tsv``, train the
platform's n-gram learner (char 1-4 TF-IDF + logistic regression, :class:`NgramClassifier`), measure
macro-F1 on ``test.tsv``, let the strategy pick the next ``--step`` rows from the rest of the pool
(the pure functions of ``learner.strategies``, fed the model's probabilities and embeddings), and
repeat until the pool is exhausted or ``--max-labels``. No database: the platform's learner and
strategies are called directly, so a full run takes minutes. ``--learner transformer`` drives the
LoRA classifier instead (:class:`LoraClassifier` on ``LEARNER_BACKBONE``, retrained from the backbone
each round, early stopping on ``dev.tsv`` while curves are measured on test; ``bald`` then uses its
MC-dropout passes). On the default offline ``parity-tiny`` backbone that path shows the plumbing, not
a pretrained model's curve: point ``LEARNER_BACKBONE`` at a real multilingual encoder for that.

Per language × strategy the JSON holds ``curve`` ([[labels, mean macro-F1 over seeds], ...]), ``auc``
(mean macro-F1 over the first half of the pool), ``final_macro_f1``, ``full_data_macro_f1`` (the
same learner on the whole pool) and ``labels_to_95pct`` (labels needed to reach 95% of the full-data
macro-F1, null if never). Targets: the best strategy reaches 95% of full-data macro-F1 with at most
half the labels random needs, and its auc is at least 5% above random's.

    python -m benchmarks.active_learning --data ../shared/data/sib200 --languages hau_Latn,amh_Ethi \
        --strategies random,entropy,margin,least_confidence,diversity --seeds 3 --out al.json --png al.png

Besides the registry names, ``diversity_<entropy|margin|least_confidence>`` is k-means++ batch
diversity weighted by that uncertainty, and ``coldstart_<strategy>@<n>`` picks model-free k-means++
coverage until ``n`` labels, then ``<strategy>``. ``--learner-config '{"C": 1.0}'`` overrides the
learner's config (:class:`NgramConfig` or :class:`LoraTrainingConfig`) for random, every strategy and
the full-data reference alike;
``--eval-split dev`` measures the curves on ``dev.tsv`` so configs can be compared without test.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from benchmarks.common import table, write_json

DEFAULT_STRATEGIES = "random,stratified_random,entropy,margin,least_confidence,diversity"


def _f1(model, texts, labels) -> float:
    from sklearn.metrics import f1_score

    predicted = [model.classes[i] for i in model.predict_proba(texts).argmax(axis=1)]
    return float(f1_score(labels, predicted, average="macro", labels=sorted(set(labels)), zero_division=0))


def _pick(strategy: str, model, pool_texts: list[str], k: int, seed: int, round_no: int,
          n_labeled: int = 0) -> list[int]:
    import torch

    from learner.strategies import select

    generator = torch.Generator().manual_seed(seed * 1000 + round_no)
    if strategy == "random":
        return select("random", k=k, n=len(pool_texts), generator=generator).indices.tolist()
    if strategy.startswith("coldstart_") and "@" in strategy:
        # "coldstart_<then>@<n>": model-free k-means++ coverage until n labels, then strategy <then>.
        then, switch = strategy[len("coldstart_"):].rsplit("@", 1)
        if n_labeled < int(switch):
            return _pick("coldstart", model, pool_texts, k, seed, round_no)
        return _pick(then, model, pool_texts, k, seed, round_no)
    if strategy == "bald":
        return select("bald", k=k, mc_probs=model.mc_probs(pool_texts)).indices.tolist()
    probs = torch.from_numpy(model.predict_proba(pool_texts))
    if strategy.startswith("diversity_") and strategy[len("diversity_"):] in (
            "entropy", "margin", "least_confidence"):
        return select("diversity", k=k, probs=probs, embeddings=model.embed(pool_texts), generator=generator,
                      uncertainty=strategy[len("diversity_"):], candidate_factor=5).indices.tolist()
    if strategy in ("diversity", "ranked", "coldstart"):
        embeddings = model.embed(pool_texts)
        if strategy == "ranked":
            return select("diversity", k=k, probs=probs, embeddings=embeddings, method="ranked",
                          uncertainty="entropy").indices.tolist()
        if strategy == "coldstart":
            return select("coldstart", k=k, embeddings=embeddings, generator=generator).indices.tolist()
        return select("diversity", k=k, probs=probs, embeddings=embeddings, generator=generator,
                      uncertainty="entropy", candidate_factor=5).indices.tolist()
    return select(strategy, k=k, probs=probs, generator=generator).indices.tolist()


def run_curve(args: tuple) -> tuple:
    """One (language, strategy, seed) learning curve; runs in a worker process."""
    tag, strategy, seed, train, test, dev, classes, seed_size, step, max_labels, learner, config, progress = args
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(train))
    labeled = [int(i) for i in order[:seed_size]]
    unlabeled = [int(i) for i in order[seed_size:]]
    test_texts, test_labels = [t for t, _ in test], [y for _, y in test]
    curve = []
    round_no = 0
    while True:
        model = _fit(learner, classes, config, [train[i] for i in labeled], dev)
        curve.append([len(labeled), _f1(model, test_texts, test_labels)])
        if progress:  # one JSON line per point: a long run cut short keeps the rounds it finished
            with open(progress, "a", encoding="utf-8") as out:
                out.write(json.dumps({"language": tag, "strategy": strategy, "seed": seed, "labels": len(labeled),
                                      "macro_f1": round(curve[-1][1], 4), "time": time.strftime("%H:%M:%S")}) + "\n")
        if not unlabeled or len(labeled) >= max_labels:
            break
        k = min(step, len(unlabeled), max_labels - len(labeled))
        picks = _pick(strategy, model, [train[i][0] for i in unlabeled], k, seed, round_no, len(labeled))
        chosen = {unlabeled[i] for i in picks}
        labeled.extend(unlabeled[i] for i in picks)
        unlabeled = [i for i in unlabeled if i not in chosen]
        round_no += 1
    return tag, strategy, seed, curve


def _one_thread() -> None:
    """Worker initializer: one curve per process, so BLAS and torch each get one thread (extra threads
    only fight the other workers on a busy machine)."""
    import torch
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
    torch.set_num_threads(1)


def _fit(learner: str, classes: list[str], config: dict, rows: list[tuple[str, str]],
         dev: tuple[list[str], list[str]] | None):
    """A fresh platform classifier trained on ``rows``; the LoRA one early-stops on ``dev`` (texts, labels)."""
    from learner.backends import fit_classifier, make_classifier

    model = make_classifier(learner, classes, config)
    fit_classifier(model, [t for t, _ in rows], [y for _, y in rows], dev=dev)
    return model


def full_data_f1(args: tuple) -> tuple:
    tag, train, test, dev, classes, learner, config = args
    model = _fit(learner, classes, config, train, dev)
    return tag, _f1(model, [t for t, _ in test], [y for _, y in test])


def summarise(curves: list[list], full: float, pool_size: int) -> dict:
    labels = [n for n, _ in curves[0]]
    mean = [float(np.mean([c[i][1] for c in curves])) for i in range(len(labels))]
    half = [f for n, f in zip(labels, mean, strict=True) if n <= pool_size / 2] or mean[:1]
    reach = None if full is None else next((n for n, f in zip(labels, mean, strict=True) if f >= 0.95 * full), None)
    return {
        "curve": [[n, round(f, 4)] for n, f in zip(labels, mean, strict=True)],
        "auc": round(float(np.mean(half)), 4), "final_macro_f1": round(mean[-1], 4),
        "full_data_macro_f1": None if full is None else round(full, 4), "labels_to_95pct": reach,
        "seeds": len(curves), "auc_per_seed": [
            round(float(np.mean([f for n, f in c if n <= pool_size / 2] or [c[0][1]])), 4) for c in curves],
    }


def main(argv: list[str] | None = None) -> dict:
    from annotation.corpora import labels_of, load_sib200

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/data/sib200")
    parser.add_argument("--languages", default="hau_Latn,amh_Ethi")
    parser.add_argument("--strategies", default=DEFAULT_STRATEGIES)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--seed-size", type=int, default=21)
    parser.add_argument("--step", type=int, default=10)
    parser.add_argument("--max-labels", type=int, default=None, help="stop here (default: the whole pool)")
    parser.add_argument("--learner", choices=("ngram", "transformer"), default="ngram",
                        help="the platform learner the strategies drive (transformer: LoRA on LEARNER_BACKBONE)")
    parser.add_argument("--learner-config", default="{}",
                        help='JSON overrides of the learner config, e.g. \'{"C": 1.0}\' or \'{"epochs": 6}\'; one '
                             'config for random, every strategy and the full-data reference')
    parser.add_argument("--eval-split", default="test", choices=("test", "dev"),
                        help="split the curves are measured on (dev: for choosing configs without touching test)")
    parser.add_argument("--full-data-f1", default=None,
                        help="JSON {language: macro-F1} of the same learner on the whole pool, measured elsewhere "
                             "(e.g. by benchmarks.backbones): skips training the full-data reference here")
    parser.add_argument("--progress", default=None, help="append each curve point as a JSON line to this file")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", default=None, help="JSON file")
    parser.add_argument("--png", default=None, help="learning-curve plot")
    args = parser.parse_args(argv)
    config = json.loads(args.learner_config)
    if args.learner == "transformer":
        from benchmarks.common import setup_django

        setup_django()  # LEARNER_BACKBONE and the artifact root (where parity-tiny is built) are settings
    tags = [t for t in args.languages.split(",") if t]
    strategies = [s for s in args.strategies.split(",") if s]
    if "bald" in strategies and args.learner != "transformer":
        raise SystemExit("bald needs MC-dropout passes: use it with --learner transformer")
    corpus = load_sib200(args.data, tags)
    started = time.perf_counter()
    jobs, fulls, pools = [], [], {}
    for tag in tags:
        classes = labels_of(args.data, tag)
        train = [(r.text, r.label) for r in corpus[tag]["train"]]
        test = [(r.text, r.label) for r in corpus[tag][args.eval_split]]
        # Early stopping (LoRA) watches dev.tsv; never the split the curves are measured on.
        dev_rows = corpus[tag].get("dev", []) if args.eval_split == "test" else []
        dev = ([r.text for r in dev_rows], [r.label for r in dev_rows])
        pools[tag] = len(train)
        max_labels = min(args.max_labels or len(train), len(train))
        fulls.append((tag, train, test, dev, classes, args.learner, config))
        jobs.extend((tag, s, seed, train, test, dev, classes, args.seed_size, args.step, max_labels, args.learner,
                     config, args.progress) for s in strategies for seed in range(args.seeds))
    given = json.loads(args.full_data_f1) if args.full_data_f1 else None
    with ProcessPoolExecutor(max_workers=max(1, args.jobs), initializer=_one_thread) as executor:
        # submitted together: the full-data reference and the curves share the workers
        full_futures = [] if given else [executor.submit(full_data_f1, f) for f in fulls]
        curve_futures = [executor.submit(run_curve, j) for j in jobs]
        full = given or dict(f.result() for f in full_futures)
        done = [f.result() for f in curve_futures]
    results: dict = {tag: {} for tag in tags}
    for tag in tags:
        for strategy in strategies:
            curves = [c for t, s, _, c in done if t == tag and s == strategy]
            results[tag][strategy] = summarise(curves, full[tag], pools[tag])
    rows = []
    for tag in tags:
        random_row = results[tag].get("random")
        for strategy, r in results[tag].items():
            vs_random = None
            if random_row and strategy != "random":
                vs_random = f"{(r['auc'] / random_row['auc'] - 1) * 100:+.1f}%"
            rows.append([tag, strategy, r["auc"], vs_random, r["final_macro_f1"], r["full_data_macro_f1"],
                         r["labels_to_95pct"]])
    print(f"{args.seeds} seeds, {args.seed_size} seed rows, +{args.step} per round, "
          f"full-data reference {'given' if given else 'trained here'}, "
          f"learner {args.learner} {config or '(defaults)'}, measured on {args.eval_split}, "
          f"{time.perf_counter() - started:.0f}s")
    print(table(["language", "strategy", "auc", "auc vs random", "final F1", "full-data F1", "labels to 95%"], rows))
    for tag in tags:
        if "random" not in results[tag] or len(results[tag]) < 2:
            continue
        best = max((s for s in results[tag] if s != "random"), key=lambda s: results[tag][s]["auc"])
        b, r = results[tag][best], results[tag]["random"]
        labels_ok = b["labels_to_95pct"] is not None and (
            r["labels_to_95pct"] is None or b["labels_to_95pct"] <= r["labels_to_95pct"] / 2)
        print(f"{tag}: best {best}: 95% after {b['labels_to_95pct']} labels vs random {r['labels_to_95pct']} "
              f"({'meets' if labels_ok else 'misses'} <= half); auc {b['auc']:.3f} vs {r['auc']:.3f} "
              f"({'meets' if b['auc'] >= 1.05 * r['auc'] else 'misses'} >= +5%)")
    write_json(args.out, results)
    if args.png:
        _plot(results, args.png)
    return results


def _plot(results: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(4, len(results))
    rows = -(-len(results) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5 * columns, 4 * rows), squeeze=False)
    for ax in axes.flat[len(results):]:
        ax.set_visible(False)
    for ax, (tag, by_strategy) in zip(axes.flat, results.items(), strict=False):
        for strategy, r in by_strategy.items():
            xs, ys = zip(*r["curve"], strict=True)
            ax.plot(xs, ys, label=strategy, linewidth=2 if strategy == "random" else 1.2)
        full = next(iter(by_strategy.values()))["full_data_macro_f1"]
        if full is not None:
            ax.axhline(0.95 * full, color="grey", linestyle="--", linewidth=0.8, label="95% of full data")
        ax.set_title(tag)
        ax.set_xlabel("labels")
        ax.set_ylabel("test macro-F1")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
