"""Reads about evaluators, pools, guidelines and calibration, scoped to what the asking user may see."""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext

from evaluators.models import (
    CalibrationAttempt,
    ControlAnswer,
    GuidelineAcknowledgement,
    GuidelineAddendum,
    GuidelineVersion,
    Pool,
    PoolMembership,
)

State = PoolMembership.State


# --- guidelines ----------------------------------------------------------------------------


def guideline_current(*, project) -> GuidelineVersion | None:
    return (
        GuidelineVersion.objects.filter(guideline__project=project, status=GuidelineVersion.Status.PUBLISHED)
        .order_by("-major", "-minor")
        .first()
    )


def _current_version_acknowledged(user: AbstractBaseUser, project_ref) -> Exists:
    """SQL: the user acknowledged the current (highest published) version of ``project_ref``'s guideline."""
    current = (
        GuidelineVersion.objects.filter(guideline__project=project_ref, status=GuidelineVersion.Status.PUBLISHED)
        .order_by("-major", "-minor").values("pk")[:1]
    )
    return Exists(GuidelineAcknowledgement.objects.filter(user=user, version=Subquery(current)))


def guideline_current_acknowledged(*, user: AbstractBaseUser, project) -> tuple[GuidelineVersion | None, bool]:
    """The project's current guideline version and whether the user acknowledged it, in one query."""
    current = (
        GuidelineVersion.objects.filter(guideline__project=project, status=GuidelineVersion.Status.PUBLISHED)
        .annotate(acknowledged=Exists(GuidelineAcknowledgement.objects.filter(user=user, version=OuterRef("pk"))))
        .order_by("-major", "-minor").first()
    )
    return current, bool(current is not None and current.acknowledged)


def pools_workable_for(*, user: AbstractBaseUser, project=None, annotate: dict | None = None) -> list[Pool]:
    """The pools in which the user is qualified and acknowledged the project's current guideline (what
    ``assignment_next`` serves from), in one query instead of two more per pool (``annotate``: more
    values the caller reads with them, as for ``QuerySet.annotate``)."""
    pools = pools_qualified_for(user=user).filter(**({"project": project} if project is not None else {}))
    if annotate:
        pools = pools.annotate(**annotate)
    # The version subquery sits inside the acknowledgement one: its outer row is the pool's, two levels up.
    return list(pools.filter(_current_version_acknowledged(user, OuterRef(OuterRef("project_id")))))


def guideline_is_acknowledged(*, user: AbstractBaseUser, project, current: GuidelineVersion | None = None) -> bool:
    """Whether the user acknowledged the project's current version (``current``: that version, when the
    caller has just read it, so that it is not read twice)."""
    current = current if current is not None else guideline_current(project=project)
    return current is not None and GuidelineAcknowledgement.objects.filter(user=user, version=current).exists()


def guideline_addenda_for(*, version: GuidelineVersion, user: AbstractBaseUser) -> QuerySet[GuidelineAddendum]:
    """The addenda of a version for the languages of the user's pools in that project."""
    languages = Pool.objects.filter(
        project_id=version.guideline.project_id, memberships__user=user
    ).values_list("language_id", flat=True)
    return version.addenda.filter(language_id__in=languages).select_related("language")


def guideline_diff(*, old: GuidelineVersion, new: GuidelineVersion, context: int = 3) -> list[str]:
    """A unified diff between two versions' bodies (lines, no trailing newlines)."""
    return list(
        difflib.unified_diff(
            old.body.splitlines(), new.body.splitlines(),
            fromfile=f"v{old.label}", tofile=f"v{new.label}", lineterm="", n=context,
        )
    )


def guideline_diff_html(*, old: GuidelineVersion, new: GuidelineVersion) -> str:
    """A side-by-side HTML table (difflib.HtmlDiff escapes the text it shows)."""
    return difflib.HtmlDiff(wrapcolumn=80).make_table(
        old.body.splitlines(), new.body.splitlines(), f"v{old.label}", f"v{new.label}", context=True, numlines=3
    )


@dataclass(frozen=True)
class AcknowledgementRow:
    user: AbstractBaseUser
    states: list[str]
    latest_acknowledged: str | None
    acknowledged_current: bool
    acknowledged_at: object = None


def guideline_acknowledgement_report(*, project) -> list[AcknowledgementRow]:
    """Every (not removed) member of the project's pools and which version they last acknowledged."""
    current = guideline_current(project=project)
    memberships = (
        PoolMembership.objects.filter(pool__project=project).exclude(state=State.REMOVED)
        .select_related("user").order_by("user__username")
    )
    by_user: dict[int, tuple] = {}
    for membership in memberships:
        user, states = by_user.setdefault(membership.user_id, (membership.user, []))
        states.append(membership.state)
    acks = (
        GuidelineAcknowledgement.objects.filter(version__guideline__project=project, user_id__in=list(by_user))
        .select_related("version").order_by("version__major", "version__minor")
    )
    latest: dict[int, GuidelineAcknowledgement] = {}
    for ack in acks:
        latest[ack.user_id] = ack
    rows = []
    for user_id, (user, states) in by_user.items():
        ack = latest.get(user_id)
        rows.append(AcknowledgementRow(
            user=user, states=states, latest_acknowledged=ack.version.label if ack else None,
            acknowledged_current=bool(ack and current and ack.version_id == current.pk),
            acknowledged_at=ack.created_at if ack else None,
        ))
    return rows


# --- pools and memberships -----------------------------------------------------------------


def pools_qualified_for(*, user: AbstractBaseUser) -> QuerySet[Pool]:
    """Pools in which the user may receive regular work (qualified, guideline acknowledged)."""
    return Pool.objects.filter(
        memberships__user=user, memberships__state=PoolMembership.State.QUALIFIED
    ).select_related("project", "language")


def membership_refusal(*, user: AbstractBaseUser, project_id: int, language_id: int) -> str | None:
    """Why the user may not work on this project × language right now (None: they may).

    The message names the pool, the state and the reason logged with the last transition, so a
    suspended or removed member learns why their next, submit or edit was refused.
    """
    return membership_standing(user=user, project_id=project_id, language_id=language_id)[1]


def membership_standing(
    *, user: AbstractBaseUser, project_id: int, language_id: int
) -> tuple[PoolMembership | None, str | None]:
    """The membership the user works in on this project × language (the first qualified one: dialect
    pools of a language may overlap) and None, or None and why they may not work there (as
    :func:`membership_refusal`). One read, which the submit reuses to file a control answer."""
    memberships = list(
        PoolMembership.objects.filter(user=user, pool__project_id=project_id, pool__language_id=language_id)
        .select_related("pool__project", "pool__language").order_by("id")
    )
    working = next((m for m in memberships if m.state == State.QUALIFIED), None)
    if working is not None:
        return working, None
    return None, _refusal(memberships)


def _refusal(memberships: list[PoolMembership]) -> str:
    if not memberships:
        return gettext("you are not a member of this language's pool")
    order = [State.REMOVED, State.SUSPENDED, State.CALIBRATING, State.INVITED]
    membership = sorted(memberships, key=lambda m: order.index(m.state))[0]
    event = membership.events.filter(to_state=membership.state).order_by("-created_at", "-id").first()
    why = gettext(" (reason: %(reason)s)") % {"reason": event.reason} if event is not None and event.reason else ""
    values = {"pool": f"{membership.pool.project.name} · {membership.pool.language.display_name}", "why": why}
    if membership.state == State.REMOVED:
        return gettext(
            "you were removed from the pool %(pool)s%(why)s: you can no longer label or change labels there"
        ) % values
    if membership.state == State.SUSPENDED:
        return gettext(
            "your membership in %(pool)s is suspended%(why)s: you cannot label or change labels there until a "
            "pool admin reinstates you"
        ) % values
    return gettext("you are not qualified in %(pool)s yet: pass its calibration first%(why)s") % values


def membership_refusals(*, user: AbstractBaseUser, project=None) -> list[str]:
    """The refusal of each of the user's pools that stopped them working (suspended or removed)."""
    memberships = PoolMembership.objects.filter(user=user, state__in=[State.SUSPENDED, State.REMOVED])
    if project is not None:
        memberships = memberships.filter(pool__project=project)
    pairs = sorted(set(memberships.values_list("pool__project_id", "pool__language_id")))
    reasons = [membership_refusal(user=user, project_id=p, language_id=lang) for p, lang in pairs]
    return [reason for reason in reasons if reason]


def work_refusal(*, user: AbstractBaseUser, project=None) -> str | None:
    """Why ``next`` has nothing for the user when that is because of their memberships: no qualified pool
    (in ``project``) and at least one suspended or removed membership. None when they may work."""
    if pools_qualified_for(user=user).filter(**({"project": project} if project else {})).exists():
        return None
    reasons = membership_refusals(user=user, project=project)
    return "; ".join(reasons)[:1].upper() + "; ".join(reasons)[1:] + "." if reasons else None


def memberships_for(*, user: AbstractBaseUser) -> QuerySet[PoolMembership]:
    return PoolMembership.objects.filter(user=user).select_related("pool__project", "pool__language")


def pools_administered_by(*, user: AbstractBaseUser) -> QuerySet[Pool]:
    """Pools whose members the user may manage: all for an admin; the pools of the projects they
    manage; the pools listing them as a pool manager (parity.access)."""
    from evaluators.roles import pools_managed_scope

    pools = Pool.objects.select_related("project", "language").order_by("id")
    return pools.filter(pools_managed_scope(user)).distinct()


def memberships_administered_by(*, user: AbstractBaseUser) -> QuerySet[PoolMembership]:
    return (
        PoolMembership.objects.filter(pool__in=pools_administered_by(user=user))
        .select_related("pool__project", "pool__language", "user")
        .order_by("pool_id", "user__username")
    )


def calibration_attempts_for(*, user: AbstractBaseUser) -> QuerySet[CalibrationAttempt]:
    return (
        CalibrationAttempt.objects.filter(user=user)
        .select_related("membership__pool__project", "membership__pool__language", "round")
        .order_by("-started_at", "-id")
    )


# --- quality ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ControlAccuracy:
    correct: int
    total: int
    window: int

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.total if self.total else None


def control_accuracy(*, membership: PoolMembership) -> ControlAccuracy:
    """Rolling accuracy on control items over the pool's window (answers since (re)qualification)."""
    window = max(1, membership.pool.control_window)
    recent = list(
        ControlAnswer.objects.filter(membership=membership, in_window=True)
        .order_by("-id").values_list("correct", flat=True)[:window]
    )
    return ControlAccuracy(correct=sum(recent), total=len(recent), window=window)


@dataclass(frozen=True)
class ReportedAccuracy:
    """What an evaluator is shown of their control accuracy: completed blocks only."""

    accuracy: float | None
    answers: int  # a multiple of the pool's block size
    block: int


def control_accuracy_reported(*, membership: PoolMembership) -> ReportedAccuracy:
    """Accuracy over completed blocks of ``pool.control_report_every`` control answers (the latest ones
    within the rolling window). The number moves only when a block completes, so it never tells an
    evaluator that the item just answered was a control."""
    pool = membership.pool
    block = max(1, pool.control_report_every)
    answers = list(
        ControlAnswer.objects.filter(membership=membership, in_window=True)
        .order_by("id").values_list("correct", flat=True)
    )
    completed = answers[: len(answers) - len(answers) % block]
    window = max(block, (max(1, pool.control_window) // block) * block)
    shown = completed[-window:]
    return ReportedAccuracy(
        accuracy=sum(shown) / len(shown) if shown else None, answers=len(shown), block=block
    )


@dataclass
class MemberHistory:
    membership: PoolMembership
    calibration: list[CalibrationAttempt] = field(default_factory=list)
    control_now: ControlAccuracy | None = None
    control_series: list[tuple] = field(default_factory=list)
    consensus: object | None = None  # annotation.selectors.ConsensusAgreement, filled by the annotation app
    events: list = field(default_factory=list)


def member_history(*, membership: PoolMembership, series_points: int = 200) -> MemberHistory:
    """Calibration scores and control accuracy over time (rolling, per answer); agreement with consensus
    reads annotations, so it is ``annotation.selectors.consensus_agreement``."""
    pool = membership.pool
    answers = list(
        ControlAnswer.objects.filter(membership=membership).order_by("id").values_list("created_at", "correct")
    )
    window, series, recent = max(1, pool.control_window), [], []
    for created_at, correct in answers:
        recent.append(correct)
        recent = recent[-window:]
        series.append((created_at, sum(recent) / len(recent), len(recent)))
    return MemberHistory(
        membership=membership,
        calibration=list(membership.calibration_attempts.exclude(status=CalibrationAttempt.Status.IN_PROGRESS)
                         .order_by("started_at", "id")),
        control_now=control_accuracy(membership=membership),
        control_series=series[-series_points:],
        events=list(membership.events.select_related("actor")),
    )


def gold_items_flagged(*, pool: Pool | None = None):
    from evaluators.models import CalibrationItem, GoldExposure

    exposures = GoldExposure.objects.filter(retire_flagged_at__isnull=False).select_related("item", "pool")
    calibration = CalibrationItem.objects.filter(retire_flagged_at__isnull=False).select_related("round__pool")
    if pool is not None:
        exposures, calibration = exposures.filter(pool=pool), calibration.filter(round__pool=pool)
    return exposures, calibration


def projects_visible_to(*, user: AbstractBaseUser):
    """Projects whose guideline the user may read: those of their (not removed) memberships."""
    pools = PoolMembership.objects.filter(user=user).exclude(state=State.REMOVED).values("pool__project_id")
    return project_model().objects.filter(pk__in=pools)


def project_model():
    """The project model, reached through the pool's relation: pools and guidelines belong to projects,
    but ``evaluators`` imports nothing from the annotation app above it."""
    return Pool._meta.get_field("project").related_model
