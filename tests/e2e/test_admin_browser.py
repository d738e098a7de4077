"""A monitor records an assessment, a reviewer publishes it, the interface turns Russian."""

from __future__ import annotations

from typing import Any

import pytest

from recommendations.models import Recommendation, StatusAssessment

SEED_RECOMMENDATION = "osce-centre-astana-2008-aim-comprehensive-labour-migration-strategies"


def sign_in(page: Any, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"demo-{username}")
    page.click("input[type=submit]")
    page.wait_for_selector("#content")


def sign_out(page: Any) -> None:
    page.click("#logout-form button")
    page.wait_for_selector("#content")


# Marked (not only through live_server) so pytest-django runs it after the tests
# that expect the role groups its flush removes.
@pytest.mark.django_db(transaction=True)
def test_it_takes_an_assessment_from_monitor_to_publication(
    live_server, seeded_site, chromium_page, screenshots
):
    page = chromium_page
    recommendation = Recommendation.objects.get(code=SEED_RECOMMENDATION)

    sign_in(page, live_server.url, "monitor")
    page.goto(f"{live_server.url}/admin/recommendations/recommendation/{recommendation.pk}/change/")
    page.screenshot(path=str(screenshots / "01-recommendation.png"), full_page=True)
    page.click("#record-assessment")
    page.wait_for_selector("#statusassessment_form")
    page.select_option("select[name=status]", "partially_implemented")
    page.fill("textarea[name=evidence]", "The 2011 law introduced labour migration quotas.")
    page.check("input[name=submit_now]")
    page.screenshot(path=str(screenshots / "02-assessment-form.png"), full_page=True)
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assessment = StatusAssessment.objects.get(recommendation=recommendation)
    assert assessment.review_state == "submitted"
    assert assessment.recorded_by is not None
    assert assessment.recorded_by.username == "monitor"
    sign_out(page)

    sign_in(page, live_server.url, "editor")
    page.click("#review-queue-link a")
    page.wait_for_selector("#review-queue")
    page.screenshot(path=str(screenshots / "03-review-queue.png"), full_page=True)
    page.click("#review-queue a.button")
    page.wait_for_selector("#review-form")
    page.click("input[name=_publish]")
    page.wait_for_selector(".messagelist .success")
    assessment.refresh_from_db()
    assert assessment.review_state == "published"
    recommendation.refresh_from_db()
    assert recommendation.headline_status == "partially_implemented"

    page.select_option("#language-choice", "ru")
    page.wait_for_selector("html[lang=ru]")
    page.goto(f"{live_server.url}/admin/")
    assert "Оценки статуса" in page.inner_text("#content")
    assert "Рекомендации" in page.inner_text("#content")
    page.screenshot(path=str(screenshots / "04-russian.png"), full_page=True)
