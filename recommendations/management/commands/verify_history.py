"""Recompute every assessment chain and derived status; exit non-zero on any break."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from recommendations.verification import history_problems


class Command(BaseCommand):
    help = (
        "Recompute every published assessment's hash chain and every derived "
        "current and headline status; name each broken record and exit 1 if any."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        problems = 0
        for problem in history_problems():
            problems += 1
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"History verification failed: {problems} problem(s).")
        self.stdout.write(self.style.SUCCESS("History intact: every chain and status verified."))
