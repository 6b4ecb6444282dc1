"""EMF (CloudWatch Embedded Metric Format) lines: validate, collect from local logs, aggregate, read CloudWatch.

Functions print metrics as EMF JSON lines on stdout (`shared/platform/src/metrics.rs`); on AWS, CloudWatch Logs
extracts them. Locally they land in the per-function log files, and `./inv metrics` aggregates them here:
count / sum / p50 / p99 per (namespace, metric, dimension set). `--stage` reads the same metrics from CloudWatch.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from devkit.localcloud import read_records

MAX_DIMENSIONS = 30
MAX_METRICS = 100
UNITS = frozenset(
    [
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    ]
)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def validate(doc: Any) -> list[str]:
    """Problems with an EMF document per the specification's required fields ([] = valid)."""
    if not isinstance(doc, dict):
        return ["an EMF document is a JSON object"]
    aws = doc.get("_aws")
    if not isinstance(aws, dict):
        return ["_aws must be an object"]
    errors: list[str] = []
    timestamp = aws.get("Timestamp")
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or timestamp < 0:
        errors.append("_aws.Timestamp must be a non-negative integer (ms since the epoch)")
    directives = aws.get("CloudWatchMetrics")
    if not isinstance(directives, list):
        return [*errors, "_aws.CloudWatchMetrics must be an array"]
    for i, directive in enumerate(directives):
        where = f"CloudWatchMetrics[{i}]"
        if not isinstance(directive, dict):
            errors.append(f"{where} must be an object")
            continue
        namespace = directive.get("Namespace")
        if not isinstance(namespace, str) or not 1 <= len(namespace) <= 1024:
            errors.append(f"{where}.Namespace must be a non-empty string")
        dimensions = directive.get("Dimensions")
        if not isinstance(dimensions, list):
            errors.append(f"{where}.Dimensions must be an array of dimension sets")
            dimensions = []
        for j, dim_set in enumerate(dimensions):
            if not isinstance(dim_set, list) or not all(isinstance(d, str) and d for d in dim_set):
                errors.append(f"{where}.Dimensions[{j}] must be an array of non-empty strings")
                continue
            if len(dim_set) > MAX_DIMENSIONS:
                errors.append(f"{where}.Dimensions[{j}] has more than {MAX_DIMENSIONS} dimensions")
            for name in dim_set:
                if not isinstance(doc.get(name), str):
                    errors.append(f"dimension {name!r} must be a top-level string member")
        metrics = directive.get("Metrics")
        if not isinstance(metrics, list):
            errors.append(f"{where}.Metrics must be an array")
            continue
        if len(metrics) > MAX_METRICS:
            errors.append(f"{where}.Metrics has more than {MAX_METRICS} metrics")
        for k, metric in enumerate(metrics):
            if not isinstance(metric, dict) or not isinstance(metric.get("Name"), str) or not metric["Name"]:
                errors.append(f"{where}.Metrics[{k}] must be an object with a non-empty string Name")
                continue
            unit = metric.get("Unit")
            if unit is not None and unit not in UNITS:
                errors.append(f"{where}.Metrics[{k}].Unit {unit!r} is not a CloudWatch unit")
            value = doc.get(metric["Name"])
            valid_array = isinstance(value, list) and value and all(_is_number(v) for v in value)
            if not (_is_number(value) or valid_array):
                errors.append(f"metric {metric['Name']!r} must be a top-level number or array of numbers")
    return errors


def parse_emf(text: str) -> dict[str, Any] | None:
    """The EMF document on a log line, or None for any other line."""
    text = text.strip()
    if not text.startswith("{") or '"_aws"' not in text:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) and "_aws" in doc else None


def local_documents(log_dir: Path, function: str | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """(function, EMF document) for every EMF line in the local cloud's log files."""
    for record in read_records(log_dir, function=function):
        doc = parse_emf(record.text)
        if doc is not None:
            yield record.function, doc


@dataclass
class Series:
    namespace: str
    metric: str
    unit: str
    dimensions: tuple[tuple[str, str], ...]
    values: list[float] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.values)

    @property
    def sum(self) -> float:
        return sum(self.values)

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile (CloudWatch's pNN on raw samples)."""
        ordered = sorted(self.values)
        if not ordered:
            return math.nan
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        return ordered[rank - 1]


def aggregate(docs: Iterable[dict[str, Any]]) -> list[Series]:
    """One series per (namespace, metric, dimension set with its values), as CloudWatch would store them."""
    series: dict[tuple[Any, ...], Series] = {}
    for doc in docs:
        for directive in doc["_aws"].get("CloudWatchMetrics", []):
            for dim_set in directive.get("Dimensions", []) or [[]]:
                dims = tuple((name, str(doc.get(name, ""))) for name in dim_set)
                for metric in directive.get("Metrics", []):
                    name = metric["Name"]
                    raw = doc.get(name)
                    values = raw if isinstance(raw, list) else [raw]
                    key = (directive["Namespace"], name, dims)
                    entry = series.setdefault(
                        key, Series(directive["Namespace"], name, metric.get("Unit", "None"), dims)
                    )
                    entry.values.extend(float(v) for v in values if _is_number(v))
    return sorted(series.values(), key=lambda s: (s.namespace, s.metric, s.dimensions))


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.0f}" if value == int(value) and abs(value) < 1e12 else f"{value:.2f}"


def table(rows: list[Series]) -> str:
    """A plain-text table: metric, dimensions, unit, count, sum, p50, p99."""
    header = ("metric", "dimensions", "unit", "count", "sum", "p50", "p99")
    lines = [header]
    for s in rows:
        dims = ", ".join(f"{k}={v}" for k, v in s.dimensions) or "(none)"
        lines.append(
            (s.metric, dims, s.unit, str(s.count), _fmt(s.sum), _fmt(s.percentile(50)), _fmt(s.percentile(99)))
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in lines)


# --- deployed stage: CloudWatch ------------------------------------------------------------------------


def cloudwatch_series(cloudwatch: Any, namespace: str, *, hours: float = 3.0) -> list[Series]:
    """Every metric of `namespace` over the last `hours`: SampleCount, Sum, p50, p99 via get_metric_data."""
    end = datetime.now(UTC)
    start = end - timedelta(hours=hours)
    period = max(60, int(hours * 3600) // 60 * 60)
    pages = cloudwatch.get_paginator("list_metrics").paginate(Namespace=namespace)
    metrics = [metric for page in pages for metric in page["Metrics"]]
    out: list[Series] = []
    for chunk_start in range(0, len(metrics), 100):  # 4 queries per metric, 500 queries per call
        chunk = metrics[chunk_start : chunk_start + 100]
        queries = []
        for i, metric in enumerate(chunk):
            for stat in ("SampleCount", "Sum", "p50", "p99"):
                queries.append(
                    {
                        "Id": f"m{i}_{stat.lower()}",
                        "MetricStat": {"Metric": metric, "Period": period, "Stat": stat},
                        "ReturnData": True,
                    }
                )
        results: dict[str, list[float]] = {}
        for page in cloudwatch.get_paginator("get_metric_data").paginate(
            MetricDataQueries=queries, StartTime=start, EndTime=end
        ):
            for result in page["MetricDataResults"]:
                results.setdefault(result["Id"], []).extend(result.get("Values", []))
        for i, metric in enumerate(chunk):
            dims = tuple((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
            s = CloudWatchSeries(namespace, metric["MetricName"], "", dims)
            s.sample_count = sum(results.get(f"m{i}_samplecount", []))
            s.total = sum(results.get(f"m{i}_sum", []))
            s.p50 = max(results.get(f"m{i}_p50", []), default=math.nan)
            s.p99 = max(results.get(f"m{i}_p99", []), default=math.nan)
            out.append(s)
    return sorted(out, key=lambda s: (s.metric, s.dimensions))


@dataclass
class CloudWatchSeries(Series):
    """Statistics already computed by CloudWatch (one period spanning the window)."""

    sample_count: float = 0.0
    total: float = 0.0
    p50: float = math.nan
    p99: float = math.nan

    @property
    def count(self) -> int:  # type: ignore[override]
        return int(self.sample_count)

    @property
    def sum(self) -> float:  # type: ignore[override]
        return self.total

    def percentile(self, p: float) -> float:
        return self.p50 if p == 50 else self.p99


def show_metrics(*, stage: str, function: str, hours: float, as_json: bool) -> None:
    """`./inv metrics`: the EMF table from the local cloud's function output (each line validated first; invalid
    ones are reported on stderr), or from CloudWatch for a deployed stage."""
    import json
    import sys

    from devkit import paths
    from devkit.errors import TaskFailure

    if stage:
        import boto3

        from devkit import targets

        namespace = f"lambda-rust-reference/{targets.stage(stage).output('Stage')}"
        print(table(cloudwatch_series(boto3.client("cloudwatch"), namespace, hours=hours)))
        return
    log_dir = paths.STATE_DIR / "logs"
    if not log_dir.is_dir():
        raise TaskFailure("no local cloud logs yet: start the stack with `./inv up` (or pass --stage NAME)")
    docs = []
    for fn, doc in local_documents(log_dir, function=function or None):
        problems = validate(doc)
        if problems:
            print(f"[{fn}] invalid EMF line: {'; '.join(problems)}", file=sys.stderr)
            continue
        if as_json:
            print(json.dumps(doc, separators=(",", ":")))
        docs.append(doc)
    if not as_json:
        print(table(aggregate(docs)) if docs else "no EMF lines yet")
