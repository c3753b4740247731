"""Work that runs once the response has gone to the client: the dispatch of coalesced background jobs.

Why: a submit that asks for a background job (the aggregation of an item that reached k, the control
statistics of a member who answered a gold item) used to pay for it inside the request: a ``cache.add``
and, when no job is pending, a message to the broker, one to a few milliseconds. That made such submits
slower than the others, and since every answer on a control item asks for its member's statistics, the
response time told an evaluator which items were controls (and nothing an evaluator receives, timing
included, may do that). The dispatch now runs in the response's ``close()``, which the WSGI server calls
after it has written the body: the annotator neither waits for it nor sees it.

Outside a request (celery tasks, management commands, services called from a shell or a test) the work
runs at once, as before. A failing callback is logged and does not stop the others; the work it stood
for is picked up by the beat sweeps, as a broker outage's would be.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

_queue: ContextVar[list[Callable[[], object]] | None] = ContextVar("parity_after_response", default=None)


def after_response(work: Callable[[], object]) -> None:
    """Run ``work`` after the current request's response is sent, or now when there is no request."""
    queue = _queue.get()
    if queue is None:
        work()
    else:
        queue.append(work)


def _run(queue: list[Callable[[], object]]) -> None:
    token = _queue.set(None)  # work queued by this work runs at once
    try:
        for work in queue:
            try:
                work()
            except Exception:  # noqa: BLE001 - the response is sent; the sweeps pick up what is lost
                logger.exception("after-response work %r failed", work)
    finally:
        _queue.reset(token)
        queue.clear()


class AfterResponseMiddleware:
    """Collects :func:`after_response` work during a request and hands it to the response's closers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        queue: list[Callable[[], object]] = []
        token = _queue.set(queue)
        try:
            response = self.get_response(request)
        except BaseException:
            _queue.reset(token)
            _run(queue)  # committed work must still ask for its jobs
            raise
        _queue.reset(token)
        if queue:
            response._resource_closers.append(lambda: _run(queue))
        return response
