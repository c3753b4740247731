"""Console pages of the learner: the parity dashboard, training and sampling runs, the registry's
promote / roll back / retrain actions, and a small JSON endpoint polled for live progress."""
from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from annotation.models import ApprovedLabel, Project
from annotation.views import safe_svg, svg_chart
from evaluators.models import Language, PoolMembership
from evaluators.views import staff_required
from learner import services
from learner.models import Backend, ModelVersion, RunStatus, SamplingRun, TrainingRun

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
        rows.append({"backend": f"champion v{champion['version']} ({champion['backend']})",
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
        scored = [r for r in rows if r["f1"] is not None]
        best = max(scored, key=lambda r: r["f1"]) if scored else None
        worst = min(scored, key=lambda r: r["f1"]) if scored else None
        for row in rows:
            row["is_best"] = best is not None and row is best
            row["is_worst"] = worst is not None and row is worst and len(scored) > 1
        charts = {}
        if scored:
            charts["f1"] = safe_svg(svg_chart(
                {"macro-F1": [(r["language"].tag, r["f1"]) for r in rows]}, kind="bar",
                ylabel="champion macro-F1", ylim=(0, 1.05), height=2.8))
        history_series = {
            r["language"].tag: [(i + 1, v.macro_f1) for i, v in enumerate(r["history"])] for r in rows if r["history"]
        }
        if history_series:
            charts["history"] = safe_svg(svg_chart(history_series, ylabel="macro-F1 by model version",
                                                   ylim=(0, 1.05), height=2.8))
        if rows:
            charts["labels"] = safe_svg(svg_chart(
                {"approved": [(r["language"].tag, r["approved"]) for r in rows]}, kind="bar",
                ylabel="approved labels", height=2.4))
        panels.append({
            "project": project, "rows": rows, "best": best, "worst": worst, "charts": charts,
            "gap": (best["f1"] - worst["f1"]) if best and worst else None,
        })
    return render(request, "learner/parity.html", {"panels": panels})


def _run_json(run) -> dict:
    return {"id": run.pk, "kind": "training" if isinstance(run, TrainingRun) else "sampling",
            "status": run.status, "progress": round(run.progress, 4), "percent": round(100 * run.progress),
            "message": run.message}


@staff_required
def runs(request):
    training = TrainingRun.objects.select_related("project").prefetch_related("languages", "model_versions")[:30]
    sampling = SamplingRun.objects.select_related("project")[:30]
    models = list(ModelVersion.objects.select_related("project", "language", "training_run")[:100])
    for version in models:
        metrics = version.metrics if isinstance(version.metrics, dict) else {}
        version.metric_summary = [(k, v) for k, v in metrics.items()
                                  if isinstance(v, int | float) and not isinstance(v, bool)][:6]
        version.decided_by = decided_by(version)
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


@staff_required
@require_POST
def retrain(request):
    project = get_object_or_404(Project, pk=request.POST.get("project"))
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


@staff_required
@require_POST
def model_action(request, pk, action):
    version = get_object_or_404(ModelVersion, pk=pk)
    try:
        if action == "promote":
            services.model_version_promote(version=version, reason=f"promoted by {request.user.get_username()}")
        elif action == "rollback":
            services.model_version_rollback(version=version)
        else:
            return redirect("learner:runs")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Model v%(id)s is now the champion.") % {"id": version.pk})
    return redirect("learner:runs")
