"""Every write to recommendations and assessments goes through here.

The admin, the API, imports and Celery tasks call these functions, so each
path checks the same permissions, validates the same way and leaves the same
history. Functions are keyword-only, validate with `full_clean()` before
saving, and run in one transaction.

Headline rule (documented in README.md): each assessor's *current* assessment
is its latest published one that no published correction replaces, latest by
the date from which it holds, then by publication time. The headline status is
the least advanced of the current assessments (ranked by `STATUS_RANK`, so
`no_longer_relevant` wins only when every assessor says so), and the
recommendation is `disputed` when the current assessments do not all agree.
A recommendation nobody has assessed is `not_assessed`.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from instruments.models import Instrument, Provision, Source
from recommendations import chain
from recommendations.choices import (
    LinkRelation,
    RecommendationKind,
    ReviewState,
    StateResponse,
    Status,
    Visibility,
    headline_from,
)
from recommendations.models import (
    Concern,
    CurrentAssessment,
    ProvisionLink,
    Recommendation,
    SdgTarget,
    StatusAssessment,
    Theme,
)
from recommendations.periods import periods_refresh
from tracker.choices import DatePrecision
from tracker.fixed_inserts import RowInsert
from tracker.history import recorded_as
from tracker.models import Organisation
from tracker.roles import can_curate, can_review, may_act_for
from tracker.services import upsert_fields
from tracker.transactions import service_transaction


def current_from_history(published: Iterable[StatusAssessment]) -> dict[int, StatusAssessment]:
    """Each assessor's current assessment among one recommendation's published ones.

    The latest by holding date, then publication time, then id, leaving out
    every assessment that a published correction replaces.
    """
    rows = sorted(published, key=lambda a: (a.status_since, a.reviewed_at or a.recorded_at, a.pk))
    corrected = {a.corrects_id for a in rows if a.corrects_id is not None}
    current: dict[int, StatusAssessment] = {}
    for assessment in rows:
        if assessment.pk not in corrected:
            current[assessment.assessor_id] = assessment  # ascending: the last one stands
    return current


def recommendation_refresh_status(*, recommendation: Recommendation) -> Recommendation:
    """Recompute each assessor's current assessment, the derived headline and the periods.

    Called inside the transaction that publishes an assessment. Reads the
    recommendation's published history (served by `assessment_timeline_idx`).
    """
    published = list(
        StatusAssessment.objects.filter(
            recommendation=recommendation, review_state=ReviewState.PUBLISHED
        )
    )
    current = current_from_history(published)
    periods_refresh(recommendation.pk, published)

    existing = {row.assessor_id: row for row in recommendation.current_assessments.all()}
    for assessor_id, row in existing.items():
        if assessor_id not in current:
            row.delete()
    for assessor_id, assessment in current.items():
        current_row = existing.get(assessor_id)
        if current_row is None:
            CurrentAssessment.objects.create(
                recommendation=recommendation,
                assessor_id=assessor_id,
                assessment=assessment,
                status=assessment.status,
                status_since=assessment.status_since,
            )
        elif current_row.assessment_id != assessment.pk:
            current_row.assessment = assessment
            current_row.status = assessment.status
            current_row.status_since = assessment.status_since
            current_row.save(update_fields=["assessment", "status", "status_since"])

    headline, disputed = headline_from(a.status for a in current.values())
    if (recommendation.headline_status, recommendation.disputed) != (headline, disputed):
        recommendation.headline_status = headline
        recommendation.disputed = disputed
        recommendation.save(update_fields=["headline_status", "disputed", "updated_at"])
    return recommendation


def _check_correctable(
    corrects: StatusAssessment | None,
    recommendation: Recommendation,
    assessor: Organisation,
    correction_reason: str,
) -> None:
    if corrects is None:
        if correction_reason:
            raise ValidationError(
                {"correction_reason": _("Give a reason only when correcting an assessment.")}
            )
        return
    if corrects.recommendation_id != recommendation.pk:
        raise ValidationError(
            {"corrects": _("The corrected assessment is of another recommendation.")}
        )
    if corrects.assessor_id != assessor.pk:
        raise ValidationError(
            {"corrects": _("Only the same assessor's assessment can be corrected.")}
        )
    # Read the state from the database: the caller's instance may predate a review.
    state = StatusAssessment.objects.values_list("review_state", flat=True).get(pk=corrects.pk)
    if state not in (ReviewState.PUBLISHED, ReviewState.RETURNED):
        raise ValidationError(
            {"corrects": _("Only a published or returned assessment is corrected; edit a draft.")}
        )
    if not correction_reason.strip():
        raise ValidationError({"correction_reason": _("Say why the assessment is corrected.")})


def assessment_validate_input(
    *,
    recommendation: Recommendation,
    assessor: Organisation,
    status: str,
    status_since: datetime.date,
    corrects: StatusAssessment | None,
    correction_reason: str,
) -> None:
    """The rules of a new assessment beyond the model's own; raises ValidationError.

    Public so that forms can show these errors beside their fields before the
    service is called; the service calls it again.
    """
    if status == Status.NOT_ASSESSED:
        raise ValidationError(
            {"status": _("Choose a status; “not assessed” is not an assessment.")}
        )
    if status_since > timezone.localdate():
        raise ValidationError({"status_since": _("A status cannot hold from a future date.")})
    _check_correctable(corrects, recommendation, assessor, correction_reason)


# The foreign keys of an assessment, whose targets its services receive as records.
ASSESSMENT_RELATIONS = ("recommendation", "assessor", "source", "corrects", "recorded_by")
# Every assessment recorded is a new row, written by a fixed statement.
_ASSESSMENT_INSERT = RowInsert(StatusAssessment)


@recorded_as(user="recorded_by", reason="correction_reason")
@service_transaction
def assessment_record(
    *,
    recommendation: Recommendation,
    assessor: Organisation,
    recorded_by: Any,
    status: str,
    status_since: datetime.date,
    evidence: str,
    source: Source | None = None,
    evidence_url: str = "",
    visibility: str = Visibility.PUBLIC,
    corrects: StatusAssessment | None = None,
    correction_reason: str = "",
    submit: bool = False,
    publish: bool = False,
    key: uuid.UUID | None = None,
) -> StatusAssessment:
    """Record a new assessment as a draft, submitted, or (for reviewers) published.

    `publish=True` is for reviewers recording a checked assessment in one step;
    it also refreshes the recommendation's current assessments and headline
    status in this transaction. `key` keeps the key an assessment already has
    elsewhere (a spreadsheet exported from another tracker); by default a new
    one is drawn.
    """
    if recorded_by is not None and not may_act_for(recorded_by, assessor):
        raise PermissionDenied(_("You may not record assessments for this organisation."))
    assessment_validate_input(
        recommendation=recommendation,
        assessor=assessor,
        status=status,
        status_since=status_since,
        corrects=corrects,
        correction_reason=correction_reason,
    )

    assessment = StatusAssessment(
        recommendation=recommendation,
        assessor=assessor,
        status=status,
        status_since=status_since,
        evidence=evidence,
        evidence_url=evidence_url,
        source=source,
        visibility=visibility,
        corrects=corrects,
        correction_reason=correction_reason,
        recorded_by=recorded_by,
        recorded_at=timezone.now(),
    )
    if submit or publish:
        # Recorded and submitted in one step: one row written as submitted,
        # not a draft and then an update. The user was found to act for the
        # assessor above, which is all that assessment_submit would check.
        assessment.review_state = ReviewState.SUBMITTED
        assessment.submitted_at = assessment.recorded_at
    if key is not None:
        assessment.key = key
    # The related records were just read by the caller, a new row meets the
    # check constraints by construction and by the checks above, and a key
    # drawn here cannot be taken (one an import gives can): checking each
    # again would cost a query apiece (a constraint a savepoint too) for what
    # the database enforces anyway.
    assessment.full_clean(
        exclude=ASSESSMENT_RELATIONS, validate_unique=key is not None, validate_constraints=False
    )
    _ASSESSMENT_INSERT.insert(assessment)
    if publish:
        assessment = assessment_publish(assessment=assessment, reviewer=recorded_by)
    return assessment


@recorded_as(user="user")
@service_transaction
def assessment_update_draft(
    *, assessment: StatusAssessment, user: Any, **changes: Any
) -> StatusAssessment:
    """Change a draft. Submitted, published and returned assessments never change."""
    assessment = StatusAssessment.objects.select_for_update().get(pk=assessment.pk)
    if assessment.review_state != ReviewState.DRAFT:
        raise ValidationError(_("Only drafts can be edited; record a correction instead."))
    if user is not None and not may_act_for(user, assessment.assessor):
        raise PermissionDenied(_("You may not edit assessments of this organisation."))
    editable = {"status", "status_since", "evidence", "evidence_url", "source", "visibility"}
    unknown = set(changes) - editable
    if unknown:
        raise ValidationError({field: _("This field cannot be edited.") for field in unknown})
    for field, value in changes.items():
        setattr(assessment, field, value)
    if assessment.status == Status.NOT_ASSESSED:
        raise ValidationError(
            {"status": _("Choose a status; “not assessed” is not an assessment.")}
        )
    assessment.full_clean()
    assessment.save(update_fields=sorted(changes))
    return assessment


@recorded_as(user="user")
@service_transaction
def assessment_submit(*, assessment: StatusAssessment, user: Any) -> StatusAssessment:
    """Send a draft to review. From here on its content is frozen."""
    assessment = StatusAssessment.objects.select_for_update().get(pk=assessment.pk)
    if assessment.review_state != ReviewState.DRAFT:
        raise ValidationError({"review_state": _("Only a draft can be submitted.")})
    if user is not None and not may_act_for(user, assessment.assessor):
        raise PermissionDenied(_("You may not submit assessments of this organisation."))
    assessment.review_state = ReviewState.SUBMITTED
    assessment.submitted_at = timezone.now()
    assessment.save(update_fields=["review_state", "submitted_at"])
    return assessment


@recorded_as(user="reviewer", reason="note")
@service_transaction
def assessment_publish(
    *, assessment: StatusAssessment, reviewer: Any, note: str = ""
) -> StatusAssessment:
    """Publish a submitted assessment and refresh the recommendation's derived status."""
    if reviewer is not None and not can_review(reviewer):
        raise PermissionDenied(_("You may not publish assessments."))
    # Lock the recommendation first: publications of the same recommendation
    # then run one after the other, so the derived status cannot be computed
    # from a history that misses a concurrent publication.
    recommendation = Recommendation.objects.select_for_update().get(pk=assessment.recommendation_id)
    assessment = StatusAssessment.objects.select_for_update().get(pk=assessment.pk)
    if assessment.review_state != ReviewState.SUBMITTED:
        raise ValidationError({"review_state": _("Only a submitted assessment can be published.")})
    assessment.review_state = ReviewState.PUBLISHED
    assessment.reviewed_by = reviewer
    assessment.reviewed_at = timezone.now()
    assessment.review_note = note
    # Chain it to the recommendation's previous publication; the row lock
    # above makes the position and the previous hash race-free.
    previous = (
        StatusAssessment.objects.filter(recommendation=recommendation, chain_position__isnull=False)
        .order_by("-chain_position")
        .values_list("chain_position", "record_hash")
        .first()
    )
    position, previous_hash = previous or (0, chain.GENESIS_HASH)
    assessment.chain_position = (position or 0) + 1
    assessment.previous_hash = previous_hash
    assessment.record_hash = chain.record_hash(assessment)
    assessment.save(
        update_fields=[
            "review_state",
            "reviewed_by",
            "reviewed_at",
            "review_note",
            "chain_position",
            "previous_hash",
            "record_hash",
        ]
    )
    recommendation_refresh_status(recommendation=recommendation)
    return assessment


@recorded_as(user="reviewer", reason="reason")
@service_transaction
def assessment_return(
    *, assessment: StatusAssessment, reviewer: Any, reason: str
) -> StatusAssessment:
    """Return a submitted assessment to its author with a reason.

    A returned assessment stays as it was; the author records a new one that
    names it in `corrects`.
    """
    if reviewer is not None and not can_review(reviewer):
        raise PermissionDenied(_("You may not return assessments."))
    if not reason.strip():
        raise ValidationError({"review_note": _("Say why the assessment is returned.")})
    assessment = StatusAssessment.objects.select_for_update().get(pk=assessment.pk)
    if assessment.review_state != ReviewState.SUBMITTED:
        raise ValidationError({"review_state": _("Only a submitted assessment can be returned.")})
    assessment.review_state = ReviewState.RETURNED
    assessment.reviewed_by = reviewer
    assessment.reviewed_at = timezone.now()
    assessment.review_note = reason
    assessment.save(update_fields=["review_state", "reviewed_by", "reviewed_at", "review_note"])
    return assessment


@service_transaction
def provision_link_create(
    *,
    key: str,
    relation: str,
    recommendation: Recommendation | None = None,
    concern: Concern | None = None,
    provision: Provision | None = None,
    instrument: Instrument | None = None,
    note: str = "",
) -> ProvisionLink:
    """Link a recommendation or a concern to a provision or to a whole instrument."""
    if provision is not None:
        if instrument is not None and instrument.pk != provision.instrument_id:
            raise ValidationError({"provision": _("The provision belongs to another instrument.")})
        instrument = provision.instrument
    if instrument is None:
        raise ValidationError({"instrument": _("Name a provision or an instrument.")})
    if relation not in LinkRelation.values:
        raise ValidationError({"relation": _("Unknown relation.")})
    link = ProvisionLink(
        key=key,
        relation=relation,
        recommendation=recommendation,
        concern=concern,
        instrument=instrument,
        provision=provision,
        note=note,
    )
    link.full_clean()
    link.save()
    return link


def _set_translations(record: Any, field: str, english: str, translations: dict[str, str]) -> None:
    """Set a translated field's English text and the translations given; blank ones stay unset."""
    setattr(record, f"{field}_en", english)
    for language, text in translations.items():
        setattr(record, f"{field}_{language}", text or None)


@recorded_as(user="user")
@service_transaction
def recommendation_upsert(
    *,
    user: Any,
    code: str,
    text: str,
    issued_by: Organisation,
    country: str,
    text_translations: dict[str, str] | None = None,
    kind: str = RecommendationKind.RECOMMENDATION,
    issued_on: datetime.date | None = None,
    issued_on_precision: str = DatePrecision.DAY,
    source: Source | None = None,
    follow_up_due: datetime.date | None = None,
    state_response: str = StateResponse.NO_RESPONSE,
    reiterates: Recommendation | None = None,
    addressed_to: Iterable[Organisation] | None = None,
    themes: Iterable[Theme] | None = None,
    sdg_targets: Iterable[SdgTarget] | None = None,
) -> Recommendation:
    """Create the recommendation with this code, or bring an existing one up to date.

    `text` is the English text; `text_translations` gives Russian and Kazakh
    (`{"ru": …, "kk": …}`). Many-to-many relations are replaced only when given.
    Headline status and dispute are never set here: they follow from assessments.
    """
    existing = Recommendation.objects.select_for_update().filter(code=code).first()
    action = "add" if existing is None else "change"
    if user is not None and not user.has_perm(f"recommendations.{action}_recommendation"):
        raise PermissionDenied(
            _("You may not add recommendations.")
            if existing is None
            else _("You may not change recommendations.")
        )
    recommendation = existing or Recommendation(code=code)
    _set_translations(recommendation, "text", text, text_translations or {})
    recommendation.issued_by = issued_by
    recommendation.country = country
    recommendation.kind = kind
    recommendation.issued_on = issued_on
    recommendation.issued_on_precision = issued_on_precision
    recommendation.source = source
    recommendation.follow_up_due = follow_up_due
    recommendation.state_response = state_response
    recommendation.reiterates = reiterates
    recommendation.full_clean()
    recommendation.save()
    if addressed_to is not None:
        recommendation.addressed_to.set(addressed_to)
    if themes is not None:
        recommendation.themes.set(themes)
    if sdg_targets is not None:
        recommendation.sdg_targets.set(sdg_targets)
    return recommendation


@recorded_as(user="user")
@service_transaction
def provision_link_upsert(
    *,
    user: Any,
    key: str,
    relation: str,
    recommendation: Recommendation | None = None,
    concern: Concern | None = None,
    provision: Provision | None = None,
    instrument: Instrument | None = None,
    note: str = "",
) -> ProvisionLink:
    """Create the link with this key, or bring an existing one up to date."""
    existing = ProvisionLink.objects.select_for_update().filter(key=key).first()
    action = "add" if existing is None else "change"
    if user is not None and not user.has_perm(f"recommendations.{action}_provisionlink"):
        raise PermissionDenied(
            _("You may not add provision links.")
            if existing is None
            else _("You may not change provision links.")
        )
    if existing is None:
        return provision_link_create(
            key=key,
            relation=relation,
            recommendation=recommendation,
            concern=concern,
            provision=provision,
            instrument=instrument,
            note=note,
        )
    if provision is not None:
        if instrument is not None and instrument.pk != provision.instrument_id:
            raise ValidationError({"provision": _("The provision belongs to another instrument.")})
        instrument = provision.instrument
    if instrument is None:
        raise ValidationError({"instrument": _("Name a provision or an instrument.")})
    existing.relation = relation
    existing.recommendation = recommendation
    existing.concern = concern
    existing.provision = provision
    existing.instrument = instrument
    existing.note = note
    existing.full_clean()
    existing.save()
    return existing


THEME_WRITABLE_FIELDS = ("name", "description")


@recorded_as(user="user")
@service_transaction
def theme_upsert(*, user: Any, slug: str, fields: dict[str, Any]) -> tuple[Theme, bool]:
    """Create the theme with key `slug`, or replace the given fields; True if created.

    `name` is written in the active language, as the API reads it. Writing the
    same fields twice changes nothing the second time (no save, no history),
    so a batch pushed twice ends the same.
    """
    if not can_curate(user, "recommendations", "theme"):
        raise PermissionDenied(_("You may not curate themes."))
    return upsert_fields(Theme, {"slug": slug}, fields, THEME_WRITABLE_FIELDS)


def overview_counts_compact() -> int:
    """Fold the overview's count rows into one per number; returns how many rows went.

    The triggers only insert rows, so that writers never queue on a counter;
    this keeps `OverviewCount` and `AsOfCount` small. Rows other
    transactions insert meanwhile are not in this statement's snapshot, so
    they are left for the next time. Then the as-of counts of recommendations
    a bulk load left pending (`AsOfPending`) are added, already grouped, so
    a load's rows are not folded twice.
    """
    if connection.vendor != "postgresql":
        return 0  # no triggers, no rows
    removed = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for table, columns in (
            ("recommendations_overviewcount", "dimension, key, status"),
            ("recommendations_asofcount", "monthly, day, dimension, key, status"),
        ):
            cursor.execute(
                f"""
                WITH folded AS (
                    DELETE FROM {table} RETURNING {columns}, n
                ), kept AS (
                    INSERT INTO {table} ({columns}, n)
                    SELECT {columns}, sum(n) FROM folded
                    GROUP BY {columns} HAVING sum(n) <> 0
                    RETURNING 1
                )
                SELECT (SELECT count(*) FROM folded) - (SELECT count(*) FROM kept)
                """  # noqa: S608 -- table and column names from the list above
            )
            row = cursor.fetchone()
            removed += int(row[0]) if row else 0
        cursor.execute("SELECT recommendations_as_of_add_pending()")
    return removed
