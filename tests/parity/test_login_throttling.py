"""Login throttling (django-axes): repeated wrong passwords lock the account from that address,
even for the right password afterwards, until an admin unlocks it."""
import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from tests.factories import UserFactory, admin_user

pytestmark = pytest.mark.django_db


def _login(client, username, password):
    return client.post(reverse("evaluators:login"), {"username": username, "password": password})


def test_wrong_passwords_lock_out_then_admin_unlocks(client, settings):
    UserFactory(username="amina")  # password "pw-for-tests"
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "amina", "wrong").status_code == 200  # the form again, with an error
    assert _login(client, "amina", "wrong").status_code == 429  # the limit-th failure locks
    locked = _login(client, "amina", "pw-for-tests")
    assert locked.status_code == 429 and b"Too many failed logins" in locked.content
    assert "_auth_user_id" not in client.session

    admin_client = client.__class__()
    admin_client.force_login(admin_user(username="root", is_staff=True))
    attempt = AccessAttempt.objects.get(username="amina")
    response = admin_client.post(reverse("admin:axes_accessattempt_changelist"),
                                 {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"})
    assert response.status_code == 302 and not AccessAttempt.objects.exists()
    ok = _login(client, "amina", "pw-for-tests")
    assert ok.status_code == 302 and client.session["_auth_user_id"]


def test_a_success_before_the_limit_resets_the_count(client, settings):
    UserFactory(username="juma")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "juma", "wrong")
    assert _login(client, "juma", "pw-for-tests").status_code == 302
    client.logout()
    assert _login(client, "juma", "wrong").status_code == 200
    assert _login(client, "juma", "pw-for-tests").status_code == 302


def test_lockout_is_per_user_and_address(client, settings):
    UserFactory(username="a1")
    UserFactory(username="a2")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "a1", "wrong")
    assert _login(client, "a2", "pw-for-tests").status_code == 302
