"""Listeners on the annotation app's signals (connected from above, in AnnotationConfig.ready)."""
from __future__ import annotations


def on_annotation_submitted(sender, annotation, assignment, **kwargs) -> None:
    """Score gold control answers inside the submitting transaction (may suspend the member)."""
    if not getattr(assignment, "is_control", False):
        return
    from evaluators.services import control_answer_record

    control_answer_record(annotation=annotation, assignment=assignment)
