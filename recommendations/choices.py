"""The status vocabulary and the other vocabularies of recommendations.

`Status` is defined here once and used everywhere: models, services, admin,
API, reports and imports. The first five values follow ODIHR's own scale of
implementation; `no_longer_relevant` closes a recommendation overtaken by events.
"""

from collections.abc import Iterable

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    NOT_ASSESSED = "not_assessed", _("Not assessed")
    NOT_IMPLEMENTED = "not_implemented", _("Not implemented")
    PARTIALLY_IMPLEMENTED = "partially_implemented", _("Partially implemented")
    MOSTLY_IMPLEMENTED = "mostly_implemented", _("Mostly implemented")
    FULLY_IMPLEMENTED = "fully_implemented", _("Fully implemented")
    NO_LONGER_RELEVANT = "no_longer_relevant", _("No longer relevant")


# Statuses an assessor can give. `not_assessed` is what a recommendation has
# before anyone assessed it; recording it as an assessment would say nothing.
ASSESSABLE_STATUSES = [choice for choice in Status if choice != Status.NOT_ASSESSED]

# Order used by the headline rule: when current assessments disagree, the
# headline is the least advanced of them (a donor should never read a rosier
# status than one assessor gives). `no_longer_relevant` ranks last so that it
# is the headline only when every assessor says so.
STATUS_RANK = {
    Status.NOT_IMPLEMENTED: 0,
    Status.PARTIALLY_IMPLEMENTED: 1,
    Status.MOSTLY_IMPLEMENTED: 2,
    Status.FULLY_IMPLEMENTED: 3,
    Status.NO_LONGER_RELEVANT: 4,
}


def headline_from(statuses: Iterable[str]) -> tuple[Status, bool]:
    """The headline status and the disputed flag for a set of standing statuses."""
    distinct = {Status(status) for status in statuses}
    if not distinct:
        return Status.NOT_ASSESSED, False
    headline = min(distinct, key=lambda status: STATUS_RANK[status])
    return headline, len(distinct) > 1


# Crosswalk from other vocabularies, for imports. Keys are compared lower-cased
# with spaces, hyphens and underscores folded together (see `status_from_label`).
#
# - ODIHR's legislative assessments: fully / mostly / partially / not implemented.
# - UPR responses (supported / noted) are the state's *response*, not a status of
#   implementation: they map to `StateResponse`, and the status stays not assessed.
# - Action-plan progress words used by many NGOs' trackers.
STATUS_CROSSWALK = {
    "fully implemented": Status.FULLY_IMPLEMENTED,
    "fully": Status.FULLY_IMPLEMENTED,
    "implemented": Status.FULLY_IMPLEMENTED,
    "completed": Status.FULLY_IMPLEMENTED,
    "done": Status.FULLY_IMPLEMENTED,
    "mostly implemented": Status.MOSTLY_IMPLEMENTED,
    "mostly": Status.MOSTLY_IMPLEMENTED,
    "largely implemented": Status.MOSTLY_IMPLEMENTED,
    "partially implemented": Status.PARTIALLY_IMPLEMENTED,
    "partially": Status.PARTIALLY_IMPLEMENTED,
    "partial": Status.PARTIALLY_IMPLEMENTED,
    "in progress": Status.PARTIALLY_IMPLEMENTED,
    "ongoing": Status.PARTIALLY_IMPLEMENTED,
    "not implemented": Status.NOT_IMPLEMENTED,
    "not": Status.NOT_IMPLEMENTED,
    "not started": Status.NOT_IMPLEMENTED,
    "no progress": Status.NOT_IMPLEMENTED,
    "no longer relevant": Status.NO_LONGER_RELEVANT,
    "obsolete": Status.NO_LONGER_RELEVANT,
    "not assessed": Status.NOT_ASSESSED,
    "unknown": Status.NOT_ASSESSED,
}


class StateResponse(models.TextChoices):
    """What the state said of a recommendation, kept apart from implementation."""

    ACCEPTED = "accepted", _("Accepted")
    NOTED = "noted", _("Noted")
    REJECTED = "rejected", _("Rejected")
    NO_RESPONSE = "no_response", _("No response")


RESPONSE_CROSSWALK = {
    "accepted": StateResponse.ACCEPTED,
    "supported": StateResponse.ACCEPTED,
    "noted": StateResponse.NOTED,
    "rejected": StateResponse.REJECTED,
    "no response": StateResponse.NO_RESPONSE,
    "pending": StateResponse.NO_RESPONSE,
}


def _fold(label: str) -> str:
    return " ".join(label.lower().replace("-", " ").replace("_", " ").split())


def status_from_label(label: str) -> Status:
    """Map a status word from another vocabulary to ours; KeyError if unknown."""
    folded = _fold(label)
    if folded in Status.values:
        return Status(folded)
    if folded.replace(" ", "_") in Status.values:
        return Status(folded.replace(" ", "_"))
    return STATUS_CROSSWALK[folded]


def response_from_label(label: str) -> StateResponse:
    """Map a state-response word (UPR supported/noted, …) to ours; KeyError if unknown."""
    folded = _fold(label)
    if folded.replace(" ", "_") in StateResponse.values:
        return StateResponse(folded.replace(" ", "_"))
    return RESPONSE_CROSSWALK[folded]


class RecommendationKind(models.TextChoices):
    """What kind of statement the record is; all are followed up the same way."""

    RECOMMENDATION = "recommendation", _("Recommendation")
    PRINCIPLE = "principle", _("Principle to reflect")
    AIM = "aim", _("Aim")
    COMMITMENT = "commitment", _("Commitment announced by the state")


class ReviewState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    PUBLISHED = "published", _("Published")
    RETURNED = "returned", _("Returned")


class Visibility(models.TextChoices):
    """Who may read an assessment's evidence. The status itself is always public."""

    PUBLIC = "public", _("Public")
    PARTNERS = "partners", _("Partners")
    INTERNAL = "internal", _("Internal")


class LinkRelation(models.TextChoices):
    """How a recommendation or concern stands to a provision."""

    TO_CHANGE = "to_change", _("Domestic provision to change")
    STANDARD = "standard", _("International standard to meet")
    IMPLEMENTED_BY = "implemented_by", _("Provision that implements it")
    CITES = "cites", _("Cited")
