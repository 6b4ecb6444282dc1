"""The project's stack for the reliability suite: `devkit.stack.serve`, as `./inv up` runs it, with two changes.

- DynamoDB Local keeps its tables on disk (`LOCALCLOUD_DYNAMODB_DB_PATH`, set by the fixture), so a test can stop
  the backend and start it again on the same port without losing what was acknowledged;
- `--limit Function=N` gives a function a reserved concurrency (the local stage reserves none), so throttling at
  the limit can be provoked without changing the template.

    python -m tests.system.reliability.fault_stack --state-dir DIR [--backend dynamodb-local] [--limit Convert=1] \
        [--no-build]
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from devkit.localcloud import Backend, StackSpec
from devkit.localcloud import run as run_loop
from devkit.stack import StackOptions, project_seeders, serve


def reserve_concurrency(limits: dict[str, int]) -> Callable[[StackSpec, Backend], None]:
    """A step after provisioning (the cloud's pools are built after it) that sets ReservedConcurrentExecutions."""

    def apply(stack: StackSpec, backend: Backend) -> None:
        for logical_id, limit in limits.items():
            stack.functions[logical_id] = replace(stack.functions[logical_id], reserved_concurrency=limit)

    return apply


def parse_limits(values: list[str]) -> dict[str, int]:
    limits = {}
    for value in values:
        name, _, count = value.partition("=")
        limits[name] = int(count)
    return limits


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.system.reliability.fault_stack", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--backend", default="dynamodb-local", choices=["moto", "dynamodb-local"])
    parser.add_argument("--limit", action="append", default=[], help="Function=N reserved concurrency")
    parser.add_argument("--no-build", action="store_true", help="use the bootstraps already built")
    args = parser.parse_args(argv)
    options = StackOptions(
        backend=args.backend,
        port=0,
        build=not args.no_build,
        state_dir=args.state_dir.resolve(),
        quiet=True,
        seeders=[*project_seeders(), reserve_concurrency(parse_limits(args.limit))],
    )
    with contextlib.suppress(KeyboardInterrupt):
        run_loop(serve(options))


if __name__ == "__main__":
    main()
