"""Factories for test data: every object built from keys, never from primary keys."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

from django.contrib.auth.models import Group

from instruments.choices import InstrumentKind, Jurisdiction
from instruments.models import Instrument, Provision, Source
from recommendations import services
from recommendations.models import Recommendation, StatusAssessment
from tracker.choices import OrganisationKind
from tracker.models import Organisation, User
from tracker.roles import STAFF_ROLES, Role

_counter = itertools.count(1)


def organisation(slug: str | None = None, **fields: Any) -> Organisation:
    n = next(_counter)
    slug = slug or f"org-{n}"
    fields.setdefault("name", slug.replace("-", " ").title())
    fields.setdefault("kind", OrganisationKind.NGO)
    return Organisation.objects.create(slug=slug, **fields)


def user(username: str, role: Role | None, organisation: Organisation | None = None) -> User:
    account = User.objects.create_user(
        username=username,
        password=f"pw-{username}",
        organisation=organisation,
        is_staff=role in STAFF_ROLES,
        is_superuser=role == Role.ADMINISTRATOR,
    )
    if role is not None:
        account.groups.set([role_group(role)])
    assert isinstance(account, User)
    return account


def role_group(role: Role) -> Group:
    return Group.objects.get(name=role.value)


def source(key: str | None = None, **fields: Any) -> Source:
    key = key or f"source-{next(_counter)}"
    fields.setdefault("title", key)
    fields.setdefault("kind", "report")
    return Source.objects.create(key=key, **fields)


def instrument(slug: str | None = None, **fields: Any) -> Instrument:
    slug = slug or f"instrument-{next(_counter)}"
    fields.setdefault("title", slug)
    fields.setdefault("kind", InstrumentKind.LAW)
    fields.setdefault("jurisdiction", Jurisdiction.NATIONAL)
    fields.setdefault("country", "KZ")
    return Instrument.objects.create(slug=slug, **fields)


def provision(instrument_: Instrument, eid: str = "art_1", **fields: Any) -> Provision:
    fields.setdefault("label", eid)
    return Provision.objects.create(instrument=instrument_, eid=eid, **fields)


def recommendation(
    issued_by: Organisation, code: str | None = None, **fields: Any
) -> Recommendation:
    code = code or f"rec-{next(_counter)}"
    fields.setdefault("text", f"Text of {code}")
    fields.setdefault("country", "KZ")
    fields.setdefault("issued_on", datetime.date(2020, 1, 1))
    return Recommendation.objects.create(code=code, issued_by=issued_by, **fields)


def assessment(
    recommendation_: Recommendation, assessor: Organisation, recorded_by: User, **fields: Any
) -> StatusAssessment:
    """An assessment recorded through the service (a draft unless `publish=True` is given)."""
    fields.setdefault("status", "partially_implemented")
    fields.setdefault("status_since", datetime.date(2024, 1, 1))
    fields.setdefault("evidence", "e")
    return services.assessment_record(
        recommendation=recommendation_, assessor=assessor, recorded_by=recorded_by, **fields
    )
