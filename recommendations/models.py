"""Recommendations, concerns, their links to provisions, and status assessments."""

from __future__ import annotations

import uuid

import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from recommendations.choices import (
    LinkRelation,
    RecommendationKind,
    ReviewState,
    StateResponse,
    Status,
    Visibility,
)
from tracker.choices import DatePrecision
from tracker.dates import format_partial_date
from tracker.history import audited, refuse_truncate

code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
    _("Use letters, digits, dots, hyphens and underscores, starting with a letter or digit."),
)


class ThemeQuerySet(models.QuerySet["Theme"]):
    def get_by_natural_key(self, slug: str) -> Theme:
        return self.get(slug=slug)


@audited
class Theme(models.Model):
    """A subject that groups recommendations and concerns (labour migration, trafficking)."""

    slug = models.SlugField(_("key"), max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    objects = ThemeQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("theme")
        verbose_name_plural = _("themes")

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.slug,)


class SdgTargetQuerySet(models.QuerySet["SdgTarget"]):
    def get_by_natural_key(self, code: str) -> SdgTarget:
        return self.get(code=code)


@audited
class SdgTarget(models.Model):
    """A target of the Sustainable Development Goals, such as 8.7 or 10.7."""

    code = models.CharField(
        _("code"),
        max_length=10,
        unique=True,
        validators=[RegexValidator(r"^\d{1,2}\.[0-9a-z]{1,2}$", _("Use the form 8.7 or 10.c."))],
    )
    title = models.CharField(_("title"), max_length=500)

    objects = SdgTargetQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("SDG target")
        verbose_name_plural = _("SDG targets")

    def __str__(self) -> str:
        return f"SDG {self.code}"

    def natural_key(self) -> tuple[str]:
        return (self.code,)


class RecommendationQuerySet(models.QuerySet["Recommendation"]):
    def get_by_natural_key(self, code: str) -> Recommendation:
        return self.get(code=code)

    def overdue(self, today: object = None) -> RecommendationQuerySet:
        """Recommendations past their follow-up date and not yet fully dealt with."""
        day = today or timezone.localdate()
        return self.filter(follow_up_due__lt=day).exclude(
            headline_status__in=[Status.FULLY_IMPLEMENTED, Status.NO_LONGER_RELEVANT]
        )


@audited
class Recommendation(models.Model):
    """A recommendation an organisation issued about a country's law or practice.

    Besides recommendations proper, the same record keeps principles a body
    asked to be reflected, the aims of an event and commitments the state
    announced itself (`kind`), since all are followed up the same way.
    `headline_status` and `disputed` are derived from published assessments
    by `recommendations.services` in the same transaction that publishes them;
    nobody types them in.
    """

    code = models.CharField(_("code"), max_length=80, unique=True, validators=[code_validator])
    kind = models.CharField(
        _("kind"),
        max_length=20,
        choices=RecommendationKind.choices,
        default=RecommendationKind.RECOMMENDATION,
    )
    text = models.TextField(_("text"))
    issued_by = models.ForeignKey(
        "tracker.Organisation",
        verbose_name=_("issued by"),
        on_delete=models.PROTECT,
        related_name="issued_recommendations",
    )
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    issued_on_precision = models.CharField(
        _("precision of issue date"),
        max_length=5,
        choices=DatePrecision.choices,
        default=DatePrecision.DAY,
    )
    source = models.ForeignKey(
        "instruments.Source",
        verbose_name=_("issued in"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="recommendations",
    )
    addressed_to = models.ManyToManyField(
        "tracker.Organisation",
        verbose_name=_("addressed to"),
        blank=True,
        related_name="received_recommendations",
    )
    country = CountryField(_("country"))
    themes = models.ManyToManyField(
        Theme, verbose_name=_("themes"), blank=True, related_name="recommendations"
    )
    sdg_targets = models.ManyToManyField(
        SdgTarget, verbose_name=_("SDG targets"), blank=True, related_name="recommendations"
    )
    follow_up_due = models.DateField(_("follow-up due"), null=True, blank=True)
    reiterates = models.ForeignKey(
        "self",
        verbose_name=_("reiterates"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reiterated_by",
    )
    state_response = models.CharField(
        _("state's response"),
        max_length=20,
        choices=StateResponse.choices,
        default=StateResponse.NO_RESPONSE,
    )
    headline_status = models.CharField(
        _("headline status"),
        max_length=30,
        choices=Status.choices,
        default=Status.NOT_ASSESSED,
        editable=False,
    )
    disputed = models.BooleanField(_("disputed"), default=False, editable=False)
    # Database defaults as well, so rows loaded raw (loaddata) get their times.
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_default=Now())

    objects = RecommendationQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        permissions = [("view_reports", _("Can read report pages and exports"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(follow_up_due__isnull=True)
                | Q(issued_on__isnull=True)
                | Q(follow_up_due__gte=F("issued_on")),
                name="recommendation_follow_up_after_issue",
            ),
            models.CheckConstraint(
                condition=~Q(reiterates=F("id")), name="recommendation_not_reiterating_itself"
            ),
            models.CheckConstraint(
                condition=Q(headline_status__in=Status.values),
                name="recommendation_headline_status_known",
            ),
        ]
        indexes = [
            # Report filters and the overview group by headline status.
            models.Index(fields=["headline_status"], name="recommendation_status_idx"),
            # The overdue list and count: follow-up date before today, not
            # closed; with the status in the index the count reads no rows.
            models.Index(
                fields=["follow_up_due", "headline_status"], name="recommendation_due_status_idx"
            ),
            # Partners' incremental sync: `updated_after`.
            models.Index(fields=["updated_at"], name="recommendation_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.code

    def natural_key(self) -> tuple[str]:
        return (self.code,)

    @property
    def issued_display(self) -> str:
        return format_partial_date(self.issued_on, self.issued_on_precision)

    def clean(self) -> None:
        if self.follow_up_due and self.issued_on and self.follow_up_due < self.issued_on:
            raise ValidationError(
                {"follow_up_due": _("The follow-up date comes before the recommendation.")}
            )
        if self.reiterates_id is not None and self.reiterates_id == self.pk:
            raise ValidationError({"reiterates": _("A recommendation cannot reiterate itself.")})


class ConcernQuerySet(models.QuerySet["Concern"]):
    def get_by_natural_key(self, code: str) -> Concern:
        return self.get(code=code)


@audited
class Concern(models.Model):
    """A problem an organisation raised (exit visas, restrictions on internal movement).

    Linked to the provisions it is about and to the recommendations that answer it.
    """

    code = models.CharField(_("code"), max_length=80, unique=True, validators=[code_validator])
    text = models.TextField(_("text"))
    raised_by = models.ForeignKey(
        "tracker.Organisation",
        verbose_name=_("raised by"),
        on_delete=models.PROTECT,
        related_name="raised_concerns",
    )
    raised_on = models.DateField(_("raised on"), null=True, blank=True)
    raised_on_precision = models.CharField(
        _("precision of date"),
        max_length=5,
        choices=DatePrecision.choices,
        default=DatePrecision.DAY,
    )
    source = models.ForeignKey(
        "instruments.Source",
        verbose_name=_("raised in"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="concerns",
    )
    country = CountryField(_("country"))
    themes = models.ManyToManyField(
        Theme, verbose_name=_("themes"), blank=True, related_name="concerns"
    )
    answered_by = models.ManyToManyField(
        Recommendation,
        verbose_name=_("answered by"),
        blank=True,
        related_name="concerns",
    )
    # Database defaults as well, so rows loaded raw (loaddata) get their times.
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_default=Now())

    objects = ConcernQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("concern")
        verbose_name_plural = _("concerns")

    def __str__(self) -> str:
        return self.code

    def natural_key(self) -> tuple[str]:
        return (self.code,)


class ProvisionLinkQuerySet(models.QuerySet["ProvisionLink"]):
    def get_by_natural_key(self, key: str) -> ProvisionLink:
        return self.get(key=key)


@audited
class ProvisionLink(models.Model):
    """A recommendation or a concern linked to a provision, with a typed relation.

    Where the source names no article, the link is to the instrument as a whole
    (`provision` empty). When a provision is named, `instrument` is its
    instrument; the service sets it, and `clean()` refuses a mismatch.
    """

    key = models.SlugField(_("key"), max_length=160, unique=True)
    recommendation = models.ForeignKey(
        Recommendation,
        verbose_name=_("recommendation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="provision_links",
    )
    concern = models.ForeignKey(
        Concern,
        verbose_name=_("concern"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="provision_links",
    )
    instrument = models.ForeignKey(
        "instruments.Instrument",
        verbose_name=_("instrument"),
        on_delete=models.PROTECT,
        related_name="links",
    )
    provision = models.ForeignKey(
        "instruments.Provision",
        verbose_name=_("provision"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="links",
    )
    relation = models.CharField(_("relation"), max_length=20, choices=LinkRelation.choices)
    note = models.TextField(_("note"), blank=True)

    objects = ProvisionLinkQuerySet.as_manager()

    class Meta:
        ordering = ["key"]
        verbose_name = _("provision link")
        verbose_name_plural = _("provision links")
        constraints = [
            models.CheckConstraint(
                condition=(Q(recommendation__isnull=False) & Q(concern__isnull=True))
                | (Q(recommendation__isnull=True) & Q(concern__isnull=False)),
                name="provision_link_has_one_subject",
            ),
            # One link per subject, target and relation. Written as partial
            # constraints because a NULL provision (the instrument as a whole)
            # would otherwise never collide, and SQLite lacks NULLS NOT DISTINCT.
            *[
                models.UniqueConstraint(
                    fields=[subject, target, "relation"],
                    condition=Q(**{f"{subject}__isnull": False, "provision__isnull": whole}),
                    name=f"provision_link_unique_{subject}_{target}",
                )
                for subject in ("recommendation", "concern")
                for target, whole in (("instrument", True), ("provision", False))
            ],
        ]

    def __str__(self) -> str:
        subject = self.recommendation or self.concern
        target = self.provision or self.instrument
        return f"{subject} → {target} ({self.get_relation_display()})"

    def natural_key(self) -> tuple[str]:
        return (self.key,)

    def clean(self) -> None:
        if (self.recommendation_id is None) == (self.concern_id is None):
            raise ValidationError(_("Link either a recommendation or a concern."))
        if (
            self.provision_id is not None
            and self.provision is not None
            and self.provision.instrument_id != self.instrument_id
        ):
            raise ValidationError({"provision": _("The provision belongs to another instrument.")})


# The columns an assessment's author writes. Frozen once the draft is submitted.
ASSESSMENT_CONTENT_COLUMNS = (
    "id",
    "key",
    "recommendation_id",
    "assessor_id",
    "status",
    "status_since",
    "evidence",
    "evidence_url",
    "source_id",
    "visibility",
    "corrects_id",
    "correction_reason",
    "recorded_by_id",
    "recorded_at",
    "submitted_at",
)
_IDENTITY_COLUMNS = ("id", "key", "recommendation_id", "assessor_id", "recorded_by_id")


def _row(prefix: str, columns: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"{prefix}.{column}" for column in columns) + ")"


# On PostgreSQL the database itself keeps assessments append-only: no DELETE,
# no TRUNCATE, and UPDATE only for the review's forward transitions: a draft
# may change (not its identity) or be submitted; a submitted assessment may be
# published or returned, changing only the review's own columns; published
# and returned assessments never change.
ASSESSMENT_APPEND_ONLY = pgtrigger.Trigger(
    name="assessment_append_only",
    when=pgtrigger.Before,
    operation=pgtrigger.Update | pgtrigger.Delete,
    func=f"""
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'status assessments are append-only: DELETE of % refused', OLD.key
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.review_state = 'draft' THEN
        IF NEW.review_state IN ('draft', 'submitted')
           AND {_row("NEW", _IDENTITY_COLUMNS)}
               IS NOT DISTINCT FROM {_row("OLD", _IDENTITY_COLUMNS)}
           AND NEW.chain_position IS NULL AND NEW.record_hash = '' THEN
            RETURN NEW;
        END IF;
    ELSIF OLD.review_state = 'submitted' AND NEW.review_state IN ('published', 'returned') THEN
        IF {_row("NEW", ASSESSMENT_CONTENT_COLUMNS)}
           IS NOT DISTINCT FROM {_row("OLD", ASSESSMENT_CONTENT_COLUMNS)} THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'status assessments are append-only: % of % (%) refused',
        TG_OP, OLD.key, OLD.review_state
        USING ERRCODE = 'restrict_violation';
    """,
)
ASSESSMENT_NO_TRUNCATE = refuse_truncate("assessment_no_truncate")


@audited
class StatusAssessment(models.Model):
    """One organisation's dated, evidence-backed judgement of a recommendation's status.

    The unit of the record's history. Content never changes once submitted: a
    correction is a new assessment that names the one it corrects and why. Only
    published assessments count for the headline status, reports and the API.
    """

    key = models.UUIDField(_("key"), default=uuid.uuid4, unique=True, editable=False)
    recommendation = models.ForeignKey(
        Recommendation,
        verbose_name=_("recommendation"),
        on_delete=models.PROTECT,
        related_name="assessments",
    )
    assessor = models.ForeignKey(
        "tracker.Organisation",
        verbose_name=_("assessed by"),
        on_delete=models.PROTECT,
        related_name="assessments",
    )
    status = models.CharField(_("status"), max_length=30, choices=Status.choices)
    status_since = models.DateField(_("holds from"))
    evidence = models.TextField(_("evidence"))
    evidence_url = models.URLField(_("evidence address"), blank=True)
    source = models.ForeignKey(
        "instruments.Source",
        verbose_name=_("source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assessments",
    )
    visibility = models.CharField(
        _("evidence visible to"),
        max_length=10,
        choices=Visibility.choices,
        default=Visibility.PUBLIC,
    )
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrects"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
    )
    correction_reason = models.TextField(_("reason for the correction"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="recorded_assessments",
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    review_state = models.CharField(
        _("review state"),
        max_length=10,
        choices=ReviewState.choices,
        default=ReviewState.DRAFT,
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reviewed_assessments",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)
    # Tamper evidence (see recommendations/chain.py): set once, on publication.
    chain_position = models.PositiveIntegerField(
        _("position in the recommendation's chain"), null=True, blank=True, editable=False
    )
    previous_hash = models.CharField(_("previous hash"), max_length=64, blank=True, editable=False)
    record_hash = models.CharField(_("hash"), max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["recommendation", "assessor", "status_since", "id"]
        triggers = [ASSESSMENT_APPEND_ONLY, ASSESSMENT_NO_TRUNCATE]
        verbose_name = _("status assessment")
        verbose_name_plural = _("status assessments")
        permissions = [
            ("review_statusassessment", _("Can publish or return submitted assessments")),
            ("view_internal_evidence", _("Can read evidence of any visibility")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s for s in Status.values if s != Status.NOT_ASSESSED]),
                name="assessment_status_assessable",
            ),
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(correction_reason=""),
                name="assessment_correction_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(corrects=F("id")), name="assessment_not_correcting_itself"
            ),
            models.CheckConstraint(
                condition=~Q(review_state=ReviewState.RETURNED) | ~Q(review_note=""),
                name="assessment_return_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(review_state__in=[ReviewState.DRAFT, ReviewState.SUBMITTED])
                | (Q(reviewed_at__isnull=False) & Q(submitted_at__isnull=False)),
                name="assessment_reviewed_has_times",
            ),
            models.CheckConstraint(
                condition=(
                    Q(review_state=ReviewState.PUBLISHED)
                    & Q(chain_position__isnull=False)
                    & ~Q(record_hash="")
                )
                | (
                    ~Q(review_state=ReviewState.PUBLISHED)
                    & Q(chain_position__isnull=True)
                    & Q(record_hash="")
                ),
                name="assessment_published_is_chained",
            ),
            models.UniqueConstraint(
                fields=["recommendation", "chain_position"],
                name="assessment_chain_position_unique",
            ),
        ]
        indexes = [
            # The timeline of one recommendation by one assessor, newest last;
            # serves the current-status refresh and as-of queries.
            models.Index(
                fields=["recommendation", "assessor", "status_since"],
                name="assessment_timeline_idx",
            ),
            # The reviewers' queue of submitted assessments.
            models.Index(fields=["review_state", "submitted_at"], name="assessment_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.recommendation} · {self.assessor} · {self.get_status_display()}"

    def natural_key(self) -> tuple[str]:
        return (str(self.key),)


@audited
class CurrentAssessment(models.Model):
    """Each assessor's standing published assessment of a recommendation.

    Derived data, kept up to date by the services in the transaction that
    publishes an assessment, so that lists and reports read the present state
    without scanning the whole history. `verify_history` recomputes it.
    """

    recommendation = models.ForeignKey(
        Recommendation, on_delete=models.CASCADE, related_name="current_assessments"
    )
    assessor = models.ForeignKey(
        "tracker.Organisation", on_delete=models.PROTECT, related_name="current_assessments"
    )
    assessment = models.OneToOneField(StatusAssessment, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=30, choices=Status.choices)
    status_since = models.DateField()

    class Meta:
        ordering = ["recommendation", "assessor"]
        verbose_name = _("current assessment")
        verbose_name_plural = _("current assessments")
        constraints = [
            models.UniqueConstraint(
                fields=["recommendation", "assessor"], name="current_assessment_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recommendation} · {self.assessor}: {self.status}"


class StatusPeriod(models.Model):
    """A span of days over which one assessor's assessment of a recommendation stood.

    Derived data, like `CurrentAssessment`: rewritten from the published
    history by the services in the transaction that publishes an assessment
    (corrections and back-dated assessments change the past too), and
    recomputed by `verify_history`. It lets "the status as of a day" be read
    with one range filter instead of a window over the whole history. Not
    audited: every row follows from audited, hash-chained assessments.
    """

    recommendation = models.ForeignKey(
        Recommendation, on_delete=models.CASCADE, related_name="status_periods"
    )
    assessor = models.ForeignKey("tracker.Organisation", on_delete=models.PROTECT, related_name="+")
    assessment = models.ForeignKey(StatusAssessment, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=30, choices=Status.choices)
    valid_from = models.DateField()
    # The first day it no longer stood; empty while it still stands.
    valid_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["recommendation", "assessor", "valid_from"]
        verbose_name = _("status period")
        verbose_name_plural = _("status periods")
        constraints = [
            models.UniqueConstraint(
                fields=["recommendation", "assessor", "valid_from"],
                name="status_period_unique",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="status_period_not_empty",
            ),
        ]
        indexes = [
            # As-of reads filter on the start day; rows still standing are
            # most of a late day's answer.
            models.Index(fields=["valid_from"], name="status_period_from_idx"),
        ]

    def __str__(self) -> str:
        until = self.valid_until.isoformat() if self.valid_until else "…"
        who = f"{self.recommendation_id} · {self.assessor_id}"
        return f"{who}: {self.status} {self.valid_from} to {until}"


class HeadlinePeriod(models.Model):
    """A span of days over which a recommendation's headline status held.

    Derived from its `StatusPeriod` rows by the headline rule, in the same
    transaction; a recommendation has no row for days nobody had assessed it.
    Reports as of a past day group these rows in the database as the current
    overview groups `Recommendation.headline_status`.
    """

    recommendation = models.ForeignKey(
        Recommendation, on_delete=models.CASCADE, related_name="headline_periods"
    )
    headline = models.CharField(max_length=30, choices=Status.choices)
    disputed = models.BooleanField(default=False)
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["recommendation", "valid_from"]
        verbose_name = _("headline period")
        verbose_name_plural = _("headline periods")
        constraints = [
            models.UniqueConstraint(
                fields=["recommendation", "valid_from"], name="headline_period_unique"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="headline_period_not_empty",
            ),
        ]
        indexes = [
            models.Index(fields=["valid_from"], name="headline_period_from_idx"),
        ]

    def __str__(self) -> str:
        until = self.valid_until.isoformat() if self.valid_until else "…"
        return f"{self.recommendation_id}: {self.headline} {self.valid_from} to {until}"


class OverviewCount(models.Model):
    """A net change to one number of the current overview, written by PostgreSQL.

    Statement triggers on recommendations, their provision links, their
    themes and the current assessments add a row of +n or -n here in the
    transaction of every change (migration 0006), whichever path made it, so
    the overview of every recommendation reads a few hundred rows instead of
    grouping the whole data set. Rows are only ever inserted, so concurrent
    writers never wait for each other on a counter; `overview_counts_compact`
    folds them into one row per number from time to time. `dimension` is
    `status`, `disputed`, `issued_by`, `country`, `instrument`, `theme` or
    `assessor`; `key` the organisation, instrument or theme id, or the
    country code. `verify_history` checks the sums against a recount.
    """

    dimension = models.CharField(max_length=20)
    key = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=30, blank=True)
    n = models.IntegerField()

    class Meta:
        verbose_name = _("overview count")
        verbose_name_plural = _("overview counts")

    def __str__(self) -> str:
        return f"{self.dimension} {self.key} {self.status}: {self.n:+d}"


class AsOfCount(models.Model):
    """A change, on one day, to one number of the overview as of that day; written by PostgreSQL.

    Statement triggers on recommendations, their headline and status
    periods, links and themes write, in the transaction of every change,
    what it changes in every day's overview from the day it takes effect
    (migration 0007). The overview as of a day is the sum of the rows up to
    it: the `monthly` rows of the months before it and the daily rows of its
    own month. Like `OverviewCount`, rows are only inserted and folded from
    time to time; the same dimensions, plus `overdue`. `verify_history`
    checks the sums against a recount.
    """

    monthly = models.BooleanField()
    # The day the change takes effect; for a monthly row, the month's first.
    day = models.DateField()
    dimension = models.CharField(max_length=20)
    key = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=30, blank=True)
    n = models.IntegerField()

    class Meta:
        verbose_name = _("as-of count")
        verbose_name_plural = _("as-of counts")
        indexes = [models.Index(fields=["monthly", "day"], name="as_of_count_day_idx")]

    def __str__(self) -> str:
        grain = "month of " if self.monthly else ""
        return f"{grain}{self.day} {self.dimension} {self.key} {self.status}: {self.n:+d}"


class AsOfPending(models.Model):
    """A recommendation whose as-of counts a bulk load left to be added in one go.

    The as-of count triggers leave the recommendations named here alone
    (migration 0008); `recommendations_as_of_add_pending()`, which
    `overview_counts_compact` calls, adds each one's whole contribution as
    it then stands and removes its row. Synthetic generation names its
    recommendations here before writing them, so that a hundred thousand
    are counted in one grouped statement at the end rather than block by
    block. No foreign key: a row may be written before its recommendation,
    and outlive it (a deleted recommendation adds nothing).
    """

    recommendation_id = models.BigIntegerField(primary_key=True)

    class Meta:
        verbose_name = _("recommendation awaiting as-of counts")
        verbose_name_plural = _("recommendations awaiting as-of counts")

    def __str__(self) -> str:
        return f"recommendation {self.recommendation_id}"
