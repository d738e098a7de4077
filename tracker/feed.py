"""The change feed: every committed change to a synced entity, in commit-safe order.

Rows come from the PostgreSQL triggers of migration 0008. A plain id cursor
would skip a row whose transaction commits after a later id was served, so the
feed orders by (transaction id, id) and serves only rows whose transaction is
below the oldest one still open (`pg_snapshot_xmin`): every transaction below
it has finished, so nothing can later appear before the cursor.

Representations are rendered when read, with the reading client's rights
(confidential evidence withheld, unpublished assessments of others left out),
from plain rows (`tracker.feed_rows`): one query set per entity type whatever
the page length, and documents equal to the API serializers'. They show the
record as it is now; a record deleted since shows null, as its tombstone does.
A page is encoded once, and its ETag is the hash of those bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import connection
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from drf_standardized_errors.openapi import AutoSchema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import exceptions, renderers, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from recommendations.models import Recommendation
from tracker import feed_rows
from tracker.api import ApiViewSet
from tracker.models import Change
from tracker.roles import can_view

MAX_PAGE = 500
DEFAULT_PAGE = 100


class FeedUnavailable(exceptions.APIException):
    status_code = status.HTTP_501_NOT_IMPLEMENTED
    default_detail = (
        "The change feed needs PostgreSQL (its rows are written by database triggers); "
        "this server runs on SQLite. Sync by walking the lists with updated_after instead."
    )
    default_code = "feed_unavailable"


@dataclass(frozen=True)
class SyncedEntity:
    """How the feed finds and renders one entity type by key.

    The feed renders with `documents`; `queryset`, `serializer`, `by_keys` and
    `key_of` are the API's own way to the same representations, which the
    tests hold `documents` equal to.
    """

    model: type[Model]
    queryset: Callable[[Request], QuerySet[Any]]
    serializer: type[serializers.BaseSerializer[Any]]
    by_keys: Callable[[QuerySet[Any], list[str]], QuerySet[Any]]
    key_of: Callable[[Any], str]
    documents: feed_rows.DocumentBuilder


def _by_field(field: str) -> Callable[[QuerySet[Any], list[str]], QuerySet[Any]]:
    return lambda queryset, keys: queryset.filter(**{f"{field}__in": keys})


def synced_entities() -> dict[str, SyncedEntity]:
    """Every entity the feed reports, by the name the triggers give it."""
    from instruments import api as instruments_api
    from instruments import models as instrument_models
    from recommendations import api as recommendations_api
    from recommendations import models as recommendation_models
    from recommendations import serializers as recommendation_serializers
    from tracker import api as tracker_api

    def viewset_queryset(viewset: Any) -> Callable[[Request], QuerySet[Any]]:
        return lambda request: viewset.queryset.all()

    return {
        "organisation": SyncedEntity(
            tracker_api.OrganisationViewSet.queryset.model,
            viewset_queryset(tracker_api.OrganisationViewSet),
            tracker_api.OrganisationSerializer,
            _by_field("slug"),
            lambda row: row.slug,
            feed_rows.organisation_documents,
        ),
        "source": SyncedEntity(
            instrument_models.Source,
            viewset_queryset(instruments_api.SourceViewSet),
            instruments_api.SourceSerializer,
            _by_field("key"),
            lambda row: row.key,
            feed_rows.source_documents,
        ),
        "instrument": SyncedEntity(
            instrument_models.Instrument,
            viewset_queryset(instruments_api.InstrumentViewSet),
            instruments_api.InstrumentSerializer,
            _by_field("slug"),
            lambda row: row.slug,
            feed_rows.instrument_documents,
        ),
        "provision": SyncedEntity(
            instrument_models.Provision,
            viewset_queryset(instruments_api.ProvisionViewSet),
            instruments_api.ProvisionSerializer,
            instruments_api.provisions_by_keys,
            lambda row: instruments_api.provision_key(row.instrument.slug, row.eid),
            feed_rows.provision_documents,
        ),
        "citation": SyncedEntity(
            instrument_models.Citation,
            viewset_queryset(instruments_api.CitationViewSet),
            instruments_api.CitationSerializer,
            _by_field("key"),
            lambda row: row.key,
            feed_rows.citation_documents,
        ),
        "theme": SyncedEntity(
            recommendation_models.Theme,
            viewset_queryset(recommendations_api.ThemeViewSet),
            recommendation_serializers.ThemeSerializer,
            _by_field("slug"),
            lambda row: row.slug,
            feed_rows.theme_documents,
        ),
        "recommendation": SyncedEntity(
            recommendation_models.Recommendation,
            lambda request: recommendations_api.recommendations_for_api(),
            recommendation_serializers.RecommendationSerializer,
            _by_field("code"),
            lambda row: row.code,
            feed_rows.recommendation_documents,
        ),
        "concern": SyncedEntity(
            recommendation_models.Concern,
            lambda request: recommendations_api.concerns_for_api(),
            recommendation_serializers.ConcernSerializer,
            _by_field("code"),
            lambda row: row.code,
            feed_rows.concern_documents,
        ),
        "assessment": SyncedEntity(
            recommendation_models.StatusAssessment,
            lambda request: recommendations_api.assessments_visible_to(request.user),
            recommendation_serializers.AssessmentSerializer,
            _by_field("key"),
            lambda row: str(row.key),
            feed_rows.assessment_documents,
        ),
    }


def encode_cursor(txid: int, change_id: int) -> str:
    return base64.urlsafe_b64encode(f"{txid}.{change_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int]:
    """(txid, id) from an opaque cursor; a 400 naming `after` if it is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        txid, change_id = base64.urlsafe_b64decode(padded.encode()).decode().split(".")
        position = int(txid), int(change_id)
    except (ValueError, UnicodeError, binascii.Error):
        raise exceptions.ValidationError(
            {"after": [_("Not a cursor of this feed; start without one or use a `next` value.")]}
        ) from None
    if min(position) < 0:
        raise exceptions.ValidationError({"after": [_("Not a cursor of this feed.")]})
    return position


# Rows past a cursor whose transactions, and all before them, have finished.
_COMMITTED_AFTER = """
    FROM tracker_change
    WHERE (txid, id) > (%s, %s)
      AND txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
    ORDER BY txid, id
    LIMIT %s
"""

# `encode_cursor(txid, id)` in SQL, where it costs next to nothing: PostgreSQL's
# base64 breaks lines only after 76 characters, and a cursor's text is at
# most 41 bytes.
CURSOR_SQL = (
    "rtrim(translate(encode(convert_to(txid::text || '.' || id::text, 'UTF8'), 'base64'),"
    " '+/', '-_'), '=')"
)

# (txid, id, entity, key, operation, version, changed_at, cursor) of one
# change, its time already as the feed writes it (`feed_rows.encoded_moment`)
# and its cursor as `encode_cursor` writes it.
ChangeRow = tuple[int, int, str, str, str, int, str, str]


def committed_changes(after: tuple[int, int], limit: int) -> list[Change]:
    """Changes past `after` whose transactions, and all before them, have finished."""
    return list(Change.objects.raw("SELECT *" + _COMMITTED_AFTER, [after[0], after[1], limit]))


def committed_change_rows(after: tuple[int, int], limit: int) -> list[ChangeRow]:
    """`committed_changes` as plain rows, for the feed's pages.

    The time comes as text: Django's loader of PostgreSQL times, in Python,
    cost more than anything else per row. So does the cursor, which took 1.5
    to 2 µs an event to encode in Python.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT txid, id, entity, key, operation, version,"
            """ to_char(changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), """
            + CURSOR_SQL
            + _COMMITTED_AFTER,
            [after[0], after[1], limit],
        )
        return [
            # As datetime.isoformat(), which leaves out a zero fraction.
            (*row[:6], (row[6][:-7] if row[6].endswith(".000000") else row[6]) + "Z", row[7])
            for row in cursor.fetchall()
        ]


def render(changes: Sequence[Change], request: Request) -> list[dict[str, Any]]:
    """The feed entries of `changes`, as `render_rows` makes them."""
    return render_rows(
        [
            (
                change.txid,
                change.pk,
                change.entity,
                change.key,
                change.operation,
                change.version,
                feed_rows.encoded_moment(change.changed_at),
                encode_cursor(change.txid, change.pk),
            )
            for change in changes
        ],
        request,
    )


def render_rows(rows: Sequence[ChangeRow], request: Request) -> list[dict[str, Any]]:
    """The feed entries, with each entity's current representation as this client may see it.

    Entries of entity types the client may not read are left out; a tombstone,
    or a record the client may not see, has null `data`.
    """
    entities = synced_entities()
    keys_by_entity: dict[str, set[str]] = defaultdict(set)
    for _txid, _change_id, entity_name, key, operation, _version, _changed_at, _cursor in rows:
        keys = keys_by_entity[entity_name]
        # A delete shows null whatever the record is now, so needs no document.
        if operation != Change.Operation.DELETE:
            keys.add(key)
    documents: dict[str, feed_rows.DocumentsByKey] = {}
    for name, keys in keys_by_entity.items():
        entity = entities.get(name)
        if entity is None:
            continue
        meta = entity.model._meta
        if not can_view(request.user, meta.app_label, meta.model_name or ""):
            continue
        documents[name] = entity.documents(sorted(keys), request) if keys else {}
    entries: list[dict[str, Any]] = []
    for _txid, _change_id, entity_name, key, operation, version, changed_at, cursor in rows:
        readable = documents.get(entity_name)
        if readable is None:
            continue
        entries.append(
            {
                "cursor": cursor,
                "entity": entity_name,
                "key": key,
                "operation": operation,
                "version": version,
                "changed_at": changed_at,
                "data": None if operation == Change.Operation.DELETE else readable.get(key),
            }
        )
    return entries


# U+2028 and U+2029 in UTF-8, which DRF's renderer escapes for JavaScript.
_LINE_SEPARATORS = re.compile(b"\xe2\x80[\xa8\xa9]")


def _escaped_separator(match: re.Match[bytes]) -> bytes:
    return b"\\u2028" if match.group() == b"\xe2\x80\xa8" else b"\\u2029"


class FeedPageResponse(Response):
    """A page of plain JSON data, encoded once by orjson; its ETag hashes those bytes.

    orjson writes plain data as DRF's JSONRenderer does in its default
    compact mode, but for U+2028 and U+2029, which DRF escapes for
    JavaScript and so is done here. Any other renderer or mode (an `indent`
    in Accept) is left to DRF; the tag is of the compact bytes whatever the
    client asked for, so it changes exactly when the data does.

    The list page's `PlainJSONResponse` encodes a second time, with sorted
    keys and ASCII escapes, to keep `representation_etag`'s values. The
    feed's tags changed value once, when this replaced that, and cost no
    second encoding since.
    """

    _encoded: bytes | None = None

    def encoded(self) -> bytes:
        if self._encoded is None:
            body = orjson.dumps(self.data)
            # Both start with the byte E2, which most pages lack: looking for
            # one byte is hundreds of times faster than for either sequence.
            if b"\xe2" in body:
                body = _LINE_SEPARATORS.sub(_escaped_separator, body)
            self._encoded = body
        return self._encoded

    def etag_of_data(self, data: Any) -> str:
        """Called by `ApiViewSet.finalize_response` instead of `representation_etag`."""
        return '"' + hashlib.sha256(self.encoded()).hexdigest()[:32] + '"'

    def _renders_compact_json(self) -> bool:
        renderer = getattr(self, "accepted_renderer", None)
        return (
            type(renderer) is renderers.JSONRenderer
            and not renderer.ensure_ascii
            and renderer.compact
            and renderer.get_indent(
                getattr(self, "accepted_media_type", None) or "",
                getattr(self, "renderer_context", None) or {},
            )
            is None
        )

    @property
    def rendered_content(self) -> Any:
        if self._encoded is not None and self.data is None:
            return self._encoded  # rendered already, its documents let go
        if self.data is None or not self._renders_compact_json():
            return super().rendered_content
        self["Content-Type"] = self.content_type or self.accepted_renderer.media_type
        body = self.encoded()
        # The bytes are the answer from here on: the page's documents go now,
        # freed as their count of references falls to nothing. Held by the
        # response, they lived as long as the reference cycles every request
        # leaves (DRF's view holds the response, whose context holds the
        # view), until the garbage collector's next round freed those, and
        # its rounds walked their thousands of dicts and lists meanwhile.
        self.data = None
        return body


CHANGE_ENTRY_FIELDS: dict[str, serializers.Field[Any, Any, Any, Any]] = {
    "cursor": serializers.CharField(),
    "entity": serializers.CharField(),
    "key": serializers.CharField(),
    "operation": serializers.ChoiceField(choices=Change.Operation.choices),
    "version": serializers.IntegerField(),
    "changed_at": serializers.DateTimeField(),
    "data": serializers.JSONField(allow_null=True),
}


class PageSchema(AutoSchema):
    """The feed's answer is one page object, not the list drf-spectacular assumes for `list`."""

    def _is_list_view(self, serializer: Any = None) -> bool:
        return False


@extend_validation_errors(["invalid"], field_name="after", actions=["list"])
@extend_validation_errors(["invalid"], field_name="limit", actions=["list"])
class ChangeFeedViewSet(ApiViewSet):
    """Every committed change to every synced entity, oldest first.

    Pass the `next` of one page as `after` to get the following one. `data` is
    the entity as it is now (null once deleted: a tombstone); entity types the
    client may not read are left out. An empty page means nothing new yet:
    call again later with the same cursor.
    """

    queryset = Change.objects.all()
    schema = PageSchema()
    # Whoever may read recommendations may follow the feed; each entry is then
    # kept or left out by the client's right to read its entity type.
    read_permission_model = Recommendation
    pagination_class = None
    filter_backends: list[Any] = []

    @extend_schema(
        operation_id="v1_changes_list",
        parameters=[
            OpenApiParameter("after", OpenApiTypes.STR, description="A `next` cursor."),
            OpenApiParameter(
                "limit", OpenApiTypes.INT, description=f"At most {MAX_PAGE}; {DEFAULT_PAGE}."
            ),
        ],
        responses={
            200: inline_serializer(
                "ChangePage",
                {
                    "results": inline_serializer("ChangeEntry", CHANGE_ENTRY_FIELDS, many=True),
                    "next": serializers.CharField(allow_null=True),
                    "has_more": serializers.BooleanField(),
                },
            )
        },
    )
    def list(self, request: Request) -> Response:
        if connection.vendor != "postgresql":
            # Answered here rather than raised: the error handler treats 5xx
            # as crashes, and this is a known, permanent limit of the set-up.
            return Response(
                {
                    "type": "server_error",
                    "errors": [
                        {
                            "code": FeedUnavailable.default_code,
                            "detail": FeedUnavailable.default_detail,
                            "attr": None,
                        }
                    ],
                },
                status=FeedUnavailable.status_code,
            )
        after = request.query_params.get("after")
        position = decode_cursor(after) if after else (0, 0)
        limit_text = request.query_params.get("limit", str(DEFAULT_PAGE))
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_PAGE:
            raise exceptions.ValidationError(
                {"limit": [_("Give a whole number from 1 to %(max)d.") % {"max": MAX_PAGE}]}
            )
        limit = int(limit_text)
        # The same queries page after page, prepared once per connection
        # (ApiViewSet.dispatch).
        rows = committed_change_rows(position, limit)
        results = render_rows(rows, request)
        return FeedPageResponse(
            {
                "results": results,
                "next": rows[-1][7] if rows else after,
                "has_more": len(rows) == limit,
            }
        )
