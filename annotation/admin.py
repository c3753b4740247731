from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from annotation import services
from annotation.models import (
    AgreementSnapshot,
    Annotation,
    ApprovedLabel,
    ApprovedLabelHistory,
    Assignment,
    Item,
    ItemFlag,
    Label,
    Project,
    Report,
)
from parity import access


class LabelInline(admin.TabularInline):
    model = Label
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "schema_type", "overlap", "aggregation", "auto_approve", "min_confidence"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [LabelInline]
    actions = ["aggregate", "record_agreement"]

    @admin.action(description="Aggregate items that have their k annotations")
    def aggregate(self, request, queryset):
        projects = access.admin_permitted(self, request, queryset, access.MANAGE_PROJECT)
        decided = sum(services.aggregation_batch_run(project=project) for project in projects)
        self.message_user(request, f"{decided} item(s) aggregated.")

    @admin.action(description="Record agreement snapshots now")
    def record_agreement(self, request, queryset):
        count = 0
        for project in access.admin_permitted(self, request, queryset, access.MANAGE_PROJECT):
            for language in project.languages.all():
                services.agreement_snapshot_record(project=project, language=language)
                count += 1
            services.agreement_snapshot_record(project=project)
            count += 1
        self.message_user(request, f"{count} snapshot(s) recorded.")


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "language", "split", "status", "priority", "annotation_count", "source",
                    "review_reason"]
    list_filter = ["project", "language", "split", "status", "source", "is_control"]
    search_fields = ["text", "external_id"]
    list_select_related = ["project", "language"]
    show_full_result_count = False


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["id", "item", "evaluator", "status", "is_control", "expires_at", "skip_reason"]
    list_filter = ["status", "is_control"]
    raw_id_fields = ["item"]


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ["id", "item", "evaluator", "label", "guideline_version", "created_at"]
    raw_id_fields = ["item", "assignment"]


@admin.register(ItemFlag)
class ItemFlagAdmin(admin.ModelAdmin):
    list_display = ["item", "evaluator", "reason", "comment", "created_at"]
    list_filter = ["reason"]
    raw_id_fields = ["item"]


@admin.register(ApprovedLabel)
class ApprovedLabelAdmin(admin.ModelAdmin):
    list_display = ["item", "label", "method", "confidence", "approved_by", "approved_at"]
    list_filter = ["method"]
    raw_id_fields = ["item"]

    def has_change_permission(self, request, obj=None):  # changes go through review_override (history kept)
        return False


@admin.register(ApprovedLabelHistory)
class ApprovedLabelHistoryAdmin(admin.ModelAdmin):
    list_display = ["item", "action", "previous_label", "label", "method", "actor", "created_at"]
    list_filter = ["action", "method"]
    raw_id_fields = ["item"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AgreementSnapshot)
class AgreementSnapshotAdmin(admin.ModelAdmin):
    list_display = ["project", "language", "level", "trigger", "krippendorff_alpha", "fleiss_kappa", "n_items",
                    "created_at"]
    list_filter = ["project", "language", "trigger"]


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """The triage queue: new reports first; accept, reject or mark duplicates with the actions."""

    list_display = ["reference", "language", "category", "status", "created_at", "item"]
    list_filter = ["status", "category", "language"]
    search_fields = ["reference", "input_text", "model_output"]
    readonly_fields = ["reference", "language", "input_text", "model_output", "category", "suggested_correction",
                       "contact", "status", "duplicate_of", "item", "triaged_by", "created_at", "updated_at"]
    actions = ["accept", "reject", "mark_duplicate"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("language", "item")

    def has_add_permission(self, request):
        return False

    def _each(self, request, queryset, call) -> None:
        done, failed = 0, []
        for report in access.admin_permitted(self, request, queryset, access.TRIAGE_REPORT):
            try:
                call(report)
                done += 1
            except ValidationError as exc:
                failed.append(f"{report.reference[:8]}…: {'; '.join(exc.messages)}")
        if done:
            self.message_user(request, f"{done} report(s) updated.")
        for message in failed:
            self.message_user(request, message, level=messages.WARNING)

    @admin.action(description="Accept: queue as a high-priority item of the language's project")
    def accept(self, request, queryset):
        self._each(request, queryset, lambda r: services.report_accept(report=r, actor=request.user))

    @admin.action(description="Reject (reason: not a model problem)")
    def reject(self, request, queryset):
        self._each(request, queryset, lambda r: services.report_reject(
            report=r, reason="Rejected in triage: not a model problem we can fix.", actor=request.user
        ))

    @admin.action(description="Mark as duplicates of the oldest selected report")
    def mark_duplicate(self, request, queryset):
        reports = list(queryset.order_by("created_at", "id"))
        if len(reports) < 2:
            self.message_user(request, "Select the original and its duplicates.", level=messages.WARNING)
            return
        original = reports[0]
        self._each(request, queryset.exclude(pk=original.pk),
                   lambda r: services.report_mark_duplicate(report=r, of=original, actor=request.user))


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ["value", "display", "project", "order"]
    list_filter = ["project"]
