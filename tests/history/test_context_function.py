"""The history context function of tracker migration 0007, replacing pghistory's own."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pghistory
import pytest
from django.db import connection, transaction
from pghistory import config
from pghistory.models import Context

from tests import factories
from tracker.history import history_context
from tracker.models import User

pytestmark = pytest.mark.postgres


class _RolledBack(Exception):
    pass


def _context_of(organisation_slug: str) -> UUID | None:
    """The context id on the insert event of an organisation (an audited model)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pgh_context_id FROM tracker_organisationevent"
            " WHERE slug = %s AND pgh_label = 'insert'",
            [organisation_slug],
        )
        (context_id,) = cursor.fetchone()
    return context_id  # type: ignore[no-any-return]


def _metadata(context_id: UUID | None) -> dict[str, Any]:
    assert context_id is not None
    metadata: dict[str, Any] = Context.objects.get(id=context_id).metadata
    return metadata


def test_it_is_the_function_installed_after_migrating(db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = '_pgh_attach_context'")
        [(source,)] = cursor.fetchall()

    assert "current_setting('pghistory.context_id', true)" in source
    assert "EXCEPTION" not in source.upper()
    # Otherwise pghistory would put its own back after every migrate.
    assert config.install_context_func_on_migrate() is False


@pytest.mark.django_db
def test_it_gives_every_row_of_a_transaction_the_same_context_and_metadata(
    alice: User,
) -> None:
    with transaction.atomic(), history_context(user=alice.pk):
        factories.organisation("alice-partner-1")
        factories.organisation("alice-partner-2")

    first, second = _context_of("alice-partner-1"), _context_of("alice-partner-2")
    assert first is not None and first == second
    assert _metadata(first) == {"user": alice.pk}


@pytest.mark.django_db
def test_it_records_metadata_added_mid_transaction(alice: User, bob: User) -> None:
    with transaction.atomic(), history_context(user=alice.pk):
        factories.organisation("before-the-reason")
        with history_context(reason="merger"):
            factories.organisation("after-the-reason")
        pghistory.context(approved_by=bob.pk)
        factories.organisation("after-the-approval")

    context_id = _context_of("before-the-reason")
    assert _context_of("after-the-reason") == _context_of("after-the-approval") == context_id
    assert _metadata(context_id) == {"user": alice.pk, "reason": "merger", "approved_by": bob.pk}


@pytest.mark.django_db
def test_it_writes_the_context_again_after_a_rolled_back_savepoint(alice: User) -> None:
    with transaction.atomic(), history_context(user=alice.pk):
        try:
            with transaction.atomic():
                # The context row is first written here, then rolled back.
                factories.organisation("rolled-back")
                raise _RolledBack
        except _RolledBack:
            pass
        factories.organisation("kept")

    assert _metadata(_context_of("kept")) == {"user": alice.pk}


@pytest.mark.django_db
def test_it_rewrites_metadata_after_a_savepoint_that_changed_it_rolls_back(alice: User) -> None:
    with transaction.atomic(), history_context(user=alice.pk):
        factories.organisation("first")
        try:
            with transaction.atomic(), history_context(reason="abandoned"):
                factories.organisation("abandoned")
                raise _RolledBack
        except _RolledBack:
            pass
        factories.organisation("second")

    context_id = _context_of("first")
    assert _context_of("second") == context_id
    # pghistory keeps the metadata a nested context added, rolled back or not;
    # the row must hold what the last statement sent.
    assert _metadata(context_id) == {"user": alice.pk, "reason": "abandoned"}


@pytest.mark.django_db(transaction=True)
def test_it_attaches_no_context_once_the_context_has_ended(alice: User) -> None:
    with history_context(user=alice.pk):
        factories.organisation("inside")
    # A later transaction of the same session: the settings now read as ''.
    factories.organisation("outside")

    assert _metadata(_context_of("inside")) == {"user": alice.pk}
    assert _context_of("outside") is None
