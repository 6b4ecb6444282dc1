"""Environment lifecycle with the real probe bootstrap: cold/warm, REPORT lines, timeouts, crashes, throttling,
reaping, memory, init failures and log streaming."""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path

from devkit.localcloud import process_alive
from devkit.localcloud.awslambda.logs import read_records
from devkit.localcloud.awslambda.pool import FunctionPool
from tests.localcloud.support import CapturedLogs, function_spec, make_pool, run, wait_until, with_pool

REPORT = re.compile(
    r"^REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: (?P<duration>\d+\.\d{2}) ms\t"
    r"Billed Duration: (?P<billed>\d+) ms\t"
    r"Memory Size: 128 MB\tMax Memory Used: (?P<used>\d+) MB\t(?:Init Duration: (?P<init>\d+\.\d{2}) ms\t)?"
)


def test_cold_start_then_warm_reuse_with_report_lines(probe_bootstrap: Path, tmp_path: Path) -> None:
    async def body(pool: FunctionPool, logs: CapturedLogs) -> None:
        first = await pool.invoke(b'{"action":"env"}')
        second = await pool.invoke(b'{"action":"env"}')
        assert first.ok and second.ok
        assert first.cold and first.init_duration_ms is not None and first.init_duration_ms > 0
        assert not second.cold
        pid1 = json.loads(json.loads(first.outcome.body)["body"])["pid"]
        pid2 = json.loads(json.loads(second.outcome.body)["body"])["pid"]
        assert pid1 == pid2, "a warm environment is reused"
        assert pool.cold_starts == 1

        lines = logs.for_request(first.request_id)
        assert lines[0] == f"START RequestId: {first.request_id} Version: $LATEST"
        assert lines[-2] == f"END RequestId: {first.request_id}"
        report = REPORT.match(lines[-1])
        assert report and report["init"] is not None, lines[-1]
        assert int(report["billed"]) >= float(report["duration"]) + float(report["init"]), "init is billed"
        assert int(report["used"]) >= 1
        warm_report = REPORT.match(logs.for_request(second.request_id)[-1])
        assert warm_report and warm_report["init"] is None, "Init Duration only on cold starts"

    with_pool(probe_bootstrap, function_spec(), tmp_path, body)


def test_timeout_kills_the_environment_and_the_next_invocation_is_cold(probe_bootstrap: Path, tmp_path: Path) -> None:
    async def body(pool: FunctionPool, logs: CapturedLogs) -> None:
        warm = await pool.invoke(b'{"action":"env"}')
        pid = json.loads(json.loads(warm.outcome.body)["body"])["pid"]
        result = await pool.invoke(b'{"action":"sleep","ms":5000}')
        assert result.status == "timeout"
        error = json.loads(result.outcome.body)
        assert error["errorType"] == "Sandbox.Timedout"
        assert error["errorMessage"].endswith("Task timed out after 1.00 seconds")
        assert 1000 <= result.duration_ms < 2000
        lines = logs.for_request(result.request_id)
        assert any(line.endswith(f"{result.request_id} Task timed out after 1.00 seconds") for line in lines)
        assert lines[-1].endswith(" MB\tStatus: timeout")
        await wait_until(lambda: not process_alive(pid), 5, "the timed-out process to be killed")
        again = await pool.invoke(b'{"action":"env"}')
        assert again.ok and again.cold

    with_pool(probe_bootstrap, function_spec(timeout_s=1.0), tmp_path, body)


def test_crash_fails_that_invocation_then_a_fresh_environment_serves(probe_bootstrap: Path, tmp_path: Path) -> None:
    async def body(pool: FunctionPool, logs: CapturedLogs) -> None:
        await pool.invoke(b'{"action":"echo"}')
        crash = await pool.invoke(b'{"action":"crash"}')
        assert crash.status == "crash"
        assert json.loads(crash.outcome.body) == {
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {crash.request_id} Error: Runtime exited with error: exit status 3",
        }
        assert logs.for_request(crash.request_id)[-1].endswith(" MB\tStatus: error\tError Type: Runtime.ExitError")
        recovered = await pool.invoke(b'{"action":"echo"}')
        assert recovered.ok and recovered.cold
        assert pool.cold_starts == 2

    with_pool(probe_bootstrap, function_spec(), tmp_path, body)


def test_function_error_is_passed_on(probe_bootstrap: Path, tmp_path: Path) -> None:
    async def body(pool: FunctionPool, _logs: CapturedLogs) -> None:
        result = await pool.invoke(b'{"action":"error"}')
        assert result.status == "error"
        assert json.loads(result.outcome.body)["errorMessage"] == "probe error on purpose"
        assert (await pool.invoke(b'{"action":"echo"}')).cold is False, "a handled error keeps the environment"

    with_pool(probe_bootstrap, function_spec(), tmp_path, body)


def test_response_over_6mb_fails_with_response_size_too_large(probe_bootstrap: Path, tmp_path: Path) -> None:
    async def body(pool: FunctionPool, _logs: CapturedLogs) -> None:
        result = await pool.invoke(b'{"action":"big","bytes":7000000}')
        assert result.status == "error"
        assert result.outcome.error_type == "Function.ResponseSizeTooLarge"
        small = await pool.invoke(b'{"action":"big","bytes":6000000}')
        assert small.ok

    with_pool(probe_bootstrap, function_spec(), tmp_path, body)


def test_concurrency_scales_out_then_throttles_at_reserved_concurrency(probe_bootstrap: Path, tmp_path: Path) -> None:
    async def body(pool: FunctionPool, _logs: CapturedLogs) -> None:
        slow = [asyncio.create_task(pool.invoke(b'{"action":"sleep","ms":1500}')) for _ in range(2)]
        await wait_until(lambda: sum(e.active for e in pool.envs) == 2, 5, "two busy environments")
        throttled = await pool.invoke(b'{"action":"echo"}')
        assert throttled.status == "throttled"
        assert json.loads(throttled.outcome.body)["errorType"] == "TooManyRequestsException"
        results = await asyncio.gather(*slow)
        assert all(r.ok for r in results)
        pids = {json.loads(json.loads(r.outcome.body)["body"]).get("slept_ms") for r in results}
        assert pids == {1500}
        assert pool.cold_starts == 2 and pool.throttles == 1
        assert (await pool.invoke(b'{"action":"echo"}')).ok, "capacity is back once they finish"

    with_pool(probe_bootstrap, function_spec(reserved_concurrency=2), tmp_path, body)


def test_reserved_concurrency_zero_always_throttles(probe_bootstrap: Path, tmp_path: Path) -> None:
    async def body(pool: FunctionPool, _logs: CapturedLogs) -> None:
        assert (await pool.invoke(b"{}")).status == "throttled"
        assert pool.envs == []

    with_pool(probe_bootstrap, function_spec(reserved_concurrency=0), tmp_path, body)


def test_idle_environments_are_reaped(probe_bootstrap: Path, tmp_path: Path) -> None:
    async def body(pool: FunctionPool, _logs: CapturedLogs) -> None:
        result = await pool.invoke(b'{"action":"env"}')
        pid = json.loads(json.loads(result.outcome.body)["body"])["pid"]
        assert process_alive(pid)
        await wait_until(lambda: not pool.envs, 5, "the idle environment to be reaped")
        await wait_until(lambda: not process_alive(pid), 5, "the reaped process to exit")
        assert (await pool.invoke(b"{}")).cold

    with_pool(probe_bootstrap, function_spec(), tmp_path, body, idle_timeout_s=0.3, reap_interval_s=0.05)


def test_max_memory_used_is_measured(probe_bootstrap: Path, tmp_path: Path) -> None:
    async def body(pool: FunctionPool, _logs: CapturedLogs) -> None:
        small = await pool.invoke(b'{"action":"echo"}')
        big = await pool.invoke(b'{"action":"alloc","bytes":67108864}')
        assert big.ok
        assert small.max_memory_mb is not None and big.max_memory_mb is not None
        assert big.max_memory_mb >= small.max_memory_mb + 60, (small.max_memory_mb, big.max_memory_mb)

    with_pool(probe_bootstrap, function_spec(), tmp_path, body)


def test_init_failure_is_an_error_for_the_invocation(probe_bootstrap: Path, tmp_path: Path) -> None:
    async def body() -> None:
        fn = function_spec(environment={"PROBE_INIT_FAIL": "1"})
        pool, _ = make_pool(probe_bootstrap, fn, tmp_path)
        await pool.start()
        try:
            result = await pool.invoke(b"{}")
            assert result.status == "init_error"
            assert json.loads(result.outcome.body)["errorType"] == "Runtime.ExitError"
            assert "exit status 1" in json.loads(result.outcome.body)["errorMessage"]
            assert pool.envs == []
        finally:
            await pool.stop()

    run(body())


def test_output_is_streamed_with_request_ids_to_a_parseable_file(probe_bootstrap: Path, tmp_path: Path) -> None:
    async def body() -> str:
        pool, logs = make_pool(probe_bootstrap, function_spec(), tmp_path)
        await pool.start()
        try:
            result = await pool.invoke(b'{"action":"log"}')
            await wait_until(
                lambda: f"probe stderr {result.request_id}" in logs.texts("probe stderr"), 5, "the stderr line"
            )
            await wait_until(
                lambda: ("Probe", result.request_id, f"probe stdout {result.request_id}") in logs.lines,
                5,
                "the stdout line, attributed to its request",
            )
            await pool.invoke(b'{"action":"echo"}')
            return result.request_id
        finally:
            await pool.stop()
            pool.sink.close()

    request_id = run(body())
    records = list(read_records(tmp_path / "logs", function="Probe", request_id=request_id))
    texts = [r.text for r in records]
    assert texts[0].startswith(f"START RequestId: {request_id}")
    # Pipes are read concurrently with the Runtime API, so output may land after END: order is not asserted.
    assert f"probe stdout {request_id}" in texts and f"probe stderr {request_id}" in texts
    assert any(t.startswith(f"REPORT RequestId: {request_id}") for t in texts)
    assert {r.request_id for r in records} == {request_id}
    assert all(r.function == "Probe" for r in records)


def test_swap_bootstrap_drains_old_environments(probe_bootstrap: Path, tmp_path: Path) -> None:
    import os
    import shutil

    builds = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        builds.append(Path(shutil.copy2(probe_bootstrap, tmp_path / name / "bootstrap")))

    def exe(result) -> str:  # noqa: ANN001
        pid = json.loads(json.loads(result.outcome.body)["body"])["pid"]
        return os.readlink(f"/proc/{pid}/exe")

    async def body(pool: FunctionPool, _logs: CapturedLogs) -> None:
        first = await pool.invoke(b'{"action":"env"}')
        old_pid = json.loads(json.loads(first.outcome.body)["body"])["pid"]
        assert exe(first) == str(builds[0])
        busy = asyncio.create_task(pool.invoke(b'{"action":"sleep","ms":800}'))
        await wait_until(lambda: pool.envs[0].active == 1, 5, "the old environment to be busy")
        await pool.swap_bootstrap(builds[1])
        fresh = await pool.invoke(b'{"action":"env"}')
        assert fresh.cold and exe(fresh) == str(builds[1])
        assert (await busy).ok, "the old build finishes what it was running"
        await wait_until(lambda: not process_alive(old_pid), 5, "the old environment to stop")
        await wait_until(lambda: [e.draining for e in pool.envs] == [False], 5, "only the new environment")

    with_pool(builds[0], function_spec(), tmp_path, body, shutdown_grace_s=1.0)


def _script(tmp_path: Path, name: str, text: str) -> Path:
    import sys

    path = tmp_path / name / "bootstrap"
    path.parent.mkdir()
    path.write_text(f"#!{sys.executable}\n{text}")
    path.chmod(0o755)
    return path


def test_init_error_posted_by_the_runtime_fails_the_invocation(tmp_path: Path) -> None:
    bootstrap = _script(
        tmp_path,
        "init-error",
        "import os, urllib.request\n"
        "req = urllib.request.Request(f\"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime/init/error\",\n"
        '    data=b\'{"errorType":"Config","errorMessage":"missing TABLE"}\', method=\'POST\',\n'
        "    headers={'Lambda-Runtime-Function-Error-Type': 'Runtime.ConfigError'})\n"
        "print(urllib.request.urlopen(req).status, flush=True)\n"
        "import time; time.sleep(30)\n",
    )

    async def body(pool: FunctionPool, logs: CapturedLogs) -> None:
        result = await pool.invoke(b"{}")
        assert result.status == "init_error"
        assert result.outcome.error_type == "Runtime.ConfigError"
        assert json.loads(result.outcome.body)["errorMessage"] == "missing TABLE"
        assert logs.for_request(result.request_id)[-1].endswith("MB\tStatus: error")
        await wait_until(lambda: pool.envs == [], 5, "the failed environment to be killed, not left sleeping")

    with_pool(bootstrap, function_spec(), tmp_path, body)


def test_init_that_never_polls_times_out_and_is_killed(tmp_path: Path) -> None:
    bootstrap = _script(tmp_path, "stuck", "import os, time\nprint(os.getpid(), flush=True)\ntime.sleep(60)\n")

    async def body(pool: FunctionPool, logs: CapturedLogs) -> None:
        result = await pool.invoke(b"{}")
        assert result.status == "init_error"
        assert result.outcome.error_type == "Runtime.Timeout"
        pid = int(next(t for t in logs.texts() if t.isdigit()))
        await wait_until(lambda: not process_alive(pid), 5, "the stuck runtime to be killed")

    with_pool(bootstrap, function_spec(), tmp_path, body, init_timeout_s=0.5)


def _policies(pid: int) -> set[int]:
    return {os.sched_getscheduler(int(tid)) for tid in os.listdir(f"/proc/{pid}/task")}


def test_bootstraps_run_under_sched_batch_unless_turned_off(probe_bootstrap: Path, tmp_path: Path) -> None:
    """Every thread of a bootstrap is SCHED_BATCH (no wakeup preemption of the local cloud's event loop)."""

    async def body(batch: bool) -> set[int]:
        pool, _ = make_pool(probe_bootstrap, function_spec(), tmp_path / str(batch), batch_scheduling=batch)
        await pool.start()
        try:
            assert (await pool.invoke(b'{"action":"env"}')).ok
            pid = pool.envs[0].pid
            assert pid is not None and len(os.listdir(f"/proc/{pid}/task")) > 1, "the probe runs tokio's workers"
            return _policies(pid)
        finally:
            await pool.stop()

    assert run(body(True)) == {os.SCHED_BATCH}
    assert run(body(False)) == {os.SCHED_OTHER}


def test_an_invocation_goes_to_the_environment_parked_in_next(probe_bootstrap: Path, tmp_path: Path) -> None:
    """An environment that has answered is free only once its runtime polls /next again; until then a parked one
    takes the next invocation, even when the other was used more recently."""

    async def body(pool: FunctionPool, _logs: CapturedLogs) -> None:
        await asyncio.gather(*(pool.invoke(b'{"action":"sleep","ms":50}') for _ in range(2)))
        assert len(pool.envs) == 2
        await wait_until(lambda: all(env.api.polling for env in pool.envs), 10.0)
        recent, other = sorted(pool.envs, key=lambda env: env.last_used, reverse=True)
        recent.api._waiters.clear()  # as if its runtime had not polled yet (the parked request stays open)
        assert not recent.api.polling and other.api.polling
        result = await pool.invoke(b'{"action":"env"}')
        assert result.ok
        assert json.loads(json.loads(result.outcome.body)["body"])["pid"] == other.pid

    with_pool(probe_bootstrap, function_spec(), tmp_path, body)


def test_report_after_caller_writes_end_and_report_once_the_caller_has_the_result(
    probe_bootstrap: Path, tmp_path: Path
) -> None:
    async def body(pool: FunctionPool, logs: CapturedLogs) -> None:
        result = await pool.invoke(b'{"action":"env"}', report_after_caller=True)
        assert result.ok and result.max_memory_mb is None
        assert not any(line.startswith("REPORT") for line in logs.for_request(result.request_id))
        reported = lambda: any(line.startswith("REPORT") for line in logs.for_request(result.request_id))  # noqa: E731
        await wait_until(reported, 5.0, "the REPORT line")
        lines = logs.for_request(result.request_id)
        assert lines[0].startswith("START") and lines[-2].startswith("END") and REPORT.match(lines[-1])

    with_pool(probe_bootstrap, function_spec(), tmp_path, body)
