from __future__ import annotations

import datetime

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError

from recommendations import services
from recommendations.choices import ReviewState, Status, headline_from
from recommendations.models import CurrentAssessment, StatusAssessment
from tests import factories

DAY = datetime.date(2024, 3, 1)


def record(user, assessor, recommendation, status, since=DAY, **kwargs):
    return services.assessment_record(
        recommendation=recommendation,
        assessor=assessor,
        recorded_by=user,
        status=status,
        status_since=since,
        evidence=f"Evidence for {status}",
        **kwargs,
    )


def publish(assessment, reviewer):
    if assessment.review_state == ReviewState.DRAFT:
        assessment = services.assessment_submit(assessment=assessment, user=None)
    return services.assessment_publish(assessment=assessment, reviewer=reviewer)


@pytest.fixture
def rec(issuer):
    return factories.recommendation(issuer, code="rec-a")


def test_it_starts_not_assessed(rec):
    assert rec.headline_status == Status.NOT_ASSESSED
    assert rec.disputed is False


def test_it_records_a_draft_that_counts_for_nothing(alice, alice_org, rec):
    assessment = record(alice, alice_org, rec, Status.PARTIALLY_IMPLEMENTED)

    assessment.refresh_from_db()
    assert assessment.review_state == ReviewState.DRAFT
    assert assessment.submitted_at is None
    assert assessment.recorded_by == alice
    rec.refresh_from_db()
    assert rec.headline_status == Status.NOT_ASSESSED
    assert not CurrentAssessment.objects.exists()


def test_it_derives_the_headline_when_published(alice, alice_org, editor, rec):
    assessment = record(alice, alice_org, rec, Status.PARTIALLY_IMPLEMENTED, submit=True)
    publish(assessment, editor)

    rec.refresh_from_db()
    assert rec.headline_status == Status.PARTIALLY_IMPLEMENTED
    assert rec.disputed is False
    current = CurrentAssessment.objects.get(recommendation=rec)
    assert current.assessment == assessment
    assert current.assessor == alice_org


def test_it_lets_a_reviewer_record_and_publish_in_one_step(editor, alice_org, rec):
    assessment = record(editor, alice_org, rec, Status.FULLY_IMPLEMENTED, publish=True)

    assert assessment.review_state == ReviewState.PUBLISHED
    rec.refresh_from_db()
    assert rec.headline_status == Status.FULLY_IMPLEMENTED


def test_it_refuses_publishing_by_a_monitor(alice, alice_org, rec):
    assessment = record(alice, alice_org, rec, Status.NOT_IMPLEMENTED, submit=True)

    with pytest.raises(PermissionDenied):
        services.assessment_publish(assessment=assessment, reviewer=alice)
    assessment.refresh_from_db()
    assert assessment.review_state == ReviewState.SUBMITTED


def test_it_refuses_a_monitor_acting_for_another_organisation(alice, bob_org, rec):
    with pytest.raises(PermissionDenied):
        record(alice, bob_org, rec, Status.NOT_IMPLEMENTED)
    assert not StatusAssessment.objects.exists()


def test_it_refuses_donors_and_partners_of_other_organisations(donor, partner, alice_org, rec):
    for user in (donor, partner):
        with pytest.raises(PermissionDenied):
            record(user, alice_org, rec, Status.NOT_IMPLEMENTED)
    assert not StatusAssessment.objects.exists()


def test_it_lets_a_partner_assess_for_its_own_organisation(partner, bob_org, rec):
    assessment = record(partner, bob_org, rec, Status.NOT_IMPLEMENTED, submit=True)
    assert assessment.review_state == ReviewState.SUBMITTED


def test_it_records_and_submits_in_a_fixed_number_of_queries(
    partner, bob_org, rec, django_assert_max_num_queries
):
    # The user's permissions (one query) and roles, the row inserted as submitted,
    # in a savepoint of the test's transaction: nothing checks a related
    # record, a constraint or the drawn key again, and nothing updates the row.
    with django_assert_max_num_queries(5):
        assessment = record(partner, bob_org, rec, Status.NOT_IMPLEMENTED, submit=True)
    assessment.refresh_from_db()
    assert assessment.review_state == ReviewState.SUBMITTED
    assert assessment.submitted_at == assessment.recorded_at


@pytest.mark.postgres
def test_it_keeps_recording_and_submitting_as_one_event_of_the_user(partner, bob_org, rec):
    assessment = record(partner, bob_org, rec, Status.NOT_IMPLEMENTED, submit=True)
    event_model = apps.get_model("recommendations", "StatusAssessmentEvent")
    events = list(
        event_model.objects.filter(pgh_obj_id=assessment.pk)
        .select_related("pgh_context")
        .order_by("pgh_id")
    )
    assert [(event.pgh_label, event.review_state) for event in events] == [
        ("insert", ReviewState.SUBMITTED),
    ]
    assert events[0].submitted_at == events[0].recorded_at
    assert events[0].pgh_context.metadata["user"] == partner.pk


def test_it_refuses_a_given_key_that_another_assessment_has(alice, alice_org, rec):
    first = record(alice, alice_org, rec, Status.NOT_IMPLEMENTED)
    with pytest.raises(ValidationError) as error:
        record(alice, alice_org, rec, Status.PARTIALLY_IMPLEMENTED, key=first.key)
    assert "key" in error.value.message_dict
    assert StatusAssessment.objects.count() == 1


def test_it_takes_the_latest_by_holding_date_per_assessor(alice, alice_org, editor, rec):
    later = record(alice, alice_org, rec, Status.MOSTLY_IMPLEMENTED, since=DAY, submit=True)
    publish(later, editor)
    # Back-dated: recorded after, but holds from before; it must not displace the later one.
    earlier = record(
        alice,
        alice_org,
        rec,
        Status.NOT_IMPLEMENTED,
        since=DAY - datetime.timedelta(days=90),
        submit=True,
    )
    publish(earlier, editor)

    rec.refresh_from_db()
    assert rec.headline_status == Status.MOSTLY_IMPLEMENTED
    assert CurrentAssessment.objects.get(recommendation=rec).assessment == later


def test_it_flags_disagreement_and_shows_the_least_advanced(
    alice, alice_org, bob, bob_org, editor, rec
):
    publish(record(alice, alice_org, rec, Status.FULLY_IMPLEMENTED, submit=True), editor)
    publish(record(bob, bob_org, rec, Status.PARTIALLY_IMPLEMENTED, submit=True), editor)

    rec.refresh_from_db()
    assert rec.disputed is True
    assert rec.headline_status == Status.PARTIALLY_IMPLEMENTED
    assert CurrentAssessment.objects.filter(recommendation=rec).count() == 2


def test_it_clears_the_dispute_when_assessors_agree_again(
    alice, alice_org, bob, bob_org, editor, rec
):
    publish(record(alice, alice_org, rec, Status.FULLY_IMPLEMENTED, submit=True), editor)
    publish(record(bob, bob_org, rec, Status.PARTIALLY_IMPLEMENTED, submit=True), editor)
    publish(
        record(
            bob,
            bob_org,
            rec,
            Status.FULLY_IMPLEMENTED,
            since=DAY + datetime.timedelta(1),
            submit=True,
        ),
        editor,
    )

    rec.refresh_from_db()
    assert (rec.headline_status, rec.disputed) == (Status.FULLY_IMPLEMENTED, False)


def test_it_applies_a_correction_and_keeps_the_corrected_record(alice, alice_org, editor, rec):
    wrong = record(alice, alice_org, rec, Status.FULLY_IMPLEMENTED, submit=True)
    publish(wrong, editor)

    fixed = record(
        alice,
        alice_org,
        rec,
        Status.PARTIALLY_IMPLEMENTED,
        corrects=wrong,
        correction_reason="The law was only partly amended.",
        submit=True,
    )
    publish(fixed, editor)

    rec.refresh_from_db()
    assert rec.headline_status == Status.PARTIALLY_IMPLEMENTED
    wrong.refresh_from_db()
    assert wrong.status == Status.FULLY_IMPLEMENTED  # the history is kept as it was
    assert wrong.review_state == ReviewState.PUBLISHED
    assert list(wrong.corrections.all()) == [fixed]


def test_it_requires_a_reason_for_a_correction(alice, alice_org, editor, rec):
    wrong = record(alice, alice_org, rec, Status.FULLY_IMPLEMENTED, submit=True)
    publish(wrong, editor)

    with pytest.raises(ValidationError) as error:
        record(alice, alice_org, rec, Status.NOT_IMPLEMENTED, corrects=wrong)
    assert "correction_reason" in error.value.message_dict


def test_it_refuses_correcting_another_assessors_record(
    alice, alice_org, bob, bob_org, editor, rec
):
    theirs = record(bob, bob_org, rec, Status.FULLY_IMPLEMENTED, submit=True)
    publish(theirs, editor)

    with pytest.raises(ValidationError) as error:
        record(
            alice,
            alice_org,
            rec,
            Status.NOT_IMPLEMENTED,
            corrects=theirs,
            correction_reason="I disagree",
        )
    assert "corrects" in error.value.message_dict


def test_it_edits_drafts_only(alice, alice_org, rec):
    draft = record(alice, alice_org, rec, Status.NOT_IMPLEMENTED)
    services.assessment_update_draft(
        assessment=draft, user=alice, status=Status.PARTIALLY_IMPLEMENTED
    )
    draft.refresh_from_db()
    assert draft.status == Status.PARTIALLY_IMPLEMENTED

    services.assessment_submit(assessment=draft, user=alice)
    with pytest.raises(ValidationError):
        services.assessment_update_draft(assessment=draft, user=alice, evidence="changed")
    draft.refresh_from_db()
    assert draft.evidence == "Evidence for not_implemented"


def test_it_returns_with_a_reason_and_the_author_resubmits_as_new(alice, alice_org, editor, rec):
    first = record(alice, alice_org, rec, Status.FULLY_IMPLEMENTED, submit=True)
    with pytest.raises(ValidationError):
        services.assessment_return(assessment=first, reviewer=editor, reason="  ")
    services.assessment_return(assessment=first, reviewer=editor, reason="No evidence given.")
    first.refresh_from_db()
    assert first.review_state == ReviewState.RETURNED
    assert first.review_note == "No evidence given."

    with pytest.raises(ValidationError):
        services.assessment_update_draft(assessment=first, user=alice, evidence="more")

    second = record(
        alice,
        alice_org,
        rec,
        Status.FULLY_IMPLEMENTED,
        corrects=first,
        correction_reason="Evidence added.",
        submit=True,
    )
    publish(second, editor)
    rec.refresh_from_db()
    assert rec.headline_status == Status.FULLY_IMPLEMENTED


def test_it_refuses_not_assessed_and_future_dates(alice, alice_org, rec):
    with pytest.raises(ValidationError) as error:
        record(alice, alice_org, rec, Status.NOT_ASSESSED)
    assert "status" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        record(
            alice,
            alice_org,
            rec,
            Status.NOT_IMPLEMENTED,
            since=datetime.date.today() + datetime.timedelta(days=30),
        )
    assert "status_since" in error.value.message_dict
    assert not StatusAssessment.objects.exists()


def test_it_refuses_publishing_twice(alice, alice_org, editor, rec):
    assessment = record(alice, alice_org, rec, Status.NOT_IMPLEMENTED, submit=True)
    publish(assessment, editor)
    with pytest.raises(ValidationError):
        services.assessment_publish(assessment=assessment, reviewer=editor)


def test_it_rolls_back_everything_when_publication_fails(alice, alice_org, editor, rec):
    # A monitor asking to publish in one step: the whole record is refused,
    # the draft included, since it all runs in one transaction.
    with pytest.raises(PermissionDenied):
        record(alice, alice_org, rec, Status.NOT_IMPLEMENTED, publish=True)
    assert not StatusAssessment.objects.exists()


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], (Status.NOT_ASSESSED, False)),
        ([Status.MOSTLY_IMPLEMENTED], (Status.MOSTLY_IMPLEMENTED, False)),
        ([Status.FULLY_IMPLEMENTED, Status.NOT_IMPLEMENTED], (Status.NOT_IMPLEMENTED, True)),
        ([Status.NO_LONGER_RELEVANT, Status.MOSTLY_IMPLEMENTED], (Status.MOSTLY_IMPLEMENTED, True)),
        ([Status.NO_LONGER_RELEVANT] * 2, (Status.NO_LONGER_RELEVANT, False)),
    ],
)
def test_it_applies_the_headline_rule(statuses, expected):
    assert headline_from(statuses) == expected


def test_it_links_a_provision_and_takes_its_instrument(issuer, rec):
    law = factories.instrument("law-a")
    article = factories.provision(law, "art_3")
    link = services.provision_link_create(
        key="link-a", relation="to_change", recommendation=rec, provision=article
    )
    assert link.instrument == law

    other = factories.instrument("law-b")
    with pytest.raises(ValidationError) as error:
        services.provision_link_create(
            key="link-b",
            relation="to_change",
            recommendation=rec,
            provision=article,
            instrument=other,
        )
    assert "provision" in error.value.message_dict
