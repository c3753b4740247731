"""Learner settings read at call time, and the queue the heavy learner work goes to.

Shared by training, sampling and scoring shards, which each live in their own module."""

from __future__ import annotations

from django.conf import settings


def setting(name: str, default):
    return getattr(settings, name, default)


def training_queue() -> str:
    """``LEARNER_TRAINING_QUEUE``; ``auto`` asks the workers and picks ``gpu`` if one listens on it."""
    queue = setting("LEARNER_TRAINING_QUEUE", "default")
    if queue != "auto":
        return queue
    try:
        from parity.celery import app

        active = app.control.inspect(timeout=1.0).active_queues() or {}
        names = {q["name"] for queues in active.values() for q in queues}
        return "gpu" if "gpu" in names else "default"
    except Exception:  # no broker reachable: the default queue is always served
        return "default"
