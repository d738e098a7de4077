"""Writes that are safe to retry, and bad input that changes nothing."""

from __future__ import annotations

import pytest

from recommendations.models import StatusAssessment
from tests import factories
from tests.api.conftest import bearer
from tracker.models import IdempotencyRecord, Organisation


@pytest.fixture
def rec(issuer):
    return factories.recommendation(issuer, "rec-w")


BODY = {
    "recommendation": "rec-w",
    "status": "partially_implemented",
    "status_since": "2024-05-01",
    "evidence": "Half the articles were amended.",
}


def test_it_replays_the_first_answer_to_a_retry_with_the_same_key(api, partner, rec):
    bearer(api, partner, write=True)
    first = api.post("/api/v1/assessments/", BODY, HTTP_IDEMPOTENCY_KEY="batch-1")
    retry = api.post(
        "/api/v1/assessments/", dict(reversed(BODY.items())), HTTP_IDEMPOTENCY_KEY="batch-1"
    )
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert StatusAssessment.objects.count() == 1


def test_it_refuses_the_same_key_with_another_body(api, partner, rec):
    bearer(api, partner, write=True)
    api.post("/api/v1/assessments/", BODY, HTTP_IDEMPOTENCY_KEY="batch-2")
    other = api.post(
        "/api/v1/assessments/",
        {**BODY, "status": "not_implemented"},
        HTTP_IDEMPOTENCY_KEY="batch-2",
    )
    assert other.status_code == 422
    assert other.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert StatusAssessment.objects.count() == 1


def test_it_answers_conflict_while_the_first_request_is_running(api, partner, rec):
    bearer(api, partner, write=True)
    first = api.post("/api/v1/assessments/", BODY, HTTP_IDEMPOTENCY_KEY="batch-3")
    # Put back what the first request leaves while it works: its claim, no answer yet.
    IdempotencyRecord.objects.filter(key="batch-3").update(response_status=None)
    duplicate = api.post("/api/v1/assessments/", BODY, HTTP_IDEMPOTENCY_KEY="batch-3")
    assert first.status_code == 201
    assert duplicate.status_code == 409
    assert StatusAssessment.objects.count() == 1


def test_it_frees_the_key_when_the_first_attempt_wrote_nothing(api, partner, rec):
    bearer(api, partner, write=True)
    refused = api.post(
        "/api/v1/assessments/", {**BODY, "status": "done"}, HTTP_IDEMPOTENCY_KEY="batch-4"
    )
    assert refused.status_code == 400
    assert not IdempotencyRecord.objects.exists()


def test_it_keeps_keys_of_different_clients_apart(api, partner, alice, rec):
    bearer(api, partner, write=True)
    api.post("/api/v1/assessments/", BODY, HTTP_IDEMPOTENCY_KEY="shared")
    api.force_authenticate(alice)
    api.credentials()
    assert api.post("/api/v1/assessments/", BODY, HTTP_IDEMPOTENCY_KEY="shared").status_code == 201
    assert StatusAssessment.objects.count() == 2


ORGANISATION = {"name": "Human Rights Bureau", "kind": "ngo", "country": "KZ", "acronym": "HRB"}


def test_it_upserts_an_organisation_by_key_with_the_same_result_twice(api, editor):
    api.force_authenticate(editor)
    created = api.put("/api/v1/organisations/hr-bureau/", ORGANISATION)
    assert created.status_code == 201
    etag = created["ETag"]
    again = api.put("/api/v1/organisations/hr-bureau/", ORGANISATION, HTTP_IF_MATCH=etag)
    assert again.status_code == 200
    assert again.json() == created.json()
    assert again["ETag"] == etag
    assert Organisation.objects.filter(slug="hr-bureau").count() == 1


def test_it_requires_if_match_to_change_a_curated_record(api, editor, alice_org):
    api.force_authenticate(editor)
    url = f"/api/v1/organisations/{alice_org.slug}/"
    etag = api.get(url)["ETag"]
    missing = api.put(url, {**ORGANISATION, "name": "Renamed"})
    assert missing.status_code == 428
    Organisation.objects.filter(pk=alice_org.pk).update(acronym="AN")  # someone else's edit
    stale = api.put(url, {**ORGANISATION, "name": "Renamed"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    alice_org.refresh_from_db()
    assert (alice_org.name, alice_org.acronym) == ("Alice NGO", "AN")  # nothing lost
    fresh = api.get(url)["ETag"]
    done = api.put(url, {**ORGANISATION, "name": "Renamed"}, HTTP_IF_MATCH=fresh)
    assert done.status_code == 200
    assert done.json()["name"] == "Renamed"


BAD_ASSESSMENTS = [
    ({**BODY, "status": "finished"}, "status"),
    ({**BODY, "status": "not_assessed"}, "status"),
    ({**BODY, "status_since": "yesterday"}, "status_since"),
    ({**BODY, "status_since": "2999-01-01"}, "status_since"),
    ({**BODY, "evidence": 42.5, "status_since": 3}, "status_since"),
    ({**BODY, "recommendation": "rec-unknown"}, "recommendation"),
    ({**BODY, "assessor": "nobody"}, "assessor"),
    ({**BODY, "colour": "blue"}, "colour"),
    ({**BODY, "review_state": "published"}, "review_state"),
    ({**BODY, "correction_reason": "no reason"}, "correction_reason"),
    (["not", "an", "object"], "non_field_errors"),
]


@pytest.mark.parametrize(("body", "field"), BAD_ASSESSMENTS)
def test_it_refuses_bad_assessments_naming_the_field(api, partner, rec, body, field):
    bearer(api, partner, write=True)
    response = api.post("/api/v1/assessments/", body)
    assert response.status_code == 400, response.content
    payload = response.json()
    assert payload["type"] == "validation_error"
    assert field in {error["attr"] for error in payload["errors"]}
    assert not StatusAssessment.objects.exists()


def test_it_refuses_an_oversized_body(api, partner, rec, settings):
    settings.API_MAX_BODY_BYTES = 1000
    bearer(api, partner, write=True)
    response = api.post("/api/v1/assessments/", {**BODY, "evidence": "x" * 2000})
    assert response.status_code == 413
    assert "larger than 1000 bytes" in response.json()["errors"][0]["detail"]
    assert not StatusAssessment.objects.exists()


def test_it_refuses_bad_organisation_fields_and_writes_nothing(api, editor):
    api.force_authenticate(editor)
    response = api.put(
        "/api/v1/organisations/bad-one/",
        {"name": "", "kind": "club", "country": "XX", "slug": "other"},
    )
    assert response.status_code == 400
    attrs = {error["attr"] for error in response.json()["errors"]}
    assert {"name", "kind", "country", "slug"} <= attrs
    assert not Organisation.objects.filter(slug__in=["bad-one", "other"]).exists()


@pytest.mark.parametrize("field", ["recommendation", "assessor", "source"])
def test_it_answers_a_key_with_a_null_character_as_unknown(api, partner, rec, field):
    # PostgreSQL refuses the character in a query: it must not become a server error.
    bearer(api, partner, write=True)
    response = api.post("/api/v1/assessments/", {**BODY, field: "bad\x00key"})
    assert response.status_code == 400
    assert [error["attr"] for error in response.json()["errors"]] == [field]
    assert not StatusAssessment.objects.exists()
