"""A donor in a real browser: overview, a filter, an as-of date, the PDF.

Screenshots and the PDF's first page (as PNG, by pdftoppm) are kept under
artifacts/reports/ for CI to publish.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from recommendations.models import Recommendation
from tests.reports.conftest import populate


@pytest.fixture
def artifacts() -> Path:
    path = Path(settings.BASE_DIR) / "artifacts" / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_it_lets_a_donor_filter_date_and_download_the_overview(
    live_server, chromium_page, artifacts, donor, editor, alice_org, bob_org
):
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("needs pdftoppm (apt-get install poppler-utils)")
    populate(editor, alice_org, bob_org, 2)
    page = chromium_page

    page.goto(f"{live_server.url}/reports/")
    page.fill("input[name=username]", donor.username)
    page.fill("input[name=password]", f"pw-{donor.username}")
    page.click("button[type=submit]")
    page.wait_for_selector("#total")
    assert page.inner_text("#total") == "8"
    page.screenshot(path=str(artifacts / "overview.png"), full_page=True)

    page.select_option("select[name=issued_by]", "osce")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**issued_by=osce**")
    assert page.inner_text("#total") == "6"

    page.fill("input[name=as_of]", "2024-03-01")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**as_of=2024-03-01**")
    assert "as of 2024-03-01" in page.inner_text("h1")
    assert "issued_by=osce" in page.url
    assert page.inner_text("#overdue") == "4"
    page.screenshot(path=str(artifacts / "overview-filtered.png"), full_page=True)

    with page.expect_download() as download_info:
        page.click("#pdf-export")
    pdf = artifacts / "overview.pdf"
    download_info.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    subprocess.run(  # noqa: S603 (fixed arguments)
        [
            pdftoppm,
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            str(pdf),
            str(artifacts / "overview-pdf"),
        ],
        check=True,
    )
    first_page = next(artifacts.glob("overview-pdf*.png"))
    assert first_page.stat().st_size > 10_000
    # The page showed what the database holds (and this keeps the test's own
    # connection open for the flush after it).
    assert Recommendation.objects.filter(issued_by__slug="osce").count() == 6
