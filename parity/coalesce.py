"""One pending background job per key: the coalescing used by the jobs that leave the submit request.

A submission asks for a job with :func:`dispatch_once` from ``transaction.on_commit``. ``cache.add`` in the
shared cache (``CACHE_URL``) keeps at most one job queued per key across every web process, and the job
deletes the mark before it reads, so work stored while it runs asks for the next one. When the broker
cannot take the message the mark is removed again (the next submission retries) and the failure is
logged, never raised: the submission is already committed, and each app's beat sweep picks up what a
lost job left.
"""
from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def dispatch_once(*, key: str, ttl_s: float, task, args: list, countdown_s: float, what: str) -> None:
    """Queue ``task(*args)`` in ``countdown_s`` unless a job for ``key`` is already pending.

    In a request this happens after the response is sent (:mod:`parity.after_response`): the annotator
    does not wait for the cache and the broker, and a submit that asks for a job (every answer on a
    control does) takes no longer than one that does not."""
    from parity.after_response import after_response

    after_response(lambda: _dispatch_now(key=key, ttl_s=ttl_s, task=task, args=args, countdown_s=countdown_s,
                                         what=what))


def _dispatch_now(*, key: str, ttl_s: float, task, args: list, countdown_s: float, what: str) -> None:
    from django.core.cache import cache

    if not cache.add(key, 1, timeout=int(ttl_s)):
        return  # a job for this key is queued and has not started yet: it will see this work
    try:
        task.apply_async(args=args, countdown=float(countdown_s))
    except Exception:  # noqa: BLE001 - a broker outage must not fail a committed submission
        cache.delete(key)
        logger.exception("could not enqueue %s", what)
