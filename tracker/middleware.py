"""Request middleware of the tracker."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from pghistory.middleware import HistoryMiddleware

from tracker.history import audit_available


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
