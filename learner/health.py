"""Project health per language: is each project × language moving, and if not, what to do.

It reads all three apps (capacity and items from ``annotation``, memberships through it from
``evaluators``, training runs and the champion from ``learner``), so it lives in the top app. Every
count is one grouped query over all projects, so the page costs the same whatever the data size
(plus annotation.capacity's few queries per project).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count, Min
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from annotation.capacity import LanguageCapacity, capacity_overview
from annotation.models import ApprovedLabel, Item
from learner.models import ModelVersion, RunStatus, TrainingRun

DAYS = 7
ADJUDICATION_BACKLOG = 25  # more than this waiting for a reviewer is a red cell


@dataclass
class Cell:
    """One value of the table; ``problem`` (plain language: what is wrong and what to do) makes it red."""

    value: object = None
    problem: str = ""
    link: str = ""


@dataclass
class LanguageHealth:
    capacity: LanguageCapacity
    evaluators: Cell = field(default_factory=Cell)
    waiting: Cell = field(default_factory=Cell)
    adjudication: Cell = field(default_factory=Cell)
    approved: Cell = field(default_factory=Cell)
    per_day: list[tuple[date, int]] = field(default_factory=list)
    training: Cell = field(default_factory=Cell)
    champion: Cell = field(default_factory=Cell)

    @property
    def project(self):
        return self.capacity.project

    @property
    def language(self):
        return self.capacity.language

    @property
    def problems(self) -> list[str]:
        return [c.problem for c in (self.evaluators, self.waiting, self.adjudication, self.approved, self.training,
                                    self.champion) if c.problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def _item_counts() -> dict[tuple[int, int, str], int]:
    rows = (Item.objects.filter(split=Item.Split.POOL, is_control=False)
            .values_list("project_id", "language_id", "status").annotate(n=Count("id")))
    return {(p, lang, status): n for p, lang, status, n in rows}


def _approved_per_day(since) -> dict[tuple[int, int], dict[date, int]]:
    rows = (ApprovedLabel.objects.filter(approved_at__gte=since, item__is_control=False)
            .annotate(day=TruncDate("approved_at"))
            .values_list("item__project_id", "item__language_id", "day").annotate(n=Count("id")))
    out: dict[tuple[int, int], dict[date, int]] = defaultdict(dict)
    for project_id, language_id, day, n in rows:
        out[(project_id, language_id)][day] = n
    return out


def _oldest_open() -> dict[tuple[int, int], object]:
    rows = (Item.objects.filter(split=Item.Split.POOL, is_control=False, status=Item.Status.OPEN)
            .values_list("project_id", "language_id").annotate(oldest=Min("created_at")))
    return {(p, lang): oldest for p, lang, oldest in rows}


def _approved_total() -> dict[tuple[int, int], int]:
    rows = (ApprovedLabel.objects.filter(item__is_control=False, item__split=Item.Split.POOL)
            .values_list("item__project_id", "item__language_id").annotate(n=Count("id")))
    return {(p, lang): n for p, lang, n in rows}


def _last_runs() -> dict[tuple[int, int], TrainingRun]:
    """The latest training run that covered each project × language (runs train several languages)."""
    latest: dict[tuple[int, int], TrainingRun] = {}
    through = TrainingRun.languages.through.objects.select_related("trainingrun").order_by(
        "-trainingrun__created_at", "-trainingrun_id")
    for row in through:
        latest.setdefault((row.trainingrun.project_id, row.language_id), row.trainingrun)
    return latest


def _champions() -> dict[tuple[int, int], ModelVersion]:
    return {(v.project_id, v.language_id): v for v in ModelVersion.objects.filter(status=ModelVersion.Status.CHAMPION)}


def project_health(*, now=None) -> list[LanguageHealth]:
    """One row per project × language, the ones with problems first."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    days = [today - timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    since = timezone.make_aware(timezone.datetime.combine(days[0], timezone.datetime.min.time()))
    items, per_day, totals, oldest = _item_counts(), _approved_per_day(since), _approved_total(), _oldest_open()
    runs, champions = _last_runs(), _champions()
    min_labels = int(getattr(settings, "LEARNER_COLDSTART_MIN_LABELS", 20))
    rows = []
    for cap in capacity_overview():
        key = (cap.project.pk, cap.language.pk)
        review_url = reverse("annotation:review_queue") + f"?project={cap.project.slug}&language={cap.language.tag}"
        row = LanguageHealth(capacity=cap)
        row.evaluators = Cell(value=f"{cap.capacity} / {cap.overlap}", problem="" if cap.ok else cap.advice)
        waiting = items.get((*key, Item.Status.OPEN), 0)
        row.waiting = Cell(value=waiting, problem="" if waiting else _(
            "No item is waiting to be labelled: import more sentences for this language, or run sampling so the "
            "learner picks the next ones."))
        backlog = items.get((*key, Item.Status.ADJUDICATION), 0)
        row.adjudication = Cell(value=backlog, link=review_url, problem="" if backlog <= ADJUDICATION_BACKLOG else _(
            "%(n)s items wait for a reviewer: open the review queue for this language (bulk approve the proposed "
            "labels you agree with), or add reviewers.") % {"n": backlog})
        counts = per_day.get(key, {})
        row.per_day = [(day, counts.get(day, 0)) for day in days]
        week = sum(n for _day, n in row.per_day)
        # A new language is not "stopped": red only once it approved before, or items waited over a week.
        stalled = waiting and (totals.get(key, 0) or (oldest.get(key) and oldest[key] < since))
        row.approved = Cell(value=week, problem="" if week or not stalled else _(
            "Nothing was approved in the last %(days)s days although items are waiting: check that evaluators "
            "are qualified and working, and that the review queue is not blocking.") % {"days": DAYS})
        run = runs.get(key)
        total = totals.get(key, 0)
        if run is None:
            problem = _("Never trained: %(n)s approved labels so far; queue a training run once there are at least "
                        "%(min)s.") % {"n": total, "min": min_labels} if total >= min_labels else ""
            row.training = Cell(value=None, problem=problem, link=reverse("learner:runs"))
        else:
            problem = _("The last training run failed: read its message on the runs page, fix the cause and queue "
                        "it again.") if run.status == RunStatus.FAILED else ""
            row.training = Cell(value=run, problem=problem, link=reverse("learner:runs"))
        champion = champions.get(key)
        no_champion = "" if champion or run is None else _(
            "No champion model for this language: no candidate has been promoted yet; compare the candidates "
            "on the runs page and promote one that is good enough.")
        row.champion = Cell(value=champion, link=reverse("learner:parity"), problem=no_champion)
        rows.append(row)
    return sorted(rows, key=lambda r: (r.ok, r.project.name, r.language.code))
