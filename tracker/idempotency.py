"""`Idempotency-Key` on API writes: a retry gets the first answer, never a second write."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.models import IdempotencyRecord, User

# A first request that has not answered after this long is taken to have died
# (its worker killed between claiming the key and writing); a retry may then
# run again rather than being told forever that the first is in progress.
ABANDONED_AFTER = datetime.timedelta(minutes=5)
MAX_KEY_LENGTH = 255


class IdempotencyKeyInUse(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still being processed; retry later."
    default_code = "idempotency_key_in_use"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used for a different request."
    default_code = "idempotency_key_reused"


def user_of(request: Request) -> User:
    """The signed-in user; only authenticated requests reach a write."""
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


def request_fingerprint(request: Request) -> str:
    """Method, path and the parsed body: the same JSON in another key order is the same request."""
    body = json.dumps(request.data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _claim(request: Request, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """Insert the pending record in its own transaction; None if the key is already taken."""
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                user=user_of(request),
                key=key,
                method=request.method or "",
                path=request.path,
                request_hash=fingerprint,
            )
    except IntegrityError:
        return None


def run_idempotently(request: Request, write: Callable[[], Response]) -> Response:
    """Run `write` at most once per (user, Idempotency-Key); replay its answer to retries."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return write()
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise serializers.ValidationError(
            {"Idempotency-Key": [_("Give a non-empty key of at most 255 characters.")]}
        )
    fingerprint = request_fingerprint(request)
    record = _claim(request, key, fingerprint)
    if record is None:
        existing = IdempotencyRecord.objects.get(user=user_of(request), key=key)
        if existing.request_hash != fingerprint:
            raise IdempotencyKeyReused()
        if existing.response_status is None:
            if timezone.now() - existing.created_at < ABANDONED_AFTER:
                raise IdempotencyKeyInUse()
            IdempotencyRecord.objects.filter(pk=existing.pk, response_status__isnull=True).delete()
            record = _claim(request, key, fingerprint)
            if record is None:
                raise IdempotencyKeyInUse()
        else:
            return Response(
                existing.response_body,
                status=existing.response_status,
                headers={"Idempotent-Replayed": "true"},
            )
    try:
        # The write and the stored answer commit together: a retry sees
        # either nothing done (and the key still pending) or both.
        with transaction.atomic():
            response = write()
            record.response_status = response.status_code
            record.response_body = response.data
            record.save(update_fields=["response_status", "response_body"])
    except BaseException:
        # Nothing was written; free the key so that a corrected retry can run.
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        raise
    return response
