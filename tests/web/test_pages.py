"""Django test-client tests of the HTML pages: access rules, scoping, escaping, direction."""
import pytest
from django.urls import reverse

from annotation.models import Annotation, Assignment, Item, Report
from annotation.services import assignment_next
from evaluators.models import PoolMembership
from tests.factories import ItemFactory, language, qualified_evaluator

pytestmark = pytest.mark.django_db

EVALUATOR_PAGES = ["annotation:dashboard", "annotation:workspace"]
CONSOLE_PAGES = [
    "annotation:console", "evaluators:console_guidelines", "annotation:agreement", "annotation:report_triage",
    "annotation:review_queue", "learner:parity", "learner:runs", "learner:runs_status",
]


@pytest.mark.parametrize("name", EVALUATOR_PAGES + CONSOLE_PAGES)
def test_login_required(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("evaluators:login"))


def test_login_page_and_login_lands_on_dashboard(client, evaluator):
    assert client.get(reverse("evaluators:login")).status_code == 200
    response = client.post(reverse("evaluators:login"), {"username": "amina", "password": "pw-for-tests"})
    assert response.status_code == 302 and response["Location"] == reverse("annotation:dashboard")
    page = client.get(reverse("annotation:dashboard"))
    assert page.status_code == 200
    assert "Hausa" in page.content.decode()


@pytest.mark.parametrize("name", CONSOLE_PAGES)
def test_console_pages_are_staff_only(ev_client, name):
    assert ev_client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", CONSOLE_PAGES)
def test_console_pages_open_for_staff(client, staff, project, name):
    client.force_login(staff)
    assert client.get(reverse(name)).status_code == 200


def test_console_post_actions_are_staff_only(ev_client, project):
    assert ev_client.post(reverse("learner:retrain"), {"project": project.pk}).status_code == 403
    assert ev_client.post(reverse("evaluators:console_guideline_edit", args=[project.slug]),
                          {"body": "x"}).status_code == 403


def test_dashboard_shows_state_counts_and_pending_guideline(ev_client, project, hausa, evaluator):
    from evaluators.services import guideline_draft, guideline_publish

    guideline_publish(version=guideline_draft(project=project, body="# v2", bump="minor"))
    html = ev_client.get(reverse("annotation:dashboard")).content.decode()
    assert "Guidelines to acknowledge" in html
    assert 'data-test="state">qualified' in html.lower() or "Qualified" in html


def test_workspace_shows_item_and_labels(ev_client, items):
    html = ev_client.get(reverse("annotation:workspace")).content.decode()
    assert "labari 0" in html
    for label in ("politics", "sports", "health"):
        assert f'value="{label}"' in html
    assert 'lang="ha" dir="ltr"' in html  # BCP 47, not ISO 639-3


def test_evaluator_cannot_open_another_evaluators_assignment(client, project, hausa, items, evaluator):
    other = qualified_evaluator(project, hausa, username="bilal")
    theirs = assignment_next(evaluator=other)
    client.force_login(evaluator)
    assert client.get(reverse("annotation:assignment", args=[theirs.public_id])).status_code == 404
    response = client.post(reverse("annotation:assignment_submit", args=[theirs.public_id]),
                           {"label": "sports", "idempotency_key": "k1"})
    assert response.status_code == 404
    assert client.post(reverse("annotation:assignment_skip", args=[theirs.public_id])).status_code == 404
    flag_url = reverse("annotation:assignment_flag", args=[theirs.public_id])
    assert client.post(flag_url, {"reason": "other"}).status_code == 404
    assert not Annotation.objects.exists()


def test_submit_returns_next_item_as_json(ev_client, items, evaluator):
    first = assignment_next(evaluator=evaluator)
    response = ev_client.post(
        reverse("annotation:assignment_submit", args=[first.public_id]),
        {"label": "sports", "idempotency_key": "abc", "time_spent_ms": 1234},
        content_type="application/json", HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["submitted"]["label"] == "sports"
    assert body["next"]["id"] != str(first.public_id) and body["next"]["text"].startswith("labari")
    assert body["progress"]["session_done"] == 1
    assert body["undo"]["label"] == "sports"
    annotation = Annotation.objects.get()
    assert annotation.time_spent_ms == 1234
    # a retried request is idempotent
    again = ev_client.post(
        reverse("annotation:assignment_submit", args=[first.public_id]), {"label": "sports", "idempotency_key": "abc"},
        content_type="application/json", HTTP_ACCEPT="application/json",
    )
    assert again.status_code == 200 and Annotation.objects.count() == 1


def test_submit_without_javascript_redirects_back_to_the_workspace(ev_client, items, evaluator):
    first = assignment_next(evaluator=evaluator)
    response = ev_client.post(reverse("annotation:assignment_submit", args=[first.public_id]),
                              {"label": "health", "idempotency_key": "nojs"})
    assert response.status_code == 302 and response["Location"] == reverse("annotation:workspace")
    assert Annotation.objects.get().label == "health"


def test_skip_and_flag(ev_client, items, evaluator):
    first = assignment_next(evaluator=evaluator)
    response = ev_client.post(reverse("annotation:assignment_skip", args=[first.public_id]), {},
                              content_type="application/json", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    first.refresh_from_db()
    assert first.status == Assignment.Status.SKIPPED
    second = Assignment.objects.get(public_id=response.json()["next"]["id"])
    response = ev_client.post(reverse("annotation:assignment_flag", args=[second.public_id]),
                              {"reason": "offensive", "comment": "rude"},
                              content_type="application/json", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert second.item.flags.get().reason == "offensive"


def test_item_text_is_escaped(ev_client, project, hausa, evaluator):
    ItemFactory(project=project, language=hausa, text='<script>alert("x")</script><img src=x onerror=alert(1)>')
    html = ev_client.get(reverse("annotation:workspace")).content.decode()
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_item_text_is_escaped_in_the_json_payload(ev_client, project, hausa, evaluator):
    ItemFactory(project=project, language=hausa, text="</script><script>alert(1)</script>")
    html = ev_client.get(reverse("annotation:workspace")).content.decode()
    data_start = html.index('id="assignment-data"')
    assert "</script><script>" not in html[data_start:data_start + 400]


def test_rtl_item_is_rendered_right_to_left(client, project, urdu):
    project.languages.add(urdu)
    user = qualified_evaluator(project, urdu, username="zara")
    ItemFactory(project=project, language=urdu, text="یہ ایک جملہ ہے")
    client.force_login(user)
    html = client.get(reverse("annotation:workspace")).content.decode()
    assert 'lang="ur" dir="rtl"' in html  # BCP 47, not ISO 639-3
    assert "یہ ایک جملہ ہے" in html


def test_ui_language_urdu_sets_page_direction(client, project):
    client.cookies["django_language"] = "ur"
    html = client.get(reverse("annotation:report_create")).content.decode()
    assert '<html lang="ur" dir="rtl">' in html


def test_undo_link_to_another_users_annotation_is_404(client, project, hausa, items, evaluator):
    other = qualified_evaluator(project, hausa, username="bilal")
    theirs = assignment_next(evaluator=other)
    from annotation.services import annotation_submit

    annotation = annotation_submit(evaluator=other, assignment_id=theirs.pk, label="sports", idempotency_key="o")
    client.force_login(evaluator)
    assert client.post(reverse("annotation:annotation_undo", args=[annotation.pk])).status_code == 404


def test_guideline_acknowledge(client, project, hausa):
    user = qualified_evaluator(project, hausa, username="nasir", acknowledge=False)
    client.force_login(user)
    assert "Guidelines to acknowledge" in client.get(reverse("annotation:dashboard")).content.decode()
    page = client.get(reverse("evaluators:guideline", args=[project.slug]))
    assert page.status_code == 200 and "<strong>topic</strong>" in page.content.decode()
    client.post(reverse("evaluators:guideline", args=[project.slug]))
    assert "Guidelines to acknowledge" not in client.get(reverse("annotation:dashboard")).content.decode()


def test_guideline_of_a_project_i_am_not_in_is_404(client, project, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="stranger"))
    assert client.get(reverse("evaluators:guideline", args=[project.slug])).status_code == 404


# --- reports -------------------------------------------------------------------------------------

def _report_data(**overrides):
    data = {"language": "hau_Latn", "input_text": "Ina kwana?", "model_output": "Good evening in French",
            "category": "wrong_language", "suggested_correction": "", "contact": "", "website": ""}
    data.update(overrides)
    return data


def test_report_form_renders_with_labels(client, project):
    html = client.get(reverse("annotation:report_create")).content.decode()
    assert '<label for="id_input_text">' in html
    assert 'class="hp" aria-hidden="true"' in html
    assert '<option value="hau_Latn" lang="ha" dir="ltr">Hausa</option>' in html


def test_report_is_created_and_status_page_shows_it(client, project):
    response = client.post(reverse("annotation:report_create"), _report_data())
    report = Report.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("annotation:report_status", args=[report.reference])
    page = client.get(response["Location"]).content.decode()
    assert report.reference in page and "Ina kwana?" in page


def test_report_honeypot_stores_nothing(client, project):
    response = client.post(reverse("annotation:report_create"), _report_data(website="http://spam.example"))
    assert response.status_code == 200
    assert not Report.objects.exists()


@pytest.mark.parametrize("missing", ["language", "input_text", "model_output", "category"])
def test_report_missing_fields(client, project, missing):
    response = client.post(reverse("annotation:report_create"), _report_data(**{missing: ""}))
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert not Report.objects.exists()


def test_report_text_is_escaped_on_status_and_triage(client, project, staff):
    client.post(reverse("annotation:report_create"), _report_data(input_text="<script>alert(1)</script>"))
    report = Report.objects.get()
    page = client.get(reverse("annotation:report_status", args=[report.reference])).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    client.force_login(staff)
    triage = client.get(reverse("annotation:report_triage")).content.decode()
    assert "<script>alert(1)</script>" not in triage


def test_unknown_report_reference_is_404(client, db):
    assert client.get(reverse("annotation:report_status", args=["nope"])).status_code == 404


def test_admin_accepts_report_and_item_is_queued(client, project, staff):
    client.post(reverse("annotation:report_create"), _report_data())
    report = Report.objects.get()
    client.force_login(staff)
    response = client.post(reverse("annotation:report_triage_action", args=[report.pk, "accept"]))
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == Report.Status.ACCEPTED
    assert report.item.status == Item.Status.OPEN and report.item.source == Item.Source.REPORT


def test_reject_needs_a_reason(client, project, staff):
    client.post(reverse("annotation:report_create"), _report_data())
    report = Report.objects.get()
    client.force_login(staff)
    client.post(reverse("annotation:report_triage_action", args=[report.pk, "reject"]), {"resolution": ""})
    report.refresh_from_db()
    assert report.status == Report.Status.NEW
    client.post(reverse("annotation:report_triage_action", args=[report.pk, "reject"]), {"resolution": "spam"})
    report.refresh_from_db()
    assert report.status == Report.Status.REJECTED


# --- console -------------------------------------------------------------------------------------

def test_agreement_dashboard_draws_chart_and_table(client, project, hausa, staff):
    from annotation.models import AgreementSnapshot

    for alpha in (0.4, 0.6):
        AgreementSnapshot.objects.create(project=project, language=hausa, krippendorff_alpha=alpha,
                                         fleiss_kappa=alpha - 0.05, n_items=10, n_annotators=3, n_ratings=30)
    client.force_login(staff)
    html = client.get(reverse("annotation:agreement")).content.decode()
    assert 'data-chart="chart-data-' in html and "0.600" in html and "0.550" in html


def test_parity_dashboard_shows_gap(client, project, hausa, staff):
    from learner.models import ModelVersion

    yor = language("yor_Latn")
    project.languages.add(yor)
    ModelVersion.objects.create(project=project, language=hausa, backend="ngram", adapter_path="a", macro_f1=0.8,
                                status=ModelVersion.Status.CHAMPION)
    ModelVersion.objects.create(project=project, language=yor, backend="ngram", adapter_path="b", macro_f1=0.5,
                                status=ModelVersion.Status.CHAMPION)
    client.force_login(staff)
    html = client.get(reverse("learner:parity")).content.decode()
    assert 'data-chart="chart-data-' in html and "0.300" in html


def test_runs_status_json_and_promote(client, project, hausa, staff):
    from learner.models import ModelVersion, TrainingRun

    TrainingRun.objects.create(project=project, status="running", progress=0.5, message="epoch 1")
    candidate = ModelVersion.objects.create(project=project, language=hausa, backend="ngram", adapter_path="a",
                                            macro_f1=0.7)
    client.force_login(staff)
    body = client.get(reverse("learner:runs_status")).json()
    assert body["active"] is True and body["training"][0]["percent"] == 50
    client.post(reverse("learner:model_action", args=[candidate.pk, "promote"]), {"confirm": "yes"})
    candidate.refresh_from_db()
    assert candidate.status == ModelVersion.Status.CHAMPION


def test_publish_guideline_and_diff(client, project, staff, evaluator):
    client.force_login(staff)
    response = client.post(reverse("evaluators:console_guideline_edit", args=[project.slug]),
                           {"body": "# Guideline\n\nPick the **topic**.\n\nNew rule: flag spam.", "bump": "minor"})
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "<ins>+ New rule: flag spam.</ins>" in html
    membership = PoolMembership.objects.get(user=evaluator)
    assert membership.state == PoolMembership.State.QUALIFIED


def test_undo_brings_the_last_item_back_and_relabel_updates_it(ev_client, items, evaluator):
    first = assignment_next(evaluator=evaluator)
    body = ev_client.post(reverse("annotation:assignment_submit", args=[first.public_id]),
                          {"label": "sports", "idempotency_key": "u1"},
                          content_type="application/json", HTTP_ACCEPT="application/json").json()
    undo_url = body["undo"]["url"]
    back = ev_client.post(undo_url, {}, content_type="application/json", HTTP_ACCEPT="application/json").json()
    assert back["next"]["id"] == str(first.public_id) and back["next"]["editing"]["label"] == "sports"
    relabel = ev_client.post(back["next"]["urls"]["submit"], {"label": "health"},
                             content_type="application/json", HTTP_ACCEPT="application/json")
    assert relabel.status_code == 200
    assert relabel.json()["next"]["id"] == body["next"]["id"]  # the open lease continues
    assert list(Annotation.objects.values_list("label", flat=True)) == ["health"]
    # without JavaScript: the undo form leads to an edit page of the same item
    response = ev_client.post(undo_url)
    assert response.status_code == 302
    page = ev_client.get(response["Location"]).content.decode()
    assert 'aria-pressed="true"' in page and first.item.text in page


def test_undo_is_refused_once_the_item_is_approved(ev_client, items, evaluator, staff):
    from annotation.services import review_override

    first = assignment_next(evaluator=evaluator)
    ev_client.post(reverse("annotation:assignment_submit", args=[first.public_id]),
                   {"label": "sports", "idempotency_key": "a"})
    annotation = Annotation.objects.get()
    item = Item.objects.get(pk=first.item_id)
    Item.objects.filter(pk=item.pk).update(status=Item.Status.ADJUDICATION)
    review_override(item=item, label="health", reviewer=staff)
    response = ev_client.post(reverse("annotation:annotation_undo", args=[annotation.pk]),
                              {}, content_type="application/json", HTTP_ACCEPT="application/json")
    assert response.status_code == 409
    response = ev_client.post(reverse("annotation:annotation_relabel", args=[annotation.pk]),
                              {"label": "politics"}, content_type="application/json", HTTP_ACCEPT="application/json")
    assert response.status_code == 409
    assert Annotation.objects.get().label == "sports"


def test_relabel_of_another_users_annotation_is_404(client, project, hausa, items, evaluator):
    from annotation.services import annotation_submit

    other = qualified_evaluator(project, hausa, username="bilal")
    theirs = assignment_next(evaluator=other)
    annotation = annotation_submit(evaluator=other, assignment_id=theirs.pk, label="sports", idempotency_key="o")
    client.force_login(evaluator)
    assert client.post(reverse("annotation:annotation_relabel", args=[annotation.pk]),
                       {"label": "health"}).status_code == 404
    assert client.get(reverse("annotation:annotation_edit", args=[annotation.pk])).status_code == 404
    annotation.refresh_from_db()
    assert annotation.label == "sports"


def test_review_queue_shows_votes_side_by_side_and_override(
    client, project, hausa, staff, django_capture_on_commit_callbacks
):
    from annotation.services import annotation_submit

    item = ItemFactory(project=project, language=hausa, text="rigima")
    for name, label in (("e1", "sports"), ("e2", "health"), ("e3", "politics")):
        user = qualified_evaluator(project, hausa, username=name)
        assignment = assignment_next(evaluator=user)
        with django_capture_on_commit_callbacks(execute=True):
            annotation_submit(evaluator=user, assignment_id=assignment.pk, label=label, idempotency_key=name)
    item.refresh_from_db()
    assert item.status == Item.Status.ADJUDICATION
    client.force_login(staff)
    html = client.get(reverse("annotation:review_queue")).content.decode()
    for name in ("e1", "e2", "e3"):
        assert name in html
    client.post(reverse("annotation:review_resolve", args=[item.pk]), {"action": "override", "label": "health"})
    item.refresh_from_db()
    assert item.status == Item.Status.APPROVED and item.approved_label.label == "health"


def test_calibration_flow_shows_mistakes_with_explanations(client, project, hausa):
    from evaluators.models import Pool
    from evaluators.services import GoldItem, calibration_round_create, membership_invite
    from tests.factories import UserFactory

    pool = Pool.objects.create(project=project, language=hausa, control_rate=0, pass_mark=0.5)
    user = UserFactory(username="newbie")
    membership_invite(pool=pool, user=user)
    calibration_round_create(pool=pool, items=[
        GoldItem(text="gold one", reference_label="politics", explanation="Parliament is politics."),
        GoldItem(text="gold two", reference_label="sports", explanation="A match is sports."),
    ])
    client.force_login(user)
    url = reverse("evaluators:calibration", args=[pool.pk])
    for _ in range(2):
        page = client.get(url)
        item_id = page.context["item"].pk
        response = client.post(url, {"item": item_id, "label": "politics"})
    result = client.get(response["Location"]).content.decode()
    assert "A match is sports." in result and "Parliament is politics." not in result
    assert "Passed" in result
    assert PoolMembership.objects.get(user=user).state == PoolMembership.State.QUALIFIED


@pytest.mark.parametrize(("lang", "heading", "direction"), [
    ("fr", "Signaler un problème dans une réponse", "ltr"),
    ("sw", "Ripoti tatizo la jibu", "ltr"),
    ("ur", "کسی جواب میں مسئلہ رپورٹ کریں", "rtl"),
])
def test_report_form_is_translated(client, project, lang, heading, direction):
    client.cookies["django_language"] = lang
    html = client.get(reverse("annotation:report_create")).content.decode()
    assert heading in html
    assert f'<html lang="{lang}" dir="{direction}">' in html


def test_runs_page_shows_model_metrics_and_retrain_queues_a_run(client, project, hausa, staff, monkeypatch):
    from learner import services as learner_services
    from learner.models import ModelVersion, TrainingRun

    ModelVersion.objects.create(project=project, language=hausa, backend="ngram", adapter_path="a", macro_f1=0.7,
                                metrics={"accuracy": 0.75, "per_class": {"sports": 0.8}})
    client.force_login(staff)
    html = client.get(reverse("learner:runs")).content.decode()
    assert "accuracy 0.750" in html
    real = learner_services.training_run_create
    monkeypatch.setattr(learner_services, "training_run_create",
                        lambda **kwargs: real(**{**kwargs, "dispatch": False}))
    client.post(reverse("learner:retrain"), {"project": project.pk, "backend": "ngram"})
    run = TrainingRun.objects.get()
    assert run.trigger == "console" and run.status == "queued"
