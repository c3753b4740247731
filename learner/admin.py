from django.contrib import admin, messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from learner.models import ModelVersion, SampledItem, SamplingRun, ScoringShard, TrainingRun
from learner.selectors import promotion_check
from learner.services import training_run_create
from parity import access
from parity.formatting import admin_metric


@admin.register(ModelVersion)
class ModelVersionAdmin(access.ObjectRoleAdmin, admin.ModelAdmin):
    role_perm = access.MANAGE_PROJECT

    @staticmethod
    def role_target(obj):
        return obj.project

    list_display = ["id", "project", "language", "backend", "status", "macro_f1_rounded", "n_labels", "created_at"]
    macro_f1_rounded = admin_metric("macro_f1", "macro-F1")
    list_filter = ["status", "backend", "language"]
    readonly_fields = ["metrics", "adapter_path", "adapter_bytes", "label_snapshot_hash"]
    actions = ["make_champion"]

    @admin.action(description=gettext_lazy("Make champion (promote / roll back), after a confirmation"))
    def make_champion(self, request, queryset):
        """Hands over to the console's confirmation page, which compares the version with the live
        champion and holds back a worse candidate: the admin is no shortcut around that check."""
        versions = access.admin_permitted(self, request, queryset, access.MANAGE_PROJECT, lambda v: v.project)
        if len(versions) != 1:
            if versions or not queryset.exists():
                messages.warning(request, _("Select one version: a new champion is confirmed one at a time."))
            return None
        check = promotion_check(versions[0])
        if not check.kind:
            messages.info(request, _("Model v%(id)s is already the champion.") % {"id": versions[0].pk})
            return None
        return redirect("learner:model_action", versions[0].pk, check.kind)


@admin.register(TrainingRun)
class TrainingRunAdmin(access.ObjectRoleAdmin, admin.ModelAdmin):
    role_perm = access.MANAGE_PROJECT

    @staticmethod
    def role_target(obj):
        return obj.project

    list_display = ["id", "project", "backend", "status", "progress", "trigger", "created_at"]
    list_filter = ["status", "backend"]
    actions = ["retrain_now"]

    @admin.action(description=gettext_lazy("Retrain now with the same settings"))
    def retrain_now(self, request, queryset):
        runs = access.admin_permitted(self, request, queryset, access.MANAGE_PROJECT, lambda r: r.project)
        for run in runs:
            training_run_create(project=run.project, languages=list(run.languages.all()), backend=run.backend,
                                config=run.config, trigger="console")
        if runs:
            messages.success(request, ngettext("Queued %(n)d training run.", "Queued %(n)d training runs.", len(runs))
                             % {"n": len(runs)})


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
