"""Instruments, their provisions, and the documents that support every record."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from django_stubs_ext import StrOrPromise

from instruments.choices import (
    InstrumentKind,
    InstrumentState,
    Jurisdiction,
    ParticipationStatus,
    RelationKind,
    SourceKind,
)
from tracker.choices import DatePrecision
from tracker.dates import format_partial_date, truncated_to_precision
from tracker.history import audited

# Akoma Ntoso style component identifiers: `art_14`, `art_3__para_1`,
# `chp_2__art_5__para_1__pnt_a`. Lower case, parts joined by double underscores.
EID_PATTERN = r"^[a-z]+_[a-z0-9]+(?:-[a-z0-9]+)*(?:__[a-z]+_[a-z0-9]+(?:-[a-z0-9]+)*)*$"
eid_validator = RegexValidator(
    EID_PATTERN,
    _("Use an Akoma Ntoso style path such as art_14 or art_3__para_1."),
)


def _precision_field(verbose_name: StrOrPromise) -> models.CharField[str, str]:
    return models.CharField(
        verbose_name,
        max_length=5,
        choices=DatePrecision.choices,
        default=DatePrecision.DAY,
    )


class SourceQuerySet(models.QuerySet["Source"]):
    def get_by_natural_key(self, key: str) -> Source:
        return self.get(key=key)


@audited
class Source(models.Model):
    """A document a fact comes from: a press release, statement, report or opinion.

    When the tracker keeps the document itself (the seed corpus does), `document`
    names its text file under SOURCE_DOCUMENTS_DIR and every quote citing it can
    be checked against it. Documents only known by reference (a report a press
    release describes) have no file.
    """

    key = models.SlugField(_("key"), max_length=120, unique=True)
    title = models.CharField(_("title"), max_length=500)
    kind = models.CharField(_("kind"), max_length=20, choices=SourceKind.choices)
    published_on = models.DateField(_("published on"), null=True, blank=True)
    published_on_precision = _precision_field(_("precision of publication date"))
    publisher = models.ForeignKey(
        "tracker.Organisation",
        verbose_name=_("publisher"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="published_sources",
    )
    author = models.CharField(_("author or speaker"), max_length=300, blank=True)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="en"
    )
    url = models.URLField(_("address"), blank=True)
    document = models.CharField(
        _("document file"),
        max_length=200,
        blank=True,
        help_text=_("Text file of the document under the source documents directory."),
    )
    description = models.TextField(_("description"), blank=True)

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["published_on", "key"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")

    def __str__(self) -> str:
        return self.title

    def natural_key(self) -> tuple[str]:
        return (self.key,)

    @property
    def published_display(self) -> str:
        return format_partial_date(self.published_on, self.published_on_precision)

    def document_path(self) -> Path | None:
        if not self.document:
            return None
        return Path(settings.SOURCE_DOCUMENTS_DIR) / self.document

    def read_text(self) -> str:
        path = self.document_path()
        return path.read_text(encoding="utf-8") if path else ""

    def clean(self) -> None:
        if self.document and ("/" in self.document or self.document.startswith(".")):
            raise ValidationError({"document": _("Give a file name, not a path.")})
        if self.published_on and not truncated_to_precision(
            self.published_on, self.published_on_precision
        ):
            raise ValidationError(
                {"published_on": _("A date known to a month or year starts that period.")}
            )


class InstrumentQuerySet(models.QuerySet["Instrument"]):
    def get_by_natural_key(self, slug: str) -> Instrument:
        return self.get(slug=slug)


@audited
class Instrument(models.Model):
    """A legal or policy text: a constitution, law, draft, programme, treaty, commitment.

    Dates are kept to the precision the sources give. Where sources disagree on
    a date (one text dates the Law on Refugees to 2009, another to 2010) the
    field stays empty and each claim is a citation carrying its value.
    """

    slug = models.SlugField(_("key"), max_length=120, unique=True)
    title = models.CharField(_("title"), max_length=500)
    short_title = models.CharField(_("short title"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=InstrumentKind.choices)
    jurisdiction = models.CharField(_("jurisdiction"), max_length=20, choices=Jurisdiction.choices)
    country = CountryField(_("country"), blank=True, help_text=_("For national instruments."))
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=InstrumentState.choices,
        default=InstrumentState.ADOPTED,
    )
    adopted_on = models.DateField(_("adopted on"), null=True, blank=True)
    adopted_on_precision = _precision_field(_("precision of adoption date"))
    in_force_on = models.DateField(_("in force from"), null=True, blank=True)
    in_force_on_precision = _precision_field(_("precision of entry into force"))
    period_start = models.DateField(_("period from"), null=True, blank=True)
    period_end = models.DateField(_("period to"), null=True, blank=True)
    adopted_by = models.ForeignKey(
        "tracker.Organisation",
        verbose_name=_("adopted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adopted_instruments",
    )
    description = models.TextField(_("description"), blank=True)
    url = models.URLField(_("address of the official text"), blank=True)

    objects = InstrumentQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        verbose_name = _("instrument")
        verbose_name_plural = _("instruments")
        constraints = [
            models.CheckConstraint(
                condition=Q(in_force_on__isnull=True)
                | Q(adopted_on__isnull=True)
                | Q(in_force_on__gte=F("adopted_on")),
                name="instrument_in_force_not_before_adoption",
            ),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_end__gte=F("period_start")),
                name="instrument_period_in_order",
            ),
            models.CheckConstraint(
                condition=~Q(jurisdiction=Jurisdiction.NATIONAL) | ~Q(country=""),
                name="instrument_national_has_country",
            ),
        ]

    def __str__(self) -> str:
        return self.short_title or self.title

    def natural_key(self) -> tuple[str]:
        return (self.slug,)

    @property
    def adopted_display(self) -> str:
        return format_partial_date(self.adopted_on, self.adopted_on_precision)

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        if self.jurisdiction == Jurisdiction.NATIONAL and not self.country:
            errors["country"] = _("A national instrument names its country.")
        if self.adopted_on and self.in_force_on and self.in_force_on < self.adopted_on:
            errors["in_force_on"] = _("An instrument cannot be in force before it is adopted.")
        if self.period_start and self.period_end and self.period_end < self.period_start:
            errors["period_end"] = _("The period ends before it starts.")
        for field in ("adopted_on", "in_force_on"):
            value = getattr(self, field)
            if value and not truncated_to_precision(value, getattr(self, f"{field}_precision")):
                errors[field] = _("A date known to a month or year starts that period.")
        if errors:
            raise ValidationError(errors)


class InstrumentRelationQuerySet(models.QuerySet["InstrumentRelation"]):
    def get_by_natural_key(self, subject: str, kind: str, target: str) -> InstrumentRelation:
        return self.get(subject__slug=subject, kind=kind, target__slug=target)


@audited
class InstrumentRelation(models.Model):
    """A typed link between two instruments, read "subject <kind> target".

    A draft law `became` the law adopted from it; a protocol is `protocol_to`
    its convention; a law `implements` constitutional provisions.
    """

    subject = models.ForeignKey(
        Instrument,
        verbose_name=_("instrument"),
        on_delete=models.CASCADE,
        related_name="relations_out",
    )
    kind = models.CharField(_("relation"), max_length=20, choices=RelationKind.choices)
    target = models.ForeignKey(
        Instrument,
        verbose_name=_("related instrument"),
        on_delete=models.CASCADE,
        related_name="relations_in",
    )
    note = models.TextField(_("note"), blank=True)

    objects = InstrumentRelationQuerySet.as_manager()

    class Meta:
        ordering = ["subject__title", "kind"]
        verbose_name = _("relation between instruments")
        verbose_name_plural = _("relations between instruments")
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "kind", "target"], name="instrument_relation_unique"
            ),
            models.CheckConstraint(
                condition=~Q(subject=F("target")), name="instrument_relation_not_to_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.get_kind_display()} {self.target}"

    def natural_key(self) -> tuple[str, str, str]:
        return (self.subject.slug, self.kind, self.target.slug)

    natural_key.dependencies = ["instruments.instrument"]  # type: ignore[attr-defined]


class TreatyParticipationQuerySet(models.QuerySet["TreatyParticipation"]):
    def get_by_natural_key(self, instrument: str, country: str, status: str) -> TreatyParticipation:
        return self.get(instrument__slug=instrument, country=country, status=status)


@audited
class TreatyParticipation(models.Model):
    """One state's act towards a treaty: signature, ratification, accession."""

    instrument = models.ForeignKey(
        Instrument,
        verbose_name=_("treaty"),
        on_delete=models.CASCADE,
        related_name="participations",
    )
    country = CountryField(_("state"))
    status = models.CharField(_("act"), max_length=10, choices=ParticipationStatus.choices)
    date = models.DateField(_("date"), null=True, blank=True)
    date_precision = _precision_field(_("precision of date"))
    note = models.TextField(_("note"), blank=True)

    objects = TreatyParticipationQuerySet.as_manager()

    class Meta:
        ordering = ["instrument__title", "country", "date"]
        verbose_name = _("treaty participation")
        verbose_name_plural = _("treaty participations")
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "country", "status"], name="treaty_participation_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country.name}: {self.get_status_display()} {self.instrument}"

    def natural_key(self) -> tuple[str, str, str]:
        return (self.instrument.slug, str(self.country), self.status)

    natural_key.dependencies = ["instruments.instrument"]  # type: ignore[attr-defined]

    @property
    def date_display(self) -> str:
        return format_partial_date(self.date, self.date_precision)

    def clean(self) -> None:
        if self.date and not truncated_to_precision(self.date, self.date_precision):
            raise ValidationError(
                {"date": _("A date known to a month or year starts that period.")}
            )


class ProvisionQuerySet(models.QuerySet["Provision"]):
    def get_by_natural_key(self, instrument: str, eid: str) -> Provision:
        return self.get(instrument__slug=instrument, eid=eid)


@audited
class Provision(models.Model):
    """An addressable part of an instrument: Article 14; Article 3, paragraph 1.

    `eid` is a path in the Akoma Ntoso style, unique within its instrument and
    stable across editions, so links and partners can address the provision.
    """

    instrument = models.ForeignKey(
        Instrument,
        verbose_name=_("instrument"),
        on_delete=models.CASCADE,
        related_name="provisions",
    )
    eid = models.CharField(_("path"), max_length=200, validators=[eid_validator])
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    label = models.CharField(_("label"), max_length=100, help_text=_("As cited: Article 14."))
    heading = models.CharField(_("heading"), max_length=500, blank=True)
    text = models.TextField(_("text"), blank=True)

    objects = ProvisionQuerySet.as_manager()

    class Meta:
        ordering = ["instrument__title", "eid"]
        verbose_name = _("provision")
        verbose_name_plural = _("provisions")
        constraints = [
            models.UniqueConstraint(fields=["instrument", "eid"], name="provision_eid_unique"),
            models.CheckConstraint(
                condition=Q(eid__regex=EID_PATTERN), name="provision_eid_well_formed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument}, {self.label}"

    def natural_key(self) -> tuple[str, str]:
        return (self.instrument.slug, self.eid)

    natural_key.dependencies = ["instruments.instrument"]  # type: ignore[attr-defined]

    def clean(self) -> None:
        if self.parent_id is not None and self.parent is not None:
            if self.parent.instrument_id != self.instrument_id:
                raise ValidationError({"parent": _("The parent belongs to another instrument.")})
            if not self.eid.startswith(self.parent.eid + "__"):
                raise ValidationError({"eid": _("The path must extend its parent's path.")})


# The records a citation can support. Exactly one of these is set on every row.
CITATION_TARGETS = (
    "organisation",
    "described_source",
    "instrument",
    "instrument_relation",
    "treaty_participation",
    "provision",
    "theme",
    "recommendation",
    "concern",
    "provision_link",
)


def _exactly_one_target() -> Q:
    condition = Q()
    for target in CITATION_TARGETS:
        one = Q(**{f"{target}__isnull": False})
        for other in CITATION_TARGETS:
            if other != target:
                one &= Q(**{f"{other}__isnull": True})
        condition |= one
    return condition


class CitationQuerySet(models.QuerySet["Citation"]):
    def get_by_natural_key(self, key: str) -> Citation:
        return self.get(key=key)


@audited
class Citation(models.Model):
    """The quote from a source that supports one record, or one claim about it.

    A citation may carry a claim about a single field (`claim_field`,
    `claim_value`): that is how two sources that disagree (the year a law was
    adopted) are both kept, each with its own quote.
    """

    key = models.SlugField(_("key"), max_length=160, unique=True)
    source = models.ForeignKey(
        Source, verbose_name=_("source"), on_delete=models.PROTECT, related_name="citations"
    )
    quote = models.TextField(_("quote"))
    claim_field = models.CharField(_("field the claim is about"), max_length=60, blank=True)
    claim_value = models.CharField(_("value claimed"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)

    organisation = models.ForeignKey(
        "tracker.Organisation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="citations",
    )
    described_source = models.ForeignKey(
        Source,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="descriptions",
    )
    instrument = models.ForeignKey(
        Instrument, null=True, blank=True, on_delete=models.CASCADE, related_name="citations"
    )
    instrument_relation = models.ForeignKey(
        InstrumentRelation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="citations",
    )
    treaty_participation = models.ForeignKey(
        TreatyParticipation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="citations",
    )
    provision = models.ForeignKey(
        Provision, null=True, blank=True, on_delete=models.CASCADE, related_name="citations"
    )
    theme = models.ForeignKey(
        "recommendations.Theme",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="citations",
    )
    recommendation = models.ForeignKey(
        "recommendations.Recommendation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="citations",
    )
    concern = models.ForeignKey(
        "recommendations.Concern",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="citations",
    )
    provision_link = models.ForeignKey(
        "recommendations.ProvisionLink",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="citations",
    )

    objects = CitationQuerySet.as_manager()

    class Meta:
        ordering = ["key"]
        verbose_name = _("citation")
        verbose_name_plural = _("citations")
        constraints = [
            models.CheckConstraint(
                condition=_exactly_one_target(), name="citation_supports_exactly_one_record"
            ),
            models.CheckConstraint(
                condition=Q(claim_field="") | ~Q(claim_value=""),
                name="citation_claim_has_value",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}: “{self.quote[:60]}”"

    def natural_key(self) -> tuple[str]:
        return (self.key,)

    @property
    def target(self) -> models.Model | None:
        for name in CITATION_TARGETS:
            value = getattr(self, name)
            if value is not None:
                return value  # type: ignore[no-any-return]
        return None

    def clean(self) -> None:
        targets = [name for name in CITATION_TARGETS if getattr(self, f"{name}_id") is not None]
        if len(targets) != 1:
            raise ValidationError(_("A citation supports exactly one record."))
        if self.claim_field and not self.claim_value:
            raise ValidationError({"claim_value": _("A claim states the value it claims.")})
