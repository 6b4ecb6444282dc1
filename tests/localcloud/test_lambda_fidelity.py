"""Our runtime API gives the probe the same results as AWS's aws-lambda-rie.

The RIE side is recorded (fixtures/rie/probe.json, by `python -m devkit.localcloud.awslambda.fidelity record
<the probe's bootstrap> tests/localcloud/fixtures/rie/probe.json` with AWS_LAMBDA_RIE set) because RIE can't be
installed here from the Go module proxy; the same cases are replayed here, in the same order and grouping, through our
FunctionPool. Where RIE itself departs from AWS, the case
says so and the test checks AWS's behaviour instead.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from devkit.localcloud.awslambda.fidelity import PROBE_CASES, Case, normalise
from devkit.localcloud.model import InvokeResult
from tests.localcloud.support import function_spec, make_pool

RECORDING = Path(__file__).parent / "fixtures" / "rie" / "probe.json"


def replay(bootstrap: Path, tmp: Path) -> dict[str, InvokeResult]:
    async def main() -> dict[str, InvokeResult]:
        results: dict[str, InvokeResult] = {}
        groups: dict[tuple[float, tuple[tuple[str, str], ...]], list[Case]] = {}
        for case in PROBE_CASES:
            groups.setdefault((case.timeout_s, case.env), []).append(case)
        for i, ((timeout_s, env), cases) in enumerate(groups.items()):
            fn = function_spec(timeout_s=timeout_s, environment=dict(env))
            pool, _ = make_pool(bootstrap, fn, tmp / f"pool{i}")
            try:
                for case in cases:
                    results[case.name] = await pool.invoke(case.payload)
            finally:
                await pool.stop()
        return results

    return asyncio.run(main())


def test_probe_results_match_aws_lambda_rie(probe_bootstrap: Path, tmp_path: Path) -> None:
    recorded: dict[str, Any] = json.loads(RECORDING.read_text())["results"]
    assert set(recorded) == {case.name for case in PROBE_CASES}, "re-record: PROBE_CASES changed"
    ours = replay(probe_bootstrap, tmp_path)
    mismatches = []
    for case in PROBE_CASES:
        rie, result = recorded[case.name], ours[case.name]
        body = normalise(result.outcome.body)
        if case.compare == "exact":
            expected_status = "error" if isinstance(rie["body"], dict) and "errorType" in rie["body"] else "success"
            if body != rie["body"] or result.status != expected_status:
                mismatches.append((case.name, rie, result.status, body))
        elif case.compare == "error_type":
            if result.status != "crash" or rie["status"] != 502 or body.get("errorType") != rie["body"]["errorType"]:
                mismatches.append((case.name, rie, result.status, body))
        elif case.name == "timeout":
            assert rie["body"] == "Task timed out after 1.00 seconds"
            assert result.status == "timeout", result
            assert body["errorMessage"].endswith(rie["body"]), body
        elif case.name == "init-failure":
            assert (rie["status"], rie["body"]) == (502, "")
            assert result.status == "init_error", result
            assert body["errorType"] == "Runtime.ExitError", body
        else:
            raise AssertionError(f"case {case.name} has no comparison")
    assert not mismatches, "\n".join(f"{n}: RIE {r} / ours {s} {b}" for n, r, s, b in mismatches)
