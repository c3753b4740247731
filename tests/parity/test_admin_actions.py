"""Admin actions touch only the rows the user's role covers (Django's model permission only shows the
action); the rest are skipped with a message."""
import pytest
from django.urls import reverse

from evaluators.models import PoolMembership
from learner.models import ModelVersion
from parity.access import POOL_MANAGERS, PROJECT_MANAGERS
from tests import factories as f

pytestmark = pytest.mark.django_db


def _run_action(client, model: str, action: str, pks):
    url = reverse(f"admin:{model}_changelist")
    return client.post(url, {"action": action, "_selected_action": [str(pk) for pk in pks]}, follow=True)


def test_pool_manager_suspends_only_members_of_their_pool(client):
    mine, theirs = f.pool(), f.pool(project=f.ProjectFactory())
    manager = f.role_user(POOL_MANAGERS, mine, username="pm", is_staff=True)
    own = f.member(mine, state=PoolMembership.State.QUALIFIED)
    other = f.member(theirs, state=PoolMembership.State.QUALIFIED)
    client.force_login(manager)
    response = _run_action(client, "evaluators_poolmembership", "membership_suspended", [own.pk, other.pk])
    own.refresh_from_db()
    other.refresh_from_db()
    assert (own.state, other.state) == ("suspended", "qualified")
    assert b"1 selected row skipped" in response.content


def test_project_manager_cannot_promote_another_projects_model(client):
    a, b = f.ProjectFactory(), f.ProjectFactory()
    hau = f.language()
    version = ModelVersion.objects.create(project=b, language=hau, backend="ngram", adapter_path="x", macro_f1=0.1)
    manager = f.role_user(PROJECT_MANAGERS, a, username="pm", is_staff=True)
    from django.contrib.auth.models import Permission

    manager.user_permissions.add(*Permission.objects.filter(codename__in=["change_modelversion",
                                                                           "view_modelversion"]))
    client.force_login(manager)
    _run_action(client, "learner_modelversion", "make_champion", [version.pk])
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.CANDIDATE


def _promotable_item(project):
    """A project whose one approved item is fit to become a control: two evaluators, each right on a
    gold control, agreed on it."""
    from annotation.models import Item
    from tests.annotation.conftest import label_next

    hau = f.language()
    project.languages.add(hau)
    f.published_guideline(project)
    pool = f.pool(project, hau, control_rate=1.0, accuracy_floor=0.5)
    evaluators = [f.qualified_evaluator(project, hau) for _ in range(2)]
    f.ItemFactory(project=project, language=hau, is_control=True, reference_label="politics")
    item = f.ItemFactory(project=project, language=hau)
    for user in evaluators:  # the control first (rate 1.0), then the item once the rate is 0
        label_next(user, "politics")
    pool.control_rate = 0.0
    pool.save()
    for user in evaluators:
        label_next(user, "sports")
    item.refresh_from_db()
    assert item.status == Item.Status.APPROVED
    return item


def test_project_manager_promotes_controls_only_in_their_project(client):
    """Before: the action promoted approved items of every selected project, the manager's or not."""
    from django.contrib.auth.models import Permission

    mine, theirs = f.ProjectFactory(overlap=2), f.ProjectFactory(overlap=2)
    own_item, their_item = _promotable_item(mine), _promotable_item(theirs)
    manager = f.role_user(PROJECT_MANAGERS, mine, username="pm", is_staff=True)
    manager.user_permissions.add(*Permission.objects.filter(codename__in=["change_project", "view_project"]))
    client.force_login(manager)
    response = _run_action(client, "annotation_project", "promote_controls", [mine.pk, theirs.pk])
    own_item.refresh_from_db()
    their_item.refresh_from_db()
    assert (own_item.is_control, their_item.is_control) == (True, False)
    assert b"1 selected row skipped" in response.content
