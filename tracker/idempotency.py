"""`Idempotency-Key` on API writes: a retry gets the first answer, never a second write.

The write and the record of its answer are one transaction. While it runs, it
holds a transaction-scoped advisory lock on (user, key), so a concurrent
duplicate is told at once that the first is still running (409) instead of
waiting for it or writing twice; the unique constraint on (user, key) is the
backstop that lets only one of two racing writes commit. A worker that dies
mid-write leaves nothing behind: its transaction, and with it the lock, ends
with its connection.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, connection
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.fixed_inserts import RowInsert
from tracker.models import IdempotencyRecord, User
from tracker.transactions import all_or_nothing

# Records without an answer were claims of an earlier scheme, which committed
# the claim before the write. One younger than this may still be that write in
# progress; an older one is taken to have died, and the key is free again.
ABANDONED_AFTER = datetime.timedelta(minutes=5)
MAX_KEY_LENGTH = 255
# Every answer stored is a new row, written by a fixed statement.
_RECORD_INSERT = RowInsert(IdempotencyRecord)


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


def lock_id(user_id: int, key: str) -> int:
    """The advisory lock of one (user, key): 64 bits of a digest, as PostgreSQL's signed bigint.

    Two keys sharing a lock (one chance in 2^64 per pair) only make one of
    them wait for a 409 and a retry.
    """
    digest = hashlib.sha256(f"tracker.idempotency\n{user_id}\n{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _lock_and_look_up(user: User, key: str) -> IdempotencyRecord | None:
    """Take the key's lock for this transaction, then return its record if there is one.

    Raises IdempotencyKeyInUse when another transaction holds the lock. On
    PostgreSQL one statement does both; its snapshot may predate the lock, so
    a first request that committed in between goes unseen here: this write
    then fails on the unique constraint, and the caller replays that answer.
    """
    if connection.vendor != "postgresql":
        # SQLite runs one write transaction at a time; the unique constraint suffices.
        return IdempotencyRecord.objects.filter(user=user, key=key).first()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT pg_try_advisory_xact_lock(%s), EXISTS ("  # noqa: S608 (our own table name)
            f"SELECT 1 FROM {IdempotencyRecord._meta.db_table} WHERE user_id = %s AND key = %s)",
            [lock_id(user.pk, key), user.pk, key],
        )
        locked, recorded = cursor.fetchone() or (False, False)
    if not locked:
        raise IdempotencyKeyInUse()
    return IdempotencyRecord.objects.get(user=user, key=key) if recorded else None


def _replay(existing: IdempotencyRecord, fingerprint: str) -> Response | None:
    """The stored answer to a retry; None when the record was an abandoned claim, now removed."""
    if existing.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    if existing.response_status is None:
        if timezone.now() - existing.created_at < ABANDONED_AFTER:
            raise IdempotencyKeyInUse()
        existing.delete()
        return None
    return Response(
        existing.response_body,
        status=existing.response_status,
        headers={"Idempotent-Replayed": "true"},
    )


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
    user = user_of(request)
    try:
        # The write and the stored answer commit together: a retry sees either
        # nothing done or both. A write that fails leaves no record, so a
        # corrected retry with the same key runs; as any error undoes the
        # whole, the service inside takes no savepoint of its own.
        with all_or_nothing():
            existing = _lock_and_look_up(user, key)
            if existing is not None:
                replayed = _replay(existing, fingerprint)
                if replayed is not None:
                    return replayed
            response = write()
            _RECORD_INSERT.insert(
                IdempotencyRecord(
                    user=user,
                    key=key,
                    method=request.method or "",
                    path=request.path,
                    request_hash=fingerprint,
                    response_status=response.status_code,
                    response_body=response.data,
                )
            )
    except IntegrityError:
        # A duplicate committed while this request took the lock (see
        # _lock_and_look_up), or on SQLite, which has no lock: this write was
        # rolled back, and the retry gets the first answer. Any other
        # integrity error is the write's own.
        existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is None:
            raise
        replayed = _replay(existing, fingerprint)
        if replayed is None:
            raise IdempotencyKeyInUse() from None
        return replayed
    return response
