"""A server process settles once loaded: views imported, start-up objects frozen."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Run in a process of its own: freezing this one would keep the test run's
# objects from the collector.
PROBE = """
import gc, sys
import tracker.wsgi
print(gc.get_freeze_count(), "recommendations.api" in sys.modules, len(gc.get_objects()))
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
    frozen, views_loaded, still_collected = result.stdout.split()
    # Django and DRF alone are over a hundred thousand objects.
    assert int(frozen) > 100_000
    assert views_loaded == "True"
    # What the collector still walks is what was made after the freeze.
    assert int(still_collected) < int(frozen) // 100
