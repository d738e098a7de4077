"""CSV, XLSX and PDF exports: their statement of data and filters, formulas kept inert."""

from __future__ import annotations

import csv
import datetime
import gc
import io
import shutil
import subprocess
import sys
import tracemalloc
import uuid
from collections.abc import Callable
from typing import Any, NoReturn

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from recommendations import exports, reports
from recommendations.synthetic import synthetic_generate
from tests import factories
from tests.reports.conftest import World, populate


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


def test_it_refuses_a_list_too_long_for_a_pdf_and_points_to_csv_and_xlsx(
    donor_client: Client, world: World, settings, export_dir
):
    settings.REPORTS_PDF_MAX_ROWS = 2
    filters = {"country": "KZ"}

    page = donor_client.get(reverse("reports:list"), filters).content.decode()
    response = donor_client.get(reverse("reports:export", args=["list", "pdf"]), filters)

    assert 'id="pdf-export"' not in page
    assert "PDF holds at most 2 recommendations" in page
    assert response.status_code == 422
    refusal = response.content.decode()
    assert "at most 2 recommendations, and this list has 3" in refusal
    assert reverse("reports:export", args=["list", "csv"]) + "?country=KZ" in refusal
    assert reverse("reports:export", args=["list", "xlsx"]) + "?country=KZ" in refusal
    # Nothing was laid out, here or in the background.
    assert not (export_dir.exists() and any(export_dir.iterdir()))
    csv_export = donor_client.get(reverse("reports:export", args=["list", "csv"]), filters)
    assert csv_export.status_code == 200


def test_it_exports_a_list_within_the_pdf_limit_as_pdf(
    donor_client: Client, world: World, settings
):
    settings.REPORTS_PDF_MAX_ROWS = 3  # the list's own length

    page = donor_client.get(reverse("reports:list"), {"country": "KZ"}).content.decode()
    response = donor_client.get(reverse("reports:export", args=["list", "pdf"]), {"country": "KZ"})

    assert 'id="pdf-export"' in page
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")


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


# Long exports ------------------------------------------------------------------


def _background_export(export_format: str, query: str = "") -> tuple[str, int]:
    """Run the background export in this process: its id and its peak Python memory."""
    export_id = uuid.uuid4().hex
    exports.write_status(
        export_id, state="queued", kind="list", format=export_format, done=0, total=0
    )
    # Start each measurement from empty free lists (see below).
    gc.collect()
    tracemalloc.start()
    try:
        assert exports.export_report(export_id, "list", export_format, query) == "done"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return export_id, peak


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_it_exports_a_long_list_in_memory_that_does_not_grow_with_its_rows(
    export_format, export_dir, monkeypatch, db
):
    monkeypatch.setattr(exports, "EXPORT_CHUNK_SIZE", 50)
    synthetic_generate(recommendations=200, assessments_per_recommendation=0, seed=11)
    _background_export(export_format)  # loads what any first export loads
    _, short_peak = _background_export(export_format)
    synthetic_generate(recommendations=800, assessments_per_recommendation=0, seed=11)

    export_id, long_peak = _background_export(export_format)

    # Building the whole document in memory took about 2,800 bytes a row,
    # 1.6 MB more for the 600 more rows. Streamed, one chunk is held at a
    # time; what still grows (about 0.2 MB here) is CPython keeping freed
    # objects for reuse, some 200 bytes a recommendation read, up to a fixed
    # number of them, which tracemalloc counts as held until a full collection.
    assert long_peak - short_peak < 600 * 800, (short_peak, long_peak)
    status = exports.read_status(export_id)
    assert status is not None
    assert (status["state"], status["done"], status["total"]) == ("done", 800, 800)
    assert [path.name for path in export_dir.iterdir() if path.suffix == ".part"] == []


def _expected_rows(filters: reports.ReportFilters) -> list[list[Any]]:
    """The rows the list page's own reader gives, as the export must write them."""
    return [
        [
            item.recommendation.code,
            str(item.recommendation.issued_by),
            item.recommendation.issued_display,
            str(item.recommendation.country.name),
            item.headline_label,
            "yes" if item.disputed else "no",
            item.recommendation.follow_up_due.isoformat()
            if item.recommendation.follow_up_due
            else "",
            exports.neutralise(item.recommendation.text),
        ]
        for item in reports.recommendation_list(filters)
    ]


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"as_of": datetime.date(2024, 3, 1)},
        {"as_of": datetime.date(2024, 3, 1), "status": "not_implemented"},
        {"as_of": datetime.date(2024, 7, 1), "assessor": "alice-ngo"},
    ],
    ids=["current", "as-of", "as-of-status", "as-of-assessor"],
)
def test_it_streams_the_rows_of_the_list_in_chunks_into_a_workbook_and_a_csv(
    filters, world: World, editor, monkeypatch, tmp_path
):
    populate(editor, world.alice_org, world.bob_org, 8)
    monkeypatch.setattr(exports, "EXPORT_CHUNK_SIZE", 4)
    if "assessor" in filters:
        filters = {**filters, "assessor": world.alice_org}
    report_filters = reports.ReportFilters(**filters)
    expected = _expected_rows(report_filters)
    assert len(expected) > 2 * 4  # more than two chunks
    progress: list[tuple[int, int]] = []

    with (tmp_path / "list.xlsx").open("wb") as output:
        exports.write(
            exports.build_document("list", report_filters, lambda *done: progress.append(done)),
            "xlsx",
            output,
        )
    csv_content = exports.render(exports.build_document("list", report_filters), "csv")

    workbook = load_workbook(tmp_path / "list.xlsx")
    assert workbook.sheetnames == ["About", "Recommendations"]
    sheet = workbook["Recommendations"]
    header = next(sheet.iter_rows(max_row=1))
    assert [cell.value for cell in header] == exports.LIST_COLUMNS
    assert all(cell.font.b for cell in header)
    written = [[cell or "" for cell in row] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert written == expected
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    about = {row[0]: row[1] for row in workbook["About"].iter_rows(min_row=2, values_only=True)}
    described = "; ".join(f"{label}: {value}" for label, value in report_filters.described())
    assert about["Filters"] == (described or "none")
    lines = list(csv.reader(io.StringIO(csv_content.decode("utf-8-sig"))))
    assert lines[lines.index(exports.LIST_COLUMNS) + 1 :] == expected
    # Progress after each chunk, never backwards, ending at the rows written.
    shares = [done / total for done, total in progress]
    assert len(shares) > 2
    assert shares == sorted(shares)
    assert progress[-1] == (len(expected), len(expected))


AFTER_ALL_ISSUED = datetime.date(2021, 6, 30)  # synthetic recommendations: 2010 to 2019


@pytest.mark.parametrize(
    ("filters", "chunk_queries"),
    [({}, 0), ({"as_of": AFTER_ALL_ISSUED}, 1)],
    ids=["current", "as-of"],
)
def test_it_reads_a_long_list_in_a_fixed_number_of_queries_a_chunk(
    filters, chunk_queries, tmp_path, monkeypatch, django_assert_max_num_queries, db
):
    synthetic_generate(recommendations=90, assessments_per_recommendation=2, seed=13)
    monkeypatch.setattr(exports, "EXPORT_CHUNK_SIZE", 10)
    document = exports.build_document("list", reports.ReportFilters(**filters))

    # The count, the issuing bodies and the rows, and a savepoint's two statements
    # (the test's transaction holds the export's): then the chunks' own.
    with (
        django_assert_max_num_queries(5 + chunk_queries * 9),
        (tmp_path / "list.csv").open("wb") as output,
    ):
        exports.write(document, "csv", output)

    assert (tmp_path / "list.csv").read_text(encoding="utf-8-sig").count("\nSYN-") == 90


def test_it_names_an_issuing_body_added_while_the_list_is_read(world: World):
    # Inside a caller's transaction the export cannot take its own snapshot,
    # so a body and its recommendation can arrive between the names and the rows.
    added: list[str] = []

    def add_after_the_names(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        result = execute(sql, params, many, context)
        if not added and 'FROM "tracker_organisation"' in sql:
            added.append("late")
            late = factories.organisation("late-body", name="Late Body", kind="un_body")
            factories.recommendation(late, "r-late", text="Arrived while the list was read")
        return result

    document = exports.build_document("list", reports.ReportFilters())
    with connection.execute_wrapper(add_after_the_names):
        content = exports.render(document, "csv")

    rows = {row[0]: row for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) if row}
    assert added == ["late"]
    assert rows["r-late"][1] == "Late Body"
    assert rows["r1-0-a"][1] == "OSCE"


def test_it_shows_a_background_export_that_stopped_midway_as_failed_and_keeps_no_part_of_it(
    world: World, export_dir, monkeypatch
):
    def unreadable(*args: object) -> NoReturn:
        raise RuntimeError("the database went away")

    # Reading the rows fails once the file has been begun.
    monkeypatch.setattr(exports, "_listed_chunks", unreadable)
    export_id = "2" * 32
    exports.write_status(export_id, state="queued", kind="list", format="xlsx", done=0, total=4)

    with pytest.raises(RuntimeError, match="went away"):
        exports.export_report(export_id, "list", "xlsx", "")

    assert list(export_dir.iterdir()) == [export_dir / f"{export_id}.json"]
    status = exports.read_status(export_id)
    assert status is not None
    assert status["state"] == "failed"
    assert "went away" not in status["error"]
