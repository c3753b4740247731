"""HTML pages of the evaluators app: log in, guidelines (read,
acknowledge, publish, diff), calibration, and the console's front page.

Views only read (through selectors or the small read helpers below) and call services.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.html import escape, linebreaks
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from evaluators.models import (
    CalibrationAttempt,
    CalibrationItem,
    GuidelineAcknowledgement,
    GuidelineVersion,
    PoolMembership,
)
from evaluators.selectors import (
    control_accuracy_reported,
    guideline_addenda_for,
    guideline_current,
    guideline_diff,
    project_model,
)
from evaluators.services import guideline_acknowledge, guideline_draft, guideline_draft_update, guideline_publish
from parity import access

LOGIN_URL = reverse_lazy("evaluators:login")


def evaluator_required(view):
    """Logged in, else to our own login page (independent of settings.LOGIN_URL); the view scopes
    every row to the user."""
    return access.declare(access.LOGIN)(login_required(view, login_url=LOGIN_URL))


# Console pages: anonymous users go to the login page; without a console role (admin, project or
# pool manager, reviewer, viewer) a 403. Pages that change state check the role on the object too.
staff_required = access.require(access.CONSOLE)


def render_guideline(body: str) -> str:
    """Sanitised HTML of a guideline body (the evaluators app's renderer when present)."""
    try:
        from evaluators.rendering import render_markdown
    except ImportError:  # pragma: no cover - the renderer lands with the guidelines work
        return linebreaks(escape(body))
    return render_markdown(body)


def guideline_diff_lines(old: GuidelineVersion | None, new: GuidelineVersion) -> list[tuple[str, str]]:
    """(kind, text) lines of ``evaluators.selectors.guideline_diff`` for display; kind is one of
    "add", "del", "same" or "hunk". Without an older version every line is new."""
    if old is None:
        return [("add", line) for line in new.body.splitlines()]
    lines = []
    for line in guideline_diff(old=old, new=new):
        if line.startswith(("+++", "---")):
            continue
        if line.startswith("@@"):
            lines.append(("hunk", line))
        elif line.startswith("+"):
            lines.append(("add", line[1:]))
        elif line.startswith("-"):
            lines.append(("del", line[1:]))
        else:
            lines.append(("same", line[1:]))
    return lines


# --- read helpers (evaluator-scoped) ------------------------------------------------------------

def my_control_accuracy(memberships) -> tuple[float | None, int]:
    """Control accuracy over the user's pools as reported to them: completed blocks of controls only
    (evaluators.selectors.control_accuracy_reported), so it never moves right after one control."""
    results = [control_accuracy_reported(membership=m) for m in memberships]
    total = sum(r.answers for r in results)
    correct = sum(round(r.accuracy * r.answers) for r in results if r.accuracy is not None)
    return (correct / total if total else None), total


def pending_guidelines(*, user) -> list[GuidelineVersion]:
    """Current published guideline versions of the user's projects that the user has not acknowledged."""
    project_ids = set(
        PoolMembership.objects.filter(user=user).exclude(state=PoolMembership.State.REMOVED)
        .values_list("pool__project_id", flat=True)
    )
    pending = []
    for project in project_model().objects.filter(pk__in=project_ids).order_by("name"):
        version = guideline_current(project=project)
        if version and not GuidelineAcknowledgement.objects.filter(user=user, version=version).exists():
            pending.append(version)
    return pending


# --- auth ---------------------------------------------------------------------------------------

class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True
    next_page = reverse_lazy("annotation:dashboard")


class LogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("evaluators:login")


# --- evaluator pages ----------------------------------------------------------------------------

def guideline_changes_for(*, user, version: GuidelineVersion) -> dict:
    """What changed in ``version`` since the version of the same guideline the user last acknowledged:
    the diff lines and how many were added and removed (no previous acknowledgement: no diff)."""
    previous_ack = (
        GuidelineAcknowledgement.objects.filter(user=user, version__guideline=version.guideline)
        .exclude(version=version).select_related("version").order_by("-version__major", "-version__minor").first()
    )
    previous = previous_ack.version if previous_ack else None
    lines = guideline_diff_lines(previous, version) if previous else []
    return {"previous": previous, "lines": lines, "added": sum(k == "add" and bool(t.strip()) for k, t in lines),
            "removed": sum(k == "del" and bool(t.strip()) for k, t in lines)}


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return reverse("annotation:dashboard")


@evaluator_required
def guideline_detail(request, slug):
    """The current guideline of a project the user works on (or any project, for staff), with what changed
    since the version they acknowledged. POST acknowledges it; with ``Accept: application/json`` (the
    workspace's inline panel) the answer is JSON, and ``version`` must still be the current one."""
    project = get_object_or_404(project_model(), slug=slug)
    member = PoolMembership.objects.filter(pool__project=project, user=request.user).exists()
    if not request.user.is_staff and not member:
        raise Http404
    version = guideline_current(project=project)
    if version is None:
        raise Http404
    wants_json = "application/json" in request.headers.get("Accept", "")
    acknowledged = GuidelineAcknowledgement.objects.filter(user=request.user, version=version).exists()
    changes = guideline_changes_for(user=request.user, version=version)
    if request.method == "POST":
        shown = request.POST.get("version") or ""
        if wants_json and shown and shown != str(version.pk):
            return JsonResponse({"error": _("The guideline changed again: version %(v)s is current now.")
                                 % {"v": version.label}, "current": version.pk}, status=409)
        try:
            guideline_acknowledge(user=request.user, version=version)
        except ValidationError as exc:
            if wants_json:
                return JsonResponse({"error": " ".join(exc.messages)}, status=400)
            messages.error(request, " ".join(exc.messages))
            return redirect("evaluators:guideline", slug=slug)
        if wants_json:
            return JsonResponse({"acknowledged": version.pk, "label": version.label})
        messages.success(request, _("Thank you: guideline version %(v)s acknowledged.") % {"v": version.label})
        return redirect(_safe_next(request))
    return render(request, "evaluators/guideline.html", {
        "project": project, "version": version, "body_html": mark_safe(render_guideline(version.body)),  # noqa: S308 - sanitised renderer
        "acknowledged": acknowledged, "previous": changes["previous"],
        "diff": changes["lines"] if not acknowledged else None, "changes": changes,
        "next": request.GET.get("next", "") if _safe_next(request) == request.GET.get("next") else "",
        "addenda": [(a, mark_safe(render_guideline(a.body)))  # noqa: S308 - sanitised renderer
                    for a in guideline_addenda_for(version=version, user=request.user)],
    })


# --- console ------------------------------------------------------------------------------------

@staff_required
def console_guidelines(request):
    projects = project_model().objects.order_by("name")
    rows = [{"project": p, "current": guideline_current(project=p)} for p in projects]
    return render(request, "evaluators/console_guidelines.html", {"rows": rows})


@staff_required
def console_guideline_edit(request, slug):
    """Publish a new version of a project's guideline, then show what changed."""
    project = get_object_or_404(project_model(), slug=slug)
    current = guideline_current(project=project)
    versions = GuidelineVersion.objects.filter(guideline__project=project).order_by("-major", "-minor")
    error = None
    if request.method == "POST":
        access.check(request.user, access.MANAGE_PROJECT, project)
        body = request.POST.get("body", "").strip()
        bump = request.POST.get("bump", "minor")
        if not body:
            error = _("The guideline text cannot be empty.")
        else:
            try:
                draft = versions.filter(status=GuidelineVersion.Status.DRAFT).first()
                if draft is None:
                    draft = guideline_draft(project=project, body=body, bump=bump, author=request.user)
                else:  # an unpublished draft left behind: publish this text as that version
                    draft = guideline_draft_update(version=draft, body=body)
                published = guideline_publish(version=draft, actor=request.user)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                messages.success(request, _("Version %(v)s published.") % {"v": published.label})
                url = reverse("evaluators:console_guideline_diff", kwargs={"slug": slug})
                return redirect(f"{url}?to={published.pk}")
    return render(request, "evaluators/console_guideline_edit.html", {
        "project": project, "current": current, "versions": versions, "error": error,
        "body": request.POST.get("body") if request.method == "POST" else (current.body if current else ""),
    })


@staff_required
def console_guideline_diff(request, slug):
    project = get_object_or_404(project_model(), slug=slug)
    versions = GuidelineVersion.objects.filter(guideline__project=project, status=GuidelineVersion.Status.PUBLISHED)
    to = get_object_or_404(versions, pk=request.GET.get("to")) if request.GET.get("to") else versions.first()
    if to is None:
        raise Http404
    older = versions.filter(Q(major__lt=to.major) | Q(major=to.major, minor__lt=to.minor))
    frm = get_object_or_404(versions, pk=request.GET.get("from")) if request.GET.get("from") else older.first()
    lines = guideline_diff_lines(frm, to)
    pending = PoolMembership.objects.filter(pool__project=project).exclude(state=PoolMembership.State.REMOVED)
    pending = pending.exclude(user__acknowledgements__version=to).values("user").distinct().count()
    return render(request, "evaluators/console_guideline_diff.html", {
        "project": project, "frm": frm, "to": to, "lines": lines, "pending": pending,
        "added": sum(k == "add" for k, _ in lines), "removed": sum(k == "del" for k, _ in lines),
    })


# --- calibration --------------------------------------------------------------------------------
# Answers are kept in the session until the last gold item, then scored in one call of
# evaluators.services.calibration_attempt_submit (nothing is scored or stored before that).

def _cal_key(attempt) -> str:
    return f"parity_calibration_{attempt.pk}"


@evaluator_required
def calibration(request, pool_id):
    """Gold items one at a time; after the last one the attempt is scored and the result shown."""
    from evaluators.services import CalibrationNotAllowed, calibration_attempt_start, calibration_attempt_submit

    membership = get_object_or_404(
        PoolMembership.objects.select_related("pool__project", "pool__language"), pool_id=pool_id, user=request.user
    )
    if membership.state == PoolMembership.State.QUALIFIED:
        messages.info(request, _("You are already qualified in this pool."))
        return redirect("annotation:dashboard")
    try:
        attempt = calibration_attempt_start(user=request.user, pool=membership.pool)
    except CalibrationNotAllowed as exc:
        # A refused retry is a page of its own, in the site's layout, that says why and what happens next.
        return render(request, "evaluators/calibration_refused.html", {
            "membership": membership, "pool": membership.pool, "language": membership.pool.language,
            "message": str(exc.args[0]) if exc.args else _("You cannot take a calibration attempt now."),
            "retry_at": exc.retry_at, "exhausted": exc.exhausted,
            "last": membership.calibration_attempts.exclude(status=CalibrationAttempt.Status.IN_PROGRESS)
            .order_by("-submitted_at", "-id").first(),
        }, status=409)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("annotation:dashboard")
    wants_json = "application/json" in request.headers.get("Accept", "")
    answers: dict[str, str] = request.session.get(_cal_key(attempt), {})
    remaining = [pk for pk in attempt.item_order if str(pk) not in answers]
    total = len(attempt.item_order)
    if request.method == "POST" and remaining:
        label = request.POST.get("label", "")
        if str(request.POST.get("item")) == str(remaining[0]) and membership.pool.project.labels.filter(
            value=label
        ).exists():
            answers[str(remaining[0])] = label
            request.session[_cal_key(attempt)] = answers
            remaining = remaining[1:]
        if remaining:
            if wants_json:  # the page's script shows the next item without a page load
                item = get_object_or_404(CalibrationItem, pk=remaining[0], round=attempt.round)
                done = total - len(remaining)
                return JsonResponse({"item": {"id": item.pk, "text": item.text}, "position": done + 1,
                                     "total": total, "percent": round(100 * done / total) if total else 0})
            return redirect("evaluators:calibration", pool_id=pool_id)
    if not remaining:
        try:
            attempt = calibration_attempt_submit(
                user=request.user, attempt_id=attempt.pk, answers={int(k): v for k, v in answers.items()}
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            request.session.pop(_cal_key(attempt), None)
            if wants_json:
                return JsonResponse({"error": " ".join(exc.messages), "redirect": reverse("annotation:dashboard")},
                                    status=400)
            return redirect("annotation:dashboard")
        request.session.pop(_cal_key(attempt), None)
        result_url = reverse("evaluators:calibration_result", kwargs={"attempt_id": attempt.pk})
        if wants_json:
            return JsonResponse({"redirect": result_url})
        return redirect(result_url)
    item = get_object_or_404(CalibrationItem, pk=remaining[0], round=attempt.round)
    done = total - len(remaining)
    return render(request, "evaluators/calibration.html", {
        "membership": membership, "pool": membership.pool, "attempt": attempt, "item": item,
        "language": membership.pool.language, "labels": list(membership.pool.project.labels.all()),
        "position": done + 1, "total": total, "percent": round(100 * done / total) if total else 0,
    })


@evaluator_required
def calibration_result(request, attempt_id):
    attempt = get_object_or_404(
        CalibrationAttempt.objects.select_related("round__pool__project", "round__pool__language"),
        pk=attempt_id, user=request.user,
    )
    if attempt.status == CalibrationAttempt.Status.IN_PROGRESS:
        return redirect("evaluators:calibration", pool_id=attempt.round.pool_id)
    from evaluators.services import calibration_allowance, calibration_items_seen

    answers = list(attempt.answers.select_related("item"))
    retired = calibration_items_seen(membership=attempt.membership)
    allowance = calibration_allowance(membership=attempt.membership)
    passed = attempt.status == CalibrationAttempt.Status.PASSED
    can_retry = not passed and allowance.left > 0 and not allowance.bank_exhausted
    return render(request, "evaluators/calibration_result.html", {
        "attempt": attempt, "pool": attempt.round.pool, "language": attempt.round.pool.language,
        # Feedback only for gold retired for this evaluator: it never comes back in one of their retries.
        "mistakes": [a for a in answers if not a.correct and a.item_id in retired],
        "n_correct": sum(a.correct for a in answers), "n_total": len(answers), "passed": passed,
        "allowance": allowance, "can_retry": can_retry,
        "next_attempt_at": (allowance.retry_at or timezone.now()) if can_retry else None,
    })
