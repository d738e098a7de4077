"""Admin pages of the API's records: keys (issued and revoked here), webhooks, the feed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tracker import services, webhooks
from tracker.models import ApiKey, Change, IdempotencyRecord, WebhookDelivery, WebhookEndpoint


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    list_display = [
        "name",
        "prefix",
        "organisation",
        "user",
        "may_read",
        "may_write_assessments",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["may_write_assessments", "revoked_at"]
    list_select_related = ["organisation", "user"]
    search_fields = ["name", "prefix", "organisation__name", "user__username"]
    autocomplete_fields = ["user"]
    actions = ["revoke_selected"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["name", "user", "may_read", "may_write_assessments"]
        return [
            "name",
            "user",
            "organisation",
            "prefix",
            "may_read",
            "may_write_assessments",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        return ["user", "organisation", "prefix", "created_at", "last_used_at", "revoked_at"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        issued, raw_key = services.api_key_issue(
            user=obj.user,
            name=obj.name,
            may_read=obj.may_read,
            may_write_assessments=obj.may_write_assessments,
        )
        obj.pk = issued.pk
        obj.refresh_from_db()
        self.message_user(
            request,
            _("The key is %(key)s. Copy it now: it is stored only as a digest.") % {"key": raw_key},
            messages.WARNING,
        )

    @admin.action(description=_("Revoke the selected keys"))
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset:
            services.api_key_revoke(api_key=api_key)
        self.message_user(request, _("Revoked %(n)d keys.") % {"n": queryset.count()})


class WebhookEndpointForm(forms.ModelForm[WebhookEndpoint]):
    """Event types as checkboxes; the secret only on the add form, generated when left blank."""

    event_types = forms.MultipleChoiceField(
        label=_("event types"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked means every type."),
    )
    secret = forms.CharField(
        label=_("signing secret"),
        required=False,
        help_text=_("Leave blank to generate one; it is shown once, after saving."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["organisation", "user", "url", "event_types", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = webhooks.event_type_names()
        self.fields["event_types"].choices = [(name, name) for name in names]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # The service's own checks, so that a mistake shows on the form, not as an error page.
        if "url" in cleaned:
            webhooks.validate_endpoint_fields(
                url=cleaned["url"],
                event_types=cleaned.get("event_types", []),
                secret=cleaned.get("secret") or None,
            )
        user, organisation = cleaned.get("user"), cleaned.get("organisation")
        if self.instance.pk is None and user and organisation and user.organisation != organisation:
            self.add_error("user", _("Choose a user of the endpoint's organisation."))
        return cleaned


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin[WebhookEndpoint]):
    """Endpoints are written through the services, as the API writes them."""

    form = WebhookEndpointForm
    list_display = ["url", "organisation", "active", "disabled_reason", "created_at"]
    list_filter = ["active"]
    list_select_related = ["organisation"]
    autocomplete_fields = ["organisation", "user"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["organisation", "user", "url", "event_types", "secret"]
        return [
            "organisation",
            "user",
            "url",
            "event_types",
            "active",
            "disabled_reason",
            "feed_position",
            "created_at",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        return ["organisation", "user", "disabled_reason", "feed_position", "created_at"]

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        data = form.cleaned_data
        if change:
            services.webhook_endpoint_update(
                user=request.user,
                endpoint=obj,
                url=data["url"],
                event_types=data.get("event_types", []),
                active=data.get("active", obj.active),
            )
            return
        created = services.webhook_endpoint_create(
            user=request.user,
            organisation=data["organisation"],
            acts_as=data["user"],
            url=data["url"],
            event_types=data.get("event_types", []),
            secret=data.get("secret") or None,
        )
        obj.pk = created.pk
        obj.refresh_from_db()
        self.message_user(
            request,
            _("The signing secret is %(secret)s. Give it to the partner now.")
            % {"secret": created.secret},
            messages.WARNING,
        )

    def delete_model(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        services.webhook_endpoint_delete(user=request.user, endpoint=obj)


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Records written by the system only: shown, never edited by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """The delivery log: every event for every endpoint, and how its attempts went."""

    list_display = [
        "event_id",
        "endpoint",
        "state",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
        "delivered_at",
    ]
    list_filter = ["state", "endpoint__organisation"]
    list_select_related = ["endpoint"]
    search_fields = ["event_id", "endpoint__url", "last_error"]


@admin.register(Change)
class ChangeAdmin(ReadOnlyAdmin):
    list_display = ["id", "txid", "entity", "key", "operation", "version", "changed_at"]
    list_filter = ["entity", "operation"]
    search_fields = ["key"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ["key", "user", "method", "path", "response_status", "created_at"]
    list_select_related = ["user"]
