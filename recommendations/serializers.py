"""API representations of recommendations, concerns, themes and assessments.

Related records appear by their keys (organisation slugs, instrument slugs,
provision keys `<instrument>:<eid>`, assessment UUIDs). Evidence of an
assessment is withheld (null, with `evidence_withheld`) from a client that
may not read its visibility, as `tracker.roles.can_read_evidence` decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from instruments.api import provision_key
from instruments.models import Source
from recommendations.choices import ASSESSABLE_STATUSES, Visibility
from recommendations.models import (
    Concern,
    CurrentAssessment,
    ProvisionLink,
    Recommendation,
    StatusAssessment,
    Theme,
)
from tracker.api import (
    KNOWN_RECORDS,
    CountryCodeField,
    FieldsOnceMixin,
    KeyRelatedField,
    StrictSerializerMixin,
)
from tracker.models import Organisation
from tracker.roles import can_read_evidence


def readable_visibilities(context: Mapping[str, Any]) -> set[str]:
    """The evidence visibilities the requesting client may read, asked once per request."""
    cached = context.get("readable_visibilities")
    if cached is None:
        request = context.get("request")
        user = getattr(request, "user", None)
        cached = {
            visibility
            for visibility in Visibility.values
            if user is not None and can_read_evidence(user, visibility)
        }
        if isinstance(context, dict):
            context["readable_visibilities"] = cached
    return set(cached)


class ThemeSerializer(StrictSerializerMixin, serializers.ModelSerializer[Theme]):
    class Meta:
        model = Theme
        fields = ["slug", "name", "description"]
        read_only_fields = ["slug"]


class ProvisionLinkSerializer(serializers.ModelSerializer[ProvisionLink]):
    instrument: serializers.SlugRelatedField[Any] = KeyRelatedField(
        slug_field="slug", read_only=True
    )
    provision = serializers.SerializerMethodField()

    class Meta:
        model = ProvisionLink
        fields = ["key", "relation", "instrument", "provision", "note"]

    def get_provision(self, link: ProvisionLink) -> str | None:
        """The linked provision's key, or null when the link is to the whole instrument."""
        if link.provision is None:
            return None
        return provision_key(link.instrument.slug, link.provision.eid)


class CurrentAssessmentSerializer(serializers.ModelSerializer[CurrentAssessment]):
    assessor: serializers.SlugRelatedField[Any] = KeyRelatedField(slug_field="slug", read_only=True)
    assessment: serializers.SlugRelatedField[Any] = KeyRelatedField(
        slug_field="key", read_only=True
    )

    class Meta:
        model = CurrentAssessment
        fields = ["assessor", "status", "status_since", "assessment"]


class RecommendationSerializer(serializers.ModelSerializer[Recommendation]):
    issued_by: serializers.SlugRelatedField[Any] = KeyRelatedField(
        slug_field="slug", read_only=True
    )
    source: serializers.SlugRelatedField[Any] = KeyRelatedField(  # type: ignore[assignment]
        slug_field="key", read_only=True, allow_null=True
    )
    addressed_to: serializers.SlugRelatedField[Any] = KeyRelatedField(
        slug_field="slug", many=True, read_only=True
    )
    themes: serializers.SlugRelatedField[Any] = KeyRelatedField(
        slug_field="slug", many=True, read_only=True
    )
    sdg_targets: serializers.SlugRelatedField[Any] = KeyRelatedField(
        slug_field="code", many=True, read_only=True
    )
    reiterates: serializers.SlugRelatedField[Any] = KeyRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    country = CountryCodeField(read_only=True)
    current_assessments = CurrentAssessmentSerializer(many=True, read_only=True)
    provision_links = ProvisionLinkSerializer(many=True, read_only=True)

    class Meta:
        model = Recommendation
        fields = [
            "code",
            "kind",
            "text",
            "issued_by",
            "issued_on",
            "issued_on_precision",
            "source",
            "addressed_to",
            "country",
            "themes",
            "sdg_targets",
            "follow_up_due",
            "reiterates",
            "state_response",
            "headline_status",
            "disputed",
            "current_assessments",
            "provision_links",
            "created_at",
            "updated_at",
        ]


class ConcernSerializer(serializers.ModelSerializer[Concern]):
    raised_by: serializers.SlugRelatedField[Any] = KeyRelatedField(
        slug_field="slug", read_only=True
    )
    source: serializers.SlugRelatedField[Any] = KeyRelatedField(  # type: ignore[assignment]
        slug_field="key", read_only=True, allow_null=True
    )
    themes: serializers.SlugRelatedField[Any] = KeyRelatedField(
        slug_field="slug", many=True, read_only=True
    )
    answered_by: serializers.SlugRelatedField[Any] = KeyRelatedField(
        slug_field="code", many=True, read_only=True
    )
    country = CountryCodeField(read_only=True)
    provision_links = ProvisionLinkSerializer(many=True, read_only=True)

    class Meta:
        model = Concern
        fields = [
            "code",
            "text",
            "raised_by",
            "raised_on",
            "raised_on_precision",
            "source",
            "country",
            "themes",
            "answered_by",
            "provision_links",
            "created_at",
            "updated_at",
        ]


class AssessmentSerializer(FieldsOnceMixin, serializers.ModelSerializer[StatusAssessment]):
    """An assessment as read; evidence is null when the client may not read it."""

    recommendation: serializers.SlugRelatedField[Any] = KeyRelatedField(
        slug_field="code", read_only=True
    )
    assessor: serializers.SlugRelatedField[Any] = KeyRelatedField(slug_field="slug", read_only=True)
    source: serializers.SlugRelatedField[Any] = KeyRelatedField(  # type: ignore[assignment]
        slug_field="key", read_only=True, allow_null=True
    )
    corrects: serializers.SlugRelatedField[Any] = KeyRelatedField(
        slug_field="key", read_only=True, allow_null=True
    )
    evidence = serializers.CharField(read_only=True, allow_null=True)
    evidence_url = serializers.CharField(read_only=True, allow_null=True)
    evidence_withheld = serializers.SerializerMethodField()

    class Meta:
        model = StatusAssessment
        fields = [
            "key",
            "recommendation",
            "assessor",
            "status",
            "status_since",
            "evidence",
            "evidence_url",
            "evidence_withheld",
            "visibility",
            "source",
            "corrects",
            "correction_reason",
            "review_state",
            "recorded_at",
            "submitted_at",
            "reviewed_at",
        ]

    def get_evidence_withheld(self, assessment: StatusAssessment) -> bool:
        return assessment.visibility not in readable_visibilities(self.context)

    def to_representation(self, instance: StatusAssessment) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        if data["evidence_withheld"]:
            data["evidence"] = None
            data["evidence_url"] = None
        return data


class AssessmentCreateSerializer(
    FieldsOnceMixin, StrictSerializerMixin, serializers.Serializer[Any]
):
    """What a client sends to record an assessment; the service does the rest."""

    recommendation: serializers.SlugRelatedField[Any] = KeyRelatedField(
        slug_field="code", queryset=Recommendation.objects.all(), fixed_read=True
    )
    assessor: serializers.SlugRelatedField[Any] = KeyRelatedField(
        slug_field="slug",
        queryset=Organisation.objects.all(),
        fixed_read=True,
        required=False,
        help_text="Defaults to the client's own organisation.",
    )
    status = serializers.ChoiceField(choices=[(s.value, s.label) for s in ASSESSABLE_STATUSES])
    status_since = serializers.DateField()
    evidence = serializers.CharField(max_length=20_000)
    evidence_url = serializers.URLField(required=False, allow_blank=True, default="")
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.PUBLIC)
    source: serializers.SlugRelatedField[Any] = KeyRelatedField(  # type: ignore[assignment]
        slug_field="key", queryset=Source.objects.all(), required=False, allow_null=True
    )
    corrects: serializers.SlugRelatedField[Any] = KeyRelatedField(
        slug_field="key",
        queryset=StatusAssessment.objects.all(),
        required=False,
        allow_null=True,
    )
    correction_reason = serializers.CharField(required=False, allow_blank=True, default="")
    submit = serializers.BooleanField(
        default=True, help_text="Send for review at once (the default) or keep as a draft."
    )


# The most assessments one batch may record. With long evidence, fewer may
# already pass API_MAX_BODY_BYTES, which is answered 413 first.
ASSESSMENT_BATCH_MAX = 100


class AssessmentListSerializer(serializers.ListSerializer[Any]):
    """Assessments to record, whose recommendations are read in one query, not one apiece."""

    def to_internal_value(self, data: Any) -> Any:
        context = self.context
        # A list too long is refused before any item is read.
        if (
            isinstance(context, dict)
            and isinstance(data, list)
            and len(data) <= ASSESSMENT_BATCH_MAX
        ):
            codes = {
                item["recommendation"]
                for item in data
                if isinstance(item, dict)
                and isinstance(item.get("recommendation"), str)
                and "\x00" not in item["recommendation"]
            }
            # The items' KeyRelatedFields take their records from here.
            context.setdefault(KNOWN_RECORDS, {})[Recommendation] = (
                Recommendation.objects.in_bulk(codes, field_name="code") if codes else {}
            )
        return super().to_internal_value(data)


class AssessmentBatchSerializer(StrictSerializerMixin, serializers.Serializer[Any]):
    """Several assessments a client records in one request, all of them or none."""

    assessments = AssessmentListSerializer(
        child=AssessmentCreateSerializer(), allow_empty=False, max_length=ASSESSMENT_BATCH_MAX
    )
