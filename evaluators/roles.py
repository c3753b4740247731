"""Roles are Django groups with permissions; these predicates are the only place views ask about them."""
from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, Group
from django.db.models import QuerySet

REVIEWERS = "reviewers"
POOL_ADMINS = "pool admins"
MANAGE_POOL = "evaluators.manage_pool"


def _active(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def is_reviewer(user: AbstractBaseUser | None) -> bool:
    return _active(user) and (user.is_superuser or user.groups.filter(name=REVIEWERS).exists())


def is_pool_admin(user: AbstractBaseUser | None, pool=None) -> bool:
    """A pool admin holds the manage_pool permission (the "pool admins" group grants it); for one
    pool they must also be one of its admins, unless they are a superuser."""
    if not _active(user):
        return False
    if user.is_superuser:
        return True
    if not user.has_perm(MANAGE_POOL):
        return False
    return pool is None or pool.admins.filter(pk=user.pk).exists()


def role_grant(*, user: AbstractBaseUser, role: str) -> None:
    user.groups.add(Group.objects.get(name=role))


def pool_admin_users(*, pool) -> QuerySet:
    """Who is told about a pool: its listed admins, else everyone in the "pool admins" group."""
    admins = pool.admins.filter(is_active=True)
    if admins.exists():
        return admins
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(is_active=True, groups__name=POOL_ADMINS).distinct()
