"""HTML pages of the annotation app: the annotator workspace, the reviewer's adjudication queue,
the agreement dashboard, report triage, and the public issue-report form and status page.

Every write goes through ``annotation.services``; views validate, call, and render. Evaluator
pages are scoped by the user: another user's assignment is a 404.
"""
from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from annotation import services
from annotation.charts import png_response
from annotation.forms import HONEYPOT_FIELD
from annotation.models import AgreementSnapshot, Annotation, Assignment, Item, ItemFlag, Project, Report
from evaluators.models import Pool, PoolMembership
from evaluators.selectors import guideline_addenda_for, guideline_current, membership_refusals
from evaluators.views import evaluator_required, pending_guidelines, render_guideline, staff_required
from parity import access

SESSION_TARGET = 20  # items per work session shown by the session progress bar
SESSION_KEY = "parity_work_session_started"
GOAL_KEY = "parity_work_session_goal"  # a fixed target: it does not grow as the evaluator labels


# --- read helpers (scoped to the evaluator) -----------------------------------------------------

def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "") or request.content_type == "application/json"


def _payload(request) -> dict:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return request.POST.dict()


def _my_assignments(user):
    return Assignment.objects.filter(evaluator=user).select_related("item__project", "item__language")


def _session_started(request):
    raw = request.session.get(SESSION_KEY)
    if raw:
        try:
            return timezone.datetime.fromisoformat(raw)
        except ValueError:
            pass
    now = timezone.now()
    request.session[SESSION_KEY] = now.isoformat()
    return now


def _progress(request, assignment: Assignment | None) -> dict:
    """Session and queue counters. Controls are part of the queue like any item: "done" counts every
    answer, "total" adds what is still open to the evaluator (regular items with a free slot and the
    controls not yet served to them) and the item in hand, so answering a control or a regular item
    moves the counters the same way (+1 done, total unchanged)."""
    user = request.user
    started = _session_started(request)
    session_done = Annotation.objects.filter(evaluator=user, created_at__gte=started).count()
    goal = _session_goal(request)
    data = {
        "session_done": session_done, "session_target": goal, "session_goal_reached": session_done >= goal,
        "queue_done": 0, "queue_total": 0,
    }
    if assignment is not None:
        item = assignment.item
        scope = {"item__project_id": item.project_id, "item__language_id": item.language_id}
        mine = Annotation.objects.filter(evaluator=user, **scope).count()
        data["queue_done"] = mine
        data["queue_total"] = max(_queue_total(user=user, item=item, mine=mine), mine)
    for key, total in (("session", data["session_target"]), ("queue", data["queue_total"])):
        done = data[f"{key}_done"]
        data[f"{key}_percent"] = min(100, round(100 * done / total)) if total else 0
    return data


def _session_goal(request) -> int:
    try:
        return max(1, int(request.session.get(GOAL_KEY, SESSION_TARGET)))
    except (TypeError, ValueError):
        return SESSION_TARGET


@evaluator_required
@require_POST
def session_goal(request):
    """A new goal once the last one is reached: SESSION_TARGET more items than done in this session."""
    started = _session_started(request)
    done = Annotation.objects.filter(evaluator=request.user, created_at__gte=started).count()
    request.session[GOAL_KEY] = done + SESSION_TARGET
    if _wants_json(request):
        return JsonResponse({"session_target": done + SESSION_TARGET, "session_done": done})
    return redirect(request.POST.get("back") if str(request.POST.get("back", "")).startswith("/work/")
                    else "annotation:workspace")


def _queue_total(*, user, item: Item, mine: int) -> int:
    """What the evaluator has done plus what is still open to them (regular items with a free slot, the
    controls not yet served to them, the items in hand), counted every QUEUE_TOTAL_CACHE_S seconds.

    Counting the open items of a 100,000-item language took a full index scan at every answer; the
    total is a progress bar, so it is taken once per window and kept, and "done" moves by one per
    answer in between, for a control or a regular item alike."""
    from django.core.cache import cache

    from annotation.capacity import effective_overlap
    from annotation.services import controls_available, next_item_queryset

    key = f"parity:queue-total:{user.pk}:{item.project_id}:{item.language_id}"
    total = cache.get(key)
    if total is not None:
        return total
    pool = Pool.objects.filter(project_id=item.project_id, language_id=item.language_id,
                               memberships__user=user).order_by("dialect", "id").first()
    if pool is None:
        return mine
    overlap = effective_overlap(project=item.project, language_id=item.language_id)
    available = next_item_queryset(pool=pool, evaluator_id=user.pk, overlap=overlap).count()
    controls = controls_available(pool=pool, evaluator_id=user.pk).count()
    active = Assignment.objects.filter(evaluator=user, status=Assignment.Status.ACTIVE,
                                       item__project_id=item.project_id, item__language_id=item.language_id).count()
    total = mine + available + controls + active
    cache.set(key, total, timeout=int(getattr(settings, "QUEUE_TOTAL_CACHE_S", 30)))
    return total


def _labels(project: Project) -> list[dict]:
    # ``parts``: the name split after each "/", so "science/technology" can wrap there (<wbr>), not mid-word.
    out = []
    for i, label in enumerate(project.labels.all()):
        display = label.display or label.value
        out.append({"value": label.value, "display": display, "key": str(i + 1) if i < 9 else "",
                    "parts": [part + "/" for part in display.split("/")[:-1]] + [display.split("/")[-1]]})
    return out


def _suggestions(assignments) -> dict:
    from annotation.suggestions import suggestions_for

    return suggestions_for([a.item for a in assignments if a is not None])


def _assignment_data(assignment: Assignment, editing: Annotation | None = None, suggestions=None) -> dict:
    """What the workspace script needs to show one item; with ``editing``, the correction of a label
    already given (undo): the choice then goes to ``annotation_update``. ``suggestion``: the champion's
    top label and confidence, only for projects that show them."""
    item = assignment.item
    suggestion = (suggestions or {}).get(item.pk)
    data = {
        "id": str(assignment.public_id),  # opaque: row ids are sequential and would point at controls
        "project": item.project.slug,
        "text": item.text,
        "language": {"tag": item.language.tag, "code": item.language.code, "lang": item.language.bcp47,
                     "name": item.language.display_name, "direction": item.language.direction},
        "idempotency_key": uuid.uuid4().hex,
        "urls": {
            "submit": reverse("annotation:assignment_submit", args=[assignment.public_id]),
            "skip": reverse("annotation:assignment_skip", args=[assignment.public_id]),
            "flag": reverse("annotation:assignment_flag", args=[assignment.public_id]),
            "page": reverse("annotation:assignment", args=[assignment.public_id]),
        },
        "editing": None,
        "suggestion": suggestion.as_dict() if suggestion else None,
    }
    if editing is not None:
        data["editing"] = {"annotation": editing.pk, "label": editing.label}
        data["urls"]["submit"] = reverse("annotation:annotation_relabel", args=[editing.pk])
        data["urls"]["page"] = reverse("annotation:annotation_edit", args=[editing.pk])
    return data


def _undoable(user) -> Annotation | None:
    """The user's last submission while it can still be changed (its item not approved yet)."""
    from annotation.selectors import annotation_editable

    last = (
        Annotation.objects.filter(evaluator=user).select_related("item__project", "assignment")
        .order_by("-updated_at", "-id").first()
    )
    if last is None or not annotation_editable(last):
        return None
    return last


def _undo_data(annotation: Annotation | None) -> dict | None:
    if annotation is None:
        return None
    return {"annotation": annotation.pk, "label": annotation.label,
            "url": reverse("annotation:annotation_undo", args=[annotation.pk])}


def _blockers(user) -> dict:
    memberships = PoolMembership.objects.filter(user=user).select_related("pool__project", "pool__language")
    return {
        "pending_guidelines": pending_guidelines(user=user),
        "calibrating": [m for m in memberships if m.state in (PoolMembership.State.INVITED,
                                                              PoolMembership.State.CALIBRATING)],
        "suspended": [m for m in memberships if m.state == PoolMembership.State.SUSPENDED],
        "refusals": membership_refusals(user=user),
    }


# --- workspace ----------------------------------------------------------------------------------

def _prefetch_size() -> int:
    return max(1, int(getattr(settings, "WORKSPACE_PREFETCH", 3)))


def _queue_data(leases: list[Assignment]) -> list[dict]:
    """The prefetch window as the workspace script needs it, labels read once per project."""
    labels: dict[int, list[dict]] = {}
    suggestions = _suggestions(leases)
    out = []
    for lease in leases:
        project = lease.item.project
        if project.pk not in labels:
            labels[project.pk] = _labels(project)
        out.append({**_assignment_data(lease, suggestions=suggestions), "labels": labels[project.pk]})
    return out


def _render_workspace(request, assignment: Assignment | None, editing: Annotation | None = None,
                      ahead: list[Assignment] = ()):
    undo = None if editing else _undo_data(_undoable(request.user))
    context = {"assignment": assignment, "progress": _progress(request, assignment), "editing": editing,
               "undo": undo, "flag_reasons": ItemFlag.Reason.choices,
               "ahead": _queue_data(list(ahead)), "release_url": reverse("annotation:workspace_release")}
    if assignment is None:
        context.update(_blockers(request.user))
    else:
        project = assignment.item.project
        version = guideline_current(project=project)
        context.update({
            "item": assignment.item, "project": project, "labels": _labels(project),
            "guideline": version,
            "guideline_html": safe_html_guideline(version.body) if version else "",
            "addenda": [(a, safe_html_guideline(a.body))
                        for a in guideline_addenda_for(version=version, user=request.user)] if version else [],
            "data": _assignment_data(assignment, editing=editing, suggestions=_suggestions([assignment])),
            "submit_url": reverse("annotation:annotation_relabel", args=[editing.pk]) if editing
            else reverse("annotation:assignment_submit", args=[assignment.public_id]),
        })
    return render(request, "annotation/workspace.html", context)


def safe_html_guideline(body: str):
    return mark_safe(render_guideline(body))  # noqa: S308 - the guideline renderer sanitises


@evaluator_required
def workspace(request):
    project = None
    if request.GET.get("project"):
        project = get_object_or_404(Project, slug=request.GET["project"])
    leases = services.assignments_window(evaluator=request.user, project=project, size=_prefetch_size())
    return _render_workspace(request, leases[0] if leases else None, ahead=leases[1:])


def _my_assignment(request, public_id) -> Assignment:
    """One of the user's assignments by its public id; another user's is a 404."""
    return get_object_or_404(_my_assignments(request.user), public_id=public_id)


@evaluator_required
def assignment_page(request, public_id):
    assignment = _my_assignment(request, public_id)
    if assignment.status != Assignment.Status.ACTIVE:
        return redirect("annotation:workspace")
    return _render_workspace(request, assignment)


def _next_response(request, *, status=200, extra=None):
    """After a submit, skip or flag: the refilled prefetch window (``queue``, the first is ``next``),
    progress and undo."""
    leases = services.assignments_window(evaluator=request.user, size=_prefetch_size())
    assignment = leases[0] if leases else None
    queue = _queue_data(leases)
    body = {
        "next": queue[0] if queue else None,
        "queue": queue,
        "progress": _progress(request, assignment),
        "undo": _undo_data(_undoable(request.user)),
        "workspace_url": reverse("annotation:workspace"),
    }
    body.update(extra or {})
    return JsonResponse(body, status=status)


@evaluator_required
@require_POST
def workspace_release(request):
    """The workspace closes (``pagehide`` beacon): give back the prefetched leases it names."""
    data = _payload(request)
    ids = request.POST.getlist("ids") if request.content_type != "application/json" else data.get("ids", [])
    if not isinstance(ids, list):
        return JsonResponse({"error": _("ids must be a list of assignment ids.")}, status=400)
    released = services.assignments_release(evaluator=request.user, public_ids=[str(i) for i in ids[:50]])
    return JsonResponse({"released": released})


def _error(request, message: str, status: int = 400):
    if _wants_json(request):
        return JsonResponse({"error": message}, status=status)
    messages.error(request, message)
    return redirect("annotation:workspace")


@evaluator_required
@require_POST
def assignment_submit(request, public_id):
    assignment = _my_assignment(request, public_id)
    _session_started(request)  # a session starts before its first submission
    data = _payload(request)
    label = str(data.get("label", ""))
    key = str(data.get("idempotency_key") or uuid.uuid4().hex)[:64]
    try:
        time_spent = max(0, min(int(data.get("time_spent_ms") or 0), 24 * 3600 * 1000))
    except (TypeError, ValueError):
        time_spent = 0
    if not label:
        return _error(request, _("Choose a label."))
    try:
        from annotation.suggestions import shown_suggestion

        suggestion = shown_suggestion(assignment.item, data.get("suggestion_version"))
        annotation = services.annotation_submit(
            evaluator=request.user, assignment_id=assignment.pk, label=label, idempotency_key=key,
            time_spent_ms=time_spent, suggestion=suggestion,
        )
    except services.GuidelineNotAcknowledged as exc:
        return _guideline_refusal(request, exc, public_id=public_id)
    except PermissionDenied as exc:
        return _error(request, str(exc), status=403)
    except services.IdempotencyConflict as exc:
        return _error(request, str(exc), status=409)
    except ValidationError as exc:
        return _error(request, " ".join(exc.messages))
    if _wants_json(request):
        return _next_response(request, extra={"submitted": {"annotation": annotation.pk, "label": annotation.label}})
    messages.success(request, _("Saved: %(label)s") % {"label": annotation.label})
    return redirect("annotation:workspace")


def guideline_payload(*, user, version) -> dict:
    """The current guideline as the workspace's inline panel shows it: the sanitised text, what changed
    since the version the evaluator acknowledged, and where to acknowledge it."""
    from evaluators.views import guideline_changes_for

    changes = guideline_changes_for(user=user, version=version)
    return {
        "id": version.pk, "label": version.label, "title": version.guideline.title,
        "html": str(safe_html_guideline(version.body)),
        "previous": changes["previous"].label if changes["previous"] else None,
        "added": changes["added"], "removed": changes["removed"],
        "changes": [{"kind": kind, "text": text} for kind, text in changes["lines"]
                    if kind in ("add", "del") and text.strip()][:200],
        "acknowledge_url": reverse("evaluators:guideline", args=[version.guideline.project.slug]),
    }


def _guideline_refusal(request, exc, *, public_id):
    """A label refused because the guideline was republished: the item stays leased. The workspace script
    shows the new version inline and sends the label again once acknowledged; without the script, the
    guideline page acknowledges it and comes back to the same item."""
    version = exc.version
    if version is None:
        return _error(request, str(exc), status=403)
    if _wants_json(request):
        return JsonResponse({"error": _("The guideline changed: read version %(v)s and acknowledge it; your label "
                                        "is kept and saved once you do.") % {"v": version.label},
                             "guideline": guideline_payload(user=request.user, version=version)}, status=409)
    back = reverse("annotation:assignment", args=[public_id])
    url = reverse("evaluators:guideline", args=[version.guideline.project.slug])
    messages.warning(request, _("The guideline changed: acknowledge version %(v)s, then label the item again.")
                     % {"v": version.label})
    return redirect(f"{url}?next={back}")


@evaluator_required
@require_POST
def assignment_skip(request, public_id):
    assignment = _my_assignment(request, public_id)
    reason = str(_payload(request).get("reason", "")).strip()[:200] or "skipped in the workspace"
    try:
        _skip(user=request.user, assignment=assignment, reason=reason)
    except ValidationError as exc:
        return _error(request, " ".join(exc.messages))
    if _wants_json(request):
        return _next_response(request, extra={"skipped": str(assignment.public_id)})
    return redirect("annotation:workspace")


@evaluator_required
@require_POST
def assignment_flag(request, public_id):
    assignment = _my_assignment(request, public_id)
    data = _payload(request)
    reason = str(data.get("reason", ItemFlag.Reason.OTHER))
    if reason not in ItemFlag.Reason.values:
        return _error(request, _("Unknown flag reason."))
    comment = str(data.get("comment", ""))[:2000]
    try:
        _flag(user=request.user, assignment=assignment, reason=reason, comment=comment)
    except ValidationError as exc:
        return _error(request, " ".join(exc.messages))
    if _wants_json(request):
        return _next_response(request, extra={"flagged": str(assignment.public_id)})
    messages.info(request, _("Thank you, the item was flagged."))
    return redirect("annotation:workspace")


def _own_changeable_annotation(request, pk) -> Annotation:
    from annotation.selectors import annotation_editable

    annotation = get_object_or_404(
        Annotation.objects.filter(evaluator=request.user).select_related("assignment__item__project",
                                                                         "assignment__item__language", "item"),
        pk=pk,
    )
    refusal = membership_refusal_for(request.user, annotation.item)
    if refusal:
        raise ValidationError(refusal)
    if not annotation_editable(annotation):
        raise ValidationError(_("This item has been reviewed; your label can no longer change."))
    return annotation


def membership_refusal_for(user, item) -> str | None:
    from evaluators.selectors import membership_refusal

    refusal = membership_refusal(user=user, project_id=item.project_id, language_id=item.language_id)
    return refusal[0].upper() + refusal[1:] + "." if refusal else None


@evaluator_required
@require_POST
def annotation_undo(request, pk):
    """Take back the last submit: its item comes back with the label given, to be answered again."""
    try:
        annotation = _own_changeable_annotation(request, pk)
    except ValidationError as exc:
        return _error(request, " ".join(exc.messages), status=409)
    if not _wants_json(request):
        return redirect("annotation:annotation_edit", pk=annotation.pk)
    assignment = annotation.assignment
    body = {"next": _assignment_data(assignment, editing=annotation, suggestions=_suggestions([assignment])),
            "progress": _progress(request, assignment),
            "undo": None, "workspace_url": reverse("annotation:workspace")}
    body["next"]["labels"] = _labels(assignment.item.project)
    return JsonResponse(body)


@evaluator_required
def annotation_edit(request, pk):
    """The page of an undone submit (no-JavaScript path of undo)."""
    try:
        annotation = _own_changeable_annotation(request, pk)
    except ValidationError as exc:
        return _error(request, " ".join(exc.messages), status=409)
    return _render_workspace(request, annotation.assignment, editing=annotation)


@evaluator_required
@require_POST
def annotation_relabel(request, pk):
    """The new answer to an undone item, through ``annotation_update``; then the next item."""
    get_object_or_404(Annotation.objects.filter(evaluator=request.user), pk=pk)
    label = str(_payload(request).get("label", ""))
    if not label:
        return _error(request, _("Choose a label."))
    try:
        annotation = services.annotation_update(evaluator=request.user, annotation_id=pk, label=label)
    except PermissionDenied as exc:
        return _error(request, str(exc), status=403)
    except ValidationError as exc:
        return _error(request, " ".join(exc.messages), status=409)
    if _wants_json(request):
        return _next_response(request, extra={"submitted": {"annotation": annotation.pk, "label": annotation.label}})
    messages.success(request, _("Saved: %(label)s") % {"label": annotation.label})
    return redirect("annotation:workspace")


# Calls into the annotation engineer's services (skip, flag, undo), resolved at call time.

def _skip(*, user, assignment, reason):
    return services.assignment_skip(evaluator=user, assignment_id=assignment.pk, reason=reason)


def _flag(*, user, assignment, reason, comment):
    return services.item_flag(evaluator=user, assignment_id=assignment.pk, reason=reason, comment=comment)


# --- reviewer -----------------------------------------------------------------------------------

# Reviewers see and decide only the project × language pairs they review (parity.access).
reviewer_required = access.require(access.REVIEW_ITEM)


@reviewer_required
def review_queue(request):
    """Items waiting for a reviewer: the adjudication queue, or the Flagged tab (``?reason=flagged``),
    filtered by project, language and reason; worked from the keyboard (static/parity/review.js)."""
    from annotation import review

    flt = review.ReviewFilter.from_query(request.GET, user=request.user)
    return render(request, "annotation/review_queue.html", {
        "rows": review.review_rows(flt), "filter": flt, "counts": review.queue_counts(flt),
        "options": review.filter_options(request.user), "query": request.GET.urlencode(),
        "flag_reasons": dict(ItemFlag.Reason.choices),
    })


def _back_to_queue(request):
    """Back to the queue with the filters the reviewer had, and the keyboard position kept."""
    query = request.POST.get("query", "")
    if not re.fullmatch(r"[A-Za-z0-9_=&%.+\-]*", query):
        query = ""
    pos = request.POST.get("pos", "")
    if pos.isdigit():
        query = "&".join(part for part in (query, f"pos={pos}") if part)
    url = reverse("annotation:review_queue")
    return redirect(f"{url}?{query}" if query else url)


@reviewer_required
@require_POST
def review_resolve(request, pk):
    from annotation import review

    item = get_object_or_404(Item.objects.filter(access.reviewed_scope(request.user)), pk=pk)
    label = request.POST.get("label", "")
    comment = request.POST.get("comment", "")[:2000]
    action = request.POST.get("action", "approve")
    try:
        if action in ("dismiss", "remove", "relabel"):
            # a double click (or a retry) of the same resolution is no error
            resolution, _repeated = review.flag_resolve_or_repeat(item=item, reviewer=request.user, action=action,
                                                                  label=label, comment=comment)
            message = {
                ItemFlag.Resolution.DISMISSED: _("Item %(id)s: flag dismissed, the item stays in the pool."),
                ItemFlag.Resolution.REMOVED: _("Item %(id)s removed from the pool."),
                ItemFlag.Resolution.RELABELLED: _("Item %(id)s: flag resolved, label %(label)s approved."),
            }[resolution] % {"id": item.pk, "label": label}
        elif action == "approve":
            approved = services.review_approve(item=item, reviewer=request.user, comment=comment)
            message = _("Item %(id)s: %(label)s approved.") % {"id": item.pk, "label": approved.label}
        elif action == "override":
            if not label:
                raise ValidationError(_("Choose a label for item %(id)s first.") % {"id": item.pk})
            approved = services.review_override(item=item, label=label, reviewer=request.user, comment=comment)
            message = _("Item %(id)s: %(label)s approved.") % {"id": item.pk, "label": approved.label}
        else:
            raise ValidationError(_("Unknown action %(action)r.") % {"action": action[:20]})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, message)
    return _back_to_queue(request)


@reviewer_required
@require_POST
def review_bulk_approve(request):
    """Approve the proposed label of every selected item (the ones without a proposal are named)."""
    from annotation import review

    ids = [int(pk) for pk in request.POST.getlist("items") if pk.isdigit()]
    if not ids:
        messages.error(request, _("Select the items to approve first."))
        return _back_to_queue(request)
    result = review.review_bulk_approve(item_ids=ids, reviewer=request.user,
                                        comment=request.POST.get("comment", "")[:2000])
    if result.approved:
        messages.success(request, ngettext(
            "%(n)d item approved with its proposed label.", "%(n)d items approved with their proposed labels.",
            len(result.approved)) % {"n": len(result.approved)})
    if result.already_approved:
        messages.info(request, ngettext(
            "%(n)d item was already approved: left as it is.", "%(n)d items were already approved: left as they are.",
            len(result.already_approved)) % {"n": len(result.already_approved)})
    for pk, why in result.refused.items():
        messages.error(request, _("Item %(id)s not approved: %(why)s") % {"id": pk, "why": why})
    return _back_to_queue(request)


# --- console: agreement -------------------------------------------------------------------------

AGREEMENT_DAYS_SHOWN = 14
AGREEMENT_PAGE_SIZE = 50
AGREEMENT_CHART_POINTS = 300


@staff_required
def agreement_dashboard(request):
    """One panel per project × language: the latest values, a chart over time, and a table with one
    row per day (the day's last snapshot: snapshots are cumulative, one lands per aggregation, so a
    busy hour makes dozens). ``?project=<slug>&language=<tag>`` shows one panel with every snapshot,
    paginated."""
    if request.method == "POST":
        managed = [p for p in Project.objects.all() if request.user.has_perm(access.MANAGE_PROJECT, p)]
        if not managed:
            raise PermissionDenied(_("Only an admin or a project manager records agreement."))
        for project in managed:
            for language in project.languages.all():
                services.agreement_snapshot_record(project=project, language=language)
        messages.success(request, _("Agreement recorded."))
        return redirect("annotation:agreement")
    snapshots = AgreementSnapshot.objects.select_related("project", "language").order_by("created_at", "id")
    detail = request.GET.get("project")
    if detail:
        snapshots = snapshots.filter(project__slug=detail)
        tag = request.GET.get("language", "")
        if tag and tag != "all":
            code, _sep, script = tag.partition("_")
            snapshots = snapshots.filter(language__code=code, language__script=script)
        elif tag == "all":
            snapshots = snapshots.filter(language__isnull=True)
    groups: dict[tuple, list] = defaultdict(list)
    for snap in snapshots:
        groups[(snap.project, snap.language)].append(snap)
    ordered = sorted(groups.items(), key=lambda kv: (kv[0][0].name, kv[0][1].code if kv[0][1] else ""))
    panels = [_agreement_panel(project, language, snaps) for (project, language), snaps in ordered]
    if request.GET.get("png"):
        return png_response([panel["chart"] for panel in panels], request.GET["png"])
    page = None
    if detail and len(panels) == 1:
        from django.core.paginator import Paginator

        page = Paginator(list(reversed(groups[ordered[0][0]])), AGREEMENT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "annotation/agreement.html", {"panels": panels, "page": page, "detail": bool(detail)})


def _agreement_panel(project, language, snaps: list) -> dict:
    from annotation.charts import Chart, Point, Series, epoch_ms, padded_range

    by_day: dict = {}
    for snap in snaps:
        day = timezone.localdate(snap.created_at)
        by_day[day] = (snap, by_day.get(day, (None, 0))[1] + 1)
    days = [{"day": day, "snapshot": snap, "count": n} for day, (snap, n) in sorted(by_day.items(), reverse=True)]
    shown = snaps[-AGREEMENT_CHART_POINTS:]
    metrics = [(_("Krippendorff's α"), "krippendorff_alpha"), (_("Fleiss' κ"), "fleiss_kappa"),
               (_("mean Cohen's κ"), "cohen_kappa_mean")]
    series = [Series(name, [Point(epoch_ms(s.created_at), getattr(s, field),
                                  _("%(items)s items, %(raters)s evaluators") % {"items": s.n_items,
                                                                               "raters": s.n_annotators})
                            for s in shown], color=color)
              for color, (name, field) in enumerate(metrics)]
    low, high = padded_range([p.y for one in series for p in one.points])
    key = f"{project.slug}-{language.tag if language else 'all'}"
    chart = Chart(id=re.sub(r"[^A-Za-z0-9_-]", "-", key)[:80], kind="line", title=_("Agreement over time"),
                  y_label=_("agreement"), y_min=low, y_max=high, series=series)
    latest = snaps[-1]
    return {
        "project": project, "language": language, "latest": latest, "chart": chart, "days": days[:AGREEMENT_DAYS_SHOWN],
        "n_days": len(days), "n_snapshots": len(snaps), "tag": language.tag if language else "all",
        "fleiss_note": (latest.counts or {}).get("fleiss_kappa_note") if isinstance(latest.counts, dict) else None,
    }


# --- console: report triage ---------------------------------------------------------------------

@access.require(access.TRIAGE_REPORT)
def report_triage(request):
    status = request.GET.get("status", Report.Status.NEW)
    reports = Report.objects.filter(access.triage_scope(request.user))
    reports = reports.select_related("language", "item", "duplicate_of").order_by("created_at")
    if status != "all":
        reports = reports.filter(status=status)
    return render(request, "annotation/report_triage.html", {
        "reports": reports[:200], "status": status, "statuses": Report.Status.choices,
        "projects": [p for p in Project.objects.order_by("name") if request.user.has_perm(access.MANAGE_PROJECT, p)],
    })


@access.require(access.TRIAGE_REPORT, obj=lambda request, pk, action: get_object_or_404(Report, pk=pk))
@require_POST
def report_triage_action(request, pk, action):
    report = get_object_or_404(Report, pk=pk)
    note = request.POST.get("resolution", "")[:2000]
    try:
        if action == "accept":
            project = None
            if request.POST.get("project"):
                value = request.POST["project"]
                project = get_object_or_404(Project, pk=value if value.isdigit() else None)
            project = _accept_target(request.user, report, project)
            _report_accept(report=report, actor=request.user, project=project, note=note)
        elif action == "reject":
            services.report_reject(report=report, actor=request.user, reason=note)
        elif action == "duplicate":
            original = Report.objects.filter(reference=request.POST.get("duplicate_of", "").strip()).first()
            if original is None:
                raise ValidationError(_("Give the reference of the original report."))
            services.report_mark_duplicate(report=report, of=original, actor=request.user)
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _triage_message(report, action))
    return redirect(reverse("annotation:report_triage") + f"?status={request.GET.get('status', 'new')}")


def _triage_message(report: Report, action: str) -> str:
    report.refresh_from_db()
    ref = report.reference[:8]
    if action == "accept":
        return _("Accepted report %(ref)s: it is item #%(item)s, queued for native speakers to label.") % {
            "ref": ref, "item": report.item_id}
    if action == "reject":
        return _("Rejected report %(ref)s. The reporter sees your reason on the status page.") % {"ref": ref}
    return _("Marked report %(ref)s as a duplicate of %(original)s.") % {
        "ref": ref, "original": report.duplicate_of.reference[:8] if report.duplicate_of else "?"}


def _accept_target(user, report, project):
    """The project a report becomes an item of: the one asked for, else the first serving its language;
    either way one whose items of that language ``user`` may review (managers, reviewers, admins)."""
    candidates = [project] if project is not None else list(
        Project.objects.filter(languages=report.language).order_by("id"))
    for candidate in candidates:
        if user.has_perm(access.REVIEW_ITEM, Item(project=candidate, language=report.language)):
            return candidate
    if project is None and not candidates:
        return None  # the service explains that no project serves the language
    raise PermissionDenied(_("You may not add items to that project in this language."))


def _report_accept(*, report, actor, project, note=""):
    kwargs = {"report": report, "actor": actor}
    if project is not None:
        kwargs["project"] = project
    return services.report_accept(**kwargs)


# --- public report form and status page ---------------------------------------------------------

def _served_languages():
    from evaluators.models import Language

    return (
        Language.objects.filter(Q(projects__isnull=False) | Q(pools__isnull=False)).distinct().order_by("name")
    )


def _report_form(data=None):
    from annotation.forms import LanguageSelect, ReportForm
    from evaluators.languages import autonym

    form = ReportForm(data)
    options = []
    for language in _served_languages():
        own = autonym(language.code, language.name)
        # In its own name first (what a speaker looks for), then its name in the interface language when
        # it differs; listed in English-name order, since no one script's alphabet orders አማርኛ, Hausa and اردو.
        text = own if own == language.display_name else f"{own} — {language.display_name}"
        options.append((language.tag, text, {"lang": language.bcp47, "dir": language.direction}))
    form.fields["language"].widget = LanguageSelect(options=options, placeholder=_("Choose your language"))
    form.fields["language"].help_text = ""
    form.fields["category"].choices = [("", _("Choose what is wrong"))] + list(Report.Category.choices)
    for name in ("input_text", "model_output", "suggested_correction", "contact"):
        form.fields[name].widget.attrs.update({"dir": "auto", "rows": 4})
    form.fields["contact"].widget.attrs.pop("rows", None)
    return form


@access.declare(access.PUBLIC)
def report_create(request):
    if request.method == "POST":
        from parity.throttling import ReportThrottle, throttled_wait

        wait = throttled_wait(ReportThrottle, request)
        if wait is not None:
            response = render(request, "annotation/report_throttled.html", {"wait": int(wait) + 1}, status=429)
            response["Retry-After"] = str(int(wait) + 1)
            return response
        form = _report_form(request.POST)
        if form.is_valid():
            try:
                report = form.save()
            except ValidationError as exc:
                problems = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
                for field, errors in problems:
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                return redirect("annotation:report_status", reference=report.reference)
    else:
        form = _report_form()
    return render(request, "annotation/report_form.html", {"form": form, "honeypot": HONEYPOT_FIELD})


@access.declare(access.PUBLIC)
def report_status(request, reference):
    from annotation.selectors import report_by_reference
    from evaluators.languages import autonym

    report = report_by_reference(reference)
    if report is None:
        raise Http404
    return render(request, "annotation/report_status.html", {
        "report": report,
        "address": request.build_absolute_uri(reverse("annotation:report_status", args=[report.reference])),
        "language_name": autonym(report.language.code, report.language.name),
        "lang": report.language.bcp47,
    })
