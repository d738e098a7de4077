"""The changelists' filters offer what Django's own would, and their country columns name it."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from instruments.models import TreatyParticipation
from recommendations import services
from recommendations.models import Concern
from tests import factories
from tracker.admin_lists import RelatedOnlyExistsFilter


def changelist(client, model: str, query: str = ""):
    response = client.get(reverse(f"admin:{model.replace('.', '_')}_changelist") + query)
    assert response.status_code == 200
    return response


def choices(response, field_path: str) -> list[str]:
    """The labels a changelist offers in the filter on `field_path` (a title for a class)."""
    for spec in response.context["cl"].filter_specs:
        if getattr(spec, "field_path", None) == field_path or spec.title == field_path:
            return [str(label) for _value, label in spec.lookup_choices]
    raise AssertionError(f"no filter on {field_path}")


def django_choices(response, field_path: str) -> list[str]:
    """What Django's `RelatedOnlyFieldListFilter` offers on the same list, for comparison."""
    cl = response.context["cl"]
    spec = next(s for s in cl.filter_specs if getattr(s, "field_path", None) == field_path)
    assert isinstance(spec, RelatedOnlyExistsFilter)
    field: Any = spec.field
    original = admin.RelatedOnlyFieldListFilter.field_choices(
        spec, field, response.wsgi_request, cl.model_admin
    )
    return [str(label) for _value, label in original]


def test_it_offers_only_the_organisations_that_issued_a_recommendation(client, administrator):
    issuing = [factories.organisation(f"issuer-{n}", name=f"Issuer {n}") for n in (2, 1)]
    factories.organisation("silent", name="Silent Body")
    for body in issuing:
        factories.recommendation(body)
    client.force_login(administrator)
    response = changelist(client, "recommendations.recommendation")
    assert choices(response, "issued_by") == ["Issuer 1", "Issuer 2"]
    assert choices(response, "issued_by") == django_choices(response, "issued_by")


def test_it_offers_a_monitor_the_assessors_of_the_assessments_they_may_see(
    client, alice, alice_org, bob_org, administrator
):
    third = factories.organisation("third", name="Third NGO")
    rec = factories.recommendation(factories.organisation("issuer"))
    factories.assessment(rec, alice_org, administrator, publish=False)
    # Bob's draft, which Alice may not see.
    factories.assessment(rec, bob_org, administrator, publish=False)
    factories.assessment(rec, third, administrator, publish=True)

    client.force_login(alice)
    seen_by_alice = changelist(client, "recommendations.statusassessment")
    assert choices(seen_by_alice, "assessor") == ["Alice NGO", "Third NGO"]
    assert choices(seen_by_alice, "assessor") == django_choices(seen_by_alice, "assessor")

    client.force_login(administrator)
    seen_by_reviewer = changelist(client, "recommendations.statusassessment")
    assert choices(seen_by_reviewer, "assessor") == ["Alice NGO", "Bob NGO", "Third NGO"]


def test_it_offers_the_assessors_with_a_current_assessment(client, administrator, alice_org):
    rec = factories.recommendation(factories.organisation("issuer"))
    drafting = factories.organisation("drafting", name="Drafting NGO")
    factories.assessment(rec, alice_org, administrator, publish=True)
    factories.assessment(rec, drafting, administrator, publish=False)
    client.force_login(administrator)
    response = changelist(client, "recommendations.recommendation")
    assert choices(response, "assessed by") == ["Alice NGO"]


def test_it_offers_the_instruments_recommendations_link_to(client, administrator):
    issuer = factories.organisation("issuer")
    linked = [factories.instrument(f"linked-{n}", title=f"Linked law {n}") for n in (2, 1)]
    cited = factories.instrument("cited-only", title="Cited by a concern only")
    factories.instrument("unlinked", title="Unlinked law")
    for law in linked:
        services.provision_link_create(
            key=f"to-{law.slug}",
            relation="to_change",
            recommendation=factories.recommendation(issuer),
            provision=factories.provision(law),
        )
    concern = Concern.objects.create(code="c-1", text="c", raised_by=issuer, country="KZ")
    services.provision_link_create(
        key="c-cites", relation="cites", concern=concern, instrument=cited
    )
    client.force_login(administrator)
    response = changelist(client, "recommendations.recommendation")
    assert choices(response, "provision_links__instrument") == ["Linked law 1", "Linked law 2"]


@pytest.mark.parametrize(
    ("model", "make", "header"),
    [
        ("tracker.organisation", lambda: factories.organisation("kz", country="KZ"), "country"),
        (
            "recommendations.recommendation",
            lambda: factories.recommendation(factories.organisation("issuer"), country="KZ"),
            "country",
        ),
        (
            "instruments.treatyparticipation",
            lambda: TreatyParticipation.objects.create(
                instrument=factories.instrument(
                    "treaty", jurisdiction="international", country="", kind="convention"
                ),
                country="KZ",
                status="ratified",
            ),
            "state",
        ),
    ],
)
def test_it_names_the_country_in_the_column_headed_as_the_field(
    client, administrator, model, make, header
):
    make()
    client.force_login(administrator)
    response = changelist(client, model)
    headers = [str(h["text"]) for h in response.context["result_headers"]]
    assert header.capitalize() in headers or header in headers
    cells = [str(cell) for row in response.context["results"] for cell in row]
    assert any(">Kazakhstan<" in cell for cell in cells)


def test_it_shows_no_country_as_the_empty_value(client, administrator):
    factories.organisation("nowhere", name="Nowhere", country="")
    client.force_login(administrator)
    response = changelist(client, "tracker.organisation")
    (row,) = response.context["results"]
    assert '<td class="field-country">-</td>' in [str(cell) for cell in row]


def test_it_counts_a_filtered_assessment_list_once(client, administrator, alice_org):
    factories.assessment(
        factories.recommendation(factories.organisation("issuer")),
        alice_org,
        administrator,
        publish=True,
    )
    client.force_login(administrator)
    with CaptureQueriesContext(connection) as queries:
        response = changelist(
            client, "recommendations.statusassessment", f"?assessor__id__exact={alice_org.pk}"
        )
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1, counts
    assert response.context["cl"].result_count == 1
