"""The lookup of an API key: one fixed statement on PostgreSQL, the ORM elsewhere, same records."""

from __future__ import annotations

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tracker import services
from tracker.authentication import _key_statement, active_key, key_digest
from tracker.models import ApiKey, User
from tracker.roles import Role, roles_of


def fields_of(record: Model) -> dict[str, object]:
    return {field.attname: getattr(record, field.attname) for field in record._meta.concrete_fields}


def issued(user: User) -> tuple[ApiKey, str]:
    api_key, raw_key = services.api_key_issue(user=user, name="sync", may_write_assessments=True)
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())
    return api_key, raw_key


def test_it_finds_the_key_its_user_and_their_organisation_as_the_orm_does(partner):
    _api_key, raw_key = issued(partner)
    digest = key_digest(raw_key)
    expected = ApiKey.objects.select_related("user__organisation").get(digest=digest)
    found = active_key(digest)  # the statement is made at the first call
    with CaptureQueriesContext(connection) as queries:
        found = active_key(digest)
        assert found is not None
        user, organisation = found.user, found.user.organisation
    assert len(queries) == 1
    assert fields_of(found) == fields_of(expected)
    assert fields_of(user) == fields_of(expected.user)
    assert organisation is not None
    assert fields_of(organisation) == fields_of(partner.organisation)
    # Records as the ORM makes them: saved, of this database, comparing equal.
    assert not found._state.adding and found._state.db == connection.alias
    assert (found, user, organisation) == (expected, expected.user, expected.user.organisation)


def test_it_finds_no_key_that_is_revoked_or_unknown(partner):
    api_key, raw_key = issued(partner)
    services.api_key_revoke(api_key=api_key)
    assert active_key(key_digest(raw_key)) is None
    assert active_key(key_digest("made-up")) is None


def test_it_gives_a_user_left_without_an_organisation_none(partner):
    _api_key, raw_key = issued(partner)
    User.objects.filter(pk=partner.pk).update(organisation=None)
    found = active_key(key_digest(raw_key))
    assert found is not None
    with CaptureQueriesContext(connection) as queries:
        assert found.user.organisation is None
    assert len(queries) == 0


@pytest.mark.postgres
def test_it_reads_the_users_groups_and_permissions_with_the_key(partner):
    extra = Group.objects.create(name="key extra")
    extra.permissions.add(Permission.objects.get(codename="review_statusassessment"))
    partner.groups.add(extra)
    partner.user_permissions.add(Permission.objects.get(codename="change_organisation"))
    _api_key, raw_key = issued(partner)
    found = active_key(key_digest(raw_key))
    assert found is not None
    with CaptureQueriesContext(connection) as queries:
        permissions = found.user.get_all_permissions()
        assert found.user.has_perm("recommendations.add_statusassessment")
        assert roles_of(found.user) == {Role.PARTNER}
    assert len(queries) == 0
    assert permissions == ModelBackend().get_all_permissions(User.objects.get(pk=partner.pk))
    assert {"recommendations.review_statusassessment", "tracker.change_organisation"} <= (
        permissions
    )


@pytest.mark.postgres
def test_it_leaves_a_superusers_permissions_to_the_first_check(alice_org):
    root = User.objects.create_superuser("key-root", password="x", organisation=alice_org)
    _api_key, raw_key = issued(root)
    found = active_key(key_digest(raw_key))
    assert found is not None
    assert roles_of(found.user) == set()
    assert found.user.get_all_permissions() == ModelBackend().get_all_permissions(
        User.objects.get(pk=root.pk)
    )


@pytest.mark.postgres
def test_it_reads_on_postgresql_with_one_fixed_statement():
    statement = _key_statement()
    assert statement is not None
    assert statement.startswith("SELECT ") and "%s" in statement and ";" not in statement


def test_it_leaves_to_the_orm_a_database_whose_columns_need_converting():
    if connection.vendor == "postgresql":
        pytest.skip("checks what SQLite needs")
    assert _key_statement() is None
