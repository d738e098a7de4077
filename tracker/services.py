"""Writes of the tracker app that are more than a plain save: API keys, organisations, webhooks."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker import webhooks
from tracker.authentication import key_digest
from tracker.history import recorded_as
from tracker.models import ApiKey, Organisation, User, WebhookEndpoint
from tracker.roles import Role, can_curate, may_act_for_any_organisation, roles_of
from tracker.transactions import service_transaction

ORGANISATION_WRITABLE_FIELDS = (
    "name",
    "acronym",
    "kind",
    "parent",
    "country",
    "description",
    "website",
)


@service_transaction
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


@service_transaction
def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Stop a key from working at once; the row stays for the record."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


ModelT = TypeVar("ModelT", bound=Model)


def upsert_fields(
    model: type[ModelT], key: dict[str, Any], fields: dict[str, Any], writable: Iterable[str]
) -> tuple[ModelT, bool]:
    """Create the record with `key`, or replace the given fields of it; True if created.

    The shared body of the keyed upserts, called inside their transaction
    after their permission check. Fields left out keep their values; writing
    the same fields twice saves nothing the second time (no history row, no
    feed entry), so a batch pushed twice ends the same.
    """
    unknown = set(fields) - set(writable)
    if unknown:
        raise ValidationError({field: _("This field cannot be written.") for field in unknown})
    record = model._default_manager.select_for_update().filter(**key).first()
    created = record is None
    if record is None:
        record = model(**key)
    changed = [name for name in fields if getattr(record, name) != fields[name]]
    for name in changed:
        setattr(record, name, fields[name])
    if created or changed:
        record.full_clean()
        record.save()
    return record, created


@recorded_as(user="user")
@service_transaction
def organisation_upsert(
    *, user: Any, slug: str, fields: dict[str, Any]
) -> tuple[Organisation, bool]:
    """Create the organisation with key `slug`, or replace its fields; True if created.

    Writing the same fields twice changes nothing the second time, so a batch
    pushed twice ends the same.
    """
    if not can_curate(user, "tracker", "organisation"):
        raise PermissionDenied(_("You may not curate organisations."))
    return upsert_fields(Organisation, {"slug": slug}, fields, ORGANISATION_WRITABLE_FIELDS)


def may_manage_webhooks(user: Any, organisation: Organisation) -> bool:
    """Partners manage their own organisation's webhooks; editors and administrators any."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if may_act_for_any_organisation(user):
        return True
    return Role.PARTNER in roles_of(user) and user.organisation_id == organisation.pk


@service_transaction
def webhook_endpoint_create(
    *,
    user: Any,
    url: str,
    event_types: Any = (),
    secret: str | None = None,
    organisation: Organisation | None = None,
    acts_as: User | None = None,
) -> WebhookEndpoint:
    """Register an endpoint; it receives the changes committed from now on.

    Events carry what `acts_as` (by default `user`, who must act for the
    organisation) may read. The secret is generated unless given.
    """
    organisation = organisation or getattr(user, "organisation", None)
    if organisation is None:
        raise ValidationError({"organisation": _("Name the organisation the endpoint is for.")})
    if not may_manage_webhooks(user, organisation):
        raise PermissionDenied(_("You may not manage this organisation's webhooks."))
    acts_as = acts_as or user
    if acts_as is None or acts_as.organisation_id != organisation.pk:
        raise ValidationError(
            {"user": _("Events are read as a user of the endpoint's organisation.")}
        )
    wanted = webhooks.validate_endpoint_fields(url=url, event_types=event_types, secret=secret)
    endpoint = WebhookEndpoint(
        organisation=organisation,
        user=acts_as,
        url=url,
        secret=secret or webhooks.new_secret(),
        event_types=wanted,
        feed_position=webhooks.feed_head(),
    )
    endpoint.full_clean()
    endpoint.save()
    return endpoint


@service_transaction
def webhook_endpoint_update(
    *, user: Any, endpoint: WebhookEndpoint, url: str, event_types: Any, active: bool
) -> WebhookEndpoint:
    """Change where and what an endpoint receives; enabling it again clears why it stopped."""
    if not may_manage_webhooks(user, endpoint.organisation):
        raise PermissionDenied(_("You may not manage this organisation's webhooks."))
    endpoint.event_types = webhooks.validate_endpoint_fields(
        url=url, event_types=event_types, secret=None
    )
    endpoint.url = url
    if active and not endpoint.active:
        endpoint.disabled_reason = ""
    endpoint.active = active
    endpoint.full_clean()
    endpoint.save()
    return endpoint


@service_transaction
def webhook_endpoint_delete(*, user: Any, endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint and its delivery log; nothing more is sent to it."""
    if not may_manage_webhooks(user, endpoint.organisation):
        raise PermissionDenied(_("You may not manage this organisation's webhooks."))
    endpoint.delete()
