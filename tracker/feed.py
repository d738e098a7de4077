"""The change feed: every committed change to a synced entity, in commit-safe order.

Rows come from the PostgreSQL triggers of migration 0005. A plain id cursor
would skip a row whose transaction commits after a later id was served, so the
feed orders by (transaction id, id) and serves only rows whose transaction is
below the oldest one still open (`pg_snapshot_xmin`): every transaction below
it has finished, so nothing can later appear before the cursor.

Representations are rendered when read, through the API's own querysets and
serializers, one query set per entity type whatever the page length, and with
the reading client's rights (confidential evidence withheld). They show the
record as it is now; a record deleted since shows null, as its tombstone does.
"""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from drf_standardized_errors.openapi import AutoSchema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from recommendations.models import Recommendation
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
    """How the feed finds and renders one entity type by key."""

    model: type[Model]
    queryset: Callable[[Request], QuerySet[Any]]
    serializer: type[serializers.BaseSerializer[Any]]
    by_keys: Callable[[QuerySet[Any], list[str]], QuerySet[Any]]
    key_of: Callable[[Any], str]
    # (key, representation) of the rows; by default through `serializer`, all at once.
    representations: Callable[[QuerySet[Any], dict[str, Any]], Iterable[tuple[str, Any]]] | None = (
        None
    )

    def represent(self, rows: QuerySet[Any], context: dict[str, Any]) -> Iterable[tuple[str, Any]]:
        if self.representations is not None:
            return self.representations(rows, context)
        rows_list = list(rows)
        rendered = self.serializer(rows_list, many=True, context=context).data
        return zip(map(self.key_of, rows_list), rendered, strict=True)


def _by_field(field: str) -> Callable[[QuerySet[Any], list[str]], QuerySet[Any]]:
    return lambda queryset, keys: queryset.filter(**{f"{field}__in": keys})


def synced_entities() -> dict[str, SyncedEntity]:
    """Every entity the feed reports, by the name the triggers give it."""
    from instruments import api as instruments_api
    from instruments import models as instrument_models
    from recommendations import api as recommendations_api
    from recommendations import api_lists as recommendations_api_lists
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
        ),
        "source": SyncedEntity(
            instrument_models.Source,
            viewset_queryset(instruments_api.SourceViewSet),
            instruments_api.SourceSerializer,
            _by_field("key"),
            lambda row: row.key,
        ),
        "instrument": SyncedEntity(
            instrument_models.Instrument,
            viewset_queryset(instruments_api.InstrumentViewSet),
            instruments_api.InstrumentSerializer,
            _by_field("slug"),
            lambda row: row.slug,
        ),
        "provision": SyncedEntity(
            instrument_models.Provision,
            viewset_queryset(instruments_api.ProvisionViewSet),
            instruments_api.ProvisionSerializer,
            instruments_api.provisions_by_keys,
            lambda row: instruments_api.provision_key(row.instrument.slug, row.eid),
        ),
        "citation": SyncedEntity(
            instrument_models.Citation,
            viewset_queryset(instruments_api.CitationViewSet),
            instruments_api.CitationSerializer,
            _by_field("key"),
            lambda row: row.key,
        ),
        "theme": SyncedEntity(
            recommendation_models.Theme,
            viewset_queryset(recommendations_api.ThemeViewSet),
            recommendation_serializers.ThemeSerializer,
            _by_field("slug"),
            lambda row: row.slug,
        ),
        "recommendation": SyncedEntity(
            recommendation_models.Recommendation,
            lambda request: recommendations_api.recommendations_for_api(),
            recommendation_serializers.RecommendationSerializer,
            _by_field("code"),
            lambda row: row.code,
            recommendations_api_lists.recommendation_representations,
        ),
        "concern": SyncedEntity(
            recommendation_models.Concern,
            lambda request: recommendations_api.concerns_for_api(),
            recommendation_serializers.ConcernSerializer,
            _by_field("code"),
            lambda row: row.code,
        ),
        "assessment": SyncedEntity(
            recommendation_models.StatusAssessment,
            lambda request: recommendations_api.assessments_visible_to(request.user),
            recommendation_serializers.AssessmentSerializer,
            _by_field("key"),
            lambda row: str(row.key),
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


def committed_changes(after: tuple[int, int], limit: int) -> list[Change]:
    """Changes past `after` whose transactions, and all before them, have finished."""
    return list(
        Change.objects.raw(
            """
            SELECT * FROM tracker_change
            WHERE (txid, id) > (%s, %s)
              AND txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
            ORDER BY txid, id
            LIMIT %s
            """,
            [after[0], after[1], limit],
        )
    )


def render(changes: list[Change], request: Request) -> list[dict[str, Any]]:
    """The feed entries, with each entity's current representation as this client may see it."""
    entities = synced_entities()
    keys_by_entity: dict[str, set[str]] = defaultdict(set)
    for change in changes:
        keys_by_entity[change.entity].add(change.key)
    readable: set[str] = set()
    representations: dict[tuple[str, str], Any] = {}
    context = {"request": request}
    for name, keys in keys_by_entity.items():
        entity = entities.get(name)
        if entity is None:
            continue
        meta = entity.model._meta
        if not can_view(request.user, meta.app_label, meta.model_name or ""):
            continue
        readable.add(name)
        rows = entity.by_keys(entity.queryset(request), sorted(keys))
        # One serializer for all the rows of a type: building a serializer's
        # fields (choices, translated labels) per row was most of a page's time.
        for key, data in entity.represent(rows, context):
            representations[(name, key)] = data
    return [
        {
            "cursor": encode_cursor(change.txid, change.pk),
            "entity": change.entity,
            "key": change.key,
            "operation": change.operation,
            "version": change.version,
            "changed_at": change.changed_at,
            "data": None
            if change.operation == Change.Operation.DELETE
            else representations.get((change.entity, change.key)),
        }
        for change in changes
        if change.entity in readable
    ]


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
        changes = committed_changes(position, limit)
        last = changes[-1] if changes else None
        return Response(
            {
                "results": render(changes, request),
                "next": encode_cursor(last.txid, last.pk) if last else after,
                "has_more": len(changes) == limit,
            }
        )
