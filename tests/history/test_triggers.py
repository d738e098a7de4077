"""On PostgreSQL the database itself refuses to rewrite the record (raw SQL)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from recommendations import services
from tests import factories
from tracker.history import history_context

pytestmark = pytest.mark.postgres


def refused(sql: str, params: list[Any] | None = None) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # Fire the deferred foreign-key checks of the test's own inserts
            # now, or PostgreSQL refuses TRUNCATE for a reason of its own.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(sql, params or [])
    except DatabaseError as error:
        assert "refused" in str(error) or "Cannot" in str(error), error
        return True
    return False


@pytest.fixture
def assessments(alice, alice_org, editor, issuer):
    rec = factories.recommendation(issuer, "rec-protected")
    factories.instrument("law-with-history")  # so that its event table has a row

    def record(**kwargs):
        return services.assessment_record(
            recommendation=rec,
            assessor=alice_org,
            recorded_by=alice,
            status="partially_implemented",
            status_since=datetime.date(2024, 1, 1),
            evidence="evidence",
            **kwargs,
        )

    published = services.assessment_publish(assessment=record(submit=True), reviewer=editor)
    return {"draft": record(), "submitted": record(submit=True), "published": published}


TABLE = "recommendations_statusassessment"


def test_it_refuses_changing_a_published_assessment(assessments):
    key = str(assessments["published"].key)
    assert refused(f"UPDATE {TABLE} SET status = 'fully_implemented' WHERE key = %s", [key])
    assert refused(f"UPDATE {TABLE} SET evidence = 'rewritten' WHERE key = %s", [key])
    assert refused(f"UPDATE {TABLE} SET review_note = 'later note' WHERE key = %s", [key])
    # Backwards in the review is refused too.
    assert refused(f"UPDATE {TABLE} SET review_state = 'submitted' WHERE key = %s", [key])


def test_it_refuses_changing_a_submitted_assessments_content(assessments):
    key = str(assessments["submitted"].key)
    assert refused(f"UPDATE {TABLE} SET evidence = 'sneaky' WHERE key = %s", [key])
    assert refused(
        f"UPDATE {TABLE} SET review_state = 'published', status = 'fully_implemented'"
        " WHERE key = %s",
        [key],
    )
    assert refused(f"UPDATE {TABLE} SET review_state = 'draft' WHERE key = %s", [key])


def test_it_allows_the_reviews_forward_step_on_its_own_columns(assessments, editor):
    key = str(assessments["submitted"].key)
    assert not refused(
        f"UPDATE {TABLE} SET review_state = 'returned', review_note = 'no source',"
        " reviewed_at = now(), reviewed_by_id = %s WHERE key = %s",
        [editor.pk, key],
    )


def test_it_allows_editing_a_draft_but_not_its_identity(assessments, bob_org):
    key = str(assessments["draft"].key)
    assert not refused(f"UPDATE {TABLE} SET evidence = 'better evidence' WHERE key = %s", [key])
    assert refused(f"UPDATE {TABLE} SET assessor_id = %s WHERE key = %s", [bob_org.pk, key])


def test_it_refuses_deleting_and_truncating_assessments(assessments):
    for name in ("draft", "submitted", "published"):
        assert refused(f"DELETE FROM {TABLE} WHERE key = %s", [str(assessments[name].key)])
    assert refused(f"TRUNCATE {TABLE} CASCADE")


@pytest.mark.parametrize(
    "event_table",
    [
        "recommendations_statusassessmentevent",
        "recommendations_recommendationevent",
        "tracker_organisationevent",
        "instruments_instrumentevent",
    ],
)
def test_it_refuses_rewriting_the_audit_tables(assessments, event_table):
    assert refused(f"UPDATE {event_table} SET pgh_label = 'forged'")
    assert refused(f"DELETE FROM {event_table}")
    assert refused(f"TRUNCATE {event_table}")


def test_it_refuses_removing_history_context(issuer):
    with history_context(reason="a change with a reason"):
        factories.instrument("law-with-context")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pghistory_context")
        assert cursor.fetchone()[0] >= 1
    assert refused("DELETE FROM pghistory_context")
    assert refused("TRUNCATE pghistory_context CASCADE")
