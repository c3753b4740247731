"""Listeners on the annotation app's signals (connected from above, in AnnotationConfig.ready)."""
from __future__ import annotations


def on_annotation_submitted(sender, annotation, assignment, membership, **kwargs) -> None:
    """Store gold control answers in the submitting transaction; their statistics (gold exposure,
    accuracy, suspension) follow in a coalesced background job (evaluators.control_statistics)."""
    if not getattr(assignment, "is_control", False):
        return
    from evaluators.services import control_answer_record

    control_answer_record(annotation=annotation, assignment=assignment, membership=membership)
