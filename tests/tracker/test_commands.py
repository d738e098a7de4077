from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from tracker.models import User
from tracker.roles import Role, roles_of


@pytest.mark.django_db
def test_it_creates_the_demo_accounts_with_their_roles(settings):
    settings.DEBUG = True
    call_command("create_demo_users", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("create_demo_users", stdout=open("/dev/null", "w"))  # twice: idempotent  # noqa: SIM115

    expected = {
        "admin": Role.ADMINISTRATOR,
        "editor": Role.EDITOR,
        "monitor": Role.MONITOR,
        "donor": Role.DONOR,
        "partner": Role.PARTNER,
    }
    assert User.objects.count() == 5
    for username, role in expected.items():
        user = authenticate(username=username, password=f"demo-{username}")
        assert user is not None, username
        assert roles_of(user) == {role}
    assert User.objects.get(username="admin").is_superuser
    assert not User.objects.get(username="donor").is_staff
    assert User.objects.get(username="monitor").organisation is not None
    assert User.objects.get(username="partner").organisation is not None


@pytest.mark.django_db
def test_it_refuses_demo_accounts_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("create_demo_users")
    assert not User.objects.exists()
