"""Celery tasks: thin, idempotent wrappers that load ids and call services."""
from celery import shared_task

from evaluators.services import control_statistics_run, control_statistics_sweep, notification_email_send


@shared_task(name="evaluators.notification_email", acks_late=True)
def notification_email(notification_id: int) -> int:
    return notification_email_send(notification_id=notification_id)


@shared_task(name="evaluators.control_statistics", acks_late=True)
def control_statistics(membership_id: int) -> int:
    """The coalesced job a control answer asks for: gold exposure, rolling accuracy, auto-suspension."""
    return control_statistics_run(membership_id=membership_id).scored


@shared_task(name="evaluators.control_statistics_sweep")
def sweep_control_statistics() -> int:
    return control_statistics_sweep()
