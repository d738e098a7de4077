"""`verify_history` proves the chains and derived statuses, and names what was altered."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from recommendations import chain, services
from recommendations.models import (
    CurrentAssessment,
    HeadlinePeriod,
    StatusAssessment,
    StatusPeriod,
)
from tests import factories


def verify() -> tuple[bool, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_history", stdout=out, stderr=err)
    except CommandError as error:
        return False, err.getvalue() + str(error)
    return True, out.getvalue()


def behind_the_triggers_back(sql: str, params: list[Any]) -> None:
    """Alter a row as an attacker with database access would, triggers switched off."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


@pytest.fixture
def history(alice, alice_org, bob, bob_org, editor, issuer):
    recs = [factories.recommendation(issuer, f"rec-{n}") for n in range(2)]
    published = []
    for rec in recs:
        for user, org, status, day in (
            (alice, alice_org, "not_implemented", datetime.date(2022, 1, 1)),
            (alice, alice_org, "partially_implemented", datetime.date(2023, 1, 1)),
            (bob, bob_org, "mostly_implemented", datetime.date(2023, 6, 1)),
        ):
            assessment = services.assessment_record(
                recommendation=rec,
                assessor=org,
                recorded_by=user,
                status=status,
                status_since=day,
                evidence=f"evidence {status}",
                submit=True,
            )
            published.append(services.assessment_publish(assessment=assessment, reviewer=editor))
    return recs, published


def test_it_passes_an_intact_history(history):
    ok, output = verify()
    assert ok, output
    assert "History intact" in output


def test_it_chains_each_recommendation_from_the_genesis_hash(history):
    _recs, published = history
    first, second = published[0], published[1]
    assert (first.chain_position, first.previous_hash) == (1, chain.GENESIS_HASH)
    assert (second.chain_position, second.previous_hash) == (2, first.record_hash)
    assert first.record_hash == chain.record_hash(first)
    assert published[3].chain_position == 1  # the next recommendation starts its own chain


def test_it_hashes_a_documented_canonical_form(history):
    _recs, published = history
    document = chain.canonical_json(published[0]).decode()
    assert document.startswith('{"assessor_id":')
    assert '"evidence":"evidence not_implemented"' in document
    assert ", " not in document and ": " not in document


def test_it_names_an_assessment_whose_evidence_was_altered(history):
    _recs, published = history
    target = published[1]
    behind_the_triggers_back(
        "UPDATE recommendations_statusassessment SET evidence = %s WHERE id = %s",
        ["rewritten evidence", target.pk],
    )
    ok, output = verify()
    assert not ok
    assert f"assessment {target.key} of rec-0: content does not match its hash" in output
    assert "problem(s)" in output


def test_it_notices_a_removed_assessment(history):
    _recs, published = history
    target = published[0]
    behind_the_triggers_back(
        "DELETE FROM recommendations_currentassessment WHERE assessment_id = %s", [target.pk]
    )
    behind_the_triggers_back(
        "DELETE FROM recommendations_statusperiod WHERE assessment_id = %s", [target.pk]
    )
    behind_the_triggers_back(
        "DELETE FROM recommendations_statusassessment WHERE id = %s", [target.pk]
    )
    ok, output = verify()
    assert not ok
    assert f"assessment {published[1].key} of rec-0: chain position 2, expected 1" in output
    assert "previous hash does not match" in output


def test_it_notices_a_headline_typed_in_by_hand(history):
    recs, _published = history
    recs[1].headline_status = "fully_implemented"
    recs[1].disputed = False
    recs[1].save(update_fields=["headline_status", "disputed"])
    ok, output = verify()
    assert not ok
    assert "recommendation rec-1: headline fully_implemented stored" in output
    assert "partially_implemented (disputed) in its history" in output


def test_it_notices_periods_that_drifted(history):
    recs, _published = history
    StatusPeriod.objects.filter(recommendation=recs[0]).update(status="fully_implemented")
    HeadlinePeriod.objects.filter(recommendation=recs[1]).delete()
    ok, output = verify()
    assert not ok
    assert "recommendation rec-0: status periods differ from its history" in output
    assert "recommendation rec-1: headline periods differ from its history" in output
    assert "rec-0: headline periods" not in output


def test_it_notices_a_current_assessment_that_drifted(history):
    recs, _published = history
    CurrentAssessment.objects.filter(recommendation=recs[0]).update(status="fully_implemented")
    ok, output = verify()
    assert not ok
    assert "recommendation rec-0: current assessment of assessor" in output


def test_it_ignores_drafts_and_returned_assessments(history, alice, alice_org, editor):
    recs, _published = history
    returned = services.assessment_record(
        recommendation=recs[0],
        assessor=alice_org,
        recorded_by=alice,
        status="fully_implemented",
        status_since=datetime.date(2024, 1, 1),
        evidence="e",
        submit=True,
    )
    services.assessment_return(assessment=returned, reviewer=editor, reason="no evidence")
    assert StatusAssessment.objects.filter(review_state="returned").count() == 1
    ok, output = verify()
    assert ok, output
