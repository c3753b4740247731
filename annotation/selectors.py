"""Reads of the annotation app, always scoped to what the asking user may see."""
from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch, Q, QuerySet

from annotation.models import AgreementSnapshot, Annotation, Assignment, Item, Project, Report
from parity import access


def projects_for(*, user: AbstractBaseUser) -> QuerySet[Project]:
    """Admins and viewers: every project; others: those they manage, review or work in."""
    projects = Project.objects.prefetch_related("labels", "languages").order_by("id")
    if access.is_admin(user) or access.is_viewer(user):
        return projects
    return projects.filter(access.visible_projects_scope(user) | Q(pools__memberships__user=user)).distinct()


def project_visible(*, user: AbstractBaseUser, slug: str) -> Project | None:
    """The project with this slug when :func:`projects_for` lists it for the user, else None; the project
    row alone (no labels or languages).

    On the request path of ``next``: one query for a member of one of the project's pools (the usual
    caller), which projects_for answers with a read of the user's roles and a DISTINCT over four joins
    (about 2.4 ms of SQL and ORM work against 1 ms); anyone else gets projects_for's own answer."""
    from django.db.models import Exists, OuterRef

    from evaluators.models import PoolMembership

    project = (
        Project.objects.filter(slug=slug)
        .annotate(member=Exists(PoolMembership.objects.filter(user=user, pool__project_id=OuterRef("pk"))))
        .first()
    )
    if project is None or project.member:
        return project
    return project if projects_for(user=user).filter(pk=project.pk).exists() else None


def assignments_for(*, user: AbstractBaseUser) -> QuerySet[Assignment]:
    """Only the user's own assignments: another evaluator's are not found (404)."""
    return (
        Assignment.objects.filter(evaluator=user)
        .select_related("item__language", "item__project")
        .order_by("-leased_at", "-id")
    )


def annotations_for(*, user: AbstractBaseUser) -> QuerySet[Annotation]:
    return (
        Annotation.objects.filter(evaluator=user)
        .select_related("guideline_version", "item__project", "assignment")
        .order_by("-created_at", "-id")
    )


def review_queue(*, user: AbstractBaseUser, project: Project | None = None) -> QuerySet[Item]:
    """Items waiting for a reviewer, in the project × languages this user reviews (none for others)."""
    items = Item.objects.filter(access.reviewed_scope(user), status=Item.Status.ADJUDICATION)
    items = items.select_related("project", "language", "approved_label").prefetch_related(review_votes_prefetch())
    if project is not None:
        items = items.filter(project=project)
    return items.order_by("-priority", "id")


def reviewable_items(*, user: AbstractBaseUser) -> QuerySet[Item]:
    """Items a reviewer may approve or override (waiting, or already approved)."""
    items = Item.objects.filter(access.reviewed_scope(user)).exclude(status=Item.Status.OPEN)
    return items.select_related("project", "language")


def flaggable_items(*, user: AbstractBaseUser) -> QuerySet[Item]:
    """Items whose flags a reviewer may settle: any item of the project × languages they review (a flag
    can come while the item is still open)."""
    return Item.objects.filter(access.reviewed_scope(user)).select_related("project", "language")


def agreement_series(*, project: Project, language=None, whole_project: bool = False) -> QuerySet[AgreementSnapshot]:
    """Snapshots of one project × language (or of the whole project), oldest first, for charts."""
    snapshots = AgreementSnapshot.objects.filter(project=project).select_related("language")
    if language is not None:
        snapshots = snapshots.filter(language=language)
    elif whole_project:
        snapshots = snapshots.filter(language__isnull=True)
    return snapshots.order_by("created_at", "id")


def report_by_reference(reference: str) -> Report | None:
    """The one report a reference points to (public status page); None for an unknown reference."""
    reference = (reference or "").strip()
    if not reference or len(reference) > 64 or not reference.replace("-", "").replace("_", "").isalnum() \
            or not reference.isascii():
        return None  # references are URL-safe tokens; anything else (a NUL, a surrogate) is simply unknown
    return Report.objects.select_related("language").filter(reference=reference).first()


def served_language(tag: str):
    """The Language of a valid tag that some project works in, else None (raises for a malformed tag)."""
    from evaluators.languages import parse_tag
    from evaluators.models import Language

    spec = parse_tag(tag)
    language = Language.objects.filter(code=spec.code, script=spec.script, region="").first()
    if language is None:
        return None
    served = Project.objects.filter(languages=language).exists() or Project.objects.filter(
        pools__language=language
    ).exists()
    return language if served else None


def items_not_stored(*, project, candidates: list) -> list:
    """The unsaved ``candidates`` whose text (per language) and external id the project does not have yet."""
    have_hashes = set(
        Item.objects.filter(project=project, content_hash__in=[i.content_hash for i in candidates])
        .values_list("content_hash", "language_id")
    )
    have_ids = set(
        Item.objects.filter(project=project, external_id__in=[i.external_id for i in candidates if i.external_id])
        .values_list("external_id", flat=True)
    )
    return [
        i for i in candidates
        if (i.content_hash, i.language_id) not in have_hashes and not (i.external_id and i.external_id in have_ids)
    ]


def review_votes_prefetch() -> Prefetch:
    """Every counted regular vote of the listed items, with its evaluator, in one query (``review_votes``)."""
    return Prefetch(
        "annotations",
        queryset=Annotation.objects.counted().filter(assignment__is_control=False).select_related("evaluator")
        .order_by("id"),
        to_attr="review_votes",
    )


def annotations_editable(annotations: list[Annotation]) -> dict[int, bool]:
    """``annotation_editable`` for a page of one evaluator's annotations in a fixed number of queries:
    k once per project × language, and the control answers of the page's control items in one read."""
    from annotation.capacity import effective_overlap

    overlaps: dict[tuple[int, int], int] = {}
    control_items = {a.item_id for a in annotations if a.assignment.is_control and a.discarded_at is None
                     and getattr(a, "known_control_answers", None) is None}
    answers: dict[int, list[int]] = {}
    if control_items:
        for item_id, pk in (Annotation.objects.filter(item_id__in=control_items, assignment__is_control=True)
                            .order_by("id").values_list("item_id", "pk")):
            answers.setdefault(item_id, []).append(pk)
    out = {}
    for annotation in annotations:
        item = annotation.item
        if annotation.discarded_at is not None:
            out[annotation.pk] = False
            continue
        pair = (item.project_id, item.language_id)
        if pair not in overlaps and getattr(annotation, "known_overlap", None) is not None:
            overlaps[pair] = annotation.known_overlap  # read by annotation_submit a moment ago
        if pair not in overlaps:
            overlaps[pair] = effective_overlap(project=item.project, language_id=item.language_id)
        k = overlaps[pair]
        if not annotation.assignment.is_control:
            pending = item.status == Item.Status.OPEN and item.annotation_count >= k
            out[annotation.pk] = not pending and item.status != Item.Status.APPROVED
            continue
        known = getattr(annotation, "known_control_answers", None)
        if known is not None:  # counted by annotation_submit with this answer the newest: its position
            group_size = position = known
        else:
            group = answers.get(item.pk, [])
            group_size, position = len(group), sum(1 for pk in group if pk <= annotation.pk)
        out[annotation.pk] = group_size < -(-position // k) * k
    return out


def annotation_editable(annotation: Annotation) -> bool:
    """Whether the evaluator may still change this label.

    A regular label locks when its item is approved, i.e. when the k-th evaluator answers it (and while
    the background aggregation that the k-th answer asked for is pending). A control item is never
    aggregated, so its answers are taken in groups of k, as if each group were a regular item: an answer
    locks once its group is complete. Without this, "always editable" (or "always locked") would tell a
    control from work. One rule for a page and for a single label: ``annotations_editable``.
    """
    return annotations_editable([annotation])[annotation.pk]


@dataclass(frozen=True)
class ConsensusAgreement:
    matches: int
    total: int

    @property
    def rate(self) -> float | None:
        return self.matches / self.total if self.total else None


def consensus_agreement(*, user: AbstractBaseUser, project=None, language=None) -> ConsensusAgreement:
    """How often the user's regular annotations match the approved (consensus or reviewed) label."""
    rows = Annotation.objects.filter(
        evaluator=user, assignment__is_control=False, item__approved_label__isnull=False
    )
    if project is not None:
        rows = rows.filter(item__project=project)
    if language is not None:
        rows = rows.filter(item__language=language)
    pairs = list(rows.values_list("label", "item__approved_label__label"))
    return ConsensusAgreement(matches=sum(a == b for a, b in pairs), total=len(pairs))
