"""How API clients prove who they are: partner API keys, and staff sessions."""

from __future__ import annotations

import hashlib
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from tracker.models import ApiKey, User


def key_digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


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
        try:
            api_key = (
                ApiKey.objects.active()
                # The user's organisation is the default assessor of a write.
                # Their groups and permissions come in one query at the first
                # check (`tracker.backends`). `get` leaves out the model's
                # ordering, a join that one row by a unique digest does not need.
                .select_related("user__organisation")
                .get(digest=key_digest(raw_key))
            )
        except ApiKey.DoesNotExist:
            api_key = None
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
