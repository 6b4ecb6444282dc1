"""Tasks against a target (a private local cloud, URLs or a deployed stage): contract, load, clean-test-data."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from invoke import Context, task

from devkit.tasks import compiled, exits

if TYPE_CHECKING:
    from devkit.targets.endpoints import TargetChoice

# The options that name a target, as the tasks give them: these three first, the task's own, then the last two (in
# that order, since invoke hands out short flags by position).
TARGET_FIRST = (("base_url", ""), ("auth_url", ""), ("stage", ""))
TARGET_LAST = (("i_know", False), ("backend", "moto"))


def on_target(body: Callable[..., None]) -> Callable[..., None]:
    """A task `body(c, target, **own)` offered as `(c, base_url, auth_url, stage, **own, i_know, backend)`; the body
    gets the five target options as one TargetChoice."""
    signature = inspect.signature(body)
    context, _, *own = signature.parameters.values()

    def option(name: str, default: object) -> inspect.Parameter:
        return inspect.Parameter(
            name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=type(default)
        )

    @functools.wraps(body)
    def run(c: Context, **options: Any) -> None:
        from devkit.targets.endpoints import TargetChoice

        named = {name: options.pop(name, default) for name, default in TARGET_FIRST + TARGET_LAST}
        body(c, TargetChoice(**named), **options)

    first = [option(name, default) for name, default in TARGET_FIRST]
    last = [option(name, default) for name, default in TARGET_LAST]
    run.__signature__ = signature.replace(parameters=[context, *first, *own, *last])  # type: ignore[attr-defined]
    return run


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
@on_target
def contract(
    c: Context, target: TargetChoice, topology: str = "lith", examples: int = 200, seed: int | None = None
) -> None:
    """schemathesis against the committed openapi.json (all checks, stateful links); JUnit + HTML reports."""
    from devkit.contract import run

    run.contract_task(run.ContractOptions(topology=topology, examples=examples, seed=seed), target)


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
@on_target
def load(
    c: Context,
    target: TargetChoice,
    scenario: str = "mixed",
    users: int = 20,
    rate: float = 5.0,
    duration: str = "60s",
    topology: str = "lith",
    thresholds: str = "",
) -> None:
    """locust headless: per-route p50/p95/p99, rps, error rate vs the scenario's thresholds; CSV + HTML reports."""
    from devkit.load import run

    options = run.LoadOptions(
        scenario=scenario,
        users=users,
        rate=rate,
        duration=duration,
        topology=topology,
        thresholds=Path(thresholds) if thresholds else run.THRESHOLDS,
    )
    run.load_task(options, target)


@task(help={"stage": "a deployed stage (default: the running local cloud)", "i_know": "allow a prod-looking stage"})
@exits()
def clean_test_data(c: Context, stage: str = "", i_know: bool = False) -> None:
    """Delete tagged test accounts (e2e-…@example.test) and their posts, comments, invoices, payments, keys."""
    from devkit.contract import cleanup

    cleanup.clean_task(stage, i_know=i_know)
