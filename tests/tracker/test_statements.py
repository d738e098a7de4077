"""Reads bound on the server, which PostgreSQL prepares when repeated; writes on the client."""

from __future__ import annotations

import datetime
import uuid

import pghistory
import pytest
from django.apps import apps
from django.db import connection, transaction
from rest_framework.test import APIClient

from recommendations.api_lists import OneOf
from recommendations.models import StatusAssessment
from tests import factories
from tests.api.conftest import bearer
from tracker.models import Change, Organisation
from tracker.statements import PREPARE_AFTER, binds_on_server, prepared_reads


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ('SELECT "slug" FROM "tracker_organisation" WHERE "id" = %s', True),
        ("  select 1", True),
        ("WITH page AS (SELECT 1) SELECT * FROM page", True),
        # pghistory's context in front of a write.
        ("SELECT set_config('pghistory.context_id', %s, true); INSERT INTO t VALUES (%s)", False),
        ("INSERT INTO t VALUES (%s)", False),
        ('UPDATE "t" SET "a" = %s', False),
        ('SAVEPOINT "s1"', False),
    ],
)
def test_it_binds_on_the_server_only_a_statement_that_reads(sql, expected):
    assert binds_on_server(sql) is expected


def prepared(fragment: str) -> list[str]:
    """This connection's prepared statements that mention `fragment`."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall() if fragment in statement]


def slugs_of(slugs: list[str]) -> list[str]:
    return sorted(Organisation.objects.filter(OneOf("slug", slugs)).values_list("slug", flat=True))


@pytest.mark.postgres
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
        # A write with its history context in front, which a server-bound
        # statement refuses, is bound on the client and goes through.
        with pghistory.context(note="between the reads"):
            factories.organisation("gamma")
        assert slugs_of(["alpha", "gamma"]) == ["alpha", "gamma"]
    (statement,) = prepared("tracker_organisation")
    assert "$1" in statement
    assert prepared("INSERT") == []


@pytest.mark.postgres
def test_one_cursor_takes_the_binding_each_of_its_statements_needs(db):
    with prepared_reads(), pghistory.context(note="one cursor"), connection.cursor() as cursor:
        for n in range(PREPARE_AFTER + 1):
            # A read, a write with its history context, a read: on one cursor.
            cursor.execute("SELECT count(*) FROM tracker_organisation WHERE slug LIKE %s", ["x%"])
            assert cursor.fetchone() == (n,)
            cursor.execute(
                "INSERT INTO tracker_organisation (slug, name, acronym, kind, country, "
                "description, website) VALUES (%s, %s, '', 'ngo', '', '', '')",
                [f"x{n}", "X"],
            )
    assert prepared("count(*) FROM tracker_organisation")
    # The writes went through with their history.
    assert Organisation.objects.filter(slug__startswith="x").count() == PREPARE_AFTER + 1


@pytest.mark.postgres
def test_a_named_cursor_reads_as_ever_within(db):
    for n in range(3):
        factories.organisation(f"org-{n}")
    with prepared_reads(), transaction.atomic():
        slugs = [o.slug for o in Organisation.objects.order_by("slug").iterator(chunk_size=1)]
    assert slugs == ["org-0", "org-1", "org-2"]


@pytest.mark.postgres
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
    assert prepared("django_session")


@pytest.mark.postgres
def test_the_api_records_assessments_with_its_reads_prepared_and_its_writes_not(db, partner):
    recommendation = factories.recommendation(factories.organisation("issuer"))
    api = APIClient()
    bearer(api, partner, write=True)
    for n in range(PREPARE_AFTER + 2):
        response = api.post(
            "/api/v1/assessments/",
            {
                "recommendation": recommendation.code,
                "status": "partially_implemented",
                "status_since": "2024-01-01",
                "evidence": f"evidence {n}",
            },
            format="json",
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert response.status_code == 201, response.content
    stored = StatusAssessment.objects.filter(recommendation=recommendation)
    assert stored.count() == PREPARE_AFTER + 2
    # The key's lookup, the idempotency lock and the recommendation by code.
    assert prepared("tracker_apikey")
    assert prepared("pg_try_advisory_xact_lock")
    # Read by its fixed statement (tracker.fixed_reads).
    assert prepared('FROM "recommendations_recommendation" t WHERE t."code" = $1')
    assert prepared("INSERT") == prepared("SAVEPOINT") == []
    # Each write left its history, with the request's context.
    events = apps.get_model("recommendations", "StatusAssessmentEvent").objects.filter(
        pgh_obj__in=stored, pgh_label="insert"
    )
    assert [
        event.pgh_context.metadata["user"] for event in events.select_related("pgh_context")
    ] == [partner.pk] * (PREPARE_AFTER + 2)


@pytest.mark.postgres
def test_a_block_within_a_block_leaves_the_outer_one_as_it_was(db):
    factories.organisation("alpha")
    with prepared_reads():
        with prepared_reads():
            assert slugs_of(["alpha"]) == ["alpha"]
        # Still within the outer block: reads still bind on the server.
        for _ in range(PREPARE_AFTER + 1):
            assert slugs_of(["alpha"]) == ["alpha"]
        with pghistory.context(note="within"):
            factories.organisation("beta")
    assert prepared("tracker_organisation")
    # Outside every block, a read binds on the client again.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert type(cursor.cursor).__name__ == "Cursor"
