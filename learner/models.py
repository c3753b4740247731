"""The model registry (one champion per project × language) and the runs that feed it."""
from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Backend(models.TextChoices):
    NGRAM = "ngram", _("character n-gram + logistic regression")
    FROZEN = "frozen", _("frozen backbone features + logistic regression")
    BLEND = "blend", _("blend of n-gram and frozen-feature probabilities")
    TRANSFORMER = "transformer", _("transformer + LoRA adapter")


class ModelVersion(models.Model):
    class Status(models.TextChoices):
        CANDIDATE = "candidate", _("Candidate")
        CHAMPION = "champion", _("Champion")
        RETIRED = "retired", _("Retired")

    project = models.ForeignKey(
        "annotation.Project", verbose_name=_("project"), on_delete=models.CASCADE, related_name="model_versions",
    )
    language = models.ForeignKey(
        "evaluators.Language", verbose_name=_("language"), on_delete=models.PROTECT, related_name="model_versions",
    )
    backend = models.CharField(verbose_name=_("backend"), max_length=16, choices=Backend.choices)
    backbone = models.CharField(verbose_name=_("backbone"), max_length=300, blank=True)
    adapter_path = models.CharField(
        verbose_name=_("adapter path"), max_length=500, help_text=_("Location in the artifact storage"),
    )
    adapter_bytes = models.PositiveBigIntegerField(verbose_name=_("adapter size (bytes)"), default=0)
    metrics = models.JSONField(verbose_name=_("metrics"), default=dict)
    macro_f1 = models.FloatField(verbose_name=_("macro-F1"), null=True)
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.CANDIDATE)
    status_reason = models.TextField(verbose_name=_("status reason"), blank=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.SET_NULL, related_name="children",
    )
    training_run = models.ForeignKey(
        "learner.TrainingRun", verbose_name=_("training run"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="model_versions",
    )
    n_labels = models.PositiveIntegerField(verbose_name=_("number of labels"), default=0)
    label_snapshot_hash = models.CharField(verbose_name=_("label snapshot hash"), max_length=64, blank=True)
    guideline_version = models.CharField(verbose_name=_("guideline version"), max_length=16, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "language"], condition=Q(status="champion"), name="one_champion_per_language"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.language.tag} v{self.pk} ({self.status})"


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class TrainingRun(models.Model):
    project = models.ForeignKey(
        "annotation.Project", verbose_name=_("project"), on_delete=models.CASCADE, related_name="training_runs",
    )
    languages = models.ManyToManyField("evaluators.Language", verbose_name=_("languages"), related_name="training_runs")
    backend = models.CharField(verbose_name=_("backend"), max_length=16, choices=Backend.choices, default=Backend.NGRAM)
    config = models.JSONField(verbose_name=_("config"), default=dict, blank=True)
    status = models.CharField(
        verbose_name=_("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True,
    )
    progress = models.FloatField(verbose_name=_("progress"), default=0.0)
    message = models.TextField(verbose_name=_("message"), blank=True)
    trigger = models.CharField(verbose_name=_("trigger"), max_length=16, default="manual")
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(verbose_name=_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        verbose_name=_("heartbeat at"), null=True, blank=True,
        help_text=_("Last sign of life of the worker running it; a stale one may be taken over"),
    )
    finished_at = models.DateTimeField(verbose_name=_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("training run")
        verbose_name_plural = _("training runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__gte=0) & Q(progress__lte=1), name="training_progress_range")
        ]

    def __str__(self) -> str:
        return f"training run {self.pk} ({self.backend}, {self.status})"


class SamplingRun(models.Model):
    project = models.ForeignKey(
        "annotation.Project", verbose_name=_("project"), on_delete=models.CASCADE, related_name="sampling_runs",
    )
    strategy = models.CharField(verbose_name=_("strategy"), max_length=32, default="entropy")
    backend = models.CharField(verbose_name=_("backend"), max_length=16, choices=Backend.choices, default=Backend.NGRAM)
    budget = models.PositiveIntegerField(verbose_name=_("budget"))
    allocation_mode = models.CharField(
        verbose_name=_("allocation mode"), max_length=16, default="parity", help_text=_("parity or uniform"),
    )
    allocation = models.JSONField(
        verbose_name=_("allocation"), default=dict, blank=True, help_text=_("Items per language and why"),
    )
    status = models.CharField(
        verbose_name=_("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED,
    )
    progress = models.FloatField(verbose_name=_("progress"), default=0.0)
    message = models.TextField(verbose_name=_("message"), blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(verbose_name=_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sampling run")
        verbose_name_plural = _("sampling runs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"sampling run {self.pk} ({self.strategy}, {self.allocation_mode}, budget {self.budget})"


class SampledItem(models.Model):
    run = models.ForeignKey(SamplingRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="picks")
    item = models.ForeignKey(
        "annotation.Item", verbose_name=_("item"), on_delete=models.CASCADE, related_name="samplings",
    )
    score = models.FloatField(verbose_name=_("score"))
    rank = models.PositiveIntegerField(verbose_name=_("rank"))

    class Meta:
        verbose_name = _("sampled item")
        verbose_name_plural = _("sampled items")
        ordering = ["run", "rank"]
        constraints = [models.UniqueConstraint(fields=["run", "item"], name="sampled_item_unique")]

    def __str__(self) -> str:
        return f"#{self.rank} item {self.item_id} ({self.score:.3f})"


class ScoringShard(models.Model):
    """One id range of one language's pool, scored by one worker; the last shard to finish merges them."""

    run = models.ForeignKey(SamplingRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="shards")
    language = models.ForeignKey(
        "evaluators.Language", verbose_name=_("language"), on_delete=models.PROTECT, related_name="+",
    )
    index = models.PositiveIntegerField(verbose_name=_("index"))
    id_from = models.BigIntegerField(
        verbose_name=_("from item id"), null=True, blank=True, help_text=_("First item id (inclusive); empty: open"),
    )
    id_to = models.BigIntegerField(
        verbose_name=_("to item id"), null=True, blank=True, help_text=_("Last item id (exclusive); empty: open"),
    )
    status = models.CharField(
        verbose_name=_("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED,
    )
    result = models.JSONField(verbose_name=_("result"), default=dict, blank=True)
    n_scored = models.PositiveIntegerField(verbose_name=_("items scored"), default=0)
    finished_at = models.DateTimeField(verbose_name=_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("scoring shard")
        verbose_name_plural = _("scoring shards")
        ordering = ["run", "language", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "language", "index"], name="scoring_shard_unique")]

    def __str__(self) -> str:
        return f"shard {self.index} of run {self.run_id} ({self.status})"
