"""The overview as of past days from the counts PostgreSQL keeps, against a recount."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection, transaction

from recommendations import reports, services
from recommendations.models import (
    AsOfCount,
    AsOfPending,
    HeadlinePeriod,
    ProvisionLink,
    Recommendation,
    StatusPeriod,
)
from recommendations.verification import as_of_problems
from tests import factories
from tests.reports.conftest import (
    EARLY,
    LATE,
    World,
    numbers,
    populate,
    publish,
    waits_for_this_transaction,
)

pytestmark = pytest.mark.postgres


def boundary_days() -> set[datetime.date]:
    """Every day on which some count could change, the days either side, and today."""
    days = {datetime.date(2000, 1, 1), datetime.date.today()}
    for model in (HeadlinePeriod, StatusPeriod):
        for start, until in model.objects.values_list("valid_from", "valid_until"):
            days.update(d for d in (start, until) if d)
    for issued, due in Recommendation.objects.values_list("issued_on", "follow_up_due"):
        days.update(d for d in (issued, due) if d)
    one = datetime.timedelta(days=1)
    return {d + shift for d in days for shift in (-one, 0 * one, one)}


def assert_as_of_agrees() -> None:
    for day in sorted(boundary_days()):
        counted = numbers(reports.overview_as_of_from_counts(day))
        recounted = numbers(reports.overview_recounted(reports.ReportFilters(as_of=day)))
        assert counted == recounted, day
    assert list(as_of_problems()) == []


def test_it_counts_every_day_as_a_recount_does(world: World):
    assert_as_of_agrees()
    before = reports.overview(reports.ReportFilters(as_of=EARLY - datetime.timedelta(days=1)))
    assert before.by_status == {"not_assessed": 4}
    on_late = reports.overview(reports.ReportFilters(as_of=LATE))
    assert on_late.by_status == {
        "partially_implemented": 1,
        "mostly_implemented": 1,
        "fully_implemented": 1,
        "not_assessed": 1,
    }
    assert on_late.disputed == 1
    assert on_late.overdue == 1  # the first: due 2024-01-01 and not closed


def test_it_moves_every_past_day_when_a_recommendations_facts_change(world: World, editor):
    first, second, third, fourth = world.recommendations
    first.themes.remove(world.labour)
    fourth.themes.add(world.labour)
    Recommendation.objects.filter(pk=second.pk).update(issued_by=world.issuer, country="KZ")
    # Issued later than its first assessment: the days before no longer count it.
    Recommendation.objects.filter(pk=first.pk).update(issued_on=datetime.date(2023, 9, 1))
    third.refresh_from_db()
    third.follow_up_due = datetime.date(2020, 1, 1)
    third.save()
    assert_as_of_agrees()
    # A back-dated assessment and a correction rewrite the past.
    publish(editor, first, world.bob_org, "not_implemented", datetime.date(2022, 5, 1))
    wrong = publish(editor, fourth, world.alice_org, "fully_implemented", EARLY)
    publish(
        editor,
        fourth,
        world.alice_org,
        "no_longer_relevant",
        EARLY,
        corrects=wrong,
        correction_reason="The law was repealed.",
    )
    assert_as_of_agrees()


def test_it_counts_links_and_recommendations_added_and_removed(world: World, editor):
    first = world.recommendations[0]
    law = world.law
    ProvisionLink.objects.bulk_create(
        [
            ProvisionLink(
                key=f"more-{eid}",
                relation="to_change",
                recommendation=first,
                instrument=law,  # type: ignore[misc]
                provision=factories.provision(law, eid),  # type: ignore[arg-type]
            )
            for eid in ("art_20", "art_21")
        ]
    )
    assert_as_of_agrees()
    ProvisionLink.objects.filter(recommendation=first).delete()
    assert_as_of_agrees()
    extra = factories.recommendation(world.other_issuer, "extra", country="TJ", issued_on=None)
    extra.themes.add(world.labour)
    publish(editor, extra, world.alice_org, "mostly_implemented", LATE)
    bare = factories.recommendation(world.other_issuer, "bare")
    bare.themes.add(world.labour)
    assert reports.overview(reports.ReportFilters(as_of=LATE)).total == 6
    assert_as_of_agrees()
    bare.delete()
    assert reports.overview(reports.ReportFilters(as_of=LATE)).total == 5
    assert_as_of_agrees()


def test_it_folds_the_rows_without_changing_any_day(world: World, editor):
    publish(editor, world.recommendations[3], world.bob_org, "not_implemented", LATE)
    before = {day: numbers(reports.overview_as_of_from_counts(day)) for day in boundary_days()}
    rows_before = AsOfCount.objects.count()
    assert services.overview_counts_compact() > 0
    assert AsOfCount.objects.count() < rows_before
    assert not AsOfCount.objects.filter(n=0).exists()
    after = {day: numbers(reports.overview_as_of_from_counts(day)) for day in boundary_days()}
    assert after == before


def test_it_notices_counts_that_drifted(world: World):
    AsOfCount.objects.create(
        monthly=False, day=LATE, dimension="status", key="", status="fully_implemented", n=1
    )
    problems = list(as_of_problems([LATE]))
    assert "as-of counts: status fully_implemented in 2024-06 is not the sum of its days" in (
        problems
    )
    assert f"as-of counts on {LATE}: total is 5, a recount gives 4" in problems


def test_it_reads_a_past_day_in_a_fixed_number_of_queries(
    world: World, editor, alice_org, bob_org, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4):
        reports.overview(reports.ReportFilters(as_of=LATE))
    populate(editor, alice_org, bob_org, 5)
    with django_assert_max_num_queries(4):
        reports.overview(reports.ReportFilters(as_of=LATE))


@pytest.mark.django_db(transaction=True)
def test_it_counts_a_link_added_while_another_transaction_publishes(editor, alice_org, bob_org):
    # One transaction publishes an assessment of a recommendation; another
    # links it to an instrument meanwhile. The link must count under the
    # periods committed in the end, not the ones it would read before.
    world = populate(editor, alice_org, bob_org, 1)
    fourth = world.recommendations[3]
    with waits_for_this_transaction(lambda: link(fourth, world.law, "meanwhile")):
        publish(editor, fourth, alice_org, "fully_implemented", EARLY)
    assert_as_of_agrees()


def link(recommendation: Recommendation, instrument: object, key: str) -> ProvisionLink:
    return ProvisionLink.objects.create(
        key=key,
        relation="to_change",
        recommendation=recommendation,
        instrument=instrument,  # type: ignore[misc]
    )


def loaded_in_bulk(world: World, editor, code: str) -> Recommendation:
    """A recommendation written as a bulk load writes it: named pending first, so uncounted."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('recommendations_recommendation', 'id'))"
            )
            (pk,) = cursor.fetchone()
        AsOfPending.objects.create(recommendation_id=pk)
        recommendation = factories.recommendation(
            world.issuer, code, pk=pk, follow_up_due=datetime.date(2023, 1, 1)
        )
        recommendation.themes.add(world.labour)
        link(recommendation, world.law, f"{code}-law")
        publish(editor, recommendation, world.alice_org, "fully_implemented", EARLY)
    return recommendation


def test_it_counts_a_bulk_loads_recommendations_at_the_next_compaction(world: World, editor):
    loaded = loaded_in_bulk(world, editor, "loaded")
    assert reports.overview(reports.ReportFilters(as_of=LATE)).total == 4  # not yet counted
    assert list(as_of_problems()) == [
        "as-of counts: 1 recommendations left by a bulk load await their counts; "
        "the next compaction (overview_counts_compact) adds them"
    ]
    # Changes before the count are in what it counts, once.
    publish(editor, loaded, world.bob_org, "partially_implemented", LATE)
    services.overview_counts_compact()
    assert not AsOfPending.objects.exists()
    assert reports.overview(reports.ReportFilters(as_of=LATE)).total == 5
    assert_as_of_agrees()
    # Counted from then on by the triggers, as any other.
    link(loaded, world.draft, "after")
    loaded.themes.clear()
    assert_as_of_agrees()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("count_first", [True, False], ids=["count-first", "change-first"])
def test_it_counts_a_pending_recommendation_changed_while_it_is_counted(
    count_first: bool, editor, alice_org, bob_org
):
    # Whichever of the two holds the recommendation first, the other waits
    # for it, and the change is counted once.
    world = populate(editor, alice_org, bob_org, 1)
    loaded = loaded_in_bulk(world, editor, "loaded")

    def change() -> None:
        link(loaded, world.draft, "meanwhile")
        publish(editor, loaded, bob_org, "not_implemented", LATE)

    count = services.overview_counts_compact
    first, meanwhile = (count, change) if count_first else (change, count)
    with waits_for_this_transaction(meanwhile):
        first()
    assert not AsOfPending.objects.exists()
    assert_as_of_agrees()
