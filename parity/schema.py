"""The OpenAPI schema describes every response an endpoint can give, errors included.

drf-spectacular documents the success bodies it can infer; this AutoSchema adds the error bodies the
platform's views really send (DRF's exception handler): 400 for bad input on writes and on query
parameters, 401/403 where a token or a role is needed, 404 where the path names an object, 409 for
writes the object's state refuses now, 429 where a throttle applies, 414 for a URL too long for
the server in front. schemathesis (``.ci/schemathesis``)
checks the live app against it.
"""
from __future__ import annotations

from drf_spectacular.openapi import AutoSchema

from parity import access

DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
# DRF's validation errors: {"field": ["message", ...], ...} or {"detail": ...} (or, rarely, a list).
VALIDATION = {"oneOf": [{"type": "object", "additionalProperties": True}, {"type": "array", "items": {}}]}


def _response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


class ParityAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction=direction)
        method = self.method.upper()
        rule = access.view_rule(self.view, getattr(self.view, "action", None))
        public = rule == access.PUBLIC or getattr(self.view, "authentication_classes", None) == []
        extra = {}
        if method in ("POST", "PUT", "PATCH") or self._get_filter_parameters() or self.get_override_parameters():
            extra["400"] = _response("the input is invalid: each field names its problem", VALIDATION)
        if not public:
            extra["401"] = _response("no token, or a bad or expired one (send `Authorization: Token ...`)", DETAIL)
            extra["403"] = _response("the token or session is valid but lacks the role for this object", DETAIL)
        if "{" in self.path or method != "GET":
            # a path id, or an id in the body or query, that names no object this user may see
            extra["404"] = _response("no such object, or not one this user may see", DETAIL)
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            extra["409"] = _response("the object's current state does not allow this now", DETAIL)
        if getattr(self.view, "throttle_classes", None):
            extra["429"] = _response("too many requests from this client: retry after `Retry-After` seconds",
                                     DETAIL)
        # gunicorn (and most proxies) refuse a request line over ~4 KB before the app sees it
        extra["414"] = {"description": "the URL (path and query) is too long for the server"}
        for code, response in extra.items():
            responses.setdefault(code, response)
        return responses
