"""`./inv bench`: build (timed apart), stage the bootstraps, run the benches, write and compare the report.

Bootstraps run from a staged copy (`<tmp>/<binary>/bootstrap` + its zip), as `./inv up` does, so builds of other
work in the same target directory neither fail with "text file busy" nor swap a binary under a running bench.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devkit import build
from devkit.bench import currency, functions, init_phases, overhead, report


class BenchError(RuntimeError):
    """The bench could not run; the message says what to do."""


@dataclass(frozen=True)
class BenchOptions:
    quick: bool = False
    local_cloud_only: bool = False
    profile: str = "release"
    build: bool = True
    threshold: float = report.DEFAULT_THRESHOLD
    out_root: Path | None = None
    command: str = "./inv bench"


def binaries_for(options: BenchOptions) -> list[str]:
    return sorted(set(overhead.binaries()) | set(functions.template_binaries()))


def build_all(names: list[str], profile: str, *, attempts: int = 4) -> float:
    """cargo lambda build (a no-op when fresh); retried because a bootstrap executed elsewhere at copy time makes
    cargo-lambda fail with "text file busy". Returns the wall time."""
    started = time.monotonic()
    for attempt in range(attempts):
        try:
            build.build_bootstraps(names, profile=profile, quiet=True)
            break
        except build.BuildError:
            if attempt == attempts - 1:
                raise
            time.sleep(2 * (attempt + 1))
    return time.monotonic() - started


def stage(names: list[str], profile: str, into: Path) -> Callable[[str], Path]:
    for name in names:
        source = build.bootstrap_path(name, profile=profile)
        if not source.is_file():
            raise BenchError(f"no {profile} bootstrap for {name} at {source}: run without --no-build")
        target = into / name
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / "bootstrap")
        zipped = source.with_name("bootstrap.zip")
        if zipped.is_file():
            shutil.copy2(zipped, target / "bootstrap.zip")
    return lambda name: into / name / "bootstrap"


def _loadavg() -> float:
    return round(os.getloadavg()[0], 2)


def machine_info(before: float, after: float) -> dict[str, Any]:
    from devkit.localcloud import native

    cpus = os.cpu_count() or 1
    info: dict[str, Any] = {"cpus": cpus, "loadavg_before": before, "loadavg_after": after}
    info["local_cloud"] = "mypyc-compiled hot path" if native.active() else "interpreted"
    if max(before, after) > 0.5 * cpus:
        info["note"] = (
            f"Other work shared the machine (1-minute load average {before} before, {after} after, on {cpus} "
            "CPUs): absolute figures are contended; the side-by-side comparisons ran interleaved in the same run."
        )
    return info


def run_bench(options: BenchOptions, *, say: Callable[[str], None] = print) -> tuple[Path, dict[str, Any]]:
    """Runs the bench; returns the Markdown report's path and the report."""
    from devkit.localcloud import run

    names = binaries_for(options)
    build_s = None
    if options.build:
        say(f"bench: building {len(names)} bootstraps (profile {options.profile})…")
        build_s = build_all(names, options.profile)
        say(f"bench: build time {build_s:.1f} s (not part of the bench)")
    started = time.monotonic()
    timestamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    before = _loadavg()
    with tempfile.TemporaryDirectory(prefix="bench-bootstraps-") as tmp:
        resolve = stage(names, options.profile, Path(tmp))
        ov_settings = overhead.QUICK if options.quick else overhead.FULL
        say("bench: local cloud vs cargo lambda watch…")
        over = run(overhead.overhead_async(ov_settings, profile=options.profile, resolve=resolve))
        for line in overhead_lines(over):
            say(line)
        say("bench: per-function figures (moto backend)…")
        if options.local_cloud_only:
            fn_settings = functions.COLD_ONLY  # --local-cloud: cold start per function; no warm load
        else:
            fn_settings = functions.QUICK if options.quick else functions.FULL
        per_function = run(functions.functions_async(fn_settings, profile=options.profile, resolve=resolve))
        for line in function_lines(per_function):
            say(line)
    currency_result = None
    if not options.local_cloud_only:
        settings = currency.QUICK if options.quick else currency.FULL
        currency_result = currency.write_to_readable(settings, profile=options.profile, say=say)
        say(currency.line(currency_result))
    data: dict[str, Any] = {
        "version": 1,
        "timestamp": timestamp,
        "command": options.command,
        "args": {
            "quick": options.quick,
            "local_cloud_only": options.local_cloud_only,
            "profile": options.profile,
            "threshold": options.threshold,
        },
        "machine": machine_info(before, _loadavg()),
        "build": {"seconds": build_s, "binaries": names} if build_s is not None else None,
        "bench_seconds": round(time.monotonic() - started, 1),
        "overhead": over,
        "functions": per_function,
        "currency": currency_result,
    }
    root = options.out_root or report.bench_dir()
    previous = report.load_previous(root)
    regressions = report.compare(previous, data, options.threshold)
    data["previous"] = previous.get("timestamp") if previous else None
    data["comparison_notes"] = report.context_notes(previous, data)
    data["regressions"] = [
        {
            "metric": r.metric,
            "unit": r.unit,
            "before": r.before,
            "after": r.after,
            "delta_pct": r.delta_pct,
            "line": r.line(),
        }
        for r in regressions
    ]
    path = report.write(data, root)
    for note in data["comparison_notes"]:
        say(f"bench: {note}")
    for regression in regressions:
        say(regression.line())
    say(f"bench: {data['bench_seconds']:.0f} s")
    return path, data


def overhead_lines(over: dict[str, Any]) -> list[str]:
    lines = []
    for name, case in over["cases"].items():
        for level, ours in case["ours"]["warm"].items():
            theirs = case["cargo"]["warm"][level]
            lines.append(
                f"  {name:<13} c={level:<3} ours p50 {ours['p50_ms']:.2f} p99 {ours['p99_ms']:.2f} ms "
                f"{ours['rps']:6.0f}/s | cargo lambda watch p50 {theirs['p50_ms']:.2f} p99 {theirs['p99_ms']:.2f} ms "
                f"{theirs['rps']:6.0f}/s | runner CPU/req ours {ours['runner_cpu_us_per_request']:.0f} µs, "
                f"cargo {theirs['runner_cpu_us_per_request']:.0f} µs"
            )
        lines.append(
            f"  {name:<13} cold: ours init {case['ours']['cold']['init_ms']:.1f} ms, first request "
            f"{case['ours']['cold']['first_request_ms']:.1f} ms | cargo spawn→first response "
            f"{case['cargo']['cold']['first_request_ms']:.1f} ms"
        )
    return lines


def function_lines(per_function: dict[str, Any]) -> list[str]:
    lines = []
    for row in per_function["functions"]:
        if "error" in row:
            lines.append(f"  {row['function']:<18} FAILED: {row['error']}")
            continue
        lines.append(
            f"  {row['function']:<18} init {row['cold']['init_ms']:6.1f} ms "
            f"first {row['cold']['first_request_ms']:6.1f} ms "
            f"warm p50 {_ms(row['warm']['p50_ms'])} p99 {_ms(row['warm']['p99_ms'])} "
            f"RSS idle {row['rss']['idle_mb']:.1f} peak {row['rss']['peak_mb']:.1f} MB"
        )
        split = init_phases.console_line(row)
        if split:
            lines.append(f"  {'':<18}   {split}")
    ratios = per_function.get("language", {}).get("python_over_probe")
    if ratios:
        lines.append(
            f"  Python/Rust(probe): init {ratios['init_ms']:.1f}x (min {ratios.get('init_ms_min') or 0:.1f}x), "
            f"idle RSS {ratios['idle_rss_mb']:.1f}x, "
            f"peak RSS {ratios['peak_rss_mb']:.1f}x"
        )
    return lines


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} ms"


def bench_task(*, quick: bool, local_cloud_only: bool, profile: str, build_first: bool, threshold: float) -> None:
    """`./inv bench`: :func:`run_bench` with the task's options; prints where the report went."""
    options = BenchOptions(
        quick=quick,
        local_cloud_only=local_cloud_only,
        profile=profile,
        build=build_first,
        threshold=threshold,
        command="./inv bench" + " --quick" * quick + " --local-cloud" * local_cloud_only + f" --profile {profile}",
    )
    path, _ = run_bench(options)
    print(f"bench: report {path} (latest: {path.parent.parent / 'latest.md'})")
