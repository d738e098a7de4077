"""Views of the tracker app that belong to no domain: health, and the 404 page."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from kombu import Connection


def healthz(request: HttpRequest) -> JsonResponse:
    """Report whether the database and the broker answer; 503 when either does not."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:  # any failure means unhealthy; say which
        checks["database"] = f"error: {error.__class__.__name__}"
    if settings.CELERY_BROKER_URL:
        try:
            with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as broker:
                broker.ensure_connection(max_retries=1)
            checks["broker"] = "ok"
        except Exception as error:
            checks["broker"] = f"error: {error.__class__.__name__}"
    else:
        checks["broker"] = "eager (no broker configured)"
    healthy = all(not value.startswith("error") for value in checks.values())
    return JsonResponse(checks, status=200 if healthy else 503)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 in the API's JSON error shape under /api/, Django's page elsewhere.

    A key that the URL patterns do not accept (`/api/v1/themes/a.b/`) never
    reaches DRF; an API client should still get JSON, as the schema promises.
    """
    if request.path.startswith("/api/"):
        error = {"code": "not_found", "detail": _("Not found."), "attr": None}
        return JsonResponse({"type": "client_error", "errors": [error]}, status=404)
    return defaults.page_not_found(request, exception)
