"""The numbers donors read: filters, the overview, progress, changes, and detail pages.

Every function here costs a fixed number of queries whatever the number of
recommendations and assessments. Current numbers are aggregated in the
database from `Recommendation.headline_status`, `disputed` and
`CurrentAssessment`, the same derived fields the API and the admin show.
Numbers as of a past day come from `recommendations.selectors`, which filter
to one row per assessor in the database and group in Python (grouping the
window query in the database was seen to give wrong counts).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, overload

from django import forms
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from instruments.choices import RelationKind
from instruments.models import Instrument, InstrumentRelation, Provision
from recommendations.choices import ReviewState, Status
from recommendations.models import (
    AsOfCount,
    CurrentAssessment,
    OverviewCount,
    ProvisionLink,
    Recommendation,
    StatusAssessment,
    StatusPeriod,
    Theme,
)
from recommendations.selectors import StatusAsOf, changes_between, statuses_as_of
from tracker.models import Organisation

# Statuses that close a recommendation: it is not overdue once it has one.
CLOSED_STATUSES = (Status.FULLY_IMPLEMENTED, Status.NO_LONGER_RELEVANT)
# The progress page covers at most this many months, so one page stays cheap.
MAX_PROGRESS_MONTHS = 60
DEFAULT_PROGRESS_MONTHS = 12
DATE_FORMATS = ["%Y-%m-%d"]


def _unknown(what: str) -> dict[str, str]:
    return {
        "invalid_choice": f"No {what} has the key “%(value)s”.",
        "invalid_pk_value": f"No {what} has the key “%(pk)s”.",
    }


def _date_field(label: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        input_formats=DATE_FORMATS,
        error_messages={"invalid": f"{label}: give a real date as YYYY-MM-DD."},
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class ReportFilterForm(forms.Form):
    """The filters every report page and export takes, all from the query string.

    Unknown keys and impossible dates become form errors naming the field, so
    the page shows them instead of failing.
    """

    issued_by = forms.ModelChoiceField(
        label=_("Issuing body"),
        # Exists stops at the first row; a join with distinct would read every
        # recommendation (every assessment, below) on each page view.
        queryset=Organisation.objects.filter(
            Exists(Recommendation.objects.filter(issued_by=OuterRef("pk")))
        ),
        to_field_name="slug",
        required=False,
        error_messages=_unknown("issuing body"),
    )
    instrument: forms.ModelChoiceField[Instrument] = forms.ModelChoiceField(
        label=_("Instrument"),
        queryset=Instrument.objects.all(),
        to_field_name="slug",
        required=False,
        error_messages=_unknown("instrument"),
    )
    theme: forms.ModelChoiceField[Theme] = forms.ModelChoiceField(
        label=_("Theme"),
        queryset=Theme.objects.all(),
        to_field_name="slug",
        required=False,
        error_messages=_unknown("theme"),
    )
    assessor = forms.ModelChoiceField(
        label=_("Assessor"),
        queryset=Organisation.objects.filter(
            Exists(StatusAssessment.objects.filter(assessor=OuterRef("pk")))
        ),
        to_field_name="slug",
        required=False,
        error_messages=_unknown("assessor"),
    )
    country = forms.ChoiceField(
        label=_("Country"),
        choices=[("", "---------"), *countries],
        required=False,
        error_messages={"invalid_choice": "No country has the code “%(value)s”."},
    )
    status = forms.ChoiceField(
        label=_("Headline status"),
        choices=[("", "---------"), *Status.choices],
        required=False,
        error_messages={"invalid_choice": "No status is called “%(value)s”."},
    )
    as_of = _date_field("As of")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # `from` is a Python keyword, so these two cannot be class attributes.
        self.fields["from"] = _date_field("From")
        self.fields["to"] = _date_field("To")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end and start > end:
            self.add_error("from", f"From ({start}) comes after To ({end}).")
        today = timezone.localdate()
        for name in ("as_of", "from", "to"):
            day = cleaned.get(name)
            if day and day > today:
                self.add_error(name, f"{self.fields[name].label}: {day} is in the future.")
        return cleaned


@dataclass(frozen=True)
class ReportFilters:
    """Validated filters; empty ones are None."""

    issued_by: Organisation | None = None
    instrument: Instrument | None = None
    theme: Theme | None = None
    assessor: Organisation | None = None
    country: str = ""
    status: str = ""
    as_of: datetime.date | None = None
    start: datetime.date | None = None
    end: datetime.date | None = None

    @classmethod
    def from_form(cls, form: ReportFilterForm) -> ReportFilters:
        data = form.cleaned_data
        return cls(
            issued_by=data.get("issued_by"),
            instrument=data.get("instrument"),
            theme=data.get("theme"),
            assessor=data.get("assessor"),
            country=data.get("country") or "",
            status=data.get("status") or "",
            as_of=data.get("as_of"),
            start=data.get("from"),
            end=data.get("to"),
        )

    def described(self) -> list[tuple[str, str]]:
        """The filters in force, as (label, value) pairs for pages and exports."""
        pairs: list[tuple[str, str]] = []
        if self.issued_by:
            pairs.append(("Issuing body", str(self.issued_by)))
        if self.instrument:
            pairs.append(("Instrument", str(self.instrument)))
        if self.theme:
            pairs.append(("Theme", str(self.theme)))
        if self.assessor:
            pairs.append(("Assessor", str(self.assessor)))
        if self.country:
            pairs.append(("Country", str(countries.name(self.country))))
        if self.status:
            pairs.append(("Headline status", str(Status(self.status).label)))
        if self.as_of:
            pairs.append(("As of", self.as_of.isoformat()))
        if self.start:
            pairs.append(("From", self.start.isoformat()))
        if self.end:
            pairs.append(("To", self.end.isoformat()))
        return pairs


def _matching(filters: ReportFilters) -> QuerySet[Recommendation]:
    """Recommendations matching the filters that do not depend on a status."""
    rows = Recommendation.objects.all()
    if filters.issued_by:
        rows = rows.filter(issued_by=filters.issued_by)
    if filters.country:
        rows = rows.filter(country=filters.country)
    if filters.theme:
        rows = rows.filter(themes=filters.theme)
    if filters.instrument:
        rows = rows.filter(provision_links__instrument=filters.instrument)
    if filters.as_of:
        # A recommendation issued after the day did not exist yet.
        rows = rows.filter(Q(issued_on__isnull=True) | Q(issued_on__lte=filters.as_of))
    if not (filters.theme or filters.instrument):
        return rows.order_by()
    # Joins through themes and links repeat rows; the subquery keeps each once.
    return Recommendation.objects.filter(pk__in=rows.values("pk")).order_by()


def current_recommendations(filters: ReportFilters) -> QuerySet[Recommendation]:
    """Recommendations matching every filter, by their current derived status."""
    rows = _matching(filters)
    if filters.assessor:
        rows = rows.filter(
            pk__in=CurrentAssessment.objects.filter(assessor=filters.assessor).values(
                "recommendation_id"
            )
        )
    if filters.status:
        rows = rows.filter(headline_status=filters.status)
    return rows


def _keep_matching(
    filters: ReportFilters, ids: Iterable[int], statuses: Mapping[int, StatusAsOf]
) -> dict[int, StatusAsOf]:
    result = {}
    for pk in ids:
        status = statuses.get(pk, StatusAsOf(Status.NOT_ASSESSED, False, {}))
        if filters.assessor and filters.assessor.pk not in status.by_assessor:
            continue
        if filters.status and status.headline != filters.status:
            continue
        result[pk] = status
    return result


@dataclass
class BreakdownRow:
    key: str
    label: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def cells(self) -> list[int]:
        return [self.counts.get(status, 0) for status in Status.values]


@dataclass
class Breakdown:
    """Recommendations of one grouping (issuing body, theme, …) counted by status."""

    slug: str
    title: str
    rows: list[BreakdownRow]
    note: str = ""


@dataclass
class Overview:
    """The overview's numbers, for the page, the exports and the consistency test."""

    total: int
    by_status: dict[str, int]
    disputed: int
    overdue: int
    breakdowns: list[Breakdown]
    as_of: datetime.date | None
    generated_at: datetime.datetime

    @property
    def share_implemented(self) -> float | None:
        """Fully implemented among the recommendations still relevant."""
        relevant = self.total - self.by_status.get(Status.NO_LONGER_RELEVANT, 0)
        if not relevant:
            return None
        return self.by_status.get(Status.FULLY_IMPLEMENTED, 0) / relevant

    def status_rows(self) -> list[tuple[str, str, int]]:
        return [(s.value, str(s.label), self.by_status.get(s.value, 0)) for s in Status]


def _grouped(
    rows: Iterable[Mapping[str, Any]], key: str, label: str, status: str, count: str = "n"
) -> list[BreakdownRow]:
    groups: dict[str, BreakdownRow] = {}
    for row in rows:
        group_key = str(row[key])
        if group_key not in groups:
            groups[group_key] = BreakdownRow(group_key, str(row[label] or group_key))
        groups[group_key].counts[row[status]] = row[count]
    return sorted(groups.values(), key=lambda item: (-item.total, item.label))


def _country_rows(rows: list[BreakdownRow]) -> list[BreakdownRow]:
    for row in rows:
        row.label = str(countries.name(row.key)) or row.key
    return rows


ASSESSOR_NOTE = "Each assessor's own status of the recommendations it assessed."
LINK_NOTE = (
    "A recommendation linked to several instruments or themes counts once under each of them."
)


def _theme_links() -> QuerySet[Any]:
    """Rows of the table linking recommendations and themes, to group by theme in one query."""
    through: Any = Recommendation.themes.through
    return through.objects.all()  # type: ignore[no-any-return]


def overview(filters: ReportFilters) -> Overview:
    """The overview of the recommendations matching `filters`, now or as of a day.

    A fixed number of queries whatever the size of the data. The overview of
    every recommendation, today or as of a day, sums the counts PostgreSQL's
    triggers keep (`OverviewCount`, `AsOfCount`); with filters, or on SQLite,
    seven aggregate queries group the derived rows:
    `Recommendation.headline_status` and `CurrentAssessment` for today, the
    `HeadlinePeriod` and `StatusPeriod` rows covering a past day; the
    services keep all four on write.
    """
    if connection.vendor == "postgresql":
        if filters == ReportFilters():
            return overview_from_counts()
        if filters.as_of and filters == ReportFilters(as_of=filters.as_of):
            return overview_as_of_from_counts(filters.as_of)
    return overview_recounted(filters)


def overview_recounted(filters: ReportFilters) -> Overview:
    """The overview grouped from the derived rows themselves, filtered as asked."""
    day = filters.as_of
    if day is None:
        return _overview_grouped(
            current_recommendations(filters),
            status_annotations=lambda prefix: [
                {
                    "status_then": F(f"{prefix}headline_status"),
                    "disputed_then": F(f"{prefix}disputed"),
                }
            ],
            standing=CurrentAssessment.objects.all(),
            day=timezone.localdate(),
            as_of=None,
        )
    return _overview_grouped(
        recommendations_on(filters, day),
        status_annotations=lambda prefix: [
            {"period_on": _period_on(prefix, day)},
            {
                "status_then": Coalesce(F("period_on__headline"), Value(Status.NOT_ASSESSED)),
                "disputed_then": Coalesce(F("period_on__disputed"), Value(False)),
            },
        ],
        standing=standing_periods_on(day),
        day=day,
        as_of=day,
    )


Counts = dict[tuple[str, str, str], int]


def _summed(rows: QuerySet[Any]) -> Counts:
    """(dimension, key, status) to the sum of `n`, without the zeros."""
    totals = (
        rows.values("dimension", "key", "status")
        .annotate(total=Sum("n"))
        .order_by()
        .values_list("dimension", "key", "status", "total")
    )
    return {(dimension, key, status): total for dimension, key, status, total in totals if total}


def overview_counts() -> Counts:
    """The sums of the `OverviewCount` rows the triggers write, without the zeros."""
    return _summed(OverviewCount.objects.all())


def as_of_counts(day: datetime.date) -> Counts:
    """The sums of the `AsOfCount` rows up to `day`: the months before it, then its days."""
    month = day.replace(day=1)
    return _summed(
        AsOfCount.objects.filter(
            Q(monthly=True, day__lt=month) | Q(monthly=False, day__gte=month, day__lte=day)
        )
    )


def overview_from_counts() -> Overview:
    """The overview of every recommendation from the kept counts. Five small queries.

    Only the overdue count is counted here: it depends on today's date.
    """
    return _overview_of_counts(
        overview_counts(),
        overdue=Recommendation.objects.overdue(timezone.localdate()).count(),
        as_of=None,
    )


def overview_as_of_from_counts(day: datetime.date) -> Overview:
    """The overview of every recommendation as of `day` from the kept counts. Four queries."""
    counts = as_of_counts(day)
    return _overview_of_counts(counts, overdue=counts.get(("overdue", "", ""), 0), as_of=day)


def _overview_of_counts(counts: Counts, *, overdue: int, as_of: datetime.date | None) -> Overview:
    """The overview from summed counts. The names come from their tables, so a
    renamed body needs no recount."""
    by_dimension: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for (dimension, key, status), total in counts.items():
        by_dimension[dimension].append((key, status, total))
    organisations = {
        str(pk): (slug, name)
        for pk, slug, name in Organisation.objects.filter(
            pk__in=[
                int(key)
                for dimension in ("issued_by", "assessor")
                for key, _status, _total in by_dimension[dimension]
            ]
        ).values_list("pk", "slug", "name")
    }
    instruments = {
        str(pk): (slug, title)
        for pk, slug, title in Instrument.objects.filter(
            pk__in=[int(key) for key, _status, _total in by_dimension["instrument"]]
        ).values_list("pk", "slug", "title")
    }
    themes = {
        str(pk): (slug, name)
        for pk, slug, name in Theme.objects.filter(
            pk__in=[int(key) for key, _status, _total in by_dimension["theme"]]
        ).values_list("pk", "slug", "name")
    }

    def rows(dimension: str, names: Mapping[str, tuple[str, str]] | None) -> list[BreakdownRow]:
        entries = []
        for key, status, total in by_dimension[dimension]:
            slug, label = names[key] if names is not None else (key, key)
            entries.append({"key": slug, "label": label, "status": status, "n": total})
        return _grouped(entries, "key", "label", "status")

    by_status = {status: total for _key, status, total in by_dimension["status"]}
    return Overview(
        total=sum(by_status.values()),
        by_status=by_status,
        disputed=sum(total for _key, _status, total in by_dimension["disputed"]),
        overdue=overdue,
        breakdowns=_breakdowns(
            rows("issued_by", organisations),
            rows("instrument", instruments),
            rows("theme", themes),
            rows("assessor", organisations),
            _country_rows(rows("country", None)),
        ),
        as_of=as_of,
        generated_at=timezone.now(),
    )


def _period_on(prefix: str, day: datetime.date) -> FilteredRelation:
    """The headline period, if any, of the recommendation at `prefix` covering `day`."""
    field = f"{prefix}headline_periods"
    return FilteredRelation(
        field,
        condition=Q(**{f"{field}__valid_from__lte": day})
        & (Q(**{f"{field}__valid_until__isnull": True}) | Q(**{f"{field}__valid_until__gt": day})),
    )


def standing_periods_on(day: datetime.date) -> QuerySet[StatusPeriod]:
    """Each assessor's period standing on `day`, in the shape of `CurrentAssessment`."""
    return StatusPeriod.objects.filter(valid_from__lte=day).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=day)
    )


def recommendations_on(filters: ReportFilters, day: datetime.date) -> QuerySet[Recommendation]:
    """Recommendations issued by `day` matching every filter, by their status on that day."""
    rows = _matching(filters).filter(Q(issued_on__isnull=True) | Q(issued_on__lte=day))
    if filters.assessor:
        rows = rows.filter(
            pk__in=standing_periods_on(day)
            .filter(assessor=filters.assessor)
            .values("recommendation_id")
        )
    if filters.status:
        rows = rows.annotate(period_on=_period_on("", day)).filter(
            **(
                {"period_on__isnull": True}
                if filters.status == Status.NOT_ASSESSED
                else {"period_on__headline": filters.status}
            )
        )
        # Keep the filtered ids only: the grouping adds its own join.
        rows = Recommendation.objects.filter(pk__in=rows.values("pk")).order_by()
    return rows


def _overview_grouped(
    matching: QuerySet[Recommendation],
    *,
    status_annotations: Callable[[str], list[dict[str, Any]]],
    standing: QuerySet[Any],
    day: datetime.date,
    as_of: datetime.date | None,
) -> Overview:
    """The overview's numbers grouped in the database.

    `status_annotations(prefix)` gives, in the order to apply them, the
    annotations that end in `status_then` and `disputed_then` for the
    recommendation reached through `prefix` (`""` from a recommendation,
    `"recommendation__"` from a link or a theme); `standing` holds each
    assessor's own status.
    """

    def with_status(rows: QuerySet[Any], prefix: str = "") -> QuerySet[Any]:
        for step in status_annotations(prefix):
            rows = rows.annotate(**step)
        return rows

    rows = with_status(matching)
    by_status = {
        row["status_then"]: row["n"] for row in rows.values("status_then").annotate(n=Count("pk"))
    }
    flags = rows.aggregate(
        disputed=Count("pk", filter=Q(disputed_then=True)),
        overdue=Count(
            "pk",
            filter=Q(follow_up_due__lt=day) & ~Q(status_then__in=CLOSED_STATUSES),
        ),
    )
    issuers = _grouped(
        rows.values("issued_by__slug", "issued_by__name", "status_then").annotate(n=Count("pk")),
        "issued_by__slug",
        "issued_by__name",
        "status_then",
    )
    instruments = _grouped(
        with_status(ProvisionLink.objects.filter(recommendation__in=matching), "recommendation__")
        .values("instrument__slug", "instrument__title", "status_then")
        .annotate(n=Count("recommendation_id", distinct=True))
        .order_by(),
        "instrument__slug",
        "instrument__title",
        "status_then",
    )
    themes = _grouped(
        with_status(_theme_links().filter(recommendation__in=matching), "recommendation__")
        .values("theme__slug", "theme__name", "status_then")
        .annotate(n=Count("recommendation_id", distinct=True))
        .order_by(),
        "theme__slug",
        "theme__name",
        "status_then",
    )
    assessors = _grouped(
        standing.filter(recommendation__in=matching)
        .values("assessor__slug", "assessor__name", "status")
        .annotate(n=Count("pk"))
        .order_by(),
        "assessor__slug",
        "assessor__name",
        "status",
    )
    country_rows = _country_rows(
        _grouped(
            rows.values("country", "status_then").annotate(n=Count("pk")),
            "country",
            "country",
            "status_then",
        )
    )
    return Overview(
        total=sum(by_status.values()),
        by_status=by_status,
        disputed=flags["disputed"],
        overdue=flags["overdue"],
        breakdowns=_breakdowns(issuers, instruments, themes, assessors, country_rows),
        as_of=as_of,
        generated_at=timezone.now(),
    )


def _breakdowns(
    issuers: list[BreakdownRow],
    instruments: list[BreakdownRow],
    themes: list[BreakdownRow],
    assessors: list[BreakdownRow],
    country_rows: list[BreakdownRow],
) -> list[Breakdown]:
    return [
        Breakdown("issued_by", "By issuing body", issuers),
        Breakdown("instrument", "By instrument", instruments, LINK_NOTE),
        Breakdown("theme", "By theme", themes, LINK_NOTE),
        Breakdown("assessor", "By assessor", assessors, ASSESSOR_NOTE),
        Breakdown("country", "By country", country_rows),
    ]


# Progress over time ---------------------------------------------------------


def month_ends(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The last day of every month from `start`'s to `end`'s; `end` itself for the last."""
    days = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
        last = datetime.date(next_year, next_month, 1) - datetime.timedelta(days=1)
        days.append(min(last, end))
        year, month = next_year, next_month
    return days


def progress_period(filters: ReportFilters) -> tuple[datetime.date, datetime.date]:
    """The months the progress page covers: `from` to `to`, or the last twelve months."""
    end = filters.end or filters.as_of or timezone.localdate()
    if filters.start:
        start = filters.start
    else:
        year, month = end.year, end.month - (DEFAULT_PROGRESS_MONTHS - 1)
        while month < 1:
            year, month = year - 1, month + 12
        start = datetime.date(year, month, 1)
    return start, end


@dataclass
class ProgressMonth:
    day: datetime.date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def cells(self) -> list[int]:
        return [self.counts.get(status, 0) for status in Status.values]


def progress(filters: ReportFilters) -> list[ProgressMonth]:
    """Headline status distribution at the end of each month of the period.

    One query for the matching recommendations and one per month (at most
    MAX_PROGRESS_MONTHS), whatever the number of recommendations.
    """
    start, end = progress_period(filters)
    days = month_ends(start, end)
    if len(days) > MAX_PROGRESS_MONTHS:
        raise ValueError(
            f"From and To cover {len(days)} months; choose at most {MAX_PROGRESS_MONTHS}."
        )
    issued = dict(_matching(filters).values_list("pk", "issued_on"))
    months = []
    for day in days:
        ids = [pk for pk, issued_on in issued.items() if issued_on is None or issued_on <= day]
        statuses = _keep_matching(filters, ids, statuses_as_of(day))
        months.append(ProgressMonth(day, dict(Counter(s.headline for s in statuses.values()))))
    return months


# What changed between two days ------------------------------------------------


@dataclass
class ChangeRow:
    recommendation: Recommendation
    before: StatusAsOf
    after: StatusAsOf
    assessor_changes: list[tuple[Organisation, str, str]]


# Recommendations with an assessor whose standing status differs between two
# days, `first` and `last` (in order). Periods of one assessor never overlap,
# so one stands on a day at most, and a status that differs between the days
# belongs to a period ending between them (after `first`, by `last`) that
# stood on `first`, or to one starting between them that stands on `last`.
# Only such periods are compared: a pair with one of them changed (from or
# to no status), a pair with both changed if their statuses differ. A
# period standing on both days changes nothing and is left out.
# Computed once, as a materialized CTE: left to itself, PostgreSQL planned
# the comparison inside a parallel hash that each of its workers built in
# full, three times the work on two cores. The parameters: first, first,
# last; first, last, last; then the assessor's id if `{assessor}` names one.
# Only constant text is put together here.
CHANGED_SQL = """
WITH changed AS MATERIALIZED (
    SELECT recommendation_id FROM recommendations_statusperiod
    WHERE (
        (valid_from <= %s AND valid_until > %s AND valid_until <= %s)
        OR (valid_from > %s AND valid_from <= %s AND (valid_until IS NULL OR valid_until > %s))
    ) {assessor}
    GROUP BY recommendation_id, assessor_id
    HAVING count(*) = 1 OR min(status) <> max(status)
)
SELECT recommendation_id FROM changed
"""


def changed_recommendations(
    filters: ReportFilters, start: datetime.date, end: datetime.date
) -> QuerySet[Recommendation]:
    """Recommendations matching `filters` whose status changed from `start` to `end`, by code.

    The comparison runs in the database over the kept periods that begin or
    end between the two days (`CHANGED_SQL`), so a page of the result costs
    the same whatever the number of changes. With an
    assessor, only that assessor's changes count; with a status, only
    recommendations that have it on `end`.
    """
    first, last = sorted((start, end))
    params: list[object] = [first, first, last, first, last, last]
    assessor = ""
    if filters.assessor:
        assessor = "AND assessor_id = %s"
        params.append(filters.assessor.pk)
    changed = RawSQL(  # noqa: S611 (constant SQL, values as parameters)
        CHANGED_SQL.format(assessor=assessor), params
    )
    rows = _matching(filters).filter(pk__in=changed)
    if filters.status:
        rows = Recommendation.objects.filter(
            pk__in=rows.annotate(period_on=_period_on("", end))
            .filter(
                **(
                    {"period_on__isnull": True}
                    if filters.status == Status.NOT_ASSESSED
                    else {"period_on__headline": filters.status}
                )
            )
            .values("pk")
        )
    return rows.select_related("issued_by").order_by("code")


def changes(
    filters: ReportFilters,
    start: datetime.date,
    end: datetime.date,
    *,
    recommendations: Iterable[Recommendation] | None = None,
) -> list[ChangeRow]:
    """How the status of changed recommendations moved between `start` and `end`. Four queries.

    `recommendations` is a page of `changed_recommendations`; all of them by default.
    """
    listed = list(
        changed_recommendations(filters, start, end) if recommendations is None else recommendations
    )
    found = {
        change.recommendation_id: change
        for change in changes_between(start, end, recommendation_ids=[r.pk for r in listed])
    }
    assessor_ids = {pk for change in found.values() for pk in change.changed_assessors}
    assessors = Organisation.objects.in_bulk(list(assessor_ids))
    return [
        ChangeRow(
            recommendation=recommendation,
            before=found[recommendation.pk].before,
            after=found[recommendation.pk].after,
            assessor_changes=[
                (assessors[pk], old, new)
                for pk, (old, new) in found[recommendation.pk].changed_assessors.items()
                if not filters.assessor or pk == filters.assessor.pk
            ],
        )
        for recommendation in listed
        if recommendation.pk in found
    ]


# The filtered list ------------------------------------------------------------


@dataclass
class ListedRecommendation:
    recommendation: Recommendation
    headline: str
    disputed: bool

    @property
    def headline_label(self) -> str:
        return str(Status(self.headline).label)


class ListedRecommendations:
    """Matching recommendations with their status then, read when sliced or walked.

    A paginator takes its count and one page from the database, so a page
    of the list costs the same whatever the number of recommendations.
    """

    def __init__(self, rows: QuerySet[Recommendation]) -> None:
        self.rows = rows
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = self.rows.count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    @staticmethod
    def _listed(row: Any) -> ListedRecommendation:
        return ListedRecommendation(row, row.status_then, row.disputed_then)

    @overload
    def __getitem__(self, index: int) -> ListedRecommendation: ...

    @overload
    def __getitem__(self, index: slice) -> list[ListedRecommendation]: ...

    def __getitem__(self, index: int | slice) -> ListedRecommendation | list[ListedRecommendation]:
        if isinstance(index, slice):
            return [self._listed(row) for row in self.rows[index]]
        return self._listed(self.rows[index])

    def __iter__(self) -> Iterator[ListedRecommendation]:
        return (self._listed(row) for row in self.rows)


def recommendation_list(filters: ReportFilters) -> ListedRecommendations:
    """The matching recommendations by code with their status, now or as of a day."""
    rows: QuerySet[Any]
    if filters.as_of:
        rows = recommendations_on(filters, filters.as_of).annotate(
            period_on=_period_on("", filters.as_of),
            status_then=Coalesce(F("period_on__headline"), Value(Status.NOT_ASSESSED)),
            disputed_then=Coalesce(F("period_on__disputed"), Value(False)),
        )
    else:
        rows = current_recommendations(filters).annotate(
            status_then=F("headline_status"), disputed_then=F("disputed")
        )
    return ListedRecommendations(rows.select_related("issued_by").order_by("code"))


def recommendation_count(filters: ReportFilters) -> int:
    return recommendation_list(filters).count()


# One instrument ---------------------------------------------------------------


@dataclass
class LinkRow:
    """A link shown on an instrument's page, with its recommendation's status then."""

    link: ProvisionLink
    status_label: str


@dataclass
class InstrumentPart:
    instrument: Instrument
    provisions: list[tuple[Provision, list[LinkRow]]]
    whole_instrument_links: list[LinkRow]


@dataclass
class InstrumentReport:
    instrument: Instrument
    # The instrument itself first, then the laws a draft became.
    parts: list[InstrumentPart]
    as_of: datetime.date | None


def instrument_report(instrument: Instrument, filters: ReportFilters) -> InstrumentReport:
    """An instrument's provisions with the recommendations and concerns on each.

    For a draft, the provisions of the law it became follow. Recommendations
    not matching the filters are left out; concerns are always shown. Four
    queries (five with an as-of day).
    """
    became = [
        relation.target
        for relation in InstrumentRelation.objects.filter(
            subject=instrument, kind=RelationKind.BECAME
        ).select_related("target")
    ]
    instruments = [instrument, *became]
    matching = _matching(dataclasses.replace(filters, instrument=None))
    if filters.status and not filters.as_of:
        matching = matching.filter(headline_status=filters.status)
    links = list(
        ProvisionLink.objects.filter(instrument__in=instruments)
        .filter(Q(recommendation__isnull=True) | Q(recommendation__in=matching))
        .select_related("recommendation", "concern")
        .order_by("key")
    )
    provisions = list(Provision.objects.filter(instrument__in=instruments).order_by("eid"))
    statuses: dict[int, StatusAsOf] = {}
    if filters.as_of:
        ids = [link.recommendation_id for link in links if link.recommendation_id]
        statuses = statuses_as_of(filters.as_of, recommendation_ids=ids)

    def row(link: ProvisionLink) -> LinkRow | None:
        if link.recommendation is None:
            return LinkRow(link, "")
        if not filters.as_of:
            return LinkRow(link, link.recommendation.get_headline_status_display())
        then = statuses.get(link.recommendation.pk, StatusAsOf(Status.NOT_ASSESSED, False, {}))
        if filters.status and then.headline != filters.status:
            return None
        return LinkRow(link, str(then.headline.label))

    by_provision: dict[int | None, list[LinkRow]] = defaultdict(list)
    whole: dict[int, list[LinkRow]] = defaultdict(list)
    for link in links:
        shown = row(link)
        if shown is None:
            continue
        if link.provision_id is None:
            whole[link.instrument_id].append(shown)
        else:
            by_provision[link.provision_id].append(shown)
    parts = [
        InstrumentPart(
            item,
            [
                (provision, by_provision[provision.pk])
                for provision in provisions
                if provision.instrument_id == item.pk
            ],
            whole[item.pk],
        )
        for item in instruments
    ]
    return InstrumentReport(instrument, parts, filters.as_of)


# One recommendation -----------------------------------------------------------


@dataclass
class AssessorTimeline:
    assessor: Organisation
    assessments: list[StatusAssessment]
    current: StatusAssessment | None


def recommendation_report(
    recommendation: Recommendation, as_of: datetime.date | None = None
) -> tuple[list[ProvisionLink], list[AssessorTimeline], StatusAsOf | None]:
    """Links and every assessor's published timeline of one recommendation. Three queries."""
    links = list(
        recommendation.provision_links.select_related("instrument", "provision").order_by(
            "instrument__title", "provision__eid"
        )
    )
    published = list(
        StatusAssessment.objects.filter(
            recommendation=recommendation, review_state=ReviewState.PUBLISHED
        )
        .select_related("assessor", "source", "corrects")
        .order_by("assessor__name", "status_since", "reviewed_at", "pk")
    )
    current_ids = set(recommendation.current_assessments.values_list("assessment_id", flat=True))
    timelines: dict[int, AssessorTimeline] = {}
    for assessment in published:
        timeline = timelines.setdefault(
            assessment.assessor_id, AssessorTimeline(assessment.assessor, [], None)
        )
        timeline.assessments.append(assessment)
        if assessment.pk in current_ids:
            timeline.current = assessment
    status_then = None
    if as_of:
        status_then = statuses_as_of(as_of, recommendation_ids=[recommendation.pk]).get(
            recommendation.pk, StatusAsOf(Status.NOT_ASSESSED, False, {})
        )
    return links, list(timelines.values()), status_then
