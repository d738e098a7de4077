"""The daily deadline reminder: in process, and through a real Celery worker."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from recommendations.tasks import send_deadline_reminders
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


def deadlines_for(organisation, issuer, other_org):
    today = timezone.localdate()
    late = factories.recommendation(
        issuer, "rec-late", follow_up_due=today - datetime.timedelta(days=2)
    )
    late.addressed_to.add(organisation)
    soon = factories.recommendation(
        issuer, "rec-soon", follow_up_due=today + datetime.timedelta(days=10)
    )
    soon.addressed_to.add(organisation)
    far = factories.recommendation(
        issuer, "rec-far", follow_up_due=today + datetime.timedelta(days=200)
    )
    far.addressed_to.add(organisation)
    done = factories.recommendation(
        issuer,
        "rec-done",
        follow_up_due=today - datetime.timedelta(days=5),
        headline_status="fully_implemented",
    )
    done.addressed_to.add(organisation)
    others = factories.recommendation(
        issuer, "rec-others", follow_up_due=today - datetime.timedelta(days=2)
    )
    others.addressed_to.add(other_org)


def test_it_emails_each_organisations_monitors_their_own_deadlines(
    alice, bob, alice_org, bob_org, issuer, mailoutbox
):
    alice.email = "alice@example.org"
    alice.save()
    bob.email = "bob@example.org"
    bob.save()
    deadlines_for(alice_org, issuer, bob_org)

    assert send_deadline_reminders() == 2
    by_recipient = {tuple(mail.to): mail for mail in mailoutbox}
    alices = by_recipient[("alice@example.org",)].body
    assert "rec-late" in alices and "rec-soon" in alices
    assert "rec-far" not in alices and "rec-done" not in alices and "rec-others" not in alices
    assert alices.index("Overdue") < alices.index("rec-late") < alices.index("Due soon")
    bobs = by_recipient[("bob@example.org",)].body
    assert "rec-others" in bobs and "rec-late" not in bobs


def test_it_sends_nothing_when_nothing_is_due(alice, alice_org, issuer, mailoutbox):
    alice.email = "alice@example.org"
    alice.save()
    factories.recommendation(issuer, "rec-undated").addressed_to.add(alice_org)
    assert send_deadline_reminders() == 0
    assert mailoutbox == []


def test_it_schedules_the_reminder_daily():
    schedule: Any = settings.CELERY_BEAT_SCHEDULE["deadline-reminders"]
    assert schedule["task"] == send_deadline_reminders.name
    assert schedule["schedule"].hour == {7}


@pytest.fixture
def celery_worker_process(transactional_db: None, tmp_path: Path) -> Iterator[Path]:
    """A real `celery -A tracker worker` on the test database; yields its mail directory."""
    from django.contrib.auth.models import Group, Permission

    from tracker.roles import apply_roles

    # An earlier transactional test's flush may have emptied the role groups.
    apply_roles(Group, Permission)
    if not settings.CELERY_BROKER_URL:
        if os.environ.get("CI"):
            pytest.fail("CELERY_BROKER_URL must point at Redis in CI")
        pytest.skip("needs a broker (set CELERY_BROKER_URL=redis://…)")
    database = connection.settings_dict
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    url = (
        f"postgres://{database['USER']}{password}@{database['HOST']}:{database['PORT']}/"
        f"{database['NAME']}"
    )
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tracker",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": url,
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail_dir),
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield mail_dir
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()


@pytest.mark.postgres
# Marked so pytest-django runs it after the tests that expect the role groups.
@pytest.mark.django_db(transaction=True)
def test_it_sends_reminders_from_a_real_worker(
    celery_worker_process, alice, bob, alice_org, bob_org, issuer
):
    alice.email = "alice@example.org"
    alice.save()
    deadlines_for(alice_org, issuer, bob_org)

    send_deadline_reminders.delay()

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not any(celery_worker_process.iterdir()):
        time.sleep(0.5)
    written = [path.read_text() for path in celery_worker_process.iterdir()]
    assert len(written) == 1, (celery_worker_process.parent / "worker.log").read_text()
    assert "To: alice@example.org" in written[0]
    assert "rec-late" in written[0] and "rec-soon" in written[0]
    assert "rec-others" not in written[0]
