"""Vocabularies of the tracker app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    INTERGOVERNMENTAL = "intergovernmental", _("Intergovernmental organisation")
    INSTITUTION = "institution", _("Institution of an intergovernmental organisation")
    FIELD_OPERATION = "field_operation", _("Field operation")
    UN_BODY = "un_body", _("United Nations body or agency")
    GOVERNMENT = "government", _("Government")
    MINISTRY = "ministry", _("Ministry or state agency")
    PARLIAMENT = "parliament", _("Parliament")
    HEAD_OF_STATE = "head_of_state", _("Head of state")
    NATIONAL_HUMAN_RIGHTS_INSTITUTION = (
        "nhri",
        _("National human rights institution"),
    )
    NGO = "ngo", _("Non-governmental organisation")
    RELIGIOUS = "religious", _("Religious organisation")
    MEDIA = "media", _("Media")
    OTHER = "other", _("Other")


class DatePrecision(models.TextChoices):
    """How much of a stored date the source actually states.

    Sources often give only a year ("passed in 2010") or a month ("December
    2009"); the date is then stored as the first day of that period and this
    says which parts are real.
    """

    DAY = "day", _("Day")
    MONTH = "month", _("Month")
    YEAR = "year", _("Year")
