"""New rows written by a statement made once per process, as `Model.save()` writes them.

Django compiles an INSERT anew at every `save()` of a new record: for the
two rows an assessment's POST writes (the assessment and the stored
answer), compiling took about as long as sending the statement and reading
what it returned (0.30 ms of CPU per row through the ORM, 0.14 ms by a
fixed statement). `RowInsert` writes the statement once per model and
database, and writes each row as the ORM does: every field's `pre_save`
(times set on creation) and `get_db_prep_save`, the primary key returned
and set, the record marked saved, `pre_save` and `post_save` sent. A model
this does not cover (a parent model, a column the database fills, a field
with its own placeholder, a returned key that needs converting) is left to
`save()`, and so is a record that already has its key, which `save()` would
first try to update.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from django.db import DatabaseError, connection, transaction
from django.db.models import Model, signals

from tracker.fixed_reads import once_per_vendor, quoted_column, quoted_table

M = TypeVar("M", bound=Model)


class RowInsert(Generic[M]):
    """Insert new records of `model` by one fixed statement where the database allows it."""

    def __init__(self, model: type[M]) -> None:
        self.model = model
        meta = model._meta
        # Every column but the generated key, in the order the statement names them.
        self.fields = [
            field for field in meta.local_concrete_fields if field is not meta.auto_field
        ]
        self.statement = once_per_vendor(self._statement)

    def _statement(self) -> str | None:
        meta = self.model._meta
        key = meta.auto_field
        if (
            key is None
            or not connection.features.can_return_columns_from_insert
            or meta.parents
            or meta.order_with_respect_to
            or list(meta.db_returning_fields) != [key]
            or any(hasattr(field, "get_placeholder") for field in self.fields)
        ):
            return None
        returned = key.get_col(meta.db_table)
        if connection.ops.get_db_converters(returned) or returned.get_db_converters(connection):
            return None
        columns = ", ".join(quoted_column(self.model, field.name) for field in self.fields)
        placeholders = ", ".join(["%s"] * len(self.fields))
        return (
            f"INSERT INTO {quoted_table(self.model)} ({columns}) "  # noqa: S608 (our own table)
            f"VALUES ({placeholders}) RETURNING {quoted_column(self.model, key.name)}"
        )

    def insert(self, record: M) -> None:
        """Write `record`, a new one, as `record.save()` would."""
        sql = self.statement()
        if sql is None or record.pk is not None:
            record.save()
            return
        record._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
        alias = connection.alias
        signals.pre_save.send(
            sender=self.model, instance=record, raw=False, using=alias, update_fields=None
        )
        values: list[Any] = []
        for field in self.fields:
            value = field.pre_save(record, True)
            if hasattr(value, "resolve_expression"):
                raise TypeError(f"{field.name}: a fixed insert writes values, not expressions")
            values.append(field.get_db_prep_save(value, connection))
        # As `save()`: a failed insert inside a transaction marks it for rollback.
        with transaction.mark_for_rollback_on_error(), connection.cursor() as cursor:
            cursor.execute(sql, values)
            row = cursor.fetchone()
        if row is None:
            raise DatabaseError("INSERT … RETURNING returned no row")
        setattr(record, self.model._meta.auto_field.attname, row[0])  # type: ignore[union-attr]
        record._state.adding = False
        record._state.db = alias
        signals.post_save.send(
            sender=self.model,
            instance=record,
            created=True,
            update_fields=None,
            raw=False,
            using=alias,
        )
