from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_it_reports_health(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert "broker" in response.json()


@pytest.mark.django_db
def test_it_reports_an_unreachable_broker(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    from tracker.celery import app

    previous = app.conf.broker_url
    app.conf.update(broker_url=settings.CELERY_BROKER_URL)
    try:
        response = client.get("/healthz")
    finally:
        app.conf.update(broker_url=previous)
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")
