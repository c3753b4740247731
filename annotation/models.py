"""Projects, items, assignments, annotations, approved labels and agreement snapshots.

The assignment engine's guarantees are backed here: one assignment per (item, evaluator), one
annotation per assignment, one idempotency key per evaluator, one approved label per item.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Project(models.Model):
    class SchemaType(models.TextChoices):
        NOMINAL = "nominal", "single choice"
        ORDINAL = "ordinal", "rating scale"

    class Aggregation(models.TextChoices):
        MAJORITY = "majority", "majority vote"
        DAWID_SKENE = "dawid_skene", "Dawid-Skene"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    description = models.TextField(blank=True)
    schema_type = models.CharField(max_length=16, choices=SchemaType.choices, default=SchemaType.NOMINAL)
    overlap = models.PositiveSmallIntegerField(default=3, help_text="Distinct evaluators per item (k)")
    aggregation = models.CharField(max_length=16, choices=Aggregation.choices, default=Aggregation.MAJORITY)
    class AutoApprove(models.TextChoices):
        MAJORITY = "majority", "any strict majority"
        UNANIMOUS = "unanimous", "unanimous only"
        NEVER = "never", "always reviewed"

    auto_approve = models.CharField(max_length=16, choices=AutoApprove.choices, default=AutoApprove.MAJORITY)
    lease_minutes = models.PositiveIntegerField(default=30)
    languages = models.ManyToManyField("evaluators.Language", related_name="projects", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(overlap__gte=1), name="project_overlap_positive")]

    def __str__(self) -> str:
        return self.name

    @property
    def agreement_level(self) -> str:
        return "ordinal" if self.schema_type == self.SchemaType.ORDINAL else "nominal"


class Label(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="labels")
    value = models.CharField(max_length=100)
    display = models.CharField(max_length=200, blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["project", "value"], name="label_unique_per_project")]

    def __str__(self) -> str:
        return self.display or self.value


class Item(models.Model):
    class Source(models.TextChoices):
        IMPORT = "import"
        REPORT = "report"
        DEMO = "demo"
        SIMULATION = "simulation"

    class Split(models.TextChoices):
        POOL = "pool", "annotation pool"
        HELDOUT = "heldout", "held-out evaluation"

    class Status(models.TextChoices):
        OPEN = "open"
        ADJUDICATION = "adjudication"
        APPROVED = "approved"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="items")
    language = models.ForeignKey("evaluators.Language", on_delete=models.PROTECT, related_name="items")
    text = models.TextField()
    external_id = models.CharField(max_length=200, blank=True)
    content_hash = models.CharField(max_length=64)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.IMPORT)
    split = models.CharField(max_length=8, choices=Split.choices, default=Split.POOL)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    priority = models.FloatField(default=0.0, help_text="Higher is served first (learner score, reports)")
    reference_label = models.CharField(
        max_length=100, blank=True, help_text="Known answer: gold control items and held-out evaluation only"
    )
    is_control = models.BooleanField(default=False, help_text="Gold control item mixed into regular work")
    prelabel = models.CharField(max_length=100, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    annotation_count = models.PositiveSmallIntegerField(default=0)
    active_assignments = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "external_id"], condition=~Q(external_id=""), name="item_unique_external_id"
            ),
            models.UniqueConstraint(fields=["project", "content_hash", "language"], name="item_unique_content"),
        ]
        indexes = [
            # The next-item query: open pool items of a project × language, best priority first.
            models.Index(
                fields=["project", "language", "split", "status", "-priority", "id"], name="item_queue_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} [{self.language_id}] {self.text[:40]}"


class Assignment(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        SUBMITTED = "submitted"
        SKIPPED = "skipped"
        EXPIRED = "expired"

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="assignments")
    evaluator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    is_control = models.BooleanField(default=False)
    leased_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    skip_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "evaluator"], name="assignment_once_per_evaluator")]
        indexes = [
            models.Index(fields=["evaluator", "status"], name="assignment_evaluator_idx"),
            models.Index(fields=["status", "expires_at"], name="assignment_lease_idx"),
        ]


class Annotation(models.Model):
    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="annotation")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="annotations")
    evaluator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annotations")
    label = models.CharField(max_length=100)
    guideline_version = models.ForeignKey(
        "evaluators.GuidelineVersion", on_delete=models.PROTECT, related_name="annotations"
    )
    idempotency_key = models.CharField(max_length=64)
    time_spent_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "evaluator"], name="annotation_once_per_evaluator"),
            models.UniqueConstraint(fields=["evaluator", "idempotency_key"], name="annotation_idempotency_key"),
        ]


class ApprovedLabel(models.Model):
    """The label training may use. Only rows here ever reach a learner."""

    class Method(models.TextChoices):
        MAJORITY = "majority"
        DAWID_SKENE = "dawid_skene"
        REVIEW = "review"

    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="approved_label")
    label = models.CharField(max_length=100)
    method = models.CharField(max_length=16, choices=Method.choices)
    confidence = models.FloatField(default=1.0)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    approved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["approved_at"], name="approved_label_time_idx")]


class AgreementSnapshot(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="agreement_snapshots")
    language = models.ForeignKey(
        "evaluators.Language", null=True, blank=True, on_delete=models.CASCADE,
        help_text="Empty for the whole project",
    )
    level = models.CharField(max_length=16, default="nominal")
    krippendorff_alpha = models.FloatField(null=True)
    fleiss_kappa = models.FloatField(null=True)
    cohen_kappa_mean = models.FloatField(null=True)
    percent_agreement = models.FloatField(null=True)
    n_items = models.PositiveIntegerField(default=0)
    n_annotators = models.PositiveIntegerField(default=0)
    n_ratings = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["project", "language", "created_at"], name="agreement_series_idx")]
