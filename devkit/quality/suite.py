"""`./inv test` and `./inv setup`: the full suite as named steps with one summary, and what it needs installed.

`pytest` runs every test once except the reliability suite (tests/system/reliability), which has a step of its
own on DynamoDB Local; the end-to-end suite (tests/system/e2e) then runs a second time, on the real engines.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

from devkit import build
from devkit.errors import TaskFailure
from devkit.quality.lint import finish, lint_steps, tool
from devkit.quality.steps import Steps

PY = sys.executable
PARTS = ("lint", "rust", "build", "python")
E2E = "tests/system/e2e"
RELIABILITY = "tests/system/reliability"
CHROMIUM = "/usr/bin/chromium"


def native_local_cloud() -> str:
    """The local cloud's hot path compiled with mypyc for the current sources (devkit/localcloud/native.py), before
    anything in this process imports it; the interpreted sources run when it cannot be built (CI insists on it)."""
    from devkit.localcloud import native

    if native.ensure():
        return f"{len(native.MODULES)} modules compiled"
    if os.environ.get("CI") and not native.disabled():
        raise RuntimeError("the mypyc build of the local cloud failed (see above)")
    return "interpreted"


def setup() -> None:
    """Checks what the build needs (the venv's tools, rustfmt, clippy, cargo-lambda) and installs what it can."""
    missing = [name for name in ("cargo-lambda", "ruff", "cfn-lint", "moto_server") if not os.path.exists(tool(name))]
    if missing:
        raise TaskFailure(f"missing from .venv: {', '.join(missing)} — delete .venv and re-run ./inv to reinstall")
    if shutil.which("rustup"):
        have = subprocess.run(["rustup", "component", "list", "--installed"], capture_output=True, text=True).stdout
        for component in ("rustfmt", "clippy"):
            if component not in have:
                subprocess.run(["rustup", "component", "add", component], check=True)
    for name in ("cargo-fmt", "cargo-clippy"):
        if not shutil.which(name):
            raise TaskFailure(f"{name} not found: run `rustup component add {name.removeprefix('cargo-')}`")
    subprocess.run([tool("cargo-lambda"), "lambda", "--version"], check=True)
    ensure_chromium()
    print("setup: ok")


def ensure_chromium() -> None:
    """Debian's Chromium for the Swagger UI browser test (Playwright drives it; no browser download of its own)."""
    if os.path.exists(CHROMIUM):
        return
    if os.geteuid() == 0:
        install = "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium"
        subprocess.run(install, shell=True, check=True)
    else:
        print(f"setup: {CHROMIUM} is missing ({E2E}/test_docs_browser.py needs it): run")
        print("       sudo apt-get update && sudo apt-get install -y chromium")


def build_for_tests() -> str:
    artifacts = build.build_bootstraps(build.workspace_binaries(include_fixtures=True), profile="ci")
    return f"{len(artifacts)} bootstraps"


def contract_smoke() -> str:
    """The suite's short contract run: a few examples on every operation, both topologies, one local cloud."""
    from devkit.contract import run as runner
    from devkit.targets.endpoints import local_cloud

    codes = {}
    with local_cloud(demo_data=True) as where:
        for topology in ("lith", "fat"):
            codes[topology] = runner.run_against(where, runner.ContractOptions(topology=topology, examples=5, seed=8))
    if any(codes.values()):
        raise RuntimeError(f"contract findings: {codes}")
    return "lith + fat: no findings"


def load_smoke() -> str:
    """The suite's 20-second load smoke (mixed scenario) with the thresholds of load/thresholds.toml."""
    from devkit.load import run as runner
    from devkit.targets.endpoints import local_cloud

    with local_cloud() as where:
        code = runner.run_against(where, runner.LoadOptions(scenario="mixed", users=20, rate=10, duration="20s"))
    if code:
        raise RuntimeError("load smoke: thresholds broken")
    return "mixed 20 s: thresholds held"


def run_reliability(*, long: bool) -> None:
    """`./inv test --faults`: only the reliability suite, short or long."""
    steps = Steps()
    steps.run("bootstraps (ci)", build_for_tests)
    steps.run("local cloud (mypyc)", native_local_cloud)
    env = {"FAULTS_LONG": "1" if long else "0", "FAULTS_NO_BUILD": "1"}  # built in the step before
    steps.run("faults" + (" (long)" if long else " (short)"), [PY, "-m", "pytest", RELIABILITY], env=env)
    finish(steps)


def _fail(message: str) -> str:
    raise RuntimeError(message)


def run_suite(*, only: str, k: str, rust_filter: str, faults: bool, long: bool) -> None:
    """`./inv test`: lint, cargo test, Lambda builds (ci profile), pytest, contract and load smokes, then the e2e
    suite on DynamoDB Local and the reliability suite; one summary. A skipped test fails the run."""
    if long and not faults:
        raise TaskFailure("--long goes with --faults")
    if faults:
        run_reliability(long=long)
        return
    parts = {p.strip() for p in only.split(",") if p.strip()} or set(PARTS)
    unknown = parts - set(PARTS)
    if unknown:
        raise TaskFailure(f"unknown --only part(s) {', '.join(sorted(unknown))}")
    started = time.monotonic()
    steps = Steps()
    if "lint" in parts:
        lint_steps(steps)
    if "rust" in parts:
        steps.run("cargo test", ["cargo", "test", "--workspace", "--", *([rust_filter] if rust_filter else [])])
    if "build" in parts:
        steps.run("bootstraps (ci)", build_for_tests)
    if "python" in parts:
        ensure_chromium()
        steps.run("local cloud (mypyc)", native_local_cloud)
        steps.run("pytest", [PY, "-m", "pytest", f"--ignore={RELIABILITY}", *(["-k", k] if k else [])])
        steps.run("contract (short)", contract_smoke)
        steps.run("load smoke (20 s)", load_smoke)
    if "python" in parts and not k:
        # The same end-to-end suite on the real engines (DynamoDB Local + ElasticMQ from Maven Central).
        if shutil.which("java") or os.environ.get("CI"):
            steps.run("pytest e2e (dynamodb-local)", [PY, "-m", "pytest", E2E, "--backend", "dynamodb-local"])
            # The reliability suite (its own stack on DynamoDB Local, which it stops and restarts).
            faults_env = {"FAULTS_LONG": "0", "FAULTS_NO_BUILD": "1" if "build" in parts else ""}
            steps.run("faults (short)", [PY, "-m", "pytest", RELIABILITY], env=faults_env)
        else:
            print("test: no Java here, so the DynamoDB Local runs (e2e suite, reliability suite) did not run")
    print(f"\nelapsed: {time.monotonic() - started:.0f} s")
    if steps.test_counts()["skipped"]:
        steps.run("no skipped tests", lambda: _fail("a skipped test is a failing feature; see the skips above"))
    finish(steps)
