from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from instruments.models import Citation, InstrumentRelation, Provision, TreatyParticipation
from tests import factories


def refused(create) -> bool:
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


@pytest.mark.django_db
def test_it_refuses_entry_into_force_before_adoption():
    assert refused(
        lambda: factories.instrument(
            adopted_on=datetime.date(2011, 7, 22), in_force_on=datetime.date(2011, 1, 1)
        )
    )
    factories.instrument(
        adopted_on=datetime.date(2011, 7, 22), in_force_on=datetime.date(2011, 8, 1)
    )


@pytest.mark.django_db
def test_it_refuses_a_period_ending_before_it_starts():
    assert refused(
        lambda: factories.instrument(
            period_start=datetime.date(2011, 1, 1), period_end=datetime.date(2009, 1, 1)
        )
    )


@pytest.mark.django_db
def test_it_refuses_a_national_instrument_without_country():
    assert refused(lambda: factories.instrument(country=""))
    factories.instrument(country="", jurisdiction="international")


@pytest.mark.django_db
def test_it_refuses_duplicate_keys():
    factories.instrument("law-x")
    assert refused(lambda: factories.instrument("law-x"))
    factories.organisation("org-x")
    assert refused(lambda: factories.organisation("org-x"))


@pytest.mark.django_db
def test_it_keeps_a_provision_path_unique_within_its_instrument():
    first, second = factories.instrument(), factories.instrument()
    factories.provision(first, "art_14")
    factories.provision(second, "art_14")  # same path, other instrument: fine
    assert refused(lambda: factories.provision(first, "art_14"))


@pytest.mark.django_db
@pytest.mark.parametrize("eid", ["Article 14", "art14", "art_14__", "__art_1", "art_3_para_1"])
def test_it_refuses_malformed_provision_paths(eid):
    law = factories.instrument()
    assert refused(lambda: factories.provision(law, eid))
    with pytest.raises(ValidationError):
        Provision(instrument=law, eid=eid, label="x").full_clean()


@pytest.mark.django_db
@pytest.mark.parametrize("eid", ["art_14", "art_3__para_1", "chp_2__art_5__para_1__pnt_a"])
def test_it_accepts_akoma_ntoso_paths(eid):
    factories.provision(factories.instrument(), eid)


@pytest.mark.django_db
def test_it_requires_a_child_provision_to_extend_its_parent():
    law = factories.instrument()
    article = factories.provision(law, "art_3")
    Provision(instrument=law, eid="art_3__para_1", label="1", parent=article).full_clean()
    with pytest.raises(ValidationError) as error:
        Provision(instrument=law, eid="art_4__para_1", label="1", parent=article).full_clean()
    assert "eid" in error.value.message_dict


@pytest.mark.django_db
def test_it_refuses_a_relation_of_an_instrument_to_itself_and_duplicates():
    draft, law = factories.instrument(state="draft"), factories.instrument()
    InstrumentRelation.objects.create(subject=draft, kind="became", target=law)
    assert refused(
        lambda: InstrumentRelation.objects.create(subject=draft, kind="became", target=law)
    )
    assert refused(
        lambda: InstrumentRelation.objects.create(subject=law, kind="amends", target=law)
    )


@pytest.mark.django_db
def test_it_keeps_one_act_per_state_and_treaty():
    treaty = factories.instrument(jurisdiction="international", country="", kind="covenant")
    TreatyParticipation.objects.create(instrument=treaty, country="KZ", status="ratified")
    TreatyParticipation.objects.create(instrument=treaty, country="KZ", status="signed")
    assert refused(
        lambda: TreatyParticipation.objects.create(
            instrument=treaty, country="KZ", status="ratified"
        )
    )


@pytest.mark.django_db
def test_it_makes_a_citation_support_exactly_one_record(issuer):
    document = factories.source()
    law = factories.instrument()
    assert refused(lambda: Citation.objects.create(key="c1", source=document, quote="q"))
    assert refused(
        lambda: Citation.objects.create(
            key="c2", source=document, quote="q", instrument=law, organisation=issuer
        )
    )
    Citation.objects.create(key="c3", source=document, quote="q", instrument=law)


@pytest.mark.django_db
def test_it_requires_a_claim_to_carry_its_value():
    document, law = factories.source(), factories.instrument()
    assert refused(
        lambda: Citation.objects.create(
            key="c1", source=document, quote="q", instrument=law, claim_field="adopted_on"
        )
    )


@pytest.mark.django_db
def test_it_checks_that_partial_dates_start_their_period():
    law = factories.instrument()
    law.adopted_on = datetime.date(2009, 12, 15)
    law.adopted_on_precision = "month"
    with pytest.raises(ValidationError) as error:
        law.full_clean()
    assert "adopted_on" in error.value.message_dict
    law.adopted_on = datetime.date(2009, 12, 1)
    law.full_clean()
    assert law.adopted_display == "December 2009"


@pytest.mark.django_db
def test_it_resolves_natural_keys():
    law = factories.instrument("kz-constitution")
    article = factories.provision(law, "art_14")
    assert Provision.objects.get_by_natural_key("kz-constitution", "art_14") == article
    assert article.natural_key() == ("kz-constitution", "art_14")
