"""The review queue: what waits for a reviewer (adjudication and flagged items), filtered, and the writes
only a reviewer makes there (resolve a flag, approve several proposed labels at once).

Single-item approve and override stay in ``annotation.services`` (``review_approve``,
``review_override``), which the API uses too; this module adds what the queue page needs on top.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from annotation import services
from annotation.models import (
    Annotation,
    ApprovedLabel,
    ApprovedLabelHistory,
    Assignment,
    Item,
    ItemFlag,
    Project,
)

# Reasons a reviewer filters by. Aggregation writes ``Item.review_reason`` as a sentence; these are the
# beginnings of those sentences (annotation.services._aggregate_items), "flagged" is the Flagged tab.
REASONS = {"tie": "tie", "low_confidence": "low confidence", "single_label": "a single label", "flagged": None}
QUEUE_SIZE = 50
BULK_LIMIT = QUEUE_SIZE * 4  # items one bulk approval takes (a page of the queue is QUEUE_SIZE)


def reason_choices() -> list[tuple[str, str]]:
    return [("tie", _("tie")), ("low_confidence", _("low confidence")), ("single_label", _("single label")),
            ("flagged", _("flagged"))]


@dataclass(frozen=True)
class ReviewFilter:
    project: str = ""
    language: str = ""
    reason: str = ""
    # The reviewer: only the project × languages they review are ever listed (parity.access).
    user: object = field(default=None, compare=False)

    @classmethod
    def from_query(cls, query, user=None) -> ReviewFilter:
        reason = query.get("reason", "")
        return cls(project=query.get("project", "")[:100], language=query.get("language", "")[:40],
                   reason=reason if reason in REASONS else "", user=user)

    @property
    def flagged(self) -> bool:
        return self.reason == "flagged"

    def scope(self, items: QuerySet[Item]) -> QuerySet[Item]:
        if self.user is not None:
            from parity import access

            items = items.filter(access.reviewed_scope(self.user))
        if self.project:
            items = items.filter(project__slug=self.project)
        if self.language:
            code, _sep, script = self.language.partition("_")
            items = items.filter(language__code=code, **({"language__script": script} if script else {}))
        return items


def _open_flags():
    return ItemFlag.objects.filter(resolved_at__isnull=True)


def adjudication_items(flt: ReviewFilter) -> QuerySet[Item]:
    items = flt.scope(Item.objects.filter(status=Item.Status.ADJUDICATION))
    prefix = REASONS.get(flt.reason)
    if prefix:
        items = items.filter(review_reason__startswith=prefix)
    return items


def flagged_items(flt: ReviewFilter) -> QuerySet[Item]:
    """Items with at least one flag no reviewer has resolved yet (removed items are done)."""
    return flt.scope(Item.objects.exclude(status=Item.Status.REMOVED).filter(_has_open_flag()))


def _has_open_flag() -> Exists:
    return Exists(_open_flags().filter(item_id=OuterRef("pk")))


@dataclass
class ReviewRow:
    item: Item
    votes: list[Annotation]
    counts: list[tuple[str, int]]
    labels: list
    flags: list[ItemFlag] = field(default_factory=list)
    suggestion: object = None  # annotation.suggestions.Suggestion where the project shows them


def review_rows(flt: ReviewFilter) -> list[ReviewRow]:
    """At most QUEUE_SIZE rows, highest priority first, in a fixed number of queries whatever their number."""
    items = flagged_items(flt) if flt.flagged else adjudication_items(flt)
    items = (
        items.select_related("project", "language")
        .prefetch_related(
            Prefetch("annotations", queryset=Annotation.objects.counted().select_related(
                "evaluator", "guideline_version").order_by("id")),
            Prefetch("flags", queryset=_open_flags().select_related("evaluator").order_by("created_at", "id"),
                     to_attr="open_flags"),
            "project__labels",
        )
        .order_by("-priority", "id")[:QUEUE_SIZE]
    )
    from annotation.suggestions import suggestions_for

    items = list(items)
    suggestions = suggestions_for(items)
    rows = []
    for item in items:
        votes = list(item.annotations.all())
        rows.append(ReviewRow(item=item, votes=votes, counts=Counter(a.label for a in votes).most_common(),
                              labels=list(item.project.labels.all()), flags=item.open_flags,
                              suggestion=suggestions.get(item.pk)))
    return rows


def queue_counts(flt: ReviewFilter) -> dict[str, int]:
    """How many wait in each tab under the same project/language filter (one query each)."""
    base = ReviewFilter(project=flt.project, language=flt.language, user=flt.user)
    return {"adjudication": adjudication_items(base).count(), "flagged": flagged_items(base).count()}


def filter_options(user=None) -> dict:
    """Projects and languages that have something waiting for this reviewer (for the filter menus)."""
    waiting = ReviewFilter(user=user).scope(Item.objects.filter(Q(status=Item.Status.ADJUDICATION) | _has_open_flag()))
    projects = Project.objects.filter(pk__in=waiting.values("project_id")).order_by("name")
    from evaluators.models import Language

    languages = Language.objects.filter(pk__in=waiting.values("language_id")).order_by("name")
    return {"projects": list(projects), "languages": list(languages), "reasons": reason_choices()}


# --- writes -------------------------------------------------------------------------------------

@transaction.atomic
def flag_resolve(
    *, item: Item, reviewer: AbstractBaseUser, action: str, label: str = "", comment: str = ""
) -> str:
    """Settle every open flag of an item: ``dismiss`` (the item stays in the pool as it is), ``remove``
    (the item leaves the pool: never served again, active leases ended) or ``relabel`` (the reviewer's
    label is approved, as an override). Returns the resolution."""
    locked = Item.objects.select_for_update().select_related("project").get(pk=item.pk)
    flags = _open_flags().filter(item=locked)
    if not flags.exists():
        raise ValidationError(_("Item %(id)s has no open flag.") % {"id": locked.pk})
    if action == "dismiss":
        resolution = ItemFlag.Resolution.DISMISSED
    elif action == "remove":
        resolution = ItemFlag.Resolution.REMOVED
        _end_leases(locked, reason="item removed from the pool by a reviewer")
        Item.objects.filter(pk=locked.pk).update(status=Item.Status.REMOVED, review_reason="")
    elif action == "relabel":
        if not label:
            raise ValidationError(_("Choose the label for item %(id)s.") % {"id": locked.pk})
        services._check_label(locked.project, label)
        resolution = ItemFlag.Resolution.RELABELLED
        _end_leases(locked, reason="labelled by a reviewer")
        services._approve(item=locked, label=label, method=ApprovedLabel.Method.REVIEW, confidence=1.0,
                          action=ApprovedLabelHistory.Action.OVERRIDE, actor=reviewer,
                          comment=comment or "flag resolved by relabelling")
    else:
        raise ValidationError(_("Unknown flag action %(action)r (dismiss, remove or relabel).") % {"action": action})
    flags.update(resolution=resolution, resolved_at=timezone.now(), resolved_by=reviewer,
                 resolution_comment=comment[:2000])
    return resolution


FLAG_ACTIONS = {"dismiss": ItemFlag.Resolution.DISMISSED, "remove": ItemFlag.Resolution.REMOVED,
                "relabel": ItemFlag.Resolution.RELABELLED}


@transaction.atomic
def flag_resolve_or_repeat(
    *, item: Item, reviewer: AbstractBaseUser, action: str, label: str = "", comment: str = ""
) -> tuple[str, bool]:
    """``flag_resolve``, made safe to retry: when the item has no open flag left because the same action
    already settled them (the same label for a relabel), nothing changes and ``(resolution, True)``
    comes back; anything else is refused as ``flag_resolve`` refuses it. The item row is locked first,
    so two concurrent identical requests give one resolution and one repeat, never a refusal."""
    Item.objects.select_for_update().filter(pk=item.pk).values_list("pk", flat=True).first()
    if action in FLAG_ACTIONS and not _open_flags().filter(item_id=item.pk).exists():
        settled = ItemFlag.objects.filter(item_id=item.pk, resolved_at__isnull=False)
        last = settled.order_by("-resolved_at", "-id").first()
        same_label = action != "relabel" or ApprovedLabel.objects.filter(item_id=item.pk, label=label).exists()
        if last is not None and last.resolution == FLAG_ACTIONS[action] and same_label:
            return last.resolution, True
    return flag_resolve(item=item, reviewer=reviewer, action=action, label=label, comment=comment), False


def _end_leases(item: Item, *, reason: str) -> None:
    for lease in Assignment.objects.select_for_update().filter(item=item, status=Assignment.Status.ACTIVE):
        services._release(lease, status=Assignment.Status.RELEASED, reason=reason)


@dataclass
class BulkResult:
    approved: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)
    # Already approved before this call (a repeated request): left as they are.
    already_approved: list[int] = field(default_factory=list)
    # Ids that name no item this reviewer reviews (another language or project, or none at all): untouched.
    not_found: list[int] = field(default_factory=list)


def review_bulk_approve(*, item_ids: list[int], reviewer: AbstractBaseUser, comment: str = "") -> BulkResult:
    """Approve the proposed label of each selected item, each in its own transaction: an item without a
    proposal (a tie) or already decided is refused with its reason, the others still go through."""
    result = BulkResult()
    from parity import access

    wanted = list(dict.fromkeys(item_ids))[:BULK_LIMIT]
    allowed = list(Item.objects.filter(access.reviewed_scope(reviewer), pk__in=wanted).order_by("id"))
    found = {item.pk for item in allowed}
    result.not_found = [pk for pk in wanted if pk not in found]
    for item in allowed:
        if item.status == Item.Status.APPROVED:
            result.already_approved.append(item.pk)
            continue
        try:
            services.review_approve(item=item, reviewer=reviewer, comment=comment)
        except ValidationError as exc:
            result.refused[item.pk] = " ".join(exc.messages)
        else:
            result.approved.append(item.pk)
    return result
