"""Shared test set-up: two organisations (alice's and bob's) so isolation is always tested."""

from __future__ import annotations

import os

import pytest
from django.conf import settings

from tests import factories
from tracker.models import Organisation, User
from tracker.roles import Role


def _on_postgres() -> bool:
    return bool(settings.DATABASES["default"]["ENGINE"].endswith("postgresql"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _on_postgres():
        return
    if os.environ.get("TRACKER_REQUIRE_POSTGRES"):
        raise pytest.UsageError(
            "TRACKER_REQUIRE_POSTGRES is set but DATABASE_URL is not PostgreSQL: "
            "the PostgreSQL-only tests would be skipped."
        )
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://…)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def alice_org(db: None) -> Organisation:
    return factories.organisation("alice-ngo", name="Alice NGO")


@pytest.fixture
def bob_org(db: None) -> Organisation:
    return factories.organisation("bob-ngo", name="Bob NGO")


@pytest.fixture
def issuer(db: None) -> Organisation:
    return factories.organisation("issuer", name="Issuing Body", kind="intergovernmental")


@pytest.fixture
def alice(alice_org: Organisation) -> User:
    """A monitor acting for Alice NGO."""
    return factories.user("alice", Role.MONITOR, alice_org)


@pytest.fixture
def bob(bob_org: Organisation) -> User:
    """A monitor acting for Bob NGO."""
    return factories.user("bob", Role.MONITOR, bob_org)


@pytest.fixture
def editor(db: None) -> User:
    return factories.user("erin", Role.EDITOR)


@pytest.fixture
def donor(db: None) -> User:
    return factories.user("dana", Role.DONOR)


@pytest.fixture
def partner(bob_org: Organisation) -> User:
    return factories.user("pat", Role.PARTNER, bob_org)


@pytest.fixture
def administrator(db: None) -> User:
    return factories.user("ada", Role.ADMINISTRATOR)
