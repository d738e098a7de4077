"""Several assessments in one POST: all recorded or none, each error named by its place."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections

from recommendations.models import StatusAssessment
from recommendations.serializers import ASSESSMENT_BATCH_MAX
from tests import factories
from tests.api.conftest import bearer
from tracker.models import IdempotencyRecord

URL = "/api/v1/assessments/batch/"


@pytest.fixture
def recs(issuer):
    return [factories.recommendation(issuer, f"rec-b{n}") for n in range(4)]


def item(code: str, **changes: object) -> dict[str, object]:
    return {
        "recommendation": code,
        "status": "partially_implemented",
        "status_since": "2024-05-01",
        "evidence": f"Evidence on {code}.",
        **changes,
    }


def test_it_records_every_assessment_and_answers_each_as_a_read_shows(api, partner, recs):
    bearer(api, partner, write=True)
    body = {
        "assessments": [
            item("rec-b0"),
            item("rec-b1", status="fully_implemented", visibility="internal"),
            item("rec-b2", submit=False),
        ]
    }
    response = api.post(URL, body, HTTP_IDEMPOTENCY_KEY="batch-a")
    assert response.status_code == 201, response.content
    answered = response.json()["assessments"]
    assert [document["recommendation"] for document in answered] == ["rec-b0", "rec-b1", "rec-b2"]
    for document in answered:
        assert api.get(f"/api/v1/assessments/{document['key']}/").json() == document
    stored = {
        a.recommendation.code: a for a in StatusAssessment.objects.select_related("recommendation")
    }
    assert set(stored) == {"rec-b0", "rec-b1", "rec-b2"}
    assert stored["rec-b1"].status == "fully_implemented"
    assert stored["rec-b2"].review_state == "draft"
    assert {a.assessor.slug for a in stored.values()} == {"bob-ngo"}
    assert {a.recorded_by_id for a in stored.values()} == {partner.pk}


def test_it_replays_a_retried_batch_without_writing_it_again(api, partner, recs):
    bearer(api, partner, write=True)
    body = {"assessments": [item("rec-b0"), item("rec-b1")]}
    first = api.post(URL, body, HTTP_IDEMPOTENCY_KEY="batch-retry")
    retry = api.post(URL, body, HTTP_IDEMPOTENCY_KEY="batch-retry")
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert StatusAssessment.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 1


BAD_BATCHES = [
    # The serializer's refusals, by place.
    ({"assessments": [item("rec-b0"), item("rec-unknown")]}, "assessments.1.recommendation"),
    ({"assessments": [item("rec-b0"), item("rec-b1", status="finished")]}, "assessments.1.status"),
    ({"assessments": [item("rec-b0", colour="blue")]}, "assessments.0.colour"),
    # The service's refusal of the third, after two were written in its transaction.
    (
        {
            "assessments": [
                item("rec-b0"),
                item("rec-b1"),
                item("rec-b2", status_since="2999-01-01"),
            ]
        },
        "assessments.2.status_since",
    ),
    ({"assessments": []}, "assessments.non_field_errors"),
    (
        {"assessments": [item(f"rec-b{n % 4}") for n in range(ASSESSMENT_BATCH_MAX + 1)]},
        "assessments.non_field_errors",
    ),
    ({"assessments": item("rec-b0")}, "assessments.non_field_errors"),
    ({}, "assessments"),
    ({"assessments": [item("rec-b0")], "extra": 1}, "extra"),
]


@pytest.mark.parametrize(("body", "attr"), BAD_BATCHES)
def test_it_refuses_a_batch_with_a_bad_assessment_naming_its_place_and_writes_none(
    api, partner, recs, body, attr
):
    bearer(api, partner, write=True)
    response = api.post(URL, body, HTTP_IDEMPOTENCY_KEY=f"bad-{attr}")
    assert response.status_code == 400, response.content
    assert attr in {error["attr"] for error in response.json()["errors"]}
    assert not StatusAssessment.objects.exists()
    # Nothing done, nothing recorded: a corrected retry with the same key runs.
    assert not IdempotencyRecord.objects.exists()


def test_it_refuses_a_batch_naming_an_organisation_the_client_may_not_act_for(
    api, partner, recs, alice_org
):
    bearer(api, partner, write=True)
    body = {"assessments": [item("rec-b0"), item("rec-b1", assessor="alice-ngo")]}
    response = api.post(URL, body)
    assert response.status_code == 403
    assert not StatusAssessment.objects.exists()


@pytest.mark.parametrize("write", [False, True])
def test_it_lets_only_a_key_that_may_write_assessments_record_a_batch(api, partner, recs, write):
    bearer(api, partner, write=write)
    response = api.post(URL, {"assessments": [item("rec-b0")]})
    assert response.status_code == (201 if write else 403)
    assert StatusAssessment.objects.count() == (1 if write else 0)


def test_it_refuses_a_batch_from_a_donor(api, donor, recs, bob_org):
    api.force_authenticate(donor)
    response = api.post(URL, {"assessments": [item("rec-b0", assessor="bob-ngo")]})
    assert response.status_code == 403
    assert not StatusAssessment.objects.exists()


@pytest.mark.parametrize("size", [1, 4])
def test_it_reads_a_batchs_recommendations_at_once_and_costs_an_insert_an_assessment(
    api, partner, recs, size, django_assert_max_num_queries
):
    # As one POST (test_writes): the key and its last use, the lock and
    # lookup, the stored answer and the savepoint of the test's transaction,
    # elsewhere the user's access; then the batch's recommendations, and an
    # insert per assessment.
    bearer(api, partner, write=True)
    fixed = 7 if connections[DEFAULT_DB_ALIAS].vendor == "postgresql" else 8
    body = {"assessments": [item(f"rec-b{n}") for n in range(size)]}
    with django_assert_max_num_queries(fixed + size):
        response = api.post(URL, body, HTTP_IDEMPOTENCY_KEY=f"counted-{size}")
    assert response.status_code == 201
    assert StatusAssessment.objects.count() == size


@pytest.mark.parametrize("code", ["rec-unknown", "rec-\x00b0", 42, None])
def test_it_names_a_recommendation_the_batch_does_not_find(api, partner, recs, code):
    bearer(api, partner, write=True)
    body = {
        "assessments": [item("rec-b0"), item("rec-b1"), {**item("rec-b2"), "recommendation": code}]
    }
    response = api.post(URL, body)
    assert response.status_code == 400, response.content
    assert [error["attr"] for error in response.json()["errors"]] == [
        "assessments.2.recommendation"
    ]
    assert not StatusAssessment.objects.exists()


@pytest.mark.postgres
def test_it_leaves_each_assessments_history_under_the_requests_context(api, partner, recs):
    bearer(api, partner, write=True)
    response = api.post(URL, {"assessments": [item("rec-b0"), item("rec-b1")]})
    assert response.status_code == 201
    keys = [document["key"] for document in response.json()["assessments"]]
    events = apps.get_model("recommendations", "StatusAssessmentEvent").objects.filter(key__in=keys)
    assert sorted(str(event.key) for event in events) == sorted(keys)
    assert {event.pgh_label for event in events} == {"insert"}
    contexts = {event.pgh_context_id for event in events}
    assert len(contexts) == 1
    (context,) = apps.get_model("pghistory", "Context").objects.filter(pk__in=contexts)
    assert context.metadata["user"] == partner.pk
    assert context.metadata["url"] == URL


def test_it_documents_the_batch_in_the_schema(api, editor):
    api.force_authenticate(editor)
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/assessments/batch/"]["post"]
    assert f"up to {ASSESSMENT_BATCH_MAX} assessments" in operation["description"]
    parameters = {parameter["name"] for parameter in operation.get("parameters", [])}
    assert "Idempotency-Key" in parameters
    assert {"201", "400", "409", "422"} <= set(operation["responses"])
