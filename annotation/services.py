"""Every write of the annotation workflow: projects, items, the assignment engine, submissions,
aggregation, adjudication and agreement snapshots.

The assignment engine keeps two counters on each item (active leases and submitted annotations)
and only changes them under the item's row lock, so ``active + submitted <= overlap`` holds under
concurrency; the unique (item, evaluator) constraint is the backstop against double assignment.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from annotation.aggregation import majority_vote
from annotation.hashing import content_hash
from annotation.signals import annotation_submitted
from annotation.models import AgreementSnapshot, Annotation, ApprovedLabel, Assignment, Item, Label, Project
from evaluators.models import Language
from evaluators.selectors import guideline_current, guideline_is_acknowledged, pools_qualified_for


class NoLabelError(ValidationError):
    pass


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
            is_control=new.is_control, priority=new.priority, metadata=new.metadata or {},
        ))
    existing_hashes = set(
        Item.objects.filter(project=project, content_hash__in=[r.content_hash for r in rows])
        .values_list("content_hash", "language_id")
    )
    existing_ids = set(
        Item.objects.filter(project=project, external_id__in=[r.external_id for r in rows if r.external_id])
        .values_list("external_id", flat=True)
    )
    fresh = [
        r for r in rows
        if (r.content_hash, r.language.pk) not in existing_hashes and (not r.external_id or r.external_id not in existing_ids)
    ]
    return Item.objects.bulk_create(fresh, batch_size=1000)


def assignments_expire(*, now: datetime | None = None) -> int:
    """Return expired leases to the queue; safe to run concurrently and repeatedly."""
    now = now or timezone.now()
    expired = 0
    stale = Assignment.objects.filter(status=Assignment.Status.ACTIVE, expires_at__lte=now).values_list("id", flat=True)
    for assignment_id in list(stale[:1000]):
        with transaction.atomic():
            assignment = (
                Assignment.objects.select_for_update().filter(pk=assignment_id, status=Assignment.Status.ACTIVE).first()
            )
            if assignment is None:
                continue
            Item.objects.select_for_update().filter(pk=assignment.item_id).update(
                active_assignments=F("active_assignments") - 1
            )
            assignment.status = Assignment.Status.EXPIRED
            assignment.save(update_fields=["status"])
            expired += 1
    return expired


def _pool_filter(pools) -> Q:
    q = Q(pk__in=[])
    for pool in pools:
        q |= Q(project_id=pool.project_id, language_id=pool.language_id)
    return q


def _lease(*, item: Item, evaluator: AbstractBaseUser, now: datetime, control: bool) -> Assignment:
    expires = now + timedelta(minutes=item.project.lease_minutes)
    assignment, created = Assignment.objects.get_or_create(
        item=item, evaluator=evaluator,
        defaults={"leased_at": now, "expires_at": expires, "is_control": control},
    )
    if not created:  # an expired or skipped lease of this evaluator comes back to them
        assignment.status, assignment.leased_at, assignment.expires_at = Assignment.Status.ACTIVE, now, expires
        assignment.save(update_fields=["status", "leased_at", "expires_at"])
    if not control:
        Item.objects.filter(pk=item.pk).update(active_assignments=F("active_assignments") + 1)
    return assignment


def _next_control(*, evaluator, pools, rng: random.Random) -> Item | None:
    for pool in pools:
        if pool.control_rate > 0 and rng.random() < pool.control_rate:
            return (
                Item.objects.filter(project_id=pool.project_id, language_id=pool.language_id, is_control=True)
                .exclude(assignments__evaluator=evaluator)
                .select_related("project")
                .order_by("?")
                .first()
            )
    return None


@transaction.atomic
def assignment_next(
    *, evaluator: AbstractBaseUser, project: Project | None = None, now: datetime | None = None,
    rng: random.Random | None = None,
) -> Assignment | None:
    """The evaluator's next item: an open lease first, then a control item at the pool's rate, then the
    highest-priority open item of a qualified pool whose guideline they acknowledged."""
    now = now or timezone.now()
    current = (
        Assignment.objects.filter(evaluator=evaluator, status=Assignment.Status.ACTIVE, expires_at__gt=now)
        .filter(**({"item__project": project} if project else {}))
        .select_related("item__project", "item__language")
        .order_by("leased_at", "id")
        .first()
    )
    if current is not None:
        return current
    pools = [
        pool for pool in pools_qualified_for(user=evaluator).filter(**({"project": project} if project else {}))
        if guideline_is_acknowledged(user=evaluator, project=pool.project)
    ]
    if not pools:
        return None
    control = _next_control(evaluator=evaluator, pools=pools, rng=rng or random.Random())
    if control is not None:
        return _lease(item=control, evaluator=evaluator, now=now, control=True)
    candidates = (
        Item.objects.filter(_pool_filter(pools), split=Item.Split.POOL, status=Item.Status.OPEN, is_control=False)
        .filter(annotation_count__lt=F("project__overlap") - F("active_assignments"))
        .exclude(assignments__evaluator=evaluator)
        .order_by("-priority", "id")
    )
    item = candidates.select_for_update(skip_locked=True, of=("self",)).select_related("project").first()
    if item is None:
        return None
    return _lease(item=item, evaluator=evaluator, now=now, control=False)


def _aggregate(item: Item) -> ApprovedLabel | None:
    labels = list(item.annotations.filter(assignment__is_control=False).values_list("label", flat=True))
    verdict = majority_vote(labels)
    rule = item.project.auto_approve
    approve = verdict.label is not None and (
        rule == Project.AutoApprove.MAJORITY or (rule == Project.AutoApprove.UNANIMOUS and verdict.unanimous)
    )
    if not approve:
        item.status = Item.Status.ADJUDICATION
        item.save(update_fields=["status"])
        return None
    item.status = Item.Status.APPROVED
    item.save(update_fields=["status"])
    return ApprovedLabel.objects.create(
        item=item, label=verdict.label, method=ApprovedLabel.Method.MAJORITY, confidence=verdict.confidence
    )


@transaction.atomic
def annotation_submit(
    *, evaluator: AbstractBaseUser, assignment_id: int, label: str, idempotency_key: str, time_spent_ms: int = 0
) -> Annotation:
    """Record a label. A retried request with the same idempotency key returns the first annotation."""
    prior = Annotation.objects.filter(evaluator=evaluator, idempotency_key=idempotency_key).first()
    if prior is not None:
        return prior
    assignment = (
        Assignment.objects.select_for_update().select_related("item__project").filter(pk=assignment_id).first()
    )
    if assignment is None or assignment.evaluator_id != evaluator.pk:
        raise Assignment.DoesNotExist(f"assignment {assignment_id} not found")
    if assignment.status != Assignment.Status.ACTIVE:
        raise ValidationError(f"assignment {assignment_id} is {assignment.status}, not open for submission")
    project = assignment.item.project
    if not project.labels.filter(value=label).exists():
        raise NoLabelError(f"unknown label {label!r} for project {project.slug}")
    version = guideline_current(project=project)
    if version is None or not guideline_is_acknowledged(user=evaluator, project=project):
        raise PermissionDenied("acknowledge the current guideline version before submitting")
    item = Item.objects.select_for_update().get(pk=assignment.item_id)
    try:
        with transaction.atomic():
            annotation = Annotation.objects.create(
                assignment=assignment, item=item, evaluator=evaluator, label=label, guideline_version=version,
                idempotency_key=idempotency_key, time_spent_ms=max(0, int(time_spent_ms)),
            )
    except IntegrityError:
        return Annotation.objects.get(evaluator=evaluator, idempotency_key=idempotency_key)
    assignment.status = Assignment.Status.SUBMITTED
    assignment.save(update_fields=["status"])
    annotation_submitted.send(sender=Annotation, annotation=annotation, assignment=assignment)
    if not assignment.is_control:
        item.active_assignments = max(0, item.active_assignments - 1)
        item.annotation_count += 1
        item.save(update_fields=["active_assignments", "annotation_count"])
        if item.annotation_count >= project.overlap and item.status == Item.Status.OPEN:
            _aggregate(item)
    return annotation


@transaction.atomic
def adjudication_resolve(*, item: Item, label: str, reviewer: AbstractBaseUser) -> ApprovedLabel:
    locked = Item.objects.select_for_update().select_related("project").get(pk=item.pk)
    if not locked.project.labels.filter(value=label).exists():
        raise NoLabelError(f"unknown label {label!r} for project {locked.project.slug}")
    if hasattr(locked, "approved_label"):
        raise ValidationError(f"item {locked.pk} is already approved")
    locked.status = Item.Status.APPROVED
    locked.save(update_fields=["status"])
    return ApprovedLabel.objects.create(
        item=locked, label=label, method=ApprovedLabel.Method.REVIEW, approved_by=reviewer, confidence=1.0
    )


def agreement_snapshot_record(*, project: Project, language: Language | None = None) -> AgreementSnapshot:
    """Compute agreement over every regular annotation of the project (× language) and store it."""
    from annotation.agreement import agreement_report

    rows = Annotation.objects.filter(item__project=project, assignment__is_control=False)
    if language is not None:
        rows = rows.filter(item__language=language)
    items, annotators, labels = [], [], []
    for item_id, evaluator_id, label in rows.values_list("item_id", "evaluator_id", "label").iterator():
        items.append(item_id)
        annotators.append(evaluator_id)
        labels.append(label)
    level = project.agreement_level
    if project.schema_type == Project.SchemaType.ORDINAL:
        labels = [float(v) for v in labels]
    report = agreement_report(items, annotators, labels, level=level) if items else {}
    get = report.get if isinstance(report, dict) else (lambda k: getattr(report, k, None))
    return AgreementSnapshot.objects.create(
        project=project, language=language, level=level,
        krippendorff_alpha=get("krippendorff_alpha"), fleiss_kappa=get("fleiss_kappa"),
        cohen_kappa_mean=get("cohen_kappa_mean"), percent_agreement=get("percent_agreement"),
        n_items=get("n_items") or 0, n_annotators=get("n_annotators") or 0, n_ratings=get("n_ratings") or 0,
    )
