"""Agreement snapshots per project × language: values, counts, automatic and on-demand, time series API."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from annotation.agreement import agreement_report
from annotation.models import AgreementSnapshot, Annotation
from annotation.services import agreement_snapshot_record
from tests.annotation.conftest import label_next, make_setup
from tests.factories import ItemFactory, UserFactory, admin_user

pytestmark = pytest.mark.django_db


def annotate(setup, votes_per_item):
    for votes in votes_per_item:
        ItemFactory(project=setup.project, language=setup.lang)
        for user, label in zip(setup.evaluators, votes, strict=True):
            label_next(user, label)


def test_snapshot_values_match_the_agreement_module():
    setup = make_setup(overlap=3, evaluators=3)
    annotate(setup, [["sports"] * 3, ["sports", "sports", "health"], ["politics"] * 3, ["health", "health", "sports"]])
    snapshot = agreement_snapshot_record(project=setup.project, language=setup.lang)
    rows = list(Annotation.objects.values_list("item_id", "evaluator_id", "label"))
    expected = agreement_report(*zip(*rows, strict=True), level="nominal")
    assert snapshot.krippendorff_alpha == pytest.approx(expected.krippendorff_alpha)
    assert snapshot.fleiss_kappa == pytest.approx(expected.fleiss_kappa)
    assert snapshot.percent_agreement == pytest.approx(expected.percent_agreement)
    assert (snapshot.n_items, snapshot.n_annotators, snapshot.n_ratings) == (4, 3, 12)
    assert snapshot.counts["labels"] == {"sports": 6, "health": 3, "politics": 3}
    assert snapshot.counts["items_with_k_annotations"] == 4
    assert snapshot.level == "nominal"


def test_perfect_agreement_is_one_and_ordinal_schema_uses_ordinal_alpha():
    setup = make_setup(overlap=2, evaluators=2, labels=["1", "2", "3", "4", "5"], schema_type="ordinal")
    annotate(setup, [["1", "1"], ["5", "5"], ["3", "3"]])
    snapshot = agreement_snapshot_record(project=setup.project, language=setup.lang)
    assert snapshot.level == "ordinal"
    assert snapshot.krippendorff_alpha == pytest.approx(1.0)


def test_a_snapshot_is_recorded_after_aggregation(django_capture_on_commit_callbacks):
    setup = make_setup(overlap=2, evaluators=2)
    with django_capture_on_commit_callbacks(execute=True):
        annotate(setup, [["sports", "sports"]])
    snapshot = AgreementSnapshot.objects.get(project=setup.project, language=setup.lang)
    assert (snapshot.trigger, snapshot.n_ratings) == ("aggregation", 2)


def test_time_series_api():
    setup = make_setup(overlap=2, evaluators=2)
    annotate(setup, [["sports", "sports"]])
    staff = admin_user(is_staff=True)
    client = APIClient()
    client.force_authenticate(staff)
    url = f"/api/projects/{setup.project.slug}/agreement/"
    assert client.post(url + "record/").status_code == 201
    annotate(setup, [["sports", "health"]])
    client.post(url + "record/")
    series = client.get(url, {"language": "hau_Latn"}).json()
    # The first aggregation of the language snapshots at once; the second item is 2 labels later,
    # short of AGREEMENT_SNAPSHOT_EVERY_LABELS, so only the manual snapshot records it.
    assert [(point["n_items"], point["trigger"]) for point in series] == [
        (1, "aggregation"), (1, "manual"), (2, "manual")]
    assert series[0]["krippendorff_alpha"] is None or isinstance(series[0]["krippendorff_alpha"], float)
    assert len(client.get(url).json()) == 2  # whole-project snapshots
    client.force_authenticate(setup.evaluators[0])  # a pool member may read, not record
    assert client.get(url, {"language": "hau_Latn"}).status_code == 200
    assert client.post(url + "record/").status_code == 403
    client.force_authenticate(UserFactory())
    assert client.get(url).status_code == 404


def test_fleiss_kappa_is_computed_over_finished_items_while_others_still_collect_votes():
    from annotation.agreement import fleiss_kappa

    setup = make_setup(overlap=3, evaluators=3)
    annotate(setup, [["sports"] * 3, ["sports", "sports", "health"], ["politics"] * 3])
    ItemFactory(project=setup.project, language=setup.lang)
    label_next(setup.evaluators[0], "health")  # a fourth item with one vote of three so far
    snapshot = agreement_snapshot_record(project=setup.project, language=setup.lang)
    finished = list(Annotation.objects.exclude(item__annotations__evaluator=None).values_list("item_id", "label"))
    counts = {}
    for item_id, _ in finished:
        counts[item_id] = counts.get(item_id, 0) + 1
    finished = [(i, label) for i, label in finished if counts[i] == 3]
    expected = fleiss_kappa([i for i, _ in finished], [label for _, label in finished]).kappa
    assert snapshot.n_items == 4
    assert snapshot.fleiss_kappa == pytest.approx(expected)
    assert "3 items with all 3 ratings" in snapshot.counts["fleiss_kappa_note"]
