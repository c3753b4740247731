"""Who may do what, on which object: the six roles as Django groups, scoped by object links, checked
through ``rules`` object permissions.

A role is two things: membership of the role's group (so Django's admin model permissions follow the
role) and, for scoped roles, a link to the object it covers: ``Project.managers`` for project
managers, ``Pool.admins`` for pool managers, ``Pool.reviewers`` for reviewers (a pool is one project ×
language). ``rules`` was chosen over django-guardian because the scopes are already rows we query for
scoping lists (a reviewer's queue), so predicates over them need no second permission table.

``is_staff`` never grants anything here: it only opens Django's admin login, where the model
permissions of the user's groups still apply.
"""
from __future__ import annotations

import rules
from django.contrib.auth.models import Group

ADMINS = "admins"
PROJECT_MANAGERS = "project managers"
POOL_MANAGERS = "pool managers"
REVIEWERS = "reviewers"
EVALUATORS = "evaluators"
VIEWERS = "viewers"
ROLES = (ADMINS, PROJECT_MANAGERS, POOL_MANAGERS, REVIEWERS, EVALUATORS, VIEWERS)

# Permission names (checked with ``user.has_perm(name, obj)``).
CONSOLE = "parity.view_console"            # read-only console pages, no object
MANAGE_PROJECT = "annotation.manage_project"  # obj: Project
MANAGE_POOL = "evaluators.manage_pool"      # obj: Pool (None: "some pool")
REVIEW_ITEM = "annotation.review_item"      # obj: Item (None: "some project × language")
TRIAGE_REPORT = "annotation.triage_report"  # obj: Report (None: "some language")


def _groups(user) -> set[str]:
    cached = getattr(user, "_parity_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True)) if user.pk else set()
        user._parity_groups = cached
    return cached


def _active(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def in_role(user, role: str) -> bool:
    return _active(user) and role in _groups(user)


@rules.predicate
def is_admin(user) -> bool:
    return _active(user) and (user.is_superuser or ADMINS in _groups(user))


@rules.predicate
def is_viewer(user) -> bool:
    return in_role(user, VIEWERS)


@rules.predicate
def manages_project(user, project) -> bool:
    if not in_role(user, PROJECT_MANAGERS):
        return False
    if project is None:
        return user.managed_projects.exists()
    return project.managers.filter(pk=user.pk).exists()


@rules.predicate
def manages_pool(user, pool) -> bool:
    pool = getattr(pool, "pool", pool)  # a membership stands for its pool
    if pool is None:
        return in_role(user, POOL_MANAGERS) and user.administered_pools.exists() or manages_project(user, None)
    if manages_project(user, pool.project):
        return True
    return in_role(user, POOL_MANAGERS) and pool.admins.filter(pk=user.pk).exists()


@rules.predicate
def reviews_item(user, item) -> bool:
    if item is None:
        return (in_role(user, REVIEWERS) and user.reviewed_pools.exists()) or manages_project(user, None)
    if manages_project(user, item.project):
        return True
    return in_role(user, REVIEWERS) and user.reviewed_pools.filter(
        project_id=item.project_id, language_id=item.language_id).exists()


@rules.predicate
def triages_report(user, report) -> bool:
    """Reports arrive per language, before any project: whoever manages or reviews that language."""
    if not (in_role(user, PROJECT_MANAGERS) or in_role(user, REVIEWERS)):
        return False
    if report is None:
        return user.managed_projects.exists() or user.reviewed_pools.exists()
    language_id = report.language_id
    return user.managed_projects.filter(languages__id=language_id).exists() or user.reviewed_pools.filter(
        language_id=language_id).exists()


@rules.predicate
def has_console_role(user) -> bool:
    return any(in_role(user, role) for role in (PROJECT_MANAGERS, POOL_MANAGERS, REVIEWERS, VIEWERS))


rules.add_perm(CONSOLE, is_admin | has_console_role)
rules.add_perm(MANAGE_PROJECT, is_admin | manages_project)
rules.add_perm(MANAGE_POOL, is_admin | manages_pool)
rules.add_perm(REVIEW_ITEM, is_admin | reviews_item)
rules.add_perm(TRIAGE_REPORT, is_admin | triages_report)


def role_grant(*, user, role: str, obj=None) -> None:
    """Give ``user`` a role: its group, and the link to ``obj`` (a Project for project managers, a Pool
    for pool managers and reviewers)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    if role == PROJECT_MANAGERS and obj is not None:
        obj.managers.add(user)
    elif role == POOL_MANAGERS and obj is not None:
        obj.admins.add(user)
    elif role == REVIEWERS and obj is not None:
        obj.reviewers.add(user)
    user.__dict__.pop("_parity_groups", None)
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)


def reviewed_scope(user):
    """A Q over Item for the project × language pairs ``user`` may review (everything for admins)."""
    from django.db.models import Q

    if is_admin(user):
        return Q()
    scope = Q(pk__in=[])
    if in_role(user, PROJECT_MANAGERS):
        scope |= Q(project__managers=user)
    if in_role(user, REVIEWERS):
        for project_id, language_id in user.reviewed_pools.values_list("project_id", "language_id"):
            scope |= Q(project_id=project_id, language_id=language_id)
    return scope


def triage_scope(user):
    """A Q over Report for the languages ``user`` triages (everything for admins)."""
    from django.db.models import Q

    if is_admin(user):
        return Q()
    languages = set(user.reviewed_pools.values_list("language_id", flat=True)) if in_role(user, REVIEWERS) else set()
    if in_role(user, PROJECT_MANAGERS):
        languages |= set(user.managed_projects.values_list("languages__id", flat=True))
    return Q(language_id__in=languages - {None})


def visible_projects_scope(user):
    """A Q over Project for the console lists: admins and viewers see all, managers and reviewers theirs."""
    from django.db.models import Q

    if is_admin(user) or is_viewer(user):
        return Q()
    return Q(managers=user) | Q(pools__reviewers=user) | Q(pools__admins=user)


# --- enforcement on views ------------------------------------------------------------------------
# Every URL declares its rule: ``access_rule`` on a function view, ``access_rules`` (action -> rule)
# on a DRF view. tests/parity/test_access_matrix.py walks the URL configuration and fails for a view
# without one. PUBLIC and LOGIN are rules too: they say "anyone" and "any signed-in user, scoped to
# their own rows by the view's queryset".
PUBLIC = "public"
LOGIN = "login"


def require(perm: str, obj=None):
    """Function-view decorator: anonymous users go to the login page; without ``perm`` on the object
    that ``obj(request, **kwargs)`` returns (a 404 for a missing one), a 403."""
    from functools import wraps

    from django.contrib.auth.decorators import login_required
    from django.core.exceptions import PermissionDenied
    from django.urls import reverse_lazy

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            target = obj(request, **kwargs) if obj is not None else None
            if not request.user.has_perm(perm, target):
                raise PermissionDenied(f"you need the {perm} permission here")
            return view(request, *args, **kwargs)

        guarded = login_required(wrapper, login_url=reverse_lazy("evaluators:login"))
        guarded.access_rule = perm
        return guarded

    return decorator


def declare(rule: str):
    """Mark a view whose access is checked inside it (PUBLIC, LOGIN, or a perm checked per object)."""

    def decorator(view):
        view.access_rule = rule
        return view

    return decorator


def check(user, perm: str, obj=None) -> None:
    """Raise Django's PermissionDenied unless ``user`` holds ``perm`` on ``obj`` (services and commands)."""
    from django.core.exceptions import PermissionDenied

    if not (user is not None and user.has_perm(perm, obj)):
        name = getattr(user, "username", None) or "anonymous"
        raise PermissionDenied(f"{name} lacks {perm}" + (f" on {obj}" if obj is not None else ""))


def view_rule(view, action: str | None) -> str | None:
    """The rule a DRF view declares for ``action`` (``"*"`` is the default), else None."""
    declared = getattr(view, "access_rules", None) or {}
    return declared.get(action) or declared.get("*")


class ActionRules:
    """DRF permission: the view's ``access_rules`` decide, by action. With a perm rule, the request
    must hold it on some object (has_permission) and on the object fetched (has_object_permission)."""

    def has_permission(self, request, view) -> bool:
        rule = view_rule(view, getattr(view, "action", None))
        if rule is None:
            return False
        if rule == PUBLIC:
            return True
        if not (request.user and request.user.is_authenticated):
            return False
        return rule == LOGIN or request.user.has_perm(rule, None)

    def has_object_permission(self, request, view, obj) -> bool:
        rule = view_rule(view, getattr(view, "action", None))
        if rule in (PUBLIC, LOGIN):
            return True
        return request.user.has_perm(rule, obj)


# --- the role groups' model permissions (Django's admin) -----------------------------------------
ROLE_APPS = ("annotation", "evaluators", "learner")
# Admins also run users and groups (granting roles), login lockouts (unlock) and the beat schedules.
ADMIN_APPS = (*ROLE_APPS, "auth", "axes", "django_celery_beat")


def role_groups_sync(**kwargs) -> None:
    """After every migrate: each role's group exists and carries the admin model permissions of its
    role, including those of models added since (admins: all of the platform's; project managers
    and viewers: view only; pool managers: the pool and membership models they run)."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Permission

    # This runs on the evaluators app's post_migrate, before Django creates the permissions of the apps
    # after it: create them first, or a model added to annotation or learner would be left out.
    for label in ADMIN_APPS:
        create_permissions(apps.get_app_config(label), verbosity=0, using=kwargs.get("using", "default"))
    ours = Permission.objects.filter(content_type__app_label__in=ROLE_APPS)
    views = ours.filter(codename__startswith="view_")
    grants = {
        ADMINS: Permission.objects.filter(content_type__app_label__in=ADMIN_APPS),
        PROJECT_MANAGERS: views,
        VIEWERS: views,
        POOL_MANAGERS: ours.filter(codename__in=["manage_pool", "change_pool", "add_poolmembership",
                                                 "change_poolmembership"]) | views.filter(
            content_type__app_label="evaluators"),
        REVIEWERS: ours.filter(codename__in=["add_approvedlabel", "change_approvedlabel"]) | views.filter(
            content_type__app_label="annotation"),
        EVALUATORS: Permission.objects.none(),
    }
    for name, perms in grants.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*perms)


def admin_permitted(modeladmin, request, objects, perm: str, target=lambda obj: obj) -> list:
    """For an admin action: the selected objects on which the user holds ``perm`` (on ``target(obj)``);
    the others are left alone and the user is told how many. Django's model permission lets the user
    see the action; this decides which rows it may touch."""
    from django.contrib import messages

    allowed, refused = [], 0
    for obj in objects:
        if request.user.has_perm(perm, target(obj)):
            allowed.append(obj)
        else:
            refused += 1
    if refused:
        from django.utils.translation import ngettext

        modeladmin.message_user(request, ngettext(
            "%(n)d selected row skipped: you lack %(perm)s on it.",
            "%(n)d selected rows skipped: you lack %(perm)s on them.", refused) % {"n": refused, "perm": perm},
            messages.ERROR)
    return allowed


# --- management commands -------------------------------------------------------------------------
CLI_USER_ENV = "PARITY_CLI_USER"


def add_acting_user_argument(parser) -> None:
    parser.add_argument(
        "--as", dest="acting_user", metavar="USERNAME",
        help=f"the platform user this command acts as; their role on the project is checked "
             f"(default: ${CLI_USER_ENV})",
    )


def acting_user(options: dict, perm: str, obj):
    """The user a state-changing command acts for, after checking ``perm`` on ``obj``. Shell access is
    not a role: a careless or shared operator account still names who it acts for, and is refused
    what that user may not do in the web console."""
    import os

    from django.contrib.auth import get_user_model
    from django.core.management.base import CommandError

    username = options.get("acting_user") or os.environ.get(CLI_USER_ENV, "")
    if not username:
        raise CommandError(f"say who this command acts as: --as USERNAME (or set {CLI_USER_ENV}); "
                           f"that user needs {perm} on {obj}", returncode=2)
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"no active user {username!r}", returncode=2)
    if not user.has_perm(perm, obj):
        raise CommandError(f"{username} lacks {perm} on {obj}: ask an admin for the project manager role",
                           returncode=2)
    return user


class ObjectRoleAdmin:
    """ModelAdmin mixin: the role group's model permission opens the admin page; changing or deleting one
    row also needs the role on that row's object (``role_perm`` on ``role_target(obj)``), so a pool
    manager edits their own pools only and sees the others read-only."""

    role_perm: str = ""

    @staticmethod
    def role_target(obj):
        return obj

    def _role_allows(self, request, obj) -> bool:
        return obj is None or not self.role_perm or request.user.has_perm(self.role_perm, self.role_target(obj))

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._role_allows(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._role_allows(request, obj)
