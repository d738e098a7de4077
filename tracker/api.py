"""What every endpoint of the REST API shares, and the organisations endpoint.

Shared: a JSON parser that refuses oversized bodies, cursor pagination,
permissions (roles from `tracker.roles`, narrowed by an API key's scopes),
strict serializers that refuse unknown keys, ETags with `If-None-Match` on
reads and `If-Match` on updates, and the translation of a service's
`ValidationError` into the API's error shape.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model
from django.utils.translation import gettext as _
from django_countries import countries
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from drf_standardized_errors.openapi_serializers import ClientErrorEnum
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import exceptions, mixins, permissions, serializers, status
from rest_framework.exceptions import ErrorDetail
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from tracker import services
from tracker.api_schema import UNKNOWN_FIELD_CODE
from tracker.choices import OrganisationKind
from tracker.filters import FilterSet
from tracker.fixed_reads import RecordByColumn
from tracker.models import ApiKey, Organisation
from tracker.roles import can_view
from tracker.statements import prepared_reads
from tracker.transactions import all_or_nothing

T = TypeVar("T")


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = "Send If-Match with the ETag you last read; updates without it are refused."
    default_code = "precondition_required"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The record changed since you read it: read it again and reapply your change."
    default_code = "precondition_failed"


class ApiPermission(permissions.BasePermission):
    """Reads need the role's view permission; an API key must carry the scope for the verb.

    Writes are decided by the service each view calls (`may_act_for`,
    `can_curate`), so the rule lives in one place; here an API key is only
    kept within its scopes: `write_assessments` for assessments, nothing else.
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        api_key = request.auth if isinstance(request.auth, ApiKey) else None
        if request.method in permissions.SAFE_METHODS:
            if api_key is not None and not api_key.may_read:
                return False
            model: type[Model] = getattr(view, "read_permission_model", None) or (
                view.queryset.model  # type: ignore[attr-defined]
            )
            return can_view(user, model._meta.app_label, model._meta.model_name or "")
        if api_key is None:
            return True
        write_scope = getattr(view, "write_scope", None)
        return write_scope == "assessments" and api_key.may_write_assessments


class StrictSerializerMixin:
    """Refuse keys the serializer does not know, rather than silently ignoring them."""

    initial_data: Any
    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        unknown: dict[str, Any] = {}
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = {
                name: [ErrorDetail(_("Unknown or read-only field."), code=UNKNOWN_FIELD_CODE)]
                for name in set(data) - writable
            }
        try:
            value = super().to_internal_value(data)  # type: ignore[misc]
        except serializers.ValidationError as error:
            # Report unknown keys together with the other fields' errors.
            if unknown and isinstance(error.detail, dict):
                merged: dict[Any, Any] = {**error.detail, **unknown}
                raise serializers.ValidationError(merged) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class FieldsOnceMixin:
    """A serializer whose fields are built once per class; each instance binds copies of them.

    DRF builds a serializer's fields anew for every instance, by deep copy
    (declared fields) or from the model (`ModelSerializer`): 0.23 to 0.29 ms
    apiece for the two serializers of an assessment's POST, which makes
    each field again from its arguments. Here each instance gets a shallow
    copy of a field that was never bound, which binding to the instance sets
    apart (`field_name`, `parent`, `source_attrs`); what the copies share
    (choices, querysets, validators) is only read, and DRF's own deep copy
    shares validators too. A field that holds a field or a serializer (a
    list's `child`, a many relation's `child_relation`, a nested
    serializer) bound to itself as it was made, so it is deep-copied as DRF
    does, making one of those for the copy.
    """

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        cls = type(self)
        prototypes = cls.__dict__.get("_field_prototypes")
        if prototypes is None:
            built = super().get_fields()  # type: ignore[misc]
            prototypes = {name: (field, _holds_fields(field)) for name, field in built.items()}
            cls._field_prototypes = prototypes  # type: ignore[attr-defined]
        return {
            name: copy.deepcopy(field) if deep else copy.copy(field)
            for name, (field, deep) in prototypes.items()
        }


def _holds_fields(field: serializers.Field[Any, Any, Any, Any]) -> bool:
    return isinstance(field, serializers.BaseSerializer) or any(
        isinstance(value, serializers.Field) for value in vars(field).values()
    )


@extend_schema_field(OpenApiTypes.STR)
class CountryCodeField(serializers.ChoiceField):
    """An ISO 3166 alpha-2 code, or empty."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_blank", True)
        super().__init__(choices=[code for code, _name in countries], **kwargs)

    def to_representation(self, value: Any) -> str:
        return str(value or "")


# A serializer context's records read ahead: {model: {key: record}}, every record
# of the model among the keys asked for. A KeyRelatedField of that model takes
# its record from there, and a key missing there is unknown.
KNOWN_RECORDS = "known_records"


class KeyRelatedField(serializers.SlugRelatedField[Any]):
    """A related record named by its key; a key no record can have is simply unknown.

    PostgreSQL refuses a null character in a query parameter; without this
    check such a key would be a server error instead of "does not exist".
    With `fixed_read`, for a text key of a queryset of every record of its
    model, the record is read by a fixed statement (`tracker.fixed_reads`)
    where the database allows one, rather than by a query compiled anew.
    """

    def __init__(self, *, fixed_read: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.key_model: type[Model] | None = getattr(kwargs.get("queryset"), "model", None)
        self.fixed_read: RecordByColumn[Any] | None = None
        if fixed_read:
            queryset = kwargs["queryset"]
            if queryset.query.where or queryset.query.select_related:
                raise ValueError("a fixed read reads every record of its model, unfiltered")
            self.fixed_read = RecordByColumn(queryset.model, self.slug_field)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        # Records a caller read at once for many items (KNOWN_RECORDS), by key.
        known = self.context.get(KNOWN_RECORDS, {}).get(self.key_model)
        if known is not None and isinstance(data, str):
            if data not in known:
                self.fail("does_not_exist", slug_name=self.slug_field, value=data)
            return known[data]
        if self.fixed_read is not None and isinstance(data, str) and self.fixed_read.statement():
            record = self.fixed_read.get(data)
            if record is None:
                self.fail("does_not_exist", slug_name=self.slug_field, value=data)
            return record
        return super().to_internal_value(data)


def representation_etag(data: Any) -> str:
    """A strong ETag of a representation: the same JSON gives the same tag anywhere."""
    encoded = json.dumps(data, sort_keys=True, default=str, separators=(",", ":")).encode()
    return '"' + hashlib.sha256(encoded).hexdigest()[:32] + '"'


def _tags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def call_service(service: Callable[..., T], **kwargs: Any) -> T:
    """Run a service, turning its ValidationError into the API's 400 naming the fields."""
    try:
        return service(**kwargs)
    except DjangoValidationError as error:
        detail = (
            error.message_dict
            if hasattr(error, "error_dict")
            else {"non_field_errors": error.messages}
        )
        raise serializers.ValidationError(detail) from None


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "The ETag last read; required to change an existing record (428 without, 412 if stale)."
    ),
)


class ClientErrorSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


# The error shape of the 4xx answers drf-standardized-errors does not document
# itself (412, 428, 409, 422); inline because `errors` is a Serializer attribute.
ClientErrorResponseSerializer = inline_serializer(
    "ClientErrorResponse",
    {
        "type": serializers.ChoiceField(choices=ClientErrorEnum.choices),
        "errors": ClientErrorSerializer(many=True),
    },
)


def upsert_responses(serializer: type[serializers.BaseSerializer[Any]]) -> dict[int, Any]:
    """The answers of a `PUT` by key, for `extend_schema`: created, replaced, or precondition."""
    return {
        200: serializer,
        201: serializer,
        412: ClientErrorResponseSerializer,
        428: ClientErrorResponseSerializer,
    }


# Every read runs the search filter, which refuses a null character in `search`.
@extend_validation_errors(["null_characters_not_allowed"], field_name="search", methods=["get"])
class ApiViewSet(GenericViewSet):  # type: ignore[type-arg]
    """Read endpoints: list and retrieve by key, with ETags and conditional GET."""

    permission_classes = [ApiPermission]
    write_scope: ClassVar[str | None] = None

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # A client syncing or writing sends the same few requests over and
        # over: their reads (the key, the user's groups, the page) are
        # prepared once per connection, and their writes stay as they were.
        with prepared_reads():
            return super().dispatch(request, *args, **kwargs)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if (
            request.method in ("GET", "HEAD")
            and response.status_code == 200
            and response.data is not None
        ):
            # A response may know a cheaper way to the same tag (PlainJSONResponse).
            etag = getattr(response, "etag_of_data", representation_etag)(response.data)
            response["ETag"] = etag
            if etag in _tags(request.headers.get("If-None-Match", "")):
                not_modified = Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
                return super().finalize_response(request, not_modified, *args, **kwargs)
        return response

    def check_if_match(self, request: Request, instance: Model) -> None:
        """428 without If-Match, 412 when it is not the current representation's ETag."""
        header = request.headers.get("If-Match")
        if not header:
            raise PreconditionRequired()
        current = representation_etag(self.get_serializer(instance).data)
        if header.strip() != "*" and current not in _tags(header):
            raise PreconditionFailed()

    def upsert_by_key(
        self, request: Request, key: str, upsert: Callable[..., tuple[Model, bool]]
    ) -> Response:
        """`PUT` by natural key: create through `upsert` (201) or replace (200, needs If-Match).

        `upsert` is the service, called as `upsert(user=, <lookup_field>=key,
        fields=)`. The row stays locked from the If-Match check to the write, so
        a concurrent update cannot slip in between and be overwritten.
        """
        with all_or_nothing():
            existing = (
                self.get_queryset()
                .select_for_update(of=("self",))
                .filter(**{self.lookup_field: key})
                .first()
            )
            if existing is not None:
                self.check_if_match(request, existing)
            elif request.headers.get("If-Match"):
                raise PreconditionFailed(_("There is no record with this key to match."))
            serializer = self.get_serializer(existing, data=request.data)
            serializer.is_valid(raise_exception=True)
            record, created = call_service(
                upsert,
                user=request.user,
                **{self.lookup_field: key},
                fields=dict(serializer.validated_data),
            )
        # Read back as a GET would, so the ETag sent here is the one a GET sends.
        body = self.get_serializer(self.get_queryset().get(pk=record.pk)).data
        return Response(
            body,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            headers={"ETag": representation_etag(body)},
        )


class ReadOnlyApiViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    pass


class ApiKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "tracker.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "A partner API key."}


class StaffSessionScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "tracker.authentication.StaffSessionAuthentication"
    name = "staffSession"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


# Organisations -------------------------------------------------------------


class OrganisationSerializer(StrictSerializerMixin, serializers.ModelSerializer[Organisation]):
    parent: serializers.SlugRelatedField[Any] = KeyRelatedField(  # type: ignore[assignment]
        slug_field="slug", queryset=Organisation.objects.all(), allow_null=True, required=False
    )
    country = CountryCodeField(required=False)
    kind = serializers.ChoiceField(choices=OrganisationKind.choices)

    class Meta:
        model = Organisation
        fields = ["slug", "name", "acronym", "kind", "parent", "country", "description", "website"]
        read_only_fields = ["slug"]


class OrganisationFilter(FilterSet):
    kind = django_filters.ChoiceFilter(choices=OrganisationKind.choices)
    country = django_filters.CharFilter()
    parent = django_filters.CharFilter(field_name="parent__slug")

    class Meta:
        model = Organisation
        fields = ["kind", "country", "parent"]


class OrganisationViewSet(ReadOnlyApiViewSet):
    """Organisations that issue, receive, assess or fund recommendations, by `slug`.

    Editors replace one with `PUT` by key (creating it when new); an existing
    record needs `If-Match` with its current ETag.
    """

    queryset = Organisation.objects.select_related("parent").order_by("slug")
    serializer_class = OrganisationSerializer
    lookup_field = "slug"
    filterset_class = OrganisationFilter
    search_fields = ["name", "acronym", "slug"]
    ordering_fields = ["slug", "name"]
    ordering = ["slug"]

    @extend_schema(parameters=[IF_MATCH], responses=upsert_responses(OrganisationSerializer))
    def update(self, request: Request, slug: str) -> Response:
        return self.upsert_by_key(request, slug, services.organisation_upsert)
