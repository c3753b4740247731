"""Run the whole active-learning loop with simulated evaluators and print one row per round."""
from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotation.corpora import CorpusError, load_corpus
from learner.allocation import MODES
from learner.backends import BackendError
from learner.scoring import STRATEGIES
from learner.simulation import Simulation, SimulationConfig


class Command(BaseCommand):
    help = "Simulate N rounds of sampling, annotation by k simulated evaluators, aggregation and training."

    def add_arguments(self, parser):
        parser.add_argument("--rounds", type=int, required=True)
        parser.add_argument("--budget", type=int, required=True, help="items picked per round, all languages")
        parser.add_argument("--data", help="folder in the layout of shared/data/sib200 (default: generated data)")
        parser.add_argument("--languages", default="hau_Latn,amh_Ethi,urd_Arab")
        parser.add_argument("--annotator-accuracy", type=float, default=0.85)
        parser.add_argument("--learner", choices=["ngram", "transformer"], default="ngram")
        parser.add_argument("--strategy", choices=list(STRATEGIES), default="entropy")
        parser.add_argument("--allocation", choices=list(MODES), default="parity",
                            help="split each round's budget by the macro-F1 gap (parity) or evenly (uniform)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--via-broker", action="store_true",
                            help="send training runs through the celery broker and wait for a worker")
        parser.add_argument("--epochs", type=int, help="transformer learner: training epochs")
        parser.add_argument("--out", help="write the rounds as JSON to this file")

    def handle(self, *args, **options):
        tags = [t.strip() for t in options["languages"].split(",") if t.strip()]
        try:
            corpus, labels = load_corpus(options["data"], tags, seed=options["seed"])
        except CorpusError as exc:
            raise CommandError(str(exc)) from exc
        learner_config = {"epochs": options["epochs"]} if options["epochs"] else {}
        config = SimulationConfig(
            rounds=options["rounds"], budget=options["budget"], annotator_accuracy=options["annotator_accuracy"],
            learner=options["learner"], strategy=options["strategy"], seed=options["seed"],
            allocation=options["allocation"],
            via_broker=options["via_broker"], learner_config=learner_config,
        )
        try:
            simulation = Simulation(corpus, labels, config)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        header = f"{'round':>5} {'labels':>7} {'alpha':>7}  " + "  ".join(f"{tag:>9}" for tag in tags)
        self.stdout.write(f"project {simulation.project.slug}, learner {config.learner}; macro-F1 per language")
        self.stdout.write(header)

        def show(result):
            cells = "  ".join(
                f"{'-' if result.macro_f1.get(t) is None else format(result.macro_f1[t], '.3f'):>9}" for t in tags
            )
            alpha = "-" if result.alpha is None else f"{result.alpha:.3f}"
            self.stdout.write(f"{result.round:>5} {result.labels:>7} {alpha:>7}  {cells}")

        try:
            results = simulation.run(on_round=show)
        except BackendError as exc:
            raise CommandError(str(exc)) from exc
        if options["out"]:
            Path(options["out"]).write_text(json.dumps({"rounds": [r.as_dict() for r in results]}, indent=2))
            self.stdout.write(f"wrote {options['out']}")
