"""Account pages that belong to no app: personal API tokens."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from parity import access
from parity.tokens import personal_token_create, personal_token_revoke


def _login_required(view):
    from django.contrib.auth.decorators import login_required

    return access.declare(access.LOGIN)(login_required(view, login_url="evaluators:login"))


@_login_required
def tokens(request):
    """List my tokens, create one (its value is shown on this response only) or see why not."""
    from evaluators.models import PersonalToken

    created = None
    errors: dict = {}
    if request.method == "POST":
        days = request.POST.get("days", "")
        try:
            row, created = personal_token_create(
                user=request.user, name=request.POST.get("name", ""), days=int(days) if days.isdigit() else None)
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(request, _("Token %(name)s created: copy it now, it is not shown again.")
                             % {"name": row.name})
    response = render(request, "account/tokens.html", {
        "tokens": PersonalToken.objects.filter(user=request.user), "created": created, "errors": errors,
        "form": request.POST if errors else {},
    }, status=400 if errors else 200)
    response["Cache-Control"] = "no-store"  # the one page that ever shows a token's value
    return response


@_login_required
@require_POST
def token_revoke(request, key: str):
    if personal_token_revoke(user=request.user, token_key=key):
        messages.success(request, _("Token revoked."))
    else:
        messages.error(request, _("No such token."))
    return redirect("tokens")
