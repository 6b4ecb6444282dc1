"""Tasks for the Rust-on-Lambda reference monorepo. Run them with ./inv (e.g. `./inv --list`, `./inv test`).

Each task is a thin, documented CLI over the `devkit` package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from invoke import Context, Exit, task

from devkit import build as builder
from devkit import glibc, paths
from devkit.steps import Steps

PY = sys.executable
VENV_BIN = os.path.dirname(PY)


def _tool(name: str) -> str:
    return os.path.join(VENV_BIN, name)


def _native_local_cloud() -> str:
    """The local cloud's hot path compiled with mypyc for the current sources (devkit/localcloud/native.py), before
    anything in this process imports it; the interpreted sources run when it cannot be built (CI insists on it)."""
    from devkit.localcloud import native

    if native.ensure():
        return f"{len(native.MODULES)} modules compiled"
    if os.environ.get("CI") and not native.disabled():
        raise RuntimeError("the mypyc build of the local cloud failed (see above)")
    return "interpreted"


@task
def setup(c: Context) -> None:
    """Check and install what the build needs: Python deps (done by ./inv), cargo-lambda + zig, rustfmt, clippy."""
    missing = [name for name in ("cargo-lambda", "ruff", "cfn-lint", "moto_server") if not os.path.exists(_tool(name))]
    if missing:
        raise Exit(f"missing from .venv: {', '.join(missing)} — delete .venv and re-run ./inv to reinstall")
    if shutil.which("rustup"):
        have = subprocess.run(["rustup", "component", "list", "--installed"], capture_output=True, text=True).stdout
        for component in ("rustfmt", "clippy"):
            if component not in have:
                c.run(f"rustup component add {component}")
    for name in ("cargo-fmt", "cargo-clippy"):
        if not shutil.which(name):
            raise Exit(f"{name} not found: run `rustup component add {name.removeprefix('cargo-')}`")
    c.run(f"{_tool('cargo-lambda')} lambda --version", pty=False)
    _ensure_chromium(c)
    print("setup: ok")


@task(
    help={
        "function": "Binary to build (repeatable); default: every service binary",
        "arch": "x86_64 (default; what the local cloud runs) or arm64 (needs the aarch64 Rust std)",
        "debug": "Unoptimised build (cargo's dev profile)",
        "profile": "Cargo profile: release (default; deploys, benchmarks) or ci (fast builds for tests)",
    },
    iterable=["function"],
)
def build(
    c: Context, function: list[str] | None = None, arch: str = "x86_64", debug: bool = False, profile: str = "release"
) -> None:
    """Build Lambda bootstraps with cargo-lambda for provided.al2023 and print their sizes."""
    profile = "dev" if debug else profile
    try:
        artifacts, seconds = builder.timed_build(function or None, profile=profile, arch=arch)
    except builder.BuildError as err:
        raise Exit(f"build: {err}") from None
    print(builder.size_table(artifacts, seconds))
    bad = {name: glibc.inspect(a.bootstrap).problems() for name, a in artifacts.items()}
    bad = {name: p for name, p in bad.items() if p}
    if bad:
        raise Exit("\n".join(f"build: {name} is not Lambda-compatible: {'; '.join(p)}" for name, p in bad.items()))
    print(f"bootstraps: {paths.lambda_dir(profile, arch)}")


def _lint_steps(steps: Steps) -> None:
    steps.run("cargo fmt", ["cargo", "fmt", "--all", "--check"])
    steps.run("cargo clippy", ["cargo", "clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])
    steps.run("ruff check", [_tool("ruff"), "check", "."])
    steps.run("ruff format", [_tool("ruff"), "format", "--check", "."])
    steps.run("cfn-lint", [_tool("cfn-lint"), str(paths.TEMPLATE)])
    steps.run("sam validate --lint", lambda: _sam_validate())
    steps.run("actionlint", lambda: _actionlint())


def _finish(steps: Steps, what: str) -> None:
    print(steps.summary())
    if not steps.ok:
        raise Exit(f"{what}: failed steps above", code=1)


@task
def lint(c: Context) -> None:
    """cargo fmt --check, clippy -D warnings, ruff, ruff format --check, cfn-lint on the template."""
    steps = Steps()
    _lint_steps(steps)
    _finish(steps, "lint")


@task(
    help={
        "only": "Comma-separated subset of: lint, rust, build, python",
        "k": "pytest -k expression (only the matching Python tests)",
        "rust_filter": "Filter passed to cargo test",
        "faults": "only the reliability (fault-injection) suite, tests/faults (the full suite runs it short)",
        "long": "with --faults: the long version (more requests, edits, commands and copies; FAULTS_LONG=1)",
    }
)
def test(
    c: Context, only: str = "", k: str = "", rust_filter: str = "", faults: bool = False, long: bool = False
) -> None:
    """The full suite: lint, cargo test, Lambda builds (ci profile), pytest (unit + local cloud e2e). One summary."""
    if long and not faults:
        raise Exit("test: --long goes with --faults")
    if faults:
        steps = Steps()
        steps.run("bootstraps (ci)", lambda: _build_for_tests())
        steps.run("local cloud (mypyc)", _native_local_cloud)
        env = {"FAULTS_LONG": "1" if long else "0", "FAULTS_NO_BUILD": "1"}  # built in the step before
        steps.run("faults" + (" (long)" if long else " (short)"), [PY, "-m", "pytest", "tests/faults"], env=env)
        _finish(steps, "test --faults")
        return
    parts = {p.strip() for p in only.split(",") if p.strip()} or {"lint", "rust", "build", "python"}
    unknown = parts - {"lint", "rust", "build", "python"}
    if unknown:
        raise Exit(f"test: unknown --only part(s) {', '.join(sorted(unknown))}")
    started = time.monotonic()
    steps = Steps()
    if "lint" in parts:
        _lint_steps(steps)
    if "rust" in parts:
        steps.run("cargo test", ["cargo", "test", "--workspace", "--", *([rust_filter] if rust_filter else [])])
    if "build" in parts:
        steps.run("bootstraps (ci)", lambda: _build_for_tests())
    if "python" in parts:
        _ensure_chromium(c)
        steps.run("local cloud (mypyc)", _native_local_cloud)
        steps.run("pytest", [PY, "-m", "pytest", "--ignore=tests/faults", *(["-k", k] if k else [])])
        steps.run("contract (short)", _contract_smoke)
        steps.run("load smoke (20 s)", _load_smoke)
    if "python" in parts and not k:
        # The same end-to-end suite on the real engines (DynamoDB Local + ElasticMQ from Maven Central).
        if shutil.which("java") or os.environ.get("CI"):
            e2e = [PY, "-m", "pytest", "tests/e2e", "--backend", "dynamodb-local"]
            steps.run("pytest e2e (dynamodb-local)", e2e)
            # The reliability suite (its own stack on DynamoDB Local, which it stops and restarts).
            faults_env = {"FAULTS_LONG": "0", "FAULTS_NO_BUILD": "1" if "build" in parts else ""}
            steps.run("faults (short)", [PY, "-m", "pytest", "tests/faults"], env=faults_env)
        else:
            print("test: no Java here, so the DynamoDB Local runs (e2e suite, reliability suite) did not run")
    print(f"\nelapsed: {time.monotonic() - started:.0f} s")
    if steps.test_counts()["skipped"]:
        steps.run("no skipped tests", lambda: _fail("a skipped test is a failing feature; see the skips above"))
    _finish(steps, "test")


def _fail(message: str) -> str:
    raise RuntimeError(message)


def _build_for_tests() -> str:
    artifacts = builder.build_bootstraps(builder.workspace_binaries(include_fixtures=True), profile="ci")
    return f"{len(artifacts)} bootstraps"


@task
def lock(c: Context) -> None:
    """Re-resolve pyproject.toml's dependencies into requirements.lock (exact transitive pins)."""
    import tomllib

    deps = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    tmp = paths.ROOT / ".cache" / "lock-venv"
    shutil.rmtree(tmp, ignore_errors=True)
    c.run(f"{PY} -m venv {tmp}")
    c.run(f"{tmp}/bin/pip install -q --disable-pip-version-check " + " ".join(f"'{d}'" for d in deps))
    frozen = c.run(f"{tmp}/bin/pip freeze --exclude-editable", hide=True).stdout
    header = "# Pinned transitive set for pyproject.toml. Regenerate with `./inv lock` after changing dependencies.\n"
    (paths.ROOT / "requirements.lock").write_text(header + frozen)
    shutil.rmtree(tmp, ignore_errors=True)
    print("requirements.lock updated")


# ── the local cloud ─────────────────────────────────────────────────────────────────────────────────────────────


def _control() -> dict:
    from devkit.stack import read_control

    control = read_control()
    if control is None:
        raise Exit("no local cloud is running: start one with `./inv up`")
    return control


@task(
    help={
        "backend": "moto (default), dynamodb-local (the real engine; needs Java) or aws (a deployed stage's resources)",
        "port": "port of the first HTTP API; further APIs take the next ports (default 3000)",
        "release": "run release bootstraps (as deployed) instead of the fast-building ci profile",
        "stage": "with --backend aws: the deployed stage whose tables and queues to use",
        "no_build": "do not build; run the bootstraps already built",
        "watch": "rebuild on source changes and hot-swap the changed functions",
    }
)
def up(
    c: Context,
    backend: str = "moto",
    port: int = 3000,
    release: bool = False,
    stage: str = "",
    no_build: bool = False,
    watch: bool = False,
) -> None:
    """Build (if stale) and run the whole stack locally from infra/template.yaml; prints URLs and routes."""
    _native_local_cloud()
    from devkit import stack

    if stack.read_control() is not None:
        raise Exit("a local cloud is already running (./inv status shows it; ./inv down stops it)")
    args = ["--backend", backend, "--port", str(port), "--profile", "release" if release else "ci"]
    args += ["--stage", stage] if stage else []
    args += ["--no-build"] if no_build else []
    args += ["--watch"] if watch else []
    stack.main(args)


@task
def down(c: Context) -> None:
    """Stop the local cloud started by `./inv up` (from another terminal)."""
    import signal

    from devkit.localcloud import process_alive

    control = _control()
    pid = int(control["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not process_alive(pid):
            print("down: stopped")
            return
        time.sleep(0.2)
    raise Exit(f"down: pid {pid} is still running after 60 s")


@task(help={"json": "raw JSON instead of tables"})
def status(c: Context, json: bool = False) -> None:
    """Environments per function (warm/busy), requests per API, queue depths of the running local cloud."""
    import json as jsonlib

    from devkit.stack import local_status

    control = _control()
    state = local_status(control, timeout_s=10)
    if json:
        print(jsonlib.dumps(state, indent=2))
        return
    for name, url in control["urls"].items():
        print(f"{name:<24} {url}")
    print(f"\n{'function':<24} {'envs':>5} {'busy':>5} {'invocations':>12} {'cold starts':>12}")
    for name, fn in state["functions"].items():
        print(
            f"{name:<24} {fn.get('environments', 0):>5} {fn.get('busy', 0):>5} "
            f"{fn.get('invocations', 0):>12} {fn.get('cold_starts', 0):>12}"
        )
    for name, queue in state.get("queues", {}).items():
        print(f"queue {name}: {jsonlib.dumps(queue)}")


@task(
    help={
        "follow": "keep printing new lines",
        "function": "only this function (logical id)",
        "request_id": "only lines of this request id",
        "trace_id": "only lines of this X-Ray trace id (1-…): one currency write from request to projector",
        "level": "minimum level: debug, info, warn, error (runtime and EMF lines count as info)",
        "json": "raw JSON lines instead of the human format",
        "stage": "a deployed stage: read CloudWatch Logs (filter_log_events per function log group)",
        "since": "with --stage: minutes back (default 30)",
    }
)
def logs(
    c: Context,
    follow: bool = False,
    function: str = "",
    request_id: str = "",
    trace_id: str = "",
    level: str = "",
    json: bool = False,
    stage: str = "",
    since: float = 30.0,
) -> None:
    """Function logs, pretty-printed (time, level, function, message, key fields) or --json: the local cloud's
    (.localcloud/logs) or a deployed stage's (--stage)."""
    from devkit import logview

    if level and level.upper() not in logview.LEVELS:
        raise Exit(f"--level must be one of debug, info, warn, error (got {level!r})")
    if stage:
        pattern = logview.filter_pattern_for(request_id, trace_id)
        try:
            entries = logview.deployed_entries(
                stage, function=function, since_minutes=since, follow=follow, filter_pattern=pattern
            )
        except KeyError as err:
            raise Exit(str(err)) from None
    else:
        log_dir = paths.STATE_DIR / "logs"
        if not log_dir.is_dir():
            raise Exit("no local cloud logs yet: start the stack with `./inv up` (or pass --stage NAME)")
        entries = logview.local_entries(log_dir, function=function, follow=follow)
    logview.show(entries, level=level, request_id=request_id, trace_id=trace_id, as_json=json)  # Ctrl-C ends -f


@task(
    help={
        "stage": "a deployed stage: read CloudWatch (get_metric_data) instead of the local logs",
        "function": "local: only this function's EMF lines (logical id)",
        "hours": "with --stage: hours back (default 3)",
        "json": "validate and print the raw EMF lines instead of the table",
    }
)
def metrics(c: Context, stage: str = "", function: str = "", hours: float = 3.0, json: bool = False) -> None:
    """EMF metrics as a table (count, sum, p50, p99 per metric and dimension set): from the local cloud's function
    output, or from CloudWatch for a deployed stage."""
    import json as json_module

    from devkit import metrics as emf

    if stage:
        import boto3

        from devkit import targets

        try:
            namespace = f"lambda-rust-reference/{targets.stage(stage).output('Stage')}"
        except targets.TargetError as err:
            raise Exit(str(err)) from None
        print(emf.table(emf.cloudwatch_series(boto3.client("cloudwatch"), namespace, hours=hours)))
        return
    log_dir = paths.STATE_DIR / "logs"
    if not log_dir.is_dir():
        raise Exit("no local cloud logs yet: start the stack with `./inv up` (or pass --stage NAME)")
    docs = []
    for fn, doc in emf.local_documents(log_dir, function=function or None):
        problems = emf.validate(doc)
        if problems:
            print(f"[{fn}] invalid EMF line: {'; '.join(problems)}", file=sys.stderr)
            continue
        if json:
            print(json_module.dumps(doc, separators=(",", ":")))
        docs.append(doc)
    if not json:
        print(emf.table(emf.aggregate(docs)) if docs else "no EMF lines yet")


@task(help={"function": "logical id of the function (as in the template)", "event": "JSON file with the event"})
def invoke(c: Context, function: str, event: str = "") -> None:
    """One direct invocation of a function on the running local cloud (like `sam local invoke`), via boto3."""
    import base64

    import boto3

    control = _control()
    payload = Path(event).read_bytes() if event else b"{}"
    client = boto3.client(
        "lambda",
        region_name="us-east-1",
        endpoint_url=control["lambda_endpoint"],
        aws_access_key_id="localcloud",
        aws_secret_access_key="localcloud",
    )
    try:
        result = client.invoke(FunctionName=function, Payload=payload, LogType="Tail")
    except client.exceptions.ResourceNotFoundException as err:
        raise Exit(f"invoke: {err}") from None
    print(base64.b64decode(result.get("LogResult", "")).decode(errors="replace"), file=sys.stderr)
    print(result["Payload"].read().decode(errors="replace"))
    if result.get("FunctionError"):
        raise Exit(f"invoke: {function} failed ({result['FunctionError']})", code=1)


@task(
    help={
        "function": "logical id or name; without it: list the installed faults",
        "action": "error (default; like FIS aws:lambda:invocation-error), delay, or crash (SIGKILL mid-invocation)",
        "percentage": "share of invocations hit, 0-100 (default 10)",
        "prevent_execution": "error: fail before the function sees the event (default: it runs, its answer is lost)",
        "delay_ms": "delay: milliseconds before the function gets the event",
        "within_ms": "crash: kill at a random point up to this long after delivery (default 0: at once)",
        "max_attempt": "only up to this delivery attempt (SQS: receive count); 0 = every attempt",
        "seed": "RNG seed (same seed and order of invocations, same faults)",
        "clear": "remove the function's faults",
    }
)
def fault(
    c: Context,
    function: str = "",
    action: str = "error",
    percentage: float = 10.0,
    prevent_execution: bool = False,
    delay_ms: int = 0,
    within_ms: int = 0,
    max_attempt: int = 0,
    seed: int = 0,
    clear: bool = False,
) -> None:
    """Inject faults into a function of the running local cloud (chaos testing on loopback, AWS FIS-style)."""
    import json as jsonlib

    from devkit.stack import FaultsRefused, list_faults, set_faults

    control = _control()
    if not function:
        print(jsonlib.dumps(list_faults(control), indent=2))
        return
    spec = {"action": action, "percentage": percentage, "prevent_execution": prevent_execution}
    spec |= {"delay_ms": delay_ms, "within_ms": within_ms} | ({"max_attempt": max_attempt} if max_attempt else {})
    try:
        installed = set_faults(control, function, None if clear else {"seed": seed, "faults": [spec]})
    except FaultsRefused as err:
        raise Exit(f"fault: {err}") from None
    print(jsonlib.dumps(installed, indent=2))


@task(help={"email": "the account to promote", "stage": "a deployed stage instead of the local cloud"})
def grant_admin(c: Context, email: str, stage: str = "") -> None:
    """Give an account the `admin` role (effective at its next login); local cloud by default."""
    from devkit import admin, targets

    try:
        target = targets.resolve(stage)
        table = target.output("UsersTableName")
        granted = admin.grant_role(target.client("dynamodb"), table, email, admin.ADMIN)
    except (targets.TargetError, admin.UnknownUser) as err:
        raise Exit(f"grant-admin: {err}") from None
    print(f"grant-admin: {email} is {'now' if granted else 'already'} an admin on {target.name} (log in again)")


def _ensure_chromium(c: Context) -> None:
    """Debian's Chromium for the Swagger UI browser test (Playwright drives it; no browser download of its own)."""
    if os.path.exists("/usr/bin/chromium"):
        return
    if os.geteuid() == 0:
        c.run("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium")
    else:
        print("setup: /usr/bin/chromium is missing (tests/e2e/test_docs_browser.py needs it): run")
        print("       sudo apt-get update && sudo apt-get install -y chromium")


@task
def openapi(c: Context) -> None:
    """Regenerate openapi.json (repository root): the fat Lambda's OpenAPI 3.1 document, generated from the code."""
    test = "committed_openapi_json_matches_the_code"
    cmd = ["cargo", "test", "-p", "fat", "--test", "openapi", "--", "--exact", test]
    if subprocess.run(cmd, cwd=paths.ROOT, env={**os.environ, "UPDATE_OPENAPI": "1"}, check=False).returncode:
        raise Exit("openapi: the document could not be generated; see the cargo output above")
    print(f"openapi: wrote {paths.ROOT / 'openapi.json'}")


@task(help={"rounds": "cold starts per function and path (default 10)", "profile": "release (default) or ci"})
def bench_fat(c: Context, rounds: int = 10, profile: str = "release") -> None:
    """Fat vs lith on the local cloud: Init Duration, first-request latency, warm p50, RSS, bootstrap size."""
    _native_local_cloud()
    from devkit import bench_fat as bench

    try:
        builder.build_bootstraps(bench.binaries(), profile=profile, quiet=True)
    except builder.BuildError as err:
        raise Exit(f"bench-fat: {err}") from None
    bench.fat_vs_lith(rounds=rounds, profile=profile)


@task(
    help={
        "quick": "small counts (about 3 minutes from built bootstraps)",
        "local_cloud": "issue 4 only: local cloud vs cargo lambda watch and cold start per function (no warm load)",
        "release": "release bootstraps (the default; as deployed)",
        "profile": "cargo profile of the bootstraps: release (default) or ci",
        "no_build": "do not build; run the bootstraps already built",
        "threshold": "relative worsening vs the previous run that counts as a regression (default 0.25)",
    }
)
def bench(
    c: Context,
    quick: bool = False,
    local_cloud: bool = False,
    release: bool = False,
    profile: str = "release",
    no_build: bool = False,
    threshold: float = 0.25,
) -> None:
    """Benchmarks: local cloud vs cargo lambda watch on the same bootstrap, per-function cold start, warm
    latency, RSS and sizes, Rust vs Python (awslambdaric); JSON + Markdown under reports/bench/, compared with
    the previous run."""
    _native_local_cloud()
    from devkit.bench.run import BenchError, BenchOptions, run_bench

    profile = "release" if release else profile
    options = BenchOptions(
        quick=quick,
        local_cloud_only=local_cloud,
        profile=profile,
        build=not no_build,
        threshold=threshold,
        command="./inv bench" + " --quick" * quick + " --local-cloud" * local_cloud + f" --profile {profile}",
    )
    try:
        path, _ = run_bench(options)
    except (builder.BuildError, BenchError) as err:
        raise Exit(f"bench: {err}") from None
    print(f"bench: report {path} (latest: {path.parent.parent / 'latest.md'})")


@task(
    help={
        "commands": "how many commands (default 10000)",
        "rate": "commands per second, steady (default 100)",
        "failures": "percentage of the projector's early deliveries that fail (default 10)",
        "seed": "fault RNG seed (default 1)",
        "backend": "dynamodb-local (default when Java is present) or moto",
        "profile": "cargo profile of the bootstraps: ci (default) or release",
        "no_build": "do not build; run the bootstraps already built",
    }
)
def soak(
    c: Context,
    commands: int = 10_000,
    rate: float = 100.0,
    failures: float = 10.0,
    seed: int = 1,
    backend: str = "",
    profile: str = "ci",
    no_build: bool = False,
) -> None:
    """Currency soak (issue 6): commands through write → SQS → projector with projector faults injected, then every
    command counted as applied exactly once; JSON + Markdown under reports/soak/. Fails when any count is off."""
    _native_local_cloud()
    from devkit import soak_currency

    settings = soak_currency.SoakSettings(commands=commands, rate=rate, failure_percentage=failures, seed=seed)
    try:
        result = soak_currency.run_soak(settings, profile=profile, build=not no_build, backend=backend or None)
    except (builder.BuildError, RuntimeError) as err:
        raise Exit(f"soak: {err}") from None
    command = f"./inv soak --commands {commands} --rate {rate:g} --failures {failures:g} --seed {seed}"
    page = soak_currency.write_report(result, command)
    print(soak_currency.render(result, command))
    print(f"soak: report {page}")
    if not result["ok"]:
        raise Exit("soak: not every command was applied exactly once (see the report)", code=1)


@task(
    help={
        "traffic": "a traffic profile (blog, currency, convert) or all (default)",
        "quick": "300 requests per topology instead of 2000 (about 3 minutes from built bootstraps)",
        "profile": "cargo profile of the bootstraps: ci (default) or release",
        "backend": "moto (default) or dynamodb-local",
        "no_build": "do not build; run the bootstraps already built",
    }
)
def compare(
    c: Context,
    traffic: str = "all",
    quick: bool = False,
    profile: str = "ci",
    backend: str = "moto",
    no_build: bool = False,
) -> None:
    """Every topology (lith, micro, fat, read/write split, LMI) under the same traffic: latency, cold starts,
    environments, memory, monthly cost, IAM breadth, deploy size; HTML (charts) + Markdown under reports/compare/."""
    _native_local_cloud()
    from devkit.compare import report
    from devkit.compare.run import CompareOptions, run_compare

    options = CompareOptions(traffic=traffic, quick=quick, profile=profile, backend=backend, build=not no_build)
    try:
        results = run_compare(options)
    except (builder.BuildError, ValueError, RuntimeError) as err:
        raise Exit(f"compare: {err}") from None
    command = f"./inv compare --traffic {traffic}" + " --quick" * quick + f" --profile {profile} --backend {backend}"
    md, page = report.write(results, command)
    print(f"compare: report {page} (Markdown: {md}; latest: {md.parent.parent / 'latest.md'})")


# ── contract and load tests (issue 8) ───────────────────────────────────────────────────────────────────────────


@task(
    help={
        "base_url": "main API of a deployment (HttpApi; with --topology fat: FatApi); default: a private local cloud",
        "auth_url": "identity API (AuthApi) of that deployment (lith topology; default: --base-url)",
        "stage": "a deployed stage (URLs, admin grant and cleanup through its CloudFormation outputs)",
        "topology": "lith (identity API + HttpApi; default) or fat (FatApi serves everything)",
        "examples": "examples per operation (default 200)",
        "seed": "random seed for a reproducible run",
        "i_know": "run even though the target's name looks like production",
        "backend": "data backend of the private local cloud: moto (default) or dynamodb-local",
    }
)
def contract(
    c: Context,
    base_url: str = "",
    auth_url: str = "",
    stage: str = "",
    topology: str = "lith",
    examples: int = 200,
    seed: int | None = None,
    i_know: bool = False,
    backend: str = "moto",
) -> None:
    """schemathesis against the committed openapi.json (all checks, stateful links); JUnit + HTML reports."""
    _native_local_cloud()
    from devkit import contract as runner
    from devkit.contract_safety import ProdRefused
    from devkit.targets import TargetError

    if topology not in ("lith", "fat"):
        raise Exit("contract: --topology is lith or fat")
    options = runner.ContractOptions(topology=topology, examples=examples, seed=seed)
    try:
        code = runner.run(options, base_url=base_url, auth_url=auth_url, stage=stage, i_know=i_know, backend=backend)
    except (ProdRefused, TargetError, RuntimeError) as err:
        raise Exit(f"contract: {err}") from None
    if code:
        raise Exit("contract: schemathesis found problems (see above and the reports)", code=code)


@task(
    help={
        "base_url": "main API of a deployment; default: a private local cloud (loopback, bounded)",
        "auth_url": "identity API of that deployment (default: --base-url)",
        "stage": "a deployed stage",
        "scenario": "browse, write, billing, currency, convert or mixed (default)",
        "users": "concurrent users (default 20; at most 50 on the local cloud)",
        "rate": "users started per second (default 5)",
        "duration": "run time, e.g. 60s, 5m (default 60s)",
        "topology": "lith (default) or fat",
        "thresholds": "thresholds file (default load/thresholds.toml)",
        "i_know": "run even though the target's name looks like production",
        "backend": "data backend of the private local cloud: moto (default) or dynamodb-local (real engine)",
    }
)
def load(
    c: Context,
    base_url: str = "",
    auth_url: str = "",
    stage: str = "",
    scenario: str = "mixed",
    users: int = 20,
    rate: float = 5.0,
    duration: str = "60s",
    topology: str = "lith",
    thresholds: str = "",
    i_know: bool = False,
    backend: str = "moto",
) -> None:
    """locust headless: per-route p50/p95/p99, rps, error rate vs the scenario's thresholds; CSV + HTML reports."""
    _native_local_cloud()
    from devkit import load as runner
    from devkit.contract_safety import ProdRefused
    from devkit.targets import TargetError

    options = runner.LoadOptions(
        scenario=scenario,
        users=users,
        rate=rate,
        duration=duration,
        topology=topology,
        thresholds=Path(thresholds) if thresholds else runner.THRESHOLDS,
    )
    try:
        code = runner.run(options, base_url=base_url, auth_url=auth_url, stage=stage, i_know=i_know, backend=backend)
    except (ProdRefused, TargetError, RuntimeError) as err:
        raise Exit(f"load: {err}") from None
    if code:
        raise Exit("load: thresholds broken (see above)", code=code)


@task(help={"stage": "a deployed stage (default: the running local cloud)", "i_know": "allow a prod-looking stage"})
def clean_test_data(c: Context, stage: str = "", i_know: bool = False) -> None:
    """Delete tagged test accounts (e2e-…@example.test) and their posts, comments, invoices, payments, keys."""
    from devkit import contract_cleanup, targets
    from devkit.contract_safety import ProdRefused, refuse_prod

    try:
        refuse_prod([stage], i_know=i_know)
        report = contract_cleanup.clean(targets.resolve(stage))
    except (ProdRefused, targets.TargetError) as err:
        raise Exit(f"clean-test-data: {err}") from None
    print(f"clean-test-data: {report.summary()}")


def _contract_smoke() -> str:
    """`./inv test`'s short contract run: a few examples on every operation, both topologies, one local cloud."""
    from devkit import contract as runner
    from devkit.contract_stack import local_cloud

    codes = {}
    with local_cloud() as where:
        for topology in ("lith", "fat"):
            options = runner.ContractOptions(topology=topology, examples=5, seed=8)
            codes[topology] = runner.run_against(where, options)
    if any(codes.values()):
        raise RuntimeError(f"contract findings: {codes}")
    return "lith + fat: no findings"


def _load_smoke() -> str:
    """`./inv test`'s 20-second load smoke (mixed scenario) with the thresholds of load/thresholds.toml."""
    from devkit import load as runner
    from devkit.contract_stack import local_cloud

    with local_cloud() as where:
        code = runner.run_against(where, runner.LoadOptions(scenario="mixed", users=20, rate=10, duration="20s"))
    if code:
        raise RuntimeError("load smoke: thresholds broken")
    return "mixed 20 s: thresholds held"


# ── deploy (SAM, one stack per stage; see devkit/deploy.py) ─────────────────────────────────────────────────────


def _actionlint() -> str:
    from devkit.deploy_lint import actionlint

    return actionlint()


def _sam_validate() -> str:
    from devkit.deploy_sam import run_sam

    run_sam(["validate", "--lint", "--template-file", str(paths.TEMPLATE), "--region", "us-east-1"])
    return "template valid"


@task(
    help={
        "stage": "dev, staging, prod or a personal name (stack lambda-rust-reference-<stage>)",
        "guided": "sam deploy --guided (asks for every setting and saves it to infra/samconfig.toml)",
        "no_build": "deploy the zips already built by ./inv build (release, the stage's architecture)",
        "yes": "no change-set confirmation (CI)",
        "region": "AWS region (default: infra/samconfig.toml, or AWS_REGION)",
        "s3_bucket": "upload artifacts to this bucket instead of SAM's managed one",
    }
)
def deploy(
    c: Context,
    stage: str,
    guided: bool = False,
    no_build: bool = False,
    yes: bool = False,
    region: str = "",
    s3_bucket: str = "",
) -> None:
    """Deploy a stage: release zips → sam package → offline SAM translation → sam deploy → signing key."""
    from devkit import deploy as deployer
    from devkit.deploy_sam import SamError

    try:
        outs = deployer.deploy(
            stage,
            build_first=not no_build,
            guided=guided,
            confirm=False if yes else None,
            region=region or None,
            s3_bucket=s3_bucket or None,
        )
    except (deployer.DeployError, SamError) as err:
        raise Exit(f"deploy: {err}") from None
    for key, value in sorted(outs.items()):
        print(f"{key:<28} {value}")


@task(help={"stage": "the deployed stage", "region": "AWS region (default: samconfig / AWS_REGION)"})
def outputs(c: Context, stage: str, region: str = "") -> None:
    """Print a deployed stage's CloudFormation outputs (API URLs, table and queue names)."""
    from devkit import deploy as deployer

    try:
        outs = deployer.outputs(stage, region=region or None)
    except deployer.DeployError as err:
        raise Exit(f"outputs: {err}") from None
    for key, value in sorted(outs.items()):
        print(f"{key:<28} {value}")


@task(
    help={
        "stage": "the stage to delete",
        "yes": "do not prompt (required when not on a terminal, e.g. CI)",
        "i_know": "required for prod (its tables are retained: DeletionPolicy Retain)",
        "region": "AWS region (default: samconfig / AWS_REGION)",
    }
)
def destroy(c: Context, stage: str, yes: bool = False, i_know: bool = False, region: str = "") -> None:
    """Delete a stage's stack and uploaded artifacts (sam delete); asks first, refuses prod without --i-know."""
    from devkit import deploy as deployer
    from devkit.deploy_sam import SamError

    try:
        deployer.confirm_destroy(stage, i_know=i_know, yes=yes)
        deployer.destroy(stage, region=region or None)
    except (deployer.DeployError, SamError) as err:
        raise Exit(f"destroy: {err}") from None
    print(f"destroy: {stage} deleted")


@task(help={"requests": "requests per concurrency level (default 640)"})
def bench_lmi(c: Context, requests: int = 640) -> None:
    """One LMI environment vs standard environments at rising concurrency: req/s, p99, RSS, environments."""
    _native_local_cloud()
    from devkit.bench_lmi import lmi_vs_standard

    try:
        builder.build_bootstraps(["convert-lambda", "convert-lmi-lambda"], profile="ci", quiet=True)
    except builder.BuildError as err:
        raise Exit(f"bench-lmi: {err}") from None
    lmi_vs_standard(levels=(1, 8, 32, 64, 128), requests_per_level=requests, io_latency_ms=20, cache_ttl_ms=0)
