"""`./inv compare`'s measuring loop on the e2e local cloud: a small convert profile over its three topologies."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from devkit import paths, targets
from devkit.compare import cost, iam, report
from devkit.compare.profiles import CONVERT
from devkit.compare.run import CompareOptions, _run_profile
from devkit.localcloud import expand, load_stack
from tests.support import Stack


@pytest.mark.local_only
def test_a_profile_run_measures_every_topology_and_renders_the_report(stack: Stack, tmp_path: Path) -> None:
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
    for name, topology in result["topologies"].items():
        quantiles = topology["latency_quantiles_ms"]
        assert len(quantiles) == 101 and quantiles == sorted(quantiles), name
        assert topology["timeline"][-1] == (300, len(topology["timeline"]) - 2), name
        assert topology["uses"] and all(u["warm_billed_ms"] >= 1 for u in topology["uses"]), name
    standard = result["topologies"]["standard"]
    if standard["cold_starts"]:
        assert standard["uses"][0]["init_ms"] > 0, "the init phase is measured, so it can be priced"

    md, page = report.write([result], "./inv compare --traffic convert --quick", root=tmp_path)
    assert page.read_text().count("<svg class='chart'") == 6 and "## convert: decision" in md.read_text()
