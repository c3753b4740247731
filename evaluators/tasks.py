"""Celery tasks: thin, idempotent wrappers that load ids and call services."""
from celery import shared_task

from evaluators.services import notification_email_send


@shared_task(name="evaluators.notification_email", acks_late=True)
def notification_email(notification_id: int) -> int:
    return notification_email_send(notification_id=notification_id)
