"""Reads bound on the server, whose repeated statements PostgreSQL prepares."""

from __future__ import annotations

import datetime

import pghistory
import pytest
from django.db import connection
from rest_framework.test import APIClient

from recommendations.api_lists import OneOf
from tests import factories
from tracker.models import Change, Organisation
from tracker.statements import PREPARE_AFTER, prepared_reads

pytestmark = pytest.mark.postgres


def prepared(fragment: str) -> list[str]:
    """This connection's prepared statements that mention `fragment`."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall() if fragment in statement]


def slugs_of(slugs: list[str]) -> list[str]:
    return sorted(Organisation.objects.filter(OneOf("slug", slugs)).values_list("slug", flat=True))


def test_it_prepares_a_read_it_has_seen_repeated_and_only_within(db):
    factories.organisation("alpha")
    factories.organisation("beta")
    for _ in range(PREPARE_AFTER + 1):
        assert slugs_of(["alpha", "gamma"]) == ["alpha"]
    assert prepared("tracker_organisation") == []
    with prepared_reads():
        for _ in range(PREPARE_AFTER + 1):
            assert slugs_of(["alpha", "gamma"]) == ["alpha"]
        # Another array, the same statement.
        assert slugs_of(["beta", "alpha"]) == ["alpha", "beta"]
    (statement,) = prepared("tracker_organisation")
    assert "$1" in statement
    # Bound on the client again: a write with its history context in front,
    # which a server-bound statement refuses, goes through.
    with pghistory.context(note="after the reads"):
        factories.organisation("gamma")
    assert slugs_of(["alpha", "gamma"]) == ["alpha", "gamma"]


def test_it_serves_the_feed_from_prepared_statements_page_for_page_the_same(db, editor):
    # A transaction id below every open one, which the feed serves at once.
    for n in range(3):
        Change.objects.create(
            txid=1,
            entity="organisation",
            key=factories.organisation(f"org-{n}").slug,
            operation="insert",
            version=1,
            changed_at=datetime.datetime(2025, 1, 2, tzinfo=datetime.UTC),
        )
    api = APIClient()
    api.force_login(editor)
    pages = [api.get("/api/v1/changes/", {"limit": 2}).content for _ in range(PREPARE_AFTER + 2)]
    assert b'"slug":"org-0"' in pages[0]
    assert pages == [pages[0]] * len(pages)
    assert prepared("tracker_change") and prepared("tracker_organisation")
    # The page's neighbours were read as ever: client-bound, never prepared.
    assert prepared("django_session") == prepared("tracker_user") == []
