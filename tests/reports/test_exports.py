"""CSV, XLSX and PDF exports: their statement of data and filters, formulas kept inert."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from recommendations import exports
from tests.reports.conftest import World


@pytest.fixture
def donor_client(client: Client, donor) -> Client:
    client.force_login(donor)
    return client


@pytest.fixture
def export_dir(settings, tmp_path):
    settings.REPORTS_EXPORT_DIR = tmp_path / "exports"
    return settings.REPORTS_EXPORT_DIR


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+7 701", "'+7 701"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("Закон о миграции", "Закон о миграции"),  # noqa: RUF001
        (12, 12),
    ],
)
def test_it_neutralises_cells_a_spreadsheet_would_run(value, expected):
    assert exports.neutralise(value) == expected


def test_it_exports_the_list_as_csv_with_data_time_and_filters(donor_client: Client, world: World):
    response = donor_client.get(
        reverse("reports:export", args=["list", "csv"]),
        {"issued_by": "osce", "as_of": "2024-03-01"},
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "recommendations-list-2024-03-01.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    statement = {row[0]: row[1] for row in rows[1:4]}
    assert statement["Statuses as of"] == "2024-03-01"
    assert "Issuing body: OSCE" in statement["Filters"]
    assert statement["Data read at"]
    listed = {row[0]: row for row in rows if row and row[0].startswith("r1-")}
    assert set(listed) == {"r1-0-a", "r1-0-c", "r1-0-d"}
    assert listed["r1-0-a"][4] == "Not implemented"
    assert listed["r1-0-d"][7] == '\'=HYPERLINK("x")'


def test_it_exports_the_overview_as_a_spreadsheet_without_formulas(
    donor_client: Client, world: World
):
    response = donor_client.get(reverse("reports:export", args=["overview", "xlsx"]))

    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    about = {row[0]: row[1] for row in workbook["About"].iter_rows(min_row=2, values_only=True)}
    assert about["Filters"] == "none"
    assert about["Statuses as of"] == "the time the data was read"
    status_rows = list(workbook["By headline status"].iter_rows(min_row=2, values_only=True))
    assert ("Partially implemented", 1) in status_rows
    issuers = list(workbook["By issuing body"].iter_rows(min_row=2, values_only=True))
    assert issuers[0][:2] == ("osce", "OSCE")
    list_response = donor_client.get(reverse("reports:export", args=["list", "xlsx"]))
    sheet = load_workbook(io.BytesIO(list_response.content))["Recommendations"]
    texts = [row[7] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert '\'=HYPERLINK("x")' in texts
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_it_exports_the_overview_as_pdf_with_cyrillic_and_kazakh_letters(
    donor_client: Client, world: World
):
    from tracker.models import Organisation

    Organisation.objects.filter(slug="osce").update(name="ЕҚЫҰ Бағдарламалар кеңсесі")
    response = donor_client.get(reverse("reports:export", args=["overview", "pdf"]))

    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("pdftotext (poppler-utils) is needed to read the PDF's text")
    text = subprocess.run(  # noqa: S603 (fixed arguments)
        [pdftotext, "-", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode()
    assert "ЕҚЫҰ Бағдарламалар кеңсесі" in text
    assert "Statuses as of" in text
    assert "Recommendations by headline status" in text


def test_it_explains_how_to_get_pdfs_when_weasyprint_cannot_load(
    donor_client: Client, world: World, monkeypatch
):
    # As when the system libraries are missing: importing WeasyPrint fails.
    monkeypatch.setitem(sys.modules, "weasyprint", None)

    page = donor_client.get(reverse("reports:overview")).content.decode()
    response = donor_client.get(reverse("reports:export", args=["overview", "pdf"]))

    assert "apt-get install libpango-1.0-0" in page
    assert 'id="pdf-export"' not in page
    assert response.status_code == 503
    assert "apt-get install libpango-1.0-0" in response.content.decode()


def test_it_runs_a_large_export_in_the_background_with_progress(
    donor_client: Client, world: World, settings, export_dir, eager_tasks
):
    settings.REPORTS_DIRECT_EXPORT_LIMIT = 2

    response = donor_client.get(reverse("reports:export", args=["list", "csv"]), {"country": "KZ"})

    assert response.status_code == 302
    status_page = donor_client.get(response["Location"])
    content = status_page.content.decode()
    # The task ran eagerly, so the export is already done (a real worker: test_worker.py).
    assert 'data-state="done"' in content
    download = donor_client.get(response["Location"] + "download")
    body = b"".join(download.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    assert "Country: Kazakhstan" in body
    assert body.count("\nr1-0-") == 3
    assert list(export_dir.glob("*.csv"))


def test_it_shows_a_failed_background_export_and_refuses_unknown_ones(
    donor_client: Client, world: World, export_dir
):
    export_id = "0" * 32
    exports.write_status(export_id, state="queued", kind="list", format="csv", done=0, total=9)
    exports.export_report(export_id, "list", "csv", "country=ZZ")

    failed = donor_client.get(reverse("reports:export-status", args=[export_id]))
    assert "The export failed" in failed.content.decode()
    assert "ZZ" in failed.content.decode()
    unknown = donor_client.get(reverse("reports:export-status", args=["1" * 32]))
    assert unknown.status_code == 404
    not_ready = donor_client.get(reverse("reports:export-download", args=[export_id]))
    assert not_ready.status_code == 404
