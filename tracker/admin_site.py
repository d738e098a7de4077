"""The admin site: who may enter it, and the monitor's home page.

Installed in place of `django.contrib.admin` (see INSTALLED_APPS), so that
`admin.site` everywhere, including third-party registrations, is this site.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tracker.roles import may_use_admin


class TrackerAdminSite(admin.AdminSite):
    """Only staff holding a staff role enter; a monitor's home lists their deadlines."""

    site_header = _("Compliance tracker")
    site_title = _("Compliance tracker")
    index_title = _("Workplace")

    def has_permission(self, request: HttpRequest) -> bool:
        return may_use_admin(request.user)

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        from recommendations.selectors import deadlines_of

        context = dict(extra_context or {})
        organisation_id = getattr(request.user, "organisation_id", None)
        if organisation_id is not None:
            context["deadlines"] = deadlines_of(organisation_id, today=timezone.localdate())
        response: TemplateResponse = super().index(request, context)
        return response


class TrackerAdminConfig(AdminConfig):
    default_site = "tracker.admin_site.TrackerAdminSite"
