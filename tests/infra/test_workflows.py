"""The fork workflows are valid GitHub Actions (actionlint, pinned, from the Go module proxy) and deploy via OIDC."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from devkit import paths
from devkit.quality.actionlint import actionlint, actionlint_executable

WORKFLOWS = paths.ROOT / ".github" / "workflows"


def test_the_workflows_pass_actionlint() -> None:
    assert actionlint() == "3 workflows clean"


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


def _pr_stage() -> dict:
    workflow = yaml.safe_load((WORKFLOWS / "pr-stage.yml").read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as True
    return workflow


def test_a_pull_request_gets_its_own_stage_and_loses_it_on_close() -> None:
    pr = _pr_stage()
    assert pr["on"]["pull_request"]["types"] == ["opened", "synchronize", "reopened", "closed"]
    assert pr["env"]["STAGE"] == "pr-${{ github.event.pull_request.number }}"
    assert pr["permissions"] == {"contents": "read", "id-token": "write"}
    deploy, destroy = pr["jobs"]["deploy"], pr["jobs"]["destroy"]
    assert "github.event.action != 'closed'" in deploy["if"] and "github.event.action == 'closed'" in destroy["if"]
    for job in (deploy, destroy):  # never for forks: no OIDC token, no credentials
        assert "head.repo.full_name == github.repository" in job["if"]
        assert job["environment"] == "preview"
        creds = [s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials")]
        assert creds and "role-to-assume" in creds[0]["with"]
    runs = [s.get("run", "") for s in deploy["steps"]]
    order = [
        next(i for i, r in enumerate(runs) if r.startswith(prefix))
        for prefix in (
            './inv deploy --stage "$STAGE"',
            "{",
            './inv contract --stage "$STAGE"',
            './inv load --stage "$STAGE"',
        )
    ]
    assert order == sorted(order)  # deploy, print the URLs, contract, then load
    assert "--yes" in runs[order[0]] and "./inv outputs --stage" in runs[order[1]]
    assert "GITHUB_STEP_SUMMARY" in runs[order[1]]
    assert "--duration 30s" in runs[order[3]]
    assert [s.get("run") for s in destroy["steps"] if "run" in s] == ['./inv destroy --stage "$STAGE" --yes']


def test_runs_of_one_pull_request_queue_instead_of_racing() -> None:
    pr = _pr_stage()
    assert pr["concurrency"] == {
        "group": "pr-stage-${{ github.event.pull_request.number }}",
        "cancel-in-progress": False,
    }
    deploy = yaml.safe_load((WORKFLOWS / "deploy.yml").read_text())
    assert deploy["concurrency"]["cancel-in-progress"] is False  # staging/prod deploys queue too
