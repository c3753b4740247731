"""Reads of the annotation app, always scoped to what the asking user may see."""
from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from annotation.models import AgreementSnapshot, Annotation, Assignment, Item, Project, Report
from parity import access


def projects_for(*, user: AbstractBaseUser) -> QuerySet[Project]:
    """Admins and viewers: every project; others: those they manage, review or work in."""
    projects = Project.objects.prefetch_related("labels", "languages").order_by("id")
    if access.is_admin(user) or access.is_viewer(user):
        return projects
    return projects.filter(access.visible_projects_scope(user) | Q(pools__memberships__user=user)).distinct()


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
        .select_related("guideline_version", "item")
        .order_by("-created_at", "-id")
    )


def review_queue(*, user: AbstractBaseUser, project: Project | None = None) -> QuerySet[Item]:
    """Items waiting for a reviewer, in the project × languages this user reviews (none for others)."""
    items = Item.objects.filter(access.reviewed_scope(user), status=Item.Status.ADJUDICATION)
    items = items.select_related("project", "language")
    if project is not None:
        items = items.filter(project=project)
    return items.order_by("-priority", "id")


def reviewable_items(*, user: AbstractBaseUser) -> QuerySet[Item]:
    """Items a reviewer may approve or override (waiting, or already approved)."""
    items = Item.objects.filter(access.reviewed_scope(user)).exclude(status=Item.Status.OPEN)
    return items.select_related("project", "language")


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
