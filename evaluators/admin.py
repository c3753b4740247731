from django.contrib import admin

from evaluators.models import (
    EvaluatorLanguage,
    EvaluatorProfile,
    Guideline,
    GuidelineAcknowledgement,
    GuidelineVersion,
    Language,
    MembershipEvent,
    Pool,
    PoolMembership,
)


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


class MembershipInline(admin.TabularInline):
    model = PoolMembership
    extra = 0
    fields = ["user", "state", "updated_at"]
    readonly_fields = ["updated_at"]


@admin.register(Pool)
class PoolAdmin(admin.ModelAdmin):
    list_display = ["project", "language", "dialect", "pass_mark", "control_rate", "accuracy_floor"]
    list_filter = ["project", "language"]
    inlines = [MembershipInline]


class MembershipEventInline(admin.TabularInline):
    model = MembershipEvent
    extra = 0
    readonly_fields = ["from_state", "to_state", "actor", "reason", "created_at"]
    can_delete = False


@admin.register(PoolMembership)
class PoolMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "pool", "state", "updated_at"]
    list_filter = ["state", "pool__language"]
    inlines = [MembershipEventInline]


@admin.register(MembershipEvent)
class MembershipEventAdmin(admin.ModelAdmin):
    list_display = ["membership", "from_state", "to_state", "actor", "created_at"]


class GuidelineVersionInline(admin.TabularInline):
    model = GuidelineVersion
    extra = 0
    fields = ["major", "minor", "status", "published_at"]
    readonly_fields = ["published_at"]


@admin.register(Guideline)
class GuidelineAdmin(admin.ModelAdmin):
    list_display = ["title", "project"]
    inlines = [GuidelineVersionInline]


@admin.register(GuidelineVersion)
class GuidelineVersionAdmin(admin.ModelAdmin):
    list_display = ["guideline", "label", "status", "published_at"]
    list_filter = ["status"]


@admin.register(GuidelineAcknowledgement)
class GuidelineAcknowledgementAdmin(admin.ModelAdmin):
    list_display = ["user", "version", "created_at"]
