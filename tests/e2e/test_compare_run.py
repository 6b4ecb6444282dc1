"""`./inv compare`'s measuring loop on the e2e local cloud: a small convert profile over its three topologies."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from devkit import paths, targets
from devkit.compare import cost, iam
from devkit.compare.profiles import CONVERT
from devkit.compare.run import CompareOptions, _run_profile
from devkit.localcloud import expand, load_stack
from tests.e2e.conftest import Stack


@pytest.mark.local_only
def test_a_profile_run_measures_every_topology(stack: Stack) -> None:
    assert stack.control is not None and stack.state_dir is not None
    spec = load_stack(paths.TEMPLATE, stack_name="local", region="eu-west-1",
                      parameters={"Stage": "local", "Architecture": "x86_64"})  # fmt: skip
    actions = iam.actions_per_function(
        expand(Path(paths.TEMPLATE), region="eu-west-1", parameters={"Stage": "local"})["template"]
    )
    endpoints = SimpleNamespace(urls=stack.urls, control=stack.control, target=targets.local(stack.state_dir))
    profile = replace(CONVERT, concurrency=4)
    result = _run_profile(profile, endpoints, spec, actions, cost.Prices.load(), CompareOptions(quick=True), print)
    assert set(result["topologies"]) == {"lmi", "standard", "fat"}
    for name, topology in result["topologies"].items():
        assert topology["requests"] == 300 and topology["errors"] == 0, (name, topology)
        assert topology["p50_ms"] <= topology["p95_ms"] <= topology["p99_ms"], name
        assert topology["cost"]["total"] > 0 and topology["deploy_bytes"] > 0, name
    assert result["topologies"]["lmi"]["functions"] == ["ConvertLmi"]
    assert result["topologies"]["standard"]["functions"] == ["Convert"]
    assert result["topologies"]["lmi"]["iam_max_actions"] < result["topologies"]["fat"]["iam_max_actions"]
    assert result["lmi_break_even_requests"] and result["lmi_break_even_basis_ms"] > 0
