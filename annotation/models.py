"""Projects, items, assignments, annotations, approved labels and agreement snapshots.

The assignment engine's guarantees are backed here: one assignment per (item, evaluator), one
annotation per assignment, one idempotency key per evaluator, one approved label per item.
"""
from __future__ import annotations

import random
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def report_reference() -> str:
    """An unguessable public reference for an end-user report (~128 bits)."""
    return secrets.token_urlsafe(16)


class Project(models.Model):
    class SchemaType(models.TextChoices):
        NOMINAL = "nominal", _("single choice")
        ORDINAL = "ordinal", _("rating scale")
        INTERVAL = "interval", _("numeric scale (equal steps)")

    class Aggregation(models.TextChoices):
        MAJORITY = "majority", _("majority vote")
        DAWID_SKENE = "dawid_skene", _("Dawid-Skene")

    name = models.CharField(verbose_name=_("name"), max_length=200)
    slug = models.SlugField(verbose_name=_("slug"), max_length=64, unique=True)
    description = models.TextField(verbose_name=_("description"), blank=True)
    schema_type = models.CharField(
        verbose_name=_("schema type"), max_length=16, choices=SchemaType.choices, default=SchemaType.NOMINAL,
    )
    overlap = models.PositiveSmallIntegerField(
        verbose_name=_("overlap"), default=3, help_text=_("Distinct evaluators per item (k)"),
    )
    aggregation = models.CharField(
        verbose_name=_("aggregation"), max_length=16, choices=Aggregation.choices, default=Aggregation.MAJORITY,
    )
    class AutoApprove(models.TextChoices):
        MAJORITY = "majority", _("any strict majority")
        UNANIMOUS = "unanimous", _("unanimous only")
        NEVER = "never", _("always reviewed")

    auto_approve = models.CharField(
        verbose_name=_("auto-approve"), max_length=16, choices=AutoApprove.choices, default=AutoApprove.MAJORITY,
    )
    auto_approve_accurate_only = models.BooleanField(
        verbose_name=_("auto-approve accurate only"), default=False,
        help_text=_("Auto-approve only when every evaluator of the item is at or above the pool's accuracy floor "
        "on control items"),
    )
    min_confidence = models.FloatField(
        verbose_name=_("minimum confidence"), default=0.0,
        help_text=_("Aggregated labels below this confidence go to adjudication (0 = never)"),
    )
    lease_minutes = models.PositiveIntegerField(verbose_name=_("lease (minutes)"), default=30)
    show_suggestions = models.BooleanField(
        verbose_name=_("show suggestions"), default=False,
        help_text=_("Show evaluators and reviewers the champion model's top label and its confidence. Off by default: "
        "a suggestion anchors judgements. What was shown is recorded on each annotation"),
    )
    aggregate_when_short = models.BooleanField(
        verbose_name=_("aggregate when short"), default=False,
        help_text=_("When a language has fewer active qualified evaluators than its overlap k, aggregate each item "
        "with the labels it can get (at least 'fewest labels when short') instead of waiting for k"),
    )
    short_min_labels = models.PositiveSmallIntegerField(
        verbose_name=_("fewest labels when short"), default=2,
        help_text=_("Fewest labels an item is aggregated with when a language is short of evaluators: 2 or more "
        "(majority of those), or 1, which sends every such item to a reviewer"),
    )
    languages = models.ManyToManyField(
        "evaluators.Language", verbose_name=_("languages"), related_name="projects", blank=True,
    )
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("managers"), blank=True, related_name="managed_projects",
        help_text=_("Project managers (with the 'project managers' group): import, export, train, promote, publish"),
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        constraints = [
            models.CheckConstraint(condition=Q(overlap__gte=1), name="project_overlap_positive"),
            models.CheckConstraint(condition=Q(short_min_labels__gte=1), name="project_short_min_labels_positive"),
            models.CheckConstraint(
                condition=Q(min_confidence__gte=0) & Q(min_confidence__lte=1), name="project_min_confidence_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def agreement_level(self) -> str:
        """Krippendorff's alpha metric the schema calls for: nominal, ordinal or interval."""
        return str(self.schema_type)


class Label(models.Model):
    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="labels")
    value = models.CharField(verbose_name=_("value"), max_length=100)
    display = models.CharField(verbose_name=_("display"), max_length=200, blank=True)
    order = models.PositiveIntegerField(verbose_name=_("order"), default=0)

    class Meta:
        verbose_name = _("label")
        verbose_name_plural = _("labels")
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["project", "value"], name="label_unique_per_project")]

    def __str__(self) -> str:
        return self.display or self.value


def draw_key_new() -> float:
    """A control item's place in the draw order (uniform in [0, 1)); a function so migrations can name it."""
    return random.random()


class Item(models.Model):
    class Source(models.TextChoices):
        IMPORT = "import", _("Import")
        REPORT = "report", _("Report")
        DEMO = "demo", _("Demo")
        SIMULATION = "simulation", _("Simulation")

    class Split(models.TextChoices):
        POOL = "pool", _("annotation pool")
        HELDOUT = "heldout", _("held-out evaluation")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ADJUDICATION = "adjudication", _("Adjudication")
        APPROVED = "approved", _("Approved")
        REMOVED = "removed", _("Removed from the pool")  # a reviewer upheld a flag: never served again

    project = models.ForeignKey(Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="items")
    public_id = models.UUIDField(
        verbose_name=_("public id"), default=uuid.uuid4, unique=True, editable=False,
        help_text=_("What evaluators see instead of the row id: random, so it tells nothing about order or controls"),
    )
    language = models.ForeignKey(
        "evaluators.Language", verbose_name=_("language"), on_delete=models.PROTECT, related_name="items",
    )
    text = models.TextField(verbose_name=_("text"))
    external_id = models.CharField(verbose_name=_("external id"), max_length=200, blank=True)
    content_hash = models.CharField(verbose_name=_("content hash"), max_length=64)
    source = models.CharField(verbose_name=_("source"), max_length=16, choices=Source.choices, default=Source.IMPORT)
    split = models.CharField(verbose_name=_("split"), max_length=8, choices=Split.choices, default=Split.POOL)
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    priority = models.FloatField(
        verbose_name=_("priority"), default=0.0, help_text=_("Higher is served first (learner score, reports)"),
    )
    reference_label = models.CharField(
        verbose_name=_("reference label"), max_length=100, blank=True,
        help_text=_("Known answer: gold control items and held-out evaluation only"),
    )
    is_control = models.BooleanField(
        verbose_name=_("control item"), default=False, help_text=_("Gold control item mixed into regular work"),
    )
    # Controls are served lowest key first; a served one moves back by a random step (annotation.services).
    draw_key = models.FloatField(
        verbose_name=_("draw key"), default=draw_key_new, editable=False,
        help_text=_("Control items: the order they are served in; each one served moves back by a random step"),
    )
    prelabel = models.CharField(verbose_name=_("prelabel"), max_length=100, blank=True)
    metadata = models.JSONField(verbose_name=_("metadata"), default=dict, blank=True)
    annotation_count = models.PositiveSmallIntegerField(verbose_name=_("annotation count"), default=0)
    active_assignments = models.PositiveSmallIntegerField(verbose_name=_("active assignments"), default=0)
    # What aggregation proposed (kept for the reviewer when the item waits in adjudication).
    proposed_label = models.CharField(verbose_name=_("proposed label"), max_length=100, blank=True)
    proposed_confidence = models.FloatField(verbose_name=_("proposed confidence"), null=True, blank=True)
    proposed_method = models.CharField(verbose_name=_("proposed method"), max_length=16, blank=True)
    # The champion's prediction, cached per item (annotation.suggestions): valid for that model version only.
    suggestion_label = models.CharField(verbose_name=_("suggestion label"), max_length=100, blank=True)
    suggestion_confidence = models.FloatField(verbose_name=_("suggestion confidence"), null=True, blank=True)
    suggestion_version = models.PositiveIntegerField(
        verbose_name=_("suggestion version"), null=True, blank=True, help_text=_("learner ModelVersion id"),
    )
    review_reason = models.CharField(verbose_name=_("review reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "external_id"], condition=~Q(external_id=""), name="item_unique_external_id"
            ),
            models.UniqueConstraint(fields=["project", "content_hash", "language"], name="item_unique_content"),
        ]
        indexes = [
            models.Index(
                fields=["project", "language", "split", "status", "-priority", "id"], name="item_queue_idx"
            ),
            # The next-item query walks this partial index in order (project × language, best priority
            # first) and stops at the first item with a free slot: no sort, no scan of closed items.
            models.Index(
                fields=["project", "language", "-priority", "id"], name="item_open_queue_idx",
                condition=Q(status="open", split="pool", is_control=False),
            ),
            # The control draw walks a pool's controls in draw-key order and stops at the first one the
            # evaluator may have: a short read, however many items and controls the project has.
            models.Index(
                fields=["project", "language", "draw_key"], name="item_control_draw_idx", condition=Q(is_control=True),
            ),
            models.Index(fields=["project", "status"], name="item_project_status_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} [{self.language_id}] {self.text[:40]}"


class Assignment(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUBMITTED = "submitted", _("Submitted")
        SKIPPED = "skipped", _("Skipped")
        EXPIRED = "expired", _("Expired")
        RELEASED = "released", _("released (membership suspended or removed)")

    public_id = models.UUIDField(
        verbose_name=_("public id"), default=uuid.uuid4, unique=True, editable=False,
        help_text=_("What the evaluator sees instead of the row id (random, not sequential)"),
    )
    item = models.ForeignKey(Item, verbose_name=_("item"), on_delete=models.CASCADE, related_name="assignments")
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("evaluator"), on_delete=models.CASCADE, related_name="assignments",
    )
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    is_control = models.BooleanField(verbose_name=_("control item"), default=False)
    leased_at = models.DateTimeField(verbose_name=_("leased at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    skip_reason = models.CharField(verbose_name=_("skip reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [models.UniqueConstraint(fields=["item", "evaluator"], name="assignment_once_per_evaluator")]
        indexes = [
            models.Index(fields=["evaluator", "status"], name="assignment_evaluator_idx"),
            models.Index(fields=["status", "expires_at"], name="assignment_lease_idx"),
        ]

    def __str__(self) -> str:
        return f"assignment {self.pk}: item {self.item_id} to user {self.evaluator_id} ({self.status})"


class ItemFlag(models.Model):
    """An evaluator's note that an item cannot be labelled as it is."""

    class Reason(models.TextChoices):
        WRONG_LANGUAGE = "wrong_language", _("wrong language")
        OFFENSIVE = "offensive", _("Offensive")
        UNREADABLE = "unreadable", _("Unreadable")
        OTHER = "other", _("Other")

    item = models.ForeignKey(Item, verbose_name=_("item"), on_delete=models.CASCADE, related_name="flags")
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("evaluator"), on_delete=models.CASCADE, related_name="item_flags",
    )
    class Resolution(models.TextChoices):
        DISMISSED = "dismissed", _("dismissed (the item stays in the pool)")
        REMOVED = "removed", _("item removed from the pool")
        RELABELLED = "relabelled", _("labelled by the reviewer")

    reason = models.CharField(verbose_name=_("reason"), max_length=16, choices=Reason.choices)
    comment = models.TextField(verbose_name=_("comment"), blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    # Set by a reviewer in the review queue's "Flagged" tab (annotation.services.flag_resolve).
    resolution = models.CharField(verbose_name=_("resolution"), max_length=16, choices=Resolution.choices, blank=True)
    resolved_at = models.DateTimeField(verbose_name=_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("resolved by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="flags_resolved",
    )
    resolution_comment = models.TextField(verbose_name=_("resolution comment"), blank=True)

    class Meta:
        verbose_name = _("item flag")
        verbose_name_plural = _("item flags")
        constraints = [models.UniqueConstraint(fields=["item", "evaluator"], name="item_flag_once_per_evaluator")]
        indexes = [models.Index(fields=["resolved_at", "created_at"], name="item_flag_open_idx")]

    def __str__(self) -> str:
        return f"item {self.item_id} flagged {self.reason}"


class AnnotationQuerySet(models.QuerySet):
    def counted(self):
        """Annotations that count (aggregation, agreement, accuracy): not discarded by an admin."""
        return self.filter(discarded_at__isnull=True)


class Annotation(models.Model):
    assignment = models.OneToOneField(
        Assignment, verbose_name=_("assignment"), on_delete=models.CASCADE, related_name="annotation",
    )
    item = models.ForeignKey(Item, verbose_name=_("item"), on_delete=models.CASCADE, related_name="annotations")
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("evaluator"), on_delete=models.CASCADE, related_name="annotations",
    )
    label = models.CharField(verbose_name=_("label"), max_length=100)
    guideline_version = models.ForeignKey(
        "evaluators.GuidelineVersion", verbose_name=_("guideline version"), on_delete=models.PROTECT,
        related_name="annotations",
    )
    idempotency_key = models.CharField(verbose_name=_("idempotency key"), max_length=64)
    payload_hash = models.CharField(
        verbose_name=_("payload hash"), max_length=64, blank=True,
        help_text=_("Hash of the first request's payload: a reused key with another is a 409"),
    )
    time_spent_ms = models.PositiveIntegerField(verbose_name=_("time spent (ms)"), default=0)
    # The model suggestion the evaluator saw when labelling (empty: none shown).
    suggestion_shown_label = models.CharField(verbose_name=_("suggestion shown label"), max_length=100, blank=True)
    suggestion_shown_confidence = models.FloatField(
        verbose_name=_("suggestion shown confidence"), null=True, blank=True,
    )
    suggestion_shown_version = models.PositiveIntegerField(
        verbose_name=_("suggestion shown version"), null=True, blank=True, help_text=_("learner ModelVersion id"),
    )
    discarded_at = models.DateTimeField(
        verbose_name=_("discarded at"), null=True, blank=True, db_index=True,
        help_text=_("Set when an admin discarded the evaluator's annotations: kept, but out of aggregation"),
    )
    discard = models.ForeignKey(
        "annotation.AnnotationDiscard", verbose_name=_("discard"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="annotations",
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    objects = AnnotationQuerySet.as_manager()

    class Meta:
        verbose_name = _("annotation")
        verbose_name_plural = _("annotations")
        constraints = [
            models.UniqueConstraint(fields=["item", "evaluator"], name="annotation_once_per_evaluator"),
            models.UniqueConstraint(fields=["evaluator", "idempotency_key"], name="annotation_idempotency_key"),
        ]
        # The aggregation sweep reads only what changed since its watermark (SweepWatermark).
        indexes = [models.Index(fields=["updated_at"], name="annotation_updated_idx")]

    def __str__(self) -> str:
        return f"item {self.item_id}: {self.label}"


class ApprovedLabel(models.Model):
    """The label training may use. Only rows here ever reach a learner."""

    class Method(models.TextChoices):
        MAJORITY = "majority", _("Majority")
        DAWID_SKENE = "dawid_skene", _("Dawid Skene")
        REVIEW = "review", _("Review")

    item = models.OneToOneField(Item, verbose_name=_("item"), on_delete=models.CASCADE, related_name="approved_label")
    label = models.CharField(verbose_name=_("label"), max_length=100)
    method = models.CharField(verbose_name=_("method"), max_length=16, choices=Method.choices)
    confidence = models.FloatField(verbose_name=_("confidence"), default=1.0)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approved by"), null=True, blank=True, on_delete=models.SET_NULL,
    )
    approved_at = models.DateTimeField(verbose_name=_("approved at"), auto_now_add=True)

    class Meta:
        verbose_name = _("approved label")
        verbose_name_plural = _("approved labels")
        indexes = [models.Index(fields=["approved_at"], name="approved_label_time_idx")]

    def __str__(self) -> str:
        return f"item {self.item_id}: {self.label} ({self.method})"


class ApprovedLabelHistory(models.Model):
    """Every approval and every change of an approved label, never edited or deleted."""

    class Action(models.TextChoices):
        AUTO = "auto", _("auto-approved")
        APPROVE = "approve", _("approved by a reviewer")
        OVERRIDE = "override", _("overridden by a reviewer")
        REOPEN = "reopen", _("re-opened: annotations behind it were discarded")

    item = models.ForeignKey(Item, verbose_name=_("item"), on_delete=models.CASCADE, related_name="label_history")
    action = models.CharField(verbose_name=_("action"), max_length=16, choices=Action.choices)
    label = models.CharField(verbose_name=_("label"), max_length=100)
    previous_label = models.CharField(verbose_name=_("previous label"), max_length=100, blank=True)
    method = models.CharField(verbose_name=_("method"), max_length=16)
    confidence = models.FloatField(verbose_name=_("confidence"), default=1.0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.SET_NULL,
    )
    comment = models.TextField(verbose_name=_("comment"), blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("approved label history")
        ordering = ["created_at", "id"]
        verbose_name_plural = _("approved label history")

    def __str__(self) -> str:
        return f"item {self.item_id}: {self.action} {self.label}"


class AnnotationDiscard(models.Model):
    """An admin's decision to discard one member's annotations since a date (never edited).

    The annotations stay stored (marked ``discarded_at``) but leave aggregation and agreement; the
    items whose approved label relied on them are re-opened, each with an ApprovedLabelHistory entry.
    """

    membership = models.ForeignKey(
        "evaluators.PoolMembership", verbose_name=_("membership"), on_delete=models.PROTECT,
        related_name="annotation_discards",
    )
    since = models.DateTimeField(
        verbose_name=_("since"), help_text=_("Annotations created at or after this moment are discarded"),
    )
    reason = models.TextField(verbose_name=_("reason"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    n_annotations = models.PositiveIntegerField(verbose_name=_("annotations discarded"), default=0)
    n_reopened = models.PositiveIntegerField(
        verbose_name=_("items re-opened"), default=0, help_text=_("Approved or adjudicated items re-opened"),
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("annotation discard")
        verbose_name_plural = _("annotation discards")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"discard of {self.membership.user} since {self.since:%Y-%m-%d %H:%M}: {self.n_annotations} label(s)"


class SweepWatermark(models.Model):
    """Where a periodic sweep got to, kept in the database so that a restart or another beat host goes on
    from there: ``value`` is when the last completed sweep started (labels changed from then on, minus a
    safety overlap, are read next time); ``pending`` carries the project × language pairs that changed but
    whose agreement snapshot was not due yet; ``full_at`` is the last full pass over every pair."""

    name = models.CharField(verbose_name=_("name"), max_length=64, unique=True)
    value = models.DateTimeField(verbose_name=_("value"), null=True, blank=True)
    full_at = models.DateTimeField(verbose_name=_("last full pass at"), null=True, blank=True)
    pending = models.JSONField(
        verbose_name=_("pending pairs"), default=list, blank=True, help_text=_("[[project_id, language_id], ...]"),
    )
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("sweep watermark")
        verbose_name_plural = _("sweep watermarks")

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"


class AgreementSnapshot(models.Model):
    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="agreement_snapshots",
    )
    language = models.ForeignKey(
        "evaluators.Language", verbose_name=_("language"), null=True, blank=True, on_delete=models.CASCADE,
        help_text=_("Empty for the whole project"),
    )
    level = models.CharField(verbose_name=_("level"), max_length=16, default="nominal")
    krippendorff_alpha = models.FloatField(verbose_name=_("Krippendorff's alpha"), null=True)
    fleiss_kappa = models.FloatField(verbose_name=_("Fleiss' kappa"), null=True)
    cohen_kappa_mean = models.FloatField(verbose_name=_("mean Cohen's kappa"), null=True)
    percent_agreement = models.FloatField(verbose_name=_("percent agreement"), null=True)
    n_items = models.PositiveIntegerField(verbose_name=_("number of items"), default=0)
    n_annotators = models.PositiveIntegerField(verbose_name=_("number of annotators"), default=0)
    n_ratings = models.PositiveIntegerField(verbose_name=_("number of ratings"), default=0)
    trigger = models.CharField(
        verbose_name=_("trigger"), max_length=16, default="manual", help_text=_("aggregation or manual"),
    )
    counts = models.JSONField(
        verbose_name=_("counts"), default=dict, blank=True,
        help_text=_("Label counts and annotations behind the numbers"),
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("agreement snapshot")
        verbose_name_plural = _("agreement snapshots")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["project", "language", "created_at"], name="agreement_series_idx")]

    def __str__(self) -> str:
        return f"agreement {self.project_id}/{self.language_id or 'all'} at {self.created_at:%Y-%m-%d %H:%M}"


class Report(models.Model):
    """A problem an end user saw in a model's output, in their language (public form, no login)."""

    class Category(models.TextChoices):
        WRONG_LABEL = "wrong_label", _("wrong answer or label")
        WRONG_LANGUAGE = "wrong_language", _("answered in the wrong language")
        OFFENSIVE = "offensive", _("offensive or harmful")
        MEANINGLESS = "meaningless", _("meaningless or unreadable")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        NEW = "new", _("received")
        ACCEPTED = "accepted", _("accepted: queued for annotation")
        REJECTED = "rejected", _("Rejected")
        DUPLICATE = "duplicate", _("Duplicate")

    reference = models.CharField(
        verbose_name=_("reference"), max_length=32, unique=True, default=report_reference, editable=False,
    )
    language = models.ForeignKey(
        "evaluators.Language", verbose_name=_("language"), on_delete=models.PROTECT, related_name="reports",
    )
    input_text = models.TextField(verbose_name=_("input text"))
    model_output = models.TextField(verbose_name=_("model output"))
    category = models.CharField(verbose_name=_("category"), max_length=16, choices=Category.choices)
    suggested_correction = models.TextField(verbose_name=_("suggested correction"), blank=True)
    contact = models.CharField(verbose_name=_("contact"), max_length=200, blank=True)
    status = models.CharField(
        verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.NEW, db_index=True,
    )
    resolution = models.TextField(
        verbose_name=_("resolution"), blank=True, help_text=_("Why it was rejected, or a note shown to the reporter"),
    )
    duplicate_of = models.ForeignKey(
        "self", verbose_name=_("duplicate of"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    item = models.ForeignKey(
        Item, verbose_name=_("item"), null=True, blank=True, on_delete=models.SET_NULL, related_name="reports",
    )
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("triaged by"), null=True, blank=True, on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        # "report" alone is also the acknowledgement report of a guideline: the context keeps them apart.
        verbose_name = pgettext_lazy("end-user report", "report")
        verbose_name_plural = pgettext_lazy("end-user report", "reports")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="duplicate") | Q(duplicate_of__isnull=False), name="report_duplicate_has_original"
            ),
        ]

    def __str__(self) -> str:
        return f"report {self.reference[:8]}… [{self.status}]"
