"""Languages, evaluators, per-language pools and versioned guidelines.

Invariants live in the database (unique and check constraints) so that a bug in a service, or two
requests racing, can never produce two memberships of one evaluator in one pool or two published
guideline versions with the same number.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from evaluators.languages import direction_for_script


class Language(models.Model):
    class Direction(models.TextChoices):
        LTR = "ltr", "left to right"
        RTL = "rtl", "right to left"

    code = models.CharField(max_length=3, help_text="ISO 639-3 code, e.g. 'hau'")
    script = models.CharField(max_length=4, help_text="ISO 15924 script code, e.g. 'Latn'")
    region = models.CharField(max_length=64, blank=True, help_text="Optional region or dialect")
    name = models.CharField(max_length=128)
    direction = models.CharField(max_length=3, choices=Direction.choices, editable=False)

    class Meta:
        ordering = ["code", "script", "region"]
        constraints = [
            models.UniqueConstraint(fields=["code", "script", "region"], name="language_unique_tag"),
            models.CheckConstraint(condition=Q(direction__in=["ltr", "rtl"]), name="language_direction_valid"),
        ]

    def save(self, *args, **kwargs):
        self.direction = direction_for_script(self.script)
        super().save(*args, **kwargs)

    @property
    def tag(self) -> str:
        base = f"{self.code}_{self.script}"
        return f"{base}-{self.region}" if self.region else base

    def __str__(self) -> str:
        return f"{self.name} ({self.tag})"


class EvaluatorProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="evaluator")
    timezone = models.CharField(max_length=64, default="UTC")
    daily_capacity = models.PositiveIntegerField(default=200, help_text="Items per day this evaluator can take")
    pseudonym = models.CharField(max_length=32, unique=True, help_text="Stable id used in exports")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"evaluator {self.user}"


class EvaluatorLanguage(models.Model):
    class Proficiency(models.TextChoices):
        NATIVE = "native"
        FLUENT = "fluent"
        WORKING = "working"

    profile = models.ForeignKey(EvaluatorProfile, on_delete=models.CASCADE, related_name="languages")
    language = models.ForeignKey(Language, on_delete=models.PROTECT, related_name="speakers")
    proficiency = models.CharField(max_length=16, choices=Proficiency.choices, default=Proficiency.NATIVE)
    dialect = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["profile", "language"], name="evaluator_language_unique")]


class Pool(models.Model):
    """The evaluators of one project in one language, and the quality rules they work under."""

    project = models.ForeignKey("annotation.Project", on_delete=models.CASCADE, related_name="pools")
    language = models.ForeignKey(Language, on_delete=models.PROTECT, related_name="pools")
    dialect = models.CharField(max_length=64, blank=True)
    pass_mark = models.FloatField(default=0.8, help_text="Calibration accuracy needed to qualify")
    control_rate = models.FloatField(default=0.05, help_text="Share of assignments that are gold control items")
    control_window = models.PositiveIntegerField(default=50, help_text="Rolling window of control answers")
    accuracy_floor = models.FloatField(default=0.6, help_text="Control accuracy under which a member is suspended")
    retry_cooldown_hours = models.PositiveIntegerField(default=24)
    max_attempts = models.PositiveIntegerField(default=3)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "language", "dialect"], name="pool_unique_per_language"),
            models.CheckConstraint(condition=Q(pass_mark__gte=0) & Q(pass_mark__lte=1), name="pool_pass_mark_range"),
            models.CheckConstraint(
                condition=Q(control_rate__gte=0) & Q(control_rate__lte=1), name="pool_control_rate_range"
            ),
            models.CheckConstraint(
                condition=Q(accuracy_floor__gte=0) & Q(accuracy_floor__lte=1), name="pool_accuracy_floor_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} / {self.language.tag}{' / ' + self.dialect if self.dialect else ''}"


class PoolMembership(models.Model):
    class State(models.TextChoices):
        INVITED = "invited"
        CALIBRATING = "calibrating"
        QUALIFIED = "qualified"
        SUSPENDED = "suspended"
        REMOVED = "removed"

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    state = models.CharField(max_length=16, choices=State.choices, default=State.INVITED, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pool", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.pool}: {self.state}"


class MembershipEvent(models.Model):
    """One transition of a membership: who moved it, when and why (never edited)."""

    membership = models.ForeignKey(PoolMembership, on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class Guideline(models.Model):
    project = models.OneToOneField("annotation.Project", on_delete=models.CASCADE, related_name="guideline")
    title = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.title


class GuidelineVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        PUBLISHED = "published"

    guideline = models.ForeignKey(Guideline, on_delete=models.CASCADE, related_name="versions")
    major = models.PositiveIntegerField()
    minor = models.PositiveIntegerField()
    body = models.TextField(help_text="Markdown; rendered sanitised")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-major", "-minor"]
        constraints = [
            models.UniqueConstraint(fields=["guideline", "major", "minor"], name="guideline_version_unique"),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False), name="guideline_published_has_date"
            ),
        ]

    @property
    def label(self) -> str:
        return f"{self.major}.{self.minor}"

    def __str__(self) -> str:
        return f"{self.guideline} v{self.label} ({self.status})"


class GuidelineAcknowledgement(models.Model):
    version = models.ForeignKey(GuidelineVersion, on_delete=models.CASCADE, related_name="acknowledgements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="acknowledgements")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "user"], name="acknowledgement_unique")]
