"""Measure the tracker at several data sizes against PostgreSQL's floor and two DRF variants."""

from __future__ import annotations

import datetime
import json
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from recommendations.serializers import ASSESSMENT_BATCH_MAX
from tracker.benchmarking.runner import RunOptions, per_row_cost, ratios, run_size, scaling


def parse_sizes(text: str) -> list[int]:
    """`1000,10000` as [1000, 10000]; a clear error naming --sizes otherwise."""
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise CommandError(f"--sizes: {text!r} is not a comma-separated list of numbers.") from None
    if not sizes or any(size < 1 for size in sizes):
        raise CommandError("--sizes: give one or more sizes of 1 or more, such as 1000,10000.")
    return sorted(set(sizes))


class Command(BaseCommand):
    help = (
        "Generate (or reuse) the synthetic data at each size and measure the API, the "
        "reports and the admin, with the list page and the overview side by side with "
        "PostgreSQL's floor, a plain and a tuned DRF viewset; write every figure as JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sizes", default="1000,10000,100000")
        parser.add_argument("--json", dest="json_path", required=True, help="Output file.")
        parser.add_argument("--assessments-per-recommendation", type=int, default=10)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--repetitions", type=int, default=30)
        parser.add_argument(
            "--budget-seconds",
            type=float,
            default=20.0,
            help="Stop repeating one measurement after this long (at least 3 runs).",
        )
        parser.add_argument("--writers", type=int, default=4, help="Concurrent writing clients.")
        parser.add_argument(
            "--writes-per-writer",
            type=int,
            default=RunOptions.writes_per_writer,
            help="Timed assessments per client, after a few untimed ones.",
        )
        parser.add_argument(
            "--creation-rounds",
            type=int,
            default=RunOptions.creation_rounds,
            help="Timed rounds of assessment creation; the rate is the median round's.",
        )
        parser.add_argument(
            "--creation-batch-size",
            type=int,
            default=RunOptions.creation_batch_size,
            help=f"Assessments per POST in the batched rounds (1 to {ASSESSMENT_BATCH_MAX}).",
        )
        parser.add_argument(
            "--feed-walk-events",
            type=int,
            default=20_000,
            help="Stop walking the change feed after this many events.",
        )
        parser.add_argument(
            "--no-server",
            action="store_true",
            help="Skip the assessment-creation measurement, which starts gunicorn.",
        )
        parser.add_argument(
            "--allow-sqlite",
            action="store_true",
            help="Run on SQLite (a smoke test only: no floor, no feed, no server).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.started = time.perf_counter()
        sizes = parse_sizes(options["sizes"])
        if connection.vendor != "postgresql" and not options["allow_sqlite"]:
            raise CommandError(
                "DATABASE_URL: the benchmark measures PostgreSQL; point DATABASE_URL at it "
                "(or pass --allow-sqlite for a smoke test)."
            )
        for name in (
            "repetitions",
            "writers",
            "writes_per_writer",
            "creation_rounds",
            "feed_walk_events",
        ):
            if options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be 1 or more.")
        if not 1 <= options["creation_batch_size"] <= ASSESSMENT_BATCH_MAX:
            raise CommandError(f"--creation-batch-size must be 1 to {ASSESSMENT_BATCH_MAX}.")
        run_options = RunOptions(
            assessments_per_recommendation=options["assessments_per_recommendation"],
            seed=options["seed"],
            repetitions=options["repetitions"],
            budget_seconds=options["budget_seconds"],
            writers=options["writers"],
            writes_per_writer=options["writes_per_writer"],
            creation_rounds=options["creation_rounds"],
            creation_batch_size=options["creation_batch_size"],
            server=not options["no_server"],
            feed_walk_events=options["feed_walk_events"],
        )
        by_size: dict[str, dict[str, Any]] = {}
        for size in sizes:
            by_size[str(size)] = run_size(size, run_options, self._log)
        document = {
            "generated_at": datetime.datetime.now(datetime.UTC).isoformat(),
            "database": connection.vendor,
            "sizes": sizes,
            "options": {
                "assessments_per_recommendation": run_options.assessments_per_recommendation,
                "seed": run_options.seed,
                "repetitions": run_options.repetitions,
                "writers": run_options.writers,
                "writes_per_writer": run_options.writes_per_writer,
                "creation_rounds": run_options.creation_rounds,
                "creation_batch_size": run_options.creation_batch_size,
            },
            "results": by_size,
            "scaling": scaling(by_size),
            "per_row_cost": per_row_cost(by_size),
            "ratios": ratios(by_size[str(sizes[-1])]),
        }
        Path(options["json_path"]).write_text(json.dumps(document, indent=2, default=str) + "\n")
        self.stdout.write(json.dumps(document["ratios"], indent=2))

    def _log(self, message: str) -> None:
        elapsed = time.perf_counter() - self.started
        sys.stderr.write(f"benchmark [{elapsed:7.1f} s] {message}\n")
        sys.stderr.flush()
