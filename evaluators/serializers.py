"""What the API shows. Evaluator-facing serializers never carry gold labels or explanations before
an attempt is submitted, and never say which item is a control."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from evaluators.models import CalibrationAttempt, CalibrationItem, Pool, PoolMembership
from evaluators.rendering import render_markdown


class PoolSerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="project.slug", read_only=True)
    language = serializers.CharField(source="language.tag", read_only=True)
    language_name = serializers.CharField(source="language.name", read_only=True)
    direction = serializers.CharField(source="language.direction", read_only=True)

    class Meta:
        model = Pool
        fields = ["id", "project", "language", "language_name", "direction", "dialect", "pass_mark", "max_attempts",
                  "retry_cooldown_hours"]


class CalibrationAllowanceSerializer(serializers.Serializer):
    attempts_used = serializers.IntegerField(source="used")
    attempts_left = serializers.IntegerField(source="left")
    retry_at = serializers.DateTimeField(allow_null=True, help_text="the cooldown ends then (null: no cooldown)")
    gold_bank_exhausted = serializers.BooleanField(
        source="bank_exhausted", help_text="too few unseen gold items for another attempt: an admin must add gold"
    )
    can_start = serializers.BooleanField(help_text="an attempt may start now")


class MyMembershipSerializer(serializers.ModelSerializer):
    pool = PoolSerializer(read_only=True)
    guideline_acknowledged = serializers.SerializerMethodField()
    calibration = serializers.SerializerMethodField()

    class Meta:
        model = PoolMembership
        fields = ["id", "pool", "state", "updated_at", "guideline_acknowledged", "calibration"]

    def get_guideline_acknowledged(self, obj: PoolMembership) -> bool:
        from evaluators.selectors import guideline_is_acknowledged

        return guideline_is_acknowledged(user=obj.user, project=obj.pool.project)

    @extend_schema_field(CalibrationAllowanceSerializer)
    def get_calibration(self, obj: PoolMembership):
        from evaluators.services import calibration_allowance

        return CalibrationAllowanceSerializer(calibration_allowance(membership=obj)).data


class AddendumSerializer(serializers.Serializer):
    language = serializers.CharField(source="language.tag")
    direction = serializers.CharField(source="language.direction")
    body_markdown = serializers.CharField(source="body")
    body_html = serializers.SerializerMethodField()

    def get_body_html(self, obj) -> str:
        return str(render_markdown(obj.body))


class GuidelineSerializer(serializers.Serializer):
    project = serializers.CharField(source="guideline.project.slug")
    title = serializers.CharField(source="guideline.title")
    version = serializers.CharField(source="label")
    major = serializers.IntegerField()
    minor = serializers.IntegerField()
    published_at = serializers.DateTimeField()
    body_markdown = serializers.CharField(source="body")
    body_html = serializers.SerializerMethodField()
    addenda = serializers.SerializerMethodField()
    acknowledged = serializers.SerializerMethodField()

    def get_body_html(self, obj) -> str:
        return str(render_markdown(obj.body))

    @extend_schema_field(AddendumSerializer(many=True))
    def get_addenda(self, obj):
        from evaluators.selectors import guideline_addenda_for

        return AddendumSerializer(guideline_addenda_for(version=obj, user=self.context["request"].user), many=True).data

    def get_acknowledged(self, obj) -> bool:
        return obj.acknowledgements.filter(user=self.context["request"].user).exists()


class AcknowledgementSerializer(serializers.Serializer):
    version = serializers.CharField(source="version.label")
    acknowledged_at = serializers.DateTimeField(source="created_at")


# --- calibration -----------------------------------------------------------------------------


class CalibrationItemForEvaluatorSerializer(serializers.ModelSerializer):
    """An item to label: its text only (never the reference label nor the explanation)."""

    class Meta:
        model = CalibrationItem
        fields = ["id", "text"]


class CalibrationAttemptSerializer(serializers.ModelSerializer):
    """An attempt as its evaluator sees it: the items in the stored order; scores only once submitted."""

    pool = PoolSerializer(source="membership.pool", read_only=True)
    status = serializers.CharField(read_only=True, help_text="in_progress, passed or failed")
    items = serializers.SerializerMethodField()
    accuracy = serializers.SerializerMethodField()
    kappa = serializers.SerializerMethodField()

    class Meta:
        model = CalibrationAttempt
        fields = ["id", "pool", "number", "status", "started_at", "submitted_at", "items", "accuracy", "kappa"]

    @extend_schema_field(CalibrationItemForEvaluatorSerializer(many=True))
    def get_items(self, obj: CalibrationAttempt):
        by_id = {item.pk: item for item in CalibrationItem.objects.filter(pk__in=obj.item_order).only("id", "text")}
        return CalibrationItemForEvaluatorSerializer([by_id[i] for i in obj.item_order if i in by_id], many=True).data

    def get_accuracy(self, obj: CalibrationAttempt) -> float | None:
        return obj.accuracy if obj.is_submitted else None

    def get_kappa(self, obj: CalibrationAttempt) -> float | None:
        return obj.kappa if obj.is_submitted else None


class CalibrationStartSerializer(serializers.Serializer):
    pool = serializers.IntegerField(min_value=1)


class CalibrationAnswerInSerializer(serializers.Serializer):
    item = serializers.IntegerField(min_value=1)
    label = serializers.CharField(max_length=100)


class CalibrationSubmitSerializer(serializers.Serializer):
    answers = CalibrationAnswerInSerializer(many=True, allow_empty=False)

    def validate_answers(self, value):
        items = [a["item"] for a in value]
        if len(items) != len(set(items)):
            raise serializers.ValidationError("each item may be answered once")
        return value


class CalibrationReviewSerializer(serializers.Serializer):
    item = serializers.IntegerField(source="item_id")
    text = serializers.CharField(source="item.text")
    your_label = serializers.CharField(source="label")
    reference_label = serializers.CharField(source="item.reference_label")
    explanation = serializers.CharField(source="item.explanation")
    correct = serializers.BooleanField()


class CalibrationResultSerializer(serializers.ModelSerializer):
    """After submission only: pass mark, score, when the next attempt may start, and every mistake with
    the gold answer and its explanation, for items retired for this evaluator (never drawn for them
    again, so the feedback cannot be replayed in a retry)."""

    status = serializers.CharField(read_only=True, help_text="passed or failed")
    passed = serializers.SerializerMethodField()
    pass_mark = serializers.FloatField(source="membership.pool.pass_mark")
    score = serializers.FloatField(source="accuracy", help_text="share of correct answers (0-1)")
    next_attempt_at = serializers.SerializerMethodField()
    mistakes = serializers.SerializerMethodField()
    calibration = serializers.SerializerMethodField()

    class Meta:
        model = CalibrationAttempt
        fields = ["id", "number", "status", "passed", "accuracy", "score", "kappa", "pass_mark", "submitted_at",
                  "next_attempt_at", "mistakes", "calibration"]

    def get_passed(self, obj: CalibrationAttempt) -> bool:
        return obj.status == CalibrationAttempt.Status.PASSED

    def _allowance(self, obj: CalibrationAttempt):
        from evaluators.services import calibration_allowance

        cache = self.context.setdefault("_allowance", {})
        if obj.pk not in cache:
            cache[obj.pk] = calibration_allowance(membership=obj.membership)
        return cache[obj.pk]

    def get_next_attempt_at(self, obj: CalibrationAttempt) -> str | None:
        """When the next attempt may start; null when none will (passed, no attempts left, bank exhausted)."""
        from django.utils import timezone

        allowance = self._allowance(obj)
        if obj.status == CalibrationAttempt.Status.PASSED or allowance.left <= 0 or allowance.bank_exhausted:
            return None
        return serializers.DateTimeField().to_representation(allowance.retry_at or timezone.now())

    @extend_schema_field(CalibrationReviewSerializer(many=True))
    def get_mistakes(self, obj: CalibrationAttempt):
        from evaluators.services import calibration_items_seen

        retired = calibration_items_seen(membership=obj.membership)
        wrong = obj.answers.filter(correct=False, item_id__in=retired).select_related("item")
        return CalibrationReviewSerializer(wrong, many=True).data

    @extend_schema_field(CalibrationAllowanceSerializer)
    def get_calibration(self, obj: CalibrationAttempt):
        return CalibrationAllowanceSerializer(self._allowance(obj)).data


# --- pool management ---------------------------------------------------------------------------


class ManagedMembershipSerializer(serializers.ModelSerializer):
    pool = serializers.PrimaryKeyRelatedField(read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    control_accuracy = serializers.SerializerMethodField()
    control_answers = serializers.SerializerMethodField()
    last_calibration_accuracy = serializers.SerializerMethodField()

    class Meta:
        model = PoolMembership
        fields = ["id", "pool", "username", "state", "updated_at", "control_accuracy", "control_answers",
                  "last_calibration_accuracy"]

    def _stats(self, obj):
        from evaluators.selectors import control_accuracy

        cache = self.context.setdefault("_control_stats", {})
        if obj.pk not in cache:
            cache[obj.pk] = control_accuracy(membership=obj)
        return cache[obj.pk]

    def get_control_accuracy(self, obj) -> float | None:
        return self._stats(obj).accuracy

    def get_control_answers(self, obj) -> int:
        return self._stats(obj).total

    def get_last_calibration_accuracy(self, obj) -> float | None:
        attempt = (
            obj.calibration_attempts.exclude(status=CalibrationAttempt.Status.IN_PROGRESS)
            .order_by("-submitted_at", "-id").first()
        )
        return attempt.accuracy if attempt else None


class InviteSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    reason = serializers.CharField(max_length=500, required=False, default="invited")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class DiscardSerializer(serializers.Serializer):
    since = serializers.DateTimeField(help_text="annotations created at or after this moment are discarded")
    reason = serializers.CharField(max_length=2000)


class DiscardResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    since = serializers.DateTimeField()
    reason = serializers.CharField()
    n_annotations = serializers.IntegerField(help_text="annotations taken out of aggregation")
    n_reopened = serializers.IntegerField(help_text="approved or adjudicated items re-opened")
    created_at = serializers.DateTimeField()
