"""Fill the database with reproducible synthetic recommendations and assessments."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from recommendations.synthetic import WORKERS, synthetic_generate


def progress_bar(stream: Any, label: str) -> Any:
    """A one-line progress bar redrawn in place, with rows per second."""
    started = time.perf_counter()

    def draw(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        elapsed = time.perf_counter() - started
        rate = done / elapsed if elapsed else 0.0
        stream.write(
            f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
            f"({rate:,.0f}/s, {elapsed:.1f} s)"
        )
        if done >= total:
            stream.write("\n")
        stream.flush()

    return draw


class Command(BaseCommand):
    help = (
        "Grow the synthetic data set (recommendations SYN-0000001…) to the given size: "
        "instruments with provisions, organisations, several assessors, corrections, "
        "returns, confidential evidence and links; the same seed gives the same data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--recommendations", type=int, required=True)
        parser.add_argument("--assessments-per-recommendation", type=int, default=10)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--workers",
            type=int,
            default=WORKERS,
            help="Blocks written at once on PostgreSQL, each on its own connection.",
        )
        parser.add_argument("--no-progress", action="store_true", help="Print no progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        for name in ("recommendations", "assessments_per_recommendation"):
            if options[name] < 0:
                raise CommandError(f"--{name.replace('_', '-')} must be 0 or more.")
        if options["workers"] < 1:
            raise CommandError("--workers must be 1 or more.")
        draw = None if options["no_progress"] else progress_bar(sys.stderr, "recommendations")
        report = synthetic_generate(
            recommendations=options["recommendations"],
            assessments_per_recommendation=options["assessments_per_recommendation"],
            seed=options["seed"],
            progress=draw,
            workers=options["workers"],
        )
        added = report.recommendations_after - report.recommendations_before
        self.stdout.write(
            f"{added} recommendations and {report.assessments_written} assessments written "
            f"in {report.seconds:.1f} s; the data set now holds "
            f"{report.recommendations_after} synthetic recommendations."
        )
