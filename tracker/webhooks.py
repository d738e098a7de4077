"""Signed webhooks: change feed entries pushed to partners (Standard Webhooks).

Queueing reads the change feed below its safe horizon, as the API's feed
does, so an event is never skipped by a transaction committing late. Each
endpoint keeps its own cursor; a delivery row is made once per endpoint and
change (the unique constraint), with a stable event id sent as `webhook-id`.

Delivery is at-least-once: the task acknowledges its message only after it
ran (`acks_late`), so a worker killed mid-request leaves the message to be
handed out again, and the periodic sweep re-sends pending deliveries whose
message was lost. Receivers drop duplicates by `webhook-id`.

The body is rendered when sent, through the feed's own rendering and with
the rights of the endpoint's user: the entity as it is now, confidential
evidence withheld exactly as the feed withholds it from that user.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.utils.encoders import JSONEncoder

from tracker.models import Change, User, WebhookDelivery, WebhookEndpoint
from tracker.roles import can_view

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105  (the format's prefix, not a secret)
# Standard Webhooks receivers refuse timestamps further than this from their clock.
TIMESTAMP_TOLERANCE_SECONDS = 5 * 60
QUEUE_BATCH = 500


# Signing --------------------------------------------------------------------


def new_secret() -> str:
    """A random 32-byte key in the Standard Webhooks form `whsec_<base64>`."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret; ValueError if it is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("the secret must start with whsec_")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        raise ValueError("the part after whsec_ must be base64") from None
    if len(key) < 16:
        raise ValueError("the key must be at least 16 bytes")
    return key


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: `v1,` and the base64 HMAC-SHA256 of id.timestamp.body."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: float | None = None
) -> bool:
    """Whether a request carries a valid, fresh signature (what a receiver checks).

    `headers` keys are lower case. Several space-separated signatures may be
    sent while a secret is rotated; one valid one is enough.
    """
    try:
        message_id = headers["webhook-id"]
        timestamp = int(headers["webhook-timestamp"])
        offered = headers["webhook-signature"].split()
    except (KeyError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > TIMESTAMP_TOLERANCE_SECONDS:
        return False
    expected = sign(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)


# Validation, shared by the service, the admin form and the API ---------------


def event_type_names() -> list[str]:
    """The entity names the feed reports, which are the event types one may ask for."""
    from tracker.feed import synced_entities

    return sorted(synced_entities())


def private_address_of(url: str) -> str | None:
    """The first address of `url`'s host that is not on the public internet, if any.

    Endpoints are given by partners; without this check, a partner could make
    the server post to the loopback interface, the private network or the
    cloud's metadata address. `WEBHOOK_ALLOW_PRIVATE_ADDRESSES` lifts it (for
    development and tests). A name that does not resolve is left to the
    delivery to report.
    """
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return None
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_global:
            return str(address)
    return None


def validate_endpoint_fields(*, url: str, event_types: Any, secret: str | None) -> list[str]:
    """Check an endpoint's fields, naming each one at fault; returns the event types, sorted."""
    errors: dict[str, str] = {}
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        errors["url"] = _("Enter a full http:// or https:// address.")
    else:
        private = private_address_of(url)
        if private is not None:
            errors["url"] = _(
                "The address leads to %(address)s, which is not on the public internet."
            ) % {"address": private}
    known = event_type_names()
    if not isinstance(event_types, list | tuple) or not all(
        isinstance(name, str) for name in event_types
    ):
        errors["event_types"] = _("Give a list of entity names.")
    else:
        unknown = sorted(set(event_types) - set(known))
        if unknown:
            errors["event_types"] = _("Unknown event type %(names)s; choose from %(known)s.") % {
                "names": ", ".join(unknown),
                "known": ", ".join(known),
            }
    if secret is not None:
        try:
            secret_key(secret)
        except ValueError:
            errors["secret"] = _(
                "Give whsec_ followed by at least 16 bytes in base64, or leave it out."
            )
    if errors:
        raise ValidationError(errors)
    return sorted(set(event_types))


# Queueing -------------------------------------------------------------------


def feed_head() -> str:
    """The cursor of the last change below the feed's horizon: where a new endpoint starts."""
    from tracker.feed import encode_cursor

    if connection.vendor != "postgresql":
        return ""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT txid, id FROM tracker_change
            WHERE txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
            ORDER BY txid DESC, id DESC LIMIT 1
            """
        )
        row = cursor.fetchone()
    return encode_cursor(row[0], row[1]) if row else ""


def event_id(endpoint: WebhookEndpoint, change: Change) -> str:
    """Stable per endpoint and change, so every retry and redelivery sends the same id."""
    return f"msg_{endpoint.pk}_{change.pk}"


def queue_deliveries() -> int:
    """Make deliveries of every active endpoint's new changes; returns how many were made.

    Safe to run concurrently and repeatedly: an endpoint being queued by
    another run is skipped, and its cursor only moves with the rows it made.
    """
    if connection.vendor != "postgresql":
        return 0  # no triggers, so no feed to read
    made = 0
    for endpoint_id in WebhookEndpoint.objects.filter(active=True).values_list("pk", flat=True):
        while True:
            batch_made, more = _queue_batch(endpoint_id)
            made += batch_made
            if not more:
                break
    return made


@transaction.atomic
def _queue_batch(endpoint_id: int) -> tuple[int, bool]:
    from tracker.feed import committed_changes, decode_cursor, encode_cursor

    endpoint = (
        WebhookEndpoint.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("user")
        .filter(pk=endpoint_id, active=True)
        .order_by()
        .first()
    )
    if endpoint is None:
        return 0, False
    position = decode_cursor(endpoint.feed_position) if endpoint.feed_position else (0, 0)
    changes = committed_changes(position, QUEUE_BATCH)
    if not changes:
        return 0, False
    wanted = set(endpoint.event_types)
    readable = _readable_entities(endpoint.user)
    chosen = [
        change
        for change in changes
        if change.entity in readable and (not wanted or change.entity in wanted)
    ]
    # Idempotent even if the cursor was moved back by hand.
    already = set(
        WebhookDelivery.objects.filter(endpoint=endpoint, change__in=chosen).values_list(
            "change_id", flat=True
        )
    )
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint=endpoint,
            change=change,
            event_id=event_id(endpoint, change),
            next_attempt_at=now,
        )
        for change in chosen
        if change.pk not in already
    )
    last = changes[-1]
    endpoint.feed_position = encode_cursor(last.txid, last.pk)
    endpoint.save(update_fields=["feed_position"])
    for delivery in deliveries:
        transaction.on_commit(_enqueuer(delivery.pk), robust=True)
    return len(deliveries), len(changes) == QUEUE_BATCH


def _readable_entities(user: User | None) -> set[str]:
    from tracker.feed import synced_entities

    if user is None or not user.is_active:
        return set()
    return {
        name
        for name, entity in synced_entities().items()
        if can_view(user, entity.model._meta.app_label, entity.model._meta.model_name or "")
    }


def _enqueuer(delivery_id: int) -> Any:
    def enqueue() -> None:
        from tracker.tasks import deliver_webhook

        deliver_webhook.delay(delivery_id)

    return enqueue


def requeue_stale(*, now: datetime.datetime | None = None) -> int:
    """Send again pending deliveries whose task message was lost (broker restart, crash)."""
    now = now or timezone.now()
    horizon = now - datetime.timedelta(seconds=settings.WEBHOOK_STALE_AFTER_SECONDS)
    stale = list(
        WebhookDelivery.objects.filter(
            state=WebhookDelivery.State.PENDING,
            endpoint__active=True,
            next_attempt_at__lt=horizon,
        ).values_list("pk", flat=True)[:QUEUE_BATCH]
    )
    # Moved forward first, so the next sweep does not send them once more.
    WebhookDelivery.objects.filter(pk__in=stale).update(next_attempt_at=now)
    for delivery_id in stale:
        transaction.on_commit(_enqueuer(delivery_id), robust=True)
    return len(stale)


# Delivering -----------------------------------------------------------------


def retry_delay(attempts: int) -> int:
    """Seconds to wait after `attempts` failed attempts: exponential, capped."""
    base: int = settings.WEBHOOK_RETRY_BASE_SECONDS
    return int(min(base * 2 ** max(attempts - 1, 0), settings.WEBHOOK_RETRY_MAX_DELAY))


def event_body(delivery: WebhookDelivery) -> bytes | None:
    """The JSON event, or None when the endpoint's user may no longer read it."""
    from tracker.feed import render

    http_request = HttpRequest()
    http_request.method = "GET"
    request = Request(http_request)
    request.user = delivery.endpoint.user or AnonymousUser()
    entries = render([delivery.change], request)
    if not entries:
        return None
    change = delivery.change
    event = {
        "type": f"{change.entity}.{change.operation}",
        "timestamp": change.changed_at,
        "data": entries[0],
    }
    return json.dumps(event, cls=JSONEncoder, separators=(",", ":")).encode()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer like any other non-2xx: retried, never followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int | None, str]:
    """POST the event; (status code or None, error text)."""
    if not url.startswith(("http://", "https://")):
        return None, "not an http(s) address"
    # Checked again at each attempt: the name may resolve elsewhere by now.
    private = private_address_of(url)
    if private is not None:
        return None, f"refused: the address leads to {private}, not on the public internet"
    # The scheme is checked above (and when the endpoint is registered).
    request = urllib.request.Request(url, data=body, method="POST", headers=dict(headers))  # noqa: S310
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            return int(response.status), ""
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code} {error.reason}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        return None, str(getattr(error, "reason", error))[:500]


def attempt_delivery(delivery_id: int) -> int | None:
    """Try one delivery once and log it; returns seconds until a retry, or None when done."""
    delivery = (
        WebhookDelivery.objects.select_related("endpoint", "endpoint__user", "change")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None or delivery.state != WebhookDelivery.State.PENDING:
        return None  # already delivered: this is a duplicate of an at-least-once message
    endpoint = delivery.endpoint
    if not endpoint.active:
        return None  # kept pending: the sweep sends it if the endpoint is re-enabled
    user = endpoint.user
    if user is None or not user.is_active:
        _disable(endpoint, _("The user the endpoint acts as is missing or deactivated."))
        return None
    body = event_body(delivery)
    if body is None:
        unreadable = _("Not readable by the endpoint's user.")
        _finish(delivery, WebhookDelivery.State.FAILED, None, unreadable)
        return None

    timeout: int = settings.WEBHOOK_TIMEOUT_SECONDS
    now = timezone.now()
    # Counted before sending, so an attempt cut short by a killed worker
    # still counts towards the limit; the due time covers the attempt.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=F("attempts") + 1, next_attempt_at=now + datetime.timedelta(seconds=timeout)
    )
    attempts = delivery.attempts + 1
    timestamp = int(time.time())
    status_code, error = post(
        endpoint.url,
        body,
        {
            "content-type": "application/json",
            "user-agent": "compliance-tracker-webhooks/1",
            "webhook-id": delivery.event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(endpoint.secret, delivery.event_id, timestamp, body),
        },
    )
    if status_code is not None and 200 <= status_code < 300:
        _finish(delivery, WebhookDelivery.State.DELIVERED, status_code, "")
        return None
    if status_code == 410:
        _finish(delivery, WebhookDelivery.State.FAILED, status_code, error)
        _disable(endpoint, _("The endpoint answered 410 Gone on %(date)s.") % {"date": now.date()})
        return None
    if attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        _finish(delivery, WebhookDelivery.State.FAILED, status_code, error)
        return None
    delay = retry_delay(attempts)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        last_status_code=status_code,
        last_error=error or f"HTTP {status_code}",
        next_attempt_at=timezone.now() + datetime.timedelta(seconds=delay),
    )
    return delay


def _finish(delivery: WebhookDelivery, state: str, status_code: int | None, error: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=state,
        last_status_code=status_code,
        last_error=error,
        next_attempt_at=None,
        delivered_at=timezone.now() if state == WebhookDelivery.State.DELIVERED else None,
    )


def _disable(endpoint: WebhookEndpoint, reason: str) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        active=False, disabled_reason=str(reason)[:200]
    )
