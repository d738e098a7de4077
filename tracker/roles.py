"""The five roles and what each may do: the one place admin, API and reports ask.

Roles are Django groups. Their permissions are declared here and applied by a
data migration (`tracker/migrations/0002_roles.py`) and by `apply_roles()`;
change this table and add a migration that calls `apply_roles()` again.

Permissions are named by "<app_label>.<action>_<model>" codenames, the same
strings `user.has_perm()` takes, so the admin's own permission checks, DRF
permission classes and report views all read the same table.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from tracker.models import Organisation, User


class Role(enum.StrEnum):
    ADMINISTRATOR = "administrator"
    EDITOR = "editor"
    MONITOR = "monitor"
    DONOR = "donor"
    PARTNER = "partner"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.ADMINISTRATOR: _("Administrator"),
    Role.EDITOR: _("Editor / reviewer"),
    Role.MONITOR: _("Monitor"),
    Role.DONOR: _("Donor"),
    Role.PARTNER: _("Partner"),
}


def _crud(app_label: str, *models: str, actions: Iterable[str] = ("view",)) -> set[str]:
    return {f"{app_label}.{action}_{model}" for model in models for action in actions}


ALL = ("view", "add", "change", "delete")

_CURATED = _crud("tracker", "organisation", actions=ALL) | _crud(
    "instruments",
    "source",
    "instrument",
    "instrumentrelation",
    "treatyparticipation",
    "provision",
    "citation",
    actions=ALL,
)
_RECOMMENDATION_RECORDS = _crud(
    "recommendations",
    "theme",
    "sdgtarget",
    "recommendation",
    "concern",
    "provisionlink",
    actions=ALL,
)
_READ_EVERYTHING = (
    _crud("tracker", "organisation")
    | _crud(
        "instruments",
        "source",
        "instrument",
        "instrumentrelation",
        "treatyparticipation",
        "provision",
        "citation",
    )
    | _crud(
        "recommendations",
        "theme",
        "sdgtarget",
        "recommendation",
        "concern",
        "provisionlink",
        "statusassessment",
        "currentassessment",
    )
)

ROLE_PERMISSIONS: dict[Role, set[str]] = {
    # Administrators are superusers in practice; the group still lists what the
    # role means so that a non-superuser administrator works too.
    Role.ADMINISTRATOR: _CURATED
    | _RECOMMENDATION_RECORDS
    | _READ_EVERYTHING
    | _crud("tracker", "user", actions=ALL)
    | _crud("auth", "group", actions=("view",))
    | {
        "recommendations.add_statusassessment",
        "recommendations.review_statusassessment",
        "recommendations.view_internal_evidence",
        "recommendations.view_reports",
    },
    # Editors curate the reference data and review what monitors submit.
    Role.EDITOR: _CURATED
    | _RECOMMENDATION_RECORDS
    | _READ_EVERYTHING
    | {
        "recommendations.add_statusassessment",
        "recommendations.review_statusassessment",
        "recommendations.view_internal_evidence",
        "recommendations.view_reports",
    },
    # Monitors record assessments for their own organisation, link
    # recommendations to provisions and import recommendations.
    Role.MONITOR: _READ_EVERYTHING
    | _crud("recommendations", "recommendation", "provisionlink", actions=("add", "change"))
    | {
        "recommendations.add_statusassessment",
        "recommendations.view_reports",
    },
    # Donors read reports; they have no admin access.
    Role.DONOR: {"recommendations.view_reports"},
    # Partner systems read everything public through the API and push their
    # organisation's assessments.
    Role.PARTNER: _READ_EVERYTHING | {"recommendations.add_statusassessment"},
}

# Roles whose members may sign in to the admin.
STAFF_ROLES = {Role.ADMINISTRATOR, Role.EDITOR, Role.MONITOR}


def apply_roles(group_model: Any, permission_model: Any) -> None:
    """Create or update the role groups so that each has exactly its permissions.

    Takes the models as arguments so that a migration can pass its historical ones.
    """
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _created = group_model.objects.get_or_create(name=role.value)
        wanted = []
        for dotted in sorted(codenames):
            app_label, codename = dotted.split(".", 1)
            wanted.append(
                permission_model.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)


def roles_of(user: User | Any) -> set[Role]:
    if not user.is_authenticated:
        return set()
    from tracker.backends import group_names

    names = group_names(user)
    return {role for role in Role if role.value in names}


def can_review(user: User | Any) -> bool:
    return bool(user.has_perm("recommendations.review_statusassessment"))


def can_read_reports(user: User | Any) -> bool:
    return bool(user.has_perm("recommendations.view_reports"))


def can_open_reports(user: User | Any) -> bool:
    """Whether `user` may open the report pages and exports.

    Everybody, signed in or not, when the REPORTS_PUBLIC setting is on;
    otherwise those whose role may read reports.
    """
    from django.conf import settings

    return bool(settings.REPORTS_PUBLIC) or can_read_reports(user)


def can_read_evidence(user: User | Any, visibility: str) -> bool:
    """Whether `user` may read evidence of the given visibility."""
    from recommendations.choices import Visibility

    if visibility == Visibility.PUBLIC:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    if user.has_perm("recommendations.view_internal_evidence"):
        return True
    if visibility == Visibility.PARTNERS:
        return bool(roles_of(user) & {Role.PARTNER, Role.MONITOR, Role.DONOR})
    return False


def can_view(user: User | Any, app_label: str, model_name: str) -> bool:
    """Whether `user` may read records of the model (admin lists, API reads)."""
    return bool(user.has_perm(f"{app_label}.view_{model_name}"))


def can_curate(user: User | Any, app_label: str, model_name: str) -> bool:
    """Whether `user` may create and change records of a curated model."""
    return bool(
        user.has_perm(f"{app_label}.add_{model_name}")
        and user.has_perm(f"{app_label}.change_{model_name}")
    )


def may_act_for(user: User | Any, organisation: Organisation) -> bool:
    """Whether `user` may record assessments in the name of `organisation`.

    Editors and administrators may act for any organisation (they correct the
    record); monitors and partners only for their own.
    """
    if not user.has_perm("recommendations.add_statusassessment"):
        return False
    if user.is_superuser or roles_of(user) & {Role.ADMINISTRATOR, Role.EDITOR}:
        return True
    return user.organisation_id is not None and user.organisation_id == organisation.pk


def may_act_for_any_organisation(user: User | Any) -> bool:
    """Whether `user` records and sees assessments of every organisation, not just its own."""
    return bool(user.is_superuser or roles_of(user) & {Role.ADMINISTRATOR, Role.EDITOR})


def may_use_admin(user: User | Any) -> bool:
    """Whether `user` may sign in to the admin: active staff holding a staff role.

    The role is checked as well as `is_staff`, so that a donor or partner
    account ticked as staff by mistake still stays out.
    """
    if not (user.is_active and user.is_staff):
        return False
    return bool(user.is_superuser or roles_of(user) & STAFF_ROLES)
