"""Reads of the assessment history that reports, the API and the admin share.

The status "as of" a day is what the record now says held on that day:
each assessor's latest published assessment holding from that day or
before, unless a published correction replaced it (corrections apply to the
past too: they fix the record). With `known_at`, the answer is instead what
the record said at that moment: only publications up to then count.

Each function costs a fixed number of queries whatever the data's size.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from recommendations.choices import ReviewState, Status, headline_from
from recommendations.models import (
    Recommendation,
    RecommendationQuerySet,
    StatusAssessment,
    StatusPeriod,
)


@dataclass(frozen=True)
class StatusAsOf:
    """One recommendation's status on a day: headline, dispute, and each assessor's."""

    headline: Status
    disputed: bool
    by_assessor: dict[int, Status] = field(default_factory=dict)


NOT_ASSESSED = StatusAsOf(Status.NOT_ASSESSED, False, {})


def _standing_assessments(
    day: datetime.date,
    known_at: datetime.datetime | None,
    recommendation_ids: list[int] | None,
) -> QuerySet[StatusAssessment, tuple[int, int, str]]:
    published = Q(review_state=ReviewState.PUBLISHED)
    if known_at is not None:
        published &= Q(reviewed_at__lte=known_at)
    corrections = StatusAssessment.objects.filter(published, corrects=OuterRef("pk"))
    rows = StatusAssessment.objects.filter(published, status_since__lte=day).filter(
        ~Exists(corrections)
    )
    if recommendation_ids is not None:
        rows = rows.filter(recommendation_id__in=recommendation_ids)
    # One row per recommendation and assessor: the latest by holding date.
    # The partition and order follow `assessment_timeline_idx`
    # (recommendation, assessor, status_since), which serves this scan.
    return (
        rows.annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("recommendation_id"), F("assessor_id")],
                order_by=[F("status_since").desc(), F("reviewed_at").desc(), F("id").desc()],
            )
        )
        .filter(rank=1)
        .values_list("recommendation_id", "assessor_id", "status")
    )


def standing_on(
    day: datetime.date, recommendation_ids: list[int] | None = None
) -> QuerySet[StatusPeriod, tuple[int, int, str]]:
    """(recommendation, assessor, status) of every assessment standing on `day`.

    Read from the periods the services keep on write, which give what the
    window in `_standing_assessments` computes from the whole history.
    """
    rows = StatusPeriod.objects.filter(valid_from__lte=day).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=day)
    )
    if recommendation_ids is not None:
        rows = rows.filter(recommendation_id__in=recommendation_ids)
    return rows.order_by().values_list("recommendation_id", "assessor_id", "status")


def statuses_as_of(
    day: datetime.date,
    *,
    known_at: datetime.datetime | None = None,
    recommendation_ids: list[int] | None = None,
) -> dict[int, StatusAsOf]:
    """The status of every assessed recommendation on `day`, by recommendation id.

    Recommendations missing from the result were not assessed then
    (`NOT_ASSESSED`). One query: over the kept periods, or with `known_at`
    over the history itself, since the periods only know the record as it
    stands now. Grouping happens here in Python, after the
    database filtered to one row per assessor, rather than with
    `.values().annotate(Count())` over the window, which Django was seen to
    group before filtering.
    """
    by_recommendation: dict[int, dict[int, Status]] = defaultdict(dict)
    rows: Iterable[tuple[int, int, str]] = (
        _standing_assessments(day, known_at, recommendation_ids)
        if known_at is not None
        else standing_on(day, recommendation_ids)
    )
    for recommendation_id, assessor_id, status in rows:
        by_recommendation[recommendation_id][assessor_id] = Status(status)
    result = {}
    for recommendation_id, by_assessor in by_recommendation.items():
        headline, disputed = headline_from(by_assessor.values())
        result[recommendation_id] = StatusAsOf(headline, disputed, by_assessor)
    return result


@dataclass(frozen=True)
class StatusChange:
    """A recommendation whose status differs between two days, per assessor and overall."""

    recommendation_id: int
    before: StatusAsOf
    after: StatusAsOf

    @property
    def changed_assessors(self) -> dict[int, tuple[Status, Status]]:
        assessors = set(self.before.by_assessor) | set(self.after.by_assessor)
        return {
            assessor: (
                self.before.by_assessor.get(assessor, Status.NOT_ASSESSED),
                self.after.by_assessor.get(assessor, Status.NOT_ASSESSED),
            )
            for assessor in sorted(assessors)
            if self.before.by_assessor.get(assessor) != self.after.by_assessor.get(assessor)
        }


def changes_between(
    start: datetime.date,
    end: datetime.date,
    *,
    known_at: datetime.datetime | None = None,
    recommendation_ids: list[int] | None = None,
) -> list[StatusChange]:
    """Recommendations whose status on `end` differs from that on `start`. Two queries."""
    if end < start:
        raise ValueError("The end of the period comes before its start.")
    before = statuses_as_of(start, known_at=known_at, recommendation_ids=recommendation_ids)
    after = statuses_as_of(end, known_at=known_at, recommendation_ids=recommendation_ids)
    changes = []
    for recommendation_id in sorted(set(before) | set(after)):
        old = before.get(recommendation_id, NOT_ASSESSED)
        new = after.get(recommendation_id, NOT_ASSESSED)
        if old.by_assessor != new.by_assessor:
            changes.append(StatusChange(recommendation_id, old, new))
    return changes


# How far ahead a follow-up date counts as "soon due" in reminders and on the
# monitor's home page.
SOON_DUE_DAYS = 30


def recommendations_followed_by(organisation_id: int) -> RecommendationQuerySet:
    """Recommendations an organisation follows: addressed to it, or assessed by it."""
    return Recommendation.objects.filter(
        Q(addressed_to=organisation_id) | Q(assessments__assessor=organisation_id)
    ).distinct()


@dataclass(frozen=True)
class Deadlines:
    """An organisation's overdue and soon-due recommendations, each ordered by due date."""

    overdue: list[Recommendation]
    soon_due: list[Recommendation]


def deadlines_of(organisation_id: int, *, today: datetime.date) -> Deadlines:
    """The follow-up deadlines an organisation's monitors are reminded of. Two queries."""
    followed = recommendations_followed_by(organisation_id).exclude(
        headline_status__in=[Status.FULLY_IMPLEMENTED, Status.NO_LONGER_RELEVANT]
    )
    soon_until = today + datetime.timedelta(days=SOON_DUE_DAYS)
    return Deadlines(
        overdue=list(followed.overdue(today).order_by("follow_up_due", "code")),
        soon_due=list(
            followed.filter(follow_up_due__gte=today, follow_up_due__lte=soon_until).order_by(
                "follow_up_due", "code"
            )
        ),
    )
