"""Spreadsheet import and export: preview, natural keys, crosswalk, services, safe cells."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from import_export.formats.base_formats import CSV, XLSX

from recommendations.choices import ReviewState
from recommendations.models import ProvisionLink, Recommendation, StatusAssessment, Theme
from recommendations.resources import (
    ProvisionLinkResource,
    RecommendationResource,
    StatusAssessmentResource,
    escape_formula,
    unescape_formula,
)
from tests import factories

ASSESSMENT_HEADERS = "recommendation,assessor,status,status_since,evidence,visibility,review_state"


def csv_upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("sheet.csv", text.encode("utf-8"), content_type="text/csv")


def run_import(resource, text: str, user, *, dry_run: bool = False):
    dataset = tablib.Dataset().load(text, format="csv")
    return resource.import_data(dataset, dry_run=dry_run, raise_errors=False, user=user)


@pytest.fixture
def recs(issuer):
    return [factories.recommendation(issuer, f"rec-{i}") for i in range(2)]


def test_it_previews_an_import_with_each_rows_errors_and_writes_nothing(
    client, alice, alice_org, recs
):
    sheet = "\n".join(
        [
            ASSESSMENT_HEADERS,
            "rec-0,alice-ngo,Mostly,2024-01-15,Good row,public,submitted",
            "rec-1,alice-ngo,kinda done,2024-01-15,Unknown status,public,draft",
            "rec-404,no-such-org,partially,2024-01-15,Unknown keys,public,draft",
        ]
    )
    client.force_login(alice)
    response = client.post(
        reverse("admin:recommendations_statusassessment_import"),
        {"import_file": csv_upload(sheet), "format": "0", "resource": "0"},
    )
    assert response.status_code == 200
    result = response.context["result"]
    invalid = {row.number: row.error_dict for row in result.invalid_rows}
    assert "status" in invalid[2] and "kinda done" in str(invalid[2]["status"])
    assert "recommendation" in invalid[3] and "rec-404" in str(invalid[3]["recommendation"])
    assert "assessor" in invalid[3]
    assert "confirm_form" not in response.context or response.context["confirm_form"] is None
    assert not StatusAssessment.objects.exists()


def test_it_previews_then_imports_through_the_service(client, alice, alice_org, recs):
    sheet = "\n".join(
        [
            ASSESSMENT_HEADERS,
            "rec-0,alice-ngo,Fully,2024-01-15,Law adopted,public,submitted",
            "rec-1,alice-ngo,not implemented,2024-01-15,No change,partners,",
        ]
    )
    client.force_login(alice)
    preview = client.post(
        reverse("admin:recommendations_statusassessment_import"),
        {"import_file": csv_upload(sheet), "format": "0", "resource": "0"},
    )
    assert not preview.context["result"].has_errors()
    assert not preview.context["result"].has_validation_errors()
    assert not StatusAssessment.objects.exists()  # the preview wrote nothing

    confirm = preview.context["confirm_form"].initial
    done = client.post(reverse("admin:recommendations_statusassessment_process_import"), confirm)
    assert done.status_code == 302
    recorded = {a.recommendation.code: a for a in StatusAssessment.objects.all()}
    assert recorded["rec-0"].status == "fully_implemented"
    assert recorded["rec-0"].review_state == ReviewState.SUBMITTED
    assert recorded["rec-1"].review_state == ReviewState.DRAFT
    assert recorded["rec-1"].visibility == "partners"
    assert {a.recorded_by for a in recorded.values()} == {alice}


def test_it_refuses_importing_for_another_organisation(alice, bob_org, recs):
    sheet = f"{ASSESSMENT_HEADERS}\nrec-0,bob-ngo,partially,2024-01-15,Not mine,public,draft"
    result = run_import(StatusAssessmentResource(), sheet, alice)
    assert result.has_validation_errors()
    assert "organisation" in str(result.invalid_rows[0].error_dict)
    assert not StatusAssessment.objects.exists()


def test_it_rolls_back_the_whole_import_when_one_row_is_bad(alice, alice_org, recs):
    sheet = "\n".join(
        [
            ASSESSMENT_HEADERS,
            "rec-0,alice-ngo,partially,2024-01-15,Fine,public,draft",
            "rec-1,alice-ngo,partially,2999-01-15,From the future,public,draft",
        ]
    )
    result = run_import(StatusAssessmentResource(), sheet, alice)
    assert result.has_validation_errors()
    assert not StatusAssessment.objects.exists()


def test_it_imports_recommendations_with_natural_keys_and_the_upr_crosswalk(
    alice, issuer, alice_org
):
    Theme.objects.create(slug="labour-migration", name="Labour migration")
    source = factories.source("upr-2019-report")
    sheet = "\n".join(
        [
            "code,text_en,text_ru,issued_by,issued_on,source,addressed_to,country,themes,"
            "state_response,follow_up_due",
            "upr-1,Ratify the convention.,Ратифицировать конвенцию.,issuer,2019-11-07,"
            "upr-2019-report,alice-ngo,KZ,labour-migration,Supported,2024-11-07",
            "upr-2,Repeal exit visas.,,issuer,2019-11-07,,,KZ,,noted,",
        ]
    )
    result = run_import(RecommendationResource(), sheet, alice)
    assert not result.has_errors() and not result.has_validation_errors()
    first = Recommendation.objects.get(code="upr-1")
    assert first.state_response == "accepted"
    assert (first.issued_by, first.source) == (issuer, source)
    assert list(first.addressed_to.all()) == [alice_org]
    assert [t.slug for t in first.themes.all()] == ["labour-migration"]
    assert tuple(getattr(first, f"text_{language}") for language in ("en", "ru", "kk")) == (
        "Ratify the convention.",
        "Ратифицировать конвенцию.",
        None,
    )
    assert Recommendation.objects.get(code="upr-2").state_response == "noted"


def test_it_names_the_field_of_an_unknown_state_response(alice, issuer):
    sheet = "code,text_en,issued_by,country,state_response\nupr-3,Text.,issuer,KZ,maybe"
    result = run_import(RecommendationResource(), sheet, alice)
    assert "state_response" in result.invalid_rows[0].error_dict
    assert not Recommendation.objects.filter(code="upr-3").exists()


def test_it_imports_provision_links_by_instrument_and_path(alice, issuer):
    factories.recommendation(issuer, "rec-link")
    law = factories.instrument("law-on-migration")
    article = factories.provision(law, "art_14")
    sheet = "\n".join(
        [
            "key,recommendation,relation,instrument,provision,note",
            "rec-link-art-14,rec-link,to_change,law-on-migration,art_14,",
            "rec-link-art-99,rec-link,to_change,law-on-migration,art_99,",
        ]
    )
    result = run_import(ProvisionLinkResource(), sheet, alice)
    assert "art_99" in str(result.invalid_rows[0].error_dict["provision"])
    assert not ProvisionLink.objects.exists()

    good = run_import(ProvisionLinkResource(), "\n".join(sheet.splitlines()[:2]), alice)
    assert not good.has_validation_errors() and not good.has_errors()
    assert ProvisionLink.objects.get().provision == article


def test_it_neutralises_formulas_reversibly():
    for text in ["=1+2", "+7 701", "-5", "@SUM(A1)", "'=already", "\uff1dfull-width"]:
        escaped = escape_formula(text)
        assert escaped.startswith("'")
        assert unescape_formula(escaped) == text
    for harmless in ["plain", "a=b", "'quoted'", 42, None]:
        assert escape_formula(harmless) == harmless
        assert unescape_formula(harmless) == harmless


def dangerous_recommendation(issuer, alice_org):
    rec = factories.recommendation(
        issuer,
        "rec-danger",
        text='=HYPERLINK("http://evil.example","click")',
        follow_up_due=datetime.date(2025, 1, 1),
        state_response="accepted",
    )
    rec.addressed_to.add(alice_org)
    rec.themes.add(Theme.objects.create(slug="-minus-theme", name="Minus"))
    return rec


def test_it_writes_formula_cells_as_text_in_csv_and_xlsx(issuer, alice_org):
    dangerous_recommendation(issuer, alice_org)
    dataset = RecommendationResource().export()

    csv_text = CSV().export_data(dataset)
    assert "'=HYPERLINK" in csv_text
    assert "\n=HYPERLINK" not in csv_text and ",=HYPERLINK" not in csv_text

    workbook = openpyxl.load_workbook(io.BytesIO(XLSX().export_data(dataset)))
    sheet = workbook.active
    assert sheet is not None
    cells = [cell for row in sheet.iter_rows() for cell in row]
    texts = [cell.value for cell in cells if isinstance(cell.value, str)]
    assert '\'=HYPERLINK("http://evil.example","click")' in texts
    assert "'-minus-theme" in texts
    assert all(cell.data_type != "f" for cell in cells)


@pytest.mark.parametrize("file_format", [CSV, XLSX])
def test_it_reimports_its_own_export_unchanged(file_format, alice, editor, issuer, alice_org):
    rec = dangerous_recommendation(issuer, alice_org)
    law = factories.instrument("law-x")
    factories.provision(law, "art_2")
    from recommendations import services

    services.provision_link_create(
        key="danger-art-2", relation="standard", recommendation=rec, provision=law.provisions.get()
    )
    services.assessment_record(
        recommendation=rec,
        assessor=alice_org,
        recorded_by=editor,
        status="partially_implemented",
        status_since=datetime.date(2024, 1, 1),
        evidence="-the decree of 2024",
        publish=True,
    )
    before = {
        "recommendations": list(Recommendation.objects.values()),
        "links": list(ProvisionLink.objects.values()),
        "assessments": list(StatusAssessment.objects.values()),
    }
    for resource_class in (RecommendationResource, ProvisionLinkResource, StatusAssessmentResource):
        exported = file_format().export_data(resource_class().export())
        reread = file_format().create_dataset(exported)
        result = resource_class().import_data(reread, dry_run=False, user=editor)
        assert not result.has_errors() and not result.has_validation_errors(), resource_class
        assert {row.import_type for row in result.rows} == {"skip"}, resource_class
    assert before == {
        "recommendations": list(Recommendation.objects.values()),
        "links": list(ProvisionLink.objects.values()),
        "assessments": list(StatusAssessment.objects.values()),
    }


def test_it_exports_from_the_admin_with_natural_keys(client, editor, issuer, alice_org):
    dangerous_recommendation(issuer, alice_org)
    client.force_login(editor)
    response = client.post(
        reverse("admin:recommendations_recommendation_export"),
        {
            "format": "0",
            "resource": "0",
            **{
                f"recommendationresource_{f}": "on"
                for f in ("code", "text_en", "issued_by", "addressed_to", "themes")
            },
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.splitlines()[0].startswith("code,")
    assert body.splitlines()[1].startswith("rec-danger,\"'=HYPERLINK")
    assert "issuer" in body and "alice-ngo" in body
