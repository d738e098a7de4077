"""The recommendations list built from rows (recommendations/api_lists.py) equals the serializer's.

The list page no longer runs `RecommendationSerializer`; these tests are what
keeps the two the same: the same bytes, for every kind of client, with
confidential evidence in the data, in another language, across filtered and
reordered cursor pages.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from recommendations import services as recommendation_services
from recommendations.api import recommendations_for_api
from recommendations.api_lists import (
    PAGE_COLUMNS,
    PlainJSONResponse,
    plain_representation_etag,
    recommendation_documents,
)
from recommendations.models import Recommendation, SdgTarget, Theme
from recommendations.serializers import RecommendationSerializer
from tests import factories
from tests.api.conftest import build_world
from tracker.api import representation_etag
from tracker.benchmarking.runner import first_difference
from tracker.feed import render, synced_entities
from tracker.models import Change

CONFIDENTIAL = "internal evidence that only staff may read"
FOR_PARTNERS = "evidence partners may read"
ODD_TEXT = 'Quote " backslash \\ tab \t line\u2028paragraph\u2029 nul-ish \x01 \x7f кириллица 😀'


@pytest.fixture
def world(alice_org, bob_org, issuer, editor) -> None:
    """Recommendations with every shape the representation has: nulls, empties, many, odd text.

    Written in English whatever language an earlier test's request left
    active: modeltranslation stores `name=` in the active language's column.
    """
    with translation.override("en"):
        _build_odd_world(alice_org, bob_org, issuer, editor)


def _build_odd_world(alice_org, bob_org, issuer, editor) -> None:
    build_world(3, alice_org, editor)
    first = Theme.objects.create(slug="a-theme", name="Zebra", name_ru="Альфа")
    second = Theme.objects.create(slug="b-theme", name="Aardvark", name_ru="Бета")
    goal = SdgTarget.objects.create(code="16.3", title="Rule of law")
    other_goal = SdgTarget.objects.create(code="5.1", title="Discrimination")
    law = factories.instrument("law-odd")
    article = factories.provision(law, "art_2")
    base = factories.recommendation(issuer, "rec-base")
    odd = factories.recommendation(
        issuer,
        "rec-odd",
        text=ODD_TEXT,
        text_ru="Русский текст",
        issued_on=None,
        country="",
        reiterates=base,
    )
    odd.themes.add(first, second)
    odd.sdg_targets.add(goal, other_goal)
    odd.addressed_to.add(bob_org, alice_org)
    recommendation_services.provision_link_create(
        key="link-odd-whole", relation="to_change", recommendation=odd, instrument=law
    )
    recommendation_services.provision_link_create(
        key="link-odd-article",
        relation="to_change",
        recommendation=odd,
        provision=article,
        note=ODD_TEXT,
    )
    for assessor, visibility, evidence in (
        (alice_org, "internal", CONFIDENTIAL),
        (bob_org, "partners", FOR_PARTNERS),
    ):
        recommendation_services.assessment_record(
            recommendation=odd,
            assessor=assessor,
            recorded_by=editor,
            status="partially_implemented",
            status_since=datetime.date(2024, 3, 1),
            evidence=evidence,
            evidence_url="https://example.org/confidential",
            visibility=visibility,
            publish=True,
        )
    # Times at midnight UTC and with microseconds, which render differently.
    Recommendation.objects.filter(code="rec-base").update(
        updated_at=datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    )
    Recommendation.objects.filter(code="rec-odd").update(
        updated_at=datetime.datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.UTC)
    )


def serializer_results(codes: list[str], user: Any) -> Any:
    """What the serializer makes of these recommendations, in this order, for `user`."""
    request = Request(APIRequestFactory().get("/api/v1/recommendations/"))
    request.user = user
    by_code = {row.code: row for row in recommendations_for_api().filter(code__in=codes)}
    data = RecommendationSerializer(
        [by_code[code] for code in codes], many=True, context={"request": request}
    ).data
    # As a client reads it: through DRF's renderer, which writes UUIDs as strings.
    return json.loads(JSONRenderer().render(data))


def clients(alice, partner, editor, administrator) -> dict[str, Any]:
    return {"monitor": alice, "partner": partner, "editor": editor, "staff": administrator}


@pytest.mark.parametrize("client_kind", ["monitor", "partner", "editor", "staff"])
def test_it_sends_the_serializers_bytes_and_etag_to_every_client(
    world, api, alice, partner, editor, administrator, client_kind
):
    user = clients(alice, partner, editor, administrator)[client_kind]
    api.force_authenticate(user)
    response = api.get("/api/v1/recommendations/?page_size=100")
    assert response.status_code == 200
    codes = list(Recommendation.objects.order_by("code").values_list("code", flat=True))
    expected = {"next": None, "previous": None, "results": serializer_results(codes, user)}
    assert response.content == JSONRenderer().render(expected)
    assert response["Content-Type"] == "application/json"
    assert response["ETag"] == representation_etag(expected)
    # A recommendation shows no evidence at all, whoever asks.
    assert CONFIDENTIAL.encode() not in response.content
    assert FOR_PARTNERS.encode() not in response.content
    assert b"\\u2028" in response.content


def test_it_builds_the_serializers_documents_for_an_anonymous_client_too(world):
    rows = list(Recommendation.objects.order_by("code").values(*PAGE_COLUMNS))
    documents = recommendation_documents(rows)
    expected = serializer_results([row["code"] for row in rows], AnonymousUser())
    assert JSONRenderer().render(documents) == JSONRenderer().render(expected)
    assert CONFIDENTIAL not in str(documents)


def test_it_follows_the_language_and_time_zone_of_the_request(world, api, partner):
    api.force_authenticate(partner)
    with timezone.override("UTC"):
        response = api.get("/api/v1/recommendations/?page_size=100", HTTP_ACCEPT_LANGUAGE="ru")
        codes = list(Recommendation.objects.order_by("code").values_list("code", flat=True))
        with translation.override("ru"):
            expected = serializer_results(codes, partner)
    odd = next(row for row in response.json()["results"] if row["code"] == "rec-odd")
    assert odd["text"] == "Русский текст"
    assert odd["themes"] == ["a-theme", "b-theme"]  # by the Russian names
    assert odd["updated_at"] == "2025-01-02T03:04:05.123456Z"
    assert response.content == JSONRenderer().render(
        {"next": None, "previous": None, "results": expected}
    )


@pytest.mark.parametrize(
    "query",
    [
        "page_size=2",
        "page_size=2&ordering=-updated_at",
        "page_size=2&ordering=updated_at",
        "page_size=2&theme=a-theme",
        "page_size=1&assessor=bob-ngo",
        "page_size=2&search=rec",
        "page_size=2&ordering=-code&status=partially_implemented",
    ],
)
def test_it_pages_filters_and_orders_as_the_serializer_view_did(world, api, partner, query):
    api.force_authenticate(partner)
    url: str | None = f"/api/v1/recommendations/?{query}"
    pages = 0
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        page = response.json()
        codes = [row["code"] for row in page["results"]]
        expected = serializer_results(codes, partner)
        assert page["results"] == expected, first_difference(page["results"], expected)
        assert len(set(codes)) == len(codes)
        url = page["next"]
        pages += 1
    assert pages >= 1


def test_it_costs_the_same_queries_for_one_row_and_for_a_hundred(world, api, partner):
    api.force_authenticate(partner)
    api.get("/api/v1/recommendations/?page_size=1")  # the user's permissions are cached after
    counts = []
    for size in (1, 100):
        with CaptureQueriesContext(connection) as queries:
            assert api.get(f"/api/v1/recommendations/?page_size={size}").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_it_answers_not_modified_to_the_etag_of_the_rows_page(world, api, partner):
    api.force_authenticate(partner)
    first = api.get("/api/v1/recommendations/")
    again = api.get("/api/v1/recommendations/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""


def test_it_leaves_pretty_printing_to_drf(world, api, partner):
    api.force_authenticate(partner)
    response = api.get(
        "/api/v1/recommendations/?page_size=100", HTTP_ACCEPT="application/json; indent=2"
    )
    assert response.status_code == 200
    assert response.content.startswith(b'{\n  "next"')


def test_it_encodes_plain_data_as_drfs_json_renderer_does():
    data = {
        "text": ODD_TEXT + "".join(chr(code) for code in range(0x20)),
        "nested": [{"n": -1, "big": 2**62, "yes": True, "no": False, "none": None}, []],
        "empty": {},
    }
    response = PlainJSONResponse(data)
    response.accepted_renderer = JSONRenderer()
    response.accepted_media_type = "application/json"
    assert response.rendered_content == JSONRenderer().render(data)
    assert response.etag_of_data(data) == representation_etag(data)
    assert plain_representation_etag({"plain": "ascii"}) == representation_etag({"plain": "ascii"})


def test_the_odd_recommendation_keeps_its_shape(world, api, partner):
    """The fixture's odd row is served with the nulls and empties the tests rely on."""
    api.force_authenticate(partner)
    rows = api.get("/api/v1/recommendations/?page_size=100").json()["results"]
    odd = next(row for row in rows if row["code"] == "rec-odd")
    assert odd["issued_on"] is None and odd["source"] is None and odd["country"] == ""
    assert odd["reiterates"] == "rec-base"
    assert odd["addressed_to"] == ["alice-ngo", "bob-ngo"]
    assert odd["sdg_targets"] == ["16.3", "5.1"]
    assert [link["provision"] for link in odd["provision_links"]] == ["law-odd:art_2", None]
    assert [entry["assessor"] for entry in odd["current_assessments"]] == ["alice-ngo", "bob-ngo"]


def per_row_feed_data(changes: list[Change], request: Request) -> list[Any]:
    """The feed's `data` as it was rendered before: one serializer per row."""
    entities = synced_entities()
    data: list[Any] = []
    for change in changes:
        entity = entities[change.entity]
        row = entity.by_keys(entity.queryset(request), [change.key]).first()
        if change.operation == Change.Operation.DELETE or row is None:
            data.append(None)
        else:
            data.append(entity.serializer(row, context={"request": request}).data)
    return data


@pytest.mark.postgres
@pytest.mark.parametrize("client_kind", ["anonymous", "partner", "staff"])
def test_the_feed_renders_what_one_serializer_per_row_rendered(
    world, alice, partner, editor, administrator, client_kind
):
    users = {"anonymous": AnonymousUser(), "partner": partner, "staff": administrator}
    request = Request(APIRequestFactory().get("/api/v1/changes/"))
    request.user = users[client_kind]
    # The triggers wrote these rows in this test's transaction; render() reads
    # whatever rows it is given, committed or not.
    changes = list(Change.objects.order_by("txid", "id"))
    assert {"recommendation", "assessment", "theme"} <= {change.entity for change in changes}
    entries = render(changes, request)
    shown = [change for change in changes if change.entity in {e["entity"] for e in entries}]
    expected = per_row_feed_data(shown, request)
    assert [entry["key"] for entry in entries] == [change.key for change in shown]
    rendered = JSONRenderer().render([entry["data"] for entry in entries])
    assert rendered == JSONRenderer().render(expected)
    assert representation_etag(entries) == representation_etag(
        [{**entry, "data": data} for entry, data in zip(entries, expected, strict=True)]
    )
    # The assessments' evidence in the feed, as each client may read it.
    assert (CONFIDENTIAL.encode() in rendered) == (client_kind == "staff")
    assert (FOR_PARTNERS.encode() in rendered) == (client_kind != "anonymous")
