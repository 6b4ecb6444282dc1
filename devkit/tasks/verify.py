"""Tasks against a target (a private local cloud, URLs or a deployed stage): contract, load, clean-test-data."""

from __future__ import annotations

from pathlib import Path

from invoke import Context, task

from devkit.tasks import compiled, exits


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
@exits(RuntimeError)
@compiled
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
    from devkit.contract import run
    from devkit.targets.endpoints import TargetChoice

    options = run.ContractOptions(topology=topology, examples=examples, seed=seed)
    # A private local cloud starts as `./inv up` does, with the demo currencies, so conversions can succeed.
    run.contract_task(options, TargetChoice(base_url, auth_url, stage, i_know, backend, demo_data=True))


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
@exits(RuntimeError)
@compiled
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
    from devkit.load import run
    from devkit.targets.endpoints import TargetChoice

    options = run.LoadOptions(
        scenario=scenario,
        users=users,
        rate=rate,
        duration=duration,
        topology=topology,
        thresholds=Path(thresholds) if thresholds else run.THRESHOLDS,
    )
    run.load_task(options, TargetChoice(base_url, auth_url, stage, i_know, backend))


@task(help={"stage": "a deployed stage (default: the running local cloud)", "i_know": "allow a prod-looking stage"})
@exits()
def clean_test_data(c: Context, stage: str = "", i_know: bool = False) -> None:
    """Delete tagged test accounts (e2e-…@example.test) and their posts, comments, invoices, payments, keys."""
    from devkit.contract import cleanup

    cleanup.clean_task(stage, i_know=i_know)
