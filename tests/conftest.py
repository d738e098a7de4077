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


def _flushes_the_database(item: pytest.Item) -> bool:
    """Whether pytest-django empties the database after `item` (transactional tests)."""
    marker = item.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        return True
    fixtures = set(getattr(item, "fixturenames", ()))
    return bool(fixtures & {"transactional_db", "live_server"})


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    """Let transactional tests' flush (TRUNCATE) through the append-only triggers.

    The database refuses TRUNCATE on the assessment and history tables. Tests
    run as a superuser, who may switch triggers off for the session: done here
    only while the test's fixtures are torn down, which is when the flush runs.
    Afterwards the role groups the flush removed are put back.
    """
    from django.db import connection
    from pytest_django.plugin import blocking_manager_key

    blocker = item.config.stash[blocking_manager_key]
    switched = _on_postgres() and connection.connection is not None
    if switched:
        with blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
    try:
        return (yield)
    finally:
        if switched and connection.connection is not None:
            with blocker.unblock(), connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")
        # After the last test the test database is gone: nothing needs the groups.
        if nextitem is not None and _flushes_the_database(item):
            # The flush also emptied the role groups the migrations created;
            # the tests that run next need them.
            from django.contrib.auth.models import Group, Permission

            from tracker.roles import apply_roles

            with blocker.unblock():
                apply_roles(Group, Permission)


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
