"""`PUT` by natural key on themes and instruments: the same push twice ends the same."""

from __future__ import annotations

from typing import Any

import pytest

from instruments.models import Instrument
from recommendations.models import Theme
from tests import factories
from tests.api.conftest import bearer

THEME = {"name": "Labour migration", "description": "Work permits and quotas."}
INSTRUMENT = {
    "title": "Law on Population Migration",
    "short_title": "Migration law",
    "kind": "law",
    "jurisdiction": "national",
    "country": "KZ",
    "state": "in_force",
    "adopted_on": "2011-07-22",
    "in_force_on": "2011-08-01",
    "adopted_by": "issuer",
}
# resource: (model, body that creates one, body that changes one)
RESOURCES: dict[str, tuple[Any, dict[str, Any], dict[str, Any]]] = {
    "themes": (Theme, THEME, {"name": "Renamed theme"}),
    # Required fields are always sent; optional ones left out keep their values.
    "instruments": (
        Instrument,
        INSTRUMENT,
        {"title": "Renamed law", "kind": "law", "jurisdiction": "national"},
    ),
}


@pytest.fixture
def existing(issuer):
    """One record of each kind, made without the API."""
    return {
        "themes": Theme.objects.create(slug="trafficking", name="Trafficking"),
        "instruments": factories.instrument("law-on-refugees", title="Law on Refugees"),
    }


@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_it_creates_then_updates_by_key_with_the_same_result_twice(api, editor, issuer, resource):
    model, body, _change = RESOURCES[resource]
    api.force_authenticate(editor)
    url = f"/api/v1/{resource}/pushed-key/"
    created = api.put(url, body)
    assert created.status_code == 201, created.content
    again = api.put(url, body, HTTP_IF_MATCH=created["ETag"])
    assert again.status_code == 200, again.content
    assert again.json() == created.json()
    assert again["ETag"] == created["ETag"] == api.get(url)["ETag"]
    assert model.objects.filter(slug="pushed-key").count() == 1
    for name, value in body.items():
        assert created.json()[name] == value


@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_it_requires_a_current_if_match_to_change_an_existing_record(
    api, editor, existing, resource
):
    model, _body, change = RESOURCES[resource]
    record = existing[resource]
    api.force_authenticate(editor)
    url = f"/api/v1/{resource}/{record.slug}/"
    etag = api.get(url)["ETag"]
    missing = api.put(url, change)
    assert missing.status_code == 428
    model.objects.filter(pk=record.pk).update(description="someone else's edit")
    stale = api.put(url, change, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    record.refresh_from_db()
    assert record.description == "someone else's edit"  # nothing lost, nothing written
    renamed_field = next(iter(change))  # the first field of each change is a new value
    assert getattr(record, renamed_field) != change[renamed_field]
    done = api.put(url, change, HTTP_IF_MATCH=api.get(url)["ETag"])
    assert done.status_code == 200, done.content
    assert done.json()["description"] == "someone else's edit"  # fields left out are kept
    for name, value in change.items():
        assert done.json()[name] == value


@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_it_refuses_if_match_for_a_record_that_does_not_exist(api, editor, issuer, resource):
    model, body, _change = RESOURCES[resource]
    api.force_authenticate(editor)
    response = api.put(f"/api/v1/{resource}/not-there/", body, HTTP_IF_MATCH='"abc"')
    assert response.status_code == 412
    assert not model.objects.filter(slug="not-there").exists()


# Only the curating roles create or change themes and instruments; partners
# push assessments, never reference data.
WRITE_STATUS = {
    "anonymous": 401,
    "donor": 403,
    "partner": 403,
    "alice": 403,
    "editor": 201,
    "administrator": 201,
}


@pytest.mark.parametrize("role", sorted(WRITE_STATUS))
@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_it_lets_only_curators_put(api, request, issuer, alice, role, resource):
    model, body, _change = RESOURCES[resource]
    if role != "anonymous":
        api.force_authenticate(request.getfixturevalue(role))
    response = api.put(f"/api/v1/{resource}/by-{role}/", body)
    assert response.status_code == WRITE_STATUS[role], response.content
    assert model.objects.filter(slug=f"by-{role}").exists() == (response.status_code == 201)


@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_it_refuses_a_partner_key_even_with_write_scope(api, partner, issuer, existing, resource):
    model, body, change = RESOURCES[resource]
    bearer(api, partner, write=True)
    created = api.put(f"/api/v1/{resource}/partner-push/", body)
    assert created.status_code == 403
    url = f"/api/v1/{resource}/{existing[resource].slug}/"
    changed = api.put(url, change, HTTP_IF_MATCH=api.get(url)["ETag"])
    assert changed.status_code == 403
    assert not model.objects.filter(slug="partner-push").exists()
    assert model.objects.filter(pk=existing[resource].pk, **change).count() == 0


BAD_THEMES = [
    ({**THEME, "name": ""}, "name"),
    ({**THEME, "name": ["a", "list"]}, "name"),
    ({**THEME, "description": {"not": "text"}}, "description"),
    ({"description": "no name"}, "name"),
    ({**THEME, "colour": "blue"}, "colour"),
    ({**THEME, "slug": "another-key"}, "slug"),
    (["not", "an", "object"], "non_field_errors"),
]
BAD_INSTRUMENTS = [
    ({**INSTRUMENT, "kind": "poem"}, "kind"),
    ({**INSTRUMENT, "title": 7, "adopted_on": "yesterday"}, "adopted_on"),
    ({**INSTRUMENT, "adopted_on": 20110722}, "adopted_on"),
    ({**INSTRUMENT, "in_force_on": "2010-01-01"}, "in_force_on"),
    ({**INSTRUMENT, "period_start": "2020-01-01", "period_end": "2019-12-31"}, "period_end"),
    ({**INSTRUMENT, "country": "XX"}, "country"),
    ({**INSTRUMENT, "country": ""}, "country"),
    ({**INSTRUMENT, "adopted_by": "nobody"}, "adopted_by"),
    ({**INSTRUMENT, "participations": []}, "participations"),
    ({**INSTRUMENT, "colour": "blue"}, "colour"),
    ({"title": "No kind"}, "kind"),
    ("a string", "non_field_errors"),
]
BAD_BODIES = [("themes", body, field) for body, field in BAD_THEMES] + [
    ("instruments", body, field) for body, field in BAD_INSTRUMENTS
]


@pytest.mark.parametrize(("resource", "body", "field"), BAD_BODIES)
def test_it_refuses_bad_input_naming_the_field_and_writes_nothing(
    api, editor, issuer, resource, body, field
):
    model = RESOURCES[resource][0]
    api.force_authenticate(editor)
    response = api.put(f"/api/v1/{resource}/bad-one/", body)
    assert response.status_code == 400, response.content
    payload = response.json()
    assert payload["type"] == "validation_error"
    assert field in {error["attr"] for error in payload["errors"]}
    assert not model.objects.filter(slug__in=["bad-one", "another-key"]).exists()


def test_it_checks_dates_against_the_values_kept(api, editor, issuer):
    law = factories.instrument("law-dated", title="Dated law", adopted_on="2011-07-22")
    api.force_authenticate(editor)
    url = f"/api/v1/instruments/{law.slug}/"
    body = {
        "title": "Dated law",
        "kind": "law",
        "jurisdiction": "national",
        "in_force_on": "2011-01-01",
    }
    response = api.put(url, body, HTTP_IF_MATCH=api.get(url)["ETag"])
    assert response.status_code == 400
    assert {error["attr"] for error in response.json()["errors"]} == {"in_force_on"}
    law.refresh_from_db()
    assert law.in_force_on is None


@pytest.mark.postgres
@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_it_leaves_history_with_the_user_and_none_for_a_repeated_push(
    api, editor, issuer, resource
):
    model, body, change = RESOURCES[resource]
    api.force_authenticate(editor)
    url = f"/api/v1/{resource}/with-history/"
    created = api.put(url, body)
    api.put(url, body, HTTP_IF_MATCH=created["ETag"])
    record = model.objects.get(slug="with-history")
    assert list(record.events.values_list("pgh_label", flat=True)) == ["insert"]
    api.put(url, change, HTTP_IF_MATCH=created["ETag"])
    events = record.events.select_related("pgh_context").order_by("pgh_id")
    assert [event.pgh_label for event in events] == ["insert", "update"]
    assert all(event.pgh_context.metadata["user"] == editor.pk for event in events)
