"""Repeated timings with their median and 95th percentile, query counts and peak memory."""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from django.db import connection

T = TypeVar("T")


@dataclass(frozen=True)
class Timing:
    """The spread of one measurement over its repetitions, in milliseconds."""

    repetitions: int
    median_ms: float
    p95_ms: float
    min_ms: float
    max_ms: float
    queries: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(samples: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest sample with `share` of them at or below it."""
    ordered = sorted(samples)
    rank = max(int(-(-share * len(ordered) // 1)), 1)  # ceil without floats drifting
    return ordered[min(rank, len(ordered)) - 1]


class QueryCounter:
    """Counts the queries run inside `with connection.execute_wrapper(counter)`.

    Unlike the debug cursor's log, which keeps only the last 9,000, it counts
    every query of a slow variant, and it costs almost nothing.
    """

    def __init__(self) -> None:
        self.count = 0

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def timed(
    action: Callable[[], object],
    *,
    repetitions: int,
    budget_seconds: float = 20.0,
    warm_up: int = 1,
) -> Timing:
    """Run `action` `repetitions` times (fewer past the budget, but at least three).

    The first `warm_up` runs fill caches (compiled templates, connection,
    PostgreSQL's buffers) and are not counted. The query count is that of the
    last run.
    """
    for _ in range(warm_up):
        action()
    samples: list[float] = []
    started = time.perf_counter()
    queries = 0
    while len(samples) < repetitions:
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            begin = time.perf_counter()
            action()
            samples.append((time.perf_counter() - begin) * 1000)
        queries = counter.count
        if len(samples) >= min(3, repetitions) and time.perf_counter() - started > budget_seconds:
            break
    return Timing(
        repetitions=len(samples),
        median_ms=round(statistics.median(samples), 3),
        p95_ms=round(percentile(samples, 0.95), 3),
        min_ms=round(min(samples), 3),
        max_ms=round(max(samples), 3),
        queries=queries,
    )


def peak_memory(action: Callable[[], T]) -> tuple[T, float, int]:
    """Run `action` once: its result, seconds taken and peak Python memory in bytes."""
    tracemalloc.start()
    try:
        begin = time.perf_counter()
        result = action()
        seconds = time.perf_counter() - begin
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, seconds, peak
