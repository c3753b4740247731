import pytest
from django.core import mail

from annotation.models import ApprovedLabel, Item
from annotation.selectors import consensus_agreement
from annotation.services import annotation_submit, assignment_next
from evaluators.models import ControlAnswer, GoldExposure, MembershipEvent, Notification, PoolMembership
from evaluators.selectors import control_accuracy, member_history
from evaluators.services import membership_reinstate
from tests import factories as f

pytestmark = pytest.mark.django_db
State = PoolMembership.State


@pytest.fixture
def setup():
    project = f.ProjectFactory(overlap=1)
    lang = f.language()
    f.published_guideline(project)
    pool = f.pool(project, lang, control_rate=1.0, control_window=5, control_min_answers=4, accuracy_floor=0.6,
                  gold_max_exposure=100)
    admin = f.pool_admin(pool, email="pool-admin@example.org")
    user = f.qualified_evaluator(project, lang)
    controls = [
        f.ItemFactory(project=project, language=lang, is_control=True, reference_label="politics") for _ in range(12)
    ]
    for _ in range(20):  # controls are mixed into real work only: without it nothing is served
        f.ItemFactory(project=project, language=lang)
    return project, pool, admin, user, controls


def answer_control(user, label, key):
    assignment = assignment_next(evaluator=user)
    assert assignment is not None and assignment.is_control
    return annotation_submit(evaluator=user, assignment_id=assignment.pk, label=label, idempotency_key=key)


def test_control_answers_are_scored_and_low_accuracy_suspends_with_email(setup, django_capture_on_commit_callbacks):
    project, pool, admin, user, _ = setup
    membership = PoolMembership.objects.get(user=user, pool=pool)
    answer_control(user, "politics", "k0")  # correct
    for i in range(1, 3):
        answer_control(user, "sports", f"k{i}")  # wrong
    stats = control_accuracy(membership=membership)
    assert (stats.correct, stats.total) == (1, 3)
    membership.refresh_from_db()
    assert membership.state == State.QUALIFIED  # under the minimum number of answers: no verdict yet
    with django_capture_on_commit_callbacks(execute=True):
        answer_control(user, "sports", "k3")  # 1/4 = 25% < 60%
    membership.refresh_from_db()
    assert membership.state == State.SUSPENDED
    event = MembershipEvent.objects.filter(membership=membership).last()
    assert event.to_state == "suspended" and event.actor is None
    assert "control accuracy 25% over the last 4 control items" in event.reason and "60%" in event.reason
    notification = Notification.objects.get(kind=Notification.Kind.SUSPENSION)
    assert notification.pool == pool and notification.emailed_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["pool-admin@example.org"] and user.username in mail.outbox[0].subject
    # Suspended: no more work.
    assert assignment_next(evaluator=user) is None


def test_reinstated_member_starts_a_fresh_window(setup, django_capture_on_commit_callbacks):
    project, pool, admin, user, _ = setup
    membership = PoolMembership.objects.get(user=user, pool=pool)
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(4):
            answer_control(user, "sports", f"k{i}")
    membership.refresh_from_db()
    assert membership.state == State.SUSPENDED
    membership_reinstate(membership=membership, actor=admin, reason="retrained")
    assert control_accuracy(membership=membership).total == 0
    answer_control(user, "sports", "after-1")
    membership.refresh_from_db()
    assert membership.state == State.QUALIFIED
    history = member_history(membership=membership)
    assert len(history.control_series) == 5 and history.control_now.total == 1
    assert [e.to_state for e in history.events][-2:] == ["suspended", "qualified"]


def test_gold_exposure_is_counted_and_flagged(setup, django_capture_on_commit_callbacks):
    project, pool, admin, user, controls = setup
    pool.gold_max_exposure = 1
    pool.control_min_answers = 100
    pool.save()
    with django_capture_on_commit_callbacks(execute=True):
        answer_control(user, "politics", "k1")
    exposure = GoldExposure.objects.get()
    assert exposure.times_shown == 1 and exposure.retire_flagged_at is not None
    assert Notification.objects.filter(kind=Notification.Kind.GOLD_RETIREMENT).count() == 1


def test_control_items_look_like_regular_items_in_the_api(setup, client):
    project, pool, admin, user, _ = setup
    client.force_login(user)
    response = client.post("/api/assignments/next/")
    assert response.status_code == 200
    body = response.json()
    assert Item.objects.get(public_id=body["item"]["id"]).is_control
    text = response.content.decode()
    for secret in ("is_control", "reference_label", "politics", "control"):
        assert secret not in text


def test_regular_annotations_record_guideline_version_and_agreement_with_consensus(
    django_capture_on_commit_callbacks,
):
    project = f.ProjectFactory(overlap=1)
    lang = f.language()
    user = f.qualified_evaluator(project, lang)
    items = [f.ItemFactory(project=project, language=lang) for _ in range(4)]
    for i, _ in enumerate(items):
        assignment = assignment_next(evaluator=user)
        with django_capture_on_commit_callbacks(execute=True):
            annotation = annotation_submit(evaluator=user, assignment_id=assignment.pk, label="sports",
                                           idempotency_key=f"r{i}")
        assert annotation.guideline_version.label == "1.0"
    assert not ControlAnswer.objects.exists()
    ApprovedLabel.objects.filter(item=items[0]).update(label="health")
    agreement = consensus_agreement(user=user, project=project)
    assert (agreement.matches, agreement.total, agreement.rate) == (3, 4, 0.75)
