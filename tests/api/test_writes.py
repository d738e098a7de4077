"""Writes that are safe to retry, and bad input that changes nothing."""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory

from recommendations.models import StatusAssessment
from tests import factories
from tests.api.conftest import bearer
from tracker.idempotency import lock_id, request_fingerprint, run_idempotently
from tracker.middleware import WebhookQueueMiddleware
from tracker.models import IdempotencyRecord, Organisation
from tracker.tasks import queue_webhook_deliveries


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


@contextlib.contextmanager
def another_transaction() -> Iterator[CursorWrapper]:
    """A second connection's open transaction, as a concurrent request has; rolled back after."""
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:
            yield cursor
    finally:
        other.rollback()
        other.close()


@pytest.mark.postgres
def test_it_answers_conflict_while_the_first_request_is_running(api, partner, rec):
    bearer(api, partner, write=True)
    with another_transaction() as first:
        # What the first request's transaction holds until it commits.
        first.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id(partner.pk, "batch-3")])
        duplicate = api.post("/api/v1/assessments/", BODY, HTTP_IDEMPOTENCY_KEY="batch-3")
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0]["code"] == "idempotency_key_in_use"
    assert not StatusAssessment.objects.exists()
    assert api.post("/api/v1/assessments/", BODY, HTTP_IDEMPOTENCY_KEY="batch-3").status_code == 201


def test_it_answers_conflict_to_a_recent_claim_without_an_answer(api, partner, rec):
    # Claims committed before the write, by the scheme before this one, may
    # still be in the database while their request runs.
    bearer(api, partner, write=True)
    first = api.post("/api/v1/assessments/", BODY, HTTP_IDEMPOTENCY_KEY="batch-5")
    IdempotencyRecord.objects.filter(key="batch-5").update(response_status=None)
    duplicate = api.post("/api/v1/assessments/", BODY, HTTP_IDEMPOTENCY_KEY="batch-5")
    assert first.status_code == 201
    assert duplicate.status_code == 409
    assert StatusAssessment.objects.count() == 1


def test_it_runs_again_after_an_abandoned_claim(api, partner, rec):
    bearer(api, partner, write=True)
    api.post("/api/v1/assessments/", BODY, HTTP_IDEMPOTENCY_KEY="batch-6")
    IdempotencyRecord.objects.filter(key="batch-6").update(
        response_status=None,
        response_body=None,
        created_at=timezone.now() - datetime.timedelta(hours=1),
    )
    retry = api.post("/api/v1/assessments/", BODY, HTTP_IDEMPOTENCY_KEY="batch-6")
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert IdempotencyRecord.objects.get(key="batch-6").response_body == retry.json()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_replays_an_answer_committed_while_it_wrote(partner):
    """A duplicate commits after this request looked: this write is undone, that answer sent."""
    django_request = APIRequestFactory().post(
        "/api/v1/assessments/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="raced"
    )
    request = Request(django_request, parsers=[JSONParser()])
    request.user = partner

    def write() -> Response:
        factories.organisation("written-by-the-second")
        with another_transaction() as first:
            first.execute(
                f"INSERT INTO {IdempotencyRecord._meta.db_table} (user_id, key, method, path, "
                "request_hash, response_status, response_body, response_headers, created_at) "
                "VALUES (%s, 'raced', 'POST', %s, %s, 201, '{\"from\": \"first\"}', '{}', now())",
                [partner.pk, request.path, request_fingerprint(request)],
            )
            first.connection.commit()
        return Response({"from": "second"}, status=201)

    response = run_idempotently(request, write)
    assert response.data == {"from": "first"}
    assert response["Idempotent-Replayed"] == "true"
    assert not Organisation.objects.filter(slug="written-by-the-second").exists()


def test_it_frees_the_key_when_the_first_attempt_wrote_nothing(api, partner, rec):
    bearer(api, partner, write=True)
    refused = api.post(
        "/api/v1/assessments/", {**BODY, "status": "done"}, HTTP_IDEMPOTENCY_KEY="batch-4"
    )
    assert refused.status_code == 400
    assert not IdempotencyRecord.objects.exists()


def test_it_creates_an_assessment_in_a_fixed_number_of_queries(
    api, partner, rec, django_assert_max_num_queries
):
    # The key with its user (and on PostgreSQL their groups and permissions),
    # the key's last use, the idempotency lock and lookup, the recommendation,
    # elsewhere the user's groups and permissions (one query), the assessment
    # inserted as submitted, the stored answer, and the savepoint of the write's
    # transaction inside the test's own; the service inside takes none.
    bearer(api, partner, write=True)
    with django_assert_max_num_queries(
        8 if connections[DEFAULT_DB_ALIAS].vendor == "postgresql" else 9
    ):
        response = api.post("/api/v1/assessments/", BODY, HTTP_IDEMPOTENCY_KEY="counted")
    assert response.status_code == 201


def test_it_answers_a_create_with_what_a_read_shows(api, partner, rec):
    bearer(api, partner, write=True)
    created = api.post(
        "/api/v1/assessments/",
        {**BODY, "visibility": "internal", "evidence_url": "https://example.org/law"},
        HTTP_IDEMPOTENCY_KEY="read-back",
    )
    assert created.status_code == 201
    assert created.json()["evidence_withheld"] is True
    read = api.get(f"/api/v1/assessments/{created.json()['key']}/")
    assert read.json() == created.json()


@pytest.mark.parametrize("zone", ["Asia/Almaty", "UTC"])
def test_it_answers_a_draft_and_a_correction_with_what_a_read_shows(
    api, partner, editor, rec, settings, zone
):
    # The answer is built from the record the service returns, a read through
    # the serializer: both must show every field alike, in any zone.
    settings.TIME_ZONE = zone
    factories.source("sf-2024-review")
    bearer(api, partner, write=True)
    draft = api.post(
        "/api/v1/assessments/",
        {**BODY, "visibility": "partners", "submit": False, "source": "sf-2024-review"},
        HTTP_IDEMPOTENCY_KEY="draft",
    )
    assert draft.status_code == 201, draft.json()
    assert draft.json()["submitted_at"] is None and draft.json()["source"] == "sf-2024-review"
    published = factories.assessment(rec, partner.organisation, editor, publish=True)
    first = api.get(f"/api/v1/assessments/{published.key}/")
    correction = api.post(
        "/api/v1/assessments/",
        {
            **BODY,
            "status": "mostly_implemented",
            "corrects": first.json()["key"],
            "correction_reason": "The second reading passed too.",
        },
        HTTP_IDEMPOTENCY_KEY="correction",
    )
    assert correction.status_code == 201, correction.json()
    assert correction.json()["corrects"] == first.json()["key"]
    for created in (draft, correction):
        read = api.get(f"/api/v1/assessments/{created.json()['key']}/")
        assert read.json() == created.json()
    assert draft.json()["evidence_withheld"] is False  # partners read partners' evidence
    if zone == "Asia/Almaty":
        assert not correction.json()["recorded_at"].endswith("Z")


@pytest.mark.postgres
def test_it_queues_one_webhook_run_for_a_burst_of_writes(
    api, partner, rec, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(WebhookQueueMiddleware, "QUEUE_WINDOW_SECONDS", 60.0)
    queued: list[dict[str, Any]] = []
    monkeypatch.setattr(
        queue_webhook_deliveries, "apply_async", lambda **options: queued.append(options)
    )
    bearer(api, partner, write=True)
    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post("/api/v1/assessments/", BODY, HTTP_IDEMPOTENCY_KEY=f"burst-{n}")
        assert response.status_code == 201
    # One run, when the window closes: it sees all three.
    assert queued == [{"countdown": 60.0}]


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
