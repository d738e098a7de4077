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
import functools
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar, cast

import pghistory
import pgtrigger
from django.db import connection
from django.db.models import Model
from django.utils.module_loading import import_string

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


P = ParamSpec("P")
R = TypeVar("R")


def recorded_as(
    *, user: str, reason: str | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Attach the acting user (and a reason) named by a service's keyword arguments.

    Services are called from requests, tasks and commands alike; the service
    knows who acts and why even where no request does.
    """

    def decorate(service: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(service)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            values: dict[str, Any] = {}
            actor_pk = getattr(kwargs.get(user), "pk", None)
            if actor_pk is not None:
                values["user"] = actor_pk
            if reason is not None and kwargs.get(reason):
                values["reason"] = kwargs[reason]
            with history_context(**values):
                return service(*args, **kwargs)

        return wrapper

    return decorate


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


def audit_translations(app_label: str) -> None:
    """Give the event tables of `app_label` the translated columns of their models.

    django-modeltranslation adds `title_en`, `title_ru`, … to a model when the
    apps are ready, after pghistory built that model's event table from the
    fields it had then; without this, a change to a translation alone would
    leave no event. Called from the app's `ready()`, after modeltranslation
    registered its fields; the columns reach the database through migrations.
    """
    from django.apps import apps
    from modeltranslation.translator import NotRegistered, translator
    from pghistory.models import Event
    from pgtrigger.core import _Change

    for event_model in apps.get_app_config(app_label).get_models():
        if not issubclass(event_model, Event):
            continue
        tracked = cast(type[Model], event_model.pgh_tracked_model)
        try:
            options = translator.get_options_for_model(tracked)
        except NotRegistered:
            continue
        present = {field.name for field in event_model._meta.fields}
        added = []
        for translation_fields in options.all_fields.values():
            for translation_field in sorted(translation_fields, key=lambda f: f.name):
                if translation_field.name in present:
                    continue
                # A plain column of the original type: the event row is a copy.
                name, path, args, kwargs = translation_field.deconstruct()
                field_class = import_string(path)
                kwargs.update(null=True, blank=True, unique=False, db_index=False)
                event_model.add_to_class(name, field_class(*args, **kwargs))
                added.append(name)
        if not added:
            continue
        # The update trigger records a row only when a tracked column changed;
        # the translated columns count too.
        for trigger in getattr(tracked._meta, "triggers", []):
            condition = getattr(trigger, "condition", None)
            if isinstance(condition, _Change) and condition.fields:
                condition.fields = [*condition.fields, *added]
