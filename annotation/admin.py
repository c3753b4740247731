from django.contrib import admin

from annotation.models import AgreementSnapshot, Annotation, ApprovedLabel, Assignment, Item, Label, Project


class LabelInline(admin.TabularInline):
    model = Label
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "schema_type", "overlap", "aggregation", "auto_approve"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [LabelInline]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "language", "split", "status", "priority", "annotation_count", "source"]
    list_filter = ["project", "language", "split", "status", "source", "is_control"]
    search_fields = ["text", "external_id"]
    list_select_related = ["project", "language"]
    show_full_result_count = False


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["id", "item", "evaluator", "status", "is_control", "expires_at"]
    list_filter = ["status", "is_control"]
    raw_id_fields = ["item"]


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ["id", "item", "evaluator", "label", "guideline_version", "created_at"]
    raw_id_fields = ["item", "assignment"]


@admin.register(ApprovedLabel)
class ApprovedLabelAdmin(admin.ModelAdmin):
    list_display = ["item", "label", "method", "confidence", "approved_at"]
    list_filter = ["method"]
    raw_id_fields = ["item"]


@admin.register(AgreementSnapshot)
class AgreementSnapshotAdmin(admin.ModelAdmin):
    list_display = ["project", "language", "krippendorff_alpha", "fleiss_kappa", "n_items", "created_at"]
    list_filter = ["project", "language"]
