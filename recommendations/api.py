"""Endpoints for recommendations, concerns, themes and status assessments."""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from instruments.api import PROVISION_KEY_SEPARATOR
from recommendations import services
from recommendations.api_lists import RecommendationRowsListMixin, recorded_assessment_document
from recommendations.choices import RecommendationKind, ReviewState, StateResponse, Status
from recommendations.models import (
    Concern,
    CurrentAssessment,
    ProvisionLink,
    Recommendation,
    StatusAssessment,
    Theme,
)
from recommendations.serializers import (
    ASSESSMENT_BATCH_MAX,
    AssessmentBatchSerializer,
    AssessmentCreateSerializer,
    AssessmentSerializer,
    ConcernSerializer,
    RecommendationSerializer,
    ThemeSerializer,
    readable_visibilities,
)
from tracker.api import (
    IF_MATCH,
    ApiViewSet,
    ClientErrorResponseSerializer,
    ReadOnlyApiViewSet,
    call_service,
    upsert_responses,
)
from tracker.filters import FilterSet
from tracker.idempotency import run_idempotently
from tracker.roles import can_review
from tracker.transactions import all_or_nothing

LINKS = Prefetch(
    "provision_links",
    ProvisionLink.objects.select_related("instrument", "provision").order_by("key"),
)


def recommendations_for_api() -> QuerySet[Recommendation]:
    """Recommendations with everything their representation shows, in a fixed number of queries."""
    return Recommendation.objects.select_related(
        "issued_by", "source", "reiterates"
    ).prefetch_related(
        "addressed_to",
        "themes",
        "sdg_targets",
        Prefetch(
            "current_assessments",
            CurrentAssessment.objects.select_related("assessor", "assessment").order_by(
                "assessor__slug"
            ),
        ),
        LINKS,
    )


def concerns_for_api() -> QuerySet[Concern]:
    return Concern.objects.select_related("raised_by", "source").prefetch_related(
        "themes", "answered_by", LINKS
    )


def assessments_for_api() -> QuerySet[StatusAssessment]:
    return StatusAssessment.objects.select_related(
        "recommendation", "assessor", "source", "corrects"
    )


def assessments_visible_to(user: Any) -> QuerySet[StatusAssessment]:
    """Published assessments, plus, for members, their own organisation's drafts and submissions.

    Reviewers see every assessment: they are the ones who publish them.
    """
    return assessments_in_scope(assessments_for_api(), *assessment_scope(user))


def assessment_scope(user: Any) -> tuple[Any, ...]:
    """The values that decide which assessments `user` sees, for `assessments_in_scope`.

    Nothing for a reviewer; the published state for anyone else, and a
    member's organisation after it. Values, not a queryset, so that a query
    compiled once (`ArrayQuery`) can take them as its parameters.
    """
    if can_review(user):
        return ()
    organisation = getattr(user, "organisation_id", None)
    if organisation is None:
        return (ReviewState.PUBLISHED.value,)
    return (ReviewState.PUBLISHED.value, organisation)


def assessments_in_scope(
    queryset: QuerySet[StatusAssessment], *scope: Any
) -> QuerySet[StatusAssessment]:
    """Those of `queryset` a client of `scope` (`assessment_scope`) sees."""
    if not scope:
        return queryset
    published, *organisation = scope
    visible = Q(review_state=published)
    if organisation:
        visible |= Q(assessor_id=organisation[0])
    return queryset.filter(visible)


class ThemeViewSet(ReadOnlyApiViewSet):
    """Subjects grouping recommendations and concerns, by `slug`.

    Editors replace one with `PUT` by key (creating it when new); an existing
    record needs `If-Match` with its current ETag.
    """

    queryset = Theme.objects.order_by("slug")
    serializer_class = ThemeSerializer
    lookup_field = "slug"
    search_fields = ["name", "slug"]
    ordering_fields = ["slug", "name"]
    ordering = ["slug"]

    @extend_schema(parameters=[IF_MATCH], responses=upsert_responses(ThemeSerializer))
    def update(self, request: Request, slug: str) -> Response:
        return self.upsert_by_key(request, slug, services.theme_upsert)


class UtcDateTimeField(django_filters.fields.IsoDateTimeField):  # type: ignore[misc]
    """An ISO 8601 date-time, turned to UTC before it reaches the database.

    ISO 8601 allows offsets up to ±23:59, PostgreSQL only to ±15:59: passed
    as given, `+22:12` was a server error (found by schemathesis).
    """

    def to_python(self, value: Any) -> datetime.datetime | None:
        parsed: datetime.datetime | None = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(datetime.UTC)
        except OverflowError:  # a moment before year 1 or after 9999 in UTC
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):  # type: ignore[misc]
    field_class = UtcDateTimeField


class RecommendationFilter(FilterSet):
    status = django_filters.MultipleChoiceFilter(
        field_name="headline_status", choices=Status.choices, label="Headline status (repeatable)."
    )
    issued_by = django_filters.CharFilter(field_name="issued_by__slug")
    instrument = django_filters.CharFilter(
        field_name="provision_links__instrument__slug", distinct=True
    )
    provision = django_filters.CharFilter(
        method="filter_provision", label="Provision key, <instrument slug>:<eid>."
    )
    theme = django_filters.CharFilter(field_name="themes__slug", distinct=True)
    assessor = django_filters.CharFilter(
        field_name="current_assessments__assessor__slug",
        distinct=True,
        label="Organisation (slug) with a current published assessment.",
    )
    country = django_filters.CharFilter()
    kind = django_filters.ChoiceFilter(choices=RecommendationKind.choices)
    state_response = django_filters.ChoiceFilter(choices=StateResponse.choices)
    disputed = django_filters.BooleanFilter()
    due_after = django_filters.DateFilter(field_name="follow_up_due", lookup_expr="gte")
    due_before = django_filters.DateFilter(field_name="follow_up_due", lookup_expr="lte")
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label="Past the follow-up date and not fully dealt with."
    )
    updated_after = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gt")

    class Meta:
        model = Recommendation
        fields: list[str] = []

    def filter_provision(
        self, queryset: QuerySet[Recommendation], name: str, value: str
    ) -> QuerySet[Recommendation]:
        instrument_slug, separator, eid = value.partition(PROVISION_KEY_SEPARATOR)
        if not separator:
            raise serializers.ValidationError(
                {"provision": [_("Give a provision key: <instrument slug>:<eid>.")]}
            )
        return queryset.filter(
            provision_links__instrument__slug=instrument_slug, provision_links__provision__eid=eid
        ).distinct()

    def filter_overdue(
        self, queryset: QuerySet[Recommendation], name: str, value: bool | None
    ) -> QuerySet[Recommendation]:
        if value is None:
            return queryset
        overdue = Recommendation.objects.overdue(timezone.localdate()).values("pk")
        return queryset.filter(pk__in=overdue) if value else queryset.exclude(pk__in=overdue)


# `provision` is checked by the filter's own method, which drf-standardized-errors cannot see.
@extend_validation_errors(["invalid"], field_name="provision", actions=["list"])
class RecommendationViewSet(RecommendationRowsListMixin, ReadOnlyApiViewSet):
    """Recommendations by `code`, with each assessor's current status and the derived headline."""

    queryset = recommendations_for_api().order_by("code")
    serializer_class = RecommendationSerializer
    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z0-9][A-Za-z0-9._-]*"
    filterset_class = RecommendationFilter
    search_fields = ["code", "text"]
    ordering_fields = ["code", "updated_at"]
    ordering = ["code"]


class ConcernFilter(FilterSet):
    raised_by = django_filters.CharFilter(field_name="raised_by__slug")
    theme = django_filters.CharFilter(field_name="themes__slug", distinct=True)
    instrument = django_filters.CharFilter(
        field_name="provision_links__instrument__slug", distinct=True
    )
    country = django_filters.CharFilter()
    updated_after = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gt")

    class Meta:
        model = Concern
        fields: list[str] = []


class ConcernViewSet(ReadOnlyApiViewSet):
    """Problems organisations raised, by `code`, with provisions and answering recommendations."""

    queryset = concerns_for_api().order_by("code")
    serializer_class = ConcernSerializer
    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z0-9][A-Za-z0-9._-]*"
    filterset_class = ConcernFilter
    search_fields = ["code", "text"]
    ordering_fields = ["code", "updated_at"]
    ordering = ["code"]


class AssessmentFilter(FilterSet):
    recommendation = django_filters.CharFilter(field_name="recommendation__code")
    assessor = django_filters.CharFilter(field_name="assessor__slug")
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    review_state = django_filters.ChoiceFilter(choices=ReviewState.choices)
    since_after = django_filters.DateFilter(field_name="status_since", lookup_expr="gte")
    since_before = django_filters.DateFilter(field_name="status_since", lookup_expr="lte")

    class Meta:
        model = StatusAssessment
        fields: list[str] = []


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "Any unique string (a UUID). A retry with the same key and body gets the first "
        "response; the same key with another body is a 422; while the first is running, 409."
    ),
)


# A bad Idempotency-Key is a 400 naming the header, like a bad field.
@extend_validation_errors(["invalid"], field_name="Idempotency-Key", actions=["create", "batch"])
# What drf-standardized-errors does not list of a batch: a missing list, and one too long.
@extend_validation_errors(["required"], field_name="assessments", actions=["batch"])
@extend_validation_errors(
    ["max_length"], field_name="assessments.non_field_errors", actions=["batch"]
)
class AssessmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Status assessments by `key` (a UUID). Clients record their organisation's with POST.

    Evidence whose visibility the client may not read comes back null with
    `evidence_withheld: true`.
    """

    queryset = assessments_for_api().order_by("pk")
    serializer_class = AssessmentSerializer
    lookup_field = "key"
    filterset_class = AssessmentFilter
    search_fields = ["recommendation__code"]
    ordering_fields = ["recorded_at", "status_since"]
    ordering = ["pk"]
    write_scope = "assessments"

    def get_queryset(self) -> QuerySet[StatusAssessment]:
        return assessments_visible_to(self.request.user).order_by("pk")

    @extend_schema(
        request=AssessmentCreateSerializer,
        responses={
            201: AssessmentSerializer,
            409: ClientErrorResponseSerializer,
            422: ClientErrorResponseSerializer,
        },
        parameters=[IDEMPOTENCY_KEY],
    )
    def create(self, request: Request) -> Response:
        return run_idempotently(request, lambda: self._record(request))

    @extend_schema(
        request=AssessmentBatchSerializer,
        responses={
            201: inline_serializer(
                "AssessmentBatchRecorded", {"assessments": AssessmentSerializer(many=True)}
            ),
            409: ClientErrorResponseSerializer,
            422: ClientErrorResponseSerializer,
        },
        parameters=[IDEMPOTENCY_KEY],
        description=(
            f"Record up to {ASSESSMENT_BATCH_MAX} assessments in one request: all of them, "
            "or none. Each is recorded as a POST of one would be, and the answer lists them "
            "in the order sent. An error in any names it by its place in the list "
            "(`assessments.3.status`), and nothing is recorded."
        ),
    )
    @action(detail=False, methods=["post"], url_path="batch")
    def batch(self, request: Request) -> Response:
        """Several assessments in one request, all or none (the schema's description)."""
        return run_idempotently(request, lambda: self._record_batch(request))

    def _record(self, request: Request) -> Response:
        context = self.get_serializer_context()
        incoming = AssessmentCreateSerializer(data=request.data, context=context)
        incoming.is_valid(raise_exception=True)
        assessment = self._assess(request, incoming.validated_data)
        # The service returns the row it wrote with the records it was given
        # attached, everything the representation shows: no read back.
        body = recorded_assessment_document(assessment, readable_visibilities(context))
        return Response(body, status=status.HTTP_201_CREATED)

    def _record_batch(self, request: Request) -> Response:
        context = self.get_serializer_context()
        incoming = AssessmentBatchSerializer(data=request.data, context=context)
        incoming.is_valid(raise_exception=True)
        items = incoming.validated_data["assessments"]
        readable = readable_visibilities(context)
        documents = []
        # One transaction for the batch; inside an idempotent write's it is
        # that one, and its services take no savepoint either way.
        with all_or_nothing():
            for place, data in enumerate(items):
                try:
                    assessment = self._assess(request, data)
                except serializers.ValidationError as error:
                    # Named by its place, as the serializer names an item's field.
                    errors: list[Any] = [{} for _item in items]
                    errors[place] = error.detail
                    raise serializers.ValidationError({"assessments": errors}) from None
                documents.append(recorded_assessment_document(assessment, readable))
        return Response({"assessments": documents}, status=status.HTTP_201_CREATED)

    def _assess(self, request: Request, validated: dict[str, Any]) -> StatusAssessment:
        """Record one validated assessment through the service; a refusal is a 400."""
        data = dict(validated)
        assessor = data.pop("assessor", None) or getattr(request.user, "organisation", None)
        if assessor is None:
            raise serializers.ValidationError(
                {"assessor": [_("Name the assessing organisation; your account has none.")]}
            )
        submit = data.pop("submit")
        return call_service(
            services.assessment_record,
            assessor=assessor,
            recorded_by=request.user,
            submit=submit,
            **data,
        )
