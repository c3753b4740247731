from django.contrib import admin, messages

from learner.models import ModelVersion, SampledItem, SamplingRun, ScoringShard, TrainingRun
from learner.services import model_version_rollback, training_run_create
from parity import access


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "language", "backend", "status", "macro_f1", "n_labels", "created_at"]
    list_filter = ["status", "backend", "language"]
    readonly_fields = ["metrics", "adapter_path", "adapter_bytes", "label_snapshot_hash"]
    actions = ["make_champion"]

    @admin.action(description="Make champion (roll back / promote)")
    def make_champion(self, request, queryset):
        versions = access.admin_permitted(self, request, queryset, access.MANAGE_PROJECT, lambda v: v.project)
        for version in versions:
            model_version_rollback(version=version)
        if versions:
            messages.success(request, f"{len(versions)} version(s) promoted")


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "backend", "status", "progress", "trigger", "created_at"]
    list_filter = ["status", "backend"]
    actions = ["retrain_now"]

    @admin.action(description="Retrain now with the same settings")
    def retrain_now(self, request, queryset):
        runs = access.admin_permitted(self, request, queryset, access.MANAGE_PROJECT, lambda r: r.project)
        for run in runs:
            training_run_create(project=run.project, languages=list(run.languages.all()), backend=run.backend,
                                config=run.config, trigger="console")
        if runs:
            messages.success(request, f"{len(runs)} run(s) queued")


class SampledItemInline(admin.TabularInline):
    model = SampledItem
    extra = 0
    raw_id_fields = ["item"]


class ScoringShardInline(admin.TabularInline):
    model = ScoringShard
    extra = 0
    fields = ["language", "index", "id_from", "id_to", "status", "n_scored", "finished_at"]
    readonly_fields = fields


@admin.register(SamplingRun)
class SamplingRunAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "strategy", "allocation_mode", "budget", "status", "created_at"]
    list_filter = ["allocation_mode", "strategy", "status"]
    readonly_fields = ["allocation"]
    inlines = [ScoringShardInline, SampledItemInline]


@admin.register(SampledItem)
class SampledItemAdmin(admin.ModelAdmin):
    list_display = ["run", "item", "rank", "score"]
    raw_id_fields = ["item"]


@admin.register(ScoringShard)
class ScoringShardAdmin(admin.ModelAdmin):
    list_display = ["id", "run", "language", "index", "id_from", "id_to", "status", "n_scored"]
    list_filter = ["status"]
