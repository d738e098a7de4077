"""The read API: every resource by key, filters, cursor pages, constant queries, ETags, schema."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from recommendations import services as recommendation_services
from recommendations.models import Recommendation
from tests import factories
from tests.api.conftest import bearer, build_world

LISTS = [
    "organisations",
    "instruments",
    "provisions",
    "sources",
    "citations",
    "themes",
    "recommendations",
    "concerns",
    "assessments",
]


def list_queries(client, resource: str, page_size: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/{resource}/?page_size={page_size}")
    assert response.status_code == 200, (resource, response.content)
    assert len(response.json()["results"]) == page_size, resource
    return len(queries)


def test_it_answers_every_list_in_constant_queries_whatever_the_page_size(api, editor, alice_org):
    api.force_authenticate(editor)
    build_world(12, alice_org, editor)
    small = {resource: list_queries(api, resource, 2) for resource in LISTS}
    for resource in LISTS:
        large = list_queries(api, resource, 10)
        assert large == small[resource], f"{resource}: {small[resource]} then {large}"
        assert large <= 12, resource


def test_it_serves_each_record_by_its_stable_key(api, partner, alice_org, editor):
    build_world(1, alice_org, editor)
    api.force_authenticate(partner)
    rec = Recommendation.objects.get()
    assessment = rec.assessments.get()
    for path in [
        f"/api/v1/organisations/{alice_org.slug}/",
        "/api/v1/instruments/law-w1-0/",
        "/api/v1/provisions/law-w1-0:art_1/",
        "/api/v1/sources/source-w1-0/",
        "/api/v1/citations/cit-w1-0/",
        "/api/v1/themes/theme-w1-0/",
        f"/api/v1/recommendations/{rec.code}/",
        "/api/v1/concerns/concern-w1-0/",
        f"/api/v1/assessments/{assessment.key}/",
    ]:
        assert api.get(path).status_code == 200, path

    body = api.get(f"/api/v1/recommendations/{rec.code}/").json()
    assert body["headline_status"] == "partially_implemented"
    assert body["disputed"] is False
    assert body["themes"] == ["theme-w1-0"]
    assert body["current_assessments"] == [
        {
            "assessor": alice_org.slug,
            "status": "partially_implemented",
            "status_since": "2024-01-01",
            "assessment": str(assessment.key),
        }
    ]
    assert body["provision_links"][0]["provision"] == "law-w1-0:art_1"
    treaty = api.get("/api/v1/instruments/treaty-w1-0/").json()
    assert treaty["participations"][0]["country"] == "KZ"
    assert treaty["related_from"] == [{"subject": "law-w1-0", "kind": "implements", "note": ""}]
    citation = api.get("/api/v1/citations/cit-w1-0/").json()
    assert citation["supports"] == {"type": "provision", "key": "law-w1-0:art_1"}
    assert api.get("/api/v1/provisions/law-w1-0:art_404/").status_code == 404


def codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["code"] for row in response.json()["results"]]


def test_it_filters_recommendations(api, editor, alice_org, bob_org, issuer):
    build_world(2, alice_org, editor)
    api.force_authenticate(editor)
    other = factories.recommendation(issuer, "rec-other", follow_up_due=datetime.date(2999, 1, 1))
    recommendation_services.assessment_record(
        recommendation=other,
        assessor=bob_org,
        recorded_by=editor,
        status="fully_implemented",
        status_since=datetime.date(2024, 1, 1),
        evidence="done",
        publish=True,
    )
    get = api.get
    assert codes(get("/api/v1/recommendations/?status=fully_implemented")) == ["rec-other"]
    assert codes(get("/api/v1/recommendations/?issued_by=issuer")) == ["rec-other"]
    assert codes(get(f"/api/v1/recommendations/?assessor={bob_org.slug}")) == ["rec-other"]
    assert codes(get("/api/v1/recommendations/?theme=theme-w2-1")) == ["rec-w2-1"]
    assert codes(get("/api/v1/recommendations/?instrument=law-w2-0")) == ["rec-w2-0"]
    assert codes(get("/api/v1/recommendations/?provision=law-w2-0:art_1")) == ["rec-w2-0"]
    assert codes(get("/api/v1/recommendations/?overdue=true")) == ["rec-w2-0", "rec-w2-1"]
    assert codes(get("/api/v1/recommendations/?due_after=2100-01-01")) == ["rec-other"]
    assert codes(get("/api/v1/recommendations/?country=KZ&search=other")) == ["rec-other"]
    assert codes(get("/api/v1/recommendations/?ordering=-code"))[0] == "rec-w2-1"
    noon = datetime.datetime(2025, 1, 1, 12, tzinfo=datetime.UTC)
    Recommendation.objects.update(updated_at=noon)
    Recommendation.objects.filter(code="rec-w2-1").update(
        updated_at=noon + datetime.timedelta(seconds=1)
    )
    later = noon.isoformat()
    assert codes(get("/api/v1/recommendations/", {"updated_after": later})) == ["rec-w2-1"]


def test_it_names_the_filter_a_bad_value_was_given_for(api, editor):
    api.force_authenticate(editor)
    response = api.get("/api/v1/recommendations/?status=finished&due_after=yesterday")
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert {error["attr"] for error in body["errors"]} == {"status", "due_after"}


def test_it_pages_with_opaque_cursors_and_refuses_unknown_ones(api, editor, alice_org):
    build_world(5, alice_org, editor)
    api.force_authenticate(editor)
    seen: list[str] = []
    url = "/api/v1/recommendations/?page_size=2"
    while url:
        page = api.get(url).json()
        seen += [row["code"] for row in page["results"]]
        url = page["next"]
    assert seen == sorted(Recommendation.objects.values_list("code", flat=True))
    response = api.get("/api/v1/recommendations/?cursor=not-a-cursor")
    assert response.status_code == 404
    assert "cursor" in response.json()["errors"][0]["detail"].lower()


def test_it_sends_etags_and_answers_if_none_match_with_not_modified(api, partner, issuer):
    rec = factories.recommendation(issuer, "rec-etag")
    api.force_authenticate(partner)
    first = api.get("/api/v1/recommendations/rec-etag/")
    etag = first["ETag"]
    assert etag
    again = api.get("/api/v1/recommendations/rec-etag/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    rec.text = "Changed"
    rec.save()
    changed = api.get("/api/v1/recommendations/rec-etag/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    listing = api.get("/api/v1/recommendations/")
    assert (
        api.get("/api/v1/recommendations/", HTTP_IF_NONE_MATCH=listing["ETag"]).status_code == 304
    )


def test_it_serves_a_valid_openapi_schema_and_docs_without_a_cdn(client):
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    document = schema.json()
    assert "/api/v1/recommendations/" in document["paths"]
    assert "/api/v1/assessments/" in document["paths"]
    validate_schema(SchemaGenerator().get_schema(request=None, public=True))

    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist" in page
    assert "cdn" not in page.lower()


@pytest.mark.parametrize("body", ["{not json", '{"status": '])
def test_it_refuses_malformed_json_naming_the_problem(api, partner, body):
    api.force_authenticate(partner)
    response = api.generic("POST", "/api/v1/assessments/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["type"] == "client_error"
    assert "JSON" in response.json()["errors"][0]["detail"]


def test_it_offers_only_ordering_fields_that_cursor_pages_can_follow():
    # A cursor holds the last row's value of the ordering field; a null there
    # cannot be compared with, so paging would break at the first null.
    from tracker.api_urls import router

    querysets: dict[str, Any] = {
        prefix: getattr(viewset, "queryset", None) for prefix, viewset, _basename in router.registry
    }
    nullable = [
        f"{prefix}: {name}"
        for prefix, viewset, _basename in router.registry
        if querysets[prefix] is not None
        for name in getattr(viewset, "ordering_fields", None) or []
        if name != "pk" and querysets[prefix].model._meta.get_field(name).null
    ]
    assert querysets["recommendations"] is not None  # the check reaches the real viewsets
    assert nullable == []


def test_it_pages_through_every_record_in_every_ordering(api, partner, issuer):
    for i in range(5):
        due = None if i % 2 else datetime.date(2024, 1, i + 1)
        factories.recommendation(issuer, f"r-order-{i}", follow_up_due=due)
    bearer(api, partner)
    for ordering in ("code", "-code", "updated_at", "-updated_at"):
        seen: list[str] = []
        url = f"/api/v1/recommendations/?ordering={ordering}&page_size=2"
        while url:
            response = api.get(url)
            assert response.status_code == 200, (ordering, response.content)
            seen += [row["code"] for row in response.json()["results"]]
            url = response.json()["next"]
        assert sorted(seen) == [f"r-order-{i}" for i in range(5)], ordering
