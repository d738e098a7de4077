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
1.12 s (four alternating runs each, 100,000 recommendations).

Only for reads, and not for the whole site (`server_side_binding` in the
database's OPTIONS): pghistory sends a write with its context statement in
front, two statements in one text, which the server refuses to bind. A
connection pooler in front of PostgreSQL must keep prepared statements per
client connection (PgBouncer from 1.21, `max_prepared_statements`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections

# psycopg's own default.
PREPARE_AFTER = 5


@contextmanager
def prepared_reads(using: str = "default") -> Iterator[None]:
    """Queries on `using` within bind their parameters on the server, so repeated ones are prepared.

    On other databases, or where the connection binds on the server already,
    nothing changes.
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
        yield
    finally:
        raw.cursor_factory, raw.prepare_threshold = Cursor, threshold
