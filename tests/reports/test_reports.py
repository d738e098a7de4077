"""The numbers of recommendations/reports.py, checked against plain computations."""

from __future__ import annotations

import datetime
from collections import Counter

import pytest
from django.utils import timezone

from recommendations import reports
from recommendations.choices import Status
from recommendations.models import Recommendation
from recommendations.selectors import statuses_as_of
from tests.reports.conftest import LATE, World, populate, publish


def by_key(overview: reports.Overview, slug: str) -> dict[str, dict[str, int]]:
    breakdown = next(b for b in overview.breakdowns if b.slug == slug)
    return {row.key: row.counts for row in breakdown.rows}


def test_it_counts_current_headline_statuses_as_the_records_say(world: World):
    overview = reports.overview(reports.ReportFilters())

    plain = Counter(Recommendation.objects.values_list("headline_status", flat=True))
    assert overview.by_status == dict(plain)
    assert overview.total == 4
    assert overview.disputed == Recommendation.objects.filter(disputed=True).count() == 1
    assert overview.overdue == Recommendation.objects.overdue().count() == 1
    assert overview.share_implemented == pytest.approx(1 / 4)


def test_it_breaks_current_numbers_down_by_every_grouping(world: World):
    overview = reports.overview(reports.ReportFilters())

    assert by_key(overview, "issued_by") == {
        "osce": {"partially_implemented": 1, "fully_implemented": 1, "not_assessed": 1},
        "un-hrc": {"mostly_implemented": 1},
    }
    assert by_key(overview, "theme") == {
        "labour": {"partially_implemented": 1, "fully_implemented": 1}
    }
    assert by_key(overview, "instrument") == {
        world.law.slug: {"partially_implemented": 1},  # type: ignore[attr-defined]
        world.draft.slug: {"mostly_implemented": 1},  # type: ignore[attr-defined]
    }
    assert by_key(overview, "assessor") == {
        "alice-ngo": {"partially_implemented": 1, "fully_implemented": 1},
        "bob-ngo": {"mostly_implemented": 1, "fully_implemented": 1},
    }
    assert by_key(overview, "country") == {
        "KZ": {"partially_implemented": 1, "fully_implemented": 1, "not_assessed": 1},
        "UZ": {"mostly_implemented": 1},
    }


def test_it_applies_every_filter(world: World):
    def total(**filters: object) -> int:
        return reports.overview(reports.ReportFilters(**filters)).total  # type: ignore[arg-type]

    assert total(issued_by=world.other_issuer) == 1
    assert total(theme=world.labour) == 2
    assert total(instrument=world.law) == 1
    assert total(assessor=world.bob_org) == 2
    assert total(country="UZ") == 1
    assert total(status=Status.NOT_ASSESSED) == 1
    assert total(issued_by=world.issuer, assessor=world.alice_org) == 1


def test_it_takes_past_numbers_from_the_history_not_the_current_fields(world: World):
    day = datetime.date(2024, 3, 1)
    overview = reports.overview(reports.ReportFilters(as_of=day))

    history = statuses_as_of(day)
    expected = Counter(
        history[pk].headline if pk in history else Status.NOT_ASSESSED
        for pk in Recommendation.objects.values_list("pk", flat=True)
    )
    assert overview.by_status == dict(expected)
    assert overview.by_status == {"not_implemented": 1, "fully_implemented": 1, "not_assessed": 2}
    assert overview.disputed == 0
    # Both recommendations due on 2024-01-01 were still open on 2024-03-01.
    assert overview.overdue == 2
    assert by_key(overview, "assessor") == {
        "alice-ngo": {"not_implemented": 1, "fully_implemented": 1}
    }


def test_it_leaves_out_recommendations_issued_after_the_as_of_day(world: World):
    factories_issue = datetime.date(2025, 5, 1)
    Recommendation.objects.filter(code="r1-0-d").update(issued_on=factories_issue)

    before = reports.overview(reports.ReportFilters(as_of=datetime.date(2025, 4, 30)))
    after = reports.overview(reports.ReportFilters(as_of=datetime.date(2025, 5, 1)))

    assert (before.total, after.total) == (3, 4)


def test_it_filters_as_of_numbers_by_status_and_assessor(world: World):
    day = datetime.date(2024, 3, 1)
    by_status = reports.overview(reports.ReportFilters(as_of=day, status="not_assessed"))
    by_assessor = reports.overview(reports.ReportFilters(as_of=day, assessor=world.bob_org))

    assert by_status.total == 2
    assert by_assessor.total == 0


def test_it_shows_progress_month_by_month(world: World):
    months = reports.progress(
        reports.ReportFilters(start=datetime.date(2023, 2, 1), end=datetime.date(2024, 7, 20))
    )

    assert [m.day for m in months][:2] == [datetime.date(2023, 2, 28), datetime.date(2023, 3, 31)]
    assert months[-1].day == datetime.date(2024, 7, 20)
    assert months[0].counts == {"not_assessed": 4}
    assert months[1].counts == {"not_implemented": 1, "fully_implemented": 1, "not_assessed": 2}
    assert months[-1].counts == {
        "partially_implemented": 1,
        "mostly_implemented": 1,
        "fully_implemented": 1,
        "not_assessed": 1,
    }


def test_it_refuses_a_progress_period_too_long_to_draw(world: World):
    with pytest.raises(ValueError, match="at most 60"):
        reports.progress(
            reports.ReportFilters(start=datetime.date(2010, 1, 1), end=datetime.date(2020, 1, 1))
        )


def test_it_lists_what_changed_between_two_days(world: World):
    rows = reports.changes(
        reports.ReportFilters(), datetime.date(2024, 1, 1), datetime.date(2024, 12, 31)
    )

    assert {row.recommendation.code for row in rows} == {"r1-0-a", "r1-0-b", "r1-0-c"}
    first = next(row for row in rows if row.recommendation.code == "r1-0-a")
    assert first.before.headline == Status.NOT_IMPLEMENTED
    assert first.after.headline == Status.PARTIALLY_IMPLEMENTED
    assert [(org.slug, old, new) for org, old, new in first.assessor_changes] == [
        ("alice-ngo", "not_implemented", "partially_implemented")
    ]
    only_bob = reports.changes(
        reports.ReportFilters(assessor=world.bob_org),
        datetime.date(2024, 1, 1),
        datetime.date(2024, 12, 31),
    )
    assert {row.recommendation.code for row in only_bob} == {"r1-0-b", "r1-0-c"}


def test_it_shows_a_draft_with_the_provisions_of_the_law_it_became(world: World):
    report = reports.instrument_report(world.draft, reports.ReportFilters())  # type: ignore[arg-type]

    assert [part.instrument for part in report.parts] == [world.draft, world.law]
    draft_part, law_part = report.parts
    assert [
        (p.eid, [str(r.link.recommendation) for r in rows]) for p, rows in draft_part.provisions
    ] == [("art_3", ["r1-0-b"])]
    assert [
        (p.eid, [(str(r.link.recommendation), r.status_label) for r in rows])
        for p, rows in law_part.provisions
    ] == [("art_14", [("r1-0-a", "Partially implemented")])]


def test_it_shows_an_instrument_with_statuses_as_of_a_day(world: World):
    report = reports.instrument_report(
        world.law,  # type: ignore[arg-type]
        reports.ReportFilters(as_of=datetime.date(2023, 12, 31)),
    )

    [(_provision, rows)] = report.parts[0].provisions
    assert [r.status_label for r in rows] == ["Not implemented"]


def test_it_shows_each_assessors_timeline_of_a_recommendation(world: World, editor):
    second = Recommendation.objects.get(code="r1-0-b")
    publish(editor, second, world.alice_org, "partially_implemented", LATE)

    links, timelines, then = reports.recommendation_report(second, datetime.date(2023, 6, 1))

    assert [link.provision.eid for link in links] == ["art_3"]  # type: ignore[union-attr]
    assert [(t.assessor.slug, [a.status for a in t.assessments]) for t in timelines] == [
        ("alice-ngo", ["fully_implemented", "partially_implemented"]),
        ("bob-ngo", ["mostly_implemented"]),
    ]
    assert timelines[0].current is not None
    assert timelines[0].current.status == "partially_implemented"
    assert then is not None and then.headline == Status.FULLY_IMPLEMENTED


@pytest.mark.parametrize("as_of", [None, datetime.date(2024, 3, 1)])
def test_it_costs_the_same_queries_whatever_the_size(editor, alice_org, bob_org, as_of):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost() -> int:
        filters = reports.ReportFilters(as_of=as_of)
        with CaptureQueriesContext(connection) as captured:
            reports.overview(filters)
            reports.recommendation_list(filters)
            reports.changes(filters, datetime.date(2023, 1, 1), datetime.date(2024, 12, 31))
            reports.progress(
                reports.ReportFilters(
                    start=datetime.date(2024, 1, 1), end=datetime.date(2024, 6, 30)
                )
            )
        return len(captured)

    populate(editor, alice_org, bob_org, 1)
    small = cost()
    populate(editor, alice_org, bob_org, 6)
    assert cost() == small


@pytest.mark.parametrize(
    "filters",
    [
        reports.ReportFilters(as_of=datetime.date(2024, 1, 1)),
        reports.ReportFilters(as_of=datetime.date(2024, 12, 31), status="mostly_implemented"),
        reports.ReportFilters(as_of=datetime.date(2023, 6, 1), status="not_assessed"),
    ],
)
def test_it_lists_as_of_a_day_what_the_history_gives(world: World, filters):

    assert filters.as_of is not None
    history = statuses_as_of(filters.as_of, known_at=timezone.now())
    expected = []
    for recommendation in Recommendation.objects.order_by("code"):
        status = history.get(recommendation.pk)
        headline = status.headline if status else Status.NOT_ASSESSED
        if filters.status and headline != filters.status:
            continue
        expected.append((recommendation.code, headline, bool(status and status.disputed)))

    listed = reports.recommendation_list(filters)

    assert [(i.recommendation.code, i.headline, i.disputed) for i in listed] == expected
    assert listed.count() == len(expected) == reports.recommendation_count(filters)
    assert [i.recommendation.code for i in listed[1:2]] == [code for code, *_ in expected[1:2]]
