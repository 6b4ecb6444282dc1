"""Lambda Managed Instances mode: many in-flight invocations per environment, pre-started environments,
SIGTERM with a grace period on scale-in and shutdown."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from devkit.localcloud import process_alive
from devkit.localcloud.awslambda.pool import FunctionPool
from tests.localcloud.support import CapturedLogs, function_spec, make_pool, run, wait_until, with_pool


def _pid(result) -> int:  # noqa: ANN001
    return json.loads(json.loads(result.outcome.body)["body"])["pid"]


def test_64_in_flight_invocations_in_one_process(probe_bootstrap: Path, tmp_path: Path) -> None:
    fn = function_spec(max_concurrency_per_env=64, min_environments=1, timeout_s=20.0)

    async def body(pool: FunctionPool, _logs: CapturedLogs) -> None:
        assert len(pool.envs) == 1 and pool.envs[0].state == "ready", "pre-started before any traffic"
        env = pool.envs[0]
        env_vars = await pool.invoke(b'{"action":"env"}')
        assert json.loads(json.loads(env_vars.outcome.body)["body"])["max_concurrency"] == "64"
        started = time.monotonic()
        tasks = [asyncio.create_task(pool.invoke(b'{"action":"sleep","ms":1500}')) for _ in range(64)]
        # The in-flight table holds all 64 at once: each of the runtime's 64 /next polls took a different one.
        await wait_until(lambda: len(env.api.in_flight) == 64, 10, "64 invocations in flight in one environment")
        results = await asyncio.gather(*tasks)
        elapsed = time.monotonic() - started
        assert all(r.ok for r in results), [r.outcome for r in results if not r.ok][:3]
        assert len({r.request_id for r in results}) == 64
        assert elapsed < 1.5 * 3, f"64 x 1.5 s sleeps took {elapsed:.1f}s: they did not overlap"
        assert len(pool.envs) == 1 and pool.cold_starts == 1, "no second environment was needed"
        after = await pool.invoke(b'{"action":"env"}')
        assert _pid(after) == _pid(env_vars) == env.pid

    with_pool(probe_bootstrap, fn, tmp_path, body)


def test_lmi_scales_out_when_an_environment_is_full_and_prestarts_minimum(
    probe_bootstrap: Path, tmp_path: Path
) -> None:
    fn = function_spec(max_concurrency_per_env=2, min_environments=2, reserved_concurrency=6, timeout_s=20.0)

    async def body(pool: FunctionPool, _logs: CapturedLogs) -> None:
        assert len(pool.envs) == 2 and all(e.state == "ready" for e in pool.envs)
        tasks = [asyncio.create_task(pool.invoke(b'{"action":"sleep","ms":800}')) for _ in range(6)]
        await wait_until(lambda: sum(e.active for e in pool.envs) == 6, 10, "six reserved slots")
        assert len(pool.envs) == 3, "a third environment for the last two"
        throttled = await pool.invoke(b"{}")
        assert throttled.status == "throttled", "6 = reserved concurrency"
        assert all(r.ok for r in await asyncio.gather(*tasks))

    with_pool(probe_bootstrap, fn, tmp_path, body)


@pytest.mark.parametrize(
    ("sigterm_delay_ms", "grace_s", "exits_itself", "within_s", "why"),
    [
        ("300", 3.0, True, (0.25, 2.5), "the runtime's own 300 ms shutdown, within the grace period"),
        ("30000", 0.5, False, (0.45, 3.0), "SIGKILL once the 0.5 s grace period ran out"),
    ],
    ids=["sigterm-then-the-runtime-exits-within-the-grace-period", "sigkill-after-the-grace-period"],
)
def test_shutdown_sends_sigterm_then_sigkill_after_the_grace_period(
    probe_bootstrap: Path,
    tmp_path: Path,
    sigterm_delay_ms: str,
    grace_s: float,
    exits_itself: bool,
    within_s: tuple[float, float],
    why: str,
) -> None:
    environment = {"PROBE_SIGTERM_DELAY_MS": sigterm_delay_ms}
    fn = function_spec(max_concurrency_per_env=4, min_environments=1, environment=environment)

    async def body() -> None:
        pool, logs = make_pool(probe_bootstrap, fn, tmp_path, shutdown_grace_s=grace_s)
        await pool.start()
        pid = pool.envs[0].pid
        assert pid is not None
        started = time.monotonic()
        await pool.stop()
        elapsed = time.monotonic() - started
        assert not process_alive(pid)
        texts = logs.texts("probe:")
        assert "probe: SIGTERM" in texts, texts
        assert ("probe: exiting after SIGTERM" in texts) is exits_itself, texts
        assert within_s[0] < elapsed < within_s[1], f"{why} ({elapsed:.2f}s)"

    run(body())


def test_lmi_scale_in_keeps_min_environments_and_uses_sigterm(probe_bootstrap: Path, tmp_path: Path) -> None:
    fn = function_spec(max_concurrency_per_env=1, min_environments=1, environment={"PROBE_SIGTERM_DELAY_MS": "0"})

    async def body() -> None:
        pool, logs = make_pool(
            probe_bootstrap, fn, tmp_path, idle_timeout_s=0.3, reap_interval_s=0.05, shutdown_grace_s=2.0
        )
        await pool.start()
        try:
            tasks = [asyncio.create_task(pool.invoke(b'{"action":"sleep","ms":300}')) for _ in range(3)]
            await asyncio.gather(*tasks)
            assert pool.cold_starts == 3
            await wait_until(lambda: len(pool.envs) == 1, 10, "scale-in down to min_environments")
            await wait_until(lambda: logs.texts("probe: exiting after SIGTERM").__len__() >= 2, 5, "SIGTERM exits")
            assert (await pool.invoke(b"{}")).ok
        finally:
            await pool.stop()

    run(body())


def test_lmi_swap_prestarts_the_new_build(probe_bootstrap: Path, tmp_path: Path) -> None:
    fn = function_spec(max_concurrency_per_env=4, min_environments=1)

    async def body(pool: FunctionPool, logs: CapturedLogs) -> None:
        old_pid = pool.envs[0].pid
        assert old_pid is not None
        await pool.swap_bootstrap(probe_bootstrap)
        assert [e.state for e in pool.envs] == ["ready"] and pool.envs[0].pid != old_pid
        assert not process_alive(old_pid)
        assert "probe: SIGTERM" in logs.texts("probe:"), "scale-in of the old build is graceful"
        assert pool.status()["warm"] == 1 and pool.status()["draining"] == 0

    with_pool(probe_bootstrap, fn, tmp_path, body, shutdown_grace_s=2.0)
