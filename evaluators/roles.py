"""Role predicates the evaluators app asks; the rules themselves live in ``parity.access``."""
from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from parity import access
from parity.access import POOL_MANAGERS, REVIEWERS, role_grant  # noqa: F401  (re-exported)

POOL_ADMINS = POOL_MANAGERS  # the group was called "pool admins" before roles were scoped
MANAGE_POOL = access.MANAGE_POOL


def is_reviewer(user: AbstractBaseUser | None) -> bool:
    """Reviews some project × language (or is an admin)."""
    return bool(user is not None and user.is_authenticated and user.has_perm(access.REVIEW_ITEM, None))


def is_pool_admin(user: AbstractBaseUser | None, pool=None) -> bool:
    """May manage ``pool``'s members (admins, the project's managers, the pool's own managers);
    without a pool: may manage some pool."""
    return bool(user is not None and user.is_authenticated and user.has_perm(MANAGE_POOL, pool))


def pools_managed_scope(user) -> Q:
    """A Q over Pool for the pools ``user`` may manage."""
    if access.is_admin(user):
        return Q()
    scope = Q(pk__in=[])
    if access.in_role(user, access.PROJECT_MANAGERS):
        scope |= Q(project__managers=user)
    if access.in_role(user, POOL_MANAGERS):
        scope |= Q(admins=user)
    return scope


def pool_admin_users(*, pool) -> QuerySet:
    """Who is told about a pool: its listed admins, else everyone in the "pool managers" group."""
    admins = pool.admins.filter(is_active=True)
    if admins.exists():
        return admins
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(is_active=True, groups__name=POOL_ADMINS).distinct()
