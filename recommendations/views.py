"""Report pages donors read, and their exports. Server-rendered, readable without JavaScript.

Views only parse the filters, ask `recommendations.reports` for the numbers
and `tracker.roles` who may see what; every filter stays in the query string
so a page can be bookmarked and shared.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from instruments.models import Instrument
from recommendations import charts, exports, reports
from recommendations.choices import Status
from recommendations.models import Recommendation
from tracker.roles import can_open_reports, can_read_evidence

LIST_PAGE_SIZE = 100

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def report_access(view: View) -> View:
    """Send visitors who may not read reports to sign in, or refuse them."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not can_open_reports(request.user):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            raise PermissionDenied("Your role may not read reports.")
        return view(request, *args, **kwargs)

    return cast(View, require_GET(guarded))


def _filters(request: HttpRequest) -> tuple[reports.ReportFilterForm, reports.ReportFilters | None]:
    form = reports.ReportFilterForm(request.GET)
    if not form.is_valid():
        return form, None
    return form, reports.ReportFilters.from_form(form)


def _filter_query(request: HttpRequest) -> str:
    """The request's filters as a query string, without the page: for export links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _page(
    request: HttpRequest,
    template: str,
    form: reports.ReportFilterForm,
    context: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    base = {
        "form": form,
        "filter_form": form,
        "query": _filter_query(request),
        "statuses": list(Status),
        "filters_described": (
            reports.ReportFilters.from_form(form).described() if form.is_valid() else []
        ),
    }
    return render(request, template, {**base, **context}, status=status)


def _invalid(request: HttpRequest, template: str, form: reports.ReportFilterForm) -> HttpResponse:
    # Bad filters change nothing and show what to fix; 400 so scripts notice too.
    return _page(request, template, form, {"invalid": True}, status=400)


@report_access
def overview(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    if filters is None:
        return _invalid(request, "reports/overview.html", form)
    data = reports.overview(filters)
    return _page(
        request,
        "reports/overview.html",
        form,
        {
            "overview": data,
            "charts": exports.overview_charts(data),
            "pdf_unavailable": exports.pdf_unavailable_reason(),
        },
    )


@report_access
def progress(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    if filters is None:
        return _invalid(request, "reports/progress.html", form)
    try:
        months = reports.progress(filters)
    except ValueError as error:
        form.add_error("from", str(error))
        return _invalid(request, "reports/progress.html", form)
    chart = charts.stacked_status_bars(
        "Headline status at the end of each month",
        [(month.day.strftime("%Y-%m"), month.cells()) for month in months],
        horizontal=False,
    )
    return _page(request, "reports/progress.html", form, {"months": months, "chart": chart})


@report_access
def changes(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    if filters is None:
        return _invalid(request, "reports/changes.html", form)
    if not (filters.start and filters.end):
        return _page(request, "reports/changes.html", form, {"needs_dates": True})
    changed = reports.changed_recommendations(filters, filters.start, filters.end)
    page = Paginator(changed, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = reports.changes(filters, filters.start, filters.end, recommendations=page)
    return _page(request, "reports/changes.html", form, {"rows": rows, "page": page})


@report_access
def recommendation_list(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    if filters is None:
        return _invalid(request, "reports/list.html", form)
    listed = reports.recommendation_list(filters)
    page = Paginator(listed, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return _page(
        request,
        "reports/list.html",
        form,
        {
            "page": page,
            "count": len(listed),
            "pdf_unavailable": exports.pdf_unavailable_reason(),
            "pdf_max_rows": settings.REPORTS_PDF_MAX_ROWS,
        },
    )


@report_access
def instrument_detail(request: HttpRequest, slug: str) -> HttpResponse:
    instrument = get_object_or_404(Instrument, slug=slug)
    form, filters = _filters(request)
    if filters is None:
        return _invalid(request, "reports/instrument.html", form)
    report = reports.instrument_report(instrument, filters)
    return _page(
        request, "reports/instrument.html", form, {"report": report, "instrument": instrument}
    )


@report_access
def recommendation_detail(request: HttpRequest, code: str) -> HttpResponse:
    recommendation: Recommendation = get_object_or_404(
        Recommendation.objects.select_related("issued_by", "source").prefetch_related(
            "citations__source", "themes", "addressed_to"
        ),
        code=code,
    )
    form, filters = _filters(request)
    if filters is None:
        return _invalid(request, "reports/recommendation.html", form)
    links, timelines, status_then = reports.recommendation_report(recommendation, filters.as_of)
    for timeline in timelines:
        for assessment in timeline.assessments:
            assessment.evidence_readable = can_read_evidence(  # type: ignore[attr-defined]
                request.user, assessment.visibility
            )
    return _page(
        request,
        "reports/recommendation.html",
        form,
        {
            "recommendation": recommendation,
            "links": links,
            "timelines": timelines,
            "status_then": status_then,
        },
    )


@report_access
def export(request: HttpRequest, kind: str, export_format: str) -> HttpResponse:
    if kind not in exports.KINDS or export_format not in exports.FORMATS:
        raise Http404("No such export.")
    form, filters = _filters(request)
    if filters is None:
        return _invalid(request, "reports/overview.html", form)
    if export_format == "pdf" and (reason := exports.pdf_unavailable_reason()):
        return render(request, "reports/pdf_unavailable.html", {"reason": reason}, status=503)
    if kind == "list":
        total = reports.recommendation_count(filters)
        if export_format == "pdf" and total > settings.REPORTS_PDF_MAX_ROWS:
            return _pdf_too_long(request, total)
        if total > settings.REPORTS_DIRECT_EXPORT_LIMIT:
            export_id = exports.start_export(kind, export_format, request.GET, total)
            return redirect("reports:export-status", export_id=export_id)
    document = exports.build_document(kind, filters)
    content = exports.render(document, export_format)
    response = HttpResponse(content, content_type=exports.CONTENT_TYPES[export_format])
    response["Content-Disposition"] = (
        f'attachment; filename="{exports.filename(kind, export_format, document)}"'
    )
    return response


def _pdf_too_long(request: HttpRequest, total: int) -> HttpResponse:
    # Refused before any of it is built: a PDF's memory grows with its rows.
    return render(
        request,
        "reports/pdf_too_long.html",
        {"total": total, "limit": settings.REPORTS_PDF_MAX_ROWS, "query": _filter_query(request)},
        status=422,
    )


@report_access
def export_status(request: HttpRequest, export_id: str) -> HttpResponse:
    status = exports.read_status(export_id)
    if status is None:
        raise Http404("No such export.")
    total = status.get("total") or 0
    percent = int(100 * status.get("done", 0) / total) if total else 0
    return render(
        request,
        "reports/export_status.html",
        {"export_id": export_id, "status": status, "percent": percent},
    )


@report_access
def export_download(request: HttpRequest, export_id: str) -> FileResponse:
    path = exports.result_path(export_id)
    status = exports.read_status(export_id)
    if path is None or status is None or not path.exists():
        raise Http404("This export is not ready.")
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=status["filename"],
        content_type=exports.CONTENT_TYPES[status["format"]],
    )
