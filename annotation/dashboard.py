"""The evaluator's landing page: memberships, what blocks them, and their own counts per pool.

It combines evaluator memberships (``evaluators``) with annotation counts (``annotation``), so it
lives here, in the app above: ``evaluators`` imports nothing from ``annotation``. The URL and the
template (``evaluators/dashboard.html``) stayed where they were.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from annotation.models import Annotation
from evaluators.models import PoolMembership
from evaluators.selectors import control_accuracy_reported, memberships_for
from evaluators.services import calibration_allowance
from evaluators.views import evaluator_required, my_control_accuracy, pending_guidelines, staff_required


@dataclass(frozen=True)
class CalibrationStep:
    """What the dashboard offers a member who still has to qualify: a start link only when an attempt
    may start now; otherwise when the next one may, or that the pool admin must act."""

    can_start: bool
    retry_at: object = None
    message: str = ""


def calibration_step(membership: PoolMembership) -> CalibrationStep:
    allowance = calibration_allowance(membership=membership)
    if allowance.can_start:
        return CalibrationStep(can_start=True)
    if allowance.bank_exhausted:
        return CalibrationStep(can_start=False, message=_(
            "No unseen calibration items are left for you. The pool admin has been told and must add gold "
            "items before you can try again."))
    if allowance.left <= 0:
        return CalibrationStep(can_start=False, message=_(
            "You have used every calibration attempt for this guideline version. Ask the pool admin to invite "
            "you again, or wait for the next major guideline version."))
    return CalibrationStep(can_start=False, retry_at=allowance.retry_at)


def suspension_step(membership: PoolMembership) -> dict:
    """Why a member is suspended (the reason logged with the suspension) and what they can do."""
    event = membership.events.filter(to_state=membership.state).order_by("-created_at", "-id").first()
    admins = [u.get_username() for u in membership.pool.admins.filter(is_active=True)[:3]]
    return {
        "membership": membership, "reason": event.reason if event else "", "since": event.created_at if event else None,
        "admins": admins,
    }


def _per_pool_counts(user, start) -> dict[tuple[int, int], dict]:
    # Every count includes control items: a count that skipped them would move differently right after a
    # control and point at it.
    return {
        (r["item__project_id"], r["item__language_id"]): r
        for r in Annotation.objects.filter(evaluator=user)
        .values("item__project_id", "item__language_id")
        .annotate(total=Count("id"), today=Count("id", filter=Q(created_at__gte=start)))
    }


def _landing_elsewhere(user, memberships) -> str | None:
    """A reviewer or admin who is in no pool lands on their own page, not on an empty evaluator dashboard."""
    if memberships:
        return None
    from parity import access

    if not access.is_admin(user) and user.has_perm(access.REVIEW_ITEM, None):
        return "annotation:review_queue"  # a reviewer: their queue
    if user.has_perm(access.CONSOLE):
        return "annotation:console"  # admins, managers, viewers (is_staff alone grants nothing)
    return None


@evaluator_required
def dashboard(request):
    user = request.user
    today = timezone.localdate()
    start = timezone.make_aware(timezone.datetime.combine(today, timezone.datetime.min.time()))
    memberships = list(memberships_for(user=user).exclude(state=PoolMembership.State.REMOVED)
                       .order_by("pool__project__name", "pool__language__code"))
    elsewhere = _landing_elsewhere(user, memberships)
    if elsewhere and request.GET.get("stay") != "1":
        return redirect(elsewhere)
    per_pool = _per_pool_counts(user, start)
    rows = []
    for membership in memberships:
        pool = membership.pool
        counts = per_pool.get((pool.project_id, pool.language_id), {})
        accuracy = control_accuracy_reported(membership=membership)
        needs_calibration = membership.state in (PoolMembership.State.INVITED, PoolMembership.State.CALIBRATING)
        rows.append({
            "membership": membership, "pool": pool, "language": pool.language, "project": pool.project,
            "today": counts.get("today", 0), "total": counts.get("total", 0),
            "accuracy": accuracy.accuracy, "n_controls": accuracy.answers, "control_block": accuracy.block,
            "needs_calibration": needs_calibration,
            "calibration": calibration_step(membership) if needs_calibration else None,
        })
    accuracy, n_controls = my_control_accuracy(memberships)
    languages = sorted({row["language"] for row in rows}, key=lambda lang: lang.code)
    context = {
        "rows": rows,
        "languages": languages,
        "pending_guidelines": pending_guidelines(user=user),
        "pending_calibration": [r for r in rows if r["needs_calibration"]],
        "suspended": [suspension_step(r["membership"]) for r in rows
                      if r["membership"].state == PoolMembership.State.SUSPENDED],
        # The cards add up the table's rows, so both always count the same annotations.
        "count_today": sum(r["today"] for r in rows),
        "count_total": sum(r["total"] for r in rows),
        "accuracy": accuracy,
        "n_controls": n_controls,
        "can_work": any(r["membership"].state == PoolMembership.State.QUALIFIED for r in rows),
    }
    return render(request, "evaluators/dashboard.html", context)


@staff_required
def console(request):
    """The console's front page: every project × language's capacity against its overlap k, the
    languages that are short first, each with what to do."""
    from annotation.capacity import capacity_overview

    rows = sorted(capacity_overview(), key=lambda row: (row.ok, row.project.name, row.language.code))
    return render(request, "evaluators/console.html", {
        "capacity": rows, "short": [row for row in rows if not row.ok],
    })
