"""The permission backend answers as Django's model backend does, in one query."""

from __future__ import annotations

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, Group, Permission

from tests import factories
from tracker.backends import PermissionBackend, group_names
from tracker.models import User
from tracker.roles import Role, roles_of

pytestmark = pytest.mark.django_db


def permission(name: str) -> Permission:
    app_label, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def fresh(user: User) -> User:
    """The user as a new request reads it: no permissions cached on the object."""
    return User.objects.get(pk=user.pk)


def test_it_gives_a_role_the_permissions_django_gives(alice_org):
    for role in Role:
        user = factories.user(f"backend-{role.value}", role, alice_org)
        ours = PermissionBackend().get_all_permissions(fresh(user))
        assert ours == ModelBackend().get_all_permissions(fresh(user))
        assert ours, role


def test_it_joins_a_users_own_permissions_and_every_groups(alice_org):
    user = factories.user("backend-mixed", Role.DONOR, alice_org)
    extra = Group.objects.create(name="backend extra")
    extra.permissions.add(permission("recommendations.review_statusassessment"))
    user.groups.add(extra)
    user.user_permissions.add(permission("tracker.change_organisation"))

    ours = PermissionBackend().get_all_permissions(fresh(user))

    assert ours == ModelBackend().get_all_permissions(fresh(user))
    assert {"recommendations.review_statusassessment", "tracker.change_organisation"} <= ours
    assert "recommendations.view_reports" in ours  # the donor's own role


def test_it_gives_no_permission_granted_to_someone_else(alice_org):
    holder = factories.user("backend-holder", None, alice_org)
    holder.user_permissions.add(permission("tracker.change_organisation"))
    nobody = factories.user("backend-nobody", None, alice_org)

    assert PermissionBackend().get_all_permissions(fresh(nobody)) == set()
    assert fresh(nobody).has_perm("tracker.change_organisation") is False
    assert fresh(holder).has_perm("tracker.change_organisation") is True


def test_it_gives_a_superuser_every_permission_and_the_inactive_none(alice_org):
    superuser = User.objects.create_superuser("backend-root", password="x")
    assert PermissionBackend().get_all_permissions(fresh(superuser)) == (
        ModelBackend().get_all_permissions(fresh(superuser))
    )
    inactive = factories.user("backend-inactive", Role.EDITOR, alice_org)
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    assert PermissionBackend().get_all_permissions(fresh(inactive)) == set()
    assert PermissionBackend().get_all_permissions(AnonymousUser()) == set()
    # Per-object permissions are not what groups grant, as in Django.
    editor = factories.user("backend-editor", Role.EDITOR, alice_org)
    assert PermissionBackend().get_all_permissions(fresh(editor), obj=alice_org) == set()


def test_it_reads_them_and_the_roles_in_one_query_once_per_user_object(
    alice_org, django_assert_num_queries
):
    user = fresh(factories.user("backend-counted", Role.MONITOR, alice_org))
    with django_assert_num_queries(1):
        assert user.has_perm("recommendations.add_statusassessment")
        assert not user.has_perm("recommendations.review_statusassessment")
        assert roles_of(user) == {Role.MONITOR}
        assert user.has_perm("recommendations.view_recommendation")
    other = fresh(factories.user("backend-roles-first", Role.EDITOR, alice_org))
    with django_assert_num_queries(1):
        assert roles_of(other) == {Role.EDITOR}
        assert other.has_perm("recommendations.change_recommendation")


def test_it_names_every_group_and_only_the_users(alice_org):
    user = factories.user("backend-grouped", Role.PARTNER, alice_org)
    user.groups.add(Group.objects.create(name="backend without permissions"))
    factories.user("backend-other", Role.EDITOR, alice_org)

    assert group_names(fresh(user)) == {Role.PARTNER.value, "backend without permissions"}
    assert group_names(fresh(factories.user("backend-alone", None, alice_org))) == frozenset()
    # An inactive user keeps their groups, and holds no permission.
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert roles_of(fresh(user)) == {Role.PARTNER}
    assert fresh(user).get_all_permissions() == set()


def test_it_is_the_backend_the_project_uses(settings):
    assert settings.AUTHENTICATION_BACKENDS == ["tracker.backends.PermissionBackend"]
