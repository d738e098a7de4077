"""Proof that the assessment history was not rewritten and derived data matches it.

Derived data: each assessor's current assessment, the headline and disputed
flag, the status and headline periods that as-of reports read, and the
counts PostgreSQL keeps for the overview today and on past days.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from itertools import groupby

from django.db import connection
from django.db.models import Max, Min
from django.utils import timezone

from recommendations import chain
from recommendations.choices import ReviewState, headline_from
from recommendations.models import (
    AsOfCount,
    AsOfPending,
    CurrentAssessment,
    HeadlinePeriod,
    Recommendation,
    StatusAssessment,
    StatusPeriod,
)
from recommendations.periods import HeadlineSpan, Span, headline_spans, standing_spans
from recommendations.reports import (
    Overview,
    ReportFilters,
    overview_as_of_from_counts,
    overview_from_counts,
    overview_recounted,
)
from recommendations.services import current_from_history


def _chain_problems(code: str, published: list[StatusAssessment]) -> Iterator[str]:
    expected_previous = chain.GENESIS_HASH
    for position, assessment in enumerate(published, start=1):
        name = f"assessment {assessment.key} of {code}"
        if assessment.chain_position != position:
            yield f"{name}: chain position {assessment.chain_position}, expected {position}"
        if assessment.previous_hash != expected_previous:
            yield f"{name}: previous hash does not match the assessment before it"
        if assessment.record_hash != chain.record_hash(assessment):
            yield f"{name}: content does not match its hash (altered after publication)"
        expected_previous = assessment.record_hash


def _derived_problems(
    recommendation: Recommendation,
    published: list[StatusAssessment],
    stored: dict[int, CurrentAssessment],
) -> Iterator[str]:
    code = recommendation.code
    current = current_from_history(published)
    for assessor_id, assessment in current.items():
        row = stored.get(assessor_id)
        if row is None:
            yield f"recommendation {code}: current assessment of assessor {assessor_id} missing"
        elif (row.assessment_id, row.status, row.status_since) != (
            assessment.pk,
            assessment.status,
            assessment.status_since,
        ):
            yield f"recommendation {code}: current assessment of assessor {assessor_id} differs"
    for assessor_id in set(stored) - set(current):
        yield f"recommendation {code}: current assessment of assessor {assessor_id} has no basis"
    headline, disputed = headline_from(a.status for a in current.values())
    if (recommendation.headline_status, recommendation.disputed) != (headline, disputed):
        yield (
            f"recommendation {code}: headline {recommendation.headline_status}"
            f"{' (disputed)' if recommendation.disputed else ''} stored, "
            f"{headline}{' (disputed)' if disputed else ''} in its history"
        )


def _period_problems(
    code: str,
    published: list[StatusAssessment],
    stored_status: list[Span],
    stored_headline: list[HeadlineSpan],
) -> Iterator[str]:
    spans = standing_spans(published)
    if sorted(stored_status) != spans:
        yield f"recommendation {code}: status periods differ from its history"
    if sorted(stored_headline) != headline_spans(spans):
        yield f"recommendation {code}: headline periods differ from its history"


def _stored_periods() -> tuple[dict[int, list[Span]], dict[int, list[HeadlineSpan]]]:
    status: dict[int, list[Span]] = {}
    for (
        recommendation_id,
        assessor_id,
        start,
        until,
        assessment_id,
        value,
    ) in StatusPeriod.objects.values_list(
        "recommendation_id",
        "assessor_id",
        "valid_from",
        "valid_until",
        "assessment_id",
        "status",
    ).iterator(chunk_size=5000):
        status.setdefault(recommendation_id, []).append(
            Span(assessor_id, start, until, assessment_id, value)
        )
    headline: dict[int, list[HeadlineSpan]] = {}
    for recommendation_id, start, until, value, disputed in HeadlinePeriod.objects.values_list(
        "recommendation_id", "valid_from", "valid_until", "headline", "disputed"
    ).iterator(chunk_size=5000):
        headline.setdefault(recommendation_id, []).append(
            HeadlineSpan(start, until, value, disputed)
        )
    return status, headline


def _overview_numbers(overview: Overview) -> dict[str, object]:
    return {
        "total": overview.total,
        "by_status": {status: n for status, n in overview.by_status.items() if n},
        "disputed": overview.disputed,
        "overdue": overview.overdue,
        "breakdowns": {
            breakdown.slug: {row.key: row.counts for row in breakdown.rows}
            for breakdown in overview.breakdowns
        },
    }


def overview_problems() -> Iterator[str]:
    """Where the counts PostgreSQL keeps for the overview differ from a recount."""
    if connection.vendor != "postgresql":
        return
    counted = _overview_numbers(overview_from_counts())
    recounted = _overview_numbers(overview_recounted(ReportFilters()))
    for name, value in recounted.items():
        if counted[name] != value:
            yield f"overview counts: {name} is {counted[name]}, a recount gives {value}"


def as_of_days() -> list[datetime.date]:
    """The days `verify_history` checks the as-of counts on: the last day of
    every year the counts reach into, and today."""
    today = timezone.localdate()
    span = AsOfCount.objects.filter(day__gt=datetime.date(1, 1, 1)).aggregate(
        first=Min("day"), last=Max("day")
    )
    first_year = span["first"].year if span["first"] else today.year
    last_year = min(span["last"].year if span["last"] else today.year, today.year)
    return [datetime.date(year, 12, 31) for year in range(first_year, last_year)] + [today]


def as_of_problems(days: Iterable[datetime.date] | None = None) -> Iterator[str]:
    """Where the counts PostgreSQL keeps for past days differ from a recount.

    Every month's row must also be the sum of its days' rows.
    """
    if connection.vendor != "postgresql":
        return
    pending = AsOfPending.objects.count()
    if pending:
        # Their counts are not in yet: a recount would differ on every day.
        yield (
            f"as-of counts: {pending} recommendations left by a bulk load await their counts; "
            "the next compaction (overview_counts_compact) adds them"
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT month, dimension, key, status FROM (
                SELECT date_trunc('month', day)::date AS month, dimension, key, status,
                       CASE WHEN monthly THEN n ELSE -n END AS n
                FROM recommendations_asofcount
            ) rows
            GROUP BY month, dimension, key, status HAVING sum(n) <> 0
            ORDER BY month, dimension, key, status LIMIT 10
            """
        )
        for month, dimension, key, status in cursor.fetchall():
            number = " ".join(part for part in (dimension, key, status) if part)
            yield f"as-of counts: {number} in {month:%Y-%m} is not the sum of its days"
    for day in as_of_days() if days is None else days:
        counted = _overview_numbers(overview_as_of_from_counts(day))
        recounted = _overview_numbers(overview_recounted(ReportFilters(as_of=day)))
        for name, value in recounted.items():
            if counted[name] != value:
                yield f"as-of counts on {day}: {name} is {counted[name]}, a recount gives {value}"


def history_problems() -> Iterator[str]:
    """Every break in the chains and every derived status that its history contradicts."""
    published = (
        StatusAssessment.objects.filter(review_state=ReviewState.PUBLISHED)
        .order_by("recommendation_id", "chain_position")
        .iterator(chunk_size=5000)
    )
    by_recommendation = {
        rec_id: list(rows) for rec_id, rows in groupby(published, key=lambda a: a.recommendation_id)
    }
    stored: dict[int, dict[int, CurrentAssessment]] = {}
    for row in CurrentAssessment.objects.order_by("recommendation_id").iterator(chunk_size=5000):
        stored.setdefault(row.recommendation_id, {})[row.assessor_id] = row
    status_periods, headline_periods = _stored_periods()
    # Published assessments that are not chained at all (a constraint forbids
    # this; a row altered behind its back would still show here).
    for assessment in StatusAssessment.objects.filter(
        review_state=ReviewState.PUBLISHED, chain_position__isnull=True
    ):
        yield f"assessment {assessment.key}: published but not chained"
    for recommendation in Recommendation.objects.order_by("code").iterator(chunk_size=5000):
        rows = by_recommendation.get(recommendation.pk, [])
        yield from _chain_problems(recommendation.code, rows)
        yield from _derived_problems(recommendation, rows, stored.get(recommendation.pk, {}))
        yield from _period_problems(
            recommendation.code,
            rows,
            status_periods.get(recommendation.pk, []),
            headline_periods.get(recommendation.pk, []),
        )
    yield from overview_problems()
    yield from as_of_problems()
