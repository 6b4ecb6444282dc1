"""Tasks: new-service, init (a new service from the project's patterns; a fork's own names)."""

from __future__ import annotations

from invoke import Context, task

from devkit.tasks import exits


@task(
    help={
        "name": "crate name of the service: lowercase letters and digits, words joined by '-' or '_' (e.g. inventory)",
        "no_table": "no DynamoDB table: items live in memory per execution environment (bring your own store)",
        "no_openapi": "skip regenerating openapi.json (run `./inv openapi` later)",
    }
)
@exits()
def new_service(c: Context, name: str, no_table: bool = False, no_openapi: bool = False) -> None:
    """Generate a working service: crate, tests, template resources, fat Lambda, docs, e2e test, openapi.json."""
    from devkit import paths
    from devkit.scaffold import service

    result = service.generate(paths.ROOT, name, table=not no_table, openapi=not no_openapi)
    print(result.summary())
    print(f"next: cargo test -p {name}; ./inv test (the suites pick the service up from its Cargo.toml)")


@task(help={"name": "the fork's project name: lowercase letters, digits and '-', e.g. acme-services"})
@exits()
def init(c: Context, name: str) -> None:
    """Rename the project for a fork (stack and resource prefixes, JWT audience, samconfig, README); idempotent."""
    from devkit import paths
    from devkit.scaffold import fork

    print(fork.summary(fork.rename(paths.ROOT, name)))
