"""The fork workflows are valid GitHub Actions (actionlint, pinned, from the Go module proxy) and deploy via OIDC."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from devkit import paths
from devkit.quality.actionlint import actionlint, actionlint_executable

WORKFLOWS = paths.ROOT / ".github" / "workflows"


def test_the_workflows_pass_actionlint() -> None:
    assert actionlint() == "2 workflows clean"


def test_actionlint_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ nope.value }}\n"
    )
    result = subprocess.run([str(actionlint_executable()), str(broken)], capture_output=True, text=True, check=False)
    assert result.returncode != 0 and "nope" in result.stdout


def test_deploy_uses_oidc_and_a_manual_prod_gate() -> None:
    deploy = yaml.safe_load((WORKFLOWS / "deploy.yml").read_text())
    assert deploy["permissions"]["id-token"] == "write"
    jobs = deploy["jobs"]
    assert jobs["prod"]["environment"] == "prod" and "staging" in jobs["prod"]["needs"]
    staging_runs = [s.get("run", "") for s in jobs["staging"]["steps"]]
    assert any(r.startswith("./inv contract --stage staging") for r in staging_runs)
    assert any(r.startswith("./inv load --stage staging") for r in staging_runs)
    for job in ("staging", "prod"):
        creds = [s for s in jobs[job]["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials")]
        assert creds and "role-to-assume" in creds[0]["with"]
        assert not any("aws-access-key-id" in s.get("with", {}) for s in jobs[job]["steps"])
