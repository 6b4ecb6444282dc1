"""Where a cold start goes, per function: the runner's part and each init phase of the binary.

Every Rust binary logs one `init` line just before its first poll for an event (`platform::startup::InitTimer`):
the milliseconds of its phases (`telemetry_ms`, `sdk_config_ms`, `state_ms`, `router_ms`) and the wall-clock
microseconds at which `main` began and init ended. With the time the local cloud spawned the process and the
Init Duration (spawn → first `/next`), one cold start splits into:

- `process_start`: spawn → `main` (the runner's spawn, exec, dynamic loading, the Rust and Tokio runtimes);
- the binary's four phases;
- `runtime`: init end → the first `/next` reaching the Runtime API (lambda_runtime's setup and its first poll).

Values fetched in the background (`platform::startup::Prefetched`: secrets, signing keys) log a `prefetched` line
with `fetch_ms`: work taken out of init, overlapping the first poll; it is reported beside the phases.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from typing import Any

from devkit.bench.stats import median

PHASES = ("process_start", "telemetry", "sdk_config", "state", "router", "runtime")


class InitLines:
    """Collects the `init` and `prefetched` lines of every function (a log listener of the local cloud)."""

    def __init__(self) -> None:
        self.init: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.prefetched: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def __call__(self, function: str, request_id: str, text: str) -> None:
        if '"init_ms"' not in text and '"fetch_ms"' not in text:  # cheap: every line of every function passes here
            return
        try:
            line = json.loads(text)
        except ValueError:
            return
        if not isinstance(line, dict):
            return
        if line.get("message") == "init" and "init_ms" in line:
            self.init[function].append(line)
        elif line.get("message") == "prefetched" and "fetch_ms" in line:
            self.prefetched[function].append(line)

    async def next_init(self, function: str, seen: int, *, deadline_s: float = 2.0) -> dict[str, Any] | None:
        """The first `init` line of `function` after the `seen` it had (None if none comes by the deadline: a
        binary without the timer, or a Python function)."""
        deadline = time.monotonic() + deadline_s
        while len(self.init[function]) <= seen:
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.01)
        return self.init[function][seen]


def split(line: dict[str, Any], spawned_unix: float, init_duration_ms: float) -> dict[str, float]:
    """One cold start's phases in milliseconds (see the module docstring)."""
    spawned_ms = spawned_unix * 1000
    main_ms = line["main_at_unix_us"] / 1000
    ready_ms = line["ready_at_unix_us"] / 1000
    return {
        "process_start": round(main_ms - spawned_ms, 3),
        "telemetry": line["telemetry_ms"],
        "sdk_config": line["sdk_config_ms"],
        "state": line["state_ms"],
        "router": line["router_ms"],
        "runtime": round(spawned_ms + init_duration_ms - ready_ms, 3),
    }


def medians(splits: list[dict[str, float]], prefetched: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Per phase, the median over the cold starts; plus each background fetch's median duration."""
    if not splits:
        return None
    out: dict[str, Any] = {phase: median([s[phase] for s in splits]) for phase in PHASES}
    fetches: dict[str, list[float]] = defaultdict(list)
    for line in prefetched:
        fetches[str(line.get("what", "?"))].append(float(line["fetch_ms"]))
    out["prefetched"] = {what: median(values) for what, values in sorted(fetches.items())}
    return out


# ── targets, metrics and the report's table ───────────────────────────────────────────────────────────────────

PROBE_TARGET_MS = 3.0
FAT_TARGET_MS = 8.0
SERVICE_TARGET_MS = 5.0
LABELS = {
    "process_start": "process start",
    "telemetry": "telemetry",
    "sdk_config": "SDK config",
    "state": "state",
    "router": "router",
    "runtime": "runtime → 1st /next",
}


def target_ms(row: dict[str, Any]) -> float | None:
    """The init target (p50, local cloud, release) of a function's row: the probe 3 ms, the fat function 8 ms,
    every other Rust function of the template 5 ms; none for the Python functions."""
    if row.get("function") == "Probe":
        return PROBE_TARGET_MS
    if not row.get("template") or str(row.get("binary", "")).startswith("python"):
        return None
    return FAT_TARGET_MS if row.get("binary") == "fat-lambda" else SERVICE_TARGET_MS


def metrics(row: dict[str, Any]) -> dict[str, float]:
    """A function row's phase medians as `cold.phases.<phase>_ms` (compared run to run like the other figures)."""
    phases = (row.get("cold") or {}).get("phases_ms") or {}
    out = {f"cold.phases.{phase}_ms": phases[phase] for phase in PHASES if isinstance(phases.get(phase), int | float)}
    for what, value in (phases.get("prefetched") or {}).items():
        out[f"cold.prefetched.{what.replace(' ', '_')}_ms"] = value
    return out


def console_line(row: dict[str, Any]) -> str | None:
    """One line under the function's figures in `./inv bench`'s output: its phases, target and background reads."""
    phases = (row.get("cold") or {}).get("phases_ms")
    if not phases:
        return None
    line = " | ".join(f"{LABELS[p]} {phases[p]:.2f}" for p in PHASES) + " ms"
    target = target_ms(row)
    if target is not None:
        line += f" (target ≤ {target:g}: {'met' if row['cold']['init_ms'] <= target else 'NOT MET'})"
    background = "; ".join(f"{what} {ms:.1f} ms" for what, ms in (phases.get("prefetched") or {}).items())
    return line + (f"; in the background: {background}" if background else "")


def render(rows: list[dict[str, Any]], fmt: Any, table_of: Any) -> list[str]:
    """The Markdown section: per function, where its median cold start goes, its target and first request."""
    measured = [
        r for r in rows if "error" not in r and ((r.get("cold") or {}).get("phases_ms") or target_ms(r) is not None)
    ]
    if not measured:
        return []
    lines = [
        "",
        "### Where init goes (median per phase)",
        "",
        "Init Duration = spawn → first `/next`. *process start*: the runner's spawn, exec and the Rust and Tokio "
        "runtimes, up to `main`; the four phases the binary times itself (`platform::startup::InitTimer`); "
        "*runtime*: lambda_runtime's setup and its first poll reaching the Runtime API. *In the background*: values "
        "read over the network after init, overlapping the first poll (`platform::startup::Prefetched`). Targets: "
        f"{SERVICE_TARGET_MS:g} ms per service function, {FAT_TARGET_MS:g} ms for Fat, {PROBE_TARGET_MS:g} ms for "
        "the probe (a test fixture without the timer: its init is not split).",
        "",
    ]
    table = []
    for row in measured:
        phases = row["cold"].get("phases_ms") or {}
        target = target_ms(row)
        init = row["cold"]["init_ms"]
        verdict = "" if target is None else ("met" if init <= target else "**not met**")
        background = ", ".join(f"{what} {fmt(ms, 'ms')}" for what, ms in (phases.get("prefetched") or {}).items())
        table.append(
            [
                row["function"],
                *(fmt(phases[p], "ms") if p in phases else "—" for p in PHASES),
                fmt(init, "ms"),
                f"≤ {target:g} ms {verdict}" if target is not None else "",
                fmt(row["cold"]["first_request_ms"], "ms"),
                background or "none",
            ]
        )
    header = ["function", *(LABELS[p] for p in PHASES), "init", "target", "first request", "in the background"]
    return lines + table_of(header, table, "l" + "r" * (len(PHASES) + 1) + "lrl")
