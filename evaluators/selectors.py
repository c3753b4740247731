"""Reads about evaluators, pools and guidelines, scoped to what the asking user may see."""
from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from evaluators.models import GuidelineAcknowledgement, GuidelineVersion, Pool, PoolMembership


def guideline_current(*, project) -> GuidelineVersion | None:
    return (
        GuidelineVersion.objects.filter(guideline__project=project, status=GuidelineVersion.Status.PUBLISHED)
        .order_by("-major", "-minor")
        .first()
    )


def guideline_is_acknowledged(*, user: AbstractBaseUser, project) -> bool:
    current = guideline_current(project=project)
    return current is not None and GuidelineAcknowledgement.objects.filter(user=user, version=current).exists()


def pools_qualified_for(*, user: AbstractBaseUser) -> QuerySet[Pool]:
    """Pools in which the user may receive regular work (qualified, guideline acknowledged)."""
    return Pool.objects.filter(
        memberships__user=user, memberships__state=PoolMembership.State.QUALIFIED
    ).select_related("project", "language")


def memberships_for(*, user: AbstractBaseUser) -> QuerySet[PoolMembership]:
    return PoolMembership.objects.filter(user=user).select_related("pool__project", "pool__language")
