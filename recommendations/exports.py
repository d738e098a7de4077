"""Exports of the overview and of any filtered list as CSV, XLSX and PDF.

Small exports are built in the request. Large ones run as a Celery task that
writes its progress and its file under REPORTS_EXPORT_DIR (no database rows:
the export is a file, and its progress a small JSON file beside it), so the
page can show progress and a download link without a model of its own.
Every export states when its data was read, the as-of day and the filters.

The list's rows are read from the database a chunk at a time while the file
is written, so a CSV or XLSX export of any length takes the same memory
(tests/reports/test_exports.py measures it). PDF does not: WeasyPrint lays
out the whole document at once, which is fine for the overview and short lists.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import functools
import io
import itertools
import json
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from celery import shared_task
from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils import timezone

from recommendations import charts, reports
from recommendations.choices import Status
from recommendations.models import Recommendation
from recommendations.selectors import NOT_ASSESSED, statuses_as_of
from tracker.dates import format_partial_date
from tracker.models import Organisation

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
    """A table of an export. Its rows may be read as they are written, and then only once."""

    heading: str
    columns: list[str]
    rows: Iterable[Sequence[Any]]
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
# Recommendations held in memory at once while a list is exported, and how
# often its progress is written.
EXPORT_CHUNK_SIZE = 500


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


# What a list row shows, so that no other column is read and parsed.
LIST_FIELDS = (
    "code",
    "issued_by",
    "issued_on",
    "issued_on_precision",
    "country",
    "headline_status",
    "disputed",
    "follow_up_due",
    "text",
)


def list_document(
    filters: reports.ReportFilters, progress: Progress = _no_progress
) -> ExportDocument:
    """The filtered list, its rows read from the database only as the export is written."""
    return ExportDocument(
        "Recommendations: list",
        timezone.now(),
        filters.as_of,
        filters.described(),
        [Section("Recommendations", LIST_COLUMNS, _list_rows(filters, progress))],
    )


def _list_rows(filters: reports.ReportFilters, progress: Progress) -> Iterator[list[Any]]:
    candidates = _list_candidates(filters)
    total = candidates.count()
    # A few issuing bodies for any number of rows: their names are read once
    # rather than joined into every row.
    issuers = Organisation.objects.filter(pk__in=candidates.values("issued_by"))
    make_row = _ListRowMaker({issuer.pk: str(issuer) for issuer in issuers})
    read = written = 0
    for listed, chunk_read in _listed_chunks(filters, candidates):
        for item in listed:
            yield make_row(item)
        read += chunk_read
        written += len(listed)
        if read < total:
            progress(read, total)
    # As of a day the rows can be fewer than the recommendations read; the
    # finished export reports the rows.
    progress(written, written)


def _list_candidates(filters: reports.ReportFilters) -> QuerySet[Recommendation]:
    """The recommendations to read for the list: those listed, or more when it is as of a day.

    As of a day the status and assessor filters need each recommendation's
    status then, which is read a chunk at a time; the other filters (the day
    of issue among them) stay in the query.
    """
    if filters.as_of:
        filters = dataclasses.replace(filters, assessor=None, status="")
    return reports.current_recommendations(filters)


def _listed_chunks(
    filters: reports.ReportFilters, candidates: QuerySet[Recommendation]
) -> Iterator[tuple[list[reports.ListedRecommendation], int]]:
    """`reports.recommendation_list` a chunk at a time, with how many were read for each chunk.

    One query for the recommendations, whose rows arrive EXPORT_CHUNK_SIZE at
    a time (from a server-side cursor on PostgreSQL), and as of a day one
    more a chunk for the chunk's statuses.
    """
    found = candidates.only(*LIST_FIELDS).order_by("code").iterator(EXPORT_CHUNK_SIZE)
    while chunk := list(itertools.islice(found, EXPORT_CHUNK_SIZE)):
        if filters.as_of is None:
            listed = [
                reports.ListedRecommendation(row, row.headline_status, row.disputed)
                for row in chunk
            ]
        else:
            then = statuses_as_of(filters.as_of, recommendation_ids=[row.pk for row in chunk])
            listed = []
            for row in chunk:
                status = then.get(row.pk, NOT_ASSESSED)
                if filters.assessor and filters.assessor.pk not in status.by_assessor:
                    continue
                if filters.status and status.headline != filters.status:
                    continue
                listed.append(reports.ListedRecommendation(row, status.headline, status.disputed))
        yield listed, len(chunk)


class _ListRowMaker:
    """Makes a list row of each recommendation, looking up repeated labels once.

    Statuses, countries, days of issue and issuing bodies repeat from row to
    row, and translating and formatting each anew took about a third of a
    long export's time. The labels depend on the active language, so they are
    kept for one export only; all but the days of issue are few, and those
    are kept in a cache of bounded size so that memory stays flat.
    """

    def __init__(self, issuers: Mapping[int, str]) -> None:
        self.issuers = dict(issuers)
        self.countries: dict[str, str] = {}
        self.statuses: dict[str, str] = {}
        self.issued = functools.lru_cache(maxsize=256)(format_partial_date)

    def __call__(self, item: reports.ListedRecommendation) -> list[Any]:
        rec = item.recommendation
        country = rec.country
        if country.code not in self.countries:
            self.countries[country.code] = str(country.name) if country else ""
        if item.headline not in self.statuses:
            self.statuses[item.headline] = item.headline_label
        if rec.issued_by_id not in self.issuers:
            # Only outside one snapshot (see `_one_snapshot`): a body and its
            # recommendation added between reading the names and the rows.
            self.issuers[rec.issued_by_id] = str(Organisation.objects.get(pk=rec.issued_by_id))
        return [
            rec.code,
            self.issuers[rec.issued_by_id],
            self.issued(rec.issued_on, rec.issued_on_precision),
            self.countries[country.code],
            self.statuses[item.headline],
            "yes" if item.disputed else "no",
            rec.follow_up_due.isoformat() if rec.follow_up_due else "",
            rec.text,
        ]


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
    """The export as bytes in memory: for exports small enough to answer in the request."""
    buffer = io.BytesIO()
    write(document, export_format, buffer)
    return buffer.getvalue()


def write(document: ExportDocument, export_format: str, output: IO[bytes]) -> None:
    """Write the export to `output` while its rows are read.

    CSV and XLSX hold one chunk of rows at a time, so a file on disk as
    `output` keeps memory flat however long the list. PDF is laid out whole.
    """
    if export_format not in FORMATS:
        raise ValueError(
            f"Unknown export format {export_format!r}; use one of {', '.join(FORMATS)}."
        )
    with _one_snapshot():
        if export_format == "csv":
            _write_csv(document, output)
        elif export_format == "xlsx":
            _write_xlsx(document, output)
        else:
            output.write(_pdf(document))


@contextmanager
def _one_snapshot() -> Iterator[None]:
    """Make every query of one export read the same snapshot, as one query would.

    A long list is read in several queries (its count, the issuing bodies'
    names, the rows, each chunk's statuses as of a day) while other
    transactions commit; in one snapshot they agree with each other and with
    the single reading time the export states. Inside a caller's transaction
    (a test's, say) the isolation level can no longer be chosen, and the
    caller's stands.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _write_csv(document: ExportDocument, output: IO[bytes]) -> None:
    text = io.TextIOWrapper(output, encoding="utf-8", newline="")
    try:
        # A byte-order mark so spreadsheet programs read Cyrillic names as UTF-8.
        text.write("\ufeff")
        writer = csv.writer(text)
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
    finally:
        text.flush()
        # The caller owns `output`; the wrapper, once dropped, would close it.
        text.detach()


def _write_xlsx(document: ExportDocument, output: IO[bytes]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    bold = Font(bold=True)
    # Write-only sheets send each row to a temporary file as it is appended,
    # instead of keeping a cell object per value until the workbook is saved.
    workbook = Workbook(write_only=True)
    try:
        about = workbook.create_sheet("About")
        title = WriteOnlyCell(about, document.title)
        title.font = bold
        about.append([title])
        for label, value in document.statement():
            about.append([label, _text_cell(value)])
        used: set[str] = {"About"}
        for section in document.sections:
            sheet = workbook.create_sheet(_sheet_title(section.heading, used))
            if section.note:
                sheet.append([section.note])
            headings = []
            for column in section.columns:
                heading = WriteOnlyCell(sheet, column)
                heading.font = bold
                headings.append(heading)
            sheet.append(headings)
            for row in section.rows:
                sheet.append([_text_cell(cell) for cell in row])
    finally:
        # Saving is also what removes the sheets' temporary files, so it runs
        # when reading the rows failed too; the caller then discards `output`.
        workbook.save(output)


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
    reported = {"done": 0, "total": 0}

    def progress(done: int, total: int) -> None:
        reported.update(done=done, total=total)
        write_status(export_id, **{**status, "done": done, "total": total})

    form = reports.ReportFilterForm(QueryDict(query))
    if not form.is_valid():
        errors = "; ".join(
            f"{name}: {' '.join(str(message) for message in messages)}"
            for name, messages in form.errors.items()
        )
        write_status(export_id, **{**status, "state": "failed", "error": errors})
        return "failed"
    result = export_dir() / f"{export_id}.{export_format}"
    # Written beside the result and renamed when complete, so a file under the
    # result's name is always a whole export.
    partial = result.with_name(f"{result.name}.part")
    try:
        document = build_document(kind, reports.ReportFilters.from_form(form), progress)
        with partial.open("wb") as output:
            write(document, export_format, output)
        os.replace(partial, result)
    except PdfUnavailable as error:
        write_status(export_id, **{**status, "state": "failed", "error": str(error)})
        return "failed"
    except Exception:
        # The page would otherwise show the export running for ever; the
        # error itself goes to the worker's log, not to the reader.
        write_status(
            export_id,
            **{**status, "state": "failed", "error": "The export stopped with an error."},
        )
        raise
    finally:
        partial.unlink(missing_ok=True)
    write_status(
        export_id,
        **{
            **status,
            "state": "done",
            "done": reported["done"],
            "total": reported["total"],
            "filename": filename(kind, export_format, document),
        },
    )
    return "done"
