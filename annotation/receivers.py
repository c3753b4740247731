"""Listeners on the evaluators app's signals (connected in AnnotationConfig.ready)."""
from __future__ import annotations

from django.db import transaction


def on_membership_left_work(sender, membership, reason: str, **kwargs) -> None:
    """Suspension, removal or re-calibration take effect at once: the member's leases go back to the
    queue, and the language's items are aggregated again once the commit lands (with fewer evaluators
    a project that aggregates short may now decide items that were waiting)."""
    from annotation.services import _enqueue, assignments_release_for_member
    from annotation.tasks import aggregate

    assignments_release_for_member(user=membership.user, pool=membership.pool, reason=reason)
    project_id = membership.pool.project_id
    transaction.on_commit(lambda: _enqueue(aggregate, project_id))
