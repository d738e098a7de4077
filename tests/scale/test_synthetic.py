"""The synthetic data set: valid history, reproducible, grown in steps."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from recommendations.choices import ReviewState, Visibility
from recommendations.models import (
    Concern,
    CurrentAssessment,
    ProvisionLink,
    Recommendation,
    StatusAssessment,
)
from recommendations.synthetic import TRANSACTION_SIZE, m2m_through, synthetic_generate
from recommendations.verification import history_problems

# More than one transaction's worth, so the tests cross a boundary.
SIZE = TRANSACTION_SIZE + 30


class _RolledBack(Exception):
    pass


def _snapshot() -> dict[str, Any]:
    """The generated data by natural keys (ids differ between runs on PostgreSQL)."""
    return {
        "recommendations": sorted(
            Recommendation.objects.values_list(
                "code",
                "text",
                "kind",
                "issued_by__slug",
                "issued_on",
                "follow_up_due",
                "country",
                "headline_status",
                "disputed",
                "reiterates__code",
            )
        ),
        "themes": sorted(
            m2m_through(Recommendation, "themes")._default_manager.values_list(
                "recommendation__code", "theme__slug"
            )
        ),
        "links": sorted(
            ProvisionLink.objects.values_list(
                "key", "recommendation__code", "instrument__slug", "provision__eid", "relation"
            ),
            key=str,
        ),
        "assessments": sorted(
            StatusAssessment.objects.values_list(
                "key",
                "recommendation__code",
                "assessor__slug",
                "status",
                "status_since",
                "review_state",
                "visibility",
                "corrects__key",
                "chain_position",
                "recorded_at",
                "reviewed_at",
            ),
            key=str,
        ),
        "current": sorted(
            CurrentAssessment.objects.values_list(
                "recommendation__code", "assessor__slug", "assessment__key", "status"
            ),
            key=str,
        ),
    }


def _generate_and_forget(
    *, recommendations: int, assessments_per_recommendation: int, seed: int
) -> dict[str, Any]:
    """Generate, take a snapshot, and roll the writes back."""
    snapshot: dict[str, Any] = {}
    try:
        with transaction.atomic():
            synthetic_generate(
                recommendations=recommendations,
                assessments_per_recommendation=assessments_per_recommendation,
                seed=seed,
            )
            snapshot.update(_snapshot())
            raise _RolledBack
    except _RolledBack:
        pass
    return snapshot


@pytest.mark.django_db
def test_it_generates_a_history_that_verify_history_accepts() -> None:
    report = synthetic_generate(recommendations=SIZE, assessments_per_recommendation=6, seed=4)

    assert report.recommendations_after == SIZE
    assert list(history_problems()) == []
    call_command("verify_history")  # raises CommandError on any break
    assessments = StatusAssessment.objects.all()
    assert Recommendation.objects.count() == SIZE
    assert assessments.count() == SIZE * 6 == report.assessments_written
    # The data has what real data has: corrections with reasons, returns with
    # notes, confidential evidence, disagreements, links and concerns.
    assert assessments.filter(corrects__isnull=False).exclude(correction_reason="").exists()
    assert assessments.filter(review_state=ReviewState.RETURNED).exclude(review_note="").exists()
    assert assessments.filter(review_state=ReviewState.SUBMITTED).exists()
    assert assessments.filter(visibility=Visibility.INTERNAL).exists()
    assert Recommendation.objects.filter(disputed=True).exists()
    assert ProvisionLink.objects.filter(provision__isnull=False).exists()
    assert Concern.objects.filter(answered_by__isnull=False).exists()


@pytest.mark.django_db
def test_it_reproduces_the_same_data_from_the_same_seed() -> None:
    first = _generate_and_forget(recommendations=40, assessments_per_recommendation=5, seed=9)
    second = _generate_and_forget(recommendations=40, assessments_per_recommendation=5, seed=9)
    other_seed = _generate_and_forget(recommendations=40, assessments_per_recommendation=5, seed=10)

    assert first["assessments"]
    assert first == second
    assert first["assessments"] != other_seed["assessments"]


@pytest.mark.django_db
def test_it_grows_a_data_set_to_what_one_run_would_have_written() -> None:
    at_once = _generate_and_forget(recommendations=SIZE, assessments_per_recommendation=4, seed=2)

    synthetic_generate(recommendations=30, assessments_per_recommendation=4, seed=2)
    grown = synthetic_generate(recommendations=SIZE, assessments_per_recommendation=4, seed=2)
    again = synthetic_generate(recommendations=SIZE, assessments_per_recommendation=4, seed=2)

    assert (grown.recommendations_before, grown.recommendations_after) == (30, SIZE)
    assert again.recommendations_after == SIZE and again.assessments_written == 0
    assert _snapshot() == at_once
    assert list(history_problems()) == []


@pytest.mark.django_db
def test_it_refuses_a_negative_size_naming_the_option() -> None:
    with pytest.raises(CommandError, match="--assessments-per-recommendation"):
        call_command("generate_synthetic", recommendations=5, assessments_per_recommendation=-1)
    assert not Recommendation.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db
def test_it_leaves_field_level_history_of_every_inserted_row() -> None:
    synthetic_generate(recommendations=20, assessments_per_recommendation=3, seed=1)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM recommendations_statusassessmentevent WHERE pgh_label = 'insert'"
        )
        assessment_events = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM recommendations_recommendationevent WHERE pgh_label = 'insert'"
        )
        recommendation_events = cursor.fetchone()[0]
    assert assessment_events == StatusAssessment.objects.count() == 60
    assert recommendation_events == Recommendation.objects.count() == 20


@pytest.mark.django_db
def test_it_says_what_the_command_wrote_and_the_size_reached() -> None:
    output = io.StringIO()

    call_command(
        "generate_synthetic",
        recommendations=12,
        assessments_per_recommendation=2,
        seed=3,
        no_progress=True,
        stdout=output,
    )

    assert "12 recommendations and 24 assessments written" in output.getvalue()
    assert "now holds 12 synthetic recommendations" in output.getvalue()
    assert StatusAssessment.objects.count() == 24
