"""Exports of the overview and of any filtered list as CSV, XLSX and PDF.

Small exports are built in the request. Large ones run as a Celery task that
writes its progress and its file under REPORTS_EXPORT_DIR (no database rows:
the export is a file, and its progress a small JSON file beside it), so the
page can show progress and a download link without a model of its own.
Every export states when its data was read, the as-of day and the filters.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from celery import shared_task
from django.conf import settings
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils import timezone

from recommendations import charts, reports
from recommendations.choices import Status

KINDS = ("overview", "list")
FORMATS = ("csv", "xlsx", "pdf")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
# Spreadsheet programs run a cell starting with one of these as a formula.
# Some also take the full-width forms of = + - @ for their ASCII ones.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_EXPORT_ID = re.compile(r"^[0-9a-f]{32}$")
PDF_INSTALL_HINT = (
    "PDF export needs WeasyPrint's system libraries (Pango, HarfBuzz) and a font "
    "with Cyrillic letters. On Debian or Ubuntu: "
    "apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core; "
    "then restart the application."
)


def neutralise(value: Any) -> Any:
    """Keep a text cell from being read as a formula by a spreadsheet program."""
    if isinstance(value, str) and value.startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value


class PdfUnavailable(RuntimeError):
    """WeasyPrint or its system libraries are missing; the message says how to add them."""


def pdf_unavailable_reason() -> str:
    """Empty when PDFs can be made; otherwise how to install what is missing."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return PDF_INSTALL_HINT
    return ""


@dataclass
class Section:
    heading: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""


@dataclass
class ExportDocument:
    """What every format writes: a title, the statement of data and filters, tables, charts."""

    title: str
    read_at: datetime.datetime
    as_of: datetime.date | None
    filters: list[tuple[str, str]]
    sections: list[Section] = field(default_factory=list)
    charts: list[charts.Chart] = field(default_factory=list)

    def statement(self) -> list[tuple[str, str]]:
        return [
            ("Data read at", timezone.localtime(self.read_at).strftime("%Y-%m-%d %H:%M %Z")),
            (
                "Statuses as of",
                self.as_of.isoformat() if self.as_of else "the time the data was read",
            ),
            ("Filters", "; ".join(f"{k}: {v}" for k, v in self.filters) or "none"),
        ]


Progress = Callable[[int, int], None]


def _no_progress(done: int, total: int) -> None:
    return None


STATUS_COLUMNS = [str(status.label) for status in Status]


def overview_charts(data: reports.Overview) -> list[charts.Chart]:
    issuers = next(b for b in data.breakdowns if b.slug == "issued_by")
    return [
        charts.status_bars("Recommendations by headline status", data.by_status),
        charts.stacked_status_bars(
            "Recommendations by issuing body and status",
            [(row.label, row.cells()) for row in issuers.rows[:15]],
        ),
    ]


def overview_document(filters: reports.ReportFilters) -> ExportDocument:
    data = reports.overview(filters)
    share = data.share_implemented
    summary = Section(
        "Summary",
        ["Measure", "Value"],
        [
            ["Recommendations", data.total],
            ["Fully implemented (share of those still relevant)", _percent(share)],
            ["Disputed by their assessors", data.disputed],
            ["Overdue", data.overdue],
        ],
    )
    by_status = Section(
        "By headline status",
        ["Status", "Recommendations"],
        [[label, count] for _value, label, count in data.status_rows()],
    )
    sections = [summary, by_status]
    for breakdown in data.breakdowns:
        sections.append(
            Section(
                breakdown.title,
                ["Key", "Name", *STATUS_COLUMNS, "Total"],
                [[row.key, row.label, *row.cells(), row.total] for row in breakdown.rows],
                breakdown.note,
            )
        )
    return ExportDocument(
        "Recommendations: overview",
        data.generated_at,
        data.as_of,
        filters.described(),
        sections,
        overview_charts(data),
    )


LIST_COLUMNS = [
    "Code",
    "Issued by",
    "Issued on",
    "Country",
    "Headline status",
    "Disputed",
    "Follow-up due",
    "Text",
]


def list_document(
    filters: reports.ReportFilters, progress: Progress = _no_progress
) -> ExportDocument:
    read_at = timezone.now()
    listed = reports.recommendation_list(filters)
    rows = []
    for index, item in enumerate(listed, start=1):
        rec = item.recommendation
        rows.append(
            [
                rec.code,
                str(rec.issued_by),
                rec.issued_display,
                str(rec.country.name) if rec.country else "",
                item.headline_label,
                "yes" if item.disputed else "no",
                rec.follow_up_due.isoformat() if rec.follow_up_due else "",
                rec.text,
            ]
        )
        if index % 500 == 0:
            progress(index, len(listed))
    progress(len(listed), len(listed))
    return ExportDocument(
        "Recommendations: list",
        read_at,
        filters.as_of,
        filters.described(),
        [Section("Recommendations", LIST_COLUMNS, rows)],
    )


def _percent(share: float | None) -> str:
    return "n/a" if share is None else f"{share:.0%}"


def build_document(
    kind: str, filters: reports.ReportFilters, progress: Progress = _no_progress
) -> ExportDocument:
    if kind == "overview":
        document = overview_document(filters)
        progress(1, 1)
        return document
    if kind == "list":
        return list_document(filters, progress)
    raise ValueError(f"Unknown export kind {kind!r}; use one of {', '.join(KINDS)}.")


def render(document: ExportDocument, export_format: str) -> bytes:
    if export_format == "csv":
        return _csv(document)
    if export_format == "xlsx":
        return _xlsx(document)
    if export_format == "pdf":
        return _pdf(document)
    raise ValueError(f"Unknown export format {export_format!r}; use one of {', '.join(FORMATS)}.")


def _csv(document: ExportDocument) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([document.title])
    for label, value in document.statement():
        writer.writerow([label, neutralise(value)])
    for section in document.sections:
        writer.writerow([])
        writer.writerow([section.heading])
        if section.note:
            writer.writerow([section.note])
        writer.writerow(section.columns)
        writer.writerows([neutralise(cell) for cell in row] for row in section.rows)
    # A byte-order mark so spreadsheet programs read Cyrillic names as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx(document: ExportDocument) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    about = workbook.active
    if about is None:  # a new workbook always has one sheet
        about = workbook.create_sheet()
    about.title = "About"
    about.append([document.title])
    about["A1"].font = Font(bold=True)
    for label, value in document.statement():
        about.append([label, _text_cell(value)])
    used: set[str] = {"About"}
    for section in document.sections:
        sheet = workbook.create_sheet(_sheet_title(section.heading, used))
        if section.note:
            sheet.append([section.note])
        sheet.append(section.columns)
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for row in section.rows:
            sheet.append([_text_cell(cell) for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text_cell(value: Any) -> Any:
    # openpyxl stores a string starting with "=" as a formula; the prefix keeps it text.
    return neutralise(value)


def _sheet_title(heading: str, used: set[str]) -> str:
    # Sheet names: at most 31 characters, none of []:*?/\ and unique in the workbook.
    base = re.sub(r"[\[\]:*?/\\]", " ", heading)[:31]
    title, n = base, 2
    while title in used:
        title = f"{base[:28]} {n}"
        n += 1
    used.add(title)
    return title


def _pdf(document: ExportDocument) -> bytes:
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as error:
        raise PdfUnavailable(PDF_INSTALL_HINT) from error
    html = render_to_string("reports/export_pdf.html", {"document": document})
    result = HTML(string=html).write_pdf()
    # write_pdf returns the bytes when given no target.
    return bytes(result or b"")


def filename(kind: str, export_format: str, document: ExportDocument) -> str:
    day = document.as_of or timezone.localdate(document.read_at)
    return f"recommendations-{kind}-{day.isoformat()}.{export_format}"


# Background exports ---------------------------------------------------------


def export_dir() -> Path:
    path = Path(settings.REPORTS_EXPORT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _status_path(export_id: str) -> Path:
    if not _EXPORT_ID.match(export_id):
        raise ValueError("Not an export id.")
    return export_dir() / f"{export_id}.json"


def write_status(export_id: str, **status: Any) -> None:
    path = _status_path(export_id)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(status), encoding="utf-8")
    # Readers see the old status or the new one, never half of one.
    os.replace(temporary, path)


def read_status(export_id: str) -> dict[str, Any] | None:
    """The export's progress, or None when no such export exists."""
    try:
        path = _status_path(export_id)
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, FileNotFoundError):
        return None
    return data


def result_path(export_id: str) -> Path | None:
    status = read_status(export_id)
    if not status or status.get("state") != "done":
        return None
    return export_dir() / f"{export_id}.{status['format']}"


def start_export(kind: str, export_format: str, query: QueryDict, total: int) -> str:
    """Queue a background export and return its id; the page polls `read_status`."""
    export_id = uuid.uuid4().hex
    write_status(
        export_id,
        state="queued",
        kind=kind,
        format=export_format,
        done=0,
        total=total,
        filename="",
        error="",
    )
    export_report.delay(export_id, kind, export_format, query.urlencode())
    return export_id


@shared_task(name="recommendations.export_report")
def export_report(export_id: str, kind: str, export_format: str, query: str) -> str:
    """Build an export in the background, writing its progress as it goes."""
    status = read_status(export_id) or {}
    status.update(kind=kind, format=export_format, state="running")
    write_status(export_id, **status)

    def progress(done: int, total: int) -> None:
        write_status(export_id, **{**status, "done": done, "total": total})

    form = reports.ReportFilterForm(QueryDict(query))
    if not form.is_valid():
        errors = "; ".join(
            f"{name}: {' '.join(str(message) for message in messages)}"
            for name, messages in form.errors.items()
        )
        write_status(export_id, **{**status, "state": "failed", "error": errors})
        return "failed"
    try:
        document = build_document(kind, reports.ReportFilters.from_form(form), progress)
        content = render(document, export_format)
    except PdfUnavailable as error:
        write_status(export_id, **{**status, "state": "failed", "error": str(error)})
        return "failed"
    (export_dir() / f"{export_id}.{export_format}").write_bytes(content)
    total = len(document.sections[-1].rows)
    write_status(
        export_id,
        **{
            **status,
            "state": "done",
            "done": total,
            "total": total,
            "filename": filename(kind, export_format, document),
        },
    )
    return "done"
