"""The prefetch window of the workspace: leases ahead, counted towards k, given back on leave."""
from __future__ import annotations

import json

import pytest
from django.urls import reverse

from annotation.models import Assignment, Item
from annotation.services import assignments_release, assignments_window
from evaluators.models import PoolMembership
from evaluators.services import membership_remove
from tests.annotation.conftest import make_setup

pytestmark = pytest.mark.django_db


def test_the_window_leases_ahead_and_each_lease_counts_towards_k():
    setup = make_setup(overlap=2, evaluators=3, items=3)
    a, b, c = setup.evaluators
    window = assignments_window(evaluator=a, size=3)
    assert len(window) == 3 and len({lease.item_id for lease in window}) == 3
    assert assignments_window(evaluator=a, size=3) == window  # the same leases again, in order
    assert len(assignments_window(evaluator=b, size=3)) == 3
    assert assignments_window(evaluator=c, size=3) == []  # every item has k = 2 leases already
    assert all(item.active_assignments == 2 for item in Item.objects.all())


def test_release_gives_items_back_to_everyone_including_the_evaluator():
    setup = make_setup(overlap=1, evaluators=2, items=2)
    a, b = setup.evaluators
    window = assignments_window(evaluator=a, size=2)
    assert assignments_window(evaluator=b, size=2) == []
    released = assignments_release(evaluator=b, public_ids=[str(lease.public_id) for lease in window])
    assert released == 0  # another evaluator's leases are not theirs to release
    assert assignments_release(evaluator=a, public_ids=[str(window[1].public_id), "not-a-uuid"]) == 1
    assert Assignment.objects.get(pk=window[1].pk).status == Assignment.Status.RELEASED
    assert [lease.item_id for lease in assignments_window(evaluator=b, size=2)] == [window[1].item_id]
    assignments_release(evaluator=b)
    again = assignments_window(evaluator=a, size=2)  # the released item may come back to its evaluator
    assert [lease.item_id for lease in again] == [window[0].item_id, window[1].item_id]
    assert Item.objects.get(pk=window[1].item_id).active_assignments == 1


def test_a_removed_member_gets_no_window_and_their_leases_go_back():
    setup = make_setup(overlap=1, evaluators=2, items=2)
    a, b = setup.evaluators
    assignments_window(evaluator=a, size=2)
    membership = PoolMembership.objects.get(user=a)
    membership_remove(membership=membership, reason="left the project")
    assert assignments_window(evaluator=a, size=2) == []
    assert len(assignments_window(evaluator=b, size=2)) == 2


def _workspace_queue(html: str) -> list:
    start = html.index('id="assignment-queue"')
    return json.loads(html[html.index(">", start) + 1:html.index("</script>", start)])


def test_the_workspace_page_and_each_answer_carry_the_window(client, settings):
    settings.WORKSPACE_PREFETCH = 3
    setup = make_setup(overlap=1, evaluators=1, items=5)
    user = setup.evaluators[0]
    client.force_login(user)
    html = client.get(reverse("annotation:workspace")).content.decode()
    ahead = _workspace_queue(html)
    assert len(ahead) == 2 and all(entry["labels"] and entry["urls"]["submit"] for entry in ahead)
    shown = Assignment.objects.filter(evaluator=user, status="active").exclude(
        public_id__in=[entry["id"] for entry in ahead]).get()
    body = client.post(reverse("annotation:assignment_submit", args=[shown.public_id]),
                       {"label": "sports", "idempotency_key": "k1"}, content_type="application/json").json()
    assert [entry["id"] for entry in body["queue"]][:2] == [entry["id"] for entry in ahead]
    assert len(body["queue"]) == 3 and body["next"]["id"] == ahead[0]["id"]
    released = client.post(reverse("annotation:workspace_release"), {"ids": [e["id"] for e in body["queue"]]})
    assert released.json() == {"released": 3}
    assert not Assignment.objects.filter(evaluator=user, status="active").exists()


def test_release_needs_a_login_and_a_list(client):
    setup = make_setup(overlap=1, evaluators=1, items=1)
    assert client.post(reverse("annotation:workspace_release"), {"ids": ["x"]}).status_code in (302, 403)
    client.force_login(setup.evaluators[0])
    bad = client.post(reverse("annotation:workspace_release"), {"ids": "nope"}, content_type="application/json")
    assert bad.status_code == 400 and "list" in bad.json()["error"]
