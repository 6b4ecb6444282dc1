"""Bench reports: flatten to metrics, compare with the previous run, render Markdown, write the files.

Layout: `reports/bench/<timestamp>/report.{json,md}` for every run and `reports/bench/latest.{json,md}` for the
newest; a run is compared with `latest.json` as it was before the run overwrote it. A metric that got worse by
more than `threshold` (relative) and more than its absolute noise floor is a regression: one warning line with
the delta, in the Markdown and on the console.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devkit import paths
from devkit.bench import init_phases

DEFAULT_THRESHOLD = 0.25
# Absolute noise floors: a 0.1 ms wobble on a 0.3 ms p50 is +33 % but not a regression. Tails and cold starts
# (one process spawn on a shared machine) wobble by milliseconds, so they get a wider floor.
FLOORS = {"ms": 0.25, "rps": 0.0, "MB": 1.0, "bytes": 4096.0, "us": 20.0, "writes": 0.1}
P99_FLOOR_MS = 2.0
COLD_FLOOR_MS = 2.0  # one process spawn (vfork + exec) on a shared 2-core machine wobbles by a millisecond or two
LOWER_IS_BETTER = {"ms": True, "rps": False, "MB": True, "bytes": True, "us": True, "writes": True}


def floor_for(metric: str, unit: str) -> float:
    if unit == "ms" and ".cold." in metric:
        return COLD_FLOOR_MS
    if unit == "ms" and metric.endswith("p99_ms"):
        return P99_FLOOR_MS
    return FLOORS[unit]


def bench_dir() -> Path:
    return paths.REPORTS_DIR / "bench"


@dataclass(frozen=True)
class Regression:
    metric: str
    unit: str
    before: float
    after: float

    @property
    def delta_pct(self) -> float:
        return (self.after - self.before) / self.before * 100 if self.before else math.inf

    def line(self) -> str:
        return (
            f"warning: regression {self.metric}: {_fmt(self.before, self.unit)} → {_fmt(self.after, self.unit)} "
            f"({self.delta_pct:+.0f} %)"
        )


def metrics(report: dict[str, Any]) -> dict[str, tuple[float, str]]:
    """Every comparable figure of a report: dotted name → (value, unit). Only our own runner's figures (the
    cargo lambda watch side is the reference, not something we regress on)."""
    out: dict[str, tuple[float, str]] = {}

    def put(name: str, value: Any, unit: str) -> None:
        if isinstance(value, int | float) and not (isinstance(value, float) and math.isnan(value)):
            out[name] = (float(value), unit)

    for case_name, case in (report.get("overhead") or {}).get("cases", {}).items():
        ours = case["ours"]
        put(f"overhead.{case_name}.cold.init_ms", ours["cold"].get("init_ms"), "ms")
        put(f"overhead.{case_name}.cold.first_request_ms", ours["cold"].get("first_request_ms"), "ms")
        for level, figures in ours["warm"].items():
            for key, unit in (("p50_ms", "ms"), ("p99_ms", "ms"), ("rps", "rps"), ("runner_cpu_us_per_request", "us")):
                put(f"overhead.{case_name}.c{level}.{key}", figures.get(key), unit)
    for row in (report.get("functions") or {}).get("functions", []):
        if "error" in row:
            continue
        name = f"functions.{row['function']}"
        put(f"{name}.cold.init_ms", row["cold"].get("init_ms"), "ms")
        put(f"{name}.cold.first_request_ms", row["cold"].get("first_request_ms"), "ms")
        for key, unit in (("p50_ms", "ms"), ("p99_ms", "ms"), ("rps", "rps")):
            put(f"{name}.warm.{key}", row["warm"].get(key), unit)
        put(f"{name}.rss.idle_mb", row["rss"].get("idle_mb"), "MB")
        put(f"{name}.rss.peak_mb", row["rss"].get("peak_mb"), "MB")
        put(f"{name}.size.bootstrap_bytes", row["size"].get("bootstrap_bytes"), "bytes")
        put(f"{name}.size.zip_bytes", row["size"].get("zip_bytes"), "bytes")
        for metric, value in init_phases.metrics(row).items():
            put(f"{name}.{metric}", value, "ms")
    from devkit.bench import peer

    for name, (value, unit) in peer.metrics((report.get("functions") or {}).get("python_peer") or {}).items():
        put(name, value, unit)
    currency = report.get("currency") or {}
    put("currency.write_to_readable.p50_ms", currency.get("p50_ms"), "ms")
    put("currency.write_to_readable.p99_ms", currency.get("p99_ms"), "ms")
    put("currency.dynamodb_writes_per_command", currency.get("dynamodb_writes_per_command"), "writes")
    return out


def compare(
    previous: dict[str, Any] | None, current: dict[str, Any], threshold: float = DEFAULT_THRESHOLD
) -> list[Regression]:
    """Metrics of `current` that are worse than in `previous` by more than `threshold` and the unit's floor."""
    if not previous:
        return []
    before, after = metrics(previous), metrics(current)
    found: list[Regression] = []
    for name, (new, unit) in after.items():
        if name not in before:
            continue
        old = before[name][0]
        worse = new - old if LOWER_IS_BETTER[unit] else old - new
        if old > 0 and worse > floor_for(name, unit) and worse / old > threshold:
            found.append(Regression(name, unit, old, new))
    return found


def context_notes(previous: dict[str, Any] | None, current: dict[str, Any]) -> list[str]:
    """Why two runs may not compare: a different profile or mode."""
    if not previous:
        return ["no previous run to compare with"]
    notes = []
    for key in ("profile", "quick"):
        if previous.get("args", {}).get(key) != current.get("args", {}).get(key):
            notes.append(
                f"the previous run had {key}={previous.get('args', {}).get(key)!r}, this one "
                f"{current.get('args', {}).get(key)!r}: differences may come from that"
            )
    load_before = (previous.get("machine") or {}).get("loadavg_before")
    load_now = (current.get("machine") or {}).get("loadavg_before")
    if load_before is not None and load_now is not None:
        notes.append(f"load average at the start: {load_before} then, {load_now} now")
    return notes


# ── rendering ─────────────────────────────────────────────────────────────────────────────────────────────────


def _fmt(value: Any, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "ms":
        return f"{value:.2f} ms" if value < 100 else f"{value:.0f} ms"
    if unit == "rps":
        return f"{value:.0f}/s"
    if unit == "MB":
        return f"{value:.1f} MB"
    if unit == "bytes":
        return f"{value / 1024 / 1024:.2f} MiB" if value >= 1024 * 1024 else f"{value / 1024:.1f} KiB"
    if unit == "us":
        return f"{value:.0f} µs"
    if unit == "writes":
        return f"{value:.2f} writes"
    if unit == "x":
        return f"{value:.1f}x"
    return str(value)


def _table(header: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    align = align or "l" + "r" * (len(header) - 1)
    marks = ["---:" if a == "r" else "---" for a in align]
    return ["| " + " | ".join(header) + " |", "|" + "|".join(marks) + "|", *("| " + " | ".join(r) + " |" for r in rows)]


def render_markdown(report: dict[str, Any]) -> str:
    args = report.get("args", {})
    machine = report.get("machine", {})
    lines = [f"# Bench {report.get('timestamp', '')}", ""]
    lines.append(
        f"`{report.get('command', './inv bench')}` · profile **{args.get('profile')}**"
        f"{' · quick' if args.get('quick') else ''} · {machine.get('cpus', '?')} CPUs · load average "
        f"{machine.get('loadavg_before', '?')} before, {machine.get('loadavg_after', '?')} after"
        + (f" · local cloud: {machine['local_cloud']}" if machine.get("local_cloud") else "")
    )
    if report.get("build"):
        build = report["build"]
        lines.append(
            f"\nBuild (excluded from the bench): {build.get('seconds', 0):.1f} s for "
            f"{len(build.get('binaries', []))} bootstraps."
        )
    if machine.get("note"):
        lines.append(f"\n> {machine['note']}")
    regressions = report.get("regressions", [])
    lines += ["", "## Compared with the previous run", ""]
    lines += [f"- {note}" for note in report.get("comparison_notes", [])]
    lines += [f"- **{r['line']}**" for r in regressions] or (
        ["- no regression beyond the threshold"] if report.get("previous") else []
    )
    overhead = report.get("overhead")
    if overhead:
        lines += _render_overhead(overhead)
    functions = report.get("functions")
    if functions:
        lines += _render_functions(functions)
    if report.get("currency"):
        from devkit.bench.currency import render

        lines += render(report["currency"])
    return "\n".join(lines) + "\n"


def _render_overhead(overhead: dict[str, Any]) -> list[str]:
    s = overhead.get("settings", {})
    lines = ["", "## Local cloud overhead vs cargo lambda watch (same bootstrap, same run)", ""]
    lines.append(
        f"{s.get('requests')} requests per run after {s.get('warmup')} warm-up requests, median of "
        f"{s.get('repeats')} alternating repeats; loopback; load client in its own process."
    )
    lines.append("")
    rows = []
    for name, case in overhead["cases"].items():
        for level, ours in case["ours"]["warm"].items():
            theirs = case["cargo"]["warm"].get(level, {})
            ratio = ours["rps"] / theirs["rps"] if theirs.get("rps") else math.nan
            rows.append(
                [
                    name,
                    level,
                    _fmt(ours["p50_ms"], "ms"),
                    _fmt(ours["p99_ms"], "ms"),
                    _fmt(ours["rps"], "rps"),
                    _fmt(theirs.get("p50_ms"), "ms"),
                    _fmt(theirs.get("p99_ms"), "ms"),
                    _fmt(theirs.get("rps"), "rps"),
                    f"{ratio:.2f}",
                    _fmt(ours.get("runner_cpu_us_per_request"), "us"),
                    _fmt(theirs.get("runner_cpu_us_per_request"), "us"),
                    str(ours["errors"] + theirs.get("errors", 0)),
                ]
            )
    lines += _table(
        [
            "case",
            "c",
            "ours p50",
            "ours p99",
            "ours req/s",
            "cargo p50",
            "cargo p99",
            "cargo req/s",
            "ours/cargo req/s",
            "ours CPU/req",
            "cargo CPU/req",
            "errors",
        ],
        rows,
    )
    lines += [
        "",
        "CPU/req: CPU time (user + system) of the runner alone per request sent, the function and the load client "
        "excluded (ours: the process hosting the local cloud; cargo lambda watch: its server process). It depends "
        "far less on other load than the wall-clock figures.",
    ]
    lines += [
        "",
        "Cold start (median over rounds): ours = Init Duration (spawn → first /next) and the request "
        "that started the environment; cargo lambda watch = spawn → first response.",
        "",
    ]
    rows = [
        [
            name,
            _fmt(c["ours"]["cold"]["init_ms"], "ms"),
            _fmt(c["ours"]["cold"]["first_request_ms"], "ms"),
            _fmt(c["cargo"]["cold"]["first_request_ms"], "ms"),
        ]
        for name, c in overhead["cases"].items()
    ]
    lines += _table(["case", "ours init", "ours first request", "cargo spawn → first response"], rows)
    lines += ["", "What each side does:", ""]
    for name, case in overhead["cases"].items():
        lines.append(
            f"- `{name}` ({case['binary']}): {case['description']}. Ours: `{case['ours']['path']}`; "
            f"cargo lambda watch: `{case['cargo']['path']}`."
        )
    lines.append(
        "- Function output, both sides: every line is read. Ours by the local cloud (attributed to its request, "
        "written to the log file); cargo lambda watch's functions write to a pipe drained by `cat`, standing in "
        "for the terminal it prints them on."
    )
    lines += ["", "Targets (local cloud overhead vs cargo lambda watch):", ""]
    rows = [
        [
            t["what"],
            _fmt(t["value"], "rps" if "rps" in t["what"] else "ms"),
            t["target"],
            "met" if t["ok"] else "**missed**",
        ]
        for t in overhead.get("targets", [])
    ]
    lines += _table(["check", "value", "target", ""], rows, "lrll")
    return lines


def _render_functions(functions: dict[str, Any]) -> list[str]:
    s = functions.get("settings", {})
    lines = ["", "## Per function (local cloud, moto backend)", ""]
    lines.append(
        f"Cold: median of {s.get('rounds')} fresh environments. Warm: {s.get('requests')} requests at "
        f"concurrency 1 after {s.get('warmup')} warm-up. RSS: idle = VmRSS of the warm environment after "
        "the load, peak = VmHWM (Max Memory Used)."
    )
    lines.append("")
    rows = []
    for r in functions["functions"]:
        if "error" in r:
            rows.append([r["function"], f"`{r['request']}`", f"**failed**: {r['error']}", *[""] * 8])
            continue
        rows.append(
            [
                f"{r['function']}{' (LMI)' if r.get('managed_instances') else ''}",
                f"`{r['request']}`",
                _fmt(r["cold"]["init_ms"], "ms"),
                _fmt(r["cold"]["first_request_ms"], "ms"),
                _fmt(r["warm"]["p50_ms"], "ms"),
                _fmt(r["warm"]["p99_ms"], "ms"),
                _fmt(r["warm"]["rps"], "rps"),
                _fmt(r["rss"]["idle_mb"], "MB"),
                _fmt(r["rss"]["peak_mb"], "MB"),
                _fmt(r["size"].get("bootstrap_bytes"), "bytes"),
                _fmt(r["size"].get("zip_bytes"), "bytes"),
            ]
        )
    lines += _table(
        [
            "function",
            "request",
            "init",
            "first request",
            "warm p50",
            "warm p99",
            "req/s",
            "idle RSS",
            "peak RSS",
            "bootstrap",
            "zip",
        ],
        rows,
        "llrrrrrrrrr",
    )
    lines += init_phases.render(functions["functions"], _fmt, _table)
    language = functions.get("language") or {}
    if language:
        lines += ["", "### Rust vs Python (awslambdaric), same runner", ""]
        keys = [
            ("init_ms", "init", "ms"),
            ("first_request_ms", "first request", "ms"),
            ("idle_rss_mb", "idle RSS", "MB"),
            ("peak_rss_mb", "peak RSS", "MB"),
        ]
        rows = []
        for ref, label in (
            ("probe", "Rust probe (same trivial shape)"),
            ("services_median", "Rust services (median of the template's functions)"),
        ):
            if ref not in language:
                continue
            ratios = language[f"python_over_{ref}"]
            rows.append(
                [label]
                + [
                    f"{_fmt(language[ref][k], u)} → Python {_fmt(language['python'][k], u)} "
                    f"(**{_fmt(ratios[k], 'x')}**)"
                    for k, _, u in keys
                ]
            )
        lines += _table(["Rust reference", *(label for _, label, _ in keys)], rows, "lllll")
        paired = language.get("paired_cold_starts")
        if paired:
            rounds = paired.get("PythonBaseline", {}).get("rounds")
            minimum = (language.get("python_over_probe") or {}).get("init_ms_min")
            lines.append(
                f"\nCold starts of the probe and the Python baseline above: {rounds} of each taken in turns, so "
                "other load hits both alike"
                + (f"; ratio of the minimum Init Durations: **{_fmt(minimum, 'x')}**." if minimum else ".")
            )
        lines.append("\nPython ÷ Rust: how many times longer the cold start and how many times more memory.")
    from devkit.bench import peer

    lines += peer.render(functions.get("python_peer") or {}, _fmt)
    return lines


# ── files ─────────────────────────────────────────────────────────────────────────────────────────────────────


def jsonable(value: Any) -> Any:
    """NaN/inf → None, so the file is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def load_previous(root: Path) -> dict[str, Any] | None:
    try:
        return json.loads((root / "latest.json").read_text())
    except (OSError, ValueError):
        return None


def write(report: dict[str, Any], root: Path) -> Path:
    """`<root>/<timestamp>/report.{json,md}` and `<root>/latest.{json,md}`; returns the run's Markdown path."""
    run_dir = root / report["timestamp"]
    run_dir.mkdir(parents=True, exist_ok=True)
    clean = jsonable(report)
    chart = _chart(clean, run_dir / "chart.png")
    markdown = render_markdown(clean)
    if chart is not None:
        markdown += f"\n![bench chart]({report['timestamp']}/chart.png)\n"
    (run_dir / "report.json").write_text(json.dumps(clean, indent=2) + "\n")
    # The same Markdown serves both places: the chart link is relative to reports/bench/, so it resolves from
    # latest.md; the run's own copy links to its file beside it.
    (run_dir / "report.md").write_text(markdown.replace(f"]({report['timestamp']}/chart.png)", "](chart.png)"))
    (run_dir / "latest.md.tmp").write_text(markdown)
    for name in ("report.json", "report.md"):
        target = root / name.replace("report", "latest")
        source = run_dir / ("latest.md.tmp" if name == "report.md" else name)
        tmp = target.with_suffix(target.suffix + ".tmp")
        shutil.copyfile(source, tmp)
        tmp.replace(target)
    (run_dir / "latest.md.tmp").unlink()
    return run_dir / "report.md"


def _chart(report: dict[str, Any], path: Path) -> Path | None:
    try:
        from devkit.bench import chart
    except ImportError:  # pragma: no cover - matplotlib is pinned; a trimmed environment still gets the tables
        return None
    try:
        return chart.render(report, path)
    except ImportError:  # pragma: no cover
        return None
