"""A server process settles once loaded: views imported, start-up objects frozen."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parents[2]

# Run in a process of its own: freezing this one would keep the test run's
# objects from the collector.
PROBE = """
import gc, sys
import tracker.wsgi
from django.db import connections
opened = any(connection.connection is not None for connection in connections.all())
print(gc.get_freeze_count(), "recommendations.api" in sys.modules, len(gc.get_objects()), opened)
"""


def test_loading_the_wsgi_application_imports_the_views_and_freezes_what_is_loaded():
    result = subprocess.run(  # noqa: S603 (our own arguments)
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    frozen, views_loaded, still_collected, connection_opened = result.stdout.split()
    # Django and DRF alone are over a hundred thousand objects.
    assert int(frozen) > 100_000
    assert views_loaded == "True"
    # What the collector still walks is what was made after the freeze.
    assert int(still_collected) < int(frozen) // 100
    # gunicorn loads this once and then forks its workers (tracker/gunicorn_conf.py):
    # a connection opened here would be shared by all of them.
    assert connection_opened == "False"


@pytest.fixture
def gunicorn_settings(monkeypatch) -> Iterator[Callable[[str | None], ModuleType]]:
    """Load tracker/gunicorn_conf.py under a given WEB_WORKERS; as it was again afterwards."""
    import tracker.gunicorn_conf

    def load(workers: str | None) -> ModuleType:
        if workers is None:
            monkeypatch.delenv("WEB_WORKERS", raising=False)
        else:
            monkeypatch.setenv("WEB_WORKERS", workers)
        return importlib.reload(tracker.gunicorn_conf)

    yield load
    monkeypatch.undo()
    importlib.reload(tracker.gunicorn_conf)


def test_gunicorn_runs_a_plain_worker_per_core_and_one_more_loaded_before_forking(
    gunicorn_settings,
):
    conf = gunicorn_settings(None)
    assert (conf.worker_class, conf.preload_app) == ("sync", True)
    assert conf.workers == (os.cpu_count() or 1) + 1
    assert gunicorn_settings("5").workers == 5


def test_gunicorn_refuses_a_worker_count_that_is_not_a_number(gunicorn_settings):
    with pytest.raises(ImproperlyConfigured, match="WEB_WORKERS='many'"):
        gunicorn_settings("many")


def test_the_production_stack_serves_with_these_settings():
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "gunicorn -c python:tracker.gunicorn_conf tracker.wsgi:application" in compose
