from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_it_reports_health(client, settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    if settings.CELERY_BROKER_URL:  # CI: the real Redis must answer
        assert response.json()["broker"] == "ok"
    else:
        assert response.json()["broker"].startswith("eager")


@pytest.mark.django_db
def test_it_reports_an_unreachable_broker(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")
