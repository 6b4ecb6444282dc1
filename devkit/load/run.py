"""`./inv load`: locust, headless, one scenario of load/locustfile.py, judged against load/thresholds.toml.

Runs locust in its own process (`python -m locust --headless -t D`), so it stops by itself; reads the per-route
statistics CSV it writes, prints p50/p95/p99, rps and error rate per route, and checks them against the
scenario's thresholds. Against the local cloud only loopback URLs are accepted and users are capped.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from devkit import paths
from devkit.contract import accounts as contract_accounts
from devkit.contract import cleanup as contract_cleanup
from devkit.targets.endpoints import Endpoints, TargetChoice, run_on_target
from devkit.targets.safety import TEST_PASSWORD

LOCUSTFILE = paths.ROOT / "load" / "locustfile.py"
THRESHOLDS = paths.ROOT / "load" / "thresholds.toml"
SCENARIOS = ("browse", "write", "billing", "currency", "convert", "mixed")
LOCAL_MAX_USERS = 50
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class LoadError(RuntimeError):
    """The run could not start or finish; the message says why."""


@dataclass(frozen=True)
class RouteStats:
    name: str
    requests: int
    failures: int
    p50: float
    p95: float
    p99: float
    rps: float

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class LoadOptions:
    scenario: str = "mixed"
    users: int = 20
    rate: float = 5.0
    duration: str = "60s"
    topology: str = "lith"
    thresholds: Path = THRESHOLDS
    report_dir: Path | None = None


def parse_duration(text: str) -> int:
    """Seconds in `90`, `90s`, `5m`, `1h` or `1m30s`."""
    total, number = 0, ""
    for char in text.strip().lower():
        if char.isdigit():
            number += char
        elif char in "smh" and number:
            total += int(number) * {"s": 1, "m": 60, "h": 3600}[char]
            number = ""
        else:
            raise LoadError(f"bad duration {text!r}: use e.g. 20s, 5m, 1m30s")
    total += int(number) if number else 0
    if total <= 0:
        raise LoadError(f"bad duration {text!r}: must be > 0")
    return total


def read_stats(csv_path: Path) -> tuple[list[RouteStats], RouteStats]:
    """Per-route rows and the aggregated row of locust's `<prefix>_stats.csv`."""
    rows, total = [], None
    with csv_path.open(newline="") as file:
        for row in csv.DictReader(file):
            stats = RouteStats(
                name=row["Name"] if row["Type"] in ("", None) else f"{row['Type']} {row['Name']}",
                requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                p50=float(row["50%"] if row["50%"] != "N/A" else 0),
                p95=float(row["95%"] if row["95%"] != "N/A" else 0),
                p99=float(row["99%"] if row["99%"] != "N/A" else 0),
                rps=float(row["Requests/s"]),
            )
            if row["Name"] == "Aggregated":
                total = stats
            else:
                rows.append(stats)
    if total is None:
        raise LoadError(f"{csv_path} has no Aggregated row: locust did not finish")
    return rows, total


def scenario_thresholds(config: dict[str, Any], scenario: str) -> dict[str, Any]:
    """The scenario's limits with `[defaults]` underneath (route tables merged per route)."""
    if scenario not in config:
        raise LoadError(f"no thresholds for scenario {scenario!r} in the thresholds file")
    defaults, own = config.get("defaults", {}), config[scenario]
    merged = {**{k: v for k, v in defaults.items() if k != "routes"}, **{k: v for k, v in own.items() if k != "routes"}}
    routes = {name: dict(limits) for name, limits in defaults.get("routes", {}).items()}
    for name, limits in own.get("routes", {}).items():
        routes[name] = {**routes.get(name, {}), **limits}
    merged["routes"] = routes
    return merged


def evaluate(rows: list[RouteStats], total: RouteStats, limits: dict[str, Any]) -> list[str]:
    """Every broken threshold as a sentence (empty: all held)."""
    broken = []
    if total.requests == 0:
        return ["no requests were made"]
    if "error_rate" in limits and total.error_rate > limits["error_rate"]:
        broken.append(f"error rate {total.error_rate:.2%} > {limits['error_rate']:.2%}")
    if "min_rps" in limits and total.rps < limits["min_rps"]:
        broken.append(f"throughput {total.rps:.1f} rps < {limits['min_rps']} rps")
    for row in rows:
        route_limits = {**limits, **limits.get("routes", {}).get(row.name.split(" ", 1)[-1], {})}
        for key, value in (("p95_ms", row.p95), ("p99_ms", row.p99)):
            if key in route_limits and value > route_limits[key]:
                broken.append(f"{row.name}: {key[:3]} {value:.0f} ms > {route_limits[key]} ms")
        if "route_error_rate" in route_limits and row.error_rate > route_limits["route_error_rate"]:
            broken.append(f"{row.name}: error rate {row.error_rate:.2%} > {route_limits['route_error_rate']:.2%}")
    return broken


def table(rows: list[RouteStats], total: RouteStats) -> str:
    lines = [f"{'route':<34} {'reqs':>6} {'err%':>6} {'p50':>6} {'p95':>6} {'p99':>6} {'rps':>7}"]
    for row in [*rows, total]:
        lines.append(
            f"{row.name[:34]:<34} {row.requests:>6} {row.error_rate:>6.1%} {row.p50:>6.0f} {row.p95:>6.0f} "
            f"{row.p99:>6.0f} {row.rps:>7.1f}"
        )
    return "\n".join(lines)


def _ensure_rates(api: str, auth: str, admin: contract_accounts.Account, deadline_s: float = 60.0) -> None:
    """EUR and USD in the currency read model (convert and billing need them); created only when missing."""
    token = contract_accounts.login(auth, admin)
    wanted = {
        "EUR": {"name": "Euro", "minor_units": 2, "rate_to_base": "1.0000"},
        "USD": {"name": "US Dollar", "minor_units": 2, "rate_to_base": "1.0825"},
    }
    for code, body in wanted.items():
        if requests.get(f"{api}/currencies/{code}", timeout=30).status_code == 200:
            continue
        response = requests.put(
            f"{api}/currencies/{code}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        if response.status_code != 202:
            raise LoadError(f"could not set {code} ({response.status_code}: {response.text[:200]}); admin needed")
    deadline = time.monotonic() + deadline_s
    while any(requests.get(f"{api}/currencies/{c}", timeout=30).status_code != 200 for c in wanted):
        if time.monotonic() > deadline:
            raise LoadError(f"EUR/USD not projected within {deadline_s:.0f} s")
        time.sleep(0.25)


def _seed_posts(api: str, auth: str, user: contract_accounts.Account, posts: int = 10) -> None:
    """A few posts with comments for readers to open (written by the run's tagged user, cleaned up after)."""
    headers = {"Authorization": f"Bearer {contract_accounts.login(auth, user)}"}
    for number in range(posts):
        body = {"title": f"load seed {number}", "body": "seeded by ./inv load"}
        created = requests.post(f"{api}/posts", json=body, headers=headers, timeout=30)
        if created.status_code != 201:
            raise LoadError(f"could not seed posts ({created.status_code}: {created.text[:200]})")
        for _ in range(2):
            url = f"{api}/posts/{created.json()['id']}/comments"
            requests.post(url, json={"body": "seeded"}, headers=headers, timeout=30)


def check_bounds(where: Endpoints, options: LoadOptions) -> None:
    """Local runs: loopback only and a bounded number of users."""
    if where.target is not None and where.target.name == "the local cloud":
        hosts = {urlsplit(url).hostname for url in (where.api, where.auth)}
        if not hosts <= set(LOOPBACK):
            raise LoadError(f"the local cloud must be on loopback, got {sorted(map(str, hosts))}")
        if options.users > LOCAL_MAX_USERS:
            raise LoadError(f"at most {LOCAL_MAX_USERS} users against the local cloud (asked {options.users})")


def run_against(where: Endpoints, options: LoadOptions) -> int:
    """One locust run; prints the table and report paths; 0 when every threshold held."""
    if options.scenario not in SCENARIOS:
        raise LoadError(f"unknown scenario {options.scenario!r}; one of {', '.join(SCENARIOS)}")
    check_bounds(where, options)
    limits = scenario_thresholds(tomllib.loads(options.thresholds.read_text()), options.scenario)
    seconds = parse_duration(options.duration)
    api, auth = where.base_for(options.topology)
    report_dir = options.report_dir or (
        paths.ROOT / "reports" / "load" / f"{time.strftime('%Y%m%dT%H%M%S')}-{options.scenario}"
    )
    report_dir.mkdir(parents=True, exist_ok=True)
    run_tag = f"load-{time.strftime('%H%M%S')}-{os.getpid()}"
    user = contract_accounts.create(auth, f"{run_tag}-user")
    admin = contract_accounts.create(auth, f"{run_tag}-admin", admin_target=where.target)
    try:
        if options.scenario in ("billing", "convert", "currency", "mixed"):
            _ensure_rates(api, auth, admin)
        if options.scenario in ("browse", "write", "mixed"):
            _seed_posts(api, auth, user)
        env = {
            **os.environ,
            "LOAD_SCENARIO": options.scenario,
            "LOAD_API": api,
            "LOAD_AUTH": auth,
            "LOAD_USER_EMAIL": user.email,
            "LOAD_ADMIN_EMAIL": admin.email,
            "LOAD_PASSWORD": TEST_PASSWORD,
        }
        prefix = report_dir / "locust"
        cmd = [
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", api,
            "-u", str(options.users), "-r", str(options.rate), "-t", f"{seconds}s", "--stop-timeout", "5",
            "--csv", str(prefix), "--html", str(report_dir / "report.html"), "--only-summary",
            "--exit-code-on-error", "0", "--loglevel", "WARNING",
        ]  # fmt: skip
        print(f"load: {options.scenario} on {where.label} ({api}): {options.users} users, {seconds} s", flush=True)
        try:
            proc = subprocess.run(cmd, cwd=paths.ROOT, env=env, timeout=seconds + 120, check=False)
        except subprocess.TimeoutExpired:
            raise LoadError(f"locust did not stop within {seconds + 120} s") from None
        if proc.returncode != 0:
            raise LoadError(f"locust exited with {proc.returncode}; see its output above")
        rows, total = read_stats(Path(f"{prefix}_stats.csv"))
    finally:
        if where.target is not None:
            prefix_tag = f"e2e-{run_tag}-"
            report = contract_cleanup.clean(where.target, only_prefix=prefix_tag)
            print(f"load: cleanup: {report.summary()}")
    print(table(rows, total))
    print(f"load: CSV {prefix}_stats.csv (history {prefix}_stats_history.csv, failures {prefix}_failures.csv)")
    print(f"load: HTML report {report_dir / 'report.html'}")
    broken = evaluate(rows, total, limits)
    for sentence in broken:
        print(f"load: THRESHOLD BROKEN: {sentence}")
    print(f"load: {options.scenario}: {'thresholds held' if not broken else f'{len(broken)} threshold(s) broken'}")
    return 1 if broken else 0


def load_task(options: LoadOptions, choice: TargetChoice) -> None:
    """`./inv load`: :func:`run_against` the target (or a private local cloud); TaskFailure (with locust's
    exit code) when a threshold broke."""
    from devkit.errors import TaskFailure

    code = run_on_target(run_against, options, choice, topology=options.topology)
    if code:
        raise TaskFailure("thresholds broken (see above)", code=code)
