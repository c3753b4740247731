"""Languages, evaluators, per-language pools and versioned guidelines.

Invariants live in the database (unique and check constraints) so that a bug in a service, or two
requests racing, can never produce two memberships of one evaluator in one pool or two published
guideline versions with the same number.
"""
from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken
from knox.settings import CONSTANTS

from evaluators.languages import LanguageCodeError, direction_for_script, validate_language


class ImmutableError(ValidationError):
    """A write to a row that may no longer change (a published guideline version)."""


class Language(models.Model):
    class Direction(models.TextChoices):
        LTR = "ltr", _("left to right")
        RTL = "rtl", _("right to left")

    code = models.CharField(verbose_name=_("code"), max_length=3, help_text=_("ISO 639-3 code, e.g. 'hau'"))
    script = models.CharField(verbose_name=_("script"), max_length=4, help_text=_("ISO 15924 script code, e.g. 'Latn'"))
    region = models.CharField(
        verbose_name=_("region"), max_length=64, blank=True, help_text=_("Optional region or dialect"),
    )
    name = models.CharField(verbose_name=_("name"), max_length=128)
    direction = models.CharField(verbose_name=_("direction"), max_length=3, choices=Direction.choices, editable=False)

    class Meta:
        verbose_name = _("language")
        verbose_name_plural = _("languages")
        ordering = ["code", "script", "region"]
        constraints = [
            models.UniqueConstraint(fields=["code", "script", "region"], name="language_unique_tag"),
            models.CheckConstraint(condition=Q(direction__in=["ltr", "rtl"]), name="language_direction_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.tag})"

    def save(self, *args, **kwargs):
        self.direction = direction_for_script(self.script)
        super().save(*args, **kwargs)

    def clean_fields(self, exclude=None):
        # Name and direction come from the code lists: fill them before the field checks run.
        self.direction = direction_for_script(self.script or "")
        if not self.name:
            try:
                self.name = validate_language(self.code, self.script).name
            except LanguageCodeError:
                pass  # reported by clean()
        super().clean_fields(exclude=exclude)

    def clean(self):
        try:
            validate_language(self.code, self.script)
        except LanguageCodeError as exc:
            raise ValidationError({"code": str(exc)}) from exc

    @property
    def tag(self) -> str:
        base = f"{self.code}_{self.script}"
        return f"{base}-{self.region}" if self.region else base

    @property
    def display_name(self) -> str:
        """The name shown in pages: in the user's interface language (``evaluators.languages.display_name``)."""
        from evaluators.languages import display_name

        return display_name(self.code, self.script, self.region, fallback=self.name)

    @property
    def bcp47(self) -> str:
        """The tag for HTML ``lang`` (``ur``, ``am``, ``uz-Cyrl``): the browser's font and voice choice."""
        from evaluators.languages import bcp47

        return bcp47(self.code, self.script, self.region)


class EvaluatorProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="evaluator",
    )
    timezone = models.CharField(verbose_name=_("time zone"), max_length=64, default="UTC")
    daily_capacity = models.PositiveIntegerField(
        verbose_name=_("daily capacity"), default=200, help_text=_("Items per day this evaluator can take"),
    )
    pseudonym = models.CharField(
        verbose_name=_("pseudonym"), max_length=32, unique=True, help_text=_("Stable id used in exports"),
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("evaluator profile")
        verbose_name_plural = _("evaluator profiles")

    def __str__(self) -> str:
        return f"evaluator {self.user}"

    def clean(self):
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(
                {"timezone": f"unknown time zone {self.timezone!r} (expected e.g. 'Africa/Lagos')"}
            ) from exc



class EvaluatorLanguage(models.Model):
    class Proficiency(models.TextChoices):
        NATIVE = "native", _("Native")
        FLUENT = "fluent", _("Fluent")
        WORKING = "working", _("Working")

    profile = models.ForeignKey(
        EvaluatorProfile, verbose_name=_("profile"), on_delete=models.CASCADE, related_name="languages",
    )
    language = models.ForeignKey(
        Language, verbose_name=_("language"), on_delete=models.PROTECT, related_name="speakers",
    )
    proficiency = models.CharField(
        verbose_name=_("proficiency"), max_length=16, choices=Proficiency.choices, default=Proficiency.NATIVE,
    )
    dialect = models.CharField(verbose_name=_("dialect"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("evaluator language")
        verbose_name_plural = _("evaluator languages")
        constraints = [models.UniqueConstraint(fields=["profile", "language"], name="evaluator_language_unique")]

    def __str__(self) -> str:
        return f"{self.language.tag} ({self.proficiency})"


class Pool(models.Model):
    """The evaluators of one project in one language, and the quality rules they work under."""

    project = models.ForeignKey(
        "annotation.Project", verbose_name=_("project"), on_delete=models.CASCADE, related_name="pools",
    )
    language = models.ForeignKey(Language, verbose_name=_("language"), on_delete=models.PROTECT, related_name="pools")
    dialect = models.CharField(verbose_name=_("dialect"), max_length=64, blank=True)
    pass_mark = models.FloatField(
        verbose_name=_("pass mark"), default=0.8, help_text=_("Calibration accuracy needed to qualify"),
    )
    control_rate = models.FloatField(
        verbose_name=_("control rate"), default=0.05,
        help_text=_("Share of assignments that are gold control items (0-1). Controls are mixed in at random "
        "positions and look exactly like regular work to the evaluator"),
    )
    control_window = models.PositiveIntegerField(
        verbose_name=_("control window"), default=50, help_text=_("Rolling window of control answers"),
    )
    accuracy_floor = models.FloatField(
        verbose_name=_("accuracy floor"), default=0.6,
        help_text=_("Control accuracy under which a member is suspended"),
    )
    control_min_answers = models.PositiveIntegerField(
        verbose_name=_("minimum control answers"), default=10,
        help_text=_("Control answers needed in the window before accuracy can suspend a member"),
    )
    control_report_every = models.PositiveIntegerField(
        verbose_name=_("control report every"), default=10,
        help_text=_("Evaluators see their control accuracy only over completed blocks of this many control answers "
        "(never updated per item, so a changing number does not point at the control just answered)"),
    )
    overlap = models.PositiveSmallIntegerField(
        verbose_name=_("overlap"), null=True, blank=True,
        help_text=_("Distinct evaluators per item (k) in this language; empty: the project's overlap"),
    )
    retry_cooldown_hours = models.PositiveIntegerField(verbose_name=_("retry cooldown (hours)"), default=24)
    max_attempts = models.PositiveIntegerField(verbose_name=_("maximum attempts"), default=3)
    gold_max_exposure = models.PositiveIntegerField(
        verbose_name=_("maximum gold exposure"), default=30,
        help_text=_("Retirement: a gold control item is served to at most this many evaluators, and a calibration "
        "gold item is drawn into at most this many attempts; then it is retired and the admins are told"),
    )
    admins = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("admins"), blank=True, related_name="administered_pools",
        help_text=_("Pool admins notified of suspensions and allowed to manage members"),
    )
    reviewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("reviewers"), blank=True, related_name="reviewed_pools",
        help_text=_("Reviewers (with the 'reviewers' group) who see and decide this project × language"),
    )

    class Meta:
        verbose_name = _("pool")
        verbose_name_plural = _("pools")
        permissions = [("manage_pool", "Can manage pool members (invite, suspend, reinstate, remove)")]
        constraints = [
            models.UniqueConstraint(fields=["project", "language", "dialect"], name="pool_unique_per_language"),
            models.CheckConstraint(condition=Q(pass_mark__gte=0) & Q(pass_mark__lte=1), name="pool_pass_mark_range"),
            models.CheckConstraint(
                condition=Q(control_rate__gte=0) & Q(control_rate__lte=1), name="pool_control_rate_range"
            ),
            models.CheckConstraint(
                condition=Q(accuracy_floor__gte=0) & Q(accuracy_floor__lte=1), name="pool_accuracy_floor_range"
            ),
            models.CheckConstraint(condition=Q(overlap__isnull=True) | Q(overlap__gte=1), name="pool_overlap_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.project} / {self.language.tag}{' / ' + self.dialect if self.dialect else ''}"


class PoolMembership(models.Model):
    class State(models.TextChoices):
        INVITED = "invited", _("Invited")
        CALIBRATING = "calibrating", _("Calibrating")
        QUALIFIED = "qualified", _("Qualified")
        SUSPENDED = "suspended", _("Suspended")
        REMOVED = "removed", _("Removed")

    pool = models.ForeignKey(Pool, verbose_name=_("pool"), on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships",
    )
    state = models.CharField(
        verbose_name=_("state"), max_length=16, choices=State.choices, default=State.INVITED, db_index=True,
    )
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("pool membership")
        verbose_name_plural = _("pool memberships")
        constraints = [models.UniqueConstraint(fields=["pool", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.pool}: {self.state}"

    @property
    def can_work(self) -> bool:
        return self.state == self.State.QUALIFIED


class MembershipEvent(models.Model):
    """One transition of a membership: who moved it, when and why (never edited)."""

    membership = models.ForeignKey(
        PoolMembership, verbose_name=_("membership"), on_delete=models.CASCADE, related_name="events",
    )
    from_state = models.CharField(verbose_name=_("from state"), max_length=16, blank=True)
    to_state = models.CharField(verbose_name=_("to state"), max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.SET_NULL,
    )
    reason = models.TextField(verbose_name=_("reason"), blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership event")
        verbose_name_plural = _("membership events")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state or '—'} → {self.to_state}"


class Guideline(models.Model):
    project = models.OneToOneField(
        "annotation.Project", verbose_name=_("project"), on_delete=models.CASCADE, related_name="guideline",
    )
    title = models.CharField(verbose_name=_("title"), max_length=200)

    class Meta:
        verbose_name = _("guideline")
        verbose_name_plural = _("guidelines")

    def __str__(self) -> str:
        return self.title


class GuidelineVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    guideline = models.ForeignKey(
        Guideline, verbose_name=_("guideline"), on_delete=models.CASCADE, related_name="versions",
    )
    major = models.PositiveIntegerField(verbose_name=_("major"))
    minor = models.PositiveIntegerField(verbose_name=_("minor"))
    body = models.TextField(verbose_name=_("body"), help_text=_("Markdown; rendered sanitised"))
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    published_at = models.DateTimeField(verbose_name=_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("guideline version")
        verbose_name_plural = _("guideline versions")
        ordering = ["-major", "-minor"]
        constraints = [
            models.UniqueConstraint(fields=["guideline", "major", "minor"], name="guideline_version_unique"),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False), name="guideline_published_has_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guideline} v{self.label} ({self.status})"

    def save(self, *args, **kwargs):
        # A published version never changes: the only write allowed is the publishing itself.
        if self.pk is not None:
            stored = GuidelineVersion.objects.filter(pk=self.pk).values("status").first()
            if stored is not None and stored["status"] == self.Status.PUBLISHED:
                raise ImmutableError(f"guideline version {self.label} is published and cannot change")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if GuidelineVersion.objects.filter(pk=self.pk, status=self.Status.PUBLISHED).exists():
            raise ImmutableError(f"guideline version {self.label} is published and cannot be deleted")
        return super().delete(*args, **kwargs)

    @property
    def label(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class GuidelineAddendum(models.Model):
    """Language-specific additions to one guideline version; frozen with the version."""

    version = models.ForeignKey(
        GuidelineVersion, verbose_name=_("version"), on_delete=models.CASCADE, related_name="addenda",
    )
    language = models.ForeignKey(
        Language, verbose_name=_("language"), on_delete=models.PROTECT, related_name="guideline_addenda",
    )
    body = models.TextField(verbose_name=_("body"), help_text=_("Markdown; rendered sanitised"))

    class Meta:
        verbose_name = _("guideline addendum")
        verbose_name_plural = _("guideline addenda")
        constraints = [models.UniqueConstraint(fields=["version", "language"], name="addendum_unique_language")]

    def __str__(self) -> str:
        return f"{self.version} addendum for {self.language.tag}"

    def save(self, *args, **kwargs):
        if GuidelineVersion.objects.filter(pk=self.version_id, status=GuidelineVersion.Status.PUBLISHED).exists():
            raise ImmutableError("the addenda of a published guideline version cannot change")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if GuidelineVersion.objects.filter(pk=self.version_id, status=GuidelineVersion.Status.PUBLISHED).exists():
            raise ImmutableError("the addenda of a published guideline version cannot be deleted")
        return super().delete(*args, **kwargs)


class GuidelineAcknowledgement(models.Model):
    version = models.ForeignKey(
        GuidelineVersion, verbose_name=_("version"), on_delete=models.CASCADE, related_name="acknowledgements",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="acknowledgements",
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("guideline acknowledgement")
        verbose_name_plural = _("guideline acknowledgements")
        constraints = [models.UniqueConstraint(fields=["version", "user"], name="acknowledgement_unique")]

    def __str__(self) -> str:
        return f"{self.user} acknowledged v{self.version.label}"


class CalibrationRound(models.Model):
    """Gold items an evaluator must label well to qualify in a pool, for one guideline major version."""

    pool = models.ForeignKey(Pool, verbose_name=_("pool"), on_delete=models.CASCADE, related_name="calibration_rounds")
    guideline_major = models.PositiveIntegerField(
        verbose_name=_("guideline major version"), help_text=_("Guideline major version these gold answers follow"),
    )
    title = models.CharField(verbose_name=_("title"), max_length=200, blank=True)
    items_per_attempt = models.PositiveIntegerField(
        verbose_name=_("items per attempt"), default=10,
        help_text=_("Gold bank: each attempt draws this many of the round's gold items at random, never one the "
        "evaluator saw in an earlier attempt. When the bank has fewer unseen items left, a retry is refused until "
        "an admin adds gold. Feedback (gold answer, explanation) is shown only for items retired for that evaluator"),
    )
    is_active = models.BooleanField(verbose_name=_("active"), default=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("calibration round")
        verbose_name_plural = _("calibration rounds")
        ordering = ["-guideline_major", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"calibration {self.title or self.pk} for {self.pool} (guideline v{self.guideline_major}.x)"


class CalibrationItem(models.Model):
    round = models.ForeignKey(CalibrationRound, verbose_name=_("round"), on_delete=models.CASCADE, related_name="items")
    text = models.TextField(verbose_name=_("text"))
    reference_label = models.CharField(
        verbose_name=_("reference label"), max_length=100, help_text=_("Gold answer; never shown before submission"),
    )
    explanation = models.TextField(
        verbose_name=_("explanation"), blank=True, help_text=_("Shown to the evaluator after they submit"),
    )
    times_shown = models.PositiveIntegerField(verbose_name=_("times shown"), default=0)
    retire_flagged_at = models.DateTimeField(verbose_name=_("flagged for retirement at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calibration item")
        verbose_name_plural = _("calibration items")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"gold #{self.pk}: {self.text[:40]}"


class CalibrationAttempt(models.Model):
    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", _("in progress")
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Failed")

    round = models.ForeignKey(
        CalibrationRound, verbose_name=_("round"), on_delete=models.PROTECT, related_name="attempts",
    )
    membership = models.ForeignKey(
        PoolMembership, verbose_name=_("membership"), on_delete=models.CASCADE, related_name="calibration_attempts",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="calibration_attempts",
    )
    number = models.PositiveIntegerField(
        verbose_name=_("number"), help_text=_("1 for the first attempt in this pool and guideline major"),
    )
    seed = models.BigIntegerField(verbose_name=_("seed"), help_text=_("Per-attempt random seed of the item order"))
    item_order = models.JSONField(
        verbose_name=_("item order"), default=list, help_text=_("Calibration item ids in the order presented"),
    )
    status = models.CharField(
        verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.IN_PROGRESS, db_index=True,
    )
    accuracy = models.FloatField(verbose_name=_("accuracy"), null=True, blank=True)
    kappa = models.FloatField(verbose_name=_("kappa"), null=True, blank=True)
    started_at = models.DateTimeField(verbose_name=_("started at"))
    submitted_at = models.DateTimeField(verbose_name=_("submitted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calibration attempt")
        verbose_name_plural = _("calibration attempts")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["membership", "round", "number"], name="attempt_number_unique"),
            models.UniqueConstraint(
                fields=["membership"], condition=Q(status="in_progress"), name="attempt_one_open_per_membership"
            ),
            models.CheckConstraint(
                condition=Q(status="in_progress") | Q(submitted_at__isnull=False, accuracy__isnull=False),
                name="attempt_submitted_has_score",
            ),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.user} ({self.status})"

    @property
    def is_submitted(self) -> bool:
        return self.status != self.Status.IN_PROGRESS


class CalibrationAnswer(models.Model):
    attempt = models.ForeignKey(
        CalibrationAttempt, verbose_name=_("attempt"), on_delete=models.CASCADE, related_name="answers",
    )
    item = models.ForeignKey(CalibrationItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="answers")
    label = models.CharField(verbose_name=_("label"), max_length=100)
    correct = models.BooleanField(verbose_name=_("correct"))

    class Meta:
        verbose_name = _("calibration answer")
        verbose_name_plural = _("calibration answers")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["attempt", "item"], name="calibration_answer_unique")]

    def __str__(self) -> str:
        return f"{self.label} ({'right' if self.correct else 'wrong'})"


class ControlAnswer(models.Model):
    """One answer of a member on a gold control item mixed into regular work."""

    membership = models.ForeignKey(
        PoolMembership, verbose_name=_("membership"), on_delete=models.CASCADE, related_name="control_answers",
    )
    annotation = models.OneToOneField(
        "annotation.Annotation", verbose_name=_("annotation"), on_delete=models.CASCADE, related_name="control_answer",
    )
    item = models.ForeignKey(
        "annotation.Item", verbose_name=_("item"), on_delete=models.CASCADE, related_name="control_answers",
    )
    correct = models.BooleanField(verbose_name=_("correct"))
    in_window = models.BooleanField(
        verbose_name=_("in window"), default=True,
        help_text=_("False once the member is reinstated or re-qualified: old answers stop counting"),
    )
    scored = models.BooleanField(
        verbose_name=_("scored"), default=False,
        help_text=_("True once the background job (evaluators.control_statistics) has counted this answer: gold "
                    "exposure, rolling accuracy, suspension. Set in the same transaction, so a redelivered job "
                    "skips it."),
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("control answer")
        verbose_name_plural = _("control answers")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["membership", "in_window", "-id"], name="control_answer_window_idx"),
            # The answers still waiting for the job (a handful at any time): the job and its beat sweep.
            models.Index(fields=["membership", "id"], condition=models.Q(scored=False),
                         name="control_answer_unscored_idx"),
        ]

    def __str__(self) -> str:
        return f"control #{self.item_id}: {'right' if self.correct else 'wrong'}"


class GoldExposure(models.Model):
    """How often a gold control item has been shown in a pool; flagged for retirement past the limit."""

    pool = models.ForeignKey(Pool, verbose_name=_("pool"), on_delete=models.CASCADE, related_name="gold_exposures")
    item = models.ForeignKey(
        "annotation.Item", verbose_name=_("item"), on_delete=models.CASCADE, related_name="gold_exposures",
    )
    times_shown = models.PositiveIntegerField(verbose_name=_("times shown"), default=0)
    retire_flagged_at = models.DateTimeField(verbose_name=_("flagged for retirement at"), null=True, blank=True)

    class Meta:
        verbose_name = _("gold exposure")
        verbose_name_plural = _("gold exposures")
        constraints = [models.UniqueConstraint(fields=["pool", "item"], name="gold_exposure_unique")]

    def __str__(self) -> str:
        return f"gold #{self.item_id} shown {self.times_shown}x in pool {self.pool_id}"


class Notification(models.Model):
    """An entry in the console for a pool's admins (also e-mailed)."""

    class Kind(models.TextChoices):
        SUSPENSION = "suspension", _("Suspension")
        GOLD_RETIREMENT = "gold_retirement", _("gold item over-exposed")
        INFO = "info", _("Info")

    pool = models.ForeignKey(
        Pool, verbose_name=_("pool"), null=True, blank=True, on_delete=models.CASCADE, related_name="notifications",
    )
    membership = models.ForeignKey(
        PoolMembership, verbose_name=_("membership"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(verbose_name=_("kind"), max_length=32, choices=Kind.choices, default=Kind.INFO)
    subject = models.CharField(verbose_name=_("subject"), max_length=200)
    message = models.TextField(verbose_name=_("message"))
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    emailed_at = models.DateTimeField(verbose_name=_("e-mailed at"), null=True, blank=True)
    read_at = models.DateTimeField(verbose_name=_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject


class PersonalToken(AbstractAuthToken):
    """A personal API token: only its SHA-512 digest is stored (django-rest-knox), the token itself is
    shown once, when created; it carries a name so its owner can tell tokens apart and revoke one."""

    # knox's fields, declared again only to give them translatable names (same columns).
    digest = models.CharField(verbose_name=_("digest"), max_length=CONSTANTS.DIGEST_LENGTH, primary_key=True)
    token_key = models.CharField(
        verbose_name=_("token key"), max_length=CONSTANTS.MAXIMUM_TOKEN_PREFIX_LENGTH + CONSTANTS.TOKEN_KEY_LENGTH,
        db_index=True,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), related_name="auth_token_set", on_delete=models.CASCADE,
    )
    created = models.DateTimeField(verbose_name=_("created"), auto_now_add=True)
    expiry = models.DateTimeField(verbose_name=_("expiry"), null=True, blank=True)
    name = models.CharField(
        verbose_name=_("name"), max_length=100, help_text=_("What this token is for, e.g. 'import script'"),
    )

    class Meta:
        verbose_name = _("personal token")
        verbose_name_plural = _("personal tokens")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_key}…)"
