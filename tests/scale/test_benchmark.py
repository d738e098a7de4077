"""The benchmark: outputs compared before timing, aggregates checked against plain SQL."""

from __future__ import annotations

import datetime
import json
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import override_settings

from recommendations import reports
from recommendations.choices import headline_from
from recommendations.models import StatusAssessment
from recommendations.selectors import statuses_as_of
from recommendations.serializers import ASSESSMENT_BATCH_MAX
from recommendations.synthetic import synthetic_generate
from tracker.benchmarking.runner import (
    BENCHMARK_URLCONF,
    Comparison,
    RunOptions,
    _feed_with_key,
    canonical,
    first_difference,
    list_page_comparison,
    overview_comparison,
    per_row_cost,
    reader_client,
    sync_client,
)
from tracker.models import ApiKey

ONCE = RunOptions(repetitions=1, budget_seconds=0.1, server=False)


def test_it_names_where_two_documents_first_differ() -> None:
    ours = {"results": [{"code": "A", "themes": ["x", "y"]}]}
    theirs = {"results": [{"code": "A", "themes": ["x", "z"]}]}

    assert first_difference(ours, ours) is None
    assert first_difference(ours, theirs) == ".results[0].themes[1]: 'y' against 'z'"
    assert first_difference([1], [1, 2]) == ": 1 items against 2"


def test_it_counts_one_instant_written_two_ways_as_equal() -> None:
    python_wrote = {"at": "2024-01-02T12:00:00.120000+05:00"}
    postgres_wrote = {"at": "2024-01-02T07:00:00.12Z"}

    assert canonical(python_wrote) == canonical(postgres_wrote)
    assert canonical({"at": "2024-01-02T12:00:00.13+05:00"}) != canonical(python_wrote)


def test_it_reports_a_variant_whose_output_differs_instead_of_timing_it() -> None:
    timed_runs = []
    comparison = Comparison(ONCE)

    comparison.add("wrong", {"total": 3}, lambda: {"total": 4}, lambda: timed_runs.append(1))
    comparison.add("right", {"total": 3}, lambda: {"total": 3}, lambda: timed_runs.append(1))

    assert comparison.results["wrong"] == {
        "status": "not measured: output differs from ours at .total: 3 against 4"
    }
    assert comparison.results["right"]["output_equal_to_ours"] is True
    assert comparison.results["right"]["repetitions"] == 1
    assert len(timed_runs) == 2  # the right one only: one warm-up, one timed run


def _measured(
    recommendations: int, list_ms: float, walk_ms: float, export_s: float
) -> dict[str, Any]:
    return {
        "recommendations": recommendations,
        "list_page": {"ours": {"median_ms": list_ms}},
        "api": {"feed": {"full_walk": {"median_ms": walk_ms, "events": 20_000}}},
        "reports": {"xlsx_export": {"seconds": export_s, "rows": recommendations // 6}},
    }


def test_it_divides_each_cost_by_its_rows_and_compares_the_largest_size_with_the_smallest() -> None:
    costs = per_row_cost(
        {
            "60": _measured(60, list_ms=6.0, walk_ms=900.0, export_s=0.05),
            "6000": _measured(6000, list_ms=8.0, walk_ms=950.0, export_s=1.0),
            "60000": _measured(60000, list_ms=9.0, walk_ms=1000.0, export_s=12.0),
        }
    )

    # A page of 60 rows at the smallest size, of 100 at the others.
    assert costs["list_page_ms_per_row"]["by_size"] == {"60": 0.1, "6000": 0.08, "60000": 0.09}
    assert costs["list_page_ms_per_row"]["largest_over_smallest"] == 0.9
    assert costs["feed_walk_us_per_event"]["by_size"]["60000"] == 50.0
    assert costs["feed_walk_us_per_event"]["largest_over_smallest"] == 1.11
    assert costs["xlsx_export_ms_per_row"]["by_size"] == {"60": 5.0, "6000": 1.0, "60000": 1.2}
    assert costs["xlsx_export_ms_per_row"]["largest_over_smallest"] == 0.24


def test_it_leaves_a_cost_it_could_not_measure_out_of_the_comparison() -> None:
    one = _measured(600, list_ms=8.0, walk_ms=900.0, export_s=0.1)
    one["api"]["feed"] = {"status": "not measured: the change feed needs PostgreSQL"}

    costs = per_row_cost({"600": one})

    assert costs["feed_walk_us_per_event"] == {
        "by_size": {"600": None},
        "largest_over_smallest": None,
    }
    assert costs["list_page_ms_per_row"]["largest_over_smallest"] is None


@pytest.mark.django_db
def test_it_refuses_sizes_that_are_not_numbers(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="--sizes"):
        call_command("benchmark", sizes="1000,lots", json_path=str(tmp_path / "out.json"))
    assert not (tmp_path / "out.json").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "option",
    ["repetitions", "writers", "writes_per_writer", "creation_rounds", "feed_walk_events"],
)
def test_it_refuses_a_count_below_one_and_names_the_option(tmp_path: Path, option: str) -> None:
    flag = "--" + option.replace("_", "-")
    with pytest.raises(CommandError, match=f"{flag} must be 1 or more"):
        call_command(
            "benchmark",
            sizes="20",
            json_path=str(tmp_path / "out.json"),
            allow_sqlite=True,
            **{option: 0},
        )
    assert not (tmp_path / "out.json").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("size", [0, ASSESSMENT_BATCH_MAX + 1])
def test_it_refuses_a_batch_size_the_api_refuses(tmp_path: Path, size: int) -> None:
    with pytest.raises(
        CommandError, match=f"--creation-batch-size must be 1 to {ASSESSMENT_BATCH_MAX}"
    ):
        call_command(
            "benchmark",
            sizes="20",
            json_path=str(tmp_path / "out.json"),
            allow_sqlite=True,
            creation_batch_size=size,
        )
    assert not (tmp_path / "out.json").exists()


@pytest.mark.postgres
@pytest.mark.django_db
def test_it_finds_the_floor_and_both_drf_variants_equal_to_the_api_list_page() -> None:
    synthetic_generate(recommendations=130, assessments_per_recommendation=4, seed=5)

    with override_settings(ROOT_URLCONF=BENCHMARK_URLCONF, ALLOWED_HOSTS=["testserver"]):
        results = list_page_comparison(reader_client(), ONCE)

    for variant in ("ours", "floor", "plain_drf", "tuned_drf"):
        assert results[variant].get("output_equal_to_ours") is True, (variant, results[variant])
    # A constant number of queries for ours and the tuned variant; one per row and relation
    # for the plain one.
    assert results["ours"]["queries"] <= 12
    assert results["plain_drf"]["queries"] > 100


@pytest.mark.postgres
@pytest.mark.django_db
def test_it_checks_the_overview_aggregates_against_plain_sql() -> None:
    synthetic_generate(recommendations=130, assessments_per_recommendation=4, seed=6)

    with override_settings(ROOT_URLCONF=BENCHMARK_URLCONF, ALLOWED_HOSTS=["testserver"]):
        results = overview_comparison(reader_client(), ONCE)

    for variant in ("ours", "floor", "plain_drf", "tuned_drf"):
        assert results[variant].get("output_equal_to_ours") is True, (variant, results[variant])


# Each assessor's standing assessment on a day, in plain SQL: the latest
# published one holding from that day or before that no published correction
# replaces.
STANDING_SQL = """
SELECT DISTINCT ON (a.recommendation_id, a.assessor_id)
    a.recommendation_id, a.assessor_id, a.status
FROM recommendations_statusassessment a
WHERE a.review_state = 'published' AND a.status_since <= %s
  AND NOT EXISTS (
      SELECT 1 FROM recommendations_statusassessment c
      WHERE c.corrects_id = a.id AND c.review_state = 'published')
ORDER BY a.recommendation_id, a.assessor_id, a.status_since DESC, a.reviewed_at DESC, a.id DESC
"""


@pytest.mark.postgres
@pytest.mark.django_db
def test_it_checks_the_as_of_statuses_and_counts_against_plain_sql() -> None:
    synthetic_generate(recommendations=130, assessments_per_recommendation=6, seed=7)
    day = datetime.date(2018, 6, 30)

    with connection.cursor() as cursor:
        cursor.execute(STANDING_SQL, [day])
        rows = cursor.fetchall()
    expected: dict[int, dict[int, str]] = {}
    for recommendation_id, assessor_id, status in rows:
        expected.setdefault(recommendation_id, {})[assessor_id] = status
    found = statuses_as_of(day)

    assert rows
    assert {pk: dict(s.by_assessor) for pk, s in found.items()} == expected
    headline_counts = Counter(headline_from(by.values())[0] for by in expected.values())
    overview = reports.overview(reports.ReportFilters(as_of=day))
    assert {
        status: n for status, n in overview.by_status.items() if n and status != "not_assessed"
    } == dict(headline_counts)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_writes_every_figure_and_the_ratios_to_json(tmp_path: Path) -> None:
    output = tmp_path / "benchmark.json"

    call_command(
        "benchmark",
        sizes="40,80",
        json_path=str(output),
        assessments_per_recommendation=3,
        repetitions=1,
        budget_seconds=0.1,
        writers=2,
        writes_per_writer=5,
        creation_rounds=2,
        creation_batch_size=4,
    )

    document = json.loads(output.read_text())
    assert document["sizes"] == [40, 80]
    ratios = document["ratios"]
    assert ratios["size"] == 80
    for name in (
        "list_page_over_floor",
        "baseline_over_list_page",
        "tuned_drf_over_list_page",
        "overview_over_floor",
    ):
        assert ratios[name] is not None and ratios[name] > 0, name
    created = document["results"]["80"]["api"]["create_assessments"]
    # Two clients, each 5 untimed writes and then 5 timed ones in each of two rounds.
    assert (created["sent"], created["warm_up"], created["stored"], created["lost"]) == (
        30,
        10,
        30,
        0,
    )
    assert created["answered_201"] == 30 and created["rounds"] == 2
    rates = created["per_second_by_round"]
    assert len(rates) == 2 and min(rates) > 0
    # The rate of the median round's time: of two rounds, their harmonic mean.
    assert created["per_second"] == pytest.approx(statistics.harmonic_mean(rates), abs=0.2)
    assert created["per_second_p95"] == pytest.approx(min(rates), abs=0.1)
    # Then as many rounds in batches: of 4 and then 1 a client a round, no warm-up.
    batched = created["in_batches"]
    assert batched["batch_size"] == 4
    assert (batched["sent"], batched["warm_up"], batched["stored"], batched["lost"]) == (
        20,
        0,
        20,
        0,
    )
    assert batched["answered_201"] == 20 and len(batched["per_second_by_round"]) == 2
    assert document["options"]["creation_batch_size"] == 4
    walk = document["results"]["80"]["api"]["feed"]["full_walk"]
    assert walk["events"] > 0 and walk["repetitions"] >= 1
    assert walk["events_per_second"] > 0 and walk["first_walk_events_per_second"] > 0
    assert document["scaling"]["list_page.ours"]["flat"] is True
    for size in ("40", "80"):
        settling = document["results"][size]["generation"]["settling"]
        assert settling["done"] == ["VACUUM", "CHECKPOINT"], size
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = %s",
            [StatusAssessment._meta.db_table],
        )
        assert cursor.fetchone()[0] is not None
    for name, cost in document["per_row_cost"].items():
        first, second = cost["by_size"]["40"], cost["by_size"]["80"]
        assert first > 0 and second > 0, name
        assert cost["largest_over_smallest"] == round(second / first, 2), name
    admin = document["results"]["80"]["admin"]
    for changelist in ("recommendation_changelist", "assessment_changelist"):
        assert admin[changelist]["median_ms"] > 0 and admin[changelist]["queries"] > 0, changelist


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_feed_is_walked_with_a_key_that_sees_what_the_signed_in_reader_sees() -> None:
    synthetic_generate(recommendations=30, assessments_per_recommendation=3, seed=8)
    assert StatusAssessment.objects.exclude(review_state="published").exists()
    assert StatusAssessment.objects.filter(visibility="internal").exists()
    with override_settings(ROOT_URLCONF=BENCHMARK_URLCONF, ALLOWED_HOSTS=["testserver"]):
        client, api_key = sync_client()
        by_key = client.get("/api/v1/changes/", {"limit": 500})
        by_session = reader_client().get("/api/v1/changes/", {"limit": 500})
        assert by_key.status_code == 200
        # Drafts and confidential evidence included: the same bytes.
        assert by_key.content == by_session.content
        assert len(orjson.loads(by_key.content)["results"]) == 500
        measured = _feed_with_key(
            RunOptions(repetitions=1, budget_seconds=0.1, feed_walk_events=600)
        )
    assert measured["full_walk"]["events"] >= 600
    assert measured["client"] == "API key of a superuser"
    # Each key the benchmark issued is revoked once its walks are done.
    issued = ApiKey.objects.filter(name__startswith="benchmark sync")
    assert issued.count() == 2
    assert not issued.exclude(pk=api_key.pk).filter(revoked_at__isnull=True).exists()


@pytest.mark.django_db
def test_it_measures_what_it_can_and_names_what_it_could_not(tmp_path: Path) -> None:
    output = tmp_path / "benchmark.json"

    call_command(
        "benchmark",
        sizes="20",
        json_path=str(output),
        assessments_per_recommendation=2,
        repetitions=1,
        budget_seconds=0.1,
        no_server=True,
        allow_sqlite=True,
    )

    results = json.loads(output.read_text())["results"]["20"]
    assert results["recommendations"] == 20
    # SQLite, or PostgreSQL inside the test's transaction: nothing to settle.
    assert results["generation"]["settling"]["status"].startswith("not settled: ")
    assert results["list_page"]["ours"]["output_equal_to_ours"] is True
    assert results["list_page"]["tuned_drf"]["output_equal_to_ours"] is True
    assert results["api"]["create_assessments"] == {"status": "not measured: --no-server given"}
    if connection.vendor != "postgresql":
        assert results["list_page"]["floor"] == {
            "status": "not measured: the floor is PostgreSQL's own SQL"
        }
