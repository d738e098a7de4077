"""Background work of recommendations. Tasks stay thin: they read and call services."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from recommendations.selectors import deadlines_of
from recommendations.services import overview_counts_compact
from tracker.models import User
from tracker.roles import Role


@shared_task(name="recommendations.tasks.send_deadline_reminders")
def send_deadline_reminders() -> int:
    """Email each organisation's monitors its overdue and soon-due recommendations.

    Scheduled daily (CELERY_BEAT_SCHEDULE). Organisations with nothing due get
    no email. Returns the number of emails sent.
    """
    today = timezone.localdate()
    monitors = (
        User.objects.filter(
            is_active=True, groups__name=Role.MONITOR.value, organisation__isnull=False
        )
        .exclude(email="")
        .select_related("organisation")
        .order_by("organisation_id", "username")
    )
    by_organisation: dict[int, list[User]] = {}
    for monitor in monitors:
        if monitor.organisation_id is not None:
            by_organisation.setdefault(monitor.organisation_id, []).append(monitor)

    sent = 0
    for organisation_id, members in by_organisation.items():
        deadlines = deadlines_of(organisation_id, today=today)
        if not deadlines.overdue and not deadlines.soon_due:
            continue
        organisation = members[0].organisation
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Follow-up deadlines for %(organisation)s") % {"organisation": organisation}
            body = render_to_string(
                "recommendations/deadline_reminder.txt",
                {"organisation": organisation, "deadlines": deadlines, "today": today},
            )
        sent += send_mail(
            subject,
            body,
            settings.DEFAULT_FROM_EMAIL,
            [member.email for member in members],
        )
    return sent


@shared_task(name="recommendations.tasks.compact_overview_counts")
def compact_overview_counts() -> int:
    """Fold the overview's count rows (CELERY_BEAT_SCHEDULE, every few minutes)."""
    return overview_counts_compact()
