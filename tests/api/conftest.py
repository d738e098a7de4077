"""Fixtures of the API tests: a JSON client, API keys, and a small world of every record."""

from __future__ import annotations

import datetime

import pytest
from rest_framework.test import APIClient

from instruments.models import Citation, InstrumentRelation, TreatyParticipation
from recommendations import services as recommendation_services
from recommendations.models import Concern, Theme
from tests import factories
from tracker import services


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def bearer(client: APIClient, user, *, write: bool = False, read: bool = True) -> str:
    """Issue a key for `user` and make `client` send it; returns the key."""
    _api_key, raw_key = services.api_key_issue(
        user=user, name=f"key of {user.username}", may_read=read, may_write_assessments=write
    )
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return raw_key


def build_world(n: int, assessor, reviewer, *, prefix: str = "w") -> None:
    """n records of every kind the API serves, linked the way partners see them."""
    for i in range(n):
        suffix = f"{prefix}{n}-{i}"
        org = factories.organisation(f"org-{suffix}")
        document = factories.source(f"source-{suffix}", publisher=org)
        law = factories.instrument(f"law-{suffix}", adopted_by=org)
        treaty = factories.instrument(
            f"treaty-{suffix}", jurisdiction="international", country="", kind="convention"
        )
        InstrumentRelation.objects.create(subject=law, kind="implements", target=treaty)
        TreatyParticipation.objects.create(instrument=treaty, country="KZ", status="ratified")
        article = factories.provision(law, "art_1")
        theme = Theme.objects.create(slug=f"theme-{suffix}", name=f"Theme {suffix}")
        rec = factories.recommendation(
            org, f"rec-{suffix}", source=document, follow_up_due=datetime.date(2021, 1, 1)
        )
        rec.themes.add(theme)
        rec.addressed_to.add(assessor)
        concern = Concern.objects.create(
            code=f"concern-{suffix}", text="c", raised_by=org, country="KZ"
        )
        concern.answered_by.add(rec)
        recommendation_services.provision_link_create(
            key=f"link-{suffix}", relation="to_change", recommendation=rec, provision=article
        )
        Citation.objects.create(key=f"cit-{suffix}", source=document, quote="q", provision=article)
        recommendation_services.assessment_record(
            recommendation=rec,
            assessor=assessor,
            recorded_by=reviewer,
            status="partially_implemented",
            status_since=datetime.date(2024, 1, 1),
            evidence=f"public evidence {suffix}",
            publish=True,
        )
