"""Every write about languages, evaluators, pools, guidelines, calibration and quality control.

Services are keyword-only and atomic; side effects (e-mails) leave with ``transaction.on_commit``.
"""
from __future__ import annotations

import math
import random
import secrets
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from evaluators.languages import LanguageCodeError, parse_tag, validate_language
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
    ImmutableError,
    Language,
    MembershipEvent,
    Notification,
    Pool,
    PoolMembership,
)
from evaluators.selectors import ControlAccuracy, control_accuracy, guideline_current

State = PoolMembership.State

# Allowed membership transitions; anything else is refused with the reason.
#   invited → calibrating → qualified → suspended → (qualified again: reinstated | removed)
# qualified → calibrating happens when a new guideline major version requires re-calibration;
# calibrating → calibrating logs a failed attempt.
TRANSITIONS: dict[str, frozenset[str]] = {
    State.INVITED: frozenset({State.CALIBRATING, State.QUALIFIED, State.REMOVED}),
    State.CALIBRATING: frozenset({State.QUALIFIED, State.REMOVED, State.CALIBRATING}),
    State.QUALIFIED: frozenset({State.SUSPENDED, State.REMOVED, State.CALIBRATING}),
    State.SUSPENDED: frozenset({State.QUALIFIED, State.REMOVED}),
    State.REMOVED: frozenset(),
}


class TransitionError(ValidationError):
    """A membership transition the state machine does not allow."""


class CalibrationNotAllowed(PermissionDenied):
    """An attempt refused: wrong state, no attempts left, or the cooldown still running."""

    def __init__(self, message: str, *, retry_at: datetime | None = None, exhausted: bool = False):
        super().__init__(message)
        self.retry_at = retry_at
        self.exhausted = exhausted  # the gold bank has too few unseen items: an admin must add gold


# --- languages and evaluators --------------------------------------------------------------


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


@transaction.atomic
def evaluator_language_set(
    *, user: AbstractBaseUser, language: Language, proficiency: str = EvaluatorLanguage.Proficiency.NATIVE,
    dialect: str = "",
) -> EvaluatorLanguage:
    if proficiency not in EvaluatorLanguage.Proficiency.values:
        raise ValidationError(
            gettext("proficiency must be one of %(proficiency_list)s")
            % {"proficiency_list": ', '.join(EvaluatorLanguage.Proficiency.values)}
        )
    profile = evaluator_profile_ensure(user=user)
    row, _ = EvaluatorLanguage.objects.update_or_create(
        profile=profile, language=language, defaults={"proficiency": proficiency, "dialect": dialect}
    )
    return row


def pool_get_or_create(*, project, language: Language, dialect: str = "", **rules) -> Pool:
    pool, _ = Pool.objects.get_or_create(project=project, language=language, dialect=dialect, defaults=rules)
    return pool


# --- membership state machine --------------------------------------------------------------


@transaction.atomic
def membership_transition(
    *, membership: PoolMembership, to_state: str, actor: AbstractBaseUser | None = None, reason: str = ""
) -> PoolMembership:
    locked = PoolMembership.objects.select_for_update().get(pk=membership.pk)
    if to_state not in TRANSITIONS[locked.state]:
        raise TransitionError(
            gettext("a membership cannot go from %(state)s to %(to_state)s")
            % {"state": locked.state, "to_state": to_state}
        )
    MembershipEvent.objects.create(
        membership=locked, from_state=locked.state, to_state=to_state, actor=actor, reason=reason
    )
    if to_state == State.QUALIFIED:
        # A fresh start: control answers from before (re)qualification no longer count.
        ControlAnswer.objects.filter(membership=locked, in_window=True).update(in_window=False)
    leaving_work = locked.state == State.QUALIFIED and to_state != State.QUALIFIED
    locked.state = to_state
    locked.save(update_fields=["state", "updated_at"])
    if leaving_work:
        _membership_left_work(membership=locked, reason=f"membership {to_state}: {reason}".strip())
    membership.state, membership.updated_at = locked.state, locked.updated_at
    return locked


def _membership_left_work(*, membership: PoolMembership, reason: str) -> None:
    """Suspension, removal or re-calibration take effect at once: the apps above give the member's
    leases back and aggregate again (annotation.receivers.on_membership_left_work)."""
    from evaluators.signals import membership_left_work

    membership_left_work.send(sender=PoolMembership, membership=membership, reason=reason)


@transaction.atomic
def membership_invite(
    *, pool: Pool, user: AbstractBaseUser, actor: AbstractBaseUser | None = None, reason: str = "invited"
) -> PoolMembership:
    evaluator_profile_ensure(user=user)
    membership, created = PoolMembership.objects.get_or_create(pool=pool, user=user)
    if created:
        MembershipEvent.objects.create(membership=membership, to_state=State.INVITED, actor=actor, reason=reason)
    elif membership.state == State.REMOVED:
        raise TransitionError(
            gettext("%(user)s was removed from %(pool)s and cannot be invited again")
            % {"user": user, "pool": pool}
        )
    return membership


def membership_start_calibrating(
    *, membership: PoolMembership, actor: AbstractBaseUser | None = None, reason: str = "calibration started"
) -> PoolMembership:
    return membership_transition(membership=membership, to_state=State.CALIBRATING, actor=actor, reason=reason)


def membership_qualify(
    *, membership: PoolMembership, actor: AbstractBaseUser | None = None, reason: str = "qualified"
) -> PoolMembership:
    return membership_transition(membership=membership, to_state=State.QUALIFIED, actor=actor, reason=reason)


def _reason_required(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        required = {"suspend": gettext("a reason is required to suspend a member"),
                    "remove": gettext("a reason is required to remove a member")}
        raise ValidationError(required[what])
    return reason


def membership_suspend(
    *, membership: PoolMembership, reason: str, actor: AbstractBaseUser | None = None
) -> PoolMembership:
    return membership_transition(
        membership=membership, to_state=State.SUSPENDED, actor=actor, reason=_reason_required(reason, "suspend")
    )


def membership_reinstate(
    *, membership: PoolMembership, actor: AbstractBaseUser | None = None, reason: str = "reinstated"
) -> PoolMembership:
    if membership.state != State.SUSPENDED:
        raise TransitionError(
            gettext("only a suspended member can be reinstated (this one is %(membership_state)s)")
            % {"membership_state": membership.get_state_display().lower()}
        )
    return membership_transition(membership=membership, to_state=State.QUALIFIED, actor=actor, reason=reason)


def membership_remove(
    *, membership: PoolMembership, reason: str, actor: AbstractBaseUser | None = None
) -> PoolMembership:
    return membership_transition(
        membership=membership, to_state=State.REMOVED, actor=actor, reason=_reason_required(reason, "remove")
    )


# --- notifications -------------------------------------------------------------------------


@transaction.atomic
def notification_create(
    *, subject: str, message: str, pool: Pool | None = None, membership: PoolMembership | None = None,
    kind: str = Notification.Kind.INFO,
) -> Notification:
    """An entry in the console; the pool's admins get it by e-mail once the transaction commits."""
    notification = Notification.objects.create(
        pool=pool, membership=membership, kind=kind, subject=subject[:200], message=message
    )

    def _send():
        from evaluators.tasks import notification_email

        notification_email.delay(notification.pk)

    transaction.on_commit(_send)
    return notification


def notification_email_send(*, notification_id: int) -> int:
    """E-mail a notification to its pool's admins, once (idempotent). Returns the number of recipients."""
    from django.conf import settings
    from django.core.mail import send_mail

    from evaluators.roles import pool_admin_users

    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if notification is None or notification.emailed_at is not None:
            return 0
        recipients: list[str] = []
        if notification.pool is not None:
            recipients = sorted({u.email for u in pool_admin_users(pool=notification.pool) if u.email})
        recipients = recipients or list(getattr(settings, "EVALUATORS_NOTIFY_FALLBACK_EMAILS", []))
        if recipients:
            send_mail(
                subject=f"[Parity] {notification.subject}", message=notification.message,
                from_email=None, recipient_list=recipients,
            )
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return len(recipients)


# --- guidelines ----------------------------------------------------------------------------


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
        raise ValidationError(
            gettext("version %(latest_label)s is still a draft: edit or publish it first")
            % {"latest_label": latest.label}
        )
    elif bump == "major":
        major, minor = latest.major + 1, 0
    elif bump == "minor":
        major, minor = latest.major, latest.minor + 1
    else:
        raise ValidationError(gettext("bump must be 'major' or 'minor', not %(bump)s") % {"bump": repr(bump)})
    return GuidelineVersion.objects.create(guideline=guideline, major=major, minor=minor, body=body, created_by=author)


@transaction.atomic
def guideline_draft_update(*, version: GuidelineVersion, body: str) -> GuidelineVersion:
    locked = GuidelineVersion.objects.select_for_update().get(pk=version.pk)
    if locked.is_published:
        raise ImmutableError(
            gettext("guideline version %(version)s is published and cannot change; draft a new one")
            % {"version": locked.label}
        )
    locked.body = body
    locked.save(update_fields=["body"])
    return locked


@transaction.atomic
def guideline_addendum_set(*, version: GuidelineVersion, language: Language, body: str) -> GuidelineAddendum:
    locked = GuidelineVersion.objects.select_for_update().get(pk=version.pk)
    if locked.is_published:
        raise ImmutableError(
            gettext("guideline version %(version)s is published: its addenda cannot change")
            % {"version": locked.label}
        )
    addendum, _ = GuidelineAddendum.objects.update_or_create(
        version=locked, language=language, defaults={"body": body}
    )
    return addendum


@transaction.atomic
def guideline_publish(*, version: GuidelineVersion, actor: AbstractBaseUser | None = None) -> GuidelineVersion:
    """Publish a draft. A new minor needs re-acknowledgement (the current version changes); a new major
    also sends every qualified member of the project's pools back to calibrating, logged."""
    locked = GuidelineVersion.objects.select_for_update().select_related("guideline").get(pk=version.pk)
    if locked.is_published:
        raise ImmutableError(
            gettext("version %(version)s is already published and cannot change")
            % {"version": locked.label}
        )
    previous = guideline_current(project=locked.guideline.project)
    if previous is not None and (previous.major, previous.minor) >= (locked.major, locked.minor):
        raise ValidationError(
            gettext("version %(version)s is not newer than the published %(previous_label)s")
            % {"version": locked.label, "previous_label": previous.label}
        )
    locked.status = GuidelineVersion.Status.PUBLISHED
    locked.published_at = timezone.now()
    locked.save(update_fields=["status", "published_at"])
    if previous is not None and locked.major > previous.major:
        qualified = PoolMembership.objects.filter(
            pool__project_id=locked.guideline.project_id, state=State.QUALIFIED
        ).select_related("pool")
        for membership in qualified:
            membership_transition(
                membership=membership, to_state=State.CALIBRATING, actor=actor,
                reason=f"guideline v{locked.label} published: a new major version requires re-calibration",
            )
    version.status, version.published_at = locked.status, locked.published_at
    return locked


@transaction.atomic
def guideline_acknowledge(*, user: AbstractBaseUser, version: GuidelineVersion) -> GuidelineAcknowledgement:
    if version.status != GuidelineVersion.Status.PUBLISHED:
        raise ValidationError(gettext("only a published guideline version can be acknowledged"))
    ack, _ = GuidelineAcknowledgement.objects.get_or_create(user=user, version=version)
    return ack


# --- calibration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GoldItem:
    text: str
    reference_label: str
    explanation: str = ""


def _current_major(project) -> int:
    current = guideline_current(project=project)
    return current.major if current is not None else 1


@transaction.atomic
def calibration_round_create(
    *, pool: Pool, items: list[GoldItem], guideline_major: int | None = None, title: str = "",
    items_per_attempt: int = 10,
) -> CalibrationRound:
    """A round whose ``items`` are its gold bank; each attempt draws ``items_per_attempt`` of them. A bank
    of at least (max attempts × items per attempt) lets every retry see only fresh gold."""
    if not items:
        raise ValidationError(gettext("a calibration round needs at least one gold item"))
    if items_per_attempt < 1:
        raise ValidationError(gettext("an attempt needs at least one gold item (items_per_attempt >= 1)"))
    known = set(pool.project.labels.values_list("value", flat=True))
    for number, gold in enumerate(items, start=1):
        if gold.reference_label not in known:
            raise ValidationError(
                f"gold item {number}: unknown label {gold.reference_label!r} (expected one of {sorted(known)})"
            )
        if not gold.text.strip():
            raise ValidationError(gettext("gold item %(number)s: empty text") % {"number": number})
    round_ = CalibrationRound.objects.create(
        pool=pool, guideline_major=guideline_major or _current_major(pool.project), title=title,
        items_per_attempt=items_per_attempt,
    )
    CalibrationItem.objects.bulk_create(
        CalibrationItem(round=round_, text=g.text, reference_label=g.reference_label, explanation=g.explanation)
        for g in items
    )
    return round_


def calibration_round_for(*, pool: Pool) -> CalibrationRound | None:
    return (
        CalibrationRound.objects.filter(pool=pool, is_active=True, guideline_major=_current_major(pool.project))
        .order_by("-created_at", "-id")
        .first()
    )


@dataclass(frozen=True)
class AttemptAllowance:
    used: int
    left: int
    retry_at: datetime | None
    bank_unseen: int | None = None  # gold items of the current round this evaluator has never seen
    per_attempt: int | None = None  # how many an attempt draws

    @property
    def bank_exhausted(self) -> bool:
        return self.bank_unseen is not None and self.per_attempt is not None and self.bank_unseen < self.per_attempt

    @property
    def can_start(self) -> bool:
        return self.left > 0 and self.retry_at is None and not self.bank_exhausted


def calibration_items_seen(*, membership: PoolMembership) -> set[int]:
    """Gold items any earlier attempt of this member showed. They are retired for this member: never drawn
    for them again, so their answers (and only theirs) may be shown as feedback."""
    seen: set[int] = set()
    for order in CalibrationAttempt.objects.filter(membership=membership).values_list("item_order", flat=True):
        seen.update(int(pk) for pk in order)
    return seen


def _bank(round_: CalibrationRound) -> list[int]:
    """The round's drawable gold: not retired for over-exposure."""
    return sorted(round_.items.filter(retire_flagged_at__isnull=True).values_list("id", flat=True))


def _draw_size(round_: CalibrationRound, bank: list[int]) -> int:
    return min(round_.items_per_attempt or len(bank), len(bank)) if bank else 0


def calibration_allowance(*, membership: PoolMembership, now: datetime | None = None) -> AttemptAllowance:
    """Attempts used and left for the current guideline major, when the next one may start, and whether the
    gold bank still holds enough items this member has not seen."""
    now = now or timezone.now()
    pool = membership.pool
    major = _current_major(pool.project)
    attempts = CalibrationAttempt.objects.filter(membership=membership, round__guideline_major=major)
    used = attempts.count()
    last_failed = attempts.filter(status=CalibrationAttempt.Status.FAILED).order_by("-submitted_at").first()
    retry_at = None
    if last_failed is not None:
        ready = last_failed.submitted_at + timedelta(hours=pool.retry_cooldown_hours)
        retry_at = ready if ready > now else None
    bank_unseen = per_attempt = None
    round_ = calibration_round_for(pool=pool)
    if round_ is not None:
        bank = _bank(round_)
        per_attempt = _draw_size(round_, bank)
        bank_unseen = len(set(bank) - calibration_items_seen(membership=membership))
    return AttemptAllowance(used=used, left=max(0, pool.max_attempts - used), retry_at=retry_at,
                            bank_unseen=bank_unseen, per_attempt=per_attempt)


def calibration_attempt_start(
    *, user: AbstractBaseUser, pool: Pool, now: datetime | None = None, rng: random.Random | None = None
) -> CalibrationAttempt:
    """Start (or resume) a calibration attempt drawn from the round's gold bank (see _attempt_start).
    A retry refused for want of gold tells the pool admins, in its own transaction."""
    try:
        return _attempt_start(user=user, pool=pool, now=now, rng=rng)
    except CalibrationNotAllowed as exc:
        if exc.exhausted:
            membership = PoolMembership.objects.filter(pool=pool, user=user).first()
            round_ = calibration_round_for(pool=pool)
            if membership is not None and round_ is not None:
                allowance = calibration_allowance(membership=membership, now=now)
                _gold_bank_exhausted(membership=membership, round_=round_, unseen=allowance.bank_unseen or 0,
                                     size=allowance.per_attempt or 0)
        raise


@transaction.atomic
def _attempt_start(
    *, user: AbstractBaseUser, pool: Pool, now: datetime | None = None, rng: random.Random | None = None
) -> CalibrationAttempt:
    """Start (or resume) an attempt: ``items_per_attempt`` gold items drawn at random from the round's bank,
    never one this member saw in an earlier attempt; refused when the bank has too few unseen items."""
    now = now or timezone.now()
    membership = PoolMembership.objects.select_for_update().filter(pool=pool, user=user).first()
    if membership is None:
        raise CalibrationNotAllowed(gettext("you are not a member of this pool"))
    open_attempt = CalibrationAttempt.objects.filter(
        membership=membership, status=CalibrationAttempt.Status.IN_PROGRESS
    ).first()
    if open_attempt is not None:
        return open_attempt
    if membership.state not in (State.INVITED, State.CALIBRATING):
        raise CalibrationNotAllowed(
            gettext("a %(membership_state)s member cannot take a calibration attempt")
            % {"membership_state": membership.get_state_display().lower()}
        )
    allowance = calibration_allowance(membership=membership, now=now)
    if allowance.left <= 0:
        raise CalibrationNotAllowed(
            gettext("all %(max_attempts)s calibration attempts have been used")
            % {"max_attempts": pool.max_attempts}
        )
    if allowance.retry_at is not None:
        raise CalibrationNotAllowed(
            f"you may retry after {allowance.retry_at.isoformat()}", retry_at=allowance.retry_at
        )
    round_ = calibration_round_for(pool=pool)
    if round_ is None:
        raise ValidationError(gettext("this pool has no active calibration round for the current guideline yet"))
    bank = _bank(round_)
    if not bank:
        raise ValidationError(gettext("the calibration round has no gold items"))
    size = _draw_size(round_, bank)
    fresh = sorted(set(bank) - calibration_items_seen(membership=membership))
    if len(fresh) < size:
        raise CalibrationNotAllowed(
            f"the gold bank of this calibration has only {len(fresh)} item(s) you have not seen and an attempt "
            f"needs {size}: a pool admin must add gold items to the round before you can retry "
            "(the admins have been told)", exhausted=True,
        )
    if membership.state == State.INVITED:
        membership_start_calibrating(membership=membership, actor=user)
    # Which items and their order depend only on a fresh random seed, never on the gold labels.
    seed = (rng or random.SystemRandom()).getrandbits(62)
    drawn = random.Random(seed).sample(fresh, size)
    attempt = CalibrationAttempt.objects.create(
        round=round_, membership=membership, user=user, number=allowance.used + 1, seed=seed,
        item_order=drawn, started_at=now,
    )
    CalibrationItem.objects.filter(pk__in=drawn).update(times_shown=F("times_shown") + 1)
    CalibrationItem.objects.filter(
        pk__in=drawn, retire_flagged_at__isnull=True, times_shown__gte=pool.gold_max_exposure
    ).update(retire_flagged_at=now)
    return attempt


@transaction.atomic
def _gold_bank_exhausted(*, membership: PoolMembership, round_: CalibrationRound, unseen: int, size: int) -> None:
    """Tell the pool's admins once per member and round that a retry waits for more gold."""
    subject = f"Add gold: {membership.user} cannot retry calibration in {membership.pool}"[:200]
    if Notification.objects.filter(membership=membership, subject=subject, read_at__isnull=True).exists():
        return
    notification_create(
        pool=membership.pool, membership=membership, kind=Notification.Kind.GOLD_RETIREMENT, subject=subject,
        message=(f"{membership.user} has seen all but {unseen} gold item(s) of '{round_}' and an attempt draws "
                 f"{size}. Add at least {size - unseen} gold item(s) to the round (admin: calibration rounds) so "
                 "they can retry without meeting an item whose answer they were shown."),
    )


def _kappa(gold: list[str], given: list[str]) -> float | None:
    """Cohen's kappa against gold; None where it is undefined (one label used throughout: 0/0)."""
    from sklearn.metrics import cohen_kappa_score

    if len(set(gold) | set(given)) < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = float(cohen_kappa_score(gold, given))
    return None if math.isnan(value) else value


@transaction.atomic
def calibration_attempt_submit(
    *, user: AbstractBaseUser, attempt_id: int, answers: dict[int, str], now: datetime | None = None
) -> CalibrationAttempt:
    """Score an attempt against gold: accuracy and Cohen's kappa; pass → qualified."""
    now = now or timezone.now()
    attempt = (
        CalibrationAttempt.objects.select_for_update()
        .select_related("membership__pool__project", "round")
        .filter(pk=attempt_id, user=user)
        .first()
    )
    if attempt is None:
        raise CalibrationAttempt.DoesNotExist(f"calibration attempt {attempt_id} not found")
    if attempt.is_submitted:
        raise ValidationError(
            gettext("calibration attempt %(attempt_id)s was already submitted")
            % {"attempt_id": attempt_id}
        )
    answers = {int(k): v for k, v in answers.items()}
    expected = set(attempt.item_order)
    if missing := sorted(expected - set(answers)):
        raise ValidationError(gettext("answers missing for items %(missing)s") % {"missing": missing})
    if extra := sorted(set(answers) - expected):
        raise ValidationError(gettext("items %(extra)s are not part of this attempt") % {"extra": extra})
    pool = attempt.membership.pool
    known = set(pool.project.labels.values_list("value", flat=True))
    if bad := sorted({label for label in answers.values() if label not in known}):
        raise ValidationError(
            gettext("unknown labels %(bad)s (expected one of %(known)s)")
            % {"bad": bad, "known": sorted(known)}
        )
    gold = dict(CalibrationItem.objects.filter(pk__in=expected).values_list("id", "reference_label"))
    order = attempt.item_order
    CalibrationAnswer.objects.bulk_create(
        CalibrationAnswer(attempt=attempt, item_id=i, label=answers[i], correct=answers[i] == gold[i]) for i in order
    )
    gold_labels, given = [gold[i] for i in order], [answers[i] for i in order]
    attempt.accuracy = sum(g == a for g, a in zip(gold_labels, given, strict=True)) / len(order)
    attempt.kappa = _kappa(gold_labels, given)
    attempt.submitted_at = now
    passed = attempt.accuracy >= pool.pass_mark
    attempt.status = CalibrationAttempt.Status.PASSED if passed else CalibrationAttempt.Status.FAILED
    attempt.save(update_fields=["accuracy", "kappa", "submitted_at", "status"])
    summary = f"calibration attempt {attempt.number}: accuracy {attempt.accuracy:.0%} (pass mark {pool.pass_mark:.0%})"
    membership = attempt.membership
    if membership.state == State.CALIBRATING:
        if passed:
            membership_qualify(membership=membership, actor=user, reason=f"passed {summary}")
        else:
            left = max(0, pool.max_attempts - attempt.number)
            membership_transition(
                membership=membership, to_state=State.CALIBRATING, actor=user,
                reason=f"failed {summary}; {left} attempt(s) left",
            )
    return attempt


# --- ongoing quality control ---------------------------------------------------------------


# --- control statistics: stored in the submit request, counted by a coalesced background job ---------
#
# The submit request only stores the answer (``ControlAnswer``, with ``correct`` read off the gold label
# of the item it already holds) and asks for ``evaluators.control_statistics`` for the member once the
# transaction commits. That job, one pending per pool member (a ``cache.add`` mark, as the aggregation
# does), counts the gold exposure, replays the rolling accuracy window answer by answer and suspends a
# member under the pool's floor at the same answer the in-request check used to (leases are released as
# before, through ``membership_left_work``).
#
# Between a submit and its job (``CONTROL_STATS_DELAY_S``, 1 s by default, plus the queue's latency) the
# member can go on working: a suspension lands a few seconds late, and the labels given in between stay
# (they are the member's like any given before the suspension; the console's "discard since" removes
# them). Nothing the evaluator receives changes with the answer's correctness: the submit response is the
# same for a control and for work, and the job runs after the response.


def _control_pending_key(membership_id: int) -> str:
    return f"parity:control-pending:{membership_id}"


def control_answer_record(*, annotation, assignment, membership: PoolMembership) -> ControlAnswer | None:
    """In the submit transaction: store an answer on a gold control item and ask for its statistics.

    Cheap on purpose: the gold exposure, the rolling accuracy and the suspension decision happen in
    :func:`control_statistics_run` after the commit. ``membership``: the member's working membership,
    which the submit read a moment ago to check the member may work; its annotation is new in that
    transaction, so no answer exists yet and one INSERT files it, the one write a control submit does in
    place of a regular item's counter update (both paths make the same round trips)."""
    if not assignment.is_control:
        return None
    item = assignment.item
    answer = ControlAnswer.objects.create(annotation=annotation, membership=membership, item=item,
                                          correct=annotation.label == item.reference_label)
    control_statistics_request(membership_id=membership.pk)
    return answer


def control_statistics_request(*, membership_id: int) -> None:
    """Ask for :func:`control_statistics_run` of one member once the current transaction commits.

    ``cache.add`` keeps at most one job pending per member across every web process (the cache is
    shared); the job clears the mark before it reads, so an answer stored while it runs asks for the next
    one. A request lost to a broker outage is picked up by the ``evaluators.control_statistics_sweep``
    beat task (every minute).

    Between the submit and the job (``CONTROL_STATS_DELAY_S``, 1 s by default, plus the queue's latency)
    the member may go on working: an automatic suspension lands those few seconds after the answer that
    triggers it (decided at that answer, with the numbers of that moment), and the labels given in the
    meantime stay, like any label given before a suspension."""
    transaction.on_commit(lambda: _control_statistics_dispatch(membership_id))


def _control_statistics_dispatch(membership_id: int) -> None:
    from django.conf import settings

    from evaluators.tasks import control_statistics
    from parity.coalesce import dispatch_once

    dispatch_once(
        key=_control_pending_key(membership_id), ttl_s=settings.CONTROL_STATS_PENDING_TTL_S,
        task=control_statistics, args=[membership_id], countdown_s=settings.CONTROL_STATS_DELAY_S,
        what=f"the control statistics of membership {membership_id}",
    )


@dataclass(frozen=True)
class ControlStatistics:
    """What one run of the job did: answers counted, and the answer that suspended the member (if any)."""

    scored: int = 0
    suspended_at: int | None = None  # ControlAnswer id


def control_statistics_run(*, membership_id: int) -> ControlStatistics:
    """The background job: count every not yet scored control answer of a member, in answer order.

    For each answer: one more exposure of its gold item in the pool (flagged for retirement past the
    limit), then the rolling window as it stood at that answer (the last ``control_window`` in-window
    answers up to it, the same numbers the in-request check read), and the suspension when a qualified
    member falls under the floor with at least ``control_min_answers`` answers. Idempotent and
    crash-safe: the member's row is locked, and the answers are marked scored in the same transaction
    as the counts, so a redelivered or concurrent run finds nothing left to count.
    """
    from django.core.cache import cache

    cache.delete(_control_pending_key(membership_id))  # before reading: a later answer asks again
    return _control_statistics_count(membership_id=membership_id)


@transaction.atomic
def _control_statistics_count(*, membership_id: int) -> ControlStatistics:
    membership = PoolMembership.objects.select_for_update(of=("self",)).select_related("pool").filter(
        pk=membership_id
    ).first()
    if membership is None:
        return ControlStatistics()
    pending = list(
        ControlAnswer.objects.filter(membership=membership, scored=False).select_related("item").order_by("id")
    )
    if not pending:
        return ControlStatistics()
    pool = membership.pool
    window = max(1, pool.control_window)
    first = pending[0].pk
    # The window at an answer: in-window answers up to it. Those before the first pending one (only the
    # last `window` can matter), then every in-window answer from it on (scored or not, in id order).
    before = list(
        ControlAnswer.objects.filter(membership=membership, in_window=True, pk__lt=first)
        .order_by("-id").values_list("correct", flat=True)[:window]
    )[::-1]
    after = list(
        ControlAnswer.objects.filter(membership=membership, in_window=True, pk__gte=first)
        .order_by("id").values_list("pk", "correct")
    )
    position = {pk: index for index, (pk, _) in enumerate(after)}
    sequence = before + [correct for _, correct in after]
    suspended_at = None
    for answer in pending:
        gold_exposure_count(pool=pool, item=answer.item)
        if answer.pk not in position or membership.state != State.QUALIFIED:
            continue  # out of the window (discarded, re-qualified since) or no longer working
        end = len(before) + position[answer.pk] + 1
        recent = sequence[max(0, end - window):end]
        stats = ControlAccuracy(correct=sum(recent), total=len(recent), window=window)
        if _control_suspend_if_under_floor(membership=membership, stats=stats):
            suspended_at = answer.pk
    ControlAnswer.objects.filter(pk__in=[answer.pk for answer in pending]).update(scored=True)
    return ControlStatistics(scored=len(pending), suspended_at=suspended_at)


def control_statistics_sweep(*, older_than_s: float | None = None) -> int:
    """Safety net run by beat: count the answers whose job never ran (a lost dispatch, a dead worker).
    Only answers older than ``older_than_s`` (default a minute) are swept, so that it leaves the regular
    jobs their turn; a run that overlaps one is harmless anyway (the row lock and the ``scored`` mark).
    Returns the number of members counted."""
    cutoff = timezone.now() - timedelta(seconds=60 if older_than_s is None else older_than_s)
    members = list(
        ControlAnswer.objects.filter(scored=False, created_at__lte=cutoff)
        .order_by().values_list("membership_id", flat=True).distinct()
    )
    for membership_id in members:
        control_statistics_run(membership_id=membership_id)
    return len(members)


@transaction.atomic
def gold_exposure_count(*, pool: Pool, item) -> GoldExposure:
    exposure, _ = GoldExposure.objects.get_or_create(pool=pool, item=item)
    GoldExposure.objects.filter(pk=exposure.pk).update(times_shown=F("times_shown") + 1)
    exposure.refresh_from_db()
    if exposure.retire_flagged_at is None and exposure.times_shown >= pool.gold_max_exposure:
        exposure.retire_flagged_at = timezone.now()
        exposure.save(update_fields=["retire_flagged_at"])
        notification_create(
            pool=pool, kind=Notification.Kind.GOLD_RETIREMENT,
            subject=f"Gold item #{item.pk} over-exposed in {pool}",
            message=(
                f"Control item #{item.pk} has been shown {exposure.times_shown} times in {pool} "
                f"(limit {pool.gold_max_exposure}); replace it with a fresh gold item."
            ),
        )
    return exposure


@transaction.atomic
def control_accuracy_enforce(*, membership: PoolMembership) -> PoolMembership:
    """Suspend a qualified member whose rolling control accuracy (now) fell under the pool's floor."""
    _control_suspend_if_under_floor(membership=membership, stats=control_accuracy(membership=membership))
    return membership


def _control_suspend_if_under_floor(*, membership: PoolMembership, stats: ControlAccuracy) -> bool:
    pool = membership.pool
    if (
        membership.state != State.QUALIFIED
        or stats.total < max(1, pool.control_min_answers)
        or stats.accuracy is None
        or stats.accuracy >= pool.accuracy_floor
    ):
        return False
    reason = (
        f"automatic: control accuracy {stats.accuracy:.0%} over the last {stats.total} control items "
        f"is under the pool's floor of {pool.accuracy_floor:.0%}"
    )
    membership_suspend(membership=membership, reason=reason)  # updates membership.state in place
    notification_create(
        pool=pool, membership=membership, kind=Notification.Kind.SUSPENSION,
        subject=f"{membership.user} suspended in {pool}",
        message=f"{membership.user} was suspended in {pool}.\nReason: {reason}.\n"
        "Review their answers in the console and reinstate them if appropriate.",
    )
    return True


__all__ = [
    "AttemptAllowance",
    "CalibrationNotAllowed",
    "GoldItem",
    "LanguageCodeError",
    "TRANSITIONS",
    "TransitionError",
    "calibration_allowance",
    "calibration_attempt_start",
    "calibration_attempt_submit",
    "calibration_items_seen",
    "calibration_round_create",
    "calibration_round_for",
    "control_accuracy_enforce",
    "control_answer_record",
    "control_statistics_request",
    "control_statistics_run",
    "control_statistics_sweep",
    "evaluator_create",
    "evaluator_language_set",
    "evaluator_profile_ensure",
    "gold_exposure_count",
    "guideline_acknowledge",
    "guideline_addendum_set",
    "guideline_draft",
    "guideline_draft_update",
    "guideline_publish",
    "language_from_tag",
    "language_get_or_create",
    "membership_invite",
    "membership_qualify",
    "membership_reinstate",
    "membership_remove",
    "membership_start_calibrating",
    "membership_suspend",
    "membership_transition",
    "notification_create",
    "notification_email_send",
    "pool_get_or_create",
]
