"""Which status stood on which days: spans derived from the published history.

Each assessor's assessment *stands* from its `status_since` until the day the
next of that assessor's standing assessments begins to hold; a published
correction takes the place of the assessment it corrects, and of two
assessments holding from the same day the one published later stands (the
order of `services.current_from_history`). The headline of a recommendation
on a day follows from what stood that day by `choices.headline_from`.

The spans are kept in `StatusPeriod` and `HeadlinePeriod`, rewritten in the
transaction that publishes an assessment, so that "the status as of a day"
is one range filter and reports can group in the database. The functions
here are pure, so the services, the synthetic data and `verify_history`
derive the same rows from the same history.
"""

from __future__ import annotations

import datetime
import operator
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

from django.db.models import Model, Q

from recommendations.choices import headline_from
from recommendations.models import HeadlinePeriod, StatusAssessment, StatusPeriod


@dataclass(frozen=True, order=True)
class Span:
    """One assessor's standing assessment and the days it stood."""

    assessor_id: int
    valid_from: datetime.date
    valid_until: datetime.date | None
    assessment_id: int
    status: str


@dataclass(frozen=True, order=True)
class HeadlineSpan:
    """A recommendation's headline status and the days it held."""

    valid_from: datetime.date
    valid_until: datetime.date | None
    headline: str
    disputed: bool


def standing_spans(published: Iterable[StatusAssessment]) -> list[Span]:
    """The spans of one recommendation's published assessments, by assessor and day."""
    rows = sorted(published, key=lambda a: (a.status_since, a.reviewed_at or a.recorded_at, a.pk))
    corrected = {a.corrects_id for a in rows if a.corrects_id is not None}
    by_assessor: dict[int, list[StatusAssessment]] = defaultdict(list)
    for assessment in rows:
        if assessment.pk not in corrected:
            by_assessor[assessment.assessor_id].append(assessment)
    spans = []
    for assessor_id, timeline in by_assessor.items():
        for assessment, following in zip(timeline, [*timeline[1:], None], strict=True):
            until = following.status_since if following is not None else None
            if until == assessment.status_since:
                continue  # replaced on its first day by one published later
            spans.append(
                Span(assessor_id, assessment.status_since, until, assessment.pk, assessment.status)
            )
    return sorted(spans)


def _stands_on(span: Span, day: datetime.date) -> bool:
    return span.valid_from <= day and (span.valid_until is None or day < span.valid_until)


def headline_spans(spans: Sequence[Span]) -> list[HeadlineSpan]:
    """The headline over time that the assessors' spans give; days nobody assessed have none."""
    if not spans:
        return []
    boundaries = sorted(
        {span.valid_from for span in spans}
        | {span.valid_until for span in spans if span.valid_until is not None}
    )
    result: list[HeadlineSpan] = []
    for day, next_day in zip(boundaries, [*boundaries[1:], None], strict=True):
        standing = [span.status for span in spans if _stands_on(span, day)]
        if not standing:
            continue
        headline, disputed = headline_from(standing)
        last = result[-1] if result else None
        if (
            last
            and last.valid_until == day
            and (last.headline, last.disputed)
            == (
                headline,
                disputed,
            )
        ):
            result[-1] = HeadlineSpan(last.valid_from, next_day, headline, disputed)
        else:
            result.append(HeadlineSpan(day, next_day, headline, disputed))
    return result


def period_rows(
    recommendation_id: int,
    published: Iterable[StatusAssessment],
    *,
    status_model: type[Model] = StatusPeriod,
    headline_model: type[Model] = HeadlinePeriod,
) -> tuple[list[Any], list[Any]]:
    """Unsaved rows of both tables for one recommendation's published history.

    The models can be given, for a migration's historical ones.
    """
    spans = standing_spans(published)
    status_rows = [
        status_model(
            recommendation_id=recommendation_id,
            assessor_id=span.assessor_id,
            assessment_id=span.assessment_id,
            status=span.status,
            valid_from=span.valid_from,
            valid_until=span.valid_until,
        )
        for span in spans
    ]
    headline_rows = [
        headline_model(
            recommendation_id=recommendation_id,
            headline=span.headline,
            disputed=span.disputed,
            valid_from=span.valid_from,
            valid_until=span.valid_until,
        )
        for span in headline_spans(spans)
    ]
    return status_rows, headline_rows


def stored_spans(recommendation_id: int) -> tuple[list[Span], list[HeadlineSpan]]:
    """What the two tables hold for one recommendation, in the derivation's shape."""
    status = sorted(
        Span(*row)
        for row in StatusPeriod.objects.filter(recommendation_id=recommendation_id).values_list(
            "assessor_id", "valid_from", "valid_until", "assessment_id", "status"
        )
    )
    headline = sorted(
        HeadlineSpan(*row)
        for row in HeadlinePeriod.objects.filter(recommendation_id=recommendation_id).values_list(
            "valid_from", "valid_until", "headline", "disputed"
        )
    )
    return status, headline


def periods_refresh(recommendation_id: int, published: Iterable[StatusAssessment]) -> None:
    """Rewrite one recommendation's spans from its published history.

    Called by the services inside the transaction that publishes, with the
    recommendation's row locked, so concurrent publications cannot interleave.
    Only rows that differ are deleted and inserted: a new assessment usually
    closes one span and opens another.
    """
    status_rows, headline_rows = period_rows(recommendation_id, published)
    stored_status, stored_headline = stored_spans(recommendation_id)
    wanted_status = {
        Span(r.assessor_id, r.valid_from, r.valid_until, r.assessment_id, r.status): r
        for r in status_rows
    }
    wanted_headline = {
        HeadlineSpan(r.valid_from, r.valid_until, r.headline, r.disputed): r for r in headline_rows
    }
    stale_status = set(stored_status) - set(wanted_status)
    stale_headline = set(stored_headline) - set(wanted_headline)
    if stale_status:
        StatusPeriod.objects.filter(recommendation_id=recommendation_id).filter(
            reduce(
                operator.or_,
                (
                    Q(assessor_id=span.assessor_id, valid_from=span.valid_from)
                    for span in stale_status
                ),
            )
        ).delete()
    if stale_headline:
        HeadlinePeriod.objects.filter(
            recommendation_id=recommendation_id,
            valid_from__in=[span.valid_from for span in stale_headline],
        ).delete()
    kept_status, kept_headline = set(stored_status), set(stored_headline)
    StatusPeriod.objects.bulk_create(
        row for span, row in wanted_status.items() if span not in kept_status
    )
    HeadlinePeriod.objects.bulk_create(
        row for span, row in wanted_headline.items() if span not in kept_headline
    )
