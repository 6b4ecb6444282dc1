"""Python functions the bench runs beside the Rust ones, through the same local cloud and runner."""

from __future__ import annotations

import sys
from pathlib import Path

from devkit import paths
from devkit.localcloud import FunctionSpec

PYTHON_DIR = paths.ROOT / "tests" / "fixtures" / "python-baseline"
PYTHON = "PythonBaseline"


def python_function(
    logical_id: str = PYTHON,
    code_dir: Path = PYTHON_DIR,
    handler: str = "handler.health",
    memory_mb: int = 128,
    environment: dict[str, str] | None = None,
) -> FunctionSpec:
    """A Python function (python3.11, x86_64) run by the same local cloud: `handler` in `code_dir`."""
    return FunctionSpec(
        logical_id=logical_id,
        physical_name=f"bench-{logical_id}",
        code_uri=code_dir,
        binary=None,
        handler=handler,
        runtime="python3.11",
        architecture="x86_64",
        memory_mb=memory_mb,
        timeout_s=30.0,
        # PYTHONPATH names the handler's directory, as AWS's python runtimes put /var/task on it: the local cloud
        # runs a private copy of the bootstrap file alone, so the handler is not beside it.
        environment={"LAMBDA_PYTHON": sys.executable, "PYTHONPATH": str(code_dir), **(environment or {})},
    )
