"""Monthly cost against monthly volume, per topology, from a run's measured billed durations; and where two
topologies' costs cross (break-even volumes).

Per function of a topology, per month at `volume` HTTP requests:
- invocations = volume * the function's invocations per HTTP request in the run (a queued write also invokes its
  projector);
- requests fee, and compute = (invocations * warm billed s + cold starts * init s) * GB * price per GB-s: AWS bills
  the init phase;
- cold starts = invocations * e^(-rate * idle timeout)  (the share of requests arriving after the function sat idle
  long enough to be reclaimed, Poisson arrivals) + environments kept * recycles per month (environments are
  replaced after a lifetime even when busy); environments kept = max(1, rate * warm billed s) (Little's law; flat
  traffic, so a floor for real, peaky traffic);
- a managed-instances (LMI) function: its request fee plus the capacity provider's instances (fixed, once per
  topology); its environments live on those instances, so init is not billed per request.
Every topology adds the HTTP API's request price.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from devkit.compare.cost import HOURS_PER_MONTH, Prices, lmi_monthly_fixed
from devkit.compare.reportlines import Billing

SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
VOLUME_RANGE = (1e6, 1e9)  # requests/month the curves span


@dataclass(frozen=True)
class Lifecycle:
    """How long environments live (assumptions: AWS does not publish them; observed values)."""

    idle_s: float = 600.0  # an idle environment is reclaimed after about this long
    lifetime_h: float = 2.0  # a busy environment is replaced after about this long


LIFECYCLE = Lifecycle()


@dataclass(frozen=True)
class FunctionUse:
    function: str
    per_request: float  # invocations per HTTP request in the run
    warm_billed_ms: float
    init_ms: float
    memory_mb: int
    managed_instances: bool = False


def from_billing(
    billing: dict[str, Billing], requests: int, memory_mb: dict[str, int], managed: dict[str, bool]
) -> list[FunctionUse]:
    """A topology's functions as the model needs them, from a run of `requests` HTTP requests."""
    return [
        FunctionUse(f, round(b.invocations / max(requests, 1), 4), round(b.warm_billed_ms, 2), round(b.init_ms, 2),
                    memory_mb.get(f, 128), managed.get(f, False))
        for f, b in sorted(billing.items())
    ]  # fmt: skip


def cold_starts(use: FunctionUse, volume: float, life: Lifecycle = LIFECYCLE) -> float:
    """Cold starts per month of one function at `volume` HTTP requests/month (at most one per invocation)."""
    invocations = volume * use.per_request
    if invocations <= 0:
        return 0.0
    rate = invocations / SECONDS_PER_MONTH
    kept = max(1.0, rate * use.warm_billed_ms / 1000)
    recycled = kept * HOURS_PER_MONTH / life.lifetime_h
    if use.managed_instances:
        return min(invocations, recycled)
    return min(invocations, invocations * math.exp(-rate * life.idle_s) + recycled)


def monthly_cost(uses: Iterable[FunctionUse], volume: float, prices: Prices, life: Lifecycle = LIFECYCLE) -> float:
    """$ per month for one topology at `volume` HTTP requests/month."""
    total = volume * prices.api_per_million / 1e6
    managed = False
    for use in uses:
        invocations = volume * use.per_request
        if use.managed_instances:
            managed = True
            total += invocations * prices.lmi_request_per_million / 1e6
            continue
        gb = use.memory_mb / 1024
        seconds = invocations * use.warm_billed_ms / 1000 + cold_starts(use, volume, life) * use.init_ms / 1000
        total += invocations * prices.request_per_million / 1e6 + seconds * gb * prices.gb_second
    return total + (lmi_monthly_fixed(prices) if managed else 0.0)


def cold_share(uses: Iterable[FunctionUse], volume: float, life: Lifecycle = LIFECYCLE) -> float:
    """Share of the month's invocations that meet a cold start."""
    uses = list(uses)
    invocations = sum(volume * u.per_request for u in uses)
    return sum(cold_starts(u, volume, life) for u in uses) / invocations if invocations else 0.0


def volumes(low: float = VOLUME_RANGE[0], high: float = VOLUME_RANGE[1], points: int = 61) -> list[float]:
    """`points` volumes evenly spaced on a log axis from `low` to `high`."""
    step = math.log10(high / low) / (points - 1)
    return [low * 10 ** (i * step) for i in range(points)]


def break_even(
    a: Callable[[float], float], b: Callable[[float], float], low: float, high: float, *, steps: int = 200
) -> list[float]:
    """Volumes in [low, high] where cost curves `a` and `b` cross (sign changes of a - b on a log grid, refined
    by bisection on log volume to 0.01 %)."""
    grid = volumes(low, high, steps)
    out: list[float] = []
    for left, right in itertools.pairwise(grid):
        da, db = a(left) - b(left), a(right) - b(right)
        if da == 0:
            out.append(left)
        elif da * db < 0:
            lo, hi = math.log(left), math.log(right)
            while hi - lo > 1e-4:
                mid = (lo + hi) / 2
                if (a(math.exp(mid)) - b(math.exp(mid))) * da > 0:
                    lo = mid
                else:
                    hi = mid
            out.append(math.exp((lo + hi) / 2))
    return out


def curves(
    topologies: dict[str, list[FunctionUse]], prices: Prices, life: Lifecycle = LIFECYCLE, points: int = 61
) -> dict[str, list[tuple[float, float]]]:
    """Topology → [(volume, $/month)] across `VOLUME_RANGE`."""
    grid = volumes(points=points)
    return {name: [(v, monthly_cost(uses, v, prices, life)) for v in grid] for name, uses in topologies.items()}


def crossings(
    topologies: dict[str, list[FunctionUse]], prices: Prices, life: Lifecycle = LIFECYCLE
) -> list[dict[str, object]]:
    """Every pair of topologies whose costs cross inside `VOLUME_RANGE`: the volume, the cost there, and which one
    is cheaper above it."""
    names = list(topologies)
    out: list[dict[str, object]] = []
    for i, first in enumerate(names):
        for second in names[i + 1 :]:

            def cost_a(v: float, n: str = first) -> float:
                return monthly_cost(topologies[n], v, prices, life)

            def cost_b(v: float, n: str = second) -> float:
                return monthly_cost(topologies[n], v, prices, life)

            for volume in break_even(cost_a, cost_b, *VOLUME_RANGE):
                above = volume * 1.01
                cheaper = first if cost_a(above) < cost_b(above) else second
                out.append({"pair": [first, second], "volume": volume, "cost": cost_a(volume),
                            "cheaper_above": cheaper})  # fmt: skip
    return sorted(out, key=lambda c: c["volume"])  # type: ignore[arg-type, return-value]
