"""Django's admin: a role's model permissions open the pages, but a row of another project or pool stays
read-only for a manager who does not manage it (change and delete are refused)."""
from __future__ import annotations

import pytest
from django.urls import reverse

from parity.access import POOL_MANAGERS, PROJECT_MANAGERS
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_pool_manager_edits_their_own_pool_and_cannot_change_or_delete_another():
    project = f.ProjectFactory(slug="a")
    mine, theirs = f.pool(project, f.language("hau_Latn")), f.pool(project, f.language("amh_Ethi"))
    manager = f.role_user(POOL_MANAGERS, mine, username="poolmgr", is_staff=True)
    from django.test import Client

    client = Client()
    client.force_login(manager)
    own = client.get(reverse("admin:evaluators_pool_change", args=[mine.pk]))
    other = client.get(reverse("admin:evaluators_pool_change", args=[theirs.pk]))
    assert own.status_code == 200 and 'name="_save"' in own.content.decode()
    assert other.status_code == 200 and 'name="_save"' not in other.content.decode()  # read-only
    rate = theirs.control_rate
    posted = client.post(reverse("admin:evaluators_pool_change", args=[theirs.pk]),
                         {"control_rate": "0.9", "pass_mark": "0.1"})
    assert posted.status_code == 403
    theirs.refresh_from_db()
    assert theirs.control_rate == rate
    assert client.post(reverse("admin:evaluators_pool_delete", args=[theirs.pk]), {"post": "yes"}).status_code == 403


def test_a_project_manager_cannot_change_another_projects_item():
    a, b = f.ProjectFactory(slug="a"), f.ProjectFactory(slug="b")
    item = f.ItemFactory(project=b, text="not yours")
    manager = f.role_user(PROJECT_MANAGERS, a, username="pm", is_staff=True)
    from django.test import Client

    client = Client()
    client.force_login(manager)
    posted = client.post(reverse("admin:annotation_item_change", args=[item.pk]), {"text": "hijacked"})
    assert posted.status_code in (403, 404)
    item.refresh_from_db()
    assert item.text == "not yours"
