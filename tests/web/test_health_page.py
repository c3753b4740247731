"""The console's project health page: per project × language, capacity against k, items waiting and in
adjudication, approvals per day over the last week, the last training run and the champion, with a
plain-language next step for each red cell."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from annotation.models import ApprovedLabel, Item
from learner.health import project_health
from learner.models import ModelVersion, RunStatus, TrainingRun
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(project, hausa, urdu, evaluator):
    """Topics in Hausa (one qualified evaluator, k = 1: fine) and Urdu (nobody: below capacity)."""
    project.overlap = 1
    project.save()
    project.languages.add(urdu)
    for n in range(3):
        f.ItemFactory(project=project, language=hausa, text=f"open {n}")
    f.ItemFactory(project=project, language=urdu, text="urdu open")
    f.ItemFactory(project=project, language=hausa, status=Item.Status.ADJUDICATION, review_reason="tie")
    today = f.ItemFactory(project=project, language=hausa, text="approved today")
    f.approve(today, "sports")
    old = f.ItemFactory(project=project, language=hausa, text="approved 3 days ago")
    f.approve(old, "health")
    ApprovedLabel.objects.filter(item=old).update(approved_at=timezone.now() - timedelta(days=3))
    return project


def _row(rows, tag):
    return next(r for r in rows if r.language.tag == tag)


def test_counts_per_language(setup):
    hau = _row(project_health(), "hau_Latn")
    assert (hau.evaluators.value, hau.waiting.value, hau.adjudication.value, hau.approved.value) == ("1 / 1", 3, 1, 2)
    assert [n for _day, n in hau.per_day] == [0, 0, 0, 1, 0, 0, 1]  # oldest first, today last
    assert hau.ok and hau.training.value is None and hau.champion.value is None


def test_a_language_below_capacity_is_red_with_a_next_step(admin_client, setup):
    rows = project_health()
    urd = _row(rows, "urd_Arab")
    assert urd.evaluators.problem and "invite and qualify 1 more" in urd.evaluators.problem
    assert rows[0] is urd  # the languages with problems come first
    html = admin_client.get(reverse("learner:health")).content.decode()
    assert 'data-test="health-alert"' in html
    assert 'data-language="urd_Arab"' in html and "invite and qualify 1 more" in html
    assert html.count('data-test="health-next"') == 1


def test_training_and_champion_cells(setup, hausa):
    run = TrainingRun.objects.create(project=setup, status=RunStatus.FAILED, message="backbone missing")
    run.languages.add(hausa)
    hau = _row(project_health(), "hau_Latn")
    assert hau.training.value == run and "failed" in hau.training.problem
    assert "No champion" in hau.champion.problem
    ok = TrainingRun.objects.create(project=setup, status=RunStatus.SUCCEEDED, finished_at=timezone.now())
    ok.languages.add(hausa)
    champion = ModelVersion.objects.create(project=setup, language=hausa, backend="ngram", adapter_path="x",
                                           macro_f1=0.61, status=ModelVersion.Status.CHAMPION, training_run=ok)
    hau = _row(project_health(), "hau_Latn")
    assert hau.training.value == ok and not hau.training.problem
    assert hau.champion.value == champion and hau.ok


def test_a_big_adjudication_backlog_and_a_stopped_week_are_red(setup, hausa):
    Item.objects.filter(project=setup, language=hausa, status=Item.Status.OPEN).update(
        status=Item.Status.ADJUDICATION, review_reason="tie")
    for n in range(30):
        f.ItemFactory(project=setup, language=hausa, status=Item.Status.ADJUDICATION, text=f"tie {n}")
    f.ItemFactory(project=setup, language=hausa, text="still open")
    ApprovedLabel.objects.update(approved_at=timezone.now() - timedelta(days=30))
    hau = _row(project_health(), "hau_Latn")
    assert "wait for a reviewer" in hau.adjudication.problem
    assert "review/?project=topics&language=hau_Latn" in hau.adjudication.link
    assert "Nothing was approved" in hau.approved.problem


def test_a_new_language_is_not_called_stopped(setup, urdu):
    urd = _row(project_health(), "urd_Arab")
    assert urd.approved.value == 0 and not urd.approved.problem  # nothing approved yet, items are new
    Item.objects.filter(language=urdu).update(created_at=timezone.now() - timedelta(days=8))
    assert "Nothing was approved" in _row(project_health(), "urd_Arab").approved.problem


def test_no_waiting_items_says_to_import_or_sample(setup, hausa):
    Item.objects.filter(project=setup, language=hausa, status=Item.Status.OPEN).delete()
    assert "import more sentences" in _row(project_health(), "hau_Latn").waiting.problem


def test_queries_do_not_grow_with_the_items(admin_client, setup, hausa):
    admin_client.get(reverse("learner:health"))
    with CaptureQueriesContext(connection) as small:
        admin_client.get(reverse("learner:health"))
    for n in range(20):
        item = f.ItemFactory(project=setup, language=hausa, text=f"more {n}")
        if n % 2:
            f.approve(item, "sports")
    with CaptureQueriesContext(connection) as large:
        admin_client.get(reverse("learner:health"))
    assert len(small) == len(large)


def test_staff_only(client, evaluator):
    client.force_login(evaluator)
    assert client.get(reverse("learner:health")).status_code == 403
