"""As-of and between-dates answers on hand-built timelines."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from recommendations import selectors, services
from recommendations.choices import Status
from tests import factories

D = datetime.date


def publish(editor, assessor, rec, status, since, **kwargs):
    return services.assessment_record(
        recommendation=rec,
        assessor=assessor,
        recorded_by=editor,
        status=status,
        status_since=since,
        evidence="e",
        publish=True,
        **kwargs,
    )


@pytest.fixture
def timeline(editor, alice_org, bob_org, issuer):
    """Two recommendations, two assessors, a back-dated entry, a correction and a draft.

    rec-1, Alice: not_implemented from 2020-01-01, partially from 2021-06-01,
           fully from 2022-01-01 (wrong, corrected to mostly from 2022-01-01);
           a back-dated not_implemented from 2019-01-01 recorded last.
    rec-1, Bob:   fully from 2021-01-01.
    rec-2, Bob:   draft only (never counts).
    """
    rec1 = factories.recommendation(issuer, "rec-1", issued_on=D(2019, 1, 1))
    rec2 = factories.recommendation(issuer, "rec-2", issued_on=D(2019, 1, 1))
    publish(editor, alice_org, rec1, Status.NOT_IMPLEMENTED, D(2020, 1, 1))
    publish(editor, alice_org, rec1, Status.PARTIALLY_IMPLEMENTED, D(2021, 6, 1))
    wrong = publish(editor, alice_org, rec1, Status.FULLY_IMPLEMENTED, D(2022, 1, 1))
    before_correction = timezone.now()
    publish(
        editor,
        alice_org,
        rec1,
        Status.MOSTLY_IMPLEMENTED,
        D(2022, 1, 1),
        corrects=wrong,
        correction_reason="Only most articles were amended.",
    )
    publish(editor, alice_org, rec1, Status.NOT_IMPLEMENTED, D(2019, 1, 1))
    publish(editor, bob_org, rec1, Status.FULLY_IMPLEMENTED, D(2021, 1, 1))
    services.assessment_record(
        recommendation=rec2,
        assessor=bob_org,
        recorded_by=editor,
        status=Status.FULLY_IMPLEMENTED,
        status_since=D(2020, 1, 1),
        evidence="draft",
    )
    return {
        "rec1": rec1,
        "rec2": rec2,
        "alice": alice_org.pk,
        "bob": bob_org.pk,
        "before_correction": before_correction,
    }


@pytest.mark.parametrize(
    ("day", "alice", "bob", "headline", "disputed"),
    [
        (D(2018, 12, 31), None, None, Status.NOT_ASSESSED, False),
        (D(2019, 6, 1), Status.NOT_IMPLEMENTED, None, Status.NOT_IMPLEMENTED, False),
        (D(2020, 6, 1), Status.NOT_IMPLEMENTED, None, Status.NOT_IMPLEMENTED, False),
        (
            D(2021, 1, 1),
            Status.NOT_IMPLEMENTED,
            Status.FULLY_IMPLEMENTED,
            Status.NOT_IMPLEMENTED,
            True,
        ),
        (
            D(2021, 7, 1),
            Status.PARTIALLY_IMPLEMENTED,
            Status.FULLY_IMPLEMENTED,
            Status.PARTIALLY_IMPLEMENTED,
            True,
        ),
        # The correction replaces the wrong "fully" for every day it covered.
        (
            D(2023, 1, 1),
            Status.MOSTLY_IMPLEMENTED,
            Status.FULLY_IMPLEMENTED,
            Status.MOSTLY_IMPLEMENTED,
            True,
        ),
    ],
)
def test_it_answers_the_status_on_any_day(
    timeline, day, alice, bob, headline, disputed, django_assert_num_queries
):
    with django_assert_num_queries(1):
        result = selectors.statuses_as_of(day)
    status = result.get(timeline["rec1"].pk, selectors.NOT_ASSESSED)
    assert status.by_assessor.get(timeline["alice"]) == alice
    assert status.by_assessor.get(timeline["bob"]) == bob
    assert (status.headline, status.disputed) == (headline, disputed)
    assert timeline["rec2"].pk not in result  # drafts never count


def test_it_agrees_with_the_stored_headline_today(timeline):
    today = selectors.statuses_as_of(timezone.localdate())
    rec1 = timeline["rec1"]
    rec1.refresh_from_db()
    assert today[rec1.pk].headline == rec1.headline_status
    assert today[rec1.pk].disputed == rec1.disputed


def test_it_answers_what_the_record_said_before_a_correction(timeline):
    then = selectors.statuses_as_of(D(2023, 1, 1), known_at=timeline["before_correction"])
    assert then[timeline["rec1"].pk].by_assessor[timeline["alice"]] == Status.FULLY_IMPLEMENTED


def test_it_lists_changes_between_two_days(timeline, django_assert_num_queries):
    with django_assert_num_queries(2):
        changes = selectors.changes_between(D(2021, 7, 1), D(2023, 1, 1))
    assert [c.recommendation_id for c in changes] == [timeline["rec1"].pk]
    change = changes[0]
    assert change.changed_assessors == {
        timeline["alice"]: (Status.PARTIALLY_IMPLEMENTED, Status.MOSTLY_IMPLEMENTED)
    }
    assert change.before.headline == Status.PARTIALLY_IMPLEMENTED
    assert change.after.headline == Status.MOSTLY_IMPLEMENTED


def test_it_reports_a_new_assessor_as_a_change_from_not_assessed(timeline):
    changes = selectors.changes_between(D(2020, 6, 1), D(2021, 1, 1))
    assert changes[0].changed_assessors == {
        timeline["bob"]: (Status.NOT_ASSESSED, Status.FULLY_IMPLEMENTED)
    }


def test_it_finds_no_change_in_a_quiet_period(timeline):
    assert selectors.changes_between(D(2022, 2, 1), D(2023, 1, 1)) == []


def test_it_refuses_a_period_that_ends_before_it_starts(timeline):
    with pytest.raises(ValueError, match="before its start"):
        selectors.changes_between(D(2023, 1, 1), D(2022, 1, 1))


def test_it_costs_the_same_queries_for_many_recommendations(
    editor, alice_org, issuer, django_assert_num_queries
):
    for i in range(30):
        rec = factories.recommendation(issuer, f"bulk-{i}")
        publish(editor, alice_org, rec, Status.PARTIALLY_IMPLEMENTED, D(2021, 1, 1))
    with django_assert_num_queries(1):
        result = selectors.statuses_as_of(D(2022, 1, 1))
    assert len(result) == 30
    # Checked against a plain count: the window filter must not group before filtering.
    assert sum(1 for s in result.values() if s.headline == Status.PARTIALLY_IMPLEMENTED) == 30


# The kept periods -------------------------------------------------------------


def every_day_around(timeline_days):
    first, last = min(timeline_days), max(timeline_days)
    day = first - datetime.timedelta(days=2)
    while day <= last + datetime.timedelta(days=2):
        yield day
        day += datetime.timedelta(days=1)


def test_it_answers_from_the_periods_what_the_history_says_on_every_day(timeline):
    # `known_at` reads the history itself with the window; without it the
    # answer comes from the kept periods. Both must agree on every day where
    # anything changes, and on the days around.
    boundaries = [D(2019, 1, 1), D(2020, 1, 1), D(2021, 1, 1), D(2021, 6, 1), D(2022, 1, 1)]
    now = timezone.now()
    for boundary in boundaries:
        for day in every_day_around([boundary]):
            assert selectors.statuses_as_of(day) == selectors.statuses_as_of(day, known_at=now), day


def test_it_keeps_the_headline_periods_the_assessors_give(timeline):
    from recommendations.models import HeadlinePeriod

    rows = list(
        HeadlinePeriod.objects.filter(recommendation=timeline["rec1"]).values_list(
            "valid_from", "valid_until", "headline", "disputed"
        )
    )
    assert rows == [
        (D(2019, 1, 1), D(2021, 1, 1), Status.NOT_IMPLEMENTED, False),
        (D(2021, 1, 1), D(2021, 6, 1), Status.NOT_IMPLEMENTED, True),
        (D(2021, 6, 1), D(2022, 1, 1), Status.PARTIALLY_IMPLEMENTED, True),
        (D(2022, 1, 1), None, Status.MOSTLY_IMPLEMENTED, True),
    ]
    assert not HeadlinePeriod.objects.filter(recommendation=timeline["rec2"]).exists()


def test_it_rewrites_only_the_periods_a_publication_changes(
    timeline, editor, alice_org, django_assert_max_num_queries
):
    from recommendations.models import StatusPeriod

    untouched = StatusPeriod.objects.get(
        recommendation=timeline["rec1"], assessor=alice_org, valid_from=D(2019, 1, 1)
    )
    publish(editor, alice_org, timeline["rec1"], Status.FULLY_IMPLEMENTED, D(2024, 1, 1))
    assert StatusPeriod.objects.filter(pk=untouched.pk).exists()
    last = StatusPeriod.objects.get(
        recommendation=timeline["rec1"], assessor=alice_org, valid_from=D(2022, 1, 1)
    )
    assert last.valid_until == D(2024, 1, 1)
    assert (
        StatusPeriod.objects.get(
            recommendation=timeline["rec1"], assessor=alice_org, valid_from=D(2024, 1, 1)
        ).status
        == Status.FULLY_IMPLEMENTED
    )
