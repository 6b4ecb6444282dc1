"""`./inv lint` (and the first steps of `./inv test`): formatters, linters and template checks, one step each."""

from __future__ import annotations

import os
import sys

from devkit import paths
from devkit.quality.steps import Steps

VENV_BIN = os.path.dirname(sys.executable)


def tool(name: str) -> str:
    """An executable of this project's virtualenv (ruff, cfn-lint, cargo-lambda, …)."""
    return os.path.join(VENV_BIN, name)


def lint_steps(steps: Steps) -> None:
    steps.run("cargo fmt", ["cargo", "fmt", "--all", "--check"])
    steps.run("cargo clippy", ["cargo", "clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])
    steps.run("ruff check", [tool("ruff"), "check", "."])
    steps.run("ruff format", [tool("ruff"), "format", "--check", "."])
    steps.run("cfn-lint", [tool("cfn-lint"), str(paths.TEMPLATE)])
    steps.run("sam validate --lint", sam_validate)
    steps.run("actionlint", _actionlint)


def sam_validate() -> str:
    from devkit.deploy.sam import run_sam

    run_sam(["validate", "--lint", "--template-file", str(paths.TEMPLATE), "--region", "us-east-1"])
    return "template valid"


def _actionlint() -> str:
    from devkit.quality.actionlint import actionlint

    return actionlint()


def finish(steps: Steps) -> None:
    """Prints the summary; TaskFailure when a step failed."""
    from devkit.errors import TaskFailure

    print(steps.summary())
    if not steps.ok:
        raise TaskFailure("failed steps above")


def lint() -> None:
    steps = Steps()
    lint_steps(steps)
    finish(steps)
