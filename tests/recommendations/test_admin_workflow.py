"""The monitors' and reviewers' work in the admin, end to end through the services."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recommendations import services
from recommendations.choices import ReviewState
from recommendations.models import Concern, Recommendation, StatusAssessment
from tests import factories

DAY = datetime.date(2024, 2, 1)


def bulk_form(recommendations, assessor, **overrides):
    return {
        "action": "record_assessment_for_selected",
        "_selected_action": [str(r.pk) for r in recommendations],
        "apply": "1",
        "assessor": str(assessor.pk),
        "status": "partially_implemented",
        "status_since": DAY.isoformat(),
        "evidence": "The amendments of 2024 cover both.",
        "visibility": "public",
        "submit_now": "on",
        **overrides,
    }


def submitted(monitor, organisation, recommendation):
    return services.assessment_record(
        recommendation=recommendation,
        assessor=organisation,
        recorded_by=monitor,
        status="mostly_implemented",
        status_since=DAY,
        evidence="Evidence.",
        submit=True,
    )


def test_it_records_one_assessment_for_several_recommendations(client, alice, alice_org, issuer):
    recs = [factories.recommendation(issuer, f"rec-bulk-{i}") for i in range(3)]
    client.force_login(alice)
    url = reverse("admin:recommendations_recommendation_changelist")

    confirm = client.post(
        url,
        {"action": "record_assessment_for_selected", "_selected_action": [str(r.pk) for r in recs]},
    )
    assert confirm.status_code == 200
    assert not StatusAssessment.objects.exists()  # the first step only asks

    done = client.post(url, bulk_form(recs, alice_org))
    assert done.status_code == 302
    recorded = StatusAssessment.objects.order_by("recommendation__code")
    assert [a.recommendation.code for a in recorded] == ["rec-bulk-0", "rec-bulk-1", "rec-bulk-2"]
    assert {(a.assessor, a.recorded_by, a.review_state) for a in recorded} == {
        (alice_org, alice, ReviewState.SUBMITTED)
    }
    assert {a.evidence for a in recorded} == {"The amendments of 2024 cover both."}


def test_it_records_nothing_in_bulk_when_the_assessment_is_invalid(
    client, alice, alice_org, issuer
):
    recs = [factories.recommendation(issuer, f"rec-b-{i}") for i in range(2)]
    client.force_login(alice)
    future = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    response = client.post(
        reverse("admin:recommendations_recommendation_changelist"),
        bulk_form(recs, alice_org, status_since=future),
    )
    assert response.status_code == 200
    assert "Nothing was recorded." in response.content.decode()
    assert "rec-b-0: A status cannot hold from a future date." in response.content.decode()
    assert not StatusAssessment.objects.exists()


def test_it_refuses_a_bulk_assessment_for_another_organisation(client, alice, bob_org, issuer):
    rec = factories.recommendation(issuer)
    client.force_login(alice)
    response = client.post(
        reverse("admin:recommendations_recommendation_changelist"), bulk_form([rec], bob_org)
    )
    assert response.status_code == 200
    assert "assessor" in response.context["form"].errors
    assert not StatusAssessment.objects.exists()


def draft_of(monitor, organisation, recommendation):
    return services.assessment_record(
        recommendation=recommendation,
        assessor=organisation,
        recorded_by=monitor,
        status="not_implemented",
        status_since=DAY,
        evidence="First notes.",
    )


def draft_form(**overrides):
    return {
        "status": "partially_implemented",
        "status_since": DAY.isoformat(),
        "evidence": "The 2024 amendments cover half of it.",
        "evidence_url": "",
        "source": "",
        "visibility": "partners",
        **overrides,
    }


def test_it_lets_a_monitor_edit_and_then_submit_an_own_draft(client, alice, alice_org, issuer):
    draft = draft_of(alice, alice_org, factories.recommendation(issuer))
    client.force_login(alice)
    url = reverse("admin:recommendations_statusassessment_change", args=[draft.pk])

    assert client.post(url, draft_form()).status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.evidence, draft.visibility, draft.review_state) == (
        "partially_implemented",
        "The 2024 amendments cover half of it.",
        "partners",
        ReviewState.DRAFT,
    )

    assert client.post(url, draft_form(submit_now="on")).status_code == 302
    draft.refresh_from_db()
    assert draft.review_state == ReviewState.SUBMITTED
    assert draft.submitted_at is not None


def test_it_refuses_a_draft_edit_with_bad_input_naming_the_field(client, alice, alice_org, issuer):
    draft = draft_of(alice, alice_org, factories.recommendation(issuer))
    client.force_login(alice)
    url = reverse("admin:recommendations_statusassessment_change", args=[draft.pk])

    response = client.post(url, draft_form(status="wonderful"))
    assert response.status_code == 200
    assert "status" in response.context["adminform"].form.errors
    draft.refresh_from_db()
    assert (draft.status, draft.evidence) == ("not_implemented", "First notes.")


def test_it_freezes_submitted_assessments_and_other_organisations_drafts(
    client, alice, alice_org, bob, bob_org, issuer
):
    rec = factories.recommendation(issuer)
    sent = submitted(alice, alice_org, rec)
    bobs_draft = draft_of(bob, bob_org, rec)
    client.force_login(alice)

    for assessment in (sent, bobs_draft):
        url = reverse("admin:recommendations_statusassessment_change", args=[assessment.pk])
        response = client.post(url, draft_form(evidence="Rewritten."))
        assert response.status_code in (302, 403, 404)
        assessment.refresh_from_db()
        assert assessment.evidence != "Rewritten."
    page = client.get(reverse("admin:recommendations_statusassessment_change", args=[sent.pk]))
    assert page.status_code == 200
    assert 'name="evidence"' not in page.content.decode()


def test_it_lets_a_reviewer_publish_from_the_queue(client, alice, alice_org, editor, issuer):
    rec = factories.recommendation(issuer)
    assessment = submitted(alice, alice_org, rec)
    client.force_login(editor)

    queue = client.get(reverse("admin:recommendations_review_queue"))
    assert list(queue.context["queue"]) == [assessment]

    url = reverse("admin:recommendations_statusassessment_review", args=[assessment.pk])
    response = client.post(url, {"note": "Checked against the gazette.", "_publish": "Publish"})
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.review_state == ReviewState.PUBLISHED
    assert assessment.reviewed_by == editor
    rec.refresh_from_db()
    assert rec.headline_status == "mostly_implemented"
    assert not client.get(reverse("admin:recommendations_review_queue")).context["queue"]


def test_it_returns_only_with_a_reason(client, alice, alice_org, editor, issuer):
    assessment = submitted(alice, alice_org, factories.recommendation(issuer))
    client.force_login(editor)
    url = reverse("admin:recommendations_statusassessment_review", args=[assessment.pk])

    refused = client.post(url, {"note": "  ", "_return": "Return"})
    assert refused.status_code == 200
    assert "note" in refused.context["form"].errors
    assessment.refresh_from_db()
    assert assessment.review_state == ReviewState.SUBMITTED

    client.post(url, {"note": "The source does not say this.", "_return": "Return"})
    assessment.refresh_from_db()
    assert assessment.review_state == ReviewState.RETURNED
    assert assessment.review_note == "The source does not say this."


def test_it_keeps_monitors_out_of_the_review_queue(client, alice, alice_org, issuer):
    assessment = submitted(alice, alice_org, factories.recommendation(issuer))
    client.force_login(alice)
    assert client.get(reverse("admin:recommendations_review_queue")).status_code == 403
    url = reverse("admin:recommendations_statusassessment_review", args=[assessment.pk])
    assert client.post(url, {"_publish": "Publish"}).status_code == 403
    assessment.refresh_from_db()
    assert assessment.review_state == ReviewState.SUBMITTED


def test_it_shows_provisions_concerns_and_the_timeline_on_a_recommendation(
    client, alice, alice_org, bob, bob_org, editor, issuer
):
    rec = factories.recommendation(issuer, "rec-page")
    law = factories.instrument("law-on-migration", title="Law on Migration")
    article = factories.provision(law, "art_14", label="Article 14")
    services.provision_link_create(
        key="rec-page-art-14", relation="to_change", recommendation=rec, provision=article
    )
    concern = Concern.objects.create(
        code="exit-visas", text="Exit visas restrict movement.", raised_by=issuer, country="KZ"
    )
    concern.answered_by.add(rec)
    published = submitted(alice, alice_org, rec)
    services.assessment_publish(assessment=published, reviewer=editor)
    services.assessment_record(
        recommendation=rec,
        assessor=bob_org,
        recorded_by=bob,
        status="not_implemented",
        status_since=DAY,
        evidence="Bob's draft.",
    )

    client.force_login(alice)
    page = client.get(reverse("admin:recommendations_recommendation_change", args=[rec.pk]))
    html = page.content.decode()
    assert "Article 14" in html and "Domestic provision to change" in html
    assert "exit-visas" in html and "Exit visas restrict movement." in html
    assert 'id="record-assessment"' in html
    timeline = next(
        formset
        for formset in page.context["inline_admin_formsets"]
        if formset.opts.model is StatusAssessment
    )
    # Alice sees her organisation's published assessment; Bob's draft is his own business.
    assert [form.original for form in timeline] == [published]


def test_it_prefills_the_assessment_form_from_the_recommendation(client, alice, alice_org, issuer):
    rec = factories.recommendation(issuer)
    client.force_login(alice)
    url = reverse("admin:recommendations_statusassessment_add")
    form = client.get(f"{url}?recommendation={rec.pk}").context["adminform"].form
    assert form.initial["recommendation"] == str(rec.pk)
    assert form.initial["assessor"] == alice_org.pk


def test_it_filters_and_flags_overdue_recommendations(client, editor, issuer):
    today = datetime.date.today()
    late = factories.recommendation(
        issuer, "rec-late", follow_up_due=today - datetime.timedelta(days=1)
    )
    factories.recommendation(issuer, "rec-later", follow_up_due=today + datetime.timedelta(days=9))
    factories.recommendation(issuer, "rec-undated")
    client.force_login(editor)
    url = reverse("admin:recommendations_recommendation_changelist")
    page = client.get(url, {"follow_up": "overdue"})
    assert list(page.context["cl"].result_list) == [late]
    model_admin = page.context["cl"].model_admin
    assert model_admin.is_overdue(late) is True
    assert model_admin.is_overdue(Recommendation.objects.get(code="rec-later")) is False


def test_it_lists_recommendations_in_constant_queries_with_every_filter(
    client, editor, alice_org, issuer
):
    def count(n: int) -> int:
        for i in range(n):
            rec = factories.recommendation(issuer, f"rec-{n}-{i}")
            services.assessment_record(
                recommendation=rec,
                assessor=alice_org,
                recorded_by=editor,
                status="not_implemented",
                status_since=DAY,
                evidence="e",
                publish=True,
            )
        with CaptureQueriesContext(connection) as queries:
            response = client.get(
                reverse("admin:recommendations_recommendation_changelist"),
                {"assessor": alice_org.slug, "follow_up": "scheduled"},
            )
        assert response.status_code == 200
        return len(queries)

    client.force_login(editor)
    assert count(6) <= count(1)


@pytest.mark.parametrize("role_user", ["alice", "editor"])
def test_it_shows_the_monitors_home_with_deadlines(client, role_user, request, alice_org, issuer):
    user = request.getfixturevalue(role_user)
    late = factories.recommendation(
        issuer, "rec-home-late", follow_up_due=datetime.date.today() - datetime.timedelta(days=3)
    )
    late.addressed_to.add(alice_org)
    client.force_login(user)
    html = client.get(reverse("admin:index")).content.decode()
    if role_user == "alice":
        assert 'id="deadlines"' in html and "rec-home-late" in html
    else:
        assert 'id="review-queue-link"' in html and 'id="deadlines"' not in html
