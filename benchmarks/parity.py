"""Parity vs uniform budget allocation: ``python -m benchmarks.parity``.

Runs the headless loop (:class:`learner.simulation.Simulation`: sampling, simulated evaluators through
the real assignment and aggregation services, training with the n-gram learner) twice on the same
data, seed and budget, once with ``allocation="parity"`` and once with ``"uniform"``, and reports
after each round every language's champion macro-F1 on its held-out set (``test.tsv``) and the gap
between the best and the worst language. Uses a throw-away SQLite database and artifact folder.

    python -m benchmarks.parity --data ../shared/data/sib200 --languages hau_Latn,amh_Ethi,urd_Arab,wol_Latn \
        --rounds 6 --budget 60 --out parity.json
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from benchmarks.common import table, write_json


def setup(tmp: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'parity-bench.sqlite3'}"
    os.environ["ARTIFACT_ROOT"] = str(tmp / "artifacts")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parity.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def simulate(corpus, labels, allocation: str, args) -> list[dict]:
    from learner.models import ModelVersion
    from learner.simulation import Simulation, SimulationConfig

    config = SimulationConfig(rounds=args.rounds, budget=args.budget, allocation=allocation, seed=args.seed,
                              strategy=args.strategy, annotator_accuracy=args.annotator_accuracy)
    simulation = Simulation(corpus, labels, config)
    rounds = []

    def record(result):
        champions = {v.language.tag: v.macro_f1 for v in ModelVersion.objects.filter(
            project=simulation.project, status=ModelVersion.Status.CHAMPION).select_related("language")}
        f1 = {tag: champions.get(tag) or 0.0 for tag in corpus}
        rounds.append({"round": result.round, "labels": result.labels, "macro_f1": f1,
                       "gap": max(f1.values()) - min(f1.values()), "worst": min(f1.values()),
                       "mean": sum(f1.values()) / len(f1)})

    simulation.run(on_round=record)
    return rounds


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/data/sib200")
    parser.add_argument("--languages", default="hau_Latn,amh_Ethi,urd_Arab,wol_Latn")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--strategy", default="entropy")
    parser.add_argument("--annotator-accuracy", type=float, default=0.85)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="parity-bench-"))
    setup(tmp)
    from annotation.corpora import SIB_LABELS, labels_of, load_sib200, synthetic_corpus

    tags = args.languages.split(",")
    if Path(args.data).is_dir():
        corpus, labels = load_sib200(args.data, tags), labels_of(args.data, tags[0])
    else:
        corpus, labels = synthetic_corpus(tags, seed=args.seed), SIB_LABELS
    results = {}
    for allocation in ("parity", "uniform"):
        started = time.perf_counter()
        results[allocation] = simulate(corpus, labels, allocation, args)
        print(f"{allocation}: {time.perf_counter() - started:.0f}s")
    rows = []
    for p, u in zip(results["parity"], results["uniform"], strict=True):
        rows.append([p["round"], p["labels"], p["gap"], u["gap"], p["worst"], u["worst"], p["mean"], u["mean"]])
    print(f"{', '.join(tags)}; budget {args.budget}/round; champion macro-F1 on held-out data")
    print(table(["round", "labels", "gap parity", "gap uniform", "worst parity", "worst uniform", "mean parity",
                 "mean uniform"], rows))
    last_p, last_u = results["parity"][-1], results["uniform"][-1]
    print("final per language (parity / uniform): " + ", ".join(
        f"{t} {last_p['macro_f1'][t]:.3f}/{last_u['macro_f1'][t]:.3f}" for t in tags))
    out = {"languages": tags, "rounds": args.rounds, "budget": args.budget, "strategy": args.strategy, **results}
    write_json(args.out, out)
    return out


if __name__ == "__main__":
    main()
