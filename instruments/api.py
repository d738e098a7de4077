"""Read endpoints for instruments, provisions, sources and citations, addressed by key."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch, Q, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from instruments import services
from instruments.choices import InstrumentKind, InstrumentState, Jurisdiction, SourceKind
from instruments.models import (
    CITATION_TARGETS,
    Citation,
    Instrument,
    InstrumentRelation,
    Provision,
    Source,
    TreatyParticipation,
)
from tracker.api import (
    IF_MATCH,
    CountryCodeField,
    KeyRelatedField,
    ReadOnlyApiViewSet,
    StrictSerializerMixin,
    upsert_responses,
)
from tracker.filters import FilterSet
from tracker.models import Organisation

# Provisions are addressed as "<instrument slug>:<eid>": neither part contains a colon.
PROVISION_KEY_SEPARATOR = ":"
PROVISION_KEY_PATTERN = r"[-a-zA-Z0-9_]+:[a-z0-9_-]+"


def provision_key(instrument_slug: str, eid: str) -> str:
    return f"{instrument_slug}{PROVISION_KEY_SEPARATOR}{eid}"


def provisions_by_keys(queryset: QuerySet[Provision], keys: list[str]) -> QuerySet[Provision]:
    """Provisions among `queryset` with any of the given keys, in one query."""
    condition = Q(pk__in=[])
    for key in keys:
        instrument_slug, _separator, eid = key.partition(PROVISION_KEY_SEPARATOR)
        condition |= Q(instrument__slug=instrument_slug, eid=eid)
    return queryset.filter(condition)


class SourceSerializer(serializers.ModelSerializer[Source]):
    publisher: serializers.SlugRelatedField[Any] = KeyRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )

    class Meta:
        model = Source
        fields = [
            "key",
            "title",
            "kind",
            "published_on",
            "published_on_precision",
            "publisher",
            "author",
            "language",
            "url",
            "description",
        ]


class ParticipationSerializer(serializers.ModelSerializer[TreatyParticipation]):
    country = CountryCodeField(read_only=True)

    class Meta:
        model = TreatyParticipation
        fields = ["country", "status", "date", "date_precision", "note"]


class RelationOutSerializer(serializers.ModelSerializer[InstrumentRelation]):
    target: serializers.SlugRelatedField[Any] = KeyRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = InstrumentRelation
        fields = ["kind", "target", "note"]


class RelationInSerializer(serializers.ModelSerializer[InstrumentRelation]):
    subject: serializers.SlugRelatedField[Any] = KeyRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = InstrumentRelation
        fields = ["subject", "kind", "note"]


class InstrumentSerializer(StrictSerializerMixin, serializers.ModelSerializer[Instrument]):
    country = CountryCodeField(required=False)
    adopted_by: serializers.SlugRelatedField[Any] = KeyRelatedField(
        slug_field="slug", queryset=Organisation.objects.all(), allow_null=True, required=False
    )
    participations = ParticipationSerializer(many=True, read_only=True)
    relations = RelationOutSerializer(source="relations_out", many=True, read_only=True)
    related_from = RelationInSerializer(source="relations_in", many=True, read_only=True)

    class Meta:
        model = Instrument
        # The instrument's own fields are those a keyed PUT may write.
        fields = [
            "slug",
            *services.INSTRUMENT_WRITABLE_FIELDS,
            "participations",
            "relations",
            "related_from",
        ]
        read_only_fields = ["slug"]


class ProvisionSerializer(serializers.ModelSerializer[Provision]):
    key = serializers.SerializerMethodField()
    instrument: serializers.SlugRelatedField[Any] = KeyRelatedField(
        slug_field="slug", read_only=True
    )
    parent: serializers.SlugRelatedField[Any] = KeyRelatedField(  # type: ignore[assignment]
        slug_field="eid", read_only=True, allow_null=True
    )

    class Meta:
        model = Provision
        fields = ["key", "instrument", "eid", "parent", "label", "heading", "text"]

    def get_key(self, provision: Provision) -> str:
        return provision_key(provision.instrument.slug, provision.eid)


class CitationSerializer(serializers.ModelSerializer[Citation]):
    source: serializers.SlugRelatedField[Any] = KeyRelatedField(  # type: ignore[assignment]
        slug_field="key", read_only=True
    )
    supports = serializers.SerializerMethodField()

    class Meta:
        model = Citation
        fields = ["key", "source", "quote", "claim_field", "claim_value", "note", "supports"]

    def get_supports(self, citation: Citation) -> dict[str, str]:
        """The supported record as {"type", "key"}; the key is its natural key joined by ":"."""
        for name in CITATION_TARGETS:
            target: Any = getattr(citation, name)
            if target is not None:
                return {"type": name, "key": PROVISION_KEY_SEPARATOR.join(target.natural_key())}
        return {}


class SourceFilter(FilterSet):
    kind = django_filters.ChoiceFilter(choices=SourceKind.choices)
    publisher = django_filters.CharFilter(field_name="publisher__slug")
    published_after = django_filters.DateFilter(field_name="published_on", lookup_expr="gte")
    published_before = django_filters.DateFilter(field_name="published_on", lookup_expr="lte")

    class Meta:
        model = Source
        fields = ["kind", "publisher", "language"]


class SourceViewSet(ReadOnlyApiViewSet):
    """Documents that facts come from, by `key`."""

    queryset = Source.objects.select_related("publisher").order_by("key")
    serializer_class = SourceSerializer
    lookup_field = "key"
    filterset_class = SourceFilter
    search_fields = ["title", "key", "author"]
    ordering_fields = ["key"]
    ordering = ["key"]


class InstrumentFilter(FilterSet):
    kind = django_filters.ChoiceFilter(choices=InstrumentKind.choices)
    jurisdiction = django_filters.ChoiceFilter(choices=Jurisdiction.choices)
    state = django_filters.ChoiceFilter(choices=InstrumentState.choices)
    country = django_filters.CharFilter()
    party = django_filters.CharFilter(
        field_name="participations__country",
        distinct=True,
        label="Treaties the given state (ISO code) signed, ratified or acceded to.",
    )

    class Meta:
        model = Instrument
        fields = ["kind", "jurisdiction", "state", "country", "party"]


class InstrumentViewSet(ReadOnlyApiViewSet):
    """Laws, drafts, treaties and commitments by `slug`, with treaty acts and relations.

    Editors replace an instrument's own fields with `PUT` by key (creating it
    when new); an existing record needs `If-Match` with its current ETag.
    Treaty acts and relations are read-only here.
    """

    queryset = (
        Instrument.objects.select_related("adopted_by")
        .prefetch_related(
            "participations",
            Prefetch("relations_out", InstrumentRelation.objects.select_related("target")),
            Prefetch("relations_in", InstrumentRelation.objects.select_related("subject")),
        )
        .order_by("slug")
    )
    serializer_class = InstrumentSerializer
    lookup_field = "slug"
    filterset_class = InstrumentFilter
    search_fields = ["title", "short_title", "slug"]
    ordering_fields = ["slug", "title"]
    ordering = ["slug"]

    @extend_schema(parameters=[IF_MATCH], responses=upsert_responses(InstrumentSerializer))
    def update(self, request: Request, slug: str) -> Response:
        return self.upsert_by_key(request, slug, services.instrument_upsert)


class ProvisionFilter(FilterSet):
    instrument = django_filters.CharFilter(field_name="instrument__slug")

    class Meta:
        model = Provision
        fields = ["instrument"]


class ProvisionViewSet(ReadOnlyApiViewSet):
    """Articles and their parts, by `<instrument slug>:<eid>` (`law-on-migration:art_14`)."""

    queryset = Provision.objects.select_related("instrument", "parent").order_by("pk")
    serializer_class = ProvisionSerializer
    lookup_field = "key"
    lookup_value_regex = PROVISION_KEY_PATTERN
    filterset_class = ProvisionFilter
    search_fields = ["label", "heading", "text", "eid"]
    ordering_fields = ["pk"]
    ordering = ["pk"]

    def get_object(self) -> Provision:
        from django.shortcuts import get_object_or_404

        queryset = provisions_by_keys(self.get_queryset(), [self.kwargs["key"]])
        provision = get_object_or_404(queryset)
        self.check_object_permissions(self.request, provision)
        return provision


class CitationFilter(FilterSet):
    source = django_filters.CharFilter(field_name="source__key")
    instrument = django_filters.CharFilter(field_name="instrument__slug")
    recommendation = django_filters.CharFilter(field_name="recommendation__code")

    class Meta:
        model = Citation
        fields = ["source", "instrument", "recommendation", "claim_field"]


class CitationViewSet(ReadOnlyApiViewSet):
    """Quotes from sources supporting one record each, by `key`."""

    queryset = Citation.objects.select_related(
        "source",
        "organisation",
        "described_source",
        "instrument",
        "instrument_relation__subject",
        "instrument_relation__target",
        "treaty_participation__instrument",
        "provision__instrument",
        "theme",
        "recommendation",
        "concern",
        "provision_link",
    ).order_by("key")
    serializer_class = CitationSerializer
    lookup_field = "key"
    filterset_class = CitationFilter
    search_fields = ["quote", "key"]
    ordering_fields = ["key"]
    ordering = ["key"]
