"""The report pages: access, filters in the URL, bad input, evidence visibility, query counts."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recommendations.choices import Visibility
from recommendations.models import Recommendation
from tests.reports.conftest import LATE, World, populate, publish


@pytest.fixture
def donor_client(client: Client, donor) -> Client:
    client.force_login(donor)
    return client


def pages(world: World) -> list[str]:
    return [
        reverse("reports:overview"),
        reverse("reports:progress"),
        reverse("reports:changes"),
        reverse("reports:list"),
        reverse("reports:instrument", args=[world.draft.slug]),  # type: ignore[attr-defined]
        reverse("reports:recommendation", args=["r1-0-b"]),
    ]


def test_it_sends_anonymous_visitors_to_sign_in(client: Client, world: World):
    response = client.get(reverse("reports:overview"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("reports:login"))


def test_signing_in_with_nowhere_to_go_back_to_opens_the_reports(client: Client, donor):
    response = client.post(reverse("reports:login"), {"username": "dana", "password": "pw-dana"})

    assert response.status_code == 302
    assert response["Location"] == reverse("reports:overview")
    assert client.get(response["Location"]).status_code == 200


def test_it_refuses_roles_that_may_not_read_reports(client: Client, partner, world: World):
    client.force_login(partner)

    assert client.get(reverse("reports:overview")).status_code == 403


def test_it_opens_to_everybody_when_reports_are_public(client: Client, world: World, settings):
    settings.REPORTS_PUBLIC = True

    response = client.get(reverse("reports:overview"))

    assert response.status_code == 200
    assert b'id="total">4<' in response.content


def test_it_serves_every_page_to_a_donor(donor_client: Client, world: World):
    for url in pages(world):
        response = donor_client.get(url, {"issued_by": "osce", "as_of": "2024-03-01"})
        assert response.status_code == 200, url
        assert b"Issuing body: <strong>OSCE</strong>" in response.content, url


def test_it_keeps_the_filters_in_the_links_it_gives(donor_client: Client, world: World):
    response = donor_client.get(reverse("reports:overview"), {"theme": "labour"})

    content = response.content.decode()
    assert f"{reverse('reports:export', args=['overview', 'csv'])}?theme=labour" in content
    assert f"{reverse('reports:progress')}?theme=labour" in content
    assert 'id="total">2<' in content


def test_it_draws_accessible_charts_with_their_numbers_as_a_table(
    donor_client: Client, world: World
):
    content = donor_client.get(reverse("reports:overview")).content.decode()

    assert content.count('role="img"') == 2
    assert "<title" in content and "<desc" in content
    assert "Partially implemented: 1" in content  # the description carries the numbers
    assert 'id="status-table"' in content
    assert "<script" not in content


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"issued_by": "nobody"}, "No issuing body has the key “nobody”."),
        ({"theme": "nothing"}, "No theme has the key “nothing”."),
        ({"instrument": "nowhere"}, "No instrument has the key “nowhere”."),
        ({"assessor": "ghost"}, "No assessor has the key “ghost”."),
        ({"country": "XX"}, "No country has the code “XX”."),
        ({"status": "done"}, "No status is called “done”."),
        ({"as_of": "2024-02-30"}, "As of: give a real date as YYYY-MM-DD."),
        ({"as_of": "yesterday"}, "As of: give a real date as YYYY-MM-DD."),
        ({"as_of": "2999-01-01"}, "As of: 2999-01-01 is in the future."),
        ({"from": "2024-05-01", "to": "2024-01-01"}, "From (2024-05-01) comes after To"),
    ],
)
def test_it_explains_bad_filters_on_every_page(
    donor_client: Client, world: World, query: dict[str, str], message: str
):
    for url in [*pages(world), reverse("reports:export", args=["list", "csv"])]:
        response = donor_client.get(url, query)
        assert response.status_code == 400, url
        assert message in response.content.decode(), url


def test_it_explains_a_progress_period_too_long(donor_client: Client, world: World):
    response = donor_client.get(reverse("reports:progress"), {"from": "2000-01-01"})

    assert response.status_code == 400
    assert "choose at most 60" in response.content.decode()


def test_it_asks_for_two_dates_before_listing_changes(donor_client: Client, world: World):
    without = donor_client.get(reverse("reports:changes"))
    with_dates = donor_client.get(
        reverse("reports:changes"), {"from": "2024-01-01", "to": "2024-12-31"}
    )

    assert "Choose <strong>From</strong>" in without.content.decode()
    assert "3 recommendations changed status" in with_dates.content.decode()


def test_it_shows_evidence_only_as_its_visibility_allows(
    client: Client, world: World, editor, donor, alice
):
    recommendation = Recommendation.objects.get(code="r1-0-c")
    publish(
        editor,
        recommendation,
        world.alice_org,
        "mostly_implemented",
        LATE,
        visibility=Visibility.INTERNAL,
    )
    url = reverse("reports:recommendation", args=["r1-0-c"])

    client.force_login(donor)
    as_donor = client.get(url).content.decode()
    client.force_login(editor)
    as_editor = client.get(url).content.decode()

    assert "Evidence that it is fully_implemented" in as_donor  # public
    assert "Evidence that it is mostly_implemented" not in as_donor
    assert "visible to internal readers only" in as_donor
    assert "Evidence that it is mostly_implemented" in as_editor


def test_it_answers_404_for_unknown_instruments_and_recommendations(
    donor_client: Client, world: World
):
    assert donor_client.get(reverse("reports:instrument", args=["nope"])).status_code == 404
    assert donor_client.get(reverse("reports:recommendation", args=["nope"])).status_code == 404


@pytest.mark.parametrize("as_of", ["", "2024-03-01"])
def test_it_costs_the_same_queries_on_every_page_whatever_the_size(
    client: Client, donor, editor, alice_org, bob_org, as_of: str
):
    client.force_login(donor)

    def costs(world: World) -> list[int]:
        result = []
        urls = [
            *pages(world),
            reverse("reports:recommendation", args=[f"r{len(world.recommendations) // 4}-0-a"]),
            reverse("reports:export", args=["overview", "csv"]),
            reverse("reports:export", args=["list", "xlsx"]),
        ]
        for url in urls:
            query = {"as_of": as_of, "from": "2024-01-01", "to": "2024-06-30"}
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url, query).status_code == 200, url
            result.append(len(captured))
        return result

    small = costs(populate(editor, alice_org, bob_org, 1))
    large = costs(populate(editor, alice_org, bob_org, 8))
    assert large == small


def test_it_shows_statuses_as_of_a_day_on_the_list(donor_client: Client, world: World):
    then = donor_client.get(reverse("reports:list"), {"as_of": "2023-12-31"}).content.decode()
    now = donor_client.get(reverse("reports:list")).content.decode()

    assert "<td>Not implemented" in then and "<td>Partially implemented" not in then
    assert "<td>Partially implemented" in now
    assert datetime.date(2023, 12, 31).isoformat() in then


def test_it_stacks_each_status_after_the_one_before(world: World):
    from recommendations import charts

    chart = charts.stacked_status_bars("Stacked", [("OSCE", [4, 2, 0, 0, 0, 0])])

    # Two bars, the second starting where the first ends: widths 4 and 2 at
    # offsets 0 and 4 give an axis reaching 6.
    assert "Not assessed 4, Not implemented 2" in chart.description
    assert ">6<" in chart.svg.replace(" ", "")


def test_it_pages_the_changes_in_code_order(
    donor_client: Client, world: World, monkeypatch: pytest.MonkeyPatch
):
    from recommendations import views

    monkeypatch.setattr(views, "LIST_PAGE_SIZE", 2)
    period: dict[str, str] = {"from": "2024-01-01", "to": "2024-12-31"}
    first = donor_client.get(reverse("reports:changes"), period).content.decode()
    second = donor_client.get(reverse("reports:changes"), {**period, "page": "2"}).content.decode()

    assert "3 recommendations changed status" in first
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert "r1-0-a" in first and "r1-0-b" in first and "r1-0-c" not in first
    assert "r1-0-c" in second and "r1-0-a" not in second


def test_it_draws_a_chart_once_for_the_same_numbers():
    from recommendations import charts

    once = charts.status_bars("Memo", {"fully_implemented": 3})
    again = charts.status_bars("Memo", {"fully_implemented": 3})
    other = charts.status_bars("Memo", {"fully_implemented": 4})

    assert again.svg is once.svg
    assert other.svg != once.svg
    assert ">4<" in other.svg
