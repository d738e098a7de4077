"""Admin pages of the API's records: keys (issued and revoked here), webhooks, the feed."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tracker import services
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


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin[WebhookEndpoint]):
    list_display = ["url", "organisation", "active", "disabled_reason", "created_at"]
    list_filter = ["active"]
    list_select_related = ["organisation"]
    autocomplete_fields = ["organisation"]


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
    list_display = ["event_id", "endpoint", "state", "attempts", "last_status_code", "created_at"]
    list_filter = ["state"]
    list_select_related = ["endpoint"]


@admin.register(Change)
class ChangeAdmin(ReadOnlyAdmin):
    list_display = ["id", "txid", "entity", "key", "operation", "version", "changed_at"]
    list_filter = ["entity", "operation"]
    search_fields = ["key"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ["key", "user", "method", "path", "response_status", "created_at"]
    list_select_related = ["user"]
