"""Periodic upkeep of the assignment queue."""
from celery import shared_task

from annotation.services import assignments_expire


@shared_task(name="annotation.expire_leases")
def expire_leases() -> int:
    return assignments_expire()
