"""Field-level audit on PostgreSQL: every write path leaves events, with context."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from instruments.models import Instrument
from recommendations import services
from recommendations.models import Recommendation, StatusAssessment, Theme
from tests import factories
from tracker.celery import app
from tracker.history import history_context
from tracker.models import Organisation

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]


def labels(obj) -> list[str]:
    return list(obj.events.order_by("pgh_id").values_list("pgh_label", flat=True))


def last_context(obj) -> dict[str, object]:
    event = obj.events.select_related("pgh_context").order_by("-pgh_id").first()
    assert event is not None and event.pgh_context is not None
    return dict(event.pgh_context.metadata)


def test_it_records_inserts_updates_and_deletes(issuer):
    law = factories.instrument("law-audited")
    law.title = "Law, amended title"
    law.save()
    law_id = law.pk
    event_model = apps.get_model("instruments", "InstrumentEvent")
    law.delete()

    events = event_model.objects.filter(pgh_obj_id=law_id).order_by("pgh_id")
    assert [e.pgh_label for e in events] == ["insert", "update", "delete"]
    assert events[1].title == "Law, amended title"


def test_it_records_a_service_call_with_its_user_and_reason(alice, alice_org, editor, issuer):
    rec = factories.recommendation(issuer, "rec-audit")
    first = services.assessment_record(
        recommendation=rec,
        assessor=alice_org,
        recorded_by=alice,
        status="fully_implemented",
        status_since=datetime.date(2024, 1, 1),
        evidence="e",
        submit=True,
    )
    services.assessment_publish(assessment=first, reviewer=editor)
    fixed = services.assessment_record(
        recommendation=rec,
        assessor=alice_org,
        recorded_by=alice,
        status="partially_implemented",
        status_since=datetime.date(2024, 1, 1),
        evidence="e",
        corrects=first,
        correction_reason="Only two articles were amended.",
    )

    assert labels(first) == ["insert", "update"]  # recorded and submitted at once, published
    assert last_context(first)["user"] == editor.pk
    assert last_context(fixed) == {"user": alice.pk, "reason": "Only two articles were amended."}
    rec.refresh_from_db()
    assert labels(rec)[-1] == "update"  # the derived headline changed in the same transaction


def test_it_records_an_admin_edit_with_user_and_path(client, administrator, issuer):
    client.force_login(administrator)
    url = reverse("admin:tracker_organisation_change", args=[issuer.pk])
    response = client.post(
        url,
        {
            "slug": issuer.slug,
            "name": "Renamed body",
            "acronym": "",
            "kind": issuer.kind,
            "parent": "",
            "country": "",
            "description": "",
            "website": "",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    issuer.refresh_from_db()
    assert issuer.name == "Renamed body"
    assert labels(issuer) == ["insert", "update"]
    context = last_context(issuer)
    assert context["user"] == administrator.pk
    assert context["url"] == url


def test_it_records_bulk_update_queryset_update_and_raw_sql(issuer):
    themes = [Theme.objects.create(slug=f"t-{i}", name=f"Theme {i}") for i in range(3)]
    for theme in themes:
        theme.name += " (bulk)"
    Theme.objects.bulk_update(themes, ["name"])
    Theme.objects.filter(slug="t-0").update(description="changed by update()")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE recommendations_theme SET name = 'raw' WHERE slug = 't-1'")
        cursor.execute("DELETE FROM recommendations_theme WHERE slug = 't-2'")

    assert labels(themes[0]) == ["insert", "update", "update"]
    assert labels(themes[1]) == ["insert", "update", "update"]
    event_model = apps.get_model("recommendations", "ThemeEvent")
    assert list(
        event_model.objects.filter(pgh_obj_id=themes[2].pk)
        .order_by("pgh_id")
        .values_list("pgh_label", flat=True)
    ) == ["insert", "update", "delete"]


def test_it_records_a_change_to_one_translation_alone(issuer):
    russian = "Закон о миграции населения"  # noqa: RUF001 (Cyrillic on purpose)
    kazakh = "Халықтың көші-қоны туралы заң"
    law = factories.instrument("law-translated", title="Law on Migration")
    Instrument.objects.filter(pk=law.pk).update(title_ru=russian)
    Instrument.objects.filter(pk=law.pk).update(title_kk=kazakh)

    event_model = apps.get_model("instruments", "InstrumentEvent")
    events = event_model.objects.filter(pgh_obj_id=law.pk).order_by("pgh_id")
    assert [e.pgh_label for e in events] == ["insert", "update", "update"]
    assert events[1].title_ru == russian
    assert events[2].title_kk == kazakh


def test_it_records_loaddata(db):
    call_command("loaddata", str(ROOT / "fixtures" / "01_organisations.json"), verbosity=0)
    organisation = Organisation.objects.get(slug="osce")
    assert labels(organisation) == ["insert"]
    assert Organisation.objects.filter(events__isnull=True).count() == 0


@pytest.mark.django_db(transaction=True)
def test_it_records_the_management_command_as_context():
    database = connection.settings_dict
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    result = subprocess.run(
        [sys.executable, "manage.py", "loaddata", "fixtures/01_organisations.json"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert last_context(Organisation.objects.get(slug="osce")) == {"command": "loaddata"}


def test_it_records_the_celery_task_as_context(issuer):
    @app.task(name="tests.rename_theme")
    def rename_theme(slug: str) -> None:
        Theme.objects.filter(slug=slug).update(name="renamed by a task")

    theme = Theme.objects.create(slug="task-theme", name="Before")
    rename_theme.apply(args=("task-theme",))

    context = last_context(theme)
    assert context["task"] == "tests.rename_theme"
    assert context["task_id"]


def test_it_merges_a_reason_into_the_request_context(issuer):
    instrument = factories.instrument("law-with-reason")
    with history_context(user=None, url="/somewhere"), history_context(reason="typo"):
        Instrument.objects.filter(pk=instrument.pk).update(title="Corrected title")
    assert last_context(instrument) == {"user": None, "url": "/somewhere", "reason": "typo"}


def test_it_audits_every_model_of_the_domain():
    from django.apps import apps

    audited = {
        model._meta.label
        for app_label in ("tracker", "instruments", "recommendations")
        for model in apps.get_app_config(app_label).get_models()
        if hasattr(model, "events")
    }
    # Spans and counts derived from audited, hash-chained assessments and
    # rewritten with them; verify_history recomputes them from the history.
    # (And the recommendations whose as-of counts are still to come.)
    derived = {
        "recommendations.StatusPeriod",
        "recommendations.HeadlinePeriod",
        "recommendations.OverviewCount",
        "recommendations.AsOfCount",
        "recommendations.AsOfPending",
    }
    expected = {"tracker.Organisation"} | {
        model._meta.label
        for app_label in ("instruments", "recommendations")
        for model in apps.get_app_config(app_label).get_models()
        if not model._meta.label.endswith("Event") and model._meta.label not in derived
    }
    assert expected <= audited
    assert StatusAssessment in {apps.get_model(label) for label in audited}
    assert Recommendation in {apps.get_model(label) for label in audited}


def test_it_shows_each_objects_history_in_the_admin(client, administrator, issuer):
    client.force_login(administrator)
    Organisation.objects.filter(pk=issuer.pk).update(name="Renamed for history")
    change_page = client.get(reverse("admin:tracker_organisation_change", args=[issuer.pk]))
    assert 'class="events-admin"' in change_page.content.decode()

    events = client.get(
        reverse("admin:pghistory_events_changelist"),
        {"method": "tracks", "obj": f"tracker.Organisation:{issuer.pk}"},
    )
    assert events.status_code == 200
    page = events.content.decode()
    assert "Renamed for history" in page
    assert "insert" in page and "update" in page


def assessment_events(assessments) -> list[Any]:
    event_model = apps.get_model("recommendations", "StatusAssessmentEvent")
    return list(
        event_model.objects.filter(pgh_obj_id__in=[a.pk for a in assessments])
        .select_related("pgh_context")
        .order_by("pgh_id")
    )


def test_it_records_the_admins_bulk_action_with_its_user(client, alice, alice_org, issuer):
    from tests.recommendations.test_admin_workflow import bulk_form

    recs = [factories.recommendation(issuer, f"rec-bulk-audit-{i}") for i in range(2)]
    client.force_login(alice)
    url = reverse("admin:recommendations_recommendation_changelist")
    assert client.post(url, bulk_form(recs, alice_org)).status_code == 302

    recorded = list(StatusAssessment.objects.filter(recommendation__in=recs))
    events = assessment_events(recorded)
    assert {(e.pgh_obj_id, e.pgh_label) for e in events} >= {(a.pk, "insert") for a in recorded}
    assert {e.pgh_context.metadata["user"] for e in events} == {alice.pk}
    assert {e.pgh_context.metadata["url"] for e in events} == {url}


def test_it_records_a_spreadsheet_import_with_its_user(client, alice, alice_org, issuer):
    from tests.recommendations.test_admin_import_export import ASSESSMENT_HEADERS, csv_upload

    factories.recommendation(issuer, "rec-import-audit")
    sheet = f"{ASSESSMENT_HEADERS}\nrec-import-audit,alice-ngo,Fully,2024-01-15,Adopted,public,\n"
    client.force_login(alice)
    preview = client.post(
        reverse("admin:recommendations_statusassessment_import"),
        {"import_file": csv_upload(sheet), "format": "0", "resource": "0"},
    )
    confirm = preview.context["confirm_form"].initial
    process = reverse("admin:recommendations_statusassessment_process_import")
    assert client.post(process, confirm).status_code == 302

    recorded = list(StatusAssessment.objects.filter(recommendation__code="rec-import-audit"))
    assert len(recorded) == 1
    events = assessment_events(recorded)
    assert [e.pgh_label for e in events] == ["insert"]
    assert events[0].pgh_context.metadata["user"] == alice.pk
    assert events[0].pgh_context.metadata["url"] == process
