"""How many evaluators can still serve each project × language, against the overlap k it needs.

An item needs k distinct evaluators. When a language has fewer active qualified evaluators than
k (after a suspension, or before the last invitee calibrates), its items can never complete, and
the loop would stall without a word. These reads say so per language with what to do; a project
set to ``aggregate_when_short`` aggregates with the labels it can get instead (never fewer than
``short_min_labels``; a single label always goes to a reviewer).
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Subquery
from django.utils.translation import gettext, ngettext

from annotation.models import Item, Project
from evaluators.models import GuidelineAcknowledgement, Language, Pool, PoolMembership
from evaluators.selectors import guideline_current

State = PoolMembership.State


_NOT_READ = object()


def _pool_overlaps(*, project, language_id):
    return (
        Pool.objects.filter(project=project, language_id=language_id, overlap__isnull=False)
        .order_by("dialect", "id").values_list("overlap", flat=True)
    )


def pool_overlap_subquery(*, project_ref, language_ref) -> Subquery:
    """SQL for the pool overlap that :func:`overlap_for` reads, to ask it inside another query (for
    example ``OuterRef("project_id")``, ``OuterRef("language_id")``); pass the value as ``pool_overlap``."""
    return Subquery(_pool_overlaps(project=project_ref, language_id=language_ref)[:1])


def overlap_for(*, project: Project, language_id: int, pool_overlap=_NOT_READ) -> int:
    """The k of one language: its pool's overlap when set (the plain pool before dialect pools), else the
    project's (``pool_overlap``: that pool overlap, or None, already read with :func:`pool_overlap_subquery`)."""
    if pool_overlap is _NOT_READ:
        pool_overlap = _pool_overlaps(project=project, language_id=language_id).first()
    return int(pool_overlap or project.overlap)


def _members(project: Project, language_id: int):
    return PoolMembership.objects.filter(
        pool__project=project, pool__language_id=language_id, user__is_active=True
    )


def capacity_for(*, project: Project, language_id: int) -> int:
    """Distinct active evaluators who can receive this language's work now: qualified, with the current
    guideline acknowledged."""
    version = guideline_current(project=project)
    if version is None:
        return 0
    acknowledged = GuidelineAcknowledgement.objects.filter(version=version).values("user_id")
    return (
        _members(project, language_id).filter(state=State.QUALIFIED, user_id__in=acknowledged)
        .values("user_id").distinct().count()
    )


def effective_overlap(
    *, project: Project, language_id: int, capacity: int | None = None, pool_overlap=_NOT_READ
) -> int:
    """How many labels an item of this language is aggregated with now: k, or what the evaluators can give
    when the project aggregates short (never fewer than its ``short_min_labels``); ``pool_overlap`` as in
    :func:`overlap_for`."""
    k = overlap_for(project=project, language_id=language_id, pool_overlap=pool_overlap)
    if not project.aggregate_when_short:
        return k
    if capacity is None:
        capacity = capacity_for(project=project, language_id=language_id)
    if capacity >= k:
        return k
    return min(k, max(1, project.short_min_labels, capacity))


@dataclass(frozen=True)
class LanguageCapacity:
    project: Project
    language: Language
    overlap: int
    capacity: int
    effective_overlap: int
    qualified: int
    unacknowledged: int
    suspended: int
    calibrating: int
    open_items: int

    @property
    def ok(self) -> bool:
        return self.capacity >= self.overlap

    @property
    def stalled(self) -> bool:
        """Items of this language cannot get the labels aggregation waits for."""
        return self.capacity < self.effective_overlap

    @property
    def advice(self) -> str:
        if self.ok:
            return ""
        missing = self.overlap - self.capacity
        language = self.language.display_name
        steps = [ngettext("invite and qualify %(n)s more %(language)s evaluator",
                          "invite and qualify %(n)s more %(language)s evaluators", missing)
                 % {"n": missing, "language": language}]
        if self.suspended:
            steps.append(ngettext("review the %(n)s suspended member and reinstate them if they deserve it",
                                  "review the %(n)s suspended members and reinstate those who deserve it",
                                  self.suspended) % {"n": self.suspended})
        if self.unacknowledged:
            steps.append(ngettext(
                "ask the %(n)s qualified member who has not acknowledged the current guideline to do so",
                "ask the %(n)s qualified members who have not acknowledged the current guideline to do so",
                self.unacknowledged) % {"n": self.unacknowledged})
        if self.calibrating:
            steps.append(ngettext("%(n)s member still has to pass calibration",
                                  "%(n)s members still have to pass calibration", self.calibrating)
                         % {"n": self.calibrating})
        steps.append(gettext("or lower this language's overlap to %(k)s (pool overlap)") % {"k": max(1, self.capacity)})
        if not self.project.aggregate_when_short:
            steps.append(gettext("or let the project aggregate with the labels it can get ('aggregate when short')"))
        if self.stalled:
            state = gettext("items of this language cannot complete and no label is approved")
        else:
            state = ngettext("items are aggregated with %(n)s label instead of %(k)s",
                             "items are aggregated with %(n)s labels instead of %(k)s", self.effective_overlap) % {
                "n": self.effective_overlap, "k": self.overlap}
        return ngettext("%(language)s: %(n)s evaluator can serve an item but k=%(k)s; %(state)s. To fix: %(steps)s.",
                        "%(language)s: %(n)s evaluators can serve an item but k=%(k)s; %(state)s. To fix: %(steps)s.",
                        self.capacity) % {"language": language, "n": self.capacity, "k": self.overlap,
                                          "state": state, "steps": gettext("; ").join(steps)}


def project_language_ids(project: Project) -> list[int]:
    ids = set(project.languages.values_list("id", flat=True)) | set(
        Pool.objects.filter(project=project).values_list("language_id", flat=True)
    )
    return sorted(ids)


def capacity_report(*, project: Project) -> list[LanguageCapacity]:
    """One row per language of the project (its own languages and those of its pools)."""
    version = guideline_current(project=project)
    acknowledged = (
        set(GuidelineAcknowledgement.objects.filter(version=version).values_list("user_id", flat=True))
        if version else set()
    )
    rows = []
    for language in Language.objects.filter(pk__in=project_language_ids(project)).order_by("code", "script"):
        states: dict[str, set[int]] = {}
        for user_id, state in _members(project, language.pk).values_list("user_id", "state"):
            states.setdefault(state, set()).add(user_id)
        qualified = states.get(State.QUALIFIED, set())
        capacity = len(qualified & acknowledged)
        rows.append(LanguageCapacity(
            project=project, language=language, overlap=overlap_for(project=project, language_id=language.pk),
            capacity=capacity,
            effective_overlap=effective_overlap(project=project, language_id=language.pk, capacity=capacity),
            qualified=len(qualified), unacknowledged=len(qualified - acknowledged),
            suspended=len(states.get(State.SUSPENDED, set()) - qualified),
            calibrating=len((states.get(State.INVITED, set()) | states.get(State.CALIBRATING, set())) - qualified),
            open_items=Item.objects.filter(project=project, language=language, split=Item.Split.POOL,
                                           status=Item.Status.OPEN, is_control=False).count(),
        ))
    return rows


def capacity_overview() -> list[LanguageCapacity]:
    """Every project's languages (the console's front page)."""
    return [row for project in Project.objects.order_by("name") for row in capacity_report(project=project)]


def capacity_warnings(*, project: Project) -> list[str]:
    """What an admin saving the project (or a pool) should read: one line per language short of k."""
    return [row.advice for row in capacity_report(project=project) if not row.ok]


__all__ = ["LanguageCapacity", "capacity_for", "capacity_overview", "capacity_report", "capacity_warnings",
           "effective_overlap", "overlap_for", "pool_overlap_subquery", "project_language_ids"]
