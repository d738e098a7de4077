"""A large export runs in a real Celery worker, with progress shown and a download at the end."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from tests.reports.conftest import populate
from tracker.celery import app

pytestmark = pytest.mark.postgres


def _database_url() -> str:
    database = django_settings.DATABASES["default"]
    user = database.get("USER") or "postgres"
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    host = database.get("HOST") or "127.0.0.1"
    port = database.get("PORT") or 5432
    # NAME is the test database's while tests run, so the worker sees their rows.
    return f"postgres://{user}{password}@{host}:{port}/{database['NAME']}"


@pytest.fixture
def export_dir(settings, tmp_path: Path) -> Path:
    settings.REPORTS_EXPORT_DIR = tmp_path / "exports"
    return tmp_path / "exports"


@pytest.fixture
def celery_worker(transactional_db: None, export_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    if not django_settings.CELERY_BROKER_URL:
        if os.environ.get("CI"):
            pytest.fail("CELERY_BROKER_URL must point at Redis in CI")
        pytest.skip("needs a broker: set CELERY_BROKER_URL=redis://…")
    environment = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "REPORTS_EXPORT_DIR": str(export_dir),
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tracker",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "warning",
        ],
        cwd=django_settings.BASE_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=1.0):
            if worker.poll() is not None or time.monotonic() > deadline:
                output = worker.stdout.read().decode() if worker.stdout else ""
                pytest.fail(f"the Celery worker did not start:\n{output}")
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def test_it_runs_a_large_export_in_a_real_worker(
    client: Client, celery_worker, donor, editor, alice_org, bob_org, settings
):
    populate(editor, alice_org, bob_org, 3)
    settings.REPORTS_DIRECT_EXPORT_LIMIT = 5
    client.force_login(donor)

    started = client.get(reverse("reports:export", args=["list", "xlsx"]), {"issued_by": "osce"})

    assert started.status_code == 302
    status_url = started["Location"]
    deadline = time.monotonic() + 60
    while True:
        page = client.get(status_url).content.decode()
        if 'data-state="done"' in page or 'data-state="failed"' in page:
            break
        assert '<meta http-equiv="refresh"' in page  # the page polls itself meanwhile
        assert time.monotonic() < deadline, page
        time.sleep(0.5)
    assert 'data-state="done"' in page, page
    assert '<progress max="100" value="100"' in page
    download = client.get(status_url + "download")
    assert download.status_code == 200
    content = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(content))["Recommendations"]
    codes = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(codes) == 9  # three groups of three recommendations issued by the OSCE
