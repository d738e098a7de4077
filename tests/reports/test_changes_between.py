"""What changed between two days: the periods' comparison against a plain one in Python."""

from __future__ import annotations

import datetime
import itertools

import pytest

from recommendations import reports
from recommendations.models import StatusPeriod
from recommendations.synthetic import synthetic_generate
from tests import factories
from tracker.models import Organisation

DAYS = [
    datetime.date(2009, 12, 31),
    datetime.date(2012, 6, 30),
    datetime.date(2015, 1, 1),
    datetime.date(2018, 3, 15),
    datetime.date(2020, 12, 31),
    datetime.date(2023, 12, 31),
    datetime.date(2026, 1, 1),
]


def standing(day: datetime.date, assessor: Organisation | None) -> set[tuple[int, int, str]]:
    """(recommendation, assessor, status) of every period covering `day`, read in Python."""
    return {
        (p.recommendation_id, p.assessor_id, p.status)
        for p in StatusPeriod.objects.all()
        if p.valid_from <= day
        and (p.valid_until is None or p.valid_until > day)
        and (assessor is None or p.assessor_id == assessor.pk)
    }


def plainly_changed(
    start: datetime.date, end: datetime.date, assessor: Organisation | None = None
) -> set[int]:
    """Recommendations with a pair that stood on one day and not on the other."""
    return {rec for rec, _, _ in standing(start, assessor) ^ standing(end, assessor)}


def changed(start: datetime.date, end: datetime.date, **filters: object) -> set[int]:
    rows = reports.changed_recommendations(reports.ReportFilters(**filters), start, end)  # type: ignore[arg-type]
    return set(rows.values_list("pk", flat=True))


@pytest.mark.django_db
def test_it_finds_the_changes_a_plain_comparison_finds_for_every_pair_of_days() -> None:
    synthetic_generate(recommendations=60, assessments_per_recommendation=8, seed=3)
    assessors = list(Organisation.objects.filter(pk__in=StatusPeriod.objects.values("assessor_id")))
    assert len(assessors) > 1

    compared = 0
    for start, end in itertools.product(DAYS, repeat=2):
        expected = plainly_changed(start, end)
        assert changed(start, end) == expected, (start, end)
        compared += bool(expected)
        for assessor in assessors:
            assert changed(start, end, assessor=assessor) == plainly_changed(
                start, end, assessor
            ), (start, end, assessor)
    # Most pairs of different days see some change, or the comparison proved little.
    assert compared > len(DAYS) * (len(DAYS) - 1) // 2


@pytest.mark.django_db
def test_it_does_not_count_a_status_assessed_again_as_a_change(administrator, alice_org, bob_org):
    rec = factories.recommendation(factories.organisation("issuer"))
    for year in (2020, 2021):  # the same status, assessed again a year later
        factories.assessment(
            rec,
            alice_org,
            administrator,
            status="not_implemented",
            status_since=datetime.date(year, 1, 1),
            publish=True,
        )
    assert StatusPeriod.objects.filter(recommendation=rec).count() == 2

    within = (datetime.date(2020, 6, 1), datetime.date(2021, 6, 1))
    assert changed(*within) == set()
    assert changed(datetime.date(2019, 6, 1), datetime.date(2021, 6, 1)) == {rec.pk}
    # The same whichever day comes first.
    assert changed(datetime.date(2021, 6, 1), datetime.date(2019, 6, 1)) == {rec.pk}
    assert changed(*within, assessor=bob_org) == set()
