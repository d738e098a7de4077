"""Field-level history: which models are audited, and the context of each change.

django-pghistory's PostgreSQL triggers record every insert, update and delete
of an audited model into its event table, whatever wrote it: the ORM, bulk
updates, raw SQL or `loaddata`. The event tables are append-only (updates,
deletes and truncation refused by triggers). On SQLite no trigger is
installed and there is no field-level history; the admin says so.

Context (who, from which request, command or task, and why) is attached with
`pghistory.context()`. pghistory sends it along with each query, which was
seen to fail on SQLite, so `history_context()` only does that on PostgreSQL.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pghistory
import pgtrigger
from django.db import connection
from django.db.models import Model

ModelT = TypeVar("ModelT", bound=type[Model])


def refuse_truncate(name: str) -> pgtrigger.Trigger:
    """A statement-level trigger refusing TRUNCATE, which row triggers never see."""
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.Before,
        operation=pgtrigger.Truncate,
        level=pgtrigger.Statement,
        func="""
        RAISE EXCEPTION 'table % is append-only: TRUNCATE refused', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
        """,
    )


def audited(model: ModelT) -> ModelT:
    """Track every insert, update and delete of `model` in an append-only event table."""
    tracker: Callable[[ModelT], ModelT] = pghistory.track(
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        append_only=True,
        meta={"triggers": [refuse_truncate("append_only_truncate")]},
    )
    return tracker(model)


def audit_available() -> bool:
    """Field-level history needs PostgreSQL's triggers."""
    return connection.vendor == "postgresql"


@contextlib.contextmanager
def history_context(**values: Any) -> Iterator[None]:
    """Attach `values` (user, url, command, task, reason) to the changes made inside.

    Nested contexts merge, so a service can add a reason inside a request.
    """
    if not audit_available():
        yield
        return
    with pghistory.context(**values):
        yield
