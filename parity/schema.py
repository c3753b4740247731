"""The OpenAPI schema as people and tools read it.

- Every operation gets a one-line summary: drf-spectacular leaves ``summary`` empty unless each view
  is decorated; deriving it here (the handler's own docstring first, else "<action> <resource>")
  keeps the API modules free of schema boilerplate, and an explicit ``@extend_schema(summary=...)``
  still wins. A browser opening /api/schema/ lands on the rendered docs (``parity.schema_views``).
- Every response an endpoint can give is described, errors included: drf-spectacular documents the
  success bodies it can infer; this AutoSchema adds the error bodies the platform's views really send
  (DRF's exception handler): 400 for bad input on writes and on query parameters, 401/403 where a token
  or a role is needed, 404 where the path names an object, 409 for writes the object's state refuses
  now, 429 where a throttle applies, 414 for a URL too long for the server in front. schemathesis
  (``.ci/schemathesis``) checks the live app against it.
"""
from __future__ import annotations

import inspect

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import get_view_model

from parity import access

DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
# DRF's validation errors: {"field": ["message", ...], ...} or {"detail": ...} (or, rarely, a list).
VALIDATION = {"oneOf": [{"type": "object", "additionalProperties": True}, {"type": "array", "items": {}}]}


def _response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}

OUR_APPS = ("evaluators.", "annotation.", "learner.", "parity.")
# Custom actions whose name alone says little, by operationId; a new action without an entry still
# gets "<Action> (<resource>)", and the test of the schema lists any operation left without a summary.
SUMMARIES = {
    "assignments_next_create": "Get my next item to annotate",
    "assignments_submit_create": "Submit a label for my assignment",
    "assignments_skip_create": "Skip my assignment, with a reason",
    "assignments_flag_create": "Flag my assignment's item as unusable",
    "calibration_attempts_create": "Start a calibration attempt",
    "calibration_attempts_submit_create": "Submit my calibration answers",
    "calibration_attempts_result_retrieve": "Result of my submitted calibration attempt",
    "guidelines_retrieve": "Current guideline of a project",
    "guidelines_acknowledge_create": "Acknowledge the current guideline version",
    "manage_memberships_suspend_create": "Suspend a member of my pool",
    "manage_memberships_reinstate_create": "Reinstate a suspended member",
    "manage_memberships_remove_create": "Remove a member from my pool",
    "manage_pools_invite_create": "Invite an evaluator to my pool",
    "manage_pools_members_list": "Members of a pool I administer",
    "my_memberships_list": "My pools and my state in each",
    "my_memberships_retrieve": "My membership in one pool",
    "reports_create": "Report a problem with a model's answer (public)",
    "reports_retrieve": "Status of a report, by its reference (public)",
    "review_list": "Items waiting for review, with every vote",
    "review_retrieve": "One item waiting for review",
    "review_approve_create": "Approve the aggregated label",
    "review_override_create": "Override the label (adjudicate)",
    "review_history_list": "Label history of an item",
}
_ACTION_WORDS = {
    "list": "List {plural}", "retrieve": "Get one {noun}", "create": "Create {a} {noun}",
    "update": "Replace {a} {noun}", "partial_update": "Change {a} {noun}", "destroy": "Delete {a} {noun}",
}


def _first_sentence(doc: str) -> str:
    line = " ".join(doc.strip().split("\n\n")[0].split())
    head = line.split(". ")[0].rstrip(".")
    return head if len(head) <= 120 else head[:117].rstrip() + "…"


class PersonalTokenScheme(KnoxTokenScheme):
    """The token scheme of ``parity.tokens.TokenAuthentication`` (knox's, with less per-request work):
    the same security scheme as knox's own, under the same name."""

    target_class = "parity.tokens.TokenAuthentication"


class ParityAutoSchema(AutoSchema):
    def get_summary(self) -> str | None:
        explicit = super().get_summary() or SUMMARIES.get(self.get_operation_id())
        if explicit:
            return explicit
        action = getattr(self.view, "action", None) or self.method.lower()
        handler = getattr(self.view, action, None)
        doc = inspect.getdoc(handler) if handler is not None else None
        if doc and (getattr(handler, "__module__", "") or "").startswith(OUR_APPS):
            return _first_sentence(doc)
        description = self.get_description()  # an @extend_schema(description=...) of this action
        if description and description != inspect.getdoc(self.view.__class__):
            return _first_sentence(description)
        model = get_view_model(self.view, emit_warnings=False)
        if model is not None:
            noun, plural = str(model._meta.verbose_name), str(model._meta.verbose_name_plural)
        else:
            noun = plural = self.path.strip("/").split("/")[1 if self.path.startswith("/api/") else 0]
            noun = noun.replace("-", " ")
            plural = noun
        template = _ACTION_WORDS.get(action)
        if template:
            article = "an" if noun[:1].lower() in "aeiou" else "a"
            return template.format(noun=noun, plural=plural, a=article)
        verb = action.replace("_", " ")
        return f"{verb[:1].upper()}{verb[1:]} ({noun})"

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
