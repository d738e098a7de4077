"""Writes of the tracker app that are more than a plain save: API keys, organisations."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.authentication import key_digest
from tracker.history import recorded_as
from tracker.models import ApiKey, Organisation, User
from tracker.roles import can_curate

ORGANISATION_WRITABLE_FIELDS = (
    "name",
    "acronym",
    "kind",
    "parent",
    "country",
    "description",
    "website",
)


@transaction.atomic
def api_key_issue(
    *,
    user: User,
    name: str,
    may_read: bool = True,
    may_write_assessments: bool = False,
    raw_key: str | None = None,
) -> tuple[ApiKey, str]:
    """Create a key for `user` and return it with the key itself, shown only this once.

    `raw_key` is for the demo account's well-known key; real keys are random.
    """
    if user.organisation_id is None:
        raise ValidationError({"user": _("An API key belongs to a user of an organisation.")})
    raw_key = raw_key or f"trk_{secrets.token_urlsafe(32)}"
    api_key = ApiKey(
        name=name,
        user=user,
        organisation_id=user.organisation_id,
        prefix=raw_key[:8],
        digest=key_digest(raw_key),
        may_read=may_read,
        may_write_assessments=may_write_assessments,
    )
    api_key.full_clean()
    api_key.save()
    return api_key, raw_key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Stop a key from working at once; the row stays for the record."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


@recorded_as(user="user")
@transaction.atomic
def organisation_upsert(
    *, user: Any, slug: str, fields: dict[str, Any]
) -> tuple[Organisation, bool]:
    """Create the organisation with key `slug`, or replace its fields; True if created.

    Writing the same fields twice changes nothing the second time, so a batch
    pushed twice ends the same.
    """
    if not can_curate(user, "tracker", "organisation"):
        raise PermissionDenied(_("You may not curate organisations."))
    unknown = set(fields) - set(ORGANISATION_WRITABLE_FIELDS)
    if unknown:
        raise ValidationError({field: _("This field cannot be written.") for field in unknown})
    organisation = Organisation.objects.select_for_update().filter(slug=slug).first()
    created = organisation is None
    if organisation is None:
        organisation = Organisation(slug=slug)
    changed = [name for name in fields if getattr(organisation, name) != fields[name]]
    for name in changed:
        setattr(organisation, name, fields[name])
    if created or changed:
        organisation.full_clean()
        organisation.save()
    return organisation, created
