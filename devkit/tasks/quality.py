"""Tasks: lint, test."""

from __future__ import annotations

from invoke import Context, task

from devkit.tasks import calls, exits

lint = calls(
    "lint",
    "devkit.quality.lint:lint",
    "cargo fmt --check, clippy -D warnings, ruff, ruff format --check, cfn-lint on the template.",
)


@task(
    help={
        "only": "Comma-separated subset of: lint, rust, build, python",
        "k": "pytest -k expression (only the matching Python tests)",
        "rust_filter": "Filter passed to cargo test",
        "faults": "only the reliability (fault-injection) suite, tests/system/reliability (the full suite runs it "
        "short)",
        "long": "with --faults: the long version (more requests, edits, commands and copies; FAULTS_LONG=1)",
    }
)
@exits()
def test(
    c: Context, only: str = "", k: str = "", rust_filter: str = "", faults: bool = False, long: bool = False
) -> None:
    """The full suite: lint, cargo test, Lambda builds (ci profile), pytest (unit + local cloud e2e). One summary."""
    from devkit.quality import suite

    suite.run_suite(only=only, k=k, rust_filter=rust_filter, faults=faults, long=long)
