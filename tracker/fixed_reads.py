"""Records read by a statement written once per process, and made as the ORM makes them.

Django compiles a queryset's SQL on every call, and for the few lookups
a request by API key makes (the key, the recommendation a POST names) that
took longer than running it: 0.54 of 0.88 ms of CPU for the key with its
user and organisation. On PostgreSQL, whose driver gives every column of
these tables as the model wants it, a fixed statement reads the row and
`Model.from_db` makes the record, as the ORM does. Where a column needs
Django's converting after reading (SQLite's times and booleans, a field's
`from_db_value`), `select_list` says so and the caller leaves the read to
the ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from django.db import connection
from django.db.models import Model

M = TypeVar("M", bound=Model)


def once_per_vendor(build: Callable[[], str | None]) -> Callable[[], str | None]:
    """`build`'s statement, written at the first call on each database vendor."""
    statements: dict[str, str | None] = {}

    def statement() -> str | None:
        if connection.vendor not in statements:
            statements[connection.vendor] = build()
        return statements[connection.vendor]

    return statement


def quoted_column(model: type[Model], name: str) -> str:
    """`name`'s column in `model`'s table, quoted for this connection."""
    field: Any = model._meta.get_field(name)
    return connection.ops.quote_name(field.column)


def quoted_table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def select_list(model: type[Model], alias: str) -> list[str] | None:
    """Every concrete column of `model` as `alias."column"`, in the model's field order.

    None when a column of it needs converting on this connection, so that
    only the ORM can read the model.
    """
    selected = []
    for field in model._meta.concrete_fields:
        read = field.get_col(alias)
        if connection.ops.get_db_converters(read) or read.get_db_converters(connection):
            return None
        selected.append(f"{alias}.{quoted_column(model, field.name)}")
    return selected


def record_from(values: Iterator[Any], model: type[M]) -> M:
    """A record of `model` from the next of `values`, one a concrete field, as the ORM makes it."""
    fields = model._meta.concrete_fields
    return model.from_db(
        connection.alias, [field.attname for field in fields], [next(values) for _f in fields]
    )


class RecordByColumn(Generic[M]):
    """The record of `model` whose `column` holds a value, by a fixed statement where it can be.

    `column` must be unique and hold text, and the values looked up text.
    """

    def __init__(self, model: type[M], column: str) -> None:
        self.model = model
        self.column = column
        # The statement on this connection's database; None where the ORM must read.
        self.statement = once_per_vendor(self._statement)

    def _statement(self) -> str | None:
        selected = select_list(self.model, "t")
        if selected is None:
            return None
        return (
            f"SELECT {', '.join(selected)} "  # noqa: S608 (our own tables and columns)
            f"FROM {quoted_table(self.model)} t "
            f"WHERE t.{quoted_column(self.model, self.column)} = %s"
        )

    def get(self, value: str) -> M | None:
        sql = self.statement()
        if sql is None:
            return self.model._default_manager.filter(**{self.column: value}).first()
        with connection.cursor() as cursor:
            cursor.execute(sql, [value])
            rows: Sequence[Any] = cursor.fetchall()
        return record_from(iter(rows[0]), self.model) if rows else None
