"""How API clients prove who they are: partner API keys, and staff sessions."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import connection
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from tracker.backends import access_columns, keep_access
from tracker.fixed_reads import (
    once_per_vendor,
    quoted_column,
    quoted_table,
    record_from,
    select_list,
)
from tracker.models import ApiKey, Organisation, User


def key_digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


# The records a key's lookup reads, in the order of the statement's columns.
_KEY_MODELS: tuple[type[Model], ...] = (ApiKey, User, Organisation)


def active_key(digest: str) -> ApiKey | None:
    """The unrevoked key with this digest, its user and the user's organisation attached.

    Every request by key asks this: one fixed statement on PostgreSQL
    (`tracker.fixed_reads`), 0.25 to 0.32 ms of CPU where the ORM's
    `select_related("user__organisation")` took 0.88 ms. The statement
    also reads the user's groups and permissions, which every request's
    permission check needs, and which had been a query of their own.
    """
    sql = _key_statement()
    if sql is None:
        try:
            # `get` leaves out the model's ordering, a join one row by a
            # unique digest does not need.
            return ApiKey.objects.active().select_related("user__organisation").get(digest=digest)
        except ApiKey.DoesNotExist:
            return None
    with connection.cursor() as cursor:
        cursor.execute(sql, [digest])
        row = cursor.fetchone()
    if row is None:
        return None
    values = iter(row)
    api_key = record_from(values, ApiKey)
    api_key.user = record_from(values, User)
    organisation = record_from(values, Organisation)
    # Its columns are all null when the user has no organisation.
    api_key.user.organisation = None if organisation.pk is None else organisation
    names, permissions = values
    keep_access(api_key.user, names, permissions)
    return api_key


@once_per_vendor
def _key_statement() -> str | None:
    """The key, its user, their organisation, groups and permissions by digest.

    None if a column needs converting.
    """
    selected: list[str] = []
    for model, alias in zip(_KEY_MODELS, ("k", "u", "o"), strict=True):
        columns = select_list(model, alias)
        if columns is None:
            return None
        selected += columns
    selected += access_columns(f"u.{quoted_column(User, 'id')}")
    return (
        f"SELECT {', '.join(selected)} "  # noqa: S608 (our own tables and columns)
        f"FROM {quoted_table(ApiKey)} k "
        f"JOIN {quoted_table(User)} u "
        f"ON u.{quoted_column(User, 'id')} = k.{quoted_column(ApiKey, 'user')} "
        f"LEFT JOIN {quoted_table(Organisation)} o "
        f"ON o.{quoted_column(Organisation, 'id')} = u.{quoted_column(User, 'organisation')} "
        f"WHERE k.{quoted_column(ApiKey, 'digest')} = %s "
        f"AND k.{quoted_column(ApiKey, 'revoked_at')} IS NULL"
    )


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <key>`; the request acts as the key's user, within its scopes."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _space, raw_key = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        raw_key = raw_key.strip()
        if not raw_key:
            raise exceptions.AuthenticationFailed(_("The Authorization header carries no key."))
        # The user's organisation is the default assessor of a write. Their
        # groups and permissions come with the key on PostgreSQL, elsewhere
        # in one query at the first check (`tracker.backends`).
        api_key = active_key(key_digest(raw_key))
        if api_key is None or not api_key.user.is_active:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked API key."))
        # One write per key per minute at most: enough to show in the admin
        # which keys are in use, without a write on every read.
        now = timezone.now()
        if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class StaffSessionAuthentication(authentication.SessionAuthentication):
    """The admin's session, for staff trying the API from a browser; CSRF-checked."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is None or not getattr(result[0], "is_staff", False):
            return None
        return result
