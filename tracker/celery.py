"""The Celery application. Settings come from Django's, under the CELERY_ prefix."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

app = Celery("tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Each running task's history context, by task id: changes a task makes are
# recorded as made by that task (there is no request or user to name).
_task_contexts: dict[str, contextlib.ExitStack] = {}


@task_prerun.connect
def _enter_task_context(task_id: str, task: Any, **kwargs: Any) -> None:
    from tracker.history import history_context

    stack = contextlib.ExitStack()
    stack.enter_context(history_context(task=task.name, task_id=task_id))
    _task_contexts[task_id] = stack


@task_postrun.connect
def _exit_task_context(task_id: str, **kwargs: Any) -> None:
    stack = _task_contexts.pop(task_id, None)
    if stack is not None:
        stack.close()
