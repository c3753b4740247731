"""The evaluators console: pools and members (with their scores and the admin transitions), guideline
editor (preview, publish, diff, acknowledgement report), calibration rounds and results, notifications.

State changes go through the services, never through a form field, so every one is logged.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from evaluators import selectors, services
from evaluators.models import (
    CalibrationAnswer,
    CalibrationAttempt,
    CalibrationItem,
    CalibrationRound,
    ControlAnswer,
    EvaluatorLanguage,
    EvaluatorProfile,
    GoldExposure,
    Guideline,
    GuidelineAcknowledgement,
    GuidelineAddendum,
    GuidelineVersion,
    Language,
    MembershipEvent,
    Notification,
    PersonalToken,
    Pool,
    PoolMembership,
)
from evaluators.rendering import render_markdown
from parity import access
from parity.formatting import admin_metric


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


@admin.register(Language)
class LanguageAdmin(admin.ModelAdmin):
    list_display = ["tag", "name", "direction"]
    search_fields = ["code", "name"]
    readonly_fields = ["direction"]


class EvaluatorLanguageInline(admin.TabularInline):
    model = EvaluatorLanguage
    extra = 0


@admin.register(EvaluatorProfile)
class EvaluatorProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "pseudonym", "daily_capacity", "timezone"]
    search_fields = ["user__username", "pseudonym"]
    inlines = [EvaluatorLanguageInline]


# --- pools and members ---------------------------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    """A history shown beside its parent: rows are written by services (and logged), never typed in here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields or self.readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


class MembershipInline(ReadOnlyInline):
    """Members at a glance; invitations go through the membership page, so each one is logged."""

    model = PoolMembership
    fields = ["user", "state", "control_accuracy", "last_calibration", "updated_at", "manage"]
    show_change_link = True

    @admin.display(description=gettext_lazy("control accuracy"))
    def control_accuracy(self, obj):
        stats = selectors.control_accuracy(membership=obj)
        return f"{_pct(stats.accuracy)} ({stats.correct}/{stats.total})"

    @admin.display(description=gettext_lazy("last calibration"))
    def last_calibration(self, obj):
        attempt = obj.calibration_attempts.exclude(status="in_progress").order_by("-submitted_at").first()
        return f"{_pct(attempt.accuracy)} ({attempt.get_status_display()})" if attempt else "—"

    @admin.display(description="")
    def manage(self, obj):
        url = reverse("admin:evaluators_poolmembership_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("suspend / reinstate / remove…"))


@admin.register(Pool)
class PoolAdmin(access.ObjectRoleAdmin, admin.ModelAdmin):
    role_perm = access.MANAGE_POOL
    """A language's evaluators and their quality rules.

    Control rate: the share of assignments that are gold control items, served at random positions and
    looking exactly like regular work. Retirement: a control is served to at most "gold max exposure"
    evaluators, then it is no longer used and the admins are told (promote fresh ones with the project
    action "Promote high-confidence approved items to controls"). Evaluators see their control accuracy only
    over completed blocks of "control report every" answers. Overlap: this language's k (empty: the
    project's); saving a k above the language's capacity shows a warning.
    """

    list_display = ["__str__", "project", "language", "dialect", "overlap", "pass_mark", "control_rate",
                    "accuracy_floor", "member_counts"]
    list_filter = ["project", "language"]
    filter_horizontal = ["admins"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["project", "language", "dialect", "overlap", "admins"],
                "description": gettext_lazy(
                    "Overlap: distinct evaluators per item (k) in this language; empty uses the project's. Saving "
                    "a k above the language's capacity (active qualified evaluators who acknowledged the "
                    "guideline) shows a warning; the console lists capacity per language.")}),
        (gettext_lazy("Calibration (gold bank)"), {
            "fields": ["pass_mark", "max_attempts", "retry_cooldown_hours"],
            "description": gettext_lazy(
                "Each calibration round is a gold bank: an attempt draws the round's 'items per attempt' gold "
                "items, never one the evaluator saw before, and its feedback covers only those retired items. A "
                "retry the bank cannot serve with unseen items is refused and you are asked to add gold "
                "(Calibration rounds).")}),
        (gettext_lazy("Control items"), {
            "fields": ["control_rate", "control_window", "control_min_answers", "accuracy_floor",
                       "control_report_every", "gold_max_exposure"],
            "description": gettext_lazy(
                "Control rate: share of assignments replaced by a gold control item, at random positions, "
                "indistinguishable from regular work. Members under the accuracy floor (rolling window, after the "
                "minimum number of answers) are suspended; members see their own accuracy only per completed "
                "block. Retirement: a control is served to at most 'gold max exposure' evaluators. Add controls "
                "with the project action 'Promote high-confidence approved items to controls'.")}),
    ]

    @admin.display(description=gettext_lazy("members"))
    def member_counts(self, obj):
        counts = {}
        for state in obj.memberships.values_list("state", flat=True):
            counts[state] = counts.get(state, 0) + 1
        names = dict(PoolMembership.State.choices)
        return ", ".join(f"{n} {names.get(s, s)}" for s, n in sorted(counts.items())) or "—"


class MembershipEventInline(ReadOnlyInline):
    model = MembershipEvent
    readonly_fields = ["from_state", "to_state", "actor", "reason", "created_at"]


class CalibrationAttemptInline(ReadOnlyInline):
    model = CalibrationAttempt
    fields = ["round", "number", "status", "accuracy_rounded", "kappa_rounded", "started_at", "submitted_at"]
    accuracy_rounded, kappa_rounded = admin_metric("accuracy", gettext_lazy("accuracy")), admin_metric("kappa", "κ")
    show_change_link = True


class DiscardForm(forms.Form):
    since = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        label=gettext_lazy("Since"),
        help_text=gettext_lazy("Annotations created at or after this moment (server time zone) are discarded"),
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label=gettext_lazy("Reason"),
                             help_text=gettext_lazy("Kept in the log"))


class InviteForm(forms.ModelForm):
    reason = forms.CharField(required=False, initial=gettext_lazy("invited from the console"),
                             label=gettext_lazy("Reason"))

    class Meta:
        model = PoolMembership
        fields = ["pool", "user"]


def _transition_action(service, name: str, description, done_message, logged, *, needs_reason: bool):
    """An admin action named by its imperative (``description``: "Suspend selected members") whose
    message says what happened (``done_message(n)``: "Suspended 2 members."); ``logged`` is the reason
    kept in the membership's history."""

    def action(modeladmin, request, queryset):
        done = 0
        for membership in access.admin_permitted(modeladmin, request, queryset.select_related("user", "pool"),
                                                 access.MANAGE_POOL):
            kwargs = {"membership": membership, "actor": request.user}
            if needs_reason:
                kwargs["reason"] = f"{logged} by {request.user} from the console"  # the log stays in English
            try:
                service(**kwargs)
                done += 1
            except ValidationError as exc:
                modeladmin.message_user(request, _("%(user)s: %(problem)s") % {
                    "user": membership.user, "problem": "; ".join(exc.messages)}, messages.ERROR)
        if done:
            modeladmin.message_user(request, done_message(done), messages.SUCCESS)

    action.__name__ = f"membership_{name}"
    return admin.action(description=description, permissions=["change"])(action)


@admin.register(PoolMembership)
class PoolMembershipAdmin(access.ObjectRoleAdmin, admin.ModelAdmin):
    role_perm = access.MANAGE_POOL

    @staticmethod
    def role_target(obj):
        return obj.pool

    list_display = ["user", "pool", "state", "control_accuracy", "last_calibration", "consensus", "updated_at"]
    list_filter = ["state", "pool__language", "pool__project"]
    search_fields = ["user__username"]
    inlines = [CalibrationAttemptInline, MembershipEventInline]
    # Read-only fields the annotation app's subclass adds (annotation.admin: discard, consensus).
    detail_extra: list[str] = []
    actions = [
        _transition_action(
            services.membership_suspend, "suspended", gettext_lazy("Suspend selected members"),
            lambda n: ngettext("Suspended %(n)d member.", "Suspended %(n)d members.", n) % {"n": n},
            "suspended", needs_reason=True),
        _transition_action(
            services.membership_reinstate, "reinstated", gettext_lazy("Reinstate selected members"),
            lambda n: ngettext("Reinstated %(n)d member.", "Reinstated %(n)d members.", n) % {"n": n},
            "reinstated", needs_reason=False),
        _transition_action(
            services.membership_remove, "removed", gettext_lazy("Remove selected members"),
            lambda n: ngettext("Removed %(n)d member.", "Removed %(n)d members.", n) % {"n": n},
            "removed", needs_reason=True),
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = InviteForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["pool", "user", "reason"]
        return ["pool", "user", "state", "history", *self.detail_extra, "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["pool", "user", "state", "history", *self.detail_extra, "updated_at"]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            return  # state changes only through the actions, which log them
        membership = services.membership_invite(
            pool=form.cleaned_data["pool"], user=form.cleaned_data["user"], actor=request.user,
            reason=form.cleaned_data.get("reason") or "invited from the console",
        )
        obj.pk, obj.state = membership.pk, membership.state

    @admin.display(description=gettext_lazy("control accuracy"))
    def control_accuracy(self, obj):
        stats = selectors.control_accuracy(membership=obj)
        return f"{_pct(stats.accuracy)} ({stats.total})"

    @admin.display(description=gettext_lazy("last calibration"))
    def last_calibration(self, obj):
        attempt = obj.calibration_attempts.exclude(status="in_progress").order_by("-submitted_at").first()
        return _pct(attempt.accuracy) if attempt else "—"

    def consensus_for(self, obj):
        """Agreement with consensus needs annotations: the annotation app's subclass answers it."""
        return None

    @admin.display(description=gettext_lazy("agreement with consensus"))
    def consensus(self, obj):
        agreement = self.consensus_for(obj)
        return "—" if agreement is None else f"{_pct(agreement.rate)} ({agreement.total})"

    @admin.display(description=gettext_lazy("control accuracy over time"))
    def history(self, obj):
        history = selectors.member_history(membership=obj, series_points=20)
        rows = "".join(
            f"<tr><td>{at:%Y-%m-%d %H:%M}</td><td>{acc:.0%}</td><td>{n}</td></tr>"
            for at, acc, n in history.control_series
        )
        calibration = ", ".join(f"#{a.number}: {_pct(a.accuracy)}" for a in history.calibration) or _("none")
        return format_html(
            "<p>{}</p><p>{}</p><table><tr><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            _("Calibration: %(attempts)s") % {"attempts": calibration},
            _("Consensus agreement: %(rate)s") % {"rate": _pct(getattr(self.consensus_for(obj), "rate", None))},
            _("when"), _("rolling accuracy"), _("answers"), format_html(rows) if rows else "",
        )


@admin.register(MembershipEvent)
class MembershipEventAdmin(admin.ModelAdmin):
    list_display = ["membership", "from_state", "to_state", "actor", "reason", "created_at"]
    list_filter = ["to_state"]
    readonly_fields = ["membership", "from_state", "to_state", "actor", "reason", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- guidelines ----------------------------------------------------------------------------------


class GuidelineVersionInline(ReadOnlyInline):
    model = GuidelineVersion
    fields = ["label", "status", "published_at", "created_by"]
    show_change_link = True


@admin.register(Guideline)
class GuidelineAdmin(access.ObjectRoleAdmin, admin.ModelAdmin):
    role_perm = access.MANAGE_PROJECT

    @staticmethod
    def role_target(obj):
        return obj.project

    list_display = ["title", "project", "current", "report_link"]
    inlines = [GuidelineVersionInline]

    @admin.display(description=gettext_lazy("current version"))
    def current(self, obj):
        version = selectors.guideline_current(project=obj.project)
        return version.label if version else "—"

    @admin.display(description=gettext_lazy("acknowledgements"))
    def report_link(self, obj):
        url = reverse("admin:evaluators_guideline_acknowledgements", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("report"))

    def get_urls(self):
        return [
            path("<int:pk>/acknowledgements/", self.admin_site.admin_view(self.acknowledgements_view),
                 name="evaluators_guideline_acknowledgements"),
        ] + super().get_urls()

    def acknowledgements_view(self, request, pk):
        guideline = get_object_or_404(Guideline, pk=pk)
        if not self.has_view_permission(request, guideline):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "guideline": guideline,
            "current": selectors.guideline_current(project=guideline.project),
            "rows": selectors.guideline_acknowledgement_report(project=guideline.project),
            "title": _("Acknowledgements of %(guideline)s") % {"guideline": guideline},
        }
        return TemplateResponse(request, "admin/evaluators/guideline/acknowledgements.html", context)


class AddendumInline(admin.StackedInline):
    model = GuidelineAddendum
    extra = 0

    def _published(self, obj):
        return obj is not None and obj.is_published

    def has_add_permission(self, request, obj=None):
        return not self._published(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self._published(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._published(obj) and super().has_delete_permission(request, obj)


class DraftForm(forms.ModelForm):
    """A new version: pick the guideline and whether it is a minor (re-acknowledge) or major
    (re-calibrate) change; the number follows the latest version."""

    bump = forms.ChoiceField(label=gettext_lazy("Change"), choices=[
        ("minor", gettext_lazy("minor (re-acknowledgement)")),
        ("major", gettext_lazy("major (re-acknowledgement and re-calibration)"))])

    class Meta:
        model = GuidelineVersion
        fields = ["guideline", "body"]


@admin.register(GuidelineVersion)
class GuidelineVersionAdmin(access.ObjectRoleAdmin, admin.ModelAdmin):
    role_perm = access.MANAGE_PROJECT

    @staticmethod
    def role_target(obj):
        return obj.guideline.project

    list_display = ["guideline", "label", "status", "published_at", "diff_link"]
    list_filter = ["status", "guideline"]
    inlines = [AddendumInline]
    actions = ["publish"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = DraftForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["guideline", "bump", "body"]
        return ["guideline", "label", "status", "published_at", "created_by", "body", "preview"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        readonly = ["guideline", "label", "status", "published_at", "created_by", "preview"]
        return readonly + (["body"] if obj.is_published else [])

    def has_delete_permission(self, request, obj=None):
        return (obj is None or not obj.is_published) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        try:
            if not change:
                created = services.guideline_draft(
                    project=form.cleaned_data["guideline"].project, body=form.cleaned_data["body"],
                    bump=form.cleaned_data["bump"], author=request.user,
                )
                obj.pk, obj.major, obj.minor = created.pk, created.major, created.minor
                obj._state.adding = False
            elif "body" in form.cleaned_data:  # absent (read-only) once published
                services.guideline_draft_update(version=obj, body=form.cleaned_data["body"])
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)

    @admin.display(description=gettext_lazy("preview"))
    def preview(self, obj):
        return format_html('<div class="guideline-preview" style="max-width:60em">{}</div>', render_markdown(obj.body))

    @admin.display(description=gettext_lazy("diff"))
    def diff_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:evaluators_guidelineversion_diff", args=[obj.pk]),
                           _("diff"))

    @admin.action(description=gettext_lazy("Publish selected drafts"), permissions=["change"])
    def publish(self, request, queryset):
        versions = access.admin_permitted(self, request, queryset.order_by("major", "minor"),
                                          access.MANAGE_PROJECT, lambda v: v.guideline.project)
        for version in versions:
            try:
                services.guideline_publish(version=version, actor=request.user)
                self.message_user(request, _("Published %(version)s.") % {"version": version}, messages.SUCCESS)
            except ValidationError as exc:
                self.message_user(request, _("%(version)s: %(problem)s") % {
                    "version": version, "problem": "; ".join(exc.messages)}, messages.ERROR)

    def get_urls(self):
        return [
            path("<int:pk>/diff/", self.admin_site.admin_view(self.diff_view), name="evaluators_guidelineversion_diff"),
        ] + super().get_urls()

    def diff_view(self, request, pk):
        """Diff of this version against any other version of the same guideline (``?against=<id>``,
        the previous version by default)."""
        new = get_object_or_404(GuidelineVersion.objects.select_related("guideline"), pk=pk)
        versions = list(new.guideline.versions.order_by("major", "minor"))
        against = request.GET.get("against")
        if against and against.isdigit():
            old = get_object_or_404(GuidelineVersion, pk=int(against), guideline=new.guideline)
        else:
            earlier = [v for v in versions if (v.major, v.minor) < (new.major, new.minor)]
            old = earlier[-1] if earlier else new
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "old": old, "new": new,
            "versions": versions, "diff_table": selectors.guideline_diff_html(old=old, new=new),
            "diff_lines": selectors.guideline_diff(old=old, new=new),
            "title": _("%(guideline)s: diff") % {"guideline": new.guideline},
        }
        return TemplateResponse(request, "admin/evaluators/guidelineversion/diff.html", context)


@admin.register(GuidelineAcknowledgement)
class GuidelineAcknowledgementAdmin(admin.ModelAdmin):
    list_display = ["user", "version", "created_at"]
    list_filter = ["version__guideline", "version"]
    readonly_fields = ["user", "version", "created_at"]


# --- calibration -----------------------------------------------------------------------------------


class CalibrationItemInline(admin.TabularInline):
    model = CalibrationItem
    extra = 1
    fields = ["text", "reference_label", "explanation", "times_shown", "retire_flagged_at"]
    readonly_fields = ["times_shown", "retire_flagged_at"]


class RoundAttemptInline(ReadOnlyInline):
    model = CalibrationAttempt
    fields = ["user", "number", "status", "accuracy_rounded", "kappa_rounded", "submitted_at"]
    accuracy_rounded, kappa_rounded = admin_metric("accuracy", gettext_lazy("accuracy")), admin_metric("kappa", "κ")
    show_change_link = True
    verbose_name_plural = gettext_lazy("results")


@admin.register(CalibrationRound)
class CalibrationRoundAdmin(access.ObjectRoleAdmin, admin.ModelAdmin):
    role_perm = access.MANAGE_POOL

    @staticmethod
    def role_target(obj):
        return obj.pool

    """A calibration round is a gold bank: each attempt draws "items per attempt" of its gold items, never
    one the evaluator saw before, so the feedback after an attempt (gold answer and explanation) can never
    be replayed. Give the bank at least max attempts × items per attempt items; when it runs short, the
    retry is refused and the pool admins are asked to add gold here."""

    list_display = ["__str__", "pool", "guideline_major", "is_active", "n_items", "items_per_attempt",
                    "attempts_covered", "pass_rate"]
    fieldsets = [(None, {
        "fields": ["pool", "guideline_major", "title", "is_active", "items_per_attempt"],
        "description": gettext_lazy(
            "The gold items below are this round's bank. Each attempt draws 'items per attempt' of them, never one "
            "the evaluator saw in an earlier attempt; give the bank at least max attempts × items per attempt "
            "items. Gold drawn into more than the pool's 'gold max exposure' attempts is retired."),
    })]
    list_filter = ["is_active", "pool__language", "pool__project"]
    inlines = [CalibrationItemInline, RoundAttemptInline]

    @admin.display(description=gettext_lazy("gold items"))
    def n_items(self, obj):
        return obj.items.count()

    @admin.display(description=gettext_lazy("fresh attempts the bank allows"))
    def attempts_covered(self, obj):
        usable = obj.items.filter(retire_flagged_at__isnull=True).count()
        return usable // max(1, obj.items_per_attempt)

    @admin.display(description=gettext_lazy("passed / submitted"))
    def pass_rate(self, obj):
        submitted = obj.attempts.exclude(status="in_progress")
        return f"{submitted.filter(status='passed').count()} / {submitted.count()}"


class CalibrationAnswerInline(ReadOnlyInline):
    model = CalibrationAnswer
    fields = ["item", "label", "correct"]


@admin.register(CalibrationAttempt)
class CalibrationAttemptAdmin(admin.ModelAdmin):
    list_display = ["user", "round", "number", "status", "accuracy_rounded", "kappa_rounded", "submitted_at"]
    list_filter = ["status", "round__pool"]
    readonly_fields = ["round", "membership", "user", "number", "seed", "item_order", "status", "accuracy_rounded",
                       "kappa_rounded", "started_at", "submitted_at"]
    exclude = ["accuracy", "kappa"]
    accuracy_rounded, kappa_rounded = admin_metric("accuracy", gettext_lazy("accuracy")), admin_metric("kappa", "κ")
    inlines = [CalibrationAnswerInline]

    def has_add_permission(self, request):
        return False


# --- quality control ---------------------------------------------------------------------------------


@admin.register(ControlAnswer)
class ControlAnswerAdmin(admin.ModelAdmin):
    list_display = ["membership", "item", "correct", "in_window", "created_at"]
    list_filter = ["correct", "in_window", "membership__pool"]
    readonly_fields = ["membership", "annotation", "item", "correct", "in_window", "created_at"]

    def has_add_permission(self, request):
        return False


@admin.register(GoldExposure)
class GoldExposureAdmin(admin.ModelAdmin):
    list_display = ["item", "pool", "times_shown", "retire_flagged_at"]
    list_filter = [("retire_flagged_at", admin.EmptyFieldListFilter), "pool"]
    readonly_fields = ["item", "pool", "times_shown", "retire_flagged_at"]

    def has_add_permission(self, request):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["subject", "kind", "pool", "created_at", "emailed_at", "read_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter), "pool"]
    readonly_fields = ["pool", "membership", "kind", "subject", "message", "created_at", "emailed_at", "read_at"]
    actions = ["mark_read"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=gettext_lazy("Mark as read"), permissions=["change"])
    def mark_read(self, request, queryset):
        queryset.filter(read_at__isnull=True).update(read_at=timezone.now())


@admin.register(EvaluatorLanguage)
class EvaluatorLanguageAdmin(admin.ModelAdmin):
    list_display = ["profile", "language", "proficiency", "dialect"]
    list_filter = ["language", "proficiency"]


@admin.register(GuidelineAddendum)
class GuidelineAddendumAdmin(admin.ModelAdmin):
    list_display = ["version", "language"]
    list_filter = ["language"]


@admin.register(CalibrationItem)
class CalibrationItemAdmin(admin.ModelAdmin):
    list_display = ["id", "round", "reference_label"]
    list_filter = ["round"]


@admin.register(CalibrationAnswer)
class CalibrationAnswerAdmin(admin.ModelAdmin):
    list_display = ["id", "attempt", "item", "label", "correct"]
    list_filter = ["correct"]


@admin.register(PersonalToken)
class PersonalTokenAdmin(admin.ModelAdmin):
    """Tokens are made by their owners (Account → API tokens); admins see and revoke them, never the value."""

    list_display = ["name", "user", "token_key", "created", "expiry"]
    list_filter = ["expiry"]
    search_fields = ["name", "user__username", "token_key"]
    fields = ["name", "user", "token_key", "created", "expiry"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
