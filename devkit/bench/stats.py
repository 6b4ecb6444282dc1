"""Percentiles and summaries of latency samples (pure functions, no I/O)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence


def percentile(values: Iterable[float], q: float) -> float:
    """The `q`-th percentile (0-100) with linear interpolation between closest ranks (numpy's default method).

    An empty sample has no percentile: NaN, never a made-up number.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, not {q}")
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(latencies_ms: Sequence[float], *, elapsed_s: float, errors: int = 0) -> dict[str, float]:
    """The figures a report keeps of one run: count, errors, p50/p90/p99, mean, max and requests/s."""
    count = len(latencies_ms)
    return {
        "requests": count,
        "errors": errors,
        "p50_ms": percentile(latencies_ms, 50),
        "p90_ms": percentile(latencies_ms, 90),
        "p99_ms": percentile(latencies_ms, 99),
        "mean_ms": statistics.fmean(latencies_ms) if count else math.nan,
        "max_ms": max(latencies_ms) if count else math.nan,
        "rps": count / elapsed_s if elapsed_s > 0 else math.nan,
    }


def median_of(runs: Sequence[dict[str, float]]) -> dict[str, float]:
    """Per numeric key, the median over repeated runs (keys every run has; NaNs ignored unless all are NaN)."""
    if not runs:
        return {}
    keys = [k for k in runs[0] if all(isinstance(run.get(k), int | float) for run in runs)]
    out: dict[str, float] = {}
    for key in keys:
        values = [float(run[key]) for run in runs if not math.isnan(float(run[key]))]
        out[key] = statistics.median(values) if values else math.nan
    return out


def median(values: Iterable[float]) -> float:
    kept = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(kept) if kept else math.nan
