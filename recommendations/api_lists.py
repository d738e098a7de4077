"""The recommendations list page, built from plain rows instead of model instances.

A page of 100 recommendations through `RecommendationSerializer` spends most
of its time creating model instances and running DRF fields (README, "Scale").
Here the page is one `.values()` query, each related list one more query for
the page's ids, the documents plain dicts and the body encoded by orjson. The
JSON is the serializer's, key for key and byte for byte;
`tests/api/test_list_rows.py` holds the two equal, for several clients. The
detail view keeps the serializer.

Nothing here is per client: a recommendation's representation shows no
evidence (only each assessor's status and the assessment's key), so there is
nothing to withhold. Should evidence ever be added to it, the equality test
with confidential evidence fails until this module withholds it too.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Sequence
from typing import Any

import orjson
from django.db import connections, router
from django.db.models import (
    BooleanField,
    CharField,
    Expression,
    F,
    ManyToManyField,
    Model,
    QuerySet,
    TextField,
)
from django.db.models.lookups import In
from django.db.models.query import ValuesListIterable
from django.utils import timezone, translation
from modeltranslation.fields import NONE, TranslationFieldDescriptor
from modeltranslation.manager import MultilingualQuerySet
from modeltranslation.utils import build_localized_fieldname, get_language, resolution_order
from rest_framework import renderers
from rest_framework.request import Request
from rest_framework.response import Response

from instruments.api import provision_key
from recommendations.models import (
    CurrentAssessment,
    ProvisionLink,
    Recommendation,
    StatusAssessment,
)
from tracker.api import representation_etag

Document = dict[str, Any]

# Every column the page shows, plus `id` to find the related rows. The
# ordering fields of the viewset are all here, which the cursor reads back
# from the rows and a DISTINCT (filters across many-to-many) needs selected.
PAGE_COLUMNS = (
    "id",
    "code",
    "kind",
    "text",
    "issued_by__slug",
    "issued_on",
    "issued_on_precision",
    "source__key",
    "country",
    "follow_up_due",
    "reiterates__code",
    "state_response",
    "headline_status",
    "disputed",
    "created_at",
    "updated_at",
)


def _date(value: datetime.date | None) -> str | None:
    return None if value is None else value.isoformat()


class OneOf(Expression):
    """`column IN (values)`, written `column = ANY(%s)` on PostgreSQL: one parameter for any number.

    Django's `__in` prepares, converts and quotes each of a page's hundreds of
    ids or keys on its own; the array goes as one literal, typed as the
    column. Elsewhere (SQLite, in the tests) it is Django's own `IN`, which
    converts the values as the column stores them.
    """

    def __init__(self, column: str, values: Sequence[Any]) -> None:
        super().__init__(output_field=BooleanField())
        self.column: Any = F(column)
        self.values = list(values)

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.column,) = exprs

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, Any]:
        sql, params = compiler.compile(In(self.column, self.values))
        return sql, params

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        column, params = compiler.compile(self.column)
        array_type = self.column.output_field.db_type(connection)
        return f"{column} = ANY(%s::{array_type}[])", (*params, array_literal(self.values))


def array_literal(values: Sequence[Any]) -> str | list[Any]:
    """`values` as the text of one PostgreSQL array, each element quoted; a list if one is None.

    psycopg binds parameters on the client, as Django has it do, and quotes a
    list element by element: 1.2 ms for the 500 keys of a feed page, where
    the same array as one text takes 0.1 ms. In that text an element is
    double-quoted, with its backslashes and double quotes escaped; PostgreSQL
    casts it to the column's array type.
    """
    if any(value is None for value in values):
        return list(values)
    return (
        "{"
        + ",".join(
            '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values
        )
        + "}"
    )


class ColumnText(Expression):
    """One column read as text written in SQL, which the subclasses' `as_sql` methods give."""

    def __init__(self, column: str) -> None:
        super().__init__(output_field=CharField())
        self.column: Any = F(column)

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.column,) = exprs


class UuidText(ColumnText):
    """A UUID column as the text `str(uuid)` writes: lowercase, hyphenated.

    psycopg makes a `uuid.UUID` of each value, which the documents then turn
    into text: 1.6 µs a key, 30 ms of a 20,000-event walk of the feed. As
    text from the database, nothing is made.
    """

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, Any]:
        # SQLite keeps the 32 hex digits, without hyphens.
        column, params = compiler.compile(self.column)
        parts = " || '-' || ".join(
            f"substr({column}, {start}, {length})"
            for start, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
        )
        return f"lower({parts})", params * 5

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        column, params = compiler.compile(self.column)
        return f"({column})::text", params


class UtcText(ColumnText):
    """A time column as ISO 8601 text in UTC (`+00:00`), for `datetime.fromisoformat`.

    Django reads each PostgreSQL time through its own loader, written in
    Python, at many times the cost of `fromisoformat` on this text; an
    assessment has three, a recommendation two.
    """

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, Any]:
        column, params = compiler.compile(self.column)
        # SQLite stores times as UTC text already. An expression rather than
        # the column, which sqlite3 would parse for its declared type.
        return f"(CAST({column} AS TEXT) || '+00:00')", params

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        column, params = compiler.compile(self.column)
        return (
            f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')",
            params,
        )


class TranslatedText(Expression):
    """A translated text as modeltranslation's descriptor reads it, in SQL.

    The first of the active language's column and its fallbacks' that is
    neither null nor empty, else the empty string: what the descriptor
    answers for a field whose default is empty and that has no fallback
    value of its own. `.values()` on a modeltranslation queryset reads every
    language's column and asks the descriptor, row by row; here the database
    picks. Made under the language it is for, as `ArrayQuery` builds a query.
    """

    def __init__(self, model: type[Model], name: str) -> None:
        descriptor = model.__dict__[name]
        if not isinstance(descriptor, TranslationFieldDescriptor):
            raise TypeError(f"{model.__name__}.{name} is not a translated field")
        if (
            descriptor.fallback_value is not NONE
            or descriptor.fallback_undefined is not NONE
            or descriptor.field.get_default() != ""
        ):
            raise TypeError(
                f"{model.__name__}.{name} falls back in a way TranslatedText does not write"
            )
        super().__init__(output_field=TextField())
        languages = resolution_order(get_language(), descriptor.fallback_languages)
        self.columns: list[Any] = [
            F(build_localized_fieldname(name, language)) for language in languages
        ]

    def get_source_expressions(self) -> list[Any]:
        return self.columns

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.columns = list(exprs)

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, Any]:
        parts, params = [], []
        for column in self.columns:
            sql, column_params = compiler.compile(column)
            parts.append(f"NULLIF({sql}, '')")
            params.extend(column_params)
        return f"COALESCE({', '.join(parts)}, '')", params


def _moment(value: datetime.datetime, zone: datetime.tzinfo) -> str:
    """A time as DRF's DateTimeField writes it: ISO 8601 in the active zone, UTC as `Z`."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# `YYYY-MM-DDTHH:MI:SS.ffffff+00:00`, as `UtcText` reads a time on PostgreSQL.
_UTC_TEXT_LENGTH = 32

# Of one UTC hour in one zone: the local text up to the hour and the offset's
# text, or None where the offset is not whole hours or changes within the
# hour. False: not worked out yet.
LocalHour = tuple[str, str] | None | bool


def _local_hour(utc_day: str, hour: int, zone: datetime.tzinfo) -> tuple[str, str] | None:
    start_utc = datetime.datetime.fromisoformat(utc_day).replace(hour=hour, tzinfo=datetime.UTC)
    start = start_utc.astimezone(zone)
    end = (start_utc + datetime.timedelta(hours=1, microseconds=-1)).astimezone(zone)
    offset = start.utcoffset()
    if offset is None or offset != end.utcoffset() or offset % datetime.timedelta(hours=1):
        return None
    text = start.isoformat()  # YYYY-MM-DDTHH:00:00+HH:MM
    return text[:13], "Z" if not offset else text[19:]


@functools.lru_cache(maxsize=8192)
def _local_hours(utc_day: str, zone: datetime.tzinfo) -> list[LocalHour]:
    """The hours of one UTC day in `zone`, each worked out when first asked for.

    Kept per day, filled per hour: the 35,529 times of a feed walk's first
    20,000 events fall on 4,573 days but 23,177 hours, and working out a
    whole day costs as much as 24 hours.
    """
    return [False] * 24


def local_moment(utc_text: str | None, zone: datetime.tzinfo) -> str | None:
    """A time read as UTC text (`UtcText`) as DRF writes it: ISO 8601 in `zone`.

    As `_moment` writes it, UTC as `Z` and no fraction when it is zero, but
    by joining text: a zone's offset is the same all through nearly every
    hour, so the local text of an hour's start (`_local_hour`, once per
    hour and zone) is followed by the minutes, seconds and fraction as they
    are. Parsing, converting and writing each time took 2 to 3 µs, three
    times per assessment of a feed page; this takes 0.65 µs. A time in an
    hour whose offset is not whole hours, or changes, and text of any other
    form, are converted as `_moment` converts a datetime.
    """
    if utc_text is None:
        return None
    if len(utc_text) == _UTC_TEXT_LENGTH and utc_text[10] == "T":
        hours = _local_hours(utc_text[:10], zone)
        hour = int(utc_text[11:13])
        local = hours[hour]
        if local is False:
            local = hours[hour] = _local_hour(utc_text[:10], hour, zone)
        if isinstance(local, tuple):
            fraction = utc_text[19:26]
            return (
                local[0] + utc_text[13:19] + ("" if fraction == ".000000" else fraction) + local[1]
            )
    return _moment(datetime.datetime.fromisoformat(utc_text), zone)


def assessment_document(
    *,
    key: str,
    recommendation: str,
    assessor: str,
    status: str,
    status_since: datetime.date,
    evidence: str,
    evidence_url: str,
    visibility: str,
    source: str | None,
    corrects: str | None,
    correction_reason: str,
    review_state: str,
    recorded_at: str | None,
    submitted_at: str | None,
    reviewed_at: str | None,
    readable: Container[str],
) -> Document:
    """An assessment as `AssessmentSerializer` writes it, from its values.

    Related records come as their keys and times as DRF writes them. The
    evidence is withheld unless its visibility is one of `readable`, those
    the client may read (`readable_visibilities`).
    """
    withheld = visibility not in readable
    return {
        "key": key,
        "recommendation": recommendation,
        "assessor": assessor,
        "status": status,
        "status_since": _date(status_since),
        "evidence": None if withheld else evidence,
        "evidence_url": None if withheld else evidence_url,
        "evidence_withheld": withheld,
        "visibility": visibility,
        "source": source,
        "corrects": corrects,
        "correction_reason": correction_reason,
        "review_state": review_state,
        "recorded_at": recorded_at,
        "submitted_at": submitted_at,
        "reviewed_at": reviewed_at,
    }


def recorded_assessment_document(
    assessment: StatusAssessment, readable: Container[str]
) -> Document:
    """An assessment a service just wrote, as a read shows it, from the records it holds.

    The answer to a POST: the service returns the row with the records it
    was given attached, so nothing is read. It took 0.02 to 0.03 ms of CPU
    where `AssessmentSerializer` took 0.16 to 0.18 ms; `tests/api/test_writes.py`
    holds the two equal.
    """
    zone = timezone.get_current_timezone()
    source, corrects = assessment.source, assessment.corrects

    def moment(value: datetime.datetime | None) -> str | None:
        return None if value is None else _moment(value, zone)

    return assessment_document(
        key=str(assessment.key),
        recommendation=assessment.recommendation.code,
        assessor=assessment.assessor.slug,
        status=str(assessment.status),
        status_since=assessment.status_since,
        evidence=assessment.evidence,
        evidence_url=assessment.evidence_url,
        visibility=str(assessment.visibility),
        source=None if source is None else source.key,
        corrects=None if corrects is None else str(corrects.key),
        correction_reason=assessment.correction_reason,
        review_state=str(assessment.review_state),
        recorded_at=moment(assessment.recorded_at),
        submitted_at=moment(assessment.submitted_at),
        reviewed_at=moment(assessment.reviewed_at),
        readable=readable,
    )


class ArrayQuery:
    """A `.values_list()` query for one array of ids or keys, compiled once per language.

    Django compiles a queryset's SQL anew each time it runs. On PostgreSQL,
    where `OneOf` sends any number of values as one array parameter, the SQL
    of a query made from those values alone is the same for every page, so
    it is compiled here once per database and language (modeltranslation
    orders by the active language's column) and run with each page's array.
    `build` must make the query from the values alone, never from the
    client, the time or a setting, or from the values and `extra`
    parameters it filters on after the array, in that order (which
    assessments a client sees, say): one SQL per number of them, compiled
    once for each. A None or a collection among them, which would change
    the SQL itself (IS NULL, IN), is left to Django, as is a query whose
    parameters are not the array and then the extra ones, or with a column
    Django converts after reading it, and every query on SQLite.
    """

    def __init__(self, model: type[Model], build: Callable[..., QuerySet[Any]]) -> None:
        self._model = model
        self._build = build
        self._compiled: dict[tuple[str, str | None, int], str | None] = {}

    def rows(self, values: Sequence[Any], *extra: Any) -> list[tuple[Any, ...]]:
        values = list(values)
        database = router.db_for_read(self._model)
        connection = connections[database]
        if connection.vendor != "postgresql" or any(
            value is None or isinstance(value, (list, tuple, set, frozenset, dict))
            for value in extra
        ):
            return list(self._build(values, *extra))
        key = (database, translation.get_language(), len(extra))
        parameters = [array_literal(values), *extra]
        if key not in self._compiled:
            self._compiled[key] = self._compiled_sql(
                self._build(values, *extra).using(database), parameters
            )
        sql = self._compiled[key]
        if sql is None:
            return list(self._build(values, *extra).using(database))
        with connection.cursor() as cursor:
            cursor.execute(sql, parameters)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
            return rows

    @staticmethod
    def _compiled_sql(queryset: QuerySet[Any], parameters: list[Any]) -> str | None:
        """The SQL of `queryset` if its parameters are `parameters` and no column is converted."""
        if queryset._iterable_class is not ValuesListIterable:
            return None
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        if list(params) != parameters:
            return None
        columns = [column for column, _sql, _alias in compiler.select[: compiler.col_count]]
        return None if compiler.get_converters(columns) else sql


def _related_keys_query(relation: str, column: str) -> ArrayQuery:
    """(recommendation id, `column`) of a many-to-many relation, in the related model's ordering.

    The query goes through the related model's manager, as a prefetch does,
    so that modeltranslation orders themes by the name in the active
    language; `id` breaks the ties the prefetch left to the database.
    """
    field = Recommendation._meta.get_field(relation)
    if not isinstance(field, ManyToManyField):
        raise TypeError(f"{relation} is not a many-to-many field of Recommendation")
    model: type[Model] = field.related_model
    reverse_name = field.related_query_name()

    def build(ids: list[Any]) -> QuerySet[Any]:
        ordered = model._default_manager.filter(OneOf(reverse_name, ids)).order_by(
            *(model._meta.ordering or []), "id"
        )
        if isinstance(ordered, MultilingualQuerySet):
            # Ordered by the translated name now; the plain columns need no fallback.
            ordered = ordered.rewrite(False)
        return ordered.values_list(reverse_name, column)

    return ArrayQuery(model, build)


_RELATED_KEYS = {
    relation: _related_keys_query(relation, column)
    for relation, column in (("addressed_to", "slug"), ("themes", "slug"), ("sdg_targets", "code"))
}


def _keys_by_recommendation(relation: str, ids: Sequence[int]) -> dict[int, list[str]]:
    """One many-to-many list per recommendation (`_related_keys_query`)."""
    grouped: dict[int, list[str]] = defaultdict(list)
    for recommendation_id, value in _RELATED_KEYS[relation].rows(ids):
        grouped[recommendation_id].append(value)
    return grouped


_CURRENT_ASSESSMENTS = ArrayQuery(
    CurrentAssessment,
    lambda ids: (
        CurrentAssessment.objects.filter(OneOf("recommendation_id", ids))
        .order_by("assessor__slug")
        .values_list(
            "recommendation_id",
            "assessor__slug",
            "status",
            "status_since",
            UuidText("assessment__key"),
        )
    ),
)


def _current_assessments(ids: Sequence[int]) -> dict[int, list[Document]]:
    grouped: dict[int, list[Document]] = defaultdict(list)
    for recommendation_id, assessor, status, status_since, assessment in _CURRENT_ASSESSMENTS.rows(
        ids
    ):
        grouped[recommendation_id].append(
            {
                "assessor": assessor,
                "status": status,
                "status_since": _date(status_since),
                "assessment": assessment,
            }
        )
    return grouped


def _links_query(owner_column: str) -> ArrayQuery:
    return ArrayQuery(
        ProvisionLink,
        lambda ids: (
            ProvisionLink.objects.filter(OneOf(owner_column, ids))
            .order_by("key")
            .values_list(
                owner_column, "key", "relation", "instrument__slug", "provision__eid", "note"
            )
        ),
    )


_LINKS = {
    owner_column: _links_query(owner_column) for owner_column in ("recommendation_id", "concern_id")
}


def provision_links(owner_column: str, ids: Sequence[int]) -> dict[int, list[Document]]:
    """The links of the recommendations (or concerns) `ids`, by owner, as the serializer shows them.

    `owner_column` is `recommendation_id` or `concern_id`.
    """
    grouped: dict[int, list[Document]] = defaultdict(list)
    for owner_id, key, relation, instrument, eid, note in _LINKS[owner_column].rows(ids):
        grouped[owner_id].append(
            {
                "key": key,
                "relation": relation,
                "instrument": instrument,
                # As the serializer: the key is built from the link's own instrument.
                "provision": None if eid is None else provision_key(instrument, eid),
                "note": note,
            }
        )
    return grouped


def recommendation_documents(
    rows: Iterable[Document], moment: Callable[[Any, datetime.tzinfo], str | None] = _moment
) -> list[Document]:
    """The representations of `rows` (dicts of PAGE_COLUMNS), five queries for any number.

    `moment` writes the two times: `_moment` for datetimes, `local_moment`
    for the UTC text of `UtcText`.
    """
    rows = list(rows)
    ids = [row["id"] for row in rows]
    if not ids:
        return []
    addressed_to = _keys_by_recommendation("addressed_to", ids)
    themes = _keys_by_recommendation("themes", ids)
    sdg_targets = _keys_by_recommendation("sdg_targets", ids)
    current = _current_assessments(ids)
    links = provision_links("recommendation_id", ids)
    zone = timezone.get_current_timezone()
    return [
        {
            "code": row["code"],
            "kind": row["kind"],
            "text": row["text"],
            "issued_by": row["issued_by__slug"],
            "issued_on": _date(row["issued_on"]),
            "issued_on_precision": row["issued_on_precision"],
            "source": row["source__key"],
            "addressed_to": addressed_to.get(row["id"], []),
            "country": str(row["country"] or ""),
            "themes": themes.get(row["id"], []),
            "sdg_targets": sdg_targets.get(row["id"], []),
            "follow_up_due": _date(row["follow_up_due"]),
            "reiterates": row["reiterates__code"],
            "state_response": row["state_response"],
            "headline_status": row["headline_status"],
            "disputed": row["disputed"],
            "current_assessments": current.get(row["id"], []),
            "provision_links": links.get(row["id"], []),
            "created_at": moment(row["created_at"], zone),
            "updated_at": moment(row["updated_at"], zone),
        }
        for row in rows
    ]


# PAGE_COLUMNS but the translated text and the times, which the feed's query
# reads by `TranslatedText` and `UtcText`, in that order after these.
_BY_CODE_COLUMNS = tuple(
    column for column in PAGE_COLUMNS if column not in ("text", "created_at", "updated_at")
)
_BY_CODE_NAMES = (*_BY_CODE_COLUMNS, "text", "created_at", "updated_at")

_BY_CODE = ArrayQuery(
    Recommendation,
    lambda codes: (
        Recommendation.objects.filter(OneOf("code", codes))
        .order_by()
        .rewrite(False)
        .values_list(
            *_BY_CODE_COLUMNS,
            TranslatedText(Recommendation, "text"),
            UtcText("created_at"),
            UtcText("updated_at"),
        )
    ),
)


def recommendation_documents_by_code(codes: Sequence[str]) -> dict[str, Document]:
    """{code: representation} of the recommendations `codes`, for the change feed.

    The same documents as the list page's, so the feed shows what a list
    shows; nothing in them depends on the client, as explained above. The
    page's `.values()` query cost 3.3 ms of CPU for 110 recommendations,
    compiled anew and read through modeltranslation's per-row fallback; this
    one, compiled once per language (`ArrayQuery`), 1.3 ms.
    """
    rows = (dict(zip(_BY_CODE_NAMES, row, strict=True)) for row in _BY_CODE.rows(codes))
    return {
        document["code"]: document
        for document in recommendation_documents(rows, moment=local_moment)
    }


# What `json.dumps(ensure_ascii=True)` escapes and orjson writes as is.
_BEYOND_ASCII = re.compile("[^\x00-\x7e]+")


def plain_representation_etag(data: Any) -> str:
    """`tracker.api.representation_etag` of plain JSON data, several times faster.

    That tag hashes `json.dumps(sort_keys=True)` with ASCII escapes; orjson
    writes the same text for plain data but for characters beyond ASCII
    (and DEL), which are escaped here, run by run, by `json.dumps` itself.
    """
    body = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    if not body.isascii() or b"\x7f" in body:
        text = _BEYOND_ASCII.sub(lambda run: json.dumps(run.group())[1:-1], body.decode())
        body = text.encode()
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


class PlainJSONResponse(Response):
    """A response of plain JSON data (str, int, bool, None, lists, dicts), encoded by orjson.

    orjson writes such data exactly as DRF's JSONRenderer does in its default,
    compact, non-ASCII-escaping mode, except for U+2028 and U+2029, which DRF
    escapes for JavaScript and so is done here. Any other renderer or mode
    (an `indent` in Accept, say) goes through DRF as usual.
    """

    @property
    def rendered_content(self) -> Any:
        renderer = getattr(self, "accepted_renderer", None)
        if (
            self.data is None
            or type(renderer) is not renderers.JSONRenderer
            or renderer.ensure_ascii
            or not renderer.compact
            or renderer.get_indent(
                getattr(self, "accepted_media_type", None) or "",
                getattr(self, "renderer_context", None) or {},
            )
            is not None
        ):
            return super().rendered_content
        try:
            body = orjson.dumps(self.data)
        except orjson.JSONEncodeError:
            return super().rendered_content
        self["Content-Type"] = self.content_type or renderer.media_type
        if b"\xe2\x80\xa8" in body or b"\xe2\x80\xa9" in body:
            body = body.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
        return body

    def etag_of_data(self, data: Any) -> str:
        """Called by `ApiViewSet.finalize_response` instead of `representation_etag`."""
        try:
            return plain_representation_etag(data)
        except orjson.JSONEncodeError:
            return representation_etag(data)


class RecommendationRowsListMixin:
    """`list` for the recommendations viewset: its filters, search, ordering and cursor, on rows.

    The ETag is still taken by `ApiViewSet.finalize_response` from the data,
    which equals the serializer's, so it is the tag the serializer's page had.
    """

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view: Any = self
        queryset: QuerySet[Recommendation] = view.filter_queryset(view.get_queryset())
        # The viewset's prefetches are for instances; rows fetch their own.
        rows = queryset.prefetch_related(None).values(*PAGE_COLUMNS)
        page = view.paginate_queryset(rows)
        if page is None:
            return PlainJSONResponse(recommendation_documents(rows))
        paginated = view.get_paginated_response(recommendation_documents(page))
        return PlainJSONResponse(paginated.data)
