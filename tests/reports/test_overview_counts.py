"""The overview's counts that PostgreSQL keeps on write, against a recount."""

from __future__ import annotations

import datetime

import pytest

from recommendations import reports, services
from recommendations.models import AsOfCount, OverviewCount, ProvisionLink, Recommendation
from recommendations.verification import overview_problems
from tests import factories
from tests.reports.conftest import EARLY, LATE, World, numbers, publish, waits_for_this_transaction

pytestmark = pytest.mark.postgres


def assert_counts_agree() -> None:
    counted = numbers(reports.overview_from_counts())
    assert counted == numbers(reports.overview_recounted(reports.ReportFilters()))
    assert list(overview_problems()) == []


def instrument_row(status: str) -> dict[str, int]:
    breakdowns = {b.slug: b for b in reports.overview_from_counts().breakdowns}
    return {row.key: row.counts.get(status, 0) for row in breakdowns["instrument"].rows}


def test_it_counts_what_a_recount_gives(world: World):
    overview = reports.overview(reports.ReportFilters())
    assert overview.total == 4
    assert overview.by_status == {
        "partially_implemented": 1,
        "mostly_implemented": 1,
        "fully_implemented": 1,
        "not_assessed": 1,
    }
    assert overview.disputed == 1
    assert_counts_agree()


def test_it_counts_a_recommendation_once_however_many_links_join_it_to_an_instrument(
    world: World,
):
    first = world.recommendations[0]
    article = ProvisionLink.objects.get(recommendation=first).provision
    assert article is not None
    assert instrument_row("partially_implemented")[world.law.slug] == 1  # type: ignore[attr-defined]
    # A second and a third link to the same law (its other articles), one of
    # them in a bulk insert together with a link to the draft: the law still
    # counts the recommendation once, the draft now counts it too.
    law = article.instrument
    services.provision_link_create(
        key="again",
        relation="to_change",
        recommendation=first,
        provision=factories.provision(law, "art_15"),
    )
    ProvisionLink.objects.bulk_create(
        [
            ProvisionLink(
                key="third",
                relation="to_change",
                recommendation=first,
                instrument=law,
                provision=factories.provision(law, "art_16"),
            ),
            ProvisionLink(
                key="to-draft",
                relation="to_change",
                recommendation=first,
                instrument=world.draft,  # type: ignore[misc]
            ),
        ]
    )
    counts = instrument_row("partially_implemented")
    assert counts[world.law.slug] == 1  # type: ignore[attr-defined]
    assert counts[world.draft.slug] == 1  # type: ignore[attr-defined]
    assert_counts_agree()
    # Removing all but one of the law's links keeps it; removing that one drops it.
    ProvisionLink.objects.filter(recommendation=first, key__in=["again", "third"]).delete()
    assert instrument_row("partially_implemented")[world.law.slug] == 1  # type: ignore[attr-defined]
    ProvisionLink.objects.filter(recommendation=first, instrument=article.instrument).delete()
    assert world.law.slug not in instrument_row("partially_implemented")  # type: ignore[attr-defined]
    assert_counts_agree()


def test_it_moves_a_recommendation_whose_facts_change(world: World, editor):
    first, second, third, fourth = world.recommendations
    first.themes.remove(world.labour)
    fourth.themes.add(world.labour)
    Recommendation.objects.filter(pk=second.pk).update(issued_by=world.issuer, country="KZ")
    third.refresh_from_db()
    third.follow_up_due = datetime.date(2020, 1, 1)
    third.save()
    assert_counts_agree()
    # A new headline and a correction move every breakdown at once.
    publish(editor, first, world.bob_org, "not_implemented", LATE)
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
    assert_counts_agree()
    overview = reports.overview(reports.ReportFilters())
    assert overview.by_status.get("not_assessed", 0) == 0


def test_it_counts_added_and_removed_recommendations(world: World, editor):
    extra = factories.recommendation(world.other_issuer, "extra", country="TJ")
    extra.themes.add(world.labour)
    publish(editor, extra, world.alice_org, "mostly_implemented", LATE)
    assert reports.overview(reports.ReportFilters()).total == 5
    assert_counts_agree()
    extra.themes.clear()
    # Assessments are append-only, so only a recommendation nobody assessed can go.
    bare = factories.recommendation(world.other_issuer, "bare")
    bare.themes.add(world.labour)
    assert reports.overview(reports.ReportFilters()).total == 6
    bare.delete()
    assert reports.overview(reports.ReportFilters()).total == 5
    assert_counts_agree()


def test_it_folds_the_rows_without_changing_the_numbers(world: World, editor):
    publish(editor, world.recommendations[3], world.bob_org, "not_implemented", LATE)
    before = numbers(reports.overview_from_counts())
    rows_before = OverviewCount.objects.count() + AsOfCount.objects.count()
    removed = services.overview_counts_compact()
    assert removed > 0
    assert OverviewCount.objects.count() + AsOfCount.objects.count() == rows_before - removed
    # One row per number that is not zero, none repeated.
    assert OverviewCount.objects.filter(n=0).count() == 0
    assert numbers(reports.overview_from_counts()) == before
    assert services.overview_counts_compact() == 0


def test_it_notices_counts_that_drifted(world: World):
    OverviewCount.objects.create(dimension="status", key="", status="fully_implemented", n=3)
    problems = list(overview_problems())
    assert "overview counts: total is 7, a recount gives 4" in problems
    assert any(problem.startswith("overview counts: by_status is") for problem in problems)


def test_it_reads_the_overview_in_a_fixed_number_of_queries(
    world: World, editor, alice_org, bob_org, django_assert_max_num_queries
):
    from tests.reports.conftest import populate

    with django_assert_max_num_queries(5):
        reports.overview(reports.ReportFilters())
    populate(editor, alice_org, bob_org, 5)
    with django_assert_max_num_queries(5):
        reports.overview(reports.ReportFilters())


@pytest.mark.django_db(transaction=True)
def test_it_counts_a_link_added_while_another_transaction_changes_the_headline(
    editor, alice_org, bob_org
):
    # One transaction changes a recommendation's headline; another links it to
    # an instrument meanwhile. The link's count must land under the headline
    # that is committed in the end, whichever transaction reaches it first:
    # it waits for this transaction instead of counting under the headline
    # it would otherwise still read.
    world = populate_one(editor, alice_org, bob_org)
    fourth = world.recommendations[3]

    def link_meanwhile() -> None:
        ProvisionLink.objects.create(
            key="meanwhile",
            relation="to_change",
            recommendation=fourth,
            instrument=world.law,  # type: ignore[misc]
        )

    with waits_for_this_transaction(link_meanwhile):
        Recommendation.objects.select_for_update().filter(pk=fourth.pk).update(
            headline_status="fully_implemented"
        )
    counts = instrument_row("fully_implemented")
    assert counts[world.law.slug] == 1  # type: ignore[attr-defined]
    law_counts = instrument_counts_of(world.law.slug)  # type: ignore[attr-defined]
    assert "not_assessed" not in {status for status, n in law_counts.items() if n}
    assert list(overview_problems()) == []


def populate_one(editor, alice_org, bob_org) -> World:
    from tests.reports.conftest import populate

    return populate(editor, alice_org, bob_org, 1)


def instrument_counts_of(slug: str) -> dict[str, int]:
    breakdowns = {b.slug: b for b in reports.overview_from_counts().breakdowns}
    return next(row.counts for row in breakdowns["instrument"].rows if row.key == slug)
