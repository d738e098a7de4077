"""How gunicorn serves the tracker, in the production stack and in the benchmark alike.

    gunicorn -c python:tracker.gunicorn_conf tracker.wsgi:application --bind 0.0.0.0:8000

A request is a little Python and a few short queries, so a worker serving
one request at a time keeps its core busy; threads in a worker only took
turns at Python's lock (measured on 2 cores, in alternating runs: 2 workers
of 4 threads recorded a median of 146 assessments a second, 3 plain workers 168).
"""

from __future__ import annotations

import os

from tracker.env import env_int

worker_class = "sync"
# One more worker than cores, so that a core is not idle while a worker waits
# on PostgreSQL; WEB_WORKERS overrides it.
workers = env_int("WEB_WORKERS", (os.cpu_count() or 1) + 1)
# Load the application once, before the workers fork: each starts ready to
# serve (no first request waits for its imports), and they share the memory
# of what `tracker.wsgi` loaded and froze out of the collector's rounds.
# Nothing opens a database connection while loading, so none is shared.
preload_app = True
