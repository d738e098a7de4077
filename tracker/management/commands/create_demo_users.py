"""Create the demo accounts of the quick start: one per role, password demo-<name>."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tracker.authentication import key_digest
from tracker.choices import OrganisationKind
from tracker.models import ApiKey, Organisation, User
from tracker.roles import STAFF_ROLES, Role
from tracker.services import api_key_issue

# Monitors and partners act for an organisation. The seed data names no NGO,
# so the demo accounts get two clearly labelled demo organisations rather
# than borrowing a real body's name.
DEMO_ORGANISATIONS = {
    Role.MONITOR: ("demo-monitoring-ngo", "Demo monitoring NGO"),
    Role.PARTNER: ("demo-partner-organisation", "Demo partner organisation"),
}
# Known to everyone who reads the README: only ever created with DEBUG on.
DEMO_PARTNER_KEY = "demo-partner-key"
DEMO_ACCOUNTS = {
    "admin": Role.ADMINISTRATOR,
    "editor": Role.EDITOR,
    "monitor": Role.MONITOR,
    "donor": Role.DONOR,
    "partner": Role.PARTNER,
}


class Command(BaseCommand):
    help = "Create the demo accounts (admin, editor, monitor, donor, partner). DEBUG only."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("Demo accounts have known passwords; refusing with DEBUG off.")
        with transaction.atomic():
            for username, role in DEMO_ACCOUNTS.items():
                organisation = None
                if role in DEMO_ORGANISATIONS:
                    slug, name = DEMO_ORGANISATIONS[role]
                    organisation, _created = Organisation.objects.get_or_create(
                        slug=slug,
                        defaults={
                            "name": name,
                            "kind": OrganisationKind.NGO,
                            "description": "Created by create_demo_users for the demo "
                            "accounts; not part of the data set.",
                        },
                    )
                user, _created = User.objects.get_or_create(username=username)
                user.is_staff = role in STAFF_ROLES
                user.is_superuser = role == Role.ADMINISTRATOR
                user.organisation = organisation
                user.set_password(f"demo-{username}")
                user.save()
                user.groups.set([Group.objects.get(name=role.value)])
                self.stdout.write(f"{username} / demo-{username}  ({role.label})")
            partner = User.objects.get(username="partner")
            if not ApiKey.objects.filter(digest=key_digest(DEMO_PARTNER_KEY)).exists():
                api_key_issue(
                    user=partner,
                    name="Demo partner key",
                    may_write_assessments=True,
                    raw_key=DEMO_PARTNER_KEY,
                )
            self.stdout.write(f"partner's API key: {DEMO_PARTNER_KEY}")
