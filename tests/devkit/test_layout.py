"""The Python side's layout rules, each a test that fails when it is broken (see ARCHITECTURE.md)."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import ROOT

TASKS = {
    "bench", "bench-fat", "bench-lmi", "build", "clean-test-data", "compare", "contract", "deploy", "destroy",
    "down", "fault", "grant-admin", "init", "invoke", "keys", "lint", "load", "lock", "logs", "metrics",
    "new-service", "openapi", "outputs", "rollback", "setup", "soak", "status", "test", "up",
}  # fmt: skip


def test_tasks_py_is_wiring_and_every_task_keeps_its_name() -> None:
    assert len((ROOT / "tasks.py").read_text().splitlines()) <= 200
    probe = "import sys, tasks; print(sorted(tasks.ns.task_names)); print('devkit.localcloud' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    names, localcloud_imported = out.stdout.splitlines()
    assert set(ast.literal_eval(names)) == TASKS
    # A task compiles the local cloud (`@compiled`) before anything imports it: loading the tasks must not.
    assert localcloud_imported == "False"


def test_devkit_has_at_most_eight_top_level_modules() -> None:
    modules = sorted(p.name for p in (ROOT / "devkit").glob("*.py"))
    assert len(modules) <= 8, modules


def test_no_test_imports_a_private_name_from_a_conftest() -> None:
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] == "conftest":
                found += [f"{path.relative_to(ROOT)}: {a.name}" for a in node.names if a.name.startswith("_")]
    assert not found, found
