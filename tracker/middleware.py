"""Request middleware of the tracker."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from pghistory.middleware import HistoryMiddleware

from tracker.history import audit_available

logger = logging.getLogger(__name__)


class HistoryContextMiddleware(HistoryMiddleware):
    """Attach the user and request path to every change a request makes.

    Only on PostgreSQL: elsewhere there are no history triggers to read it,
    and pghistory's context tracking fails on SQLite.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        super().__init__(get_response)  # type: ignore[no-untyped-call]
        self.plain_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not audit_available():
            return self.plain_response(request)
        response: HttpResponse = super().__call__(request)  # type: ignore[no-untyped-call]
        return response


class WebhookQueueMiddleware:
    """After a request that may have written, queue webhook deliveries promptly.

    The periodic task would find the changes within a minute anyway; this
    only makes delivery prompt. Without a broker (tasks run eagerly in the
    quick start) it does nothing rather than slow every write down.

    One queueing run covers every change committed before it starts, so a
    process asks for at most one per QUEUE_WINDOW_SECONDS, to start when that
    window closes: writes made within the window are committed by then, and a
    busy server sends one message a second instead of one per write, each of
    which scanned the feed for every endpoint.
    """

    WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
    QUEUE_WINDOW_SECONDS = 1.0

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._window_lock = threading.Lock()
        self._window_closes = -math.inf

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.method in self.WRITE_METHODS
            and response.status_code < 400
            and settings.ON_POSTGRES
            and not settings.CELERY_TASK_ALWAYS_EAGER
            and self._opens_window()
        ):
            transaction.on_commit(_queue_webhook_deliveries, robust=True)
        return response

    def _opens_window(self) -> bool:
        """True for the first write after the last window closed; it opens the next."""
        now = time.monotonic()
        with self._window_lock:
            if now < self._window_closes:
                return False
            self._window_closes = now + self.QUEUE_WINDOW_SECONDS
            return True


def _queue_webhook_deliveries() -> None:
    from tracker.tasks import queue_webhook_deliveries

    try:
        queue_webhook_deliveries.apply_async(countdown=WebhookQueueMiddleware.QUEUE_WINDOW_SECONDS)
    except Exception:  # a broker outage must not fail a write that succeeded
        logger.warning("Could not queue webhook deliveries; the periodic task will.", exc_info=True)
