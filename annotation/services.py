"""Every write of the annotation workflow: projects, items, the assignment engine, submissions,
aggregation, review, agreement snapshots and end-user reports.

The assignment engine keeps two counters on each item (active leases and submitted annotations)
and only changes them under the item's row lock, so ``active + submitted <= overlap`` holds under
concurrency; the unique (item, evaluator) constraint is the backstop against double assignment.
Calls of one evaluator are serialised by a lock on their user row, so two browser tabs never get
two leases at once. On SQLite the whole database is locked per write transaction (the settings
open transactions IMMEDIATE), which serialises the engine.
"""
from __future__ import annotations

import hashlib
import logging
import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from annotation.aggregation import Verdict, dawid_skene, majority_vote
from annotation.capacity import effective_overlap, overlap_for, pool_overlap_subquery
from annotation.hashing import content_hash
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
from annotation.selectors import items_not_stored
from annotation.signals import annotation_submitted
from evaluators.models import ControlAnswer, Language, MembershipEvent, Pool, PoolMembership
from evaluators.selectors import (
    control_accuracy,
    guideline_current_acknowledged,
    membership_refusal,
    membership_standing,
    pools_workable_for,
)

logger = logging.getLogger(__name__)


class NoLabelError(ValidationError):
    pass


class MembershipInactive(PermissionDenied):
    """The evaluator's membership no longer allows this (suspended, removed, not qualified): the message
    names the pool and the reason."""


class IdempotencyConflict(Exception):
    """An idempotency key used again with a different payload: the API answers 409."""


# --------------------------------------------------------------------------- projects and items
@transaction.atomic
def project_create(
    *, name: str, slug: str, labels: Iterable[str], languages: Iterable[Language] = (), **options
) -> Project:
    project = Project.objects.create(name=name, slug=slug, **options)
    Label.objects.bulk_create(Label(project=project, value=v, order=i) for i, v in enumerate(labels))
    project.languages.set(list(languages))
    return project


@dataclass(frozen=True)
class NewItem:
    text: str
    language: Language
    external_id: str = ""
    split: str = Item.Split.POOL
    reference_label: str = ""
    is_control: bool = False
    priority: float = 0.0
    metadata: dict | None = None
    prelabel: str = ""


@transaction.atomic
def items_create(*, project: Project, items: Iterable[NewItem], source: str = Item.Source.IMPORT) -> list[Item]:
    """Store new items, skipping any whose external id or text (per language) the project already has."""
    rows, seen_hashes, seen_ids = [], set(), set()
    for new in items:
        digest = content_hash(new.text)
        key = (digest, new.language.pk)
        if key in seen_hashes or (new.external_id and new.external_id in seen_ids):
            continue
        seen_hashes.add(key)
        if new.external_id:
            seen_ids.add(new.external_id)
        rows.append(Item(
            project=project, language=new.language, text=new.text, external_id=new.external_id,
            content_hash=digest, source=source, split=new.split, reference_label=new.reference_label,
            is_control=new.is_control, priority=new.priority, metadata=new.metadata or {}, prelabel=new.prelabel,
        ))
    fresh = items_not_stored(project=project, candidates=rows)
    return Item.objects.bulk_create(fresh, batch_size=1000)


# --------------------------------------------------------------------------- leases
def assignments_expire(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Return expired leases to the queue; safe to run concurrently and repeatedly."""
    now = now or timezone.now()
    expired = 0
    stale = Assignment.objects.filter(status=Assignment.Status.ACTIVE, expires_at__lte=now).values_list("id", flat=True)
    for assignment_id in list(stale[:limit]):
        with transaction.atomic():
            assignment = (
                Assignment.objects.select_for_update(skip_locked=True)
                .filter(pk=assignment_id, status=Assignment.Status.ACTIVE, expires_at__lte=now).first()
            )
            if assignment is None:
                continue
            _release(assignment, status=Assignment.Status.EXPIRED)
            expired += 1
    return expired


def _release(assignment: Assignment, *, status: str, reason: str = "") -> None:
    """End an active lease (caller holds the assignment's lock) and give its slot back to the item."""
    if not assignment.is_control:
        Item.objects.select_for_update().filter(pk=assignment.item_id).first()
        Item.objects.filter(pk=assignment.item_id, active_assignments__gt=0).update(
            active_assignments=F("active_assignments") - 1
        )
    assignment.status = status
    assignment.skip_reason = reason[:200]
    assignment.save(update_fields=["status", "skip_reason"])


def assignments_release_for_member(*, user: AbstractBaseUser, pool: Pool, reason: str) -> int:
    """End every active lease of ``user`` on the pool's project × language at once (suspension, removal):
    the slots go back to the queue for the other evaluators."""
    released = 0
    leases = Assignment.objects.select_for_update(of=("self",)).filter(
        evaluator=user, status=Assignment.Status.ACTIVE, item__project_id=pool.project_id,
        item__language_id=pool.language_id,
    )
    for assignment in leases.order_by("id"):
        _release(assignment, status=Assignment.Status.RELEASED, reason=f"released: {reason}")
        released += 1
    return released


def _refuse_unless_member(*, evaluator: AbstractBaseUser, item: Item) -> PoolMembership:
    """The membership the evaluator works in for the item's language; refused with the reason if none."""
    membership, refusal = membership_standing(
        user=evaluator, project_id=item.project_id, language_id=item.language_id
    )
    if refusal:
        raise MembershipInactive(refusal[0].upper() + refusal[1:] + ".")
    return membership


def _own_assignment_locked(
    *, evaluator: AbstractBaseUser, assignment_id: int | None = None, public_id: str | None = None,
    label: str | None = None,
) -> Assignment:
    """The evaluator's own assignment, by row id or by public id, locked (else DoesNotExist: a 404).

    With ``label``, the same query also says whether the item's project has that label
    (``label_known``, for :func:`_check_label`): one round trip less on every submit."""
    if public_id is not None:
        try:
            lookup = {"public_id": uuid.UUID(str(public_id))}
        except ValueError:
            raise Assignment.DoesNotExist(f"assignment {public_id} not found") from None
    else:
        lookup = {"pk": assignment_id}
    # ``of=("self",)``: without it PostgreSQL also locks the joined item and project rows, and every
    # submit of a project queued behind the one project row.
    assignments = Assignment.objects.select_for_update(of=("self",)).select_related("item__project")
    if label is not None:
        assignments = assignments.annotate(label_known=Exists(
            Label.objects.filter(project_id=OuterRef("item__project_id"), value=label)
        ))
    assignment = assignments.filter(evaluator=evaluator, **lookup).first()
    if assignment is None:  # another evaluator's assignment does not exist for this one
        raise Assignment.DoesNotExist(f"assignment {public_id or assignment_id} not found")
    return assignment


@transaction.atomic
def assignment_skip(*, evaluator: AbstractBaseUser, assignment_id: int, reason: str) -> Assignment:
    """Give an item back without labelling it; the reason is kept and the item is never offered again."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(gettext("say why you skip this item"))
    assignment = _own_assignment_locked(evaluator=evaluator, assignment_id=assignment_id)
    if assignment.status == Assignment.Status.SKIPPED:
        return assignment  # a retried skip
    if assignment.status != Assignment.Status.ACTIVE:
        raise ValidationError(
            gettext("assignment %(assignment_id)s is %(assignment_status)s, it cannot be skipped")
            % {"assignment_id": assignment_id, "assignment_status": assignment.get_status_display().lower()}
        )
    _release(assignment, status=Assignment.Status.SKIPPED, reason=reason)
    return assignment


@transaction.atomic
def item_flag(
    *, evaluator: AbstractBaseUser, assignment_id: int, reason: str, comment: str = ""
) -> ItemFlag:
    """Flag the item of one's assignment (wrong language, offensive, unreadable) and release the lease."""
    if reason not in ItemFlag.Reason.values:
        raise ValidationError(
            gettext("unknown flag reason %(reason)s (one of %(reason_list)s)")
            % {"reason": repr(reason), "reason_list": ', '.join(ItemFlag.Reason.values)}
        )
    assignment = _own_assignment_locked(evaluator=evaluator, assignment_id=assignment_id)
    flag, _ = ItemFlag.objects.get_or_create(
        item_id=assignment.item_id, evaluator=evaluator, defaults={"reason": reason, "comment": comment}
    )
    if assignment.status == Assignment.Status.ACTIVE:
        _release(assignment, status=Assignment.Status.SKIPPED, reason=f"flagged: {reason}")
    return flag


# --------------------------------------------------------------------------- the assignment engine
def _lease(
    *, item: Item, evaluator: AbstractBaseUser, now: datetime, control: bool, lease_minutes: int,
    known_new: bool = False,
) -> Assignment:
    """Lease ``item``. ``known_new``: the caller read, under the item's lock and with the evaluator's
    row locked, that this evaluator has no assignment of the item at all, so one INSERT does (instead
    of get_or_create's read, savepoint, insert and release: four round trips on every next)."""
    expires = now + timedelta(minutes=lease_minutes)
    if known_new:
        assignment = Assignment.objects.create(
            item=item, evaluator=evaluator, leased_at=now, expires_at=expires, is_control=control
        )
        created = True
    else:
        assignment, created = Assignment.objects.get_or_create(
            item=item, evaluator=evaluator,
            defaults={"leased_at": now, "expires_at": expires, "is_control": control},
        )
    if not created:  # a control whose lease had expired, or an item this evaluator released unseen
        assignment.status, assignment.leased_at, assignment.expires_at = Assignment.Status.ACTIVE, now, expires
        assignment.skip_reason = ""
        assignment.save(update_fields=["status", "leased_at", "expires_at", "skip_reason"])
    if not control:
        Item.objects.filter(pk=item.pk).update(active_assignments=F("active_assignments") + 1)
    return assignment


def _rows_of_item(rows) -> Coalesce:
    """SQL: how many of ``rows`` (a queryset of a model with an ``item`` key) belong to the outer item, as
    a correlated subquery: a read that stops at its first item counts for that item only."""
    counted = rows.filter(item_id=OuterRef("pk")).order_by().values("item_id").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted[:1]), 0)


def controls_available(*, pool: Pool, evaluator_id: int):
    """Control items of the pool this evaluator has never had, not yet retired (served to fewer than the
    pool's ``gold_max_exposure`` evaluators; ``shown``: to how many). Each row's exposure is a subquery
    over its own leases (indexed by item), so a read that stops at its first row counts no other's."""
    return (
        Item.objects.filter(project_id=pool.project_id, language_id=pool.language_id, is_control=True)
        .exclude(Exists(Assignment.objects.filter(item_id=OuterRef("pk"), evaluator_id=evaluator_id)))
        .annotate(shown=_rows_of_item(Assignment.objects.all()))
        .filter(shown__lt=max(1, pool.gold_max_exposure))
    )


RETIRED_DRAW_STEP = 1e12  # a retired control's key: behind every control still in the draw


def _draw_control(*, pool: Pool, evaluator: AbstractBaseUser) -> Item | None:
    """The available control with the lowest draw key: one read that walks ``item_control_draw_idx`` and
    stops at its first row, however many controls and leases the pool has (``ORDER BY random()`` counted
    the leases of every control: a few milliseconds at a few hundred controls)."""
    return controls_available(pool=pool, evaluator_id=evaluator.pk).order_by("draw_key").first()


def next_item_queryset(*, pool: Pool, evaluator_id: int, overlap: int):
    """The open items of one pool that this evaluator may take, best first (served by item_open_queue_idx)."""
    return (
        Item.objects.filter(
            project_id=pool.project_id, language_id=pool.language_id,
            status=Item.Status.OPEN, split=Item.Split.POOL, is_control=False,
        )
        .filter(annotation_count__lt=overlap - F("active_assignments"))
        # Released leases (prefetched and given back when the workspace closed, or freed by a membership
        # change) do not count as "had it": the item may come back to the same evaluator.
        .exclude(Exists(
            Assignment.objects.filter(item_id=OuterRef("pk"), evaluator_id=evaluator_id)
            .exclude(status=Assignment.Status.RELEASED)
        ))
        .order_by("-priority", "id")
    )


def _lock_evaluator(evaluator: AbstractBaseUser) -> None:
    get_user_model().objects.select_for_update().filter(pk=evaluator.pk).first()


def _valid_leases(*, evaluator: AbstractBaseUser, project: Project | None, now: datetime) -> list[Assignment]:
    """The evaluator's open leases, oldest first; a lease left over from before a suspension or removal
    is never served: it goes back to the queue."""
    # The project is filtered here, not in SQL: the evaluator holds a few leases, and a condition on the
    # joined item let PostgreSQL start from the project's items (all of them) when its statistics were
    # stale, which made this read 5-20 ms instead of 0.1 ms.
    leases = (
        Assignment.objects.filter(evaluator=evaluator, status=Assignment.Status.ACTIVE, expires_at__gt=now)
        .select_related("item__project", "item__language")
        .order_by("leased_at", "id")
    )
    valid, refusals = [], {}
    for current in leases:
        if project is not None and current.item.project_id != project.pk:
            continue
        pair = (current.item.project_id, current.item.language_id)
        if pair not in refusals:
            refusals[pair] = membership_refusal(user=evaluator, project_id=pair[0], language_id=pair[1])
        if refusals[pair] is None:
            valid.append(current)
            continue
        locked = Assignment.objects.select_for_update().get(pk=current.pk)
        _release(locked, status=Assignment.Status.RELEASED, reason="released: membership no longer qualified")
    return valid


def _eligible_pools(*, evaluator: AbstractBaseUser, project: Project | None) -> list[Pool]:
    """Qualified pools whose project's current guideline the evaluator acknowledged (one query)."""
    # With the pool overlap that k depends on (annotation.capacity.overlap_for): one query less per next.
    return pools_workable_for(user=evaluator, project=project, annotate={"k_pool_overlap": pool_overlap_subquery(
        project_ref=OuterRef("project_id"), language_ref=OuterRef("language_id"))})


def _overlaps(pools: list[Pool]) -> dict[int, int]:
    return {
        pool.pk: effective_overlap(
            project=pool.project, language_id=pool.language_id,
            **({"pool_overlap": pool.k_pool_overlap} if hasattr(pool, "k_pool_overlap") else {}),
        )
        for pool in pools
    }


def _lease_new(
    *, evaluator: AbstractBaseUser, pools: list[Pool], now: datetime, rng: random.Random,
    overlaps: dict[int, int] | None = None,
) -> Assignment | None:
    """Lease one more item: the highest-priority open item of the eligible pools, which a random control
    item of that pool replaces at the pool's control rate."""
    if not pools:
        return None
    overlaps = overlaps or _overlaps(pools)
    ordered = pools
    if len(pools) > 1:
        # One indexed probe per pool (each stops at its first free item); the best pool is tried first.
        best: tuple[float, int, Pool] | None = None
        for pool in pools:
            head = (
                next_item_queryset(pool=pool, evaluator_id=evaluator.pk, overlap=overlaps[pool.pk])
                .values_list("priority", "id").first()
            )
            if head is not None and (best is None or (-head[0], head[1]) < (-best[0], best[1])):
                best = (head[0], head[1], pool)
        if best is None:
            return None
        ordered = [best[2]] + [pool for pool in pools if pool is not best[2]]
    for pool in ordered:
        # The pool's best free item, locked at once (items other leases hold locked are skipped). None:
        # no regular work here, so no control either, or "anything served now" would be a control.
        item = _locked_head(pool=pool, evaluator=evaluator, overlap=overlaps[pool.pk])
        if item is None:
            continue
        control = _lease_control(evaluator=evaluator, pool=pool, now=now, rng=rng)
        if control is not None:
            return control
        lease = _lease_locked(item=item, evaluator=evaluator, pool=pool, now=now, overlap=overlaps[pool.pk])
        if lease is not None:
            return lease
    return None


def _lease_control(*, evaluator: AbstractBaseUser, pool: Pool, now: datetime, rng: random.Random) -> Assignment | None:
    """At the pool's control rate, a lease of a control item of the pool (else None).

    Served from the pool's draw order (lowest draw key first); the served control's key moves on by a
    random step between 1 and 2, so it goes behind the others at a random place: every control comes round
    about as often (exposure spreads evenly; a fresh uniform key instead would leave the others' keys
    drifting up and serve the same one again and again), the order is shuffled anew every round, and
    evaluators who start together get different controls. A control reaching ``gold_max_exposure`` with
    this lease goes behind every other for good, out of the way of the draw.

    In a pool with controls the draw is read before the coin is tossed, for regular items too: then a
    control and a regular item take the same round trips (the queue's head, the draw, the lease's INSERT,
    one UPDATE of the item: its draw key, or its counters), and a control's response time does not single
    it out (``benchmarks.control_timing``)."""
    if pool.control_rate <= 0:
        return None
    control = _draw_control(pool=pool, evaluator=evaluator)
    if rng.random() >= pool.control_rate or control is None:
        return None
    control.project, control.language = pool.project, pool.language
    # controls_available left out every control this evaluator ever had, and their row is locked: new.
    lease = _lease(item=control, evaluator=evaluator, now=now, control=True,
                   lease_minutes=pool.project.lease_minutes, known_new=True)
    step = RETIRED_DRAW_STEP if control.shown + 1 >= max(1, pool.gold_max_exposure) else 1.0 + rng.random()
    Item.objects.filter(pk=control.pk).update(draw_key=F("draw_key") + step)
    return lease


def _locked_head(*, pool: Pool, evaluator: AbstractBaseUser, overlap: int) -> Item | None:
    """The pool's best free item for the evaluator, locked (items other leases hold locked are skipped)."""
    return (
        next_item_queryset(pool=pool, evaluator_id=evaluator.pk, overlap=overlap)
        # Whether a released lease of this evaluator exists (the only assignment it may have here).
        .annotate(released_before=Exists(
            Assignment.objects.filter(item_id=OuterRef("pk"), evaluator_id=evaluator.pk)
        ))
        .select_for_update(skip_locked=True, of=("self",)).first()
    )


def _lease_locked(
    *, item: Item, evaluator: AbstractBaseUser, pool: Pool, now: datetime, overlap: int
) -> Assignment | None:
    """Lease an item read by :func:`_locked_head`, unless its counters (current: re-read under the lock)
    say it is full."""
    if item.annotation_count + item.active_assignments >= overlap:
        return None
    item.project, item.language = pool.project, pool.language  # read with the pool: not again
    return _lease(
        item=item, evaluator=evaluator, now=now, control=False, lease_minutes=pool.project.lease_minutes,
        known_new=not item.released_before,
    )


@transaction.atomic
def assignment_next(
    *, evaluator: AbstractBaseUser, project: Project | None = None, now: datetime | None = None,
    rng: random.Random | None = None,
) -> Assignment | None:
    """The evaluator's next item: their open lease first (while they are still qualified there), then the
    highest-priority open item of a qualified pool whose current guideline they acknowledged, which a
    random control item of that pool replaces at the pool's control rate.

    Never an item they already had (done, skipped, expired or released), never more than the language's
    effective overlap k of distinct evaluators per item (leases count until they end).
    """
    now = now or timezone.now()
    _lock_evaluator(evaluator)
    held = _valid_leases(evaluator=evaluator, project=project, now=now)
    if held:
        return held[0]
    return _lease_new(evaluator=evaluator, pools=_eligible_pools(evaluator=evaluator, project=project), now=now,
                      rng=rng or random.Random())


@transaction.atomic
def assignments_window(
    *, evaluator: AbstractBaseUser, size: int, project: Project | None = None, now: datetime | None = None,
    rng: random.Random | None = None,
) -> list[Assignment]:
    """The workspace's prefetch window: the evaluator's open leases, topped up to ``size`` items.

    The first is the item to show; the others are leased and sent ahead so that a keypress shows the
    next item without waiting for the server. Each lease counts towards the overlap k like any other,
    so the window is small (``WORKSPACE_PREFETCH``) and the workspace gives it back when it closes
    (``assignments_release``); leases expire as the backstop.
    """
    now = now or timezone.now()
    _lock_evaluator(evaluator)
    held = _valid_leases(evaluator=evaluator, project=project, now=now)
    if len(held) < size:
        pools = _eligible_pools(evaluator=evaluator, project=project)
        overlaps, rng, new = _overlaps(pools), rng or random.Random(), []
        while len(held) + len(new) < size:
            lease = _lease_new(evaluator=evaluator, pools=pools, now=now, rng=rng, overlaps=overlaps)
            if lease is None:
                break
            new.append(lease.pk)
        if new:  # one read gives the new leases their item, project and language
            fresh = Assignment.objects.select_related("item__project", "item__language").in_bulk(new)
            held += [fresh[pk] for pk in new]
    return held


@transaction.atomic
def assignments_release(
    *, evaluator: AbstractBaseUser, public_ids: Iterable[str] | None = None, reason: str = "left the workspace"
) -> int:
    """Give back open leases of the evaluator (all, or those named by public id) without labelling them.

    The items return to the queue for everyone, this evaluator included; nothing submitted is touched
    (only ACTIVE leases are released, so a submission racing the release either lands first or finds
    the lease released and is refused with a message)."""
    leases = Assignment.objects.select_for_update(of=("self",)).filter(
        evaluator=evaluator, status=Assignment.Status.ACTIVE
    )
    if public_ids is not None:
        valid = []
        for value in public_ids:
            try:
                valid.append(uuid.UUID(str(value)))
            except ValueError:
                continue
        leases = leases.filter(public_id__in=valid)
    released = 0
    for assignment in leases.order_by("id"):
        _release(assignment, status=Assignment.Status.RELEASED, reason=f"released: {reason}")
        released += 1
    return released


# --------------------------------------------------------------------------- submissions
class GuidelineNotAcknowledged(PermissionDenied):
    """A submission refused because the evaluator has not acknowledged the project's current guideline
    (it was republished while they worked). Carries the version, so the workspace can show it inline."""

    def __init__(self, message: str, *, project: Project, version=None):
        super().__init__(message)
        self.project, self.version = project, version


def _check_label(project: Project, label: str, *, known: bool | None = None) -> None:
    """Refuse a label the project does not have (``known``: the answer already read with the assignment)."""
    if known is None:
        known = project.labels.filter(value=label).exists()
    if not known:
        raise NoLabelError(
            gettext("unknown label %(label)s for project %(project_slug)s")
            % {"label": repr(label), "project_slug": project.slug}
        )


class _KeyRace(Exception):
    """The annotation's insert met the unique (evaluator, idempotency key) of one committed meanwhile."""

    def __init__(self, *, assignment_id: int, digest: str) -> None:
        super().__init__(assignment_id)
        self.assignment_id, self.digest = assignment_id, digest


def annotation_submit(
    *, evaluator: AbstractBaseUser, assignment_id: int | None = None, label: str, idempotency_key: str,
    time_spent_ms: int = 0, guideline_version_id: int | None = None, suggestion=None,
    assignment_public_id: str | None = None,
) -> Annotation:
    """Record a label. A retried request with the same idempotency key and payload returns the first
    annotation; the same key with another payload is an IdempotencyConflict (409), never a silent success.

    ``guideline_version_id`` (optional) is the version the client showed; a stale one is refused so that
    nobody labels under a guideline that changed in the meantime. A member who is no longer qualified
    in the item's pool (suspended, removed) is refused with the reason.

    The assignment is named by its row id or, from the API, by its public id
    (``assignment_public_id``: looked up with the lock, so the view does not read it first); an unknown
    or foreign one is ``Assignment.DoesNotExist``.
    """
    try:
        return _annotation_submit(
            evaluator=evaluator, assignment_id=assignment_id, label=label, idempotency_key=idempotency_key,
            time_spent_ms=time_spent_ms, guideline_version_id=guideline_version_id, suggestion=suggestion,
            assignment_public_id=assignment_public_id,
        )
    except _KeyRace as race:
        # The same key, committed by a concurrent request for another of the evaluator's assignments after
        # the read under the lock. The transaction is rolled back (a savepoint, when the caller holds one):
        # read the winner outside it, instead of a savepoint around every insert (two more round trips).
        prior = Annotation.objects.filter(evaluator=evaluator, idempotency_key=idempotency_key).first()
        if prior is None:
            raise race.__cause__ from None
        return _replayed(prior, digest=race.digest, assignment_id=race.assignment_id, label=label,
                         key=idempotency_key)


@transaction.atomic
def _annotation_submit(
    *, evaluator: AbstractBaseUser, assignment_id: int | None, label: str, idempotency_key: str,
    time_spent_ms: int, guideline_version_id: int | None, suggestion, assignment_public_id: str | None,
) -> Annotation:
    time_spent_ms = max(0, int(time_spent_ms))
    try:
        assignment = _own_assignment_locked(
            evaluator=evaluator, assignment_id=assignment_id, public_id=assignment_public_id, label=label
        )
    except Assignment.DoesNotExist:
        prior = None if assignment_id is None else (
            Annotation.objects.filter(evaluator=evaluator, idempotency_key=idempotency_key).first()
        )
        if prior is not None:  # the key was used for another of this evaluator's assignments
            digest = _payload_hash(assignment_id=assignment_id, label=label)
            return _replayed(prior, digest=digest, assignment_id=assignment_id, label=label, key=idempotency_key)
        raise
    assignment_id = assignment.pk
    digest = _payload_hash(assignment_id=assignment_id, label=label)
    # Read under the assignment's lock, so a retry that waited for it while the first request committed
    # sees that request's annotation (one read: the lock is cheap, a retry is rare).
    prior = Annotation.objects.filter(evaluator=evaluator, idempotency_key=idempotency_key).first()
    if prior is not None:
        return _replayed(prior, digest=digest, assignment_id=assignment_id, label=label, key=idempotency_key)
    membership = _refuse_unless_member(evaluator=evaluator, item=assignment.item)
    if assignment.status == Assignment.Status.SUBMITTED:
        existing = Annotation.objects.filter(assignment=assignment).first()
        if existing is not None:
            raise ValidationError(gettext("this assignment is already submitted"))
    if assignment.status != Assignment.Status.ACTIVE:
        raise ValidationError(
            gettext("this assignment is %(assignment_status)s, not open for submission")
            % {"assignment_status": assignment.get_status_display().lower()}
        )
    project = assignment.item.project
    _check_label(project, label, known=assignment.label_known)
    version, acknowledged = guideline_current_acknowledged(user=evaluator, project=project)
    if version is None or not acknowledged:
        raise GuidelineNotAcknowledged(gettext("acknowledge the current guideline version before submitting"),
                                       project=project, version=version)
    if guideline_version_id is not None and guideline_version_id != version.pk:
        raise GuidelineNotAcknowledged(
            gettext("the guideline changed: read and acknowledge version %(version_label)s")
            % {"version_label": version.label}, project=project, version=version)
    # FOR NO KEY UPDATE: leases of other evaluators (which only reference the item) do not wait on it.
    items = Item.objects.select_for_update(no_key=True).annotate(
        k_pool_overlap=pool_overlap_subquery(project_ref=OuterRef("project_id"), language_ref=OuterRef("language_id")),
    )
    if assignment.is_control or membership.pool.control_rate > 0:
        # With the answers a control item has so far, for "editable". In a pool that serves controls it is
        # read for regular items too (0 there): a control's submit then makes the same reads as work.
        items = items.annotate(
            control_answers_so_far=_rows_of_item(Annotation.objects.filter(assignment__is_control=True))
        )
    item = items.get(pk=assignment.item_id)
    item.project = project  # the response reads it: no second read of the project
    try:
        annotation = Annotation.objects.create(
            assignment=assignment, item=item, evaluator=evaluator, label=label, guideline_version=version,
            idempotency_key=idempotency_key, time_spent_ms=time_spent_ms, payload_hash=digest,
            # What the model suggested on screen (annotation.suggestions.shown_suggestion), as telemetry.
            suggestion_shown_label=suggestion.label if suggestion else "",
            suggestion_shown_confidence=suggestion.confidence if suggestion else None,
            suggestion_shown_version=suggestion.version if suggestion else None,
        )
    except IntegrityError as exc:  # no query here: the transaction is broken (annotation_submit reads)
        raise _KeyRace(assignment_id=assignment_id, digest=digest) from exc
    assignment.status = Assignment.Status.SUBMITTED
    assignment.save(update_fields=["status"])
    # A control's receiver files its answer: one INSERT, where a regular item updates its counters below.
    annotation_submitted.send(sender=Annotation, annotation=annotation, assignment=assignment, membership=membership)
    needed = effective_overlap(project=project, language_id=item.language_id, pool_overlap=item.k_pool_overlap)
    # The response's "editable" needs this k too (annotation.selectors.annotations_editable): read once.
    annotation.known_overlap = needed
    if assignment.is_control:
        annotation.known_control_answers = item.control_answers_so_far + 1  # with this one
    else:
        item.active_assignments = max(0, item.active_assignments - 1)
        item.annotation_count += 1
        item.save(update_fields=["active_assignments", "annotation_count"])
        if item.annotation_count >= needed and item.status == Item.Status.OPEN:
            aggregation_request(project_id=project.pk, language_id=item.language_id)
    return annotation


def _payload_hash(*, assignment_id: int, label: str) -> str:
    """What makes a submission the same one: the assignment and the label. The time spent is telemetry a
    client may measure again when it retries, so it is not part of it."""
    return hashlib.sha256(f"{assignment_id}\x1f{label}".encode()).hexdigest()


def _replayed(prior: Annotation, *, digest: str, assignment_id: int, label: str, key: str) -> Annotation:
    """The original annotation of a retried request, or a conflict when the payload is not the same."""
    same = prior.payload_hash == digest if prior.payload_hash else (
        prior.assignment_id == assignment_id and prior.label == label
    )
    if not same:
        raise IdempotencyConflict(
            f"idempotency key {key!r} was already used for a different submission; a retry must send the same "
            "assignment and label, and a new submission needs a new key"
        )
    return prior


@transaction.atomic
def annotation_update(*, evaluator: AbstractBaseUser, annotation_id: int, label: str) -> Annotation:
    """An evaluator changes their own label, until the item has an approved label."""
    annotation = (
        Annotation.objects.select_for_update().select_related("item__project", "assignment")
        .filter(pk=annotation_id, evaluator=evaluator).first()
    )
    if annotation is None:
        raise Annotation.DoesNotExist(f"annotation {annotation_id} not found")
    item = Item.objects.select_for_update().select_related("project").get(pk=annotation.item_id)
    _refuse_unless_member(evaluator=evaluator, item=item)
    from annotation.selectors import annotation_editable

    if not annotation_editable(annotation):
        raise ValidationError(gettext("this item has been reviewed; its annotations can no longer change"))
    _check_label(item.project, label)
    if annotation.label == label:
        return annotation
    annotation.label = label
    annotation.save(update_fields=["label", "updated_at"])
    if item.status == Item.Status.ADJUDICATION and not annotation.assignment.is_control:
        item.status, item.review_reason = Item.Status.OPEN, ""  # aggregate again with the corrected vote
        item.save(update_fields=["status", "review_reason"])
        aggregation_request(project_id=item.project_id, language_id=item.language_id)
    return annotation


# --------------------------------------------------------------------------- aggregation and review
def _control_accuracy(*, project: Project, language_id: int, evaluator_ids: set[int]) -> dict[int, float | None]:
    pool = Pool.objects.filter(project=project, language_id=language_id).first()
    window = pool.control_window if pool else 50
    accuracy: dict[int, float | None] = {}
    for evaluator_id in evaluator_ids:
        answers = list(
            Annotation.objects.counted().filter(
                evaluator_id=evaluator_id, assignment__is_control=True, item__project=project,
                item__language_id=language_id,
            ).exclude(item__reference_label="").order_by("-created_at", "-id")
            .values_list("label", "item__reference_label")[:window]
        )
        accuracy[evaluator_id] = sum(a == b for a, b in answers) / len(answers) if answers else None
    return accuracy


def _approve(
    *, item: Item, label: str, method: str, confidence: float, action: str, actor=None, comment: str = ""
) -> ApprovedLabel:
    previous = ApprovedLabel.objects.filter(item=item).first()
    previous_label = previous.label if previous else ""
    if previous is None:
        approved = ApprovedLabel.objects.create(
            item=item, label=label, method=method, confidence=confidence, approved_by=actor
        )
    else:
        previous.label, previous.method, previous.confidence, previous.approved_by = label, method, confidence, actor
        previous.save(update_fields=["label", "method", "confidence", "approved_by"])
        approved = previous
    ApprovedLabelHistory.objects.create(
        item=item, action=action, label=label, previous_label=previous_label, method=method,
        confidence=confidence, actor=actor, comment=comment,
    )
    Item.objects.filter(pk=item.pk).update(status=Item.Status.APPROVED, review_reason="")
    item.status = Item.Status.APPROVED
    return approved


def _verdicts(*, project: Project, language_id: int, items: list[Item]) -> dict[int, Verdict]:
    regular = Annotation.objects.counted().filter(assignment__is_control=False)
    if project.aggregation == Project.Aggregation.DAWID_SKENE:
        rows = list(
            regular.filter(item__project=project, item__language_id=language_id)
            .values_list("item_id", "evaluator_id", "label")
        )
        try:
            return dawid_skene(rows, only=[item.pk for item in items])
        except Exception:  # noqa: BLE001 - a degenerate fit must not block submissions
            logger.exception("Dawid-Skene failed for project %s; falling back to majority vote", project.slug)
    by_item: dict[int, list[str]] = {item.pk: [] for item in items}
    for item_id, label in regular.filter(item_id__in=list(by_item)).values_list("item_id", "label"):
        by_item[item_id].append(label)
    return {item_id: majority_vote(labels) for item_id, labels in by_item.items() if labels}


def _aggregate_items(*, project: Project, language_id: int, items: list[Item]) -> int:
    """Decide each item: auto-approve per the project's rule, or send it to adjudication with a reason."""
    verdicts = _verdicts(project=project, language_id=language_id, items=items)
    method = (
        ApprovedLabel.Method.DAWID_SKENE if project.aggregation == Project.Aggregation.DAWID_SKENE
        else ApprovedLabel.Method.MAJORITY
    )
    rule = project.auto_approve
    counts = dict(
        Annotation.objects.counted().filter(item__in=items, assignment__is_control=False)
        .values("item_id").annotate(n=Count("id")).values_list("item_id", "n")
    )
    configured_k = overlap_for(project=project, language_id=language_id)
    decided = 0
    for item in items:
        verdict = verdicts.get(item.pk)
        if verdict is None:
            continue
        reason = ""
        if counts.get(item.pk, 0) < min(2, configured_k):
            reason = "a single label (the language is short of evaluators): a reviewer decides"
        elif verdict.label is None:
            reason = "tie"
        elif verdict.confidence < project.min_confidence:
            reason = f"low confidence ({verdict.confidence:.2f} < {project.min_confidence:.2f})"
        elif rule == Project.AutoApprove.NEVER:
            reason = "project reviews every item"
        elif rule == Project.AutoApprove.UNANIMOUS and not verdict.unanimous:
            reason = "not unanimous"
        elif project.auto_approve_accurate_only:
            evaluator_ids = set(
                item.annotations.counted().filter(assignment__is_control=False)
                .values_list("evaluator_id", flat=True)
            )
            pool = Pool.objects.filter(project=project, language_id=language_id).first()
            floor = pool.accuracy_floor if pool else 0.0
            accuracy = _control_accuracy(project=project, language_id=language_id, evaluator_ids=evaluator_ids)
            if any(value is None or value < floor for value in accuracy.values()):
                reason = "an evaluator is below the accuracy floor or has no control answers"
        item.proposed_label = verdict.label or ""
        item.proposed_confidence = verdict.confidence
        item.proposed_method = method
        if reason:
            item.status, item.review_reason = Item.Status.ADJUDICATION, reason
            item.save(update_fields=["status", "review_reason", "proposed_label", "proposed_confidence",
                                     "proposed_method"])
        else:
            item.save(update_fields=["proposed_label", "proposed_confidence", "proposed_method"])
            _approve(item=item, label=verdict.label, method=method, confidence=verdict.confidence,
                     action=ApprovedLabelHistory.Action.AUTO)
        decided += 1
    return decided


# --------------------------------------------------------------------------- background aggregation
def _enqueue(task, *args) -> None:
    try:
        task.delay(*args)
    except Exception:  # noqa: BLE001 - a broker outage must not fail a committed write
        logger.exception("could not enqueue %s%s", task.name, args)


def _pending_key(project_id: int, language_id: int) -> str:
    return f"parity:aggregation-pending:{project_id}:{language_id}"


def aggregation_request(*, project_id: int, language_id: int) -> None:
    """Ask for the aggregation of a project × language once the current transaction commits.

    Submissions only ask: the Dawid–Skene fit, the approval and the agreement snapshot run in one
    background job per project × language. ``cache.add`` keeps at most one job pending per pair (with a
    shared cache, across every web process); the job clears the mark before it reads, so an item that
    reaches k while a job runs asks for the next one. A request lost to a broker outage is picked up by
    the ``annotation.aggregation_sweep`` beat task.
    """
    transaction.on_commit(lambda: _aggregation_dispatch(project_id, language_id))


def _aggregation_dispatch(project_id: int, language_id: int) -> None:
    from annotation.tasks import aggregate_language
    from parity.coalesce import dispatch_once

    dispatch_once(
        key=_pending_key(project_id, language_id), ttl_s=settings.AGGREGATION_PENDING_TTL_S,
        task=aggregate_language, args=[project_id, language_id], countdown_s=settings.AGGREGATION_DELAY_S,
        what=f"the aggregation of project {project_id} × language {language_id}",
    )


def aggregation_job_run(*, project: Project, language: Language) -> int:
    """The background job: decide every item of the pair that has its k labels, then take an agreement
    snapshot when one is due. Idempotent: a second run finds nothing pending."""
    from django.core.cache import cache

    cache.delete(_pending_key(project.pk, language.pk))
    decided = aggregation_batch_run(project=project, language=language)
    if decided:
        agreement_snapshot_if_due(project=project, language=language)
    return decided


SWEEP_NAME = "annotation.aggregation_sweep"


def _changed_pairs(since: datetime | None) -> set[tuple[int, int]]:
    """Project × language pairs with a label written or changed (a discard too) since ``since``; every
    pair with a label or a labelled open item when ``since`` is None (a full pass)."""
    annotations = Annotation.objects.all() if since is None else Annotation.objects.filter(updated_at__gte=since)
    pairs = set(annotations.order_by().values_list("item__project_id", "item__language_id").distinct())
    if since is None:
        pairs |= set(
            Item.objects.filter(status=Item.Status.OPEN, is_control=False, annotation_count__gt=0)
            .order_by().values_list("project_id", "language_id").distinct()
        )
    return pairs


def _snapshot_owed(project: Project, language: Language) -> bool:
    """A pair whose numbers changed after its last agreement snapshot (one not due yet is owed later)."""
    last = AgreementSnapshot.objects.filter(project=project, language=language).order_by("-created_at").first()
    latest, _ = _latest_change(project, language, _annotations_of(project, language))
    return latest is not None and (last is None or latest > last.created_at)


def aggregation_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Safety net run by beat every minute: aggregate pairs whose items wait with k labels (a dispatch
    that never reached the broker) and take the agreement snapshots that are due.

    It reads only the pairs that changed since the previous sweep, not every annotation: a durable
    watermark (``SweepWatermark``) holds when the last completed sweep started, and this one reads labels
    with ``updated_at`` from that instant minus ``AGGREGATION_SWEEP_OVERLAP_S``. The overlap covers a
    submission whose row was stamped before that instant but committed after the previous sweep read
    (a label written during a sweep is picked up by the next one); re-reading a pair is harmless, the
    job is idempotent. Pairs that changed but whose snapshot was not due yet are carried in the
    watermark until it is. With no watermark (the first run), and every ``AGGREGATION_SWEEP_FULL_S``
    seconds, the sweep covers every pair, which also catches items made pending without a new label (a
    k lowered in the admin). The watermark moves only when the sweep completes: a sweep that crashes is
    redone from the old one.
    """
    now = now or timezone.now()
    mark, _ = SweepWatermark.objects.get_or_create(name=SWEEP_NAME)
    full = mark.value is None or mark.full_at is None or (
        (now - mark.full_at).total_seconds() >= float(settings.AGGREGATION_SWEEP_FULL_S)
    )
    since = None if full else mark.value - timedelta(seconds=float(settings.AGGREGATION_SWEEP_OVERLAP_S))
    pairs = _changed_pairs(since) | {tuple(pair) for pair in mark.pending}
    decided = snapshots = 0
    carried: list[list[int]] = []
    projects = Project.objects.in_bulk({project_id for project_id, _ in pairs})
    languages = Language.objects.in_bulk({language_id for _, language_id in pairs})
    for project_id, language_id in sorted(pairs):
        project, language = projects.get(project_id), languages.get(language_id)
        if project is None or language is None:
            continue  # deleted since
        decided += aggregation_job_run(project=project, language=language)
        if agreement_snapshot_if_due(project=project, language=language, now=now) is not None:
            snapshots += 1
        elif _snapshot_owed(project, language):
            carried.append([project_id, language_id])
    SweepWatermark.objects.filter(pk=mark.pk).update(
        value=now, pending=carried, full_at=now if full else mark.full_at, updated_at=timezone.now()
    )
    return {"decided": decided, "snapshots": snapshots, "pairs": len(pairs), "full": int(full)}


@transaction.atomic  # its row locks need a transaction: the worker, the sweep and the API call it with none open
def aggregation_batch_run(*, project: Project, language: Language | None = None) -> int:
    """Aggregate every item that has its k annotations (the language's effective k: fewer when the project
    aggregates short of evaluators) but no decision yet. Rows another job holds are skipped: that job
    decides them."""
    from annotation.capacity import project_language_ids

    language_ids = [language.pk] if language is not None else project_language_ids(project)
    by_language: dict[int, list[Item]] = {}
    for language_id in language_ids:
        pending = Item.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            project=project, language_id=language_id, status=Item.Status.OPEN, is_control=False,
            annotation_count__gte=effective_overlap(project=project, language_id=language_id),
        )
        for item in pending.order_by("id"):
            item.project = project
            by_language.setdefault(item.language_id, []).append(item)
    decided = 0
    for language_id, items in by_language.items():
        decided += _aggregate_items(project=project, language_id=language_id, items=items)
    return decided


@transaction.atomic
def review_approve(*, item: Item, reviewer: AbstractBaseUser, comment: str = "") -> ApprovedLabel:
    """A reviewer accepts what aggregation proposed (not possible for a tie: override instead)."""
    locked = Item.objects.select_for_update().select_related("project").get(pk=item.pk)
    if locked.status != Item.Status.ADJUDICATION:
        raise ValidationError(gettext("item %(item)s is not waiting for review") % {"item": locked.pk})
    if not locked.proposed_label:
        raise ValidationError(
            gettext("item %(item)s has no proposed label (%(review_reason)s): choose one")
            % {"item": locked.pk, "review_reason": locked.review_reason}
        )
    return _approve(
        item=locked, label=locked.proposed_label, method=locked.proposed_method or ApprovedLabel.Method.MAJORITY,
        confidence=locked.proposed_confidence or 0.0, action=ApprovedLabelHistory.Action.APPROVE, actor=reviewer,
        comment=comment,
    )


@transaction.atomic
def review_override(*, item: Item, label: str, reviewer: AbstractBaseUser, comment: str = "") -> ApprovedLabel:
    """A reviewer sets the label of an item waiting for review, or changes an approved one (history kept)."""
    locked = Item.objects.select_for_update().select_related("project").get(pk=item.pk)
    _check_label(locked.project, label)
    if locked.status == Item.Status.OPEN:
        raise ValidationError(gettext("item %(item)s has not been aggregated yet") % {"item": locked.pk})
    return _approve(item=locked, label=label, method=ApprovedLabel.Method.REVIEW, confidence=1.0,
                    action=ApprovedLabelHistory.Action.OVERRIDE, actor=reviewer, comment=comment)


@transaction.atomic
def adjudication_resolve(*, item: Item, label: str, reviewer: AbstractBaseUser) -> ApprovedLabel:
    """Settle an item of the adjudication queue with the reviewer's label (refused once approved)."""
    locked = Item.objects.select_for_update().select_related("project").get(pk=item.pk)
    _check_label(locked.project, label)
    if locked.status == Item.Status.APPROVED or ApprovedLabel.objects.filter(item=locked).exists():
        raise ValidationError(gettext("item %(item)s is already approved") % {"item": locked.pk})
    return _approve(item=locked, label=label, method=ApprovedLabel.Method.REVIEW, confidence=1.0,
                    action=ApprovedLabelHistory.Action.OVERRIDE, actor=reviewer)


# --------------------------------------------------------------------------- discarding and promoting
@transaction.atomic
def annotations_discard(
    *, membership: PoolMembership, since: datetime, reason: str, actor: AbstractBaseUser | None = None,
    now: datetime | None = None,
) -> AnnotationDiscard:
    """Discard a member's annotations in the pool's project × language created at or after ``since``.

    They stay stored (``discarded_at``) but leave aggregation, agreement and control accuracy. Every
    item that lost a label counts it again as missing; an approved or adjudicated one is re-opened
    (approved label removed, history entry "reopen") so that other evaluators label it again. The
    discard, the membership event and each re-opening are logged.
    """
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(gettext("a reason is required to discard a member's annotations"))
    if since > now:
        raise ValidationError(
            gettext("the start date %(since)s is in the future")
            % {"since": format(since, "%Y-%m-%d %H:%M")}
        )
    membership = PoolMembership.objects.select_for_update().select_related("pool__project").get(pk=membership.pk)
    pool = membership.pool
    annotations = list(
        Annotation.objects.select_for_update(of=("self",)).counted().filter(
            evaluator_id=membership.user_id, item__project_id=pool.project_id, item__language_id=pool.language_id,
            created_at__gte=since,
        ).select_related("assignment").order_by("id")
    )
    discard = AnnotationDiscard.objects.create(membership=membership, since=since, reason=reason, actor=actor,
                                               n_annotations=len(annotations))
    # updated_at too: the aggregation sweep finds the pairs whose numbers changed by it.
    Annotation.objects.filter(pk__in=[a.pk for a in annotations]).update(
        discarded_at=now, discard=discard, updated_at=now
    )
    ControlAnswer.objects.filter(annotation__in=[a.pk for a in annotations]).update(in_window=False)
    lost: dict[int, int] = {}
    for annotation in annotations:
        if not annotation.assignment.is_control:
            lost[annotation.item_id] = lost.get(annotation.item_id, 0) + 1
    reopened, to_aggregate = 0, []
    project = pool.project
    for item in Item.objects.select_for_update().filter(pk__in=list(lost)).order_by("id"):
        item.annotation_count = max(0, item.annotation_count - lost[item.pk])
        fields = ["annotation_count"]
        if item.status != Item.Status.OPEN:
            previous = ApprovedLabel.objects.filter(item=item).first()
            ApprovedLabelHistory.objects.create(
                item=item, action=ApprovedLabelHistory.Action.REOPEN, label="",
                previous_label=previous.label if previous else item.proposed_label, method="discard",
                confidence=0.0, actor=actor,
                comment=f"{lost[item.pk]} label(s) of {membership.user} discarded: {reason}",
            )
            if previous is not None:
                previous.delete()
            item.status, item.review_reason = Item.Status.OPEN, ""
            item.proposed_label, item.proposed_confidence, item.proposed_method = "", None, ""
            fields += ["status", "review_reason", "proposed_label", "proposed_confidence", "proposed_method"]
            if item.is_control and item.metadata.get("promoted_control"):
                item.is_control, item.reference_label = False, ""  # its gold came from the discarded labels
                fields += ["is_control", "reference_label"]
            reopened += 1
        item.save(update_fields=fields)
        if item.annotation_count >= effective_overlap(project=project, language_id=item.language_id):
            item.project = project
            to_aggregate.append(item)
    discard.n_reopened = reopened
    discard.save(update_fields=["n_reopened"])
    MembershipEvent.objects.create(
        membership=membership, from_state=membership.state, to_state=membership.state, actor=actor,
        reason=f"discarded {len(annotations)} annotation(s) since {since:%Y-%m-%d %H:%M}; {reopened} approved or "
        f"adjudicated item(s) re-opened. Reason: {reason}",
    )
    if to_aggregate:
        _aggregate_items(project=project, language_id=pool.language_id, items=to_aggregate)
    from annotation.tasks import record_agreement

    transaction.on_commit(lambda: _enqueue(record_agreement, project.pk, pool.language_id))
    return discard


def promotion_candidates(*, project: Project, language: Language | None = None) -> list[tuple[Item, str]]:
    """Approved items fit to become controls: every counted label agrees (at least two of them), and every
    one of their evaluators is at or above the pool's accuracy floor on controls."""
    items = (
        Item.objects.filter(project=project, status=Item.Status.APPROVED, split=Item.Split.POOL, is_control=False,
                            approved_label__isnull=False)
        .exclude(approved_label__method=ApprovedLabel.Method.REVIEW)
        .select_related("approved_label")
    )
    if language is not None:
        items = items.filter(language=language)
    memberships: dict[tuple[int, int], PoolMembership | None] = {}
    fit = []
    for item in items.order_by("id"):
        votes = list(item.annotations.counted().filter(assignment__is_control=False)
                     .values_list("evaluator_id", "label"))
        labels = {label for _, label in votes}
        if len(votes) < 2 or labels != {item.approved_label.label}:
            continue
        ok = True
        for evaluator_id, _ in votes:
            key = (evaluator_id, item.language_id)
            if key not in memberships:
                memberships[key] = PoolMembership.objects.select_related("pool").filter(
                    user_id=evaluator_id, pool__project=project, pool__language_id=item.language_id,
                    state=PoolMembership.State.QUALIFIED,
                ).first()
            membership = memberships[key]
            stats = control_accuracy(membership=membership) if membership else None
            if stats is None or stats.accuracy is None or stats.accuracy < membership.pool.accuracy_floor:
                ok = False
                break
        if ok:
            fit.append((item, item.approved_label.label))
    return fit


@transaction.atomic
def controls_promote(
    *, project: Project, language: Language | None = None, actor: AbstractBaseUser | None = None,
    limit: int | None = None,
) -> list[Item]:
    """Make high-confidence approved items (unanimous, by evaluators above the accuracy floor) new gold
    controls: the approved label becomes the reference. The ApprovedLabel row and its history stay, but
    like every control the item then leaves exports and training sets (they skip control items); the
    evaluators who labelled it never get it again."""
    promoted = []
    for item, label in promotion_candidates(project=project, language=language)[:limit]:
        locked = Item.objects.select_for_update().get(pk=item.pk)
        if locked.is_control:
            continue
        locked.is_control, locked.reference_label = True, label
        locked.metadata = {**(locked.metadata or {}), "promoted_control": {
            "at": timezone.now().isoformat(), "by": getattr(actor, "pk", None), "label": label,
        }}
        locked.save(update_fields=["is_control", "reference_label", "metadata"])
        promoted.append(locked)
    return promoted


# --------------------------------------------------------------------------- agreement
def agreement_snapshot_record(
    *, project: Project, language: Language | None = None, trigger: str = "manual"
) -> AgreementSnapshot:
    """Compute agreement over every regular annotation of the project (× language) and store it,
    with the counts behind the numbers."""
    from annotation.agreement import agreement_report

    rows = Annotation.objects.counted().filter(item__project=project, assignment__is_control=False)
    if language is not None:
        rows = rows.filter(item__language=language)
    items, annotators, labels = [], [], []
    for item_id, evaluator_id, label in rows.values_list("item_id", "evaluator_id", "label").iterator():
        items.append(item_id)
        annotators.append(evaluator_id)
        labels.append(label)
    level = project.agreement_level
    categories = None
    if level == "ordinal":
        categories = list(project.labels.order_by("order", "id").values_list("value", flat=True))
    elif level == "interval":
        labels = [float(value) for value in labels]
    summary: dict = {"n_items": 0, "n_annotators": 0, "n_ratings": 0}
    if items:
        try:
            summary = agreement_report(items, annotators, labels, level=level, categories=categories).to_dict(
                detail=False
            )
        except ValueError as exc:
            logger.warning("agreement for %s not computed: %s", project.slug, exc)
    label_counts: dict[str, int] = {}
    for value in labels:
        label_counts[str(value)] = label_counts.get(str(value), 0) + 1
    items_with_k = len([1 for _, n in _counts(items).items() if n >= project.overlap])
    if summary.get("fleiss_kappa") is None and items:
        complete = _fleiss_on_complete_items(items, labels, project.overlap)
        if complete is not None:
            summary["fleiss_kappa"], summary["fleiss_kappa_note"] = complete
    return AgreementSnapshot.objects.create(
        project=project, language=language, level=level, trigger=trigger,
        krippendorff_alpha=summary.get("krippendorff_alpha"), fleiss_kappa=summary.get("fleiss_kappa"),
        cohen_kappa_mean=summary.get("cohen_kappa_mean"), percent_agreement=summary.get("percent_agreement"),
        n_items=summary.get("n_items") or 0, n_annotators=summary.get("n_annotators") or 0,
        n_ratings=summary.get("n_ratings") or 0,
        counts={"labels": label_counts, "items_with_k_annotations": items_with_k,
                "fleiss_kappa_note": summary.get("fleiss_kappa_note")},
    )


def _fleiss_on_complete_items(items: list, labels: list, k: int) -> tuple[float, str] | None:
    """Fleiss' kappa over the items that have all k ratings.

    Fleiss needs the same number of ratings per item, so while some items are still collecting
    votes it is undefined over all of them, which left it blank on every live snapshot. Over the
    finished items it is well defined and is what a manager wants to watch; the note says which
    items it covers. None when fewer than two items are finished or kappa is undefined there."""
    from annotation.agreement import fleiss_kappa

    per_item = _counts(items)
    complete = {item for item, n in per_item.items() if n == k}
    if len(complete) < 2:
        return None
    kept = [(item, label) for item, label in zip(items, labels, strict=True) if item in complete]
    result = fleiss_kappa([item for item, _ in kept], [str(label) for _, label in kept])
    if result.kappa is None:
        return None
    left_out = len(per_item) - len(complete)
    return float(result.kappa), (
        f"over the {len(complete)} items with all {k} ratings; {left_out} items with fewer or more ratings left out"
    )


def _counts(values: list) -> dict:
    out: dict = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return out


def _annotations_of(project: Project, language: Language | None):
    annotations = Annotation.objects.counted().filter(item__project=project, assignment__is_control=False)
    return annotations.filter(item__language=language) if language is not None else annotations


def _latest_change(project: Project, language: Language | None, annotations):
    """When the numbers of the pair last changed: a new or edited label, or an admin's discard."""
    discarded = AnnotationDiscard.objects.filter(membership__pool__project=project)
    if language is not None:
        discarded = discarded.filter(membership__pool__language=language)
    latest_discard = discarded.aggregate(latest=Max("created_at"))["latest"]
    stats = annotations.aggregate(latest=Max("updated_at"), n=Count("id"))
    latest = stats["latest"]
    if latest_discard is not None and (latest is None or latest_discard > latest):
        latest = latest_discard
    return latest, stats["n"]


def agreement_snapshot_if_due(
    *, project: Project, language: Language | None, now: datetime | None = None
) -> AgreementSnapshot | None:
    """Snapshot agreement per N new labels or per time window, not per item.

    Due when there is no snapshot yet, when ``AGREEMENT_SNAPSHOT_EVERY_LABELS`` labels were added since
    the last one, or when anything changed (labels or a discard) and ``AGREEMENT_SNAPSHOT_INTERVAL_S``
    has passed. A series of one point per approved item was unreadable and cost a full agreement pass
    per submission.
    """
    now = now or timezone.now()
    last = AgreementSnapshot.objects.filter(project=project, language=language).order_by("-created_at").first()
    annotations = _annotations_of(project, language)
    if last is None:
        due = annotations.exists()
    else:
        latest, n = _latest_change(project, language, annotations)
        changed = latest is not None and latest > last.created_at
        due = changed and (
            abs(n - last.n_ratings) >= int(settings.AGREEMENT_SNAPSHOT_EVERY_LABELS)
            or (now - last.created_at).total_seconds() >= float(settings.AGREEMENT_SNAPSHOT_INTERVAL_S)
        )
    if not due:
        return None
    return agreement_snapshot_record(project=project, language=language, trigger="aggregation")


# --------------------------------------------------------------------------- end-user reports
def _project_for_language(language: Language) -> Project | None:
    return (
        Project.objects.filter(languages=language).order_by("id").first()
        or Project.objects.filter(pools__language=language).order_by("id").first()
    )


@transaction.atomic
def report_create(
    *, language: Language | str, input_text: str, model_output: str, category: str,
    suggested_correction: str = "", contact: str = "",
) -> Report:
    """Store a public report; ``language`` is a Language or a tag such as ``urd_Arab``."""
    from evaluators.languages import LanguageCodeError

    if isinstance(language, str):
        from annotation.selectors import served_language

        try:
            found = served_language(language.strip())
        except LanguageCodeError as exc:
            raise ValidationError({"language": str(exc)}) from exc
        if found is None:
            raise ValidationError({"language": f"{language.strip()} is not a language we serve yet"})
        language = found
    if category not in Report.Category.values:
        raise ValidationError({"category": f"unknown category {category!r}"})
    if not input_text.strip() or not model_output.strip():
        raise ValidationError(gettext("input text and model output are required"))
    return Report.objects.create(
        language=language, input_text=input_text.strip(), model_output=model_output.strip(), category=category,
        suggested_correction=suggested_correction.strip(), contact=contact.strip(),
    )


def _triage_lock(report: Report) -> Report:
    locked = Report.objects.select_for_update().get(pk=report.pk)
    if locked.status != Report.Status.NEW:
        raise ValidationError(
            gettext("report %(reference)s was already triaged (%(status)s)")
            % {"reference": locked.reference, "status": locked.get_status_display()}
        )
    return locked


@transaction.atomic
def report_accept(
    *, report: Report, actor: AbstractBaseUser | None = None, project: Project | None = None,
    priority: float | None = None,
) -> Item:
    """Turn a report into a high-priority item of the language's project (an existing item is bumped)."""
    locked = _triage_lock(report)
    project = project or _project_for_language(locked.language)
    if project is None:
        raise ValidationError(
            gettext("no project serves %(language_tag)s: create one or reject the report")
            % {"language_tag": locked.language.tag}
        )
    priority = priority if priority is not None else float(getattr(settings, "REPORT_ITEM_PRIORITY", 100.0))
    digest = content_hash(locked.input_text)
    item = Item.objects.select_for_update().filter(
        project=project, language=locked.language, content_hash=digest
    ).first()
    if item is None:
        labels = set(project.labels.values_list("value", flat=True))
        item = Item.objects.create(
            project=project, language=locked.language, text=locked.input_text, content_hash=digest,
            source=Item.Source.REPORT, priority=priority, external_id=f"report:{locked.reference}",
            prelabel=locked.suggested_correction if locked.suggested_correction in labels else "",
            metadata={"report": locked.reference, "model_output": locked.model_output,
                      "category": locked.category, "suggested_correction": locked.suggested_correction},
        )
    elif item.priority < priority:
        item.priority = priority
        item.save(update_fields=["priority"])
    locked.status, locked.item, locked.triaged_by = Report.Status.ACCEPTED, item, actor
    locked.save(update_fields=["status", "item", "triaged_by", "updated_at"])
    return item


@transaction.atomic
def report_reject(*, report: Report, reason: str, actor: AbstractBaseUser | None = None) -> Report:
    if not (reason or "").strip():
        raise ValidationError(gettext("a rejection needs a reason"))
    locked = _triage_lock(report)
    locked.status, locked.resolution, locked.triaged_by = Report.Status.REJECTED, reason.strip(), actor
    locked.save(update_fields=["status", "resolution", "triaged_by", "updated_at"])
    return locked


@transaction.atomic
def report_mark_duplicate(*, report: Report, of: Report, actor: AbstractBaseUser | None = None) -> Report:
    if of.pk == report.pk:
        raise ValidationError(gettext("a report cannot duplicate itself"))
    locked = _triage_lock(report)
    locked.status, locked.duplicate_of, locked.triaged_by = Report.Status.DUPLICATE, of, actor
    locked.save(update_fields=["status", "duplicate_of", "triaged_by", "updated_at"])
    return locked

