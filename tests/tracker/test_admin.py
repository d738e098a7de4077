"""Every model's admin answers, and its changelist costs the same whatever its length."""

from __future__ import annotations

import datetime

import pghistory.models
import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from instruments.models import Citation, InstrumentRelation, TreatyParticipation
from recommendations import services
from recommendations.models import AsOfPending, Concern, SdgTarget, Theme
from tests import factories

MODELS = sorted((model._meta.app_label, model._meta.model_name) for model in admin.site._registry)


def populate(n: int, assessor, reviewer) -> None:
    """n rows of every model, with the relations the changelists display."""
    for i in range(n):
        suffix = f"{n}-{i}"
        org = factories.organisation(f"org-{suffix}", parent=assessor)
        document = factories.source(f"source-{suffix}", publisher=org)
        law = factories.instrument(f"law-{suffix}", adopted_by=org)
        treaty = factories.instrument(
            f"treaty-{suffix}", jurisdiction="international", country="", kind="convention"
        )
        InstrumentRelation.objects.create(subject=law, kind="implements", target=treaty)
        TreatyParticipation.objects.create(instrument=treaty, country="KZ", status="ratified")
        article = factories.provision(law, "art_1")
        theme = Theme.objects.create(slug=f"theme-{suffix}", name=f"Theme {suffix}")
        SdgTarget.objects.create(code=f"{i + 1}.{n}", title="t")
        rec = factories.recommendation(org, f"rec-{suffix}", source=document)
        rec.themes.add(theme)
        concern = Concern.objects.create(
            code=f"concern-{suffix}", text="c", raised_by=org, country="KZ"
        )
        services.provision_link_create(
            key=f"link-{suffix}", relation="to_change", recommendation=rec, provision=article
        )
        services.provision_link_create(
            key=f"link-c-{suffix}", relation="cites", concern=concern, instrument=treaty
        )
        Citation.objects.create(key=f"cit-{suffix}", source=document, quote="q", instrument=law)
        services.assessment_record(
            recommendation=rec,
            assessor=assessor,
            recorded_by=reviewer,
            status="partially_implemented",
            status_since=datetime.date(2024, 1, 1),
            evidence="e",
            publish=True,
        )
        # As a bulk load names a recommendation it is about to write.
        AsOfPending.objects.create(recommendation_id=10**9 + rec.pk)
        populate_api_records(org, suffix)


def populate_api_records(org, suffix: str) -> None:
    """A key, a webhook with a delivery, a change and an idempotency record."""
    from django.utils import timezone

    from tracker import services as tracker_services
    from tracker.models import Change, IdempotencyRecord, WebhookDelivery, WebhookEndpoint

    holder = factories.user(f"key-holder-{suffix}", None, org)
    tracker_services.api_key_issue(user=holder, name=f"key-{suffix}")
    endpoint = WebhookEndpoint.objects.create(
        organisation=org, url="https://partner.example.org/hook", secret="whsec_dGVzdA=="
    )
    change = Change.objects.create(
        txid=1,
        entity="organisation",
        key=org.slug,
        operation="insert",
        version=1,
        changed_at=timezone.now(),
    )
    WebhookDelivery.objects.create(endpoint=endpoint, change=change, event_id=f"evt-{suffix}")
    IdempotencyRecord.objects.create(
        user=holder, key=f"key-{suffix}", method="POST", path="/api/v1/", request_hash="0"
    )


def changelist_queries(client, app_label, model_name) -> int:
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def test_it_registers_every_model_of_the_domain():
    registered = {f"{app}.{model}" for app, model in MODELS}
    for app_label in ("tracker", "instruments", "recommendations"):
        for model in apps.get_app_config(app_label).get_models():
            if issubclass(model, pghistory.models.Event):
                continue  # history rows are shown on each object's history page
            assert f"{app_label}.{model._meta.model_name}" in registered


def test_it_answers_every_changelist_in_constant_queries(client, administrator, alice_org):
    client.force_login(administrator)
    populate(1, alice_org, administrator)
    small = {m: changelist_queries(client, *m) for m in MODELS}
    populate(6, alice_org, administrator)
    for model in MODELS:
        large = changelist_queries(client, *model)
        assert large <= small[model], f"{model}: {small[model]} queries for 1, {large} for 7"
        assert large <= 15, model


# Written by PostgreSQL's triggers alone: SQLite has none, so no rows.
TRIGGER_WRITTEN = {("recommendations", "overviewcount"), ("recommendations", "asofcount")}


def test_it_opens_every_add_form_and_a_change_form(client, administrator, alice_org):
    client.force_login(administrator)
    populate(1, alice_org, administrator)
    for app_label, model_name in MODELS:
        if app_label == "pghistory":
            continue  # read-only event lists, covered by the changelist test
        model = admin.site._registry
        add = client.get(reverse(f"admin:{app_label}_{model_name}_add"))
        assert add.status_code in (200, 403), (app_label, model_name)
        instance = next(
            m for m in model if (m._meta.app_label, m._meta.model_name) == (app_label, model_name)
        )._default_manager.first()
        if (app_label, model_name) in TRIGGER_WRITTEN and connection.vendor != "postgresql":
            assert instance is None  # PostgreSQL's triggers write these; SQLite has none
            continue
        assert instance is not None
        change = client.get(reverse(f"admin:{app_label}_{model_name}_change", args=[instance.pk]))
        assert change.status_code == 200, (app_label, model_name)


@pytest.mark.parametrize("role_user", ["donor", "partner"])
def test_it_keeps_donors_and_partners_out_of_the_admin(client, role_user, request):
    user = request.getfixturevalue(role_user)
    client.force_login(user)
    response = client.get(reverse("admin:recommendations_recommendation_changelist"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_it_lets_a_monitor_browse_but_not_curate(client, alice):
    client.force_login(alice)
    assert client.get(reverse("admin:instruments_instrument_changelist")).status_code == 200
    assert client.get(reverse("admin:instruments_instrument_add")).status_code == 403
    assert client.get(reverse("admin:recommendations_statusassessment_add")).status_code == 200


def test_it_records_an_assessment_through_the_admin_for_the_monitors_organisation(
    client, alice, alice_org, bob_org, issuer
):
    rec = factories.recommendation(issuer, "rec-admin")
    client.force_login(alice)
    url = reverse("admin:recommendations_statusassessment_add")
    form = {
        "recommendation": rec.pk,
        "status": "partially_implemented",
        "status_since": "2024-02-01",
        "evidence": "Amendments adopted.",
        "visibility": "public",
        "submit_now": "on",
    }
    refused = client.post(url, {**form, "assessor": bob_org.pk})
    assert refused.status_code == 200  # the form again, with an error on assessor
    assert "assessor" in refused.context["adminform"].form.errors
    assert not rec.assessments.exists()

    accepted = client.post(url, {**form, "assessor": alice_org.pk})
    assert accepted.status_code == 302
    assessment = rec.assessments.get()
    assert (assessment.assessor, assessment.recorded_by) == (alice_org, alice)
    assert assessment.review_state == "submitted"


def test_it_says_on_sqlite_that_field_level_audit_needs_postgresql(client, administrator):
    from tracker.history import audit_available

    client.force_login(administrator)
    page = client.get(reverse("admin:index")).content.decode()
    if audit_available():
        assert 'id="audit-notice"' not in page
    else:
        assert 'id="audit-notice"' in page
        assert "needs PostgreSQL" in page
