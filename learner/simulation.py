"""The whole loop, headless: sample → assign to simulated evaluators → aggregate → agreement → train.

Simulated evaluators answer through the real assignment and submission services, with a given
accuracy against the corpus' true labels, so every round exercises what real evaluators would.
"""
from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count

from annotation.corpora import Row
from annotation.models import ApprovedLabel, Item
from annotation.services import (
    adjudication_resolve,
    aggregation_batch_run,
    agreement_snapshot_record,
    annotation_submit,
    assignment_next,
)
from annotation.workspace import Workspace, workspace_create
from learner.models import RunStatus, TrainingRun
from learner.services import sampling_run_execute, training_run_create


@dataclass
class SimulationConfig:
    rounds: int
    budget: int
    annotator_accuracy: float = 0.85
    learner: str = "ngram"
    strategy: str = "entropy"
    allocation: str = "parity"
    seed: int = 0
    via_broker: bool = False
    broker_timeout: float = 600.0
    learner_config: dict = field(default_factory=dict)


@dataclass
class RoundResult:
    round: int
    labels: int
    alpha: float | None
    macro_f1: dict[str, float | None]

    def as_dict(self) -> dict:
        return {"round": self.round, "labels": self.labels, "alpha": self.alpha, "macro_f1": self.macro_f1}


class Simulation:
    def __init__(self, corpus: dict[str, dict[str, list[Row]]], labels: list[str], config: SimulationConfig) -> None:
        if not 0.0 <= config.annotator_accuracy <= 1.0:
            raise ValueError("annotator accuracy must be between 0 and 1")
        if config.rounds < 1 or config.budget < 1:
            raise ValueError("rounds and budget must be positive")
        self.config, self.labels = config, labels
        suffix = uuid.uuid4().hex[:8]
        self.workspace: Workspace = workspace_create(
            slug=f"sim-{suffix}", name=f"Simulation {suffix}", corpus=corpus, labels=labels, control_rate=0.0,
            item_source=Item.Source.SIMULATION, username_prefix=f"sim{suffix}-",
        )
        self.reviewer = get_user_model().objects.create_user(username=f"sim{suffix}-reviewer")
        self.rng = random.Random(config.seed)

    @property
    def project(self):
        return self.workspace.project

    def _answer(self, item_id: int) -> str:
        truth = self.workspace.truth[item_id]
        if self.rng.random() < self.config.annotator_accuracy:
            return truth
        return self.rng.choice([label for label in self.labels if label != truth])

    def _annotate(self, picked: dict[str, int]) -> None:
        for tag, count in picked.items():
            for evaluator in self.workspace.evaluators[tag]:
                for _ in range(count):
                    assignment = assignment_next(evaluator=evaluator, project=self.project)
                    if assignment is None:
                        break
                    annotation_submit(
                        evaluator=evaluator, assignment_id=assignment.pk, label=self._answer(assignment.item_id),
                        idempotency_key=f"sim-{assignment.pk}", time_spent_ms=self.rng.randint(2000, 20000),
                    )
        # Submissions hand aggregation to a background job; the simulation decides at once, as that job
        # would (its agreement snapshots are taken once per round below).
        aggregation_batch_run(project=self.project)
        for item in Item.objects.filter(project=self.project, status=Item.Status.ADJUDICATION):
            adjudication_resolve(item=item, label=self._answer(item.pk), reviewer=self.reviewer)

    def _train(self) -> TrainingRun:
        from learner.tasks import train_model

        run = training_run_create(
            project=self.project, backend=self.config.learner, trigger="simulation", dispatch=False,
            config={self.config.learner: self.config.learner_config} if self.config.learner_config else {},
        )
        if not self.config.via_broker:
            train_model.apply(args=[run.pk], throw=True)
        else:
            train_model.apply_async(args=[run.pk])
            deadline = time.monotonic() + self.config.broker_timeout
            while time.monotonic() < deadline:
                run.refresh_from_db()
                if run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
                    break
                time.sleep(0.5)
            else:
                raise TimeoutError(f"training run {run.pk} did not finish within {self.config.broker_timeout}s")
        run.refresh_from_db()
        if run.status != RunStatus.SUCCEEDED:
            raise RuntimeError(f"training run {run.pk} failed: {run.message}")
        return run

    def run_round(self, number: int) -> RoundResult:
        sampling = sampling_run_execute(
            project=self.project, budget=self.config.budget, strategy=self.config.strategy,
            seed=self.config.seed + number, allocation=self.config.allocation,
        )
        picked = {
            row["item__language__code"] + "_" + row["item__language__script"]: row["n"]
            for row in sampling.picks.values("item__language__code", "item__language__script").annotate(n=Count("id"))
        }
        self._annotate(picked)
        for language in self.workspace.languages:
            agreement_snapshot_record(project=self.project, language=language)
        overall = agreement_snapshot_record(project=self.project)
        run = self._train()
        scores = {version.language.tag: version.macro_f1 for version in run.model_versions.select_related("language")}
        return RoundResult(
            round=number,
            labels=ApprovedLabel.objects.filter(item__project=self.project).count(),
            alpha=None if overall.krippendorff_alpha is None else round(overall.krippendorff_alpha, 4),
            macro_f1={language.tag: (None if scores.get(language.tag) is None else round(scores[language.tag], 4))
                      for language in self.workspace.languages},
        )

    def run(self, on_round=None) -> list[RoundResult]:
        results = []
        for number in range(1, self.config.rounds + 1):
            result = self.run_round(number)
            results.append(result)
            if on_round:
                on_round(result)
        return results
