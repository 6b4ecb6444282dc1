"""Lambda REPORT lines → what a function was billed for: warm billed duration, init duration (billed too), cold
starts and memory; plus the "environments started against the request stream" timeline.

The same lines come from the local cloud's log files and from CloudWatch Logs (`/aws/lambda/<function>`), so a
deployed stage and a local run are measured by one parser.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_FIELD = re.compile(r"(Duration|Billed Duration|Memory Size|Max Memory Used|Init Duration): ([0-9.]+) (?:ms|MB)")


@dataclass(frozen=True)
class Report:
    """One invocation's REPORT line; `at` is the line's time (s since the epoch), when the invocation ended."""

    duration_ms: float
    billed_ms: float  # includes the init phase on a cold start (AWS bills it)
    memory_mb: int
    max_memory_mb: int
    init_ms: float | None  # None: a warm invocation
    at: float = 0.0


def parse(text: str, at: float = 0.0) -> Report | None:
    """The REPORT line in `text` (local log text or a CloudWatch message), or None for any other line."""
    if "REPORT RequestId:" not in text or "Billed Duration: " not in text:
        return None
    fields = {name: float(value) for name, value in _FIELD.findall(text)}
    if "Billed Duration" not in fields:
        return None
    return Report(
        duration_ms=fields.get("Duration", 0.0),
        billed_ms=fields["Billed Duration"],
        memory_mb=int(fields.get("Memory Size", 0)),
        max_memory_mb=int(fields.get("Max Memory Used", 0)),
        init_ms=fields.get("Init Duration"),
        at=at,
    )


@dataclass(frozen=True)
class Billing:
    """A function's invocations in one run, as the cost model needs them."""

    invocations: int
    cold_starts: int
    warm_billed_ms: float  # mean billed duration of warm invocations (all invocations when none was warm)
    init_ms: float  # mean init duration of the cold ones (0 when none was cold)
    max_memory_mb: int


def summarise(reports: list[Report]) -> Billing:
    cold = [r for r in reports if r.init_ms is not None]
    warm = [r for r in reports if r.init_ms is None]
    # A cold invocation's billed duration minus its init is what a warm one would have been billed.
    basis = [r.billed_ms for r in warm] or [max(r.billed_ms - (r.init_ms or 0.0), 1.0) for r in cold]
    return Billing(
        invocations=len(reports),
        cold_starts=len(cold),
        warm_billed_ms=sum(basis) / len(basis) if basis else 0.0,
        init_ms=sum(r.init_ms or 0.0 for r in cold) / len(cold) if cold else 0.0,
        max_memory_mb=max((r.max_memory_mb for r in reports), default=0),
    )


def timeline(completions: list[float], cold_starts: list[float]) -> list[tuple[int, int]]:
    """(requests completed, environments started so far) at each cold start, from the requests' completion times
    and the cold REPORT lines' times (both s since the epoch); starts with (0, 0) and ends at the last request."""
    done = sorted(completions)
    points = [(0, 0)]
    for n, at in enumerate(sorted(cold_starts), start=1):
        points.append((bisect.bisect_right(done, at), n))
    points.append((len(done), len(cold_starts)))
    return points
