"""Personal API tokens (django-rest-knox): hashed at rest, shown once, named, expiring, revocable.

``Authorization: Token <token>``, checked by :class:`TokenAuthentication` (knox's) against the
``evaluators.PersonalToken`` model (``KNOX_TOKEN_MODEL``).
A missing token on an API that needs one, or a bad or expired one,
is a 401 (with ``WWW-Authenticate: Token``); a valid token without the role is a 403.
"""
from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from knox.auth import TokenAuthentication as KnoxTokenAuthentication

MAX_TOKEN_DAYS = 366


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's token check without its per-request housekeeping.

    knox reads all of the user's other tokens on every request to delete the expired ones: one more
    query on every API call for something that changes nothing about this request. The presented token
    is still checked the same way (its digest, its expiry: an expired token is deleted and refused, a
    401); the user's other expired tokens are purged when they create a token
    (:func:`personal_token_create`) and are refused anyway if presented.
    """

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            from knox.signals import token_expired

            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False


@transaction.atomic
def personal_token_create(*, user, name: str, days: int | None):
    """A new token for ``user``: returns (row, the token string, which is never stored or shown again)."""
    from knox.settings import knox_settings

    from evaluators.models import PersonalToken

    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "give the token a name, e.g. 'import script'"})
    if len(name) > 100:
        raise ValidationError({"name": "a token name has at most 100 characters"})
    if days is None or not 1 <= days <= MAX_TOKEN_DAYS:
        raise ValidationError({"days": f"a token expires after 1 to {MAX_TOKEN_DAYS} days"})
    # Expired tokens are purged here rather than on every request (TokenAuthentication above).
    PersonalToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    limit = knox_settings.TOKEN_LIMIT_PER_USER
    if limit is not None and PersonalToken.objects.filter(user=user).count() >= limit:
        raise ValidationError({"name": f"you already have {limit} tokens: revoke one first"})
    return PersonalToken.objects.create(user=user, expiry=timedelta(days=days), name=name)


@transaction.atomic
def personal_token_revoke(*, user, token_key: str) -> bool:
    """Revoke one of ``user``'s own tokens (another user's is not found)."""
    from evaluators.models import PersonalToken

    deleted, _ = PersonalToken.objects.filter(user=user, token_key=token_key).delete()
    return bool(deleted)
