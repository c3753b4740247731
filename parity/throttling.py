"""Abuse limits shared by the HTML forms and the API.

One throttle per scope, counted in Django's default cache, which the settings make a shared one
(the database, or Redis through ``CACHE_URL``): a limit kept per process lets N workers accept N
times the limit. The client is the address as seen through ``TRUSTED_PROXY_COUNT`` proxies we run:
with 0, ``X-Forwarded-For`` is ignored, because any client can send it.
"""
from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or with N trusted proxies the N-th address from the right
    of X-Forwarded-For (each proxy appends the address it was connected from; entries further left
    were written by the client and prove nothing)."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    trusted = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if trusted <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    return forwarded[-trusted] if len(forwarded) >= trusted else forwarded[0]


class SharedRateThrottle(SimpleRateThrottle):
    """A DRF throttle keyed on :func:`client_address`, usable from a plain Django view as well."""

    scope = ""
    rate_setting = ""

    def get_rate(self) -> str:
        # Read at call time so a changed setting (tests, a redeploy) takes effect.
        return getattr(settings, self.rate_setting)

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}


class ReportThrottle(SharedRateThrottle):
    """Public problem reports: the HTML form and ``POST /api/reports/`` draw on one allowance."""

    scope = "reports"
    rate_setting = "REPORT_THROTTLE_RATE"


def throttled_wait(throttle_class: type[SharedRateThrottle], request) -> float | None:
    """For a plain view: None when the request may go on (and is counted), else seconds to wait."""
    throttle = throttle_class()
    if throttle.allow_request(request, None):
        return None
    return throttle.wait() or 1.0
