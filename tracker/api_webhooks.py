"""`/api/v1/webhooks/`: a partner's own webhook endpoints, listed, registered and removed."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tracker import services
from tracker.api import ApiViewSet, KeyRelatedField, StrictSerializerMixin, call_service
from tracker.models import ApiKey, Organisation, WebhookEndpoint
from tracker.roles import Role, may_act_for_any_organisation, roles_of


class WebhookPermission(permissions.BasePermission):
    """Partners (with a key carrying the write scope) and staff sessions of editors.

    Endpoint configuration is a write-side concern, so even listing needs the
    write scope: a read-only key cannot learn where events are sent.
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if isinstance(request.auth, ApiKey) and not request.auth.may_write_assessments:
            return False
        return may_act_for_any_organisation(user) or (
            Role.PARTNER in roles_of(user) and user.organisation_id is not None
        )


class WebhookEndpointSerializer(
    StrictSerializerMixin, serializers.ModelSerializer[WebhookEndpoint]
):
    organisation: serializers.SlugRelatedField[Any] = KeyRelatedField(
        slug_field="slug",
        queryset=Organisation.objects.all(),
        required=False,
        help_text="Defaults to the caller's organisation.",
    )
    # Plain fields: the service validates them, naming the field at fault.
    url = serializers.CharField(max_length=500)
    event_types = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Entity names (`recommendation`, `assessment`, …); empty means all.",
    )
    secret = serializers.CharField(
        write_only=True,
        required=False,
        help_text="whsec_ and base64; generated when left out. Shown only in the answer "
        "to the request that registers the endpoint.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "organisation",
            "url",
            "event_types",
            "secret",
            "active",
            "disabled_reason",
            "created_at",
        ]
        read_only_fields = ["id", "active", "disabled_reason", "created_at"]


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    """The answer to a registration: the only time the secret is shown."""

    secret = serializers.CharField(read_only=True)


# `url`, `event_types` and `secret` are checked by the service, which the schema cannot see.
@extend_validation_errors(["invalid"], field_name="url", actions=["create"])
@extend_validation_errors(["invalid"], field_name="event_types", actions=["create"])
@extend_validation_errors(["invalid"], field_name="secret", actions=["create"])
class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    """Webhook endpoints of the caller's organisation (editors: of every organisation).

    Each receives the change feed's entries of the event types it names as
    signed POSTs (Standard Webhooks); see the README for verifying them.
    """

    queryset = WebhookEndpoint.objects.select_related("organisation").order_by("id")
    serializer_class = WebhookEndpointSerializer
    permission_classes = [WebhookPermission]
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        queryset = super().get_queryset()
        user = self.request.user
        if may_act_for_any_organisation(user):
            return queryset
        return queryset.filter(organisation_id=getattr(user, "organisation_id", None))

    @extend_schema(responses={201: WebhookEndpointCreatedSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = call_service(
            services.webhook_endpoint_create,
            user=request.user,
            **serializer.validated_data,
        )
        body = WebhookEndpointCreatedSerializer(endpoint).data
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        call_service(services.webhook_endpoint_delete, user=self.request.user, endpoint=instance)
