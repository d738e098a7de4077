"""The span derivation on its own: same-day replacements, corrections, gaps."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from recommendations.choices import Status
from recommendations.periods import HeadlineSpan, Span, headline_spans, standing_spans

D = datetime.date
T = datetime.datetime


def assessment(pk, assessor, status, since, published_at, corrects=None):
    return SimpleNamespace(
        pk=pk,
        assessor_id=assessor,
        status=status,
        status_since=since,
        reviewed_at=published_at,
        recorded_at=published_at,
        corrects_id=corrects,
    )


def test_it_lets_the_later_publication_stand_when_two_hold_from_the_same_day():
    spans = standing_spans(
        [
            assessment(2, 1, Status.FULLY_IMPLEMENTED, D(2021, 1, 1), T(2021, 3, 1)),
            assessment(1, 1, Status.NOT_IMPLEMENTED, D(2021, 1, 1), T(2021, 2, 1)),
        ]
    )
    assert spans == [Span(1, D(2021, 1, 1), None, 2, Status.FULLY_IMPLEMENTED)]


def test_it_puts_a_correction_in_the_place_of_what_it_corrects():
    spans = standing_spans(
        [
            assessment(1, 1, Status.NOT_IMPLEMENTED, D(2020, 1, 1), T(2020, 1, 2)),
            assessment(2, 1, Status.FULLY_IMPLEMENTED, D(2021, 1, 1), T(2021, 1, 2)),
            assessment(3, 1, Status.MOSTLY_IMPLEMENTED, D(2021, 1, 1), T(2021, 5, 1), corrects=2),
        ]
    )
    assert spans == [
        Span(1, D(2020, 1, 1), D(2021, 1, 1), 1, Status.NOT_IMPLEMENTED),
        Span(1, D(2021, 1, 1), None, 3, Status.MOSTLY_IMPLEMENTED),
    ]


def test_it_merges_headline_days_that_do_not_change():
    spans = [
        Span(1, D(2020, 1, 1), D(2021, 1, 1), 1, Status.PARTIALLY_IMPLEMENTED),
        Span(2, D(2020, 6, 1), None, 2, Status.FULLY_IMPLEMENTED),
        Span(1, D(2021, 1, 1), None, 3, Status.PARTIALLY_IMPLEMENTED),
    ]
    assert headline_spans(spans) == [
        HeadlineSpan(D(2020, 1, 1), D(2020, 6, 1), Status.PARTIALLY_IMPLEMENTED, False),
        HeadlineSpan(D(2020, 6, 1), None, Status.PARTIALLY_IMPLEMENTED, True),
    ]


def test_it_gives_no_spans_to_a_recommendation_nobody_assessed():
    assert standing_spans([]) == []
    assert headline_spans([]) == []
