"""The OpenAPI schema as people read it: every operation gets a one-line summary, and a browser
opening /api/schema/ lands on the rendered docs (``parity.schema_views``) instead of downloading
a YAML file.

drf-spectacular leaves ``summary`` empty unless each view is decorated; deriving it here (the
handler's own docstring first, else "<action> <resource>") keeps the API modules free of schema
boilerplate, and an explicit ``@extend_schema(summary=...)`` still wins.
"""
from __future__ import annotations

import inspect

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import get_view_model

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


class SummarisedAutoSchema(AutoSchema):
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
