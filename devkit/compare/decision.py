"""The decision table per traffic profile (one row per criterion, the winner per row) and the few sentences
beneath it, all from the measured numbers: change the numbers, the table and the words change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devkit.compare import curve
from devkit.compare.cost import Prices

TIE = 0.05  # within 5 % of the best counts as a tie on measured (noisy) rows


@dataclass(frozen=True)
class Row:
    criterion: str
    basis: str  # what is compared, lower is better
    cells: dict[str, str]  # topology → shown value
    values: dict[str, float]
    winners: list[str]


def uses_of(topology: dict[str, Any]) -> list[curve.FunctionUse]:
    return [curve.FunctionUse(**u) for u in topology.get("uses", [])]


def measured(profile: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The topologies that served requests."""
    return {name: t for name, t in profile["topologies"].items() if t.get("requests")}


def winners(values: dict[str, float], tolerance: float = 0.0) -> list[str]:
    """Names whose value is lowest, or within `tolerance` (a fraction) of the lowest."""
    if not values:
        return []
    best = min(values.values())
    return [name for name, v in values.items() if v <= best + abs(best) * tolerance]


def _money(value: float) -> str:
    return f"${value:,.0f}" if value >= 100 else f"${value:,.2f}"


def table(profile: dict[str, Any], prices: Prices, life: curve.Lifecycle = curve.LIFECYCLE) -> list[Row]:
    tops = measured(profile)
    volume = profile["monthly_requests"]

    def row(
        criterion: str,
        basis: str,
        value: Callable[[dict[str, Any]], float],
        show: Callable[[float, dict[str, Any]], str],
        tolerance: float = 0.0,
    ) -> Row:
        values = {name: value(t) for name, t in tops.items()}
        cells = {name: show(v, tops[name]) for name, v in values.items()}
        return Row(criterion, basis, cells, values, winners(values, tolerance))

    def cold(t: dict[str, Any]) -> float:
        return curve.cold_share(uses_of(t), volume, life) * 100

    return [
        row("latency", "p99 of the run", lambda t: t["p99_ms"], lambda v, _: f"{v:,.1f} ms p99", TIE),
        row(
            "cost",
            f"$/month at {curve_volume(volume)} requests",
            lambda t: curve.monthly_cost(uses_of(t), volume, prices, life),
            lambda v, _: _money(v),
            TIE,
        ),
        row(
            "cold-start exposure",
            "share of a month's invocations starting cold (model); cold starts in the run",
            cold,
            lambda v, t: f"{v:.2g} % ({t['cold_starts']} in run)",
            TIE,
        ),
        row(
            "least privilege",
            "IAM actions of the broadest function",
            lambda t: t["iam_max_actions"],
            lambda v, _: plural(v, "action"),
        ),
        row("deploy size", "zips shipped", lambda t: t["deploy_bytes"] / 1e6, lambda v, _: f"{v:.1f} MB", TIE),
        row("operational load", "functions to watch", lambda t: len(t["functions"]), lambda v, _: f"{v:.0f}"),
    ]


def plural(count: float, noun: str) -> str:
    return f"{count:.0f} {noun}{'' if count == 1 else 's'}"


def curve_volume(volume: float) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if volume >= size:
            return f"{volume / size:.3g} {unit}"
    return f"{volume:g}"


def crossings(profile: dict[str, Any], prices: Prices, life: curve.Lifecycle = curve.LIFECYCLE) -> list[dict]:
    return curve.crossings({name: uses_of(t) for name, t in measured(profile).items()}, prices, life)


def narrative(profile: dict[str, Any], rows: list[Row], crossed: list[dict[str, Any]]) -> list[str]:
    """A few sentences: the pick, what the others buy and at what price, where the costs cross."""
    names = list(measured(profile))
    if len(names) < 2:
        return ["Only one topology was measured: nothing to compare."]
    wins = {name: [r.criterion for r in rows if name in r.winners and len(r.winners) < len(names)] for name in names}
    cost = next(r for r in rows if r.criterion == "cost")
    pick = max(names, key=lambda n: (len(wins[n]), -cost.values[n]))
    volume = curve_volume(profile["monthly_requests"])
    out = [
        f"At {volume} requests/month, {pick} wins {len(wins[pick])} of {len(rows)} rows"
        + (f" ({', '.join(wins[pick])})." if wins[pick] else ".")
    ]
    by_criterion = {r.criterion: r for r in rows}
    for other in names:
        better = [c for c in wins[other] if pick not in by_criterion[c].winners]
        if other == pick or not better:
            continue
        gains = " and ".join(f"{c} ({by_criterion[c].cells[other]} vs {by_criterion[c].cells[pick]})" for c in better)
        delta = cost.values[other] - cost.values[pick]
        price = f"{_money(abs(delta))}/month {'more' if delta > 0 else 'less'}" if abs(delta) >= 0.01 else "same cost"
        out.append(f"Choose {other} when {gains} matter{'s' if len(better) == 1 else ''} more: {price}.")
    latency = by_criterion["latency"].values
    fast, slow = min(latency, key=latency.__getitem__), max(latency, key=latency.__getitem__)
    if latency[slow] > latency[fast] * (1 + TIE):
        out.append(f"p99 ranges from {latency[fast]:,.1f} ms ({fast}) to {latency[slow]:,.1f} ms ({slow}).")
    if crossed:
        out.append(
            "Costs cross at "
            + "; ".join(
                f"{curve_volume(c['volume'])} requests/month ({c['pair'][0]} vs {c['pair'][1]}; {c['cheaper_above']} "
                "cheaper above)"
                for c in crossed
            )
            + "."
        )
    else:
        cheapest = min(cost.values, key=cost.values.__getitem__)
        out.append(
            f"Costs do not cross between 1 M and 1 B requests/month: {cheapest} is the cheapest at every volume."
        )
    return out
