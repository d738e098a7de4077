"""Organisations and the people who act for them."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from tracker.choices import OrganisationKind
from tracker.history import audited


class OrganisationQuerySet(models.QuerySet["Organisation"]):
    def get_by_natural_key(self, slug: str) -> Organisation:
        return self.get(slug=slug)


@audited
class Organisation(models.Model):
    """A body that issues, receives, assesses or funds recommendations.

    Organisations nest (ODIHR is part of the OSCE; the OSCE Centre in Astana is
    an OSCE field operation), and a national body names its country. Users act
    for exactly one organisation, which is what scopes their assessments.
    """

    slug = models.SlugField(_("key"), max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=300)
    acronym = models.CharField(_("acronym"), max_length=40, blank=True)
    kind = models.CharField(_("kind"), max_length=40, choices=OrganisationKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    country = CountryField(_("country"), blank=True)
    description = models.TextField(_("description"), blank=True)
    website = models.URLField(_("website"), blank=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")),
                name="organisation_not_its_own_parent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.acronym})" if self.acronym else self.name

    def natural_key(self) -> tuple[str]:
        return (self.slug,)


class User(AbstractUser):
    """A person who signs in. Monitors and partners act for their organisation."""

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """A partner system's credential for the REST API, sent as `Authorization: Bearer <key>`.

    Only a SHA-256 digest of the key is stored: keys are long random tokens, so
    a fast digest is enough, and a leaked table gives nobody a usable key. A key
    acts as its user (whose organisation it is tied to) narrowed by its scopes.
    Revoking keeps the row, so the admin still shows who held which key.
    """

    name = models.CharField(_("name"), max_length=120, help_text=_("What the key is used for."))
    user = models.ForeignKey(
        User, verbose_name=_("acts as"), on_delete=models.PROTECT, related_name="api_keys"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="+"
    )
    prefix = models.CharField(_("first characters"), max_length=12, editable=False)
    digest = models.CharField(_("SHA-256 of the key"), max_length=64, unique=True, editable=False)
    may_read = models.BooleanField(_("scope: read"), default=True)
    may_write_assessments = models.BooleanField(_("scope: write assessments"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["organisation", "name"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.user_id is not None and self.user.organisation_id != self.organisation_id:
            raise ValidationError(
                {"user": _("The key's user must act for the key's organisation.")}
            )


class IdempotencyRecord(models.Model):
    """The first answer to a write sent with an `Idempotency-Key`, replayed to retries.

    Written in the transaction of the write itself (`tracker.idempotency`),
    under an advisory lock on (user, key) that tells a concurrent duplicate to
    wait (409); the unique constraint lets only one of two racing writes
    commit. Rows without an answer are claims of an earlier scheme.
    `request_hash` tells a retry of the same request from a reuse of the key
    for another one (422).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("idempotency key"), max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class Change(models.Model):
    """One committed insert, update or delete of a synced entity: the change feed.

    Rows are written by PostgreSQL triggers (migration 0008) in the transaction
    that makes the change, whatever made it. `txid` is that transaction's id;
    the feed orders by (txid, id) and serves only rows below the oldest open
    transaction, so a row that commits late can never fall behind a cursor.
    On SQLite there are no triggers and the table stays empty.
    """

    class Operation(models.TextChoices):
        INSERT = "insert", _("insert")
        UPDATE = "update", _("update")
        DELETE = "delete", _("delete")

    txid = models.BigIntegerField(_("transaction"))
    entity = models.CharField(_("entity"), max_length=40)
    key = models.CharField(_("key"), max_length=300)
    operation = models.CharField(_("operation"), max_length=6, choices=Operation.choices)
    version = models.PositiveIntegerField(_("version"))
    changed_at = models.DateTimeField(_("changed at"))

    class Meta:
        ordering = ["txid", "id"]
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        indexes = [
            # The feed's cursor scan: (txid, id) > cursor, ordered.
            models.Index(fields=["txid", "id"], name="change_cursor_idx"),
            # The triggers' next version of one entity.
            models.Index(fields=["entity", "key", "version"], name="change_version_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.key} {self.operation} v{self.version}"


class WebhookEndpoint(models.Model):
    """A partner's URL that receives signed change events (Standard Webhooks).

    `event_types` lists the entities wanted (`recommendation`, `assessment`, …);
    empty means all. An endpoint answering 410 Gone is disabled. `feed_position`
    is the change feed cursor up to which events have been queued for it.
    Events carry what `user` may read through the API (confidential evidence
    withheld as in the feed), so an endpoint never shows more than its owner's key.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    user = models.ForeignKey(
        User,
        verbose_name=_("acts as"),
        # Nullable only for rows older than the field; the service requires it.
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Events show what this user may read through the API."),
    )
    url = models.URLField(_("address"), max_length=500)
    secret = models.CharField(
        _("signing secret"),
        max_length=200,
        help_text=_("Standard Webhooks secret, such as whsec_ followed by base64."),
    )
    event_types = models.JSONField(_("event types"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=200, blank=True)
    feed_position = models.CharField(max_length=100, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["organisation", "url"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint and every attempt to deliver it: the delivery log.

    Unique per endpoint and change, so queueing the same event twice makes no
    second delivery; the event id sent as `webhook-id` is stable across
    retries, so receivers can drop duplicates of an at-least-once delivery.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    change = models.ForeignKey(Change, on_delete=models.PROTECT, related_name="+")
    event_id = models.CharField(max_length=64, unique=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # When the next attempt is due (or, during an attempt, when it will have
    # timed out). A pending delivery long past it lost its task message, and
    # the periodic sweep sends it again.
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "change"], name="webhook_delivery_once_per_change"
            ),
        ]
        indexes = [
            # The sweep: pending deliveries whose next attempt is long overdue.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="webhook_delivery_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint}"
