"""devkit.bench.stats: percentiles (linear interpolation between closest ranks), summaries, medians of repeats."""

from __future__ import annotations

import math

import pytest

from devkit.bench.stats import median, median_of, percentile, summarize


def test_percentile_interpolates_between_closest_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]  # unsorted on purpose
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == pytest.approx(2.5)
    assert percentile(values, 25) == pytest.approx(1.75)


def test_percentile_of_a_hundred_ranks() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile(values, 50) == pytest.approx(50.5)


def test_percentile_of_one_value_and_of_none() -> None:
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))


@pytest.mark.parametrize("q", [-1, 100.5])
def test_percentile_rejects_out_of_range(q: float) -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        percentile([1.0], q)


def test_summarize_counts_rate_and_tail() -> None:
    latencies = [1.0] * 98 + [10.0, 20.0]
    summary = summarize(latencies, elapsed_s=0.5, errors=2)
    assert summary["requests"] == 100
    assert summary["errors"] == 2
    assert summary["rps"] == pytest.approx(200.0)
    assert summary["p50_ms"] == 1.0
    assert summary["p99_ms"] == pytest.approx(10.1)
    assert summary["max_ms"] == 20.0
    assert summary["mean_ms"] == pytest.approx((98 + 30) / 100)


def test_summarize_empty_run_is_nan_not_zero() -> None:
    summary = summarize([], elapsed_s=0.0)
    assert summary["requests"] == 0
    assert math.isnan(summary["p50_ms"]) and math.isnan(summary["rps"])


def test_median_of_repeats_per_numeric_key() -> None:
    runs = [
        {"p50_ms": 1.0, "rps": 100.0, "statuses": {"200": 5}},
        {"p50_ms": 3.0, "rps": 300.0, "statuses": {"200": 5}},
        {"p50_ms": 2.0, "rps": math.nan, "statuses": {"200": 5}},
    ]
    merged = median_of(runs)
    assert merged == {"p50_ms": 2.0, "rps": 200.0}
    assert median_of([]) == {}


def test_median_ignores_nan() -> None:
    assert median([1.0, math.nan, 3.0]) == 2.0
    assert math.isnan(median([math.nan]))


def test_every_report_takes_its_percentiles_from_here() -> None:
    """One definition, so p99s of bench, bench-lmi, the write-to-readable bench and compare are comparable."""
    from devkit.bench import lmi, write_to_read
    from devkit.compare import run

    assert write_to_read.percentile is percentile
    assert lmi.percentile is percentile
    assert run.percentile is percentile
