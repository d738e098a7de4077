"""Vocabularies for instruments, provisions and sources."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class InstrumentKind(models.TextChoices):
    CONSTITUTION = "constitution", _("Constitution")
    CONSTITUTIONAL_LAW = "constitutional_law", _("Constitutional law")
    LAW = "law", _("Law")
    DRAFT_LAW = "draft_law", _("Draft law")
    CODE = "code", _("Code")
    DECREE = "decree", _("Decree or resolution")
    PROGRAMME = "programme", _("Programme")
    CONCEPT = "concept", _("Concept or strategy")
    ACTION_PLAN = "action_plan", _("Action plan")
    CONVENTION = "convention", _("Convention")
    COVENANT = "covenant", _("Covenant")
    PROTOCOL = "protocol", _("Protocol")
    BILATERAL_AGREEMENT = "bilateral_agreement", _("Bilateral agreement")
    MULTILATERAL_AGREEMENT = "multilateral_agreement", _("Multilateral agreement")
    MEMORANDUM = "memorandum", _("Memorandum of understanding")
    DECLARATION = "declaration", _("Declaration")
    OSCE_COMMITMENT = "osce_commitment", _("OSCE commitment")


class Jurisdiction(models.TextChoices):
    NATIONAL = "national", _("National")
    INTERNATIONAL = "international", _("International (universal)")
    REGIONAL = "regional", _("Regional")
    BILATERAL = "bilateral", _("Bilateral")


class InstrumentState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ADOPTED = "adopted", _("Adopted")
    IN_FORCE = "in_force", _("In force")
    AMENDED = "amended", _("Amended")
    SUPERSEDED = "superseded", _("Superseded")


class RelationKind(models.TextChoices):
    """How one instrument stands to another, read "subject <kind> object"."""

    BECAME = "became", _("became (a draft and the instrument adopted from it)")
    PROTOCOL_TO = "protocol_to", _("is a protocol to")
    BASED_ON = "based_on", _("was elaborated on the basis of")
    IMPLEMENTS = "implements", _("implements or elaborates")
    ESTABLISHED_BY = "established_by", _("was established by")
    AMENDS = "amends", _("amends")
    SUPERSEDES = "supersedes", _("supersedes")


class ParticipationStatus(models.TextChoices):
    SIGNED = "signed", _("Signed")
    RATIFIED = "ratified", _("Ratified")
    ACCEDED = "acceded", _("Acceded")
    PARTY = "party", _("Party (how it became one not stated)")
    JOINED = "joined", _("Joined")


class SourceKind(models.TextChoices):
    PRESS_RELEASE = "press_release", _("Press release")
    NEWS_ARTICLE = "news_article", _("News article")
    STATEMENT = "statement", _("Statement")
    REPORT = "report", _("Report")
    LEGAL_OPINION = "legal_opinion", _("Legal opinion")
    OTHER = "other", _("Other")
