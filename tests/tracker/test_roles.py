from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from recommendations.choices import Visibility
from tests import factories
from tracker.roles import (
    ROLE_PERMISSIONS,
    Role,
    apply_roles,
    can_read_evidence,
    can_read_reports,
    can_review,
    may_act_for,
    roles_of,
)


@pytest.mark.django_db
def test_it_creates_every_role_group_with_exactly_its_permissions():
    for role, codenames in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role.value)
        granted = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
        }
        assert granted == codenames, role


@pytest.mark.django_db
def test_it_reapplies_roles_idempotently_and_removes_stray_permissions():
    donors = Group.objects.get(name=Role.DONOR.value)
    donors.permissions.add(Permission.objects.get(codename="delete_recommendation"))
    apply_roles(Group, Permission)
    apply_roles(Group, Permission)
    assert {p.codename for p in donors.permissions.all()} == {"view_reports"}


def test_it_answers_what_each_role_may_do(
    alice, alice_org, bob_org, editor, donor, partner, administrator
):
    assert roles_of(alice) == {Role.MONITOR}
    assert may_act_for(alice, alice_org) and not may_act_for(alice, bob_org)
    assert may_act_for(partner, bob_org) and not may_act_for(partner, alice_org)
    assert may_act_for(editor, alice_org) and may_act_for(administrator, bob_org)
    assert not may_act_for(donor, alice_org)
    assert can_review(editor) and can_review(administrator)
    assert not any(can_review(u) for u in (alice, donor, partner))
    assert all(can_read_reports(u) for u in (alice, editor, donor, administrator))
    assert not can_read_reports(partner)


def test_it_limits_evidence_by_visibility(alice, editor, donor, partner):
    from django.contrib.auth.models import AnonymousUser

    anonymous = AnonymousUser()
    assert can_read_evidence(anonymous, Visibility.PUBLIC)
    assert not can_read_evidence(anonymous, Visibility.PARTNERS)
    assert can_read_evidence(partner, Visibility.PARTNERS)
    assert not can_read_evidence(partner, Visibility.INTERNAL)
    assert not can_read_evidence(alice, Visibility.INTERNAL)
    assert can_read_evidence(editor, Visibility.INTERNAL)
    assert not can_read_evidence(donor, Visibility.INTERNAL)


def test_it_keeps_a_user_without_role_powerless(alice_org):
    nobody = factories.user("nobody", None, alice_org)
    assert roles_of(nobody) == set()
    assert not may_act_for(nobody, alice_org)
    assert not can_read_reports(nobody)
