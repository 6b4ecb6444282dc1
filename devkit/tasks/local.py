"""Tasks on the local cloud (several also take --stage): up, down, status, logs, metrics, invoke, fault, grant-admin,
keys."""

from __future__ import annotations

from invoke import Context, task

from devkit.tasks import calls, compiled, exits


@task(
    help={
        "backend": "moto (default), dynamodb-local (the real engine; needs Java) or aws (a deployed stage's resources)",
        "port": "port of the first HTTP API; further APIs take the next ports (default 3000)",
        "release": "run release bootstraps (as deployed) instead of the fast-building ci profile",
        "stage": "with --backend aws: the deployed stage whose tables and queues to use",
        "no_build": "do not build; run the bootstraps already built",
        "watch": "rebuild on source changes and hot-swap the changed functions",
        "no_demo_data": "do not seed the demo currencies (USD, EUR, GBP, CHF, JPY, KWD with rates)",
    }
)
@exits()
@compiled
def up(
    c: Context,
    backend: str = "moto",
    port: int = 3000,
    release: bool = False,
    stage: str = "",
    no_build: bool = False,
    watch: bool = False,
    no_demo_data: bool = False,
) -> None:
    """Build (if stale) and run the whole stack locally from infra/template.yaml; prints URLs and routes. Seeds a
    few currencies with rates (idempotently; not with --backend aws) unless --no-demo-data."""
    from devkit import control

    args = ["--backend", backend, "--port", str(port), "--profile", "release" if release else "ci"]
    args += ["--stage", stage] if stage else []
    args += ["--no-build"] if no_build else []
    args += [] if no_demo_data or backend == "aws" else ["--demo-data"]
    control.start(args + (["--watch"] if watch else []))


down = calls("down", "devkit.control:stop", "Stop the local cloud started by `./inv up` (from another terminal).")


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
@exits()
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
    from devkit.observe import logs as logview

    query = logview.LogQuery(function, request_id, trace_id, level)
    logview.show_logs(query, follow=follow, as_json=json, stage=stage, since_minutes=since)


@task(
    help={
        "stage": "a deployed stage: read CloudWatch (get_metric_data) instead of the local logs",
        "function": "local: only this function's EMF lines (logical id)",
        "hours": "with --stage: hours back (default 3)",
        "json": "validate and print the raw EMF lines instead of the table",
    }
)
@exits()
def metrics(c: Context, stage: str = "", function: str = "", hours: float = 3.0, json: bool = False) -> None:
    """EMF metrics as a table (count, sum, p50, p99 per metric and dimension set): from the local cloud's function
    output, or from CloudWatch for a deployed stage."""
    from devkit.observe import metrics as emf

    emf.show_metrics(stage=stage, function=function, hours=hours, as_json=json)


@task(help={"json": "raw JSON instead of tables"})
@exits()
def status(c: Context, json: bool = False) -> None:
    """Environments per function (warm/busy), requests per API, queue depths of the running local cloud."""
    from devkit import control

    control.show_status(as_json=json)


@task(help={"function": "logical id of the function (as in the template)", "event": "JSON file with the event"})
@exits()
def invoke(c: Context, function: str, event: str = "") -> None:
    """One direct invocation of a function on the running local cloud (like `sam local invoke`), via boto3."""
    from devkit import control

    control.invoke(function, event)


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
@exits()
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
    from devkit import control

    spec = {"action": action, "percentage": percentage, "prevent_execution": prevent_execution}
    spec |= {"delay_ms": delay_ms, "within_ms": within_ms} | ({"max_attempt": max_attempt} if max_attempt else {})
    control.faults(function, spec, seed=seed, clear=clear)


@task(help={"email": "the account to promote", "stage": "a deployed stage instead of the local cloud"})
@exits()
def grant_admin(c: Context, email: str, stage: str = "") -> None:
    """Give an account the `admin` role (effective at its next login); local cloud by default."""
    from devkit.targets import admin

    admin.grant_admin_task(email, stage)


@task(
    positional=["action"],
    help={
        "action": "rotate (new signing key; the old one keeps verifying) or retire-previous (drop the old key)",
        "stage": "a deployed stage instead of the local cloud",
        "force": "retire-previous even within 20 min of the rotation (tokens signed with the old key stop working)",
    },
)
@exits()
def keys(c: Context, action: str, stage: str = "", force: bool = False) -> None:
    """Rotate the auth signing key or retire the previous one; takes effect within KEY_REFRESH_SECONDS."""
    from devkit.targets import signing

    signing.keys_task(action, stage, force=force)
