"""Who may read and write what through the API: keys, scopes, roles, confidential evidence."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command

from recommendations import services as recommendation_services
from recommendations.models import StatusAssessment
from tests import factories
from tests.api.conftest import bearer, build_world
from tracker import services
from tracker.models import ApiKey

RESOURCES = {
    "organisations": "org-w1-0",
    "instruments": "law-w1-0",
    "provisions": "law-w1-0:art_1",
    "sources": "source-w1-0",
    "citations": "cit-w1-0",
    "themes": "theme-w1-0",
    "recommendations": "rec-w1-0",
    "concerns": "concern-w1-0",
}
# What each role gets from every read endpoint: roles with the view
# permissions read; donors (reports only) are refused; anonymous must sign in.
READ_STATUS = {
    "anonymous": 401,
    "donor": 403,
    "partner": 200,
    "alice": 200,
    "editor": 200,
    "administrator": 200,
}


@pytest.mark.parametrize("role", sorted(READ_STATUS))
def test_it_lets_each_role_read_each_endpoint_or_not(api, role, request, alice_org, editor):
    build_world(1, alice_org, editor)
    if role != "anonymous":
        api.force_authenticate(request.getfixturevalue(role))
    assessment = StatusAssessment.objects.get()
    paths = [f"/api/v1/{name}/" for name in [*RESOURCES, "assessments"]]
    paths += [f"/api/v1/{name}/{key}/" for name, key in RESOURCES.items()]
    paths.append(f"/api/v1/assessments/{assessment.key}/")
    for path in paths:
        response = api.get(path)
        assert response.status_code == READ_STATUS[role], (role, path)
        if response.status_code != 200:
            assert response.json()["type"] == "client_error"


ASSESSMENT = {
    "recommendation": "rec-w1-0",
    "status": "mostly_implemented",
    "status_since": "2024-05-01",
    "evidence": "The amendments passed.",
}
# Who may record an assessment for alice's organisation: her own monitor,
# the reviewers (who correct the record for anyone), nobody else.
WRITE_FOR_ALICE_ORG = {
    "anonymous": 401,
    "donor": 403,
    "partner": 403,
    "bob": 403,
    "alice": 201,
    "editor": 201,
    "administrator": 201,
}


@pytest.mark.parametrize("batched", [False, True], ids=["one", "batch"])
@pytest.mark.parametrize("role", sorted(WRITE_FOR_ALICE_ORG))
def test_it_lets_only_members_and_reviewers_write_an_organisations_assessments(
    api, role, batched, request, alice_org, editor
):
    build_world(1, alice_org, editor)
    before = StatusAssessment.objects.count()
    if role != "anonymous":
        api.force_authenticate(request.getfixturevalue(role))
    body = {**ASSESSMENT, "assessor": alice_org.slug}
    if batched:
        response = api.post("/api/v1/assessments/batch/", {"assessments": [body, body]})
    else:
        response = api.post("/api/v1/assessments/", body)
    assert response.status_code == WRITE_FOR_ALICE_ORG[role], response.content
    written = StatusAssessment.objects.count() - before
    assert written == ((2 if batched else 1) if response.status_code == 201 else 0)


@pytest.mark.parametrize("role", ["anonymous", "donor", "partner", "alice"])
def test_it_lets_no_one_but_curators_replace_an_organisation(api, role, request, alice_org):
    if role != "anonymous":
        api.force_authenticate(request.getfixturevalue(role))
    response = api.put("/api/v1/organisations/new-body/", {"name": "New body", "kind": "ngo"})
    assert response.status_code == (401 if role == "anonymous" else 403)
    assert not type(alice_org).objects.filter(slug="new-body").exists()


def test_it_authenticates_a_partner_key_stored_only_as_a_digest(api, partner, alice_org, editor):
    build_world(1, alice_org, editor)
    raw_key = bearer(api, partner)
    stored = ApiKey.objects.get()
    assert raw_key not in (stored.digest, stored.prefix)
    assert stored.organisation == partner.organisation
    assert api.get("/api/v1/recommendations/").status_code == 200
    stored.refresh_from_db()
    assert stored.last_used_at is not None


def test_it_refuses_revoked_and_unknown_keys(api, partner):
    bearer(api, partner)
    services.api_key_revoke(api_key=ApiKey.objects.get())
    response = api.get("/api/v1/themes/")
    assert response.status_code == 401
    assert "revoked" in response.json()["errors"][0]["detail"]
    api.credentials(HTTP_AUTHORIZATION="Bearer made-up")
    assert api.get("/api/v1/themes/").status_code == 401


def test_it_keeps_a_key_within_its_scopes(api, partner, bob_org, issuer):
    factories.recommendation(issuer, "rec-scoped")
    body = {**ASSESSMENT, "recommendation": "rec-scoped"}
    bearer(api, partner, write=False)
    assert api.get("/api/v1/themes/").status_code == 200
    assert api.post("/api/v1/assessments/", body).status_code == 403
    bearer(api, partner, write=True, read=False)
    assert api.get("/api/v1/themes/").status_code == 403
    created = api.post("/api/v1/assessments/", body)
    assert created.status_code == 201
    assert created.json()["assessor"] == bob_org.slug
    assert created.json()["review_state"] == "submitted"


def test_it_refuses_a_partner_session_but_accepts_a_staff_one(client, partner, editor):
    client.force_login(partner)
    assert client.get("/api/v1/themes/").status_code == 401
    client.force_login(editor)
    assert client.get("/api/v1/themes/").status_code == 200


def evidence_of(api, visibility: str) -> object:
    return api.get("/api/v1/assessments/", {"recommendation": f"rec-{visibility}"}).json()[
        "results"
    ][0]["evidence"]


@pytest.mark.parametrize(
    ("role", "readable"),
    [
        ("partner", {"public", "partners"}),
        ("alice", {"public", "partners"}),
        ("editor", {"public", "partners", "internal"}),
    ],
)
def test_it_never_shows_evidence_to_a_client_that_may_not_read_it(
    api, role, readable, request, editor, bob_org, issuer
):
    for visibility in ("public", "partners", "internal"):
        recommendation_services.assessment_record(
            recommendation=factories.recommendation(issuer, f"rec-{visibility}"),
            assessor=bob_org,
            recorded_by=editor,
            status="not_implemented",
            status_since=datetime.date(2024, 1, 1),
            evidence=f"secret {visibility}",
            visibility=visibility,
            publish=True,
        )
    api.force_authenticate(request.getfixturevalue(role))
    for visibility in ("public", "partners", "internal"):
        expected = f"secret {visibility}" if visibility in readable else None
        assert evidence_of(api, visibility) == expected, visibility
    listing = api.get("/api/v1/assessments/").content.decode()
    for visibility in {"public", "partners", "internal"} - readable:
        assert f"secret {visibility}" not in listing


def test_it_shows_members_their_own_drafts_and_no_one_elses(api, alice, bob, alice_org, issuer):
    recommendation_services.assessment_record(
        recommendation=factories.recommendation(issuer, "rec-draft"),
        assessor=alice_org,
        recorded_by=alice,
        status="not_implemented",
        status_since=datetime.date(2024, 1, 1),
        evidence="draft",
    )
    api.force_authenticate(alice)
    assert len(api.get("/api/v1/assessments/").json()["results"]) == 1
    api.force_authenticate(bob)
    assert api.get("/api/v1/assessments/").json()["results"] == []


def test_it_gives_the_demo_partner_its_key_only_with_debug(api, settings, db):
    settings.DEBUG = True
    call_command("create_demo_users", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("create_demo_users", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert ApiKey.objects.count() == 1
    api.credentials(HTTP_AUTHORIZATION="Bearer demo-partner-key")
    assert api.get("/api/v1/themes/").status_code == 200
