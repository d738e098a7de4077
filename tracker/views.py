"""Views of the tracker app that belong to no domain: health."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
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
