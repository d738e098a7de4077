"""The report's numbers equal the API's, and, for past days, a plain recomputation."""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from recommendations import reports
from recommendations.choices import ReviewState, Status, headline_from
from recommendations.models import Recommendation, StatusAssessment
from recommendations.services import current_from_history
from tests.reports.conftest import World, populate
from tracker.models import Organisation

FILTER_SETS: list[dict[str, str]] = [
    {},
    {"issued_by": "osce"},
    {"theme": "labour"},
    {"assessor": "bob-ngo"},
    {"country": "UZ"},
    {"issued_by": "osce", "assessor": "alice-ngo"},
]


def api_rows(client: Client, query: dict[str, str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    url: str | None = reverse("recommendation-list") + "?page_size=500"
    params: dict[str, str] | None = query
    while url:
        response = client.get(url, params)
        assert response.status_code == 200, response.content
        body = response.json()
        rows += body["results"]
        url, params = body.get("next"), None
    return rows


@pytest.fixture
def bigger_world(editor, alice_org, bob_org) -> World:
    populate(editor, alice_org, bob_org, 2)
    return populate(editor, alice_org, bob_org, 3)


@pytest.mark.parametrize("query", FILTER_SETS)
def test_it_gives_the_numbers_the_api_gives(
    client: Client, editor, donor, bigger_world: World, query: dict[str, str]
):
    client.force_login(editor)
    from_api = api_rows(client, query)
    overdue_from_api = api_rows(client, {**query, "overdue": "true"})

    form = reports.ReportFilterForm(query)
    assert form.is_valid(), form.errors
    overview = reports.overview(reports.ReportFilters.from_form(form))

    assert overview.by_status == dict(Counter(row["headline_status"] for row in from_api))
    assert overview.total == len(from_api)
    assert overview.disputed == sum(row["disputed"] for row in from_api)
    assert overview.overdue == len(overdue_from_api)

    client.force_login(donor)
    page = client.get(reverse("reports:overview"), query).content.decode()
    assert f'id="total">{len(from_api)}<' in page
    assert f'id="overdue">{len(overdue_from_api)}<' in page


def plain_status_on(recommendation: Recommendation, day: datetime.date) -> tuple[Status, bool]:
    """The headline on `day`, recomputed by the services' own rule from the raw history."""
    published = StatusAssessment.objects.filter(
        recommendation=recommendation,
        review_state=ReviewState.PUBLISHED,
        status_since__lte=day,
    )
    current = current_from_history(published)
    return headline_from(a.status for a in current.values())


@pytest.mark.parametrize(
    "day", [datetime.date(2023, 1, 1), datetime.date(2023, 6, 1), datetime.date(2024, 7, 1)]
)
@pytest.mark.parametrize("query", FILTER_SETS)
def test_it_gives_past_numbers_a_plain_recomputation_gives(
    bigger_world: World, day: datetime.date, query: dict[str, str]
):
    form = reports.ReportFilterForm({**query, "as_of": day.isoformat()})
    assert form.is_valid(), form.errors
    filters = reports.ReportFilters.from_form(form)
    overview = reports.overview(filters)

    expected: Counter[str] = Counter()
    disputed = 0
    for recommendation in Recommendation.objects.all():
        if query.get("issued_by") and recommendation.issued_by.slug != query["issued_by"]:
            continue
        if query.get("country") and recommendation.country != query["country"]:
            continue
        if query.get("theme") and not recommendation.themes.filter(slug=query["theme"]).exists():
            continue
        if query.get("assessor"):
            assessor = Organisation.objects.get(slug=query["assessor"])
            if not recommendation.assessments.filter(
                assessor=assessor, review_state=ReviewState.PUBLISHED, status_since__lte=day
            ).exists():
                continue
        headline, is_disputed = plain_status_on(recommendation, day)
        expected[headline] += 1
        disputed += is_disputed

    assert overview.by_status == dict(expected)
    assert overview.disputed == disputed
