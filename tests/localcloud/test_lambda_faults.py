"""Fault injection (devkit/localcloud/faults.py): the FIS-like actions on a real bootstrap, the seeded draw, the
delivery-attempt limit, and the control API that installs them."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from devkit.localcloud.awslambda.faults import ERROR_TYPE, FaultError, FaultSpec, FunctionFaults
from devkit.localcloud.cloud import LocalCloud
from tests.localcloud.support import function_spec, make_pool, run, stack_spec, wait_until


def faults(*specs: dict[str, Any], seed: int = 7) -> FunctionFaults:
    return FunctionFaults.parse({"seed": seed, "faults": list(specs)})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"faults": []}, "at least one fault"),
        ({"faults": [{"action": "explode", "percentage": 1}]}, "action must be one of"),
        ({"faults": [{"action": "error", "percentage": 101}]}, "percentage must be a number from 0 to 100"),
        ({"faults": [{"action": "error", "percentage": True}]}, "percentage must be a number"),
        ({"faults": [{"action": "delay", "percentage": 5}]}, "delay_ms > 0"),
        ({"faults": [{"action": "error", "percentage": 5, "colour": "red"}]}, "unknown fault field"),
        ({"faults": [{"action": "error", "percentage": 5, "max_attempt": 0}]}, "max_attempt must be"),
        ({"faults": [{"action": "error", "percentage": 60}, {"action": "crash", "percentage": 50}]}, "more than 100"),
        ({"seed": "x", "faults": [{"action": "error", "percentage": 5}]}, "seed must be an integer"),
    ],
)
def test_a_bad_fault_spec_is_refused_with_the_reason(body: dict[str, Any], message: str) -> None:
    with pytest.raises(FaultError, match=message):
        FunctionFaults.parse(body)


def test_the_draw_is_seeded_split_by_percentage_and_limited_by_attempt() -> None:
    spec = [{"action": "error", "percentage": 20}, {"action": "crash", "percentage": 10, "max_attempt": 1}]
    first, second = faults(*spec), faults(*spec)
    draws = [first.draw() for _ in range(2000)]
    assert draws == [second.draw() for _ in range(2000)], "the same seed injects the same sequence"
    errors, crashes = draws.count(first.specs[0]), draws.count(first.specs[1])
    assert 330 <= errors <= 470 and 140 <= crashes <= 260, (errors, crashes)
    assert first.injected == {"error": errors, "delay": 0, "crash": crashes}
    late = faults(*spec)
    later_draws = [late.draw(attempt=2) for _ in range(2000)]
    assert all(d is None or d.action == "error" for d in later_draws), "crash only on the first attempt"
    assert late.injected["crash"] == 0 and late.considered == 2000


def _fault_pool(probe_bootstrap: Path, tmp_path: Path, *specs: dict[str, Any], timeout_s: float = 5.0) -> Any:
    pool, logs = make_pool(probe_bootstrap, function_spec(timeout_s=timeout_s), tmp_path)
    pool.faults = faults(*specs)
    return pool, logs


def _body(result: Any) -> dict[str, Any]:
    return json.loads(result.outcome.body)


def test_error_fault_before_and_after_execution(probe_bootstrap: Path, tmp_path: Path) -> None:
    async def body() -> None:
        pool, logs = _fault_pool(probe_bootstrap, tmp_path, {"action": "error", "percentage": 100,
                                                             "prevent_execution": True})  # fmt: skip
        await pool.start()
        try:
            prevented = await pool.invoke(b'{"action":"log"}')
            assert not prevented.ok and _body(prevented)["errorType"] == ERROR_TYPE
            assert prevented.status == "error"
            assert any(t.startswith("REPORT") for t in logs.for_request(prevented.request_id))

            pool.faults = faults({"action": "error", "percentage": 100})
            after = await pool.invoke(b'{"action":"log"}')
            assert not after.ok and _body(after)["errorType"] == ERROR_TYPE
            printed = lambda rid: [t for t in logs.texts() if f"probe stdout {rid}" in t]  # noqa: E731
            await wait_until(lambda: printed(after.request_id), 10, "the function to run despite the fault")
            # stdout is one ordered stream: had the prevented invocation run, its line would be there already
            assert not printed(prevented.request_id), "prevent_execution: the function never saw the event"
            assert pool.faults.injected["error"] == 1 and pool.status()["errors"] == 2

            pool.faults = None
            assert (await pool.invoke(b'{"action":"echo"}')).ok, "no faults once cleared"
        finally:
            await pool.stop()

    run(body())


def test_crash_fault_kills_the_environment_mid_invocation(probe_bootstrap: Path, tmp_path: Path) -> None:
    async def body() -> None:
        pool, _ = _fault_pool(probe_bootstrap, tmp_path, {"action": "crash", "percentage": 100, "within_ms": 50})
        await pool.start()
        try:
            before = await pool.invoke(b'{"action":"sleep","ms":5000}')  # the crash comes first
            assert before.status == "crash" and _body(before)["errorType"] == "Runtime.ExitError"
            assert _body(before)["errorMessage"].endswith("Runtime exited with error: signal: killed")
            quick = await pool.invoke(b'{"action":"env"}')  # answers before the crash: killed at the answer
            assert quick.status == "crash"
            pool.faults = None
            fresh = await pool.invoke(b'{"action":"env"}')
            assert fresh.ok and pool.cold_starts == 3, "every crash costs a fresh environment"
        finally:
            await pool.stop()

    run(body())


def test_delay_fault_adds_latency_within_the_timeout(probe_bootstrap: Path, tmp_path: Path) -> None:
    async def body() -> None:
        pool, _ = _fault_pool(probe_bootstrap, tmp_path, {"action": "delay", "percentage": 100, "delay_ms": 300},
                              timeout_s=1.0)  # fmt: skip
        await pool.start()
        try:
            await pool.invoke(b'{"action":"echo"}')  # cold start out of the way
            started = time.monotonic()
            delayed = await pool.invoke(b'{"action":"echo"}')
            assert delayed.ok and time.monotonic() - started >= 0.3
            pool.faults = faults({"action": "delay", "percentage": 100, "delay_ms": 1500})
            late = await pool.invoke(b'{"action":"echo"}')
            assert late.status == "timeout", "a delay past the Timeout times the invocation out"
        finally:
            await pool.stop()

    run(body())


def test_control_api_installs_lists_and_clears_faults(probe_bootstrap: Path, tmp_path: Path) -> None:
    stack = stack_spec()

    async def body() -> None:
        async with LocalCloud(stack, {"Probe": probe_bootstrap}, state_dir=tmp_path, console=None) as cloud:
            assert cloud.control is not None
            url = f"{cloud.control.url}/_localcloud/faults"
            spec = {"seed": 3, "faults": [{"action": "error", "percentage": 100, "max_attempt": 1}]}
            loop = asyncio.get_running_loop()

            def call(method: str, path: str = "", body: Any = None) -> requests.Response:
                return requests.request(method, url + path, json=body, timeout=10)

            async def in_thread(method: str, path: str = "", body: Any = None) -> requests.Response:
                return await loop.run_in_executor(None, call, method, path, body)

            assert (await in_thread("PUT", "/localtest-Probe", spec)).status_code == 200  # physical name works
            failed = await cloud.invoke("Probe", {"action": "echo"})
            assert _body(failed)["errorType"] == ERROR_TYPE
            listing = (await in_thread("GET")).json()
            assert listing["Probe"]["injected"]["error"] == 1 and listing["Probe"]["seed"] == 3
            assert (await cloud.status())["functions"]["Probe"]["faults"]["injected"]["error"] == 1
            bad = await in_thread("PUT", "/Probe", {"faults": [{"action": "error", "percentage": 500}]})
            assert bad.status_code == 400 and "percentage" in bad.json()["message"]
            assert (await in_thread("PUT", "/Nope", spec)).status_code == 404
            assert (await in_thread("DELETE", "/Probe")).status_code == 204
            assert (await in_thread("GET")).json() == {}
            assert (await cloud.invoke("Probe", {"action": "echo"})).ok

    run(body())


def test_fault_spec_round_trips_as_the_control_api_shows_it() -> None:
    spec = FaultSpec.parse({"action": "crash", "percentage": 2.5, "within_ms": 40, "max_attempt": 1})
    assert FaultSpec.parse(spec.as_dict()) == spec
