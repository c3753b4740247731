"""Console pages of the learner: the parity dashboard, training and sampling runs, the registry's
promote / roll back / retrain actions, and a small JSON endpoint polled for live progress."""
from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from annotation.charts import Chart, Point, Series, epoch_ms, padded_range, png_response
from annotation.models import ApprovedLabel, Project
from evaluators.languages import display_name_for_tag
from evaluators.models import Language, PoolMembership
from evaluators.views import staff_required
from learner import services
from learner.models import Backend, ModelVersion, RunStatus, SamplingRun, TrainingRun
from learner.selectors import promotion_check
from parity import access

ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)


def decided_by(version: ModelVersion | None) -> list[dict]:
    """The scores that decided a per-language competition (each candidate backend's dev macro-F1, best
    first, and the champion it had to beat), for the runs and parity pages; empty for a one-backend run."""
    metrics = version.metrics if version is not None and isinstance(version.metrics, dict) else {}
    competition = metrics.get("competition") or {}
    scores = competition.get("scores") or {}
    rows = [{"backend": b, "macro_f1": f, "winner": b == competition.get("winner")}
            for b, f in sorted(scores.items(), key=lambda kv: -(kv[1] if kv[1] is not None else -1))]
    champion = competition.get("champion")
    if rows and champion:
        rows.append({"backend": _("champion v%(version)s (%(backend)s)") % {"version": champion["version"],
                                                                             "backend": champion["backend"]},
                     "macro_f1": champion.get("macro_f1"), "winner": False})
    return rows


@staff_required
def parity_dashboard(request):
    projects = list(Project.objects.prefetch_related("languages").order_by("name"))
    approved = defaultdict(int)
    for row in ApprovedLabel.objects.values("item__project_id", "item__language_id").annotate(n=Count("id")):
        approved[(row["item__project_id"], row["item__language_id"])] = row["n"]
    qualified = defaultdict(int)
    for row in (PoolMembership.objects.filter(state=PoolMembership.State.QUALIFIED)
                .values("pool__project_id", "pool__language_id").annotate(n=Count("user", distinct=True))):
        qualified[(row["pool__project_id"], row["pool__language_id"])] = row["n"]
    versions = defaultdict(list)
    for version in ModelVersion.objects.select_related("language").order_by("created_at", "id"):
        versions[(version.project_id, version.language_id)].append(version)

    panels = []
    for project in projects:
        languages = set(project.languages.all()) | {
            Language.objects.get(pk=lang_id) for (p, lang_id) in list(versions) + list(approved) if p == project.pk
        }
        rows = []
        for language in sorted(languages, key=lambda lang: lang.code):
            history = versions.get((project.pk, language.pk), [])
            champion = next((v for v in reversed(history) if v.status == ModelVersion.Status.CHAMPION), None)
            rows.append({
                "language": language, "champion": champion, "decided_by": decided_by(champion),
                "f1": champion.macro_f1 if champion and champion.macro_f1 is not None else None,
                "approved": approved[(project.pk, language.pk)], "qualified": qualified[(project.pk, language.pk)],
                "versions": len(history), "history": history,
            })
        panels.append(_parity_panel(project, rows))
    if request.GET.get("png"):
        return png_response([chart for panel in panels for chart in panel["charts"]], request.GET["png"])
    return render(request, "learner/parity.html", {"panels": panels})


def _count(value) -> int | None:
    """Counts stored in JSON may come back as floats (46.0); a table shows them as 46."""
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def allocation_rows(allocation) -> list[dict]:
    """A sampling run's per-language plan as table rows instead of the raw JSON dict."""
    if not isinstance(allocation, dict):
        return []
    rows = []
    for tag, plan in sorted(allocation.items()):
        plan = plan if isinstance(plan, dict) else {"items": plan}
        reasons = [str(plan[key]) for key in ("reason", "why_strategy") if plan.get(key)]
        rows.append({
            "language": display_name_for_tag(tag), "tag": tag, "items": _count(plan.get("items")) or 0,
            "strategy": plan.get("strategy", ""),
            "n_scored": _count(plan.get("n_scored")), "picked": _count(plan.get("picked")),
            "reason": "; ".join(reasons),
        })
    return rows


def _parity_panel(project, rows: list[dict]) -> dict:
    """Best, worst and gap over the languages that have a champion; the others are listed as not
    trained yet, never counted as 0 (a language without a model is not the worst-served one, it is
    not served by a model at all)."""
    for row in rows:
        row["trained"] = row["f1"] is not None
    scored = [r for r in rows if r["trained"]]
    best = max(scored, key=lambda r: r["f1"]) if scored else None
    worst = min(scored, key=lambda r: r["f1"]) if len(scored) > 1 else None
    for row in rows:
        row["is_best"] = best is not None and row is best and len(scored) > 1
        row["is_worst"] = worst is not None and row is worst
    untrained = [r["language"] for r in rows if not r["trained"]]
    charts = []
    if rows:
        charts.append(Chart(
            id=f"p{project.pk}-f1", kind="bar", x_axis="category", title=_("Champion macro-F1 per language"),
            y_label="macro-F1", y_min=0, y_max=1,
            series=[Series(_("champion macro-F1"), [
                Point(r["language"].display_name, r["f1"], f"v{r['champion'].pk}" if r["champion"] else "")
                for r in rows])],
            notes={r["language"].display_name: _("not trained yet") for r in rows if not r["trained"]},
        ))
    history = _version_history_series(rows)
    if history:
        values = [p.y for s in history for p in s.points]
        low, high = padded_range(values)
        charts.append(Chart(
            id=f"p{project.pk}-history", kind="line", title=_("Macro-F1 of each model version over time"),
            y_label="macro-F1", y_min=low, y_max=high, series=history,
        ))
    if rows:
        charts.append(Chart(
            id=f"p{project.pk}-labels", kind="bar", x_axis="category", title=_("Approved labels per language"),
            y_label=_("approved labels"), y_min=0, y_integer=True,
            series=[Series(_("approved labels"), [Point(r["language"].display_name, r["approved"])
                                                    for r in rows], color=2)],
        ))
    return {
        "project": project, "rows": rows, "best": best, "worst": worst, "charts": charts,
        "gap": (best["f1"] - worst["f1"]) if best and worst else None,
        "untrained": untrained, "n_trained": len(scored),
    }


def _version_history_series(rows: list[dict]) -> list[Series]:
    """Per language: a line through the versions that were champion (live then, or live now), and
    the candidates that were kept out as separate hollow markers, never joined to that line."""
    series = []
    for color, row in enumerate(rows):
        tag = row["language"].display_name  # the series are named in the interface language
        served = [v for v in row["history"] if v.status != ModelVersion.Status.CANDIDATE and v.macro_f1 is not None]
        kept_out = [v for v in row["history"] if v.status == ModelVersion.Status.CANDIDATE and v.macro_f1 is not None]
        if served:
            series.append(Series(_("%(tag)s champions") % {"tag": tag}, [
                Point(epoch_ms(v.created_at), v.macro_f1, f"v{v.pk} {v.get_status_display()}") for v in served
            ], color=color))
        if kept_out:
            series.append(Series(_("%(tag)s candidates (not promoted)") % {"tag": tag}, [
                Point(epoch_ms(v.created_at), v.macro_f1, f"v{v.pk}: {v.status_reason}"[:160]) for v in kept_out
            ], color=color, line=False, hollow=True))
    return series


def _run_json(run) -> dict:
    return {"id": run.pk, "kind": "training" if isinstance(run, TrainingRun) else "sampling",
            "status": run.status, "status_display": run.get_status_display(),
            "progress": round(run.progress, 4), "percent": round(100 * run.progress),
            "message": run.message}


@staff_required
def runs(request):
    training = TrainingRun.objects.select_related("project").prefetch_related("languages", "model_versions")[:30]
    sampling = list(SamplingRun.objects.select_related("project")[:30])
    models = list(ModelVersion.objects.select_related("project", "language", "training_run")[:100])
    champions = {(v.project_id, v.language_id): v for v in models if v.status == ModelVersion.Status.CHAMPION}
    for version in models:
        version.check = promotion_check(version, champions.get((version.project_id, version.language_id)))
        version.action_text = ACTION_TEXT.get(version.check.kind, "")
        metrics = version.metrics if isinstance(version.metrics, dict) else {}
        version.metric_summary = [(k, v, k.startswith("n_") or isinstance(v, int)) for k, v in metrics.items()
                                  if isinstance(v, int | float) and not isinstance(v, bool)][:6]
        version.decided_by = decided_by(version)
    for run in sampling:
        run.allocation_rows = allocation_rows(run.allocation)
    return render(request, "learner/runs.html", {
        "training": training, "sampling": sampling, "models": models,
        "projects": Project.objects.order_by("name"), "backends": Backend.choices,
        "any_active": any(r.status in ACTIVE for r in list(training) + list(sampling)),
    })


@staff_required
def runs_status(request):
    """What the runs page polls: status and progress of the latest runs."""
    training = TrainingRun.objects.all()[:30]
    sampling = SamplingRun.objects.all()[:30]
    return JsonResponse({
        "training": [_run_json(r) for r in training],
        "sampling": [_run_json(r) for r in sampling],
        "active": any(r.status in ACTIVE for r in list(training) + list(sampling)),
    })


@access.require(access.MANAGE_PROJECT)
@require_POST
def retrain(request):
    value = request.POST.get("project", "")
    project = get_object_or_404(Project, pk=value if value.isdigit() else None)
    access.check(request.user, access.MANAGE_PROJECT, project)
    backend = request.POST.get("backend") or Backend.NGRAM
    if backend not in Backend.values:
        messages.error(request, _("Unknown backend."))
        return redirect("learner:runs")
    language_ids = [v for v in request.POST.getlist("languages") if v.isdigit()]
    languages = list(project.languages.filter(pk__in=language_ids)) or None
    candidates = request.POST.getlist("candidates")
    if any(c not in Backend.values for c in candidates):
        messages.error(request, _("Unknown backend."))
        return redirect("learner:runs")
    try:
        run = services.training_run_create(project=project, languages=languages, backend=backend, trigger="console",
                                           **({"candidates": candidates} if len(set(candidates)) > 1 else {}))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Training run %(id)s queued.") % {"id": run.pk})
    return redirect("learner:runs")


ACTION_TEXT = {
    "promote": gettext_lazy("Promote"), "rollback": gettext_lazy("Roll back to this"),
    "restore": gettext_lazy("Make champion again"),
}


@access.require(access.MANAGE_PROJECT,
                obj=lambda request, pk, action: get_object_or_404(ModelVersion, pk=pk).project)
def model_action(request, pk, action):
    """GET: the confirmation page (this version against the champion). POST with ``confirm``: do it.

    A version that is not better than the champion needs ``accept_worse`` ticked too, so a careless
    click cannot replace the live model with a worse one."""
    version = get_object_or_404(ModelVersion.objects.select_related("project", "language"), pk=pk)
    check = promotion_check(version)
    if not check.kind:
        messages.info(request, _("Model v%(id)s is already the champion.") % {"id": version.pk})
        return redirect("learner:runs")
    confirm_url = reverse("learner:model_action", args=[version.pk, check.kind])
    if action != check.kind:
        return redirect(confirm_url)
    if request.method != "POST":
        return render(request, "learner/model_confirm.html", {
            "check": check, "version": version, "action_text": ACTION_TEXT[check.kind],
        })
    if request.POST.get("confirm") != "yes":
        return redirect(confirm_url)
    if check.worse and request.POST.get("accept_worse") != "yes":
        messages.error(request, _("v%(id)s is not better than the champion v%(champion)s: tick the box to "
                                  "replace the champion anyway.") % {"id": version.pk, "champion": check.champion.pk})
        return redirect(confirm_url)
    who = request.user.get_username()
    try:
        if check.kind == "promote":
            services.model_version_promote(version=version, reason=_("promoted by %(user)s") % {"user": who})
        else:
            services.model_version_rollback(version=version)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Model v%(id)s is now the champion.") % {"id": version.pk})
    return redirect("learner:runs")


@staff_required
def health(request):
    """Project health per language: capacity against k, items waiting and in adjudication, approvals per day
    over the last week, the last training run and the champion; each red cell says what to do."""
    from learner.health import DAYS, project_health

    rows = project_health()
    visible = Project.objects.filter(access.visible_projects_scope(request.user)).distinct().order_by("name")
    projects = [{"project": p, "can_manage": request.user.has_perm(access.MANAGE_PROJECT, p)} for p in visible]
    return render(request, "learner/health.html", {"rows": rows, "days": DAYS, "projects": projects,
                                                   "n_problems": sum(not row.ok for row in rows)})


@access.require(access.MANAGE_PROJECT, obj=lambda request, slug: get_object_or_404(Project, slug=slug))
@require_POST
def project_suggestions(request, slug):
    """Turn a project's model suggestions on (``show=on``) or off (``show=off``), from the health page."""
    project = get_object_or_404(Project, slug=slug)
    show = request.POST.get("show", "")
    if show not in ("on", "off"):
        messages.error(request, _("Say whether to turn suggestions on or off."))
        return redirect("learner:health")
    changed = services.project_suggestions_set(project=project, show=show == "on", actor=request.user)
    if not changed:
        messages.info(request, (_("Suggestions were already on for %(project)s.") if show == "on" else
                                _("Suggestions were already off for %(project)s.")) % {"project": project.name})
    elif show == "on":
        messages.success(request, _("Suggestions turned on for %(project)s: evaluators and reviewers now see the "
                                    "champion model's label and its confidence.") % {"project": project.name})
    else:
        messages.success(request, _("Suggestions turned off for %(project)s.") % {"project": project.name})
    return redirect("learner:health")

