from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction

from recommendations.models import Concern, ProvisionLink, StatusAssessment
from tests import factories


def refused(create) -> bool:
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


def test_it_refuses_a_follow_up_before_the_recommendation(issuer):
    assert refused(
        lambda: factories.recommendation(
            issuer, issued_on=datetime.date(2020, 5, 1), follow_up_due=datetime.date(2020, 1, 1)
        )
    )


def test_it_refuses_a_recommendation_reiterating_itself(issuer):
    rec = factories.recommendation(issuer)
    rec.reiterates = rec
    assert refused(rec.save)


def test_it_refuses_an_unknown_headline_status(issuer):
    rec = factories.recommendation(issuer)
    rec.headline_status = "great"
    assert refused(rec.save)


def test_it_makes_a_link_have_exactly_one_subject(issuer):
    rec = factories.recommendation(issuer)
    law = factories.instrument()
    assert refused(lambda: ProvisionLink.objects.create(key="l1", instrument=law, relation="cites"))
    concern = Concern.objects.create(code="c1", text="t", raised_by=issuer, country="KZ")
    assert refused(
        lambda: ProvisionLink.objects.create(
            key="l2", recommendation=rec, concern=concern, instrument=law, relation="cites"
        )
    )


def test_it_refuses_duplicate_links_also_to_a_whole_instrument(issuer):
    rec = factories.recommendation(issuer)
    law = factories.instrument()
    ProvisionLink.objects.create(key="l1", recommendation=rec, instrument=law, relation="cites")
    assert refused(
        lambda: ProvisionLink.objects.create(
            key="l2", recommendation=rec, instrument=law, relation="cites"
        )
    )
    article = factories.provision(law, "art_1")
    ProvisionLink.objects.create(
        key="l3", recommendation=rec, instrument=law, provision=article, relation="cites"
    )
    assert refused(
        lambda: ProvisionLink.objects.create(
            key="l4", recommendation=rec, instrument=law, provision=article, relation="cites"
        )
    )


def test_it_refuses_assessment_rows_that_break_the_rules(issuer, alice_org):
    rec = factories.recommendation(issuer)
    base = {
        "recommendation": rec,
        "assessor": alice_org,
        "status_since": datetime.date(2024, 1, 1),
        "evidence": "e",
    }
    assert refused(lambda: StatusAssessment.objects.create(status="not_assessed", **base))
    first = StatusAssessment.objects.create(status="not_implemented", **base)
    assert refused(
        lambda: StatusAssessment.objects.create(status="not_implemented", corrects=first, **base)
    )
    assert refused(
        lambda: StatusAssessment.objects.create(
            status="not_implemented", review_state="returned", **base
        )
    )
