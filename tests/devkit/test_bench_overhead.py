"""One small real run of the local cloud vs cargo lambda watch bench on the probe (tiny counts).

Asserts the structure and that the figures are real (positive, no errors), never timing thresholds: targets
belong to the report, not to tests on a shared machine.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.bench import overhead
from devkit.localcloud import run
from tests.support import build_probe


@pytest.fixture(scope="module")
def probe() -> Path:
    return build_probe()


def test_probe_through_our_gateway_and_cargo_lambda_watch(probe: Path, tmp_path: Path) -> None:
    staged = tmp_path / "probe" / "bootstrap"
    staged.parent.mkdir()
    staged.write_bytes(probe.read_bytes())
    staged.chmod(0o755)
    settings = overhead.Settings(requests=25, repeats=1, levels=(1, 2), warmup=5, cold_rounds=1)

    result = run(overhead.overhead_async(settings, resolve=lambda _: staged, cases=["http-probe", "invoke-probe"]))

    assert set(result["cases"]) == {"http-probe", "invoke-probe"}
    http = result["cases"]["http-probe"]
    assert http["ours"]["path"] == "GET /echo"
    assert http["cargo"]["path"] == "POST /2015-03-31/functions/_/invocations"
    assert result["cases"]["invoke-probe"]["ours"]["path"] == "POST /2015-03-31/functions/Probe/invocations"
    for case in result["cases"].values():
        assert case["ours"]["cold"]["init_ms"] > 0
        for side in ("ours", "cargo"):
            assert case[side]["cold"]["first_request_ms"] > 0
            assert set(case[side]["warm"]) == {"1", "2"}
            for level, figures in case[side]["warm"].items():
                assert figures["requests"] == 25
                assert figures["errors"] == 0
                assert 0 < figures["p50_ms"] <= figures["p99_ms"]
                assert figures["rps"] > 0
                assert figures["environments"] == int(level)  # one environment / bootstrap per concurrent request
                assert figures["runner_cpu_us_per_request"] >= 0  # cargo's is in 10 ms clock ticks: may be 0 here
            assert case["ours"]["warm"]["1"]["runner_cpu_us_per_request"] > 0  # this process served every request
    checks = {c["what"] for c in result["targets"]}
    assert {"http-probe p50 (c=1)", "http-probe p99 (c=1)", "invoke-probe rps (c=2)"} <= checks
    assert all(isinstance(c["ok"], bool) and c["value"] > 0 for c in result["targets"])


def test_unknown_case_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown case"):
        overhead.binaries(["nope"])
    assert overhead.binaries(["http-probe"]) == ["probe"]
    assert overhead.binaries() == ["currency-read-lambda", "probe"]
