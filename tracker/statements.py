"""Reads whose statements PostgreSQL prepares once and plans from then on without parsing.

Django has psycopg bind parameters on the client: each query goes to the
server as one text with its values written in, which the server parses and
plans anew every time. Bound on the server instead, the text holds `$1`,
`$2` and is the same from one call to the next, and psycopg prepares a text
it has seen `PREPARE_AFTER` times (its `prepare_threshold`, which Django
turns off): PostgreSQL parses it once per connection and, once it finds a
plan that fits every value, plans it no more.

A feed page runs the same ten or so queries for every page of every walk,
each with its page's keys as one array (`recommendations.api_lists.OneOf`);
prepared, a walk of 20,000 events took 0.95 to 1.0 s where it took 1.02 to
1.12 s (four alternating runs each, 100,000 recommendations). A partner
recording an assessment runs four reads (its key, the idempotency lock, the
recommendation by code, the user's groups and permissions); with them
prepared, PostgreSQL spent 1.7 to 2.3 ms of CPU per request where it spent
2.4 to 2.8 (six alternating runs of the benchmark's creation measurement).

Only reads, one statement each, are bound on the server, and not for the
whole site (`server_side_binding` in the database's OPTIONS): pghistory
sends a write with its context statement in front, two statements in one
text, which the server refuses to bind. So the choice is made statement by
statement, by an execute wrapper that gives the query's cursor the binding
its text needs. A connection pooler in front of PostgreSQL must keep
prepared statements per client connection (PgBouncer from 1.21,
`max_prepared_statements`). With `DEBUG` on, Django's query log shows a
statement run as prepared without its text (None): psycopg keeps no text
for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections

# psycopg's own default.
PREPARE_AFTER = 5

READS = ("select", "with")


def binds_on_server(sql: str) -> bool:
    """Whether `sql` is one statement beginning with SELECT or WITH: a read.

    Django writes values as parameters, never into the text, so a `;` in
    it ends a statement: pghistory's context in front of a write. A WITH
    that writes, with no context in front, binds on the server as well.
    """
    return sql.lstrip()[:6].lower().startswith(READS) and ";" not in sql


def _bind_reads_on_server(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    from django.db.backends.postgresql.base import Cursor, ServerBindingCursor

    wrapper, database = context["cursor"], context["connection"]
    wanted = ServerBindingCursor if not many and binds_on_server(sql) else Cursor
    current = wrapper.cursor
    # Cursors are made server-bound within the block, so a read runs on the
    # cursor it was given. A named cursor (`.iterator()`) keeps its own class.
    if type(current) is not wanted and type(current) in (Cursor, ServerBindingCursor):
        raw = database.connection
        default, raw.cursor_factory = raw.cursor_factory, wanted
        try:
            # Django's own cursor making, with the connection's time zone.
            wrapper.cursor = database.create_cursor()
        finally:
            raw.cursor_factory = default
        current.close()
    return execute(sql, params, many, context)


@contextmanager
def prepared_reads(using: str = "default") -> Iterator[None]:
    """Reads on `using` within bind their parameters on the server, so repeated ones are prepared.

    Writes stay bound on the client. On other databases, or where the
    connection's cursors bind on the server already (within another such
    block, say), nothing changes.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    from django.db.backends.postgresql.base import Cursor, ServerBindingCursor

    connection.ensure_connection()
    raw = connection.connection
    if raw.cursor_factory is not Cursor:
        yield
        return
    threshold = raw.prepare_threshold
    raw.cursor_factory, raw.prepare_threshold = ServerBindingCursor, PREPARE_AFTER
    try:
        with connection.execute_wrapper(_bind_reads_on_server):
            yield
    finally:
        raw.cursor_factory, raw.prepare_threshold = Cursor, threshold
