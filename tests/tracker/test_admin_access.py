"""Who may do what in the admin: each role, each model, view / add / change / delete."""

from __future__ import annotations

import datetime

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from recommendations import services
from recommendations.models import StatusAssessment
from tests import factories

ALL = "vacd"
# What each staff role may do with each model, as the admin answers it: the
# whole table is written out so that a change in roles.py shows up here.
EXPECTED: dict[str, dict[str, str]] = {
    "tracker.organisation": {"administrator": ALL, "editor": ALL, "monitor": "v"},
    "tracker.user": {"administrator": ALL, "editor": "", "monitor": ""},
    "instruments.source": {"administrator": ALL, "editor": ALL, "monitor": "v"},
    "instruments.instrument": {"administrator": ALL, "editor": ALL, "monitor": "v"},
    "instruments.instrumentrelation": {"administrator": ALL, "editor": ALL, "monitor": "v"},
    "instruments.treatyparticipation": {"administrator": ALL, "editor": ALL, "monitor": "v"},
    "instruments.provision": {"administrator": ALL, "editor": ALL, "monitor": "v"},
    "instruments.citation": {"administrator": ALL, "editor": ALL, "monitor": "v"},
    "recommendations.theme": {"administrator": ALL, "editor": ALL, "monitor": "v"},
    "recommendations.sdgtarget": {"administrator": ALL, "editor": ALL, "monitor": "v"},
    "recommendations.recommendation": {"administrator": ALL, "editor": ALL, "monitor": "vac"},
    "recommendations.concern": {"administrator": ALL, "editor": ALL, "monitor": "v"},
    "recommendations.provisionlink": {"administrator": ALL, "editor": ALL, "monitor": "vac"},
    # Assessments are added, never changed or deleted (object-level answers below).
    "recommendations.statusassessment": {"administrator": "vac", "editor": "va", "monitor": "va"},
    "recommendations.currentassessment": {"administrator": "v", "editor": "v", "monitor": "v"},
}


def model_admin(dotted: str):
    app_label, model_name = dotted.split(".")
    for model, registered in admin.site._registry.items():
        if (model._meta.app_label, model._meta.model_name) == (app_label, model_name):
            return registered
    raise AssertionError(f"{dotted} is not registered")


def answers(registered, user) -> str:
    request = RequestFactory().get("/admin/")
    request.user = user
    checks = {
        "v": registered.has_view_permission(request),
        "a": registered.has_add_permission(request),
        "c": registered.has_change_permission(request),
        "d": registered.has_delete_permission(request),
    }
    return "".join(letter for letter, allowed in checks.items() if allowed)


@pytest.mark.parametrize("role", ["administrator", "editor", "monitor"])
@pytest.mark.parametrize("dotted", sorted(EXPECTED))
def test_it_gives_each_staff_role_exactly_its_rights_on_each_model(role, dotted, request):
    user = request.getfixturevalue("alice" if role == "monitor" else role)
    assert answers(model_admin(dotted), user) == EXPECTED[dotted][role]


@pytest.mark.parametrize("role", ["administrator", "editor", "monitor"])
@pytest.mark.parametrize("dotted", sorted(EXPECTED))
def test_it_serves_each_staff_role_the_pages_its_rights_allow(role, dotted, request, client):
    user = request.getfixturevalue("alice" if role == "monitor" else role)
    client.force_login(user)
    app_label, model_name = dotted.split(".")
    rights = EXPECTED[dotted][role]
    changelist = client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    assert changelist.status_code == (200 if "v" in rights else 403)
    add = client.get(reverse(f"admin:{app_label}_{model_name}_add"))
    assert add.status_code == (200 if "a" in rights else 403)


@pytest.mark.parametrize("role", ["donor", "partner"])
@pytest.mark.parametrize("dotted", sorted(EXPECTED))
def test_it_keeps_donors_and_partners_out_even_when_marked_staff(role, dotted, request, client):
    user = request.getfixturevalue(role)
    # Ticked as staff by mistake: the role still keeps them out.
    user.is_staff = True
    user.save()
    client.force_login(user)
    app_label, model_name = dotted.split(".")
    for page in ("changelist", "add"):
        response = client.get(reverse(f"admin:{app_label}_{model_name}_{page}"))
        assert response.status_code == 302, (dotted, page)
        assert "/login/" in response["Location"]


@pytest.mark.parametrize("role", ["administrator", "editor", "monitor"])
def test_it_never_lets_anyone_change_or_delete_a_submitted_assessment(
    role, request, alice_org, issuer, editor
):
    user = request.getfixturevalue("alice" if role == "monitor" else role)
    assessment = services.assessment_record(
        recommendation=factories.recommendation(issuer),
        assessor=alice_org,
        recorded_by=editor,
        status="not_implemented",
        status_since=datetime.date(2024, 1, 1),
        evidence="e",
        submit=True,  # a draft is still its author's to finish (test_admin_workflow.py)
    )
    registered = model_admin("recommendations.statusassessment")
    http = RequestFactory().get("/admin/")
    http.user = user
    assert registered.has_change_permission(http, assessment) is False
    assert registered.has_delete_permission(http, assessment) is False


def test_it_shows_a_monitor_only_its_own_organisations_unpublished_assessments(
    client, alice, bob, alice_org, bob_org, issuer
):
    rec = factories.recommendation(issuer)
    for monitor, organisation in ((alice, alice_org), (bob, bob_org)):
        services.assessment_record(
            recommendation=rec,
            assessor=organisation,
            recorded_by=monitor,
            status="not_implemented",
            status_since=datetime.date(2024, 1, 1),
            evidence=f"draft of {organisation.slug}",
        )
    client.force_login(alice)
    page = client.get(reverse("admin:recommendations_statusassessment_changelist"))
    shown = list(page.context["cl"].result_list)
    assert [a.assessor for a in shown] == [alice_org]
    bobs = StatusAssessment.objects.get(assessor=bob_org)
    change = client.get(reverse("admin:recommendations_statusassessment_change", args=[bobs.pk]))
    assert change.status_code == 302  # not found for her: back to the admin index
