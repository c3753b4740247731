"""Every write about languages, evaluators, pools and guidelines goes through here."""
from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from evaluators.languages import LanguageCodeError, parse_tag, validate_language
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

State = PoolMembership.State

# Allowed membership transitions; anything else is refused with the reason.
TRANSITIONS: dict[str, frozenset[str]] = {
    State.INVITED: frozenset({State.CALIBRATING, State.QUALIFIED, State.REMOVED}),
    State.CALIBRATING: frozenset({State.QUALIFIED, State.REMOVED, State.CALIBRATING}),
    State.QUALIFIED: frozenset({State.SUSPENDED, State.REMOVED, State.CALIBRATING}),
    State.SUSPENDED: frozenset({State.QUALIFIED, State.REMOVED}),
    State.REMOVED: frozenset(),
}


def language_get_or_create(*, code: str, script: str, region: str = "") -> Language:
    spec = validate_language(code, script)
    language, _ = Language.objects.get_or_create(
        code=spec.code, script=spec.script, region=region, defaults={"name": spec.name}
    )
    return language


def language_from_tag(tag: str) -> Language:
    """``hau_Latn`` → Language, created on first use; unknown codes raise LanguageCodeError."""
    spec = parse_tag(tag)
    return language_get_or_create(code=spec.code, script=spec.script)


@transaction.atomic
def evaluator_create(
    *, username: str, password: str | None = None, languages: list[Language] | None = None,
    email: str = "", daily_capacity: int = 200,
) -> EvaluatorProfile:
    user = get_user_model().objects.create_user(username=username, password=password, email=email)
    if password is None:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    profile = EvaluatorProfile.objects.create(
        user=user, daily_capacity=daily_capacity, pseudonym=f"ev-{secrets.token_hex(6)}"
    )
    for language in languages or []:
        EvaluatorLanguage.objects.create(profile=profile, language=language)
    return profile


def evaluator_profile_ensure(*, user: AbstractBaseUser) -> EvaluatorProfile:
    profile, _ = EvaluatorProfile.objects.get_or_create(
        user=user, defaults={"pseudonym": f"ev-{secrets.token_hex(6)}"}
    )
    return profile


def pool_get_or_create(*, project, language: Language, dialect: str = "", **rules) -> Pool:
    pool, _ = Pool.objects.get_or_create(project=project, language=language, dialect=dialect, defaults=rules)
    return pool


@transaction.atomic
def membership_transition(
    *, membership: PoolMembership, to_state: str, actor: AbstractBaseUser | None = None, reason: str = ""
) -> PoolMembership:
    locked = PoolMembership.objects.select_for_update().get(pk=membership.pk)
    if to_state not in TRANSITIONS[locked.state]:
        raise ValidationError(f"a membership cannot go from {locked.state} to {to_state}")
    MembershipEvent.objects.create(
        membership=locked, from_state=locked.state, to_state=to_state, actor=actor, reason=reason
    )
    locked.state = to_state
    locked.save(update_fields=["state", "updated_at"])
    return locked


@transaction.atomic
def membership_invite(
    *, pool: Pool, user: AbstractBaseUser, actor: AbstractBaseUser | None = None, reason: str = "invited"
) -> PoolMembership:
    evaluator_profile_ensure(user=user)
    membership, created = PoolMembership.objects.get_or_create(pool=pool, user=user)
    if created:
        MembershipEvent.objects.create(membership=membership, to_state=State.INVITED, actor=actor, reason=reason)
    return membership


@transaction.atomic
def guideline_draft(
    *, project, body: str, title: str | None = None, bump: str = "minor", author: AbstractBaseUser | None = None
) -> GuidelineVersion:
    """A new editable draft after the latest version: ``bump`` is "major" or "minor"."""
    guideline, _ = Guideline.objects.get_or_create(project=project, defaults={"title": title or project.name})
    latest = guideline.versions.order_by("-major", "-minor").first()
    if latest is None:
        major, minor = 1, 0
    elif latest.status == GuidelineVersion.Status.DRAFT:
        raise ValidationError(f"version {latest.label} is still a draft: edit or publish it first")
    elif bump == "major":
        major, minor = latest.major + 1, 0
    elif bump == "minor":
        major, minor = latest.major, latest.minor + 1
    else:
        raise ValidationError(f"bump must be 'major' or 'minor', not {bump!r}")
    return GuidelineVersion.objects.create(guideline=guideline, major=major, minor=minor, body=body, created_by=author)


@transaction.atomic
def guideline_publish(*, version: GuidelineVersion) -> GuidelineVersion:
    locked = GuidelineVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status == GuidelineVersion.Status.PUBLISHED:
        raise ValidationError(f"version {locked.label} is already published and cannot change")
    locked.status = GuidelineVersion.Status.PUBLISHED
    locked.published_at = timezone.now()
    locked.save(update_fields=["status", "published_at"])
    return locked


def guideline_acknowledge(*, user: AbstractBaseUser, version: GuidelineVersion) -> GuidelineAcknowledgement:
    if version.status != GuidelineVersion.Status.PUBLISHED:
        raise ValidationError("only a published guideline version can be acknowledged")
    ack, _ = GuidelineAcknowledgement.objects.get_or_create(user=user, version=version)
    return ack


__all__ = [
    "LanguageCodeError",
    "TRANSITIONS",
    "evaluator_create",
    "guideline_acknowledge",
    "guideline_draft",
    "guideline_publish",
    "language_from_tag",
    "language_get_or_create",
    "membership_invite",
    "membership_transition",
    "pool_get_or_create",
]
