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
