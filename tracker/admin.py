from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from tracker.admin_lists import country_column
from tracker.models import Organisation, User


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ["name", "acronym", "kind", "parent", country_column(Organisation)]
    list_filter = ["kind", "country"]
    list_select_related = ["parent"]
    search_fields = ["name", "acronym", "slug"]
    autocomplete_fields = ["parent"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    list_display = ["username", "email", "organisation", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups", "organisation"]
    list_select_related = ["organisation"]
    autocomplete_fields = ["organisation"]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("Organisation"), {"fields": ["organisation"]}),
    )


# The API's records (keys, webhooks, the change feed) have their own module.
from tracker import api_admin  # noqa: E402, F401
