"""The measurements of one data size, and the summary of a whole run.

Latency is measured in-process through Django's test client, which runs the
full middleware stack (sessions, authentication, locale, history context)
without a network. Assessment creation, which must survive concurrency, is
measured against a real gunicorn server with several client threads.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import DatabaseError, connection
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from recommendations import exports, reports
from recommendations.models import Recommendation, StatusAssessment
from recommendations.synthetic import CODE_PREFIX, synthetic_generate
from tracker import gunicorn_conf, startup
from tracker.benchmarking import floor
from tracker.benchmarking.measure import Timing, peak_memory, percentile, timed
from tracker.models import ApiKey, Organisation, User
from tracker.roles import Role
from tracker.services import api_key_issue, api_key_revoke

BENCHMARK_URLCONF = "tracker.benchmarking.urls"
READER = "syn-benchmark-reader"
WRITER = "syn-benchmark-writer"
SYNC_READER = "syn-benchmark-sync"
EXPORT_ROWS = 10_000
LIST_PAGE_ROWS = 100
# Untimed writes per client before the clock starts (creation_measurement).
WARM_UP_WRITES = 5
START_TIMEOUT_SECONDS = 300
FLOOR_NEEDS_POSTGRES = "the floor is PostgreSQL's own SQL"


@dataclass(frozen=True)
class RunOptions:
    """What one benchmark run does at every size."""

    assessments_per_recommendation: int = 10
    seed: int = 1
    repetitions: int = 30
    budget_seconds: float = 20.0
    writers: int = 4
    writes_per_writer: int = 250
    # Timed rounds of creation, each of writers x writes_per_writer writes,
    # against one server: the rate is that of the median round.
    creation_rounds: int = 5
    # Assessments a client sends in one POST to the batch endpoint, in the
    # rounds that follow the single ones (at most ASSESSMENT_BATCH_MAX).
    creation_batch_size: int = 50
    server: bool = True
    # A full walk of a large feed takes minutes at the rates measured; the
    # rate is steady long before this many events.
    feed_walk_events: int = 20_000


def not_measured(reason: str) -> dict[str, str]:
    return {"status": f"not measured: {reason}"}


_MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def canonical(value: Any) -> Any:
    """`value` with every timestamp as an instant.

    PostgreSQL writes 12:00:00.12+05:00 where Python writes 12:00:00.120000+05:00:
    the same instant, which the comparison must not count as a difference.
    """
    if isinstance(value, dict):
        return {key: canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    if isinstance(value, str) and _MOMENT.match(value):
        return datetime.datetime.fromisoformat(value)
    return value


def first_difference(ours: Any, theirs: Any, path: str = "") -> str | None:
    """Where two JSON documents first differ, or None when they are equal."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in sorted(set(ours) | set(theirs), key=str):
            found = first_difference(ours.get(key), theirs.get(key), f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(ours, list) and isinstance(theirs, list):
        if len(ours) != len(theirs):
            return f"{path}: {len(ours)} items against {len(theirs)}"
        for index, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
            found = first_difference(mine, other, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if ours == theirs else f"{path}: {ours!r} against {theirs!r}"


def _account(username: str, *, superuser: bool, organisation: Organisation | None) -> User:
    account = User.objects.filter(username=username).first()
    if account is None:
        account = User(
            username=username,
            is_staff=True,
            is_superuser=superuser,
            organisation=organisation,
        )
        account.set_unusable_password()
        account.save()
    return account


def reader_client() -> Client:
    """A test client signed in as the benchmark's superuser, who may read everything."""
    client = Client()
    client.force_login(_account(READER, superuser=True, organisation=None))
    return client


def sync_client() -> tuple[Client, ApiKey]:
    """A test client with an API key of a superuser, as a partner syncs, and the key.

    Partners sync with a key, which one statement reads; a session costs two
    queries through the ORM, 1.3 ms of CPU for each page of the feed. A key
    belongs to a member of an organisation, so this superuser is one; a
    superuser sees every record and all evidence, as the signed-in reader
    does, so the documents are the reader's. Revoke the key when done.
    """
    organisation = Organisation.objects.get(slug="syn-assessor-1")
    account = _account(SYNC_READER, superuser=True, organisation=organisation)
    api_key, raw_key = api_key_issue(
        user=account, name=f"benchmark sync {uuid.uuid4().hex[:8]}", may_write_assessments=False
    )
    return Client(headers={"Authorization": f"Bearer {raw_key}"}), api_key


def overview_numbers(overview: reports.Overview) -> dict[str, Any]:
    """The overview's numbers in the shape the floor and the variants give them."""
    return {
        "total": overview.total,
        "by_status": {status: n for status, n in overview.by_status.items() if n},
        "disputed": overview.disputed,
        "overdue": overview.overdue,
        "breakdowns": {
            breakdown.slug: {
                row.key: {status: n for status, n in row.counts.items() if n}
                for row in breakdown.rows
            }
            for breakdown in overview.breakdowns
        },
    }


def _overview_from_json(received: Any) -> dict[str, Any]:
    document: dict[str, Any] = dict(received)
    document["by_status"] = {s: n for s, n in (document.get("by_status") or {}).items() if n}
    document["breakdowns"] = {
        name: {key: dict(counts) for key, counts in (rows or {}).items()}
        for name, rows in (document.get("breakdowns") or {}).items()
    }
    return document


class Comparison:
    """Variants of one answer, each checked equal to ours and then timed."""

    def __init__(self, options: RunOptions) -> None:
        self.options = options
        self.results: dict[str, Any] = {}

    def add(
        self, name: str, ours: Any, produce: Callable[[], Any], action: Callable[[], object]
    ) -> Timing | None:
        try:
            theirs = produce()
        except Exception as error:  # a broken variant is reported, not fatal
            self.results[name] = not_measured(f"{type(error).__name__}: {error}")
            return None
        difference = first_difference(canonical(ours), canonical(theirs))
        if difference is not None:
            self.results[name] = not_measured(f"output differs from ours at {difference}")
            return None
        timing = timed(
            action,
            repetitions=self.options.repetitions,
            budget_seconds=self.options.budget_seconds,
        )
        self.results[name] = {"output_equal_to_ours": True, **timing.as_dict()}
        return timing


def _json(client: Client, path: str, loads: Callable[[bytes], Any] = json.loads) -> Any:
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")
    return loads(response.content)


def _get(client: Client, path: str) -> Callable[[], object]:
    def action() -> object:
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")
        return response

    return action


def list_page_comparison(client: Client, options: RunOptions) -> dict[str, Any]:
    """Ours, the floor, the plain and the tuned DRF viewsets on the first page (LIST_PAGE_ROWS)."""
    ours_path = f"/api/v1/recommendations/?page_size={LIST_PAGE_ROWS}"
    ours = _json(client, ours_path)["results"]
    comparison = Comparison(options)
    comparison.add("ours", ours, lambda: ours, _get(client, ours_path))
    if connection.vendor == "postgresql":
        comparison.add(
            "floor",
            ours,
            lambda: floor.parsed(floor.list_page(size=100)),
            lambda: floor.list_page(size=100),
        )
    else:
        comparison.results["floor"] = not_measured(FLOOR_NEEDS_POSTGRES)
    for name in ("plain", "tuned"):
        path = f"/benchmark/{name}/recommendations/"
        comparison.add(
            f"{name}_drf",
            ours,
            lambda path=path: _json(client, path)["results"],  # type: ignore[misc]
            _get(client, path),
        )
    return comparison.results


def overview_comparison(client: Client, options: RunOptions) -> dict[str, Any]:
    """Ours (the reports' overview numbers), the floor and the two DRF variants."""
    everything = reports.ReportFilters()
    ours = overview_numbers(reports.overview(everything))
    today = timezone.localdate()
    comparison = Comparison(options)
    comparison.add("ours", ours, lambda: ours, lambda: reports.overview(everything))
    if connection.vendor == "postgresql":
        comparison.add(
            "floor",
            ours,
            lambda: _overview_from_json(floor.parsed(floor.overview(today=today))),
            lambda: floor.overview(today=today),
        )
    else:
        comparison.results["floor"] = not_measured(FLOOR_NEEDS_POSTGRES)
    for name in ("plain", "tuned"):
        path = f"/benchmark/{name}/overview/"
        comparison.add(
            f"{name}_drf",
            ours,
            lambda path=path: _overview_from_json(_json(client, path)),  # type: ignore[misc]
            _get(client, path),
        )
    return comparison.results


def _http(client: Client, path: str, options: RunOptions) -> dict[str, Any]:
    try:
        return timed(
            _get(client, path),
            repetitions=options.repetitions,
            budget_seconds=options.budget_seconds,
        ).as_dict()
    except Exception as error:
        return not_measured(f"{type(error).__name__}: {error}")


@dataclass
class _Walk:
    events: int = 0
    pages: int = 0
    complete: bool = False


def _walk_feed(client: Client, options: RunOptions) -> _Walk:
    """The feed from its start, in pages of 500, up to `feed_walk_events` events."""
    walk, after = _Walk(), ""
    while True:
        # Parsed with orjson, as a client that cares for speed would: the
        # standard library's parser took a fifth of the walk, time spent by
        # the client, not the tracker.
        page = _json(client, f"/api/v1/changes/?limit=500&after={after}", orjson.loads)
        events, after, more = len(page["results"]), page["next"] or "", page["has_more"]
        # A client that has stored a page lets it go before asking for the
        # next. The server runs in this process: a parsed page kept through
        # the next request would be walked by the garbage collector's rounds
        # during it, as a server of its own would not be.
        del page
        walk.events += events
        walk.pages += 1
        if not more or walk.events >= options.feed_walk_events:
            walk.complete = not more
            return walk


def _per_second(count: int, milliseconds: float) -> float | None:
    return round(count * 1000 / milliseconds, 1) if milliseconds else None


def feed_measurements(client: Client, options: RunOptions) -> dict[str, Any]:
    """A full walk of the change feed (events per second) and an incremental sync of 100.

    The first walk is timed on its own (a partner's first sync, on a cold
    process and cold buffers), then the walk is repeated as every other
    measurement is: the rate is that of the median walk.
    """
    if connection.vendor != "postgresql":
        return not_measured("the change feed needs PostgreSQL")
    try:
        began = time.perf_counter()
        walk = _walk_feed(client, options)
        first_ms = (time.perf_counter() - began) * 1000
        timing = timed(
            lambda: _walk_feed(client, options),
            repetitions=options.repetitions,
            budget_seconds=options.budget_seconds,
            warm_up=0,
        )
    except Exception as error:
        return not_measured(f"{type(error).__name__}: {error}")
    return {
        "full_walk": {
            "events": walk.events,
            "complete": walk.complete,
            "pages": walk.pages,
            **timing.as_dict(),
            "events_per_second": _per_second(walk.events, timing.median_ms),
            "events_per_second_p95": _per_second(walk.events, timing.p95_ms),
            "first_walk_ms": round(first_ms, 3),
            "first_walk_events_per_second": _per_second(walk.events, first_ms),
            "client_parser": "orjson",
        },
        "incremental_sync_100": _incremental_sync(client, options),
    }


def _feed_with_key(options: RunOptions) -> dict[str, Any]:
    """`feed_measurements` by a sync client (`sync_client`), whose key is revoked after."""
    if not Organisation.objects.filter(slug="syn-assessor-1").exists():
        return not_measured("no synthetic data to sync")
    client, api_key = sync_client()
    try:
        return {**feed_measurements(client, options), "client": "API key of a superuser"}
    finally:
        api_key_revoke(api_key=api_key)


def _incremental_sync(client: Client, options: RunOptions) -> dict[str, Any]:
    """A partner that synced up to 100 changes ago fetches the rest: one page of 100."""
    from tracker.feed import encode_cursor
    from tracker.models import Change

    before_last = Change.objects.order_by("-txid", "-id").values_list("txid", "id")[100:101]
    if not before_last:
        return not_measured("fewer than 101 changes in the feed")
    txid, change_id = before_last[0]
    path = f"/api/v1/changes/?limit=100&after={encode_cursor(txid, change_id)}"
    if len(_json(client, path)["results"]) != 100:
        return not_measured("the feed did not return the 100 latest changes")
    return timed(
        _get(client, path), repetitions=options.repetitions, budget_seconds=options.budget_seconds
    ).as_dict()


def export_measurement() -> dict[str, Any]:
    """The list export as XLSX over about EXPORT_ROWS recommendations: time and peak memory."""
    total = Recommendation.objects.count()
    filters, chosen = reports.ReportFilters(), total
    if total > EXPORT_ROWS:
        # One issuing body's recommendations: a sixth of the synthetic ones.
        issuer = Organisation.objects.filter(slug="syn-issuer-1").first()
        if issuer is not None:
            filters = reports.ReportFilters(issued_by=issuer)
            chosen = Recommendation.objects.filter(issued_by=issuer).count()

    def export_to_file() -> int:
        # As the background export writes it: to a file, while the rows are read.
        with tempfile.TemporaryFile() as output:
            exports.write(exports.build_document("list", filters), "xlsx", output)
            return output.tell()

    size, seconds, peak = peak_memory(export_to_file)
    return {
        "rows": chosen,
        "seconds": round(seconds, 3),
        "bytes": size,
        "peak_python_memory_bytes": peak,
        "peak_bytes_per_row": round(peak / max(chosen, 1), 1),
        "streaming": True,
    }


def _database_url() -> str:
    database = connection.settings_dict
    credentials = database["USER"] or ""
    if database.get("PASSWORD"):
        credentials += f":{database['PASSWORD']}"
    host = database.get("HOST") or "127.0.0.1"
    port = database.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{database['NAME']}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def creation_measurement(options: RunOptions) -> dict[str, Any]:
    """Assessments per second through gunicorn with concurrent clients, and none lost.

    One server for every round; the clients write a few untimed assessments
    before the first, then `creation_rounds` timed rounds follow, each
    started for all clients at once. The rate is that of the median round,
    and of the slowest but one in twenty (p95). As many rounds follow in
    which each client sends the same number of assessments in batches of
    `creation_batch_size` (`in_batches`), as a partner pushing a backlog does.
    """
    if not options.server:
        return not_measured("--no-server given")
    if connection.vendor != "postgresql":
        return not_measured("the benchmark's server runs against PostgreSQL only")
    organisation = Organisation.objects.get(slug="syn-assessor-1")
    writer = _account(WRITER, superuser=False, organisation=organisation)
    writer.groups.add(Group.objects.get(name=Role.PARTNER.value))
    _, raw_key = api_key_issue(
        user=writer, name=f"benchmark {uuid.uuid4().hex[:8]}", may_write_assessments=True
    )
    per_round = options.writers * options.writes_per_writer
    codes = list(
        Recommendation.objects.filter(code__startswith=CODE_PREFIX)
        .order_by("code")
        .values_list("code", flat=True)[: per_round * options.creation_rounds]
    )
    if not codes:
        return not_measured("no synthetic recommendations to assess")
    marker = f"benchmark run {uuid.uuid4()}"
    port = _free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        # As in production, but over plain HTTP on the loopback.
        "DEBUG": "false",
        "SECRET_KEY": f"benchmark-{uuid.uuid4().hex}{uuid.uuid4().hex}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
    }
    server = subprocess.Popen(  # noqa: S603 (fixed arguments)
        [
            sys.executable,
            "-m",
            "gunicorn",
            # As the production stack serves (docker-compose.yml), without its access log.
            "--config",
            "python:tracker.gunicorn_conf",
            "tracker.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=settings.BASE_DIR,
        env=environment,
    )
    base = f"http://127.0.0.1:{port}"
    single = f"{marker} single"
    batched = f"{marker} batched"
    answers: dict[str, list[int]] = {single: [], batched: []}
    rounds: dict[str, list[float]] = {single: [], batched: []}
    try:
        _wait_for(base, server)
        for series, batch in ((single, 1), (batched, options.creation_batch_size)):
            for number in range(options.creation_rounds):
                seconds = _creation_round(
                    _Round(
                        base=base,
                        key=raw_key,
                        codes=codes[number * per_round :] + codes[: number * per_round],
                        marker=f"{series} {number}",
                        # Every client writes a few assessments before the first
                        # clock starts, so that each worker has opened its database
                        # connection and run the path once; they are counted with
                        # the rest in what was stored.
                        warm_up=WARM_UP_WRITES if number == 0 and batch == 1 else 0,
                        batch=batch,
                    ),
                    options,
                    answers[series],
                )
                if seconds is None:
                    return not_measured("a client failed before the clock started")
                rounds[series].append(seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "server": f"gunicorn, {gunicorn_conf.workers} {gunicorn_conf.worker_class} workers",
        "clients": options.writers,
        **_creation_figures(
            single, rounds[single], answers[single], per_round, options.writers * WARM_UP_WRITES
        ),
        "in_batches": {
            "batch_size": options.creation_batch_size,
            **_creation_figures(batched, rounds[batched], answers[batched], per_round, 0),
        },
    }


def _creation_figures(
    marker: str, rounds: list[float], answers: list[int], per_round: int, warm_up: int
) -> dict[str, Any]:
    """One series of creation rounds: what was sent, answered and stored, and the rates."""
    sent = warm_up + per_round * len(rounds)
    stored = StatusAssessment.objects.filter(evidence__startswith=marker).count()
    return {
        "rounds": len(rounds),
        "writes_per_round": per_round,
        "sent": sent,
        "warm_up": warm_up,
        # Of a batch, each assessment counts with the batch's answer.
        "answered_201": sum(1 for status in answers if status == 201),
        "stored": stored,
        "lost": sent - stored,
        "seconds": round(sum(rounds), 3),
        "per_second_by_round": [round(per_round / seconds, 1) for seconds in rounds],
        "per_second": round(per_round / statistics.median(rounds), 1),
        "per_second_p95": round(per_round / percentile(rounds, 0.95), 1),
    }


@dataclass(frozen=True)
class _Round:
    base: str
    key: str
    codes: list[str]
    marker: str
    warm_up: int
    # Assessments per POST: 1 to the list's endpoint, more to the batch's.
    batch: int = 1


def _creation_round(plan: _Round, options: RunOptions, answers: list[int]) -> float | None:
    """One timed round of every client's writes: its seconds, None if a client failed first."""
    lock = threading.Lock()
    start = threading.Barrier(options.writers + 1)

    def write(writer_number: int) -> None:
        def assessment(n: int) -> dict[str, str]:
            code = plan.codes[(writer_number * options.writes_per_writer + n) % len(plan.codes)]
            return _assessment_body(code, f"{plan.marker}.{writer_number}.{n}")

        def send(numbers: range) -> None:
            if not numbers:
                return
            if plan.batch == 1:
                statuses = [
                    _post(plan.base, "/api/v1/assessments/", plan.key, assessment(n))
                    for n in numbers
                ]
            else:
                body = {"assessments": [assessment(n) for n in numbers]}
                status = _post(plan.base, "/api/v1/assessments/batch/", plan.key, body)
                statuses = [status] * len(numbers)
            with lock:
                answers.extend(statuses)

        try:
            send(range(-plan.warm_up, 0))
            start.wait(timeout=START_TIMEOUT_SECONDS)
            for first in range(0, options.writes_per_writer, plan.batch):
                send(range(first, min(first + plan.batch, options.writes_per_writer)))
        except BaseException:
            start.abort()  # the clock must not wait for a client that failed
            raise

    threads = [threading.Thread(target=write, args=(number,)) for number in range(options.writers)]
    for thread in threads:
        thread.start()
    try:
        start.wait(timeout=START_TIMEOUT_SECONDS)
    except threading.BrokenBarrierError:
        for thread in threads:
            thread.join()
        return None
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def _wait_for(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the benchmark server stopped at start-up")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):  # noqa: S310
                return
        except urllib.error.HTTPError:
            return  # it answers; health may be degraded (no broker) but it serves
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the benchmark server did not start within 30 s")


def _assessment_body(code: str, evidence: str) -> dict[str, str]:
    return {
        "recommendation": code,
        "status": "partially_implemented",
        "status_since": "2023-06-30",
        "evidence": evidence,
    }


def _post(base: str, path: str, key: str, document: dict[str, Any]) -> int:
    """POST `document` as a partner's client does, with its key and an Idempotency-Key."""
    body = json.dumps(document).encode()
    request = urllib.request.Request(  # noqa: S310 (our own local server)
        f"{base}{path}",
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Idempotency-Key": str(uuid.uuid4()),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def settle_after_load() -> dict[str, Any]:
    """VACUUM, then CHECKPOINT: the measurements after a bulk load should not pay for it.

    Rows just copied in have no hint bits and no visibility map, so the
    first read of each page writes it again, and the load leaves its dirty
    pages and WAL to be written out over the minutes that follow. Measured
    right after 90,000 recommendations were added, the list page took
    18.2 ms against a floor of 8.7 ms; a few minutes later, on the same
    data, 8.3 ms against 8.7 ms. A server that refuses CHECKPOINT (it needs
    a superuser or `pg_checkpoint`) is vacuumed only, and the JSON says so.
    """
    if connection.vendor != "postgresql":
        return {"status": "not settled: only PostgreSQL is"}
    if connection.in_atomic_block:
        return {"status": "not settled: VACUUM cannot run inside a transaction"}
    done: list[str] = []
    began = time.perf_counter()
    with connection.cursor() as cursor:
        for statement in ("VACUUM", "CHECKPOINT"):
            try:
                cursor.execute(statement)
            except DatabaseError as error:
                return {"done": done, "refused": f"{statement}: {error}".strip()}
            done.append(statement)
    return {"done": done, "seconds": round(time.perf_counter() - began, 2)}


def run_size(size: int, options: RunOptions, log: Callable[[str], None]) -> dict[str, Any]:
    """Generate (or reuse) `size` recommendations, then take every measurement."""
    log(f"size {size}: generating")
    generation = synthetic_generate(
        recommendations=size,
        assessments_per_recommendation=options.assessments_per_recommendation,
        seed=options.seed,
    )
    held = Recommendation.objects.count()
    if held > size:
        # Synthetic data can only grow: a smaller size is measured on what is there.
        log(f"size {size}: the database already holds {held} recommendations; measuring those")
    result: dict[str, Any] = {
        "recommendations": held,
        "assessments": StatusAssessment.objects.count(),
        "generation": {
            "added_recommendations": generation.recommendations_after
            - generation.recommendations_before,
            "assessments_written": generation.assessments_written,
            "seconds": round(generation.seconds, 2),
        },
    }
    if generation.recommendations_after > generation.recommendations_before:
        log(f"size {size}: settling the database after the load")
        result["generation"]["settling"] = settle_after_load()
    # The test client's requests come from "testserver", as under the test
    # runner; DEBUG off, as in production (no query log, no debug pages).
    with override_settings(
        ROOT_URLCONF=BENCHMARK_URLCONF,
        ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
        DEBUG=False,
    ):
        client = reader_client()
        # As each production worker does on loading (`tracker.wsgi`).
        startup.settle()
        log(f"size {size}: list page")
        result["list_page"] = list_page_comparison(client, options)
        log(f"size {size}: overview")
        result["overview"] = overview_comparison(client, options)
        middle = (
            Recommendation.objects.order_by("code").values_list("code", flat=True)[
                result["recommendations"] // 2
            ]
            if result["recommendations"]
            else ""
        )
        log(f"size {size}: API")
        result["api"] = {
            "one_recommendation": _http(client, f"/api/v1/recommendations/{middle}/", options),
            "feed": _feed_with_key(options),
        }
        log(f"size {size}: reports and admin")
        as_of = datetime.date(2020, 6, 30)
        result["reports"] = {
            "overview_page": _http(client, "/reports/", options),
            "as_of_page": _http(client, f"/reports/?as_of={as_of.isoformat()}", options),
            "between_dates_page": _http(
                client, "/reports/changes/?from=2019-01-01&to=2021-12-31", options
            ),
            "xlsx_export": export_measurement(),
        }
        result["admin"] = {
            "recommendation_changelist": _http(
                client, "/admin/recommendations/recommendation/", options
            ),
            # The monitors' daily list, over every assessment.
            "assessment_changelist": _http(
                client, "/admin/recommendations/statusassessment/", options
            ),
        }
    log(f"size {size}: assessment creation")
    result["api"]["create_assessments"] = creation_measurement(options)
    return result


def _median(section: dict[str, Any], name: str) -> float | None:
    entry = section.get(name) or {}
    value = entry.get("median_ms")
    return float(value) if value is not None else None


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 2)


def ratios(largest: dict[str, Any]) -> dict[str, Any]:
    """The comparisons the issue asks for, at the largest size run."""
    listing, overview = largest["list_page"], largest["overview"]
    ours = _median(listing, "ours")
    overview_page = (largest["reports"].get("overview_page") or {}).get("median_ms")
    return {
        "size": largest["recommendations"],
        "list_page_over_floor": _ratio(ours, _median(listing, "floor")),
        "baseline_over_list_page": _ratio(_median(listing, "plain_drf"), ours),
        "tuned_drf_over_list_page": _ratio(_median(listing, "tuned_drf"), ours),
        "overview_over_floor": _ratio(_median(overview, "ours"), _median(overview, "floor")),
        "overview_page_over_floor": _ratio(overview_page, _median(overview, "floor")),
    }


def scaling(by_size: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Query counts per size of every timed HTTP answer, and whether they stay flat."""
    paths = {
        "list_page.ours": ("list_page", "ours"),
        "list_page.tuned_drf": ("list_page", "tuned_drf"),
        "list_page.plain_drf": ("list_page", "plain_drf"),
        "api.one_recommendation": ("api", "one_recommendation"),
        "reports.overview_page": ("reports", "overview_page"),
        "reports.as_of_page": ("reports", "as_of_page"),
        "reports.between_dates_page": ("reports", "between_dates_page"),
        "admin.recommendation_changelist": ("admin", "recommendation_changelist"),
        "admin.assessment_changelist": ("admin", "assessment_changelist"),
    }
    result = {}
    for name, (section, entry) in paths.items():
        counts = {
            size: (data.get(section, {}).get(entry) or {}).get("queries")
            for size, data in by_size.items()
        }
        known = [count for count in counts.values() if count is not None]
        result[name] = {"queries": counts, "flat": len(set(known)) <= 1 if known else None}
    return result


def _cost(numerator: float | None, rows: int | None, scale: float) -> float | None:
    if numerator is None or not rows:
        return None
    return round(numerator * scale / rows, 4)


def _per_row(data: dict[str, Any]) -> dict[str, float | None]:
    """What one row of each answer that grows with its rows cost at one size."""
    walk = (data.get("api", {}).get("feed") or {}).get("full_walk") or {}
    export = data.get("reports", {}).get("xlsx_export") or {}
    return {
        "list_page_ms_per_row": _cost(
            _median(data.get("list_page", {}), "ours"),
            min(LIST_PAGE_ROWS, data.get("recommendations") or 0),
            1,
        ),
        "feed_walk_us_per_event": _cost(walk.get("median_ms"), walk.get("events"), 1000),
        "xlsx_export_ms_per_row": _cost(export.get("seconds"), export.get("rows"), 1000),
    }


def per_row_cost(by_size: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each size's cost per row, and that at the largest size over that at the smallest.

    Times differ by some tens of percent from run to run on the same data;
    a cost that grew with the data would show as a multiple.
    """
    costs = {size: _per_row(data) for size, data in by_size.items()}
    result: dict[str, Any] = {}
    for name in ("list_page_ms_per_row", "feed_walk_us_per_event", "xlsx_export_ms_per_row"):
        by_size_cost = {size: cost[name] for size, cost in costs.items()}
        known = [cost for cost in by_size_cost.values() if cost is not None]
        result[name] = {
            "by_size": by_size_cost,
            "largest_over_smallest": _ratio(known[-1], known[0]) if len(known) > 1 else None,
        }
    return result
