from rest_framework import serializers

from annotation.exports import EXPORT_FORMATS
from annotation.importing import FORMATS as IMPORT_FORMATS
from annotation.models import (
    AgreementSnapshot,
    Annotation,
    ApprovedLabelHistory,
    Assignment,
    Item,
    ItemFlag,
    Project,
    Report,
)

# Formats a datetime exactly as a declared DateTimeField does (settings' format, current time zone).
_DATETIME = serializers.DateTimeField()


class ProjectSerializer(serializers.ModelSerializer):
    labels = serializers.SlugRelatedField(many=True, read_only=True, slug_field="value")
    languages = serializers.SlugRelatedField(many=True, read_only=True, slug_field="tag")

    class Meta:
        model = Project
        fields = [
            "id", "name", "slug", "description", "schema_type", "agreement_level", "overlap", "aggregation",
            "auto_approve", "labels", "languages",
        ]


class ItemForEvaluatorSerializer(serializers.ModelSerializer):
    """What an evaluator sees of an item: never the reference label nor whether it is a control, and an
    opaque random id instead of the row id (row ids are sequential: controls created first would show)."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    language = serializers.CharField(source="language.tag")
    direction = serializers.CharField(source="language.direction")

    class Meta:
        model = Item
        fields = ["id", "text", "language", "direction"]


class AssignmentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    item = ItemForEvaluatorSerializer()
    project = serializers.CharField(source="item.project.slug")
    status = serializers.CharField(read_only=True, help_text="active, submitted, skipped, expired or released")

    class Meta:
        model = Assignment
        fields = ["id", "project", "item", "status", "leased_at", "expires_at", "skip_reason"]

    def to_representation(self, instance: Assignment) -> dict:
        """Built by hand, field for field what the declared fields give (a test compares the two).

        Why: this is the body of every ``next``, on the path an annotator waits for between two items,
        and DRF rebuilds a ModelSerializer's fields from the model on each instance (about 0.3 ms a
        response here). The declarations above still drive the schema and the field names."""
        item = instance.item
        return {
            "id": str(instance.public_id),
            "project": item.project.slug,
            "item": {"id": str(item.public_id), "text": item.text, "language": item.language.tag,
                     "direction": item.language.direction},
            "status": str(instance.status),
            "leased_at": _DATETIME.to_representation(instance.leased_at),
            "expires_at": _DATETIME.to_representation(instance.expires_at),
            "skip_reason": instance.skip_reason,
        }


class NextSerializer(serializers.Serializer):
    project = serializers.SlugField(required=False, help_text="only this project (slug)")


class SubmitSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=100)
    idempotency_key = serializers.CharField(max_length=64)
    time_spent_ms = serializers.IntegerField(min_value=0, default=0)
    guideline_version_id = serializers.IntegerField(
        required=False, help_text="the guideline version shown; refused if it is no longer current"
    )


class SkipSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class FlagSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ItemFlag.Reason.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ItemFlagSerializer(serializers.ModelSerializer):
    item = serializers.UUIDField(source="item.public_id", read_only=True)

    class Meta:
        model = ItemFlag
        fields = ["id", "item", "reason", "comment", "created_at"]


class AnnotationListSerializer(serializers.ListSerializer):
    """Works out ``editable`` for the whole page at once instead of a few queries per annotation."""

    def to_representation(self, data):
        from annotation.selectors import annotations_editable

        rows = list(data.all() if hasattr(data, "all") else data)
        self.child.context["editable"] = annotations_editable(rows)
        return super().to_representation(rows)


class AnnotationSerializer(serializers.ModelSerializer):
    """An evaluator's own label; ids of the item and assignment are their opaque public ids."""

    assignment = serializers.UUIDField(source="assignment.public_id", read_only=True)
    item = serializers.UUIDField(source="item.public_id", read_only=True)
    guideline_version = serializers.CharField(source="guideline_version.label", read_only=True)
    editable = serializers.SerializerMethodField()

    class Meta:
        model = Annotation
        list_serializer_class = AnnotationListSerializer
        fields = [
            "id", "assignment", "item", "label", "guideline_version", "time_spent_ms", "created_at", "updated_at",
            "editable",
        ]

    def get_editable(self, obj: Annotation) -> bool:
        from annotation.selectors import annotation_editable

        known = self.context.get("editable", {})
        return known[obj.pk] if obj.pk in known else annotation_editable(obj)

    def to_representation(self, instance: Annotation) -> dict:
        """Built by hand like :meth:`AssignmentSerializer.to_representation`, for the same reason: it is
        the body of every submit (a test compares it with what the declared fields give)."""
        return {
            "id": instance.pk,
            "assignment": str(instance.assignment.public_id),
            "item": str(instance.item.public_id),
            "label": instance.label,
            "guideline_version": instance.guideline_version.label,
            "time_spent_ms": instance.time_spent_ms,
            "created_at": _DATETIME.to_representation(instance.created_at),
            "updated_at": _DATETIME.to_representation(instance.updated_at),
            "editable": self.get_editable(instance),
        }


class AnnotationUpdateSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=100)


class VoteSerializer(serializers.ModelSerializer):
    evaluator = serializers.CharField(source="evaluator.username")

    class Meta:
        model = Annotation
        fields = ["evaluator", "label", "time_spent_ms", "created_at"]


class ReviewItemSerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="project.slug")
    language = serializers.CharField(source="language.tag")
    direction = serializers.CharField(source="language.direction")
    votes = serializers.SerializerMethodField()
    approved_label = serializers.CharField(source="approved_label.label", default=None, allow_null=True)
    status = serializers.CharField(read_only=True, help_text="open, adjudication or approved")

    class Meta:
        model = Item
        fields = [
            "id", "project", "language", "direction", "text", "status", "proposed_label", "proposed_confidence",
            "proposed_method", "review_reason", "approved_label", "votes",
        ]

    def get_votes(self, obj: Item) -> list[dict]:
        votes = getattr(obj, "review_votes", None)  # prefetched by the review selectors
        if votes is None:
            votes = (obj.annotations.counted().filter(assignment__is_control=False).select_related("evaluator")
                     .order_by("id"))
        return VoteSerializer(votes, many=True).data


class ReviewSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class OverrideSerializer(ReviewSerializer):
    label = serializers.CharField(max_length=100)


class FlagResolveSerializer(ReviewSerializer):
    action = serializers.ChoiceField(
        choices=["dismiss", "remove", "relabel"],
        help_text="dismiss: the item stays in the pool as it is; remove: it leaves the pool; relabel: the "
        "reviewer's label is approved")
    label = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                  help_text="the label to approve (relabel only)")
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    def validate(self, attrs):
        if attrs["action"] == "relabel" and not attrs.get("label"):
            raise serializers.ValidationError({"label": "relabel needs the label to approve"})
        if attrs["action"] != "relabel" and attrs.get("label"):
            raise serializers.ValidationError({"label": f"only relabel takes a label, not {attrs['action']}"})
        return attrs


class FlagResolutionSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    resolution = serializers.ChoiceField(choices=ItemFlag.Resolution.choices)
    repeated = serializers.BooleanField(help_text="true: the same action had already settled the flags; "
                                        "nothing changed")


class BulkApproveSerializer(ReviewSerializer):
    items = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=200,
                                  help_text="ids of the items whose proposed label to approve (at most 200)")
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class BulkRefusalSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    reason = serializers.CharField()


class BulkApproveResultSerializer(serializers.Serializer):
    approved = serializers.ListField(child=serializers.IntegerField(), help_text="approved by this request")
    already_approved = serializers.ListField(child=serializers.IntegerField(),
                                             help_text="approved before (a repeated request): left as they are")
    refused = BulkRefusalSerializer(many=True, help_text="waiting items this request could not approve (a tie "
                                    "has no proposed label: override it), with the reason")
    not_found = serializers.ListField(child=serializers.IntegerField(),
                                      help_text="ids naming no item this reviewer reviews: nothing was done")


class LabelHistorySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None)

    class Meta:
        model = ApprovedLabelHistory
        fields = ["action", "label", "previous_label", "method", "confidence", "actor", "comment", "created_at"]


class ApprovedLabelSerializer(serializers.Serializer):
    item = serializers.IntegerField(source="item_id")
    label = serializers.CharField()
    method = serializers.CharField()
    confidence = serializers.FloatField()


class AgreementSnapshotSerializer(serializers.ModelSerializer):
    language = serializers.CharField(source="language.tag", default=None, allow_null=True,
                                     help_text="null: the whole project")

    class Meta:
        model = AgreementSnapshot
        fields = [
            "id", "language", "level", "trigger", "krippendorff_alpha", "fleiss_kappa", "cohen_kappa_mean",
            "percent_agreement", "n_items", "n_annotators", "n_ratings", "counts", "created_at",
        ]


class AgreementQuerySerializer(serializers.Serializer):
    language = serializers.CharField(required=False, help_text="a language tag; omitted: the whole project")


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    file_format = serializers.ChoiceField(choices=IMPORT_FORMATS, required=False)


class ImportResultSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    skipped_existing = serializers.IntegerField()
    skipped_duplicate = serializers.IntegerField()
    languages = serializers.DictField(child=serializers.IntegerField())


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="1 = the header (CSV/TSV), the first line (JSONL) or task (Label Studio)")
    message = serializers.CharField()


class ImportErrorSerializer(serializers.Serializer):
    """A rejected file (``detail`` + every bad row) or a bad form field (``{"file": [...]}``)."""

    detail = serializers.CharField(required=False)
    errors = ImportRowErrorSerializer(many=True, required=False)


class ExportQuerySerializer(serializers.Serializer):
    file_format = serializers.ChoiceField(choices=[f for f in EXPORT_FORMATS if f != "hf"], default="jsonl")


class AggregateResultSerializer(serializers.Serializer):
    decided = serializers.IntegerField()


class LanguageCapacitySerializer(serializers.Serializer):
    language = serializers.CharField(source="language.tag")
    language_name = serializers.CharField(source="language.name")
    overlap = serializers.IntegerField(help_text="k configured for this language (pool overlap, else project's)")
    capacity = serializers.IntegerField(help_text="active qualified evaluators with the current guideline acknowledged")
    effective_overlap = serializers.IntegerField(help_text="labels an item is aggregated with now")
    ok = serializers.BooleanField(help_text="capacity >= overlap")
    stalled = serializers.BooleanField(help_text="items cannot get the labels aggregation waits for")
    qualified = serializers.IntegerField()
    unacknowledged = serializers.IntegerField()
    suspended = serializers.IntegerField()
    calibrating = serializers.IntegerField()
    open_items = serializers.IntegerField()
    advice = serializers.CharField(help_text="what to do when capacity < overlap (empty when ok)")


class ProjectHealthSerializer(serializers.Serializer):
    project = serializers.CharField()
    ok = serializers.BooleanField(help_text="every language has the capacity its overlap needs")
    aggregate_when_short = serializers.BooleanField()
    short_min_labels = serializers.IntegerField()
    languages = LanguageCapacitySerializer(many=True)


class ReportCreateSerializer(serializers.Serializer):
    """Public report; ``website`` is a honeypot that people leave empty."""

    language = serializers.CharField(max_length=16, help_text="e.g. hau_Latn, urd_Arab")
    input_text = serializers.CharField(max_length=5000)
    model_output = serializers.CharField(max_length=5000)
    category = serializers.ChoiceField(choices=Report.Category.choices)
    suggested_correction = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    contact = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    website = serializers.CharField(required=False, allow_blank=True, default="", write_only=True)

    def validate_website(self, value: str) -> str:
        if value:
            raise serializers.ValidationError("This field must be left empty.")
        return value

    def validate_language(self, value: str) -> str:
        from annotation.selectors import served_language
        from evaluators.languages import LanguageCodeError

        try:
            language = served_language(value.strip())
        except LanguageCodeError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        if language is None:
            raise serializers.ValidationError(f"{value.strip()} is not a language we serve yet")
        return language.tag


class ReportStatusSerializer(serializers.ModelSerializer):
    """All a reporter learns: their reference, the status and a note; never other reports or item ids."""

    language = serializers.CharField(source="language.tag")
    status = serializers.CharField(read_only=True, help_text="new, accepted, rejected or duplicate")
    status_display = serializers.CharField(source="get_status_display")

    class Meta:
        model = Report
        fields = ["reference", "language", "category", "status", "status_display", "resolution", "created_at",
                  "updated_at"]
