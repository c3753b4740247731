"""Personal API tokens: created on a page, shown once, hashed at rest, expiring, revocable;
401 for a missing or bad token, 403 for a valid token without the role."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from evaluators.models import PersonalToken
from tests.factories import UserFactory, admin_user

pytestmark = pytest.mark.django_db


def _create(client, name="import script", days="30"):
    return client.post(reverse("tokens"), {"name": name, "days": days})


def test_token_page_creates_a_named_token_shown_once_and_stored_hashed(client):
    user = UserFactory()
    client.force_login(user)
    response = _create(client)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    token = response.context["created"]
    assert len(token) == 64 and token.encode() in response.content
    row = PersonalToken.objects.get(user=user)
    assert row.name == "import script" and token not in (row.digest, row.token_key)  # only the digest is kept
    assert timezone.now() + timedelta(days=29) < row.expiry < timezone.now() + timedelta(days=31)
    again = client.get(reverse("tokens"))
    assert token.encode() not in again.content and b"import script" in again.content
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/assignments/").status_code == 200


@pytest.mark.parametrize("name,days,field", [("", "30", "name"), ("x" * 101, "30", "name"), ("ok", "0", "days"),
                                             ("ok", "999", "days"), ("ok", "soon", "days")])
def test_bad_token_requests_name_the_problem(client, name, days, field):
    client.force_login(UserFactory())
    response = _create(client, name, days)
    assert response.status_code == 400 and field in response.context["errors"]
    assert not PersonalToken.objects.exists()


def test_revoke_own_token_only(client):
    owner, other = UserFactory(), UserFactory()
    client.force_login(owner)
    token = _create(client).context["created"]
    key = PersonalToken.objects.get(user=owner).token_key
    client.force_login(other)
    client.post(reverse("token_revoke", kwargs={"key": key}))
    assert PersonalToken.objects.filter(user=owner).exists()  # another user cannot revoke it
    client.force_login(owner)
    client.post(reverse("token_revoke", kwargs={"key": key}))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/assignments/").status_code == 401


def test_expired_token_is_refused():
    from parity.tokens import personal_token_create

    user = UserFactory()
    row, token = personal_token_create(user=user, name="old", days=1)
    PersonalToken.objects.filter(pk=row.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/assignments/").status_code == 401


def test_an_expired_token_is_deleted_when_used_and_the_others_when_a_token_is_created():
    """Authentication reads the presented token alone (knox read all of the user's tokens per request);
    an expired one is still refused and deleted, and the user's other expired tokens go at creation."""
    from parity.tokens import personal_token_create

    user = UserFactory()
    used, used_token = personal_token_create(user=user, name="used", days=1)
    other, _ = personal_token_create(user=user, name="other", days=1)
    live, live_token = personal_token_create(user=user, name="live", days=1)
    PersonalToken.objects.filter(pk__in=[used.pk, other.pk]).update(expiry=timezone.now() - timedelta(seconds=1))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {live_token}")
    assert api.get("/api/assignments/").status_code == 200
    assert PersonalToken.objects.filter(user=user).count() == 3  # no housekeeping in a live request
    api.credentials(HTTP_AUTHORIZATION=f"Token {used_token}")
    assert api.get("/api/assignments/").status_code == 401
    assert set(PersonalToken.objects.filter(user=user).values_list("name", flat=True)) == {"other", "live"}
    personal_token_create(user=user, name="new", days=1)
    assert set(PersonalToken.objects.filter(user=user).values_list("name", flat=True)) == {"live", "new"}


@pytest.mark.parametrize("header", [None, "Token nonsense", "Token " + "0" * 64, "Token"])
def test_missing_or_bad_token_is_401_with_a_challenge(header):
    api = APIClient()
    if header:
        api.credentials(HTTP_AUTHORIZATION=header)
    response = api.get("/api/training-runs/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_valid_token_without_the_role_is_403_and_with_it_200():
    from parity.tokens import personal_token_create

    _, plain = personal_token_create(user=UserFactory(), name="t", days=1)
    _, admin = personal_token_create(user=admin_user(), name="t", days=1)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {plain}")
    assert api.get("/api/training-runs/").status_code == 403
    api.credentials(HTTP_AUTHORIZATION=f"Token {admin}")
    assert api.get("/api/training-runs/").status_code == 200


def test_token_page_needs_login(client):
    response = client.get(reverse("tokens"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
