from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from annotation import services
from annotation.capacity import capacity_report, capacity_warnings
from annotation.models import (
    AgreementSnapshot,
    Annotation,
    AnnotationDiscard,
    ApprovedLabel,
    ApprovedLabelHistory,
    Assignment,
    Item,
    ItemFlag,
    Label,
    Project,
    Report,
    SweepWatermark,
)
from evaluators import admin as evaluators_admin
from evaluators.models import Pool, PoolMembership
from parity import access
from parity.formatting import admin_metric


class LabelInline(admin.TabularInline):
    model = Label
    extra = 0


def warn_about_capacity(modeladmin, request, project) -> None:
    """Saving k above what a language's evaluators can give is allowed, but never silently."""
    for line in capacity_warnings(project=project):
        modeladmin.message_user(request, _("Capacity below overlap: %(line)s") % {"line": line}, messages.WARNING)


@admin.register(Project)
class ProjectAdmin(access.ObjectRoleAdmin, admin.ModelAdmin):
    role_perm = access.MANAGE_PROJECT
    """Projects. Overlap k is the number of distinct evaluators per item (a pool can set its own k for its
    language). Capacity is the number of active qualified evaluators of a language who acknowledged the
    current guideline: below k, items cannot complete, unless "aggregate when short" lets the project
    aggregate with the labels it can get (never fewer than "fewest labels when short"; 1 label always goes to a
    reviewer). Saving a project whose k exceeds a language's capacity shows a warning."""

    list_display = ["name", "slug", "schema_type", "overlap", "aggregation", "auto_approve", "min_confidence",
                    "aggregate_when_short", "capacity"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [LabelInline]
    readonly_fields = ["capacity_by_language"]
    actions = ["aggregate", "record_agreement", "promote_controls"]

    @admin.display(description=gettext_lazy("capacity / k per language"))
    def capacity(self, obj):
        rows = capacity_report(project=obj)
        return format_html_join(
            ", ", '<span style="color:{}">{} {}/{}</span>',
            (("#b00020" if not row.ok else "inherit", row.language.display_name, row.capacity, row.overlap)
             for row in rows),
        ) or "—"

    @admin.display(description=gettext_lazy("capacity"))
    def capacity_by_language(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        rows = capacity_report(project=obj)
        body = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((row.language.display_name, row.capacity, row.overlap, row.effective_overlap, row.advice or _("ok"))
             for row in rows),
        )
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>k</th><th>{}</th><th>{}</th></tr>{}</table>",
            _("language"), _("capacity"), _("aggregated with"), _("status"), body,
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        warn_about_capacity(self, request, obj)
        if obj.aggregate_when_short:  # items that waited for k may be decided now
            from django.db import transaction

            from annotation.tasks import aggregate

            transaction.on_commit(lambda: services._enqueue(aggregate, obj.pk))

    @admin.action(description=gettext_lazy("Promote high-confidence approved items to controls (unanimous, "
                                           "evaluators above the accuracy floor)"))
    def promote_controls(self, request, queryset):
        projects = access.admin_permitted(self, request, queryset, access.MANAGE_PROJECT)
        promoted = sum(len(services.controls_promote(project=project, actor=request.user)) for project in projects)
        self.message_user(request, ngettext("%(n)d approved item promoted to a control item.",
                                            "%(n)d approved items promoted to control items.", promoted)
                          % {"n": promoted})

    @admin.action(description=gettext_lazy("Aggregate items that have their k annotations"))
    def aggregate(self, request, queryset):
        projects = access.admin_permitted(self, request, queryset, access.MANAGE_PROJECT)
        decided = sum(services.aggregation_batch_run(project=project) for project in projects)
        self.message_user(request, ngettext("%(n)d item aggregated.", "%(n)d items aggregated.", decided)
                          % {"n": decided})

    @admin.action(description=gettext_lazy("Record agreement snapshots now"))
    def record_agreement(self, request, queryset):
        count = 0
        for project in access.admin_permitted(self, request, queryset, access.MANAGE_PROJECT):
            for language in project.languages.all():
                services.agreement_snapshot_record(project=project, language=language)
                count += 1
            services.agreement_snapshot_record(project=project)
            count += 1
        self.message_user(request, ngettext("%(n)d snapshot recorded.", "%(n)d snapshots recorded.", count)
                          % {"n": count})


@admin.register(Item)
class ItemAdmin(access.ObjectRoleAdmin, admin.ModelAdmin):
    role_perm = access.MANAGE_PROJECT

    @staticmethod
    def role_target(obj):
        return obj.project

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
    list_display = ["id", "item", "evaluator", "label", "guideline_version", "created_at", "discarded_at"]
    list_filter = [("discarded_at", admin.EmptyFieldListFilter)]
    raw_id_fields = ["item", "assignment"]
    readonly_fields = ["discarded_at", "discard"]


@admin.register(ItemFlag)
class ItemFlagAdmin(admin.ModelAdmin):
    list_display = ["item", "evaluator", "reason", "comment", "created_at"]
    list_filter = ["reason"]
    raw_id_fields = ["item"]


@admin.register(ApprovedLabel)
class ApprovedLabelAdmin(admin.ModelAdmin):
    list_display = ["item", "label", "method", "confidence_rounded", "approved_by", "approved_at"]
    confidence_rounded = admin_metric("confidence", gettext_lazy("confidence"))
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


@admin.register(AnnotationDiscard)
class AnnotationDiscardAdmin(admin.ModelAdmin):
    """The log of discards: a member's annotations since a date taken out of aggregation (made from the
    member's page in the pool memberships admin: "discard annotations since…")."""

    list_display = ["membership", "since", "n_annotations", "n_reopened", "actor", "created_at"]
    readonly_fields = ["membership", "since", "reason", "actor", "n_annotations", "n_reopened", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AgreementSnapshot)
class AgreementSnapshotAdmin(admin.ModelAdmin):
    list_display = ["project", "language", "level", "trigger", "alpha_rounded", "fleiss_rounded", "cohen_rounded",
                    "n_items", "created_at"]
    alpha_rounded = admin_metric("krippendorff_alpha", gettext_lazy("Krippendorff's α"))
    fleiss_rounded = admin_metric("fleiss_kappa", gettext_lazy("Fleiss' κ"))
    cohen_rounded = admin_metric("cohen_kappa_mean", gettext_lazy("mean Cohen's κ"))
    list_filter = ["project", "language", "trigger"]


@admin.register(SweepWatermark)
class SweepWatermarkAdmin(admin.ModelAdmin):
    """Where the periodic sweeps got to (read-only; delete the row to make the next sweep a full pass)."""

    list_display = ["name", "value", "full_at", "updated_at"]
    readonly_fields = ["name", "value", "full_at", "pending", "updated_at"]

    def has_add_permission(self, request):
        return False


@admin.register(Report)
class ReportAdmin(access.ObjectRoleAdmin, admin.ModelAdmin):
    role_perm = access.TRIAGE_REPORT
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

    def _each(self, request, queryset, call, done_message) -> None:
        """Run ``call`` on each report the user triages; ``done_message(n)`` says what became of them."""
        done, failed = 0, []
        for report in access.admin_permitted(self, request, queryset, access.TRIAGE_REPORT):
            try:
                call(report)
                done += 1
            except ValidationError as exc:
                failed.append(f"{report.reference[:8]}…: {'; '.join(exc.messages)}")
        if done:
            self.message_user(request, done_message(done))
        for message in failed:
            self.message_user(request, message, level=messages.WARNING)

    @admin.action(description=gettext_lazy("Accept: queue as a high-priority item of the language's project"))
    def accept(self, request, queryset):
        self._each(request, queryset, lambda r: services.report_accept(report=r, actor=request.user),
                   lambda n: ngettext("Accepted %(n)d report.", "Accepted %(n)d reports.", n) % {"n": n})

    @admin.action(description=gettext_lazy("Reject (reason: not a model problem)"))
    def reject(self, request, queryset):
        self._each(request, queryset, lambda r: services.report_reject(
            report=r, reason=_("Rejected in triage: not a model problem we can fix."), actor=request.user
        ), lambda n: ngettext("Rejected %(n)d report.", "Rejected %(n)d reports.", n) % {"n": n})

    @admin.action(description=gettext_lazy("Mark as duplicates of the oldest selected report"))
    def mark_duplicate(self, request, queryset):
        reports = list(queryset.order_by("created_at", "id"))
        if len(reports) < 2:
            self.message_user(request, _("Select the original and its duplicates."), level=messages.WARNING)
            return
        original = reports[0]
        self._each(request, queryset.exclude(pk=original.pk),
                   lambda r: services.report_mark_duplicate(report=r, of=original, actor=request.user),
                   lambda n: ngettext("Marked %(n)d report as a duplicate of %(original)s….",
                                      "Marked %(n)d reports as duplicates of %(original)s….", n)
                   % {"n": n, "original": original.reference[:8]})


@admin.register(Label)
class LabelAdmin(access.ObjectRoleAdmin, admin.ModelAdmin):
    role_perm = access.MANAGE_PROJECT

    @staticmethod
    def role_target(obj):
        return obj.project

    list_display = ["value", "display", "project", "order"]
    list_filter = ["project"]


# --- the evaluators admin, extended with what needs annotations ---------------------------------
# ``evaluators`` imports nothing from ``annotation``; the parts of its pool and member pages that read
# or change annotations (capacity warning, consensus agreement, discarding a member's annotations) are
# added here, by re-registering its admin classes with these subclasses.

class PoolWithCapacityAdmin(evaluators_admin.PoolAdmin):
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        warn_about_capacity(self, request, obj.project)


class MembershipWithAnnotationsAdmin(evaluators_admin.PoolMembershipAdmin):
    detail_extra = ["discard_link"]

    def consensus_for(self, obj):
        from annotation.selectors import consensus_agreement

        return consensus_agreement(user=obj.user, project=obj.pool.project, language=obj.pool.language)

    @admin.display(description=gettext_lazy("discard annotations"))
    def discard_link(self, obj):
        url = reverse("admin:evaluators_poolmembership_discard", args=[obj.pk])
        return format_html(
            '<a href="{}">{}</a> {}', url, _("Discard this member's annotations since a date…"),
            _("(they leave aggregation; approved labels that relied on them are re-opened; logged)"),
        )

    def get_urls(self):
        return [
            path("<int:pk>/discard/", self.admin_site.admin_view(self.discard_view),
                 name="evaluators_poolmembership_discard"),
        ] + super().get_urls()

    def discard_view(self, request, pk):

        membership = get_object_or_404(PoolMembership.objects.select_related("pool__project", "user"), pk=pk)
        if not self.has_change_permission(request, membership):
            raise PermissionDenied
        form = evaluators_admin.DiscardForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                discard = services.annotations_discard(membership=membership, since=form.cleaned_data["since"],
                                              reason=form.cleaned_data["reason"], actor=request.user)
            except ValidationError as exc:
                form.add_error(None, "; ".join(exc.messages))
            else:
                self.message_user(request, _("%(annotations)s discarded, %(items)s re-opened.") % {
                    "annotations": ngettext("%(n)d annotation", "%(n)d annotations", discard.n_annotations)
                    % {"n": discard.n_annotations},
                    "items": ngettext("%(n)d item", "%(n)d items", discard.n_reopened) % {"n": discard.n_reopened},
                }, messages.SUCCESS)
                return redirect("admin:evaluators_poolmembership_change", membership.pk)
        total = Annotation.objects.counted().filter(
            evaluator=membership.user, item__project=membership.pool.project, item__language=membership.pool.language
        ).count()
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "membership": membership,
            "form": form, "total": total, "since_count_hint": _("choose the date the problem began."),
            "past": AnnotationDiscard.objects.filter(membership=membership).select_related("actor"),
            "title": _("Discard annotations of %(user)s") % {"user": membership.user},
        }
        return TemplateResponse(request, "admin/evaluators/poolmembership/discard.html", context)


for _model, _admin_class in ((Pool, PoolWithCapacityAdmin), (PoolMembership, MembershipWithAnnotationsAdmin)):
    admin.site.unregister(_model)
    admin.site.register(_model, _admin_class)
