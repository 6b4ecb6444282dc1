"""All execution environments of one function: cold start on demand, reuse while warm, concurrency up to the
function's limit then throttling, Timeout enforcement, crash recovery, idle reaping, hot swap, START/END/REPORT.

Standard functions run one invocation per environment; Lambda Managed Instances functions
(`max_concurrency_per_env`) run many, pack them into the busiest environment that still has room, pre-start
`min_environments` and get SIGTERM with a grace period before SIGKILL on scale-in and shutdown.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from devkit.localcloud.awslambda.environment import Environment, EnvironmentConfig, EnvironmentHooks, exit_error
from devkit.localcloud.awslambda.faults import ERROR_TYPE, FaultSpec, FunctionFaults
from devkit.localcloud.awslambda.logs import LogSink, iso_now
from devkit.localcloud.awslambda.runtime_api import Invocation, RuntimeOutcome, new_request_id, new_trace_id
from devkit.localcloud.model import FunctionSpec, InvokeResult, PoolSettings


class FunctionPool:
    """All execution environments of one function."""

    def __init__(
        self,
        fn: FunctionSpec,
        *,
        arn: str,
        region: str,
        bootstrap: Path,
        sink: LogSink,
        endpoint_url: str | None = None,
        settings: PoolSettings | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.fn = fn
        self.extra_env = dict(extra_env or {})
        self.arn = arn
        self.region = region
        self.bootstrap = bootstrap
        self.sink = sink
        self.endpoint_url = endpoint_url
        self.settings = settings or PoolSettings()
        self.per_env = fn.max_concurrency_per_env or 1
        limit = fn.reserved_concurrency if fn.reserved_concurrency is not None else self.settings.account_concurrency
        self.concurrency_limit = limit
        self.max_envs = math.ceil(limit / self.per_env) if limit > 0 else 0
        template_cap = getattr(fn, "max_environments", None)  # LMI: FunctionScalingConfig.MaxExecutionEnvironments
        if fn.is_managed_instances and template_cap is not None:
            self.max_envs = min(self.max_envs, template_cap)
        self.envs: list[Environment] = []
        self.invocations = 0
        self.throttles = 0
        self.errors = 0
        self.cold_starts = 0
        self.init_durations_ms: collections.deque[float] = collections.deque(maxlen=50)  # spawn → first /next
        self._next_index = 0
        self._reaper: asyncio.Task[None] | None = None
        self._closing = False
        self._bg: set[asyncio.Task[None]] = set()
        self.faults: FunctionFaults | None = None  # installed through the control API (faults.py)
        self._hooks = EnvironmentHooks(log=sink.emit, initialised=self.init_durations_ms.append, died=self.forget)

    # lifecycle ---------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Pre-starts LMI environments and the idle reaper."""
        self._reaper = asyncio.create_task(self._reap_forever())
        if self.fn.is_managed_instances and self.fn.min_environments > 0:
            envs = [await self._spawn() for _ in range(min(self.fn.min_environments, self.max_envs))]
            await asyncio.gather(*(env.wait_started() for env in envs))

    async def stop(self) -> None:
        self._closing = True
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        await asyncio.gather(*(env.terminate(self.settings.shutdown_grace_s) for env in list(self.envs)))
        await asyncio.gather(*self._bg, return_exceptions=True)

    def _new_env(self) -> Environment:
        config = EnvironmentConfig(
            self.fn,
            region=self.region,
            bootstrap=self.bootstrap,
            endpoint_url=self.endpoint_url,
            extra_env=self.extra_env,
            init_timeout_s=self.settings.init_timeout_s,
            batch_scheduling=self.settings.batch_scheduling,
        )
        env = Environment(config, self._next_index, self._hooks)
        self._next_index += 1
        self.envs.append(env)
        self.cold_starts += 1
        return env

    async def _spawn(self) -> Environment:
        env = self._new_env()
        await env.start()
        return env

    async def swap_bootstrap(self, bootstrap: Path) -> None:
        """`up --watch`: new invocations get environments running `bootstrap`; idle environments of the old code
        stop now and busy ones once their invocations finish (SIGTERM, then SIGKILL after the grace period)."""
        self.bootstrap = bootstrap
        old = [env for env in self.envs if not env.draining]
        for env in old:
            env.draining = True
        await asyncio.gather(
            *(env.terminate(self.settings.shutdown_grace_s) for env in old if env.active == 0),
        )
        if self.fn.is_managed_instances and self.fn.min_environments > 0 and not self._closing:
            fresh = [await self._spawn() for _ in range(min(self.fn.min_environments, self.max_envs))]
            await asyncio.gather(*(env.wait_started() for env in fresh))

    def _background(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._bg.add(task)
        task.add_done_callback(self._bg.discard)

    def forget(self, env: Environment) -> None:
        if env in self.envs:
            self.envs.remove(env)

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.reap_interval_s)
            await self.reap_idle()

    async def reap_idle(self) -> int:
        """Terminates environments idle longer than idle_timeout_s (LMI keeps min_environments). Returns count."""
        now = time.monotonic()
        keep = self.fn.min_environments if self.fn.is_managed_instances else 0
        idle = [e for e in self.envs if e.state == "ready" and e.active == 0]
        idle.sort(key=lambda e: e.last_used)
        victims = [e for e in idle if now - e.last_used >= self.settings.idle_timeout_s]
        victims = victims[: max(0, len(self.envs) - keep)]
        grace = self.settings.shutdown_grace_s if self.fn.is_managed_instances else 0
        for env in victims:
            env.state = "reaping"
        await asyncio.gather(*(env.terminate(grace) for env in victims))
        return len(victims)

    # invocation --------------------------------------------------------------------------------------------

    def _acquire(self) -> Environment | None:
        best: Environment | None = None
        for env in self.envs:
            usable = env.state in ("ready", "starting") and env.active < self.per_env and not env.draining
            if usable and (best is None or _rank(env) > _rank(best)):
                best = env
        return best

    async def invoke(
        self,
        payload: bytes,
        *,
        request_id: str | None = None,
        client_context: str | None = None,
        cognito_identity: str | None = None,
        attempt: int = 1,
        report_after_caller: bool = False,
    ) -> InvokeResult:
        """One invocation; `attempt` is the delivery attempt (SQS: the batch's highest receive count), which only
        fault injection looks at. With `report_after_caller`, the memory sample and the END/REPORT lines are written
        one loop hop after the result is returned, so a caller with a client waiting (the gateway) answers first;
        the result then carries no `max_memory_mb`."""
        request_id = request_id or new_request_id()
        self.invocations += 1
        env = self._acquire()
        if env is None:
            if self._closing or sum(1 for e in self.envs if not e.draining) >= self.max_envs:
                self.throttles += 1
                return InvokeResult(
                    request_id, RuntimeOutcome.error("TooManyRequestsException", "Rate Exceeded."), "throttled"
                )
            env = self._new_env()
            env.active += 1  # reserved before any await, so a concurrent invoke cannot take it
            start: Environment | None = env
        else:
            env.active += 1
            start = None
        try:
            if start is not None:
                await start.start()
            return await self._run(
                env, payload, request_id, client_context, cognito_identity, attempt, report_after_caller
            )
        finally:
            env.active -= 1
            env.last_used = time.monotonic()
            if env.draining and env.active == 0:
                self._background(env.terminate(self.settings.shutdown_grace_s))

    async def _run(
        self,
        env: Environment,
        payload: bytes,
        request_id: str,
        client_context: str | None,
        cognito_identity: str | None,
        attempt: int = 1,
        report_after_caller: bool = False,
    ) -> InvokeResult:
        init = env.started
        failure = init.result() if init.done() else await env.wait_started()  # warm: no coroutine
        if failure is None and env.state != "ready":  # died between acquire and delivery
            failure = RuntimeOutcome.error("Runtime.ExitError", "")
        if failure is not None and failure.error_type == "Runtime.ExitError":
            failure = exit_error(request_id, env.exit_description or "unknown")
        if failure is not None:
            self.errors += 1
            self._log(request_id, f"START RequestId: {request_id} Version: $LATEST")
            self._log(request_id, f"END RequestId: {request_id}")
            self._log(request_id, self._report(request_id, 0.0, env, extra="Status: error"))
            return InvokeResult(request_id, failure, "init_error", init_duration_ms=env.init_duration_ms)
        timeout_s = self.fn.timeout_s
        started = time.monotonic()
        invocation = Invocation(
            request_id=request_id,
            payload=payload,
            deadline_ms=int((time.time() + timeout_s) * 1000),
            function_arn=self.arn,
            trace_id=new_trace_id(),
            client_context=client_context,
            cognito_identity=cognito_identity,
        )
        if self.per_env == 1:
            env.last_request_id = request_id
        status = "success"
        loop = asyncio.get_running_loop()
        timer = loop.call_later(timeout_s, _time_out, invocation, timeout_s)  # no task per call
        fault = self.faults.draw(attempt) if self.faults is not None else None
        crash: asyncio.TimerHandle | None = None
        if fault is None:
            env.api.deliver(invocation)
            # after the hand-over (the function's own lines are read by later loop callbacks, so still first)
            self._log(request_id, f"START RequestId: {request_id} Version: $LATEST")
        else:
            self._log(request_id, f"START RequestId: {request_id} Version: $LATEST")
            crash = await self._deliver_with_fault(env, invocation, fault)
        outcome = await invocation.future
        timer.cancel()
        if fault is not None:
            outcome = self._fault_outcome(env, invocation, fault, crash, outcome)
        if invocation.timed_out:
            status = "timeout"
            self._log(request_id, f"{iso_now()} {request_id} Task timed out after {timeout_s:.2f} seconds")
            if self.fn.is_managed_instances:
                env.api.forget(request_id)
            else:
                env.state = "dead-pending"
                self._background(env.terminate(grace_s=0))
        duration_ms = (time.monotonic() - started) * 1000
        if status == "timeout":  # loop timers have ~1 ms granularity; Lambda reports the full Timeout
            duration_ms = max(duration_ms, timeout_s * 1000)
        if status == "success" and not outcome.ok:
            status = "crash" if outcome.error_type == "Runtime.ExitError" else "error"
        init_ms = None
        if not env.init_reported:
            env.init_reported = True
            init_ms = env.init_duration_ms
        extra = ""
        if status == "timeout":
            extra = "Status: timeout"
        elif status == "crash":
            extra = f"Status: error\tError Type: {outcome.error_type}"
        if status != "success":
            self.errors += 1
        if report_after_caller:
            loop.call_soon(self._end, env, request_id, duration_ms, init_ms, extra)
            return InvokeResult(request_id, outcome, status, duration_ms, init_ms)
        self._end(env, request_id, duration_ms, init_ms, extra)
        memory_mb = math.ceil(env.max_memory_kb / 1024) if env.max_memory_kb else None
        return InvokeResult(request_id, outcome, status, duration_ms, init_ms, memory_mb)

    def _end(self, env: Environment, request_id: str, duration_ms: float, init_ms: float | None, extra: str) -> None:
        """The invocation's memory sample and its END and REPORT lines."""
        env._sample_memory()
        self._log(request_id, f"END RequestId: {request_id}")
        self._log(request_id, self._report(request_id, duration_ms, env, init_ms=init_ms, extra=extra))

    async def _deliver_with_fault(
        self, env: Environment, invocation: Invocation, fault: FaultSpec
    ) -> asyncio.TimerHandle | None:
        """Delivers `invocation` the way `fault` says; returns the crash timer of a `crash` fault."""
        if fault.action == "delay":  # within the invocation: the Timeout timer still runs
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(invocation.future), fault.delay_ms / 1000)
        if fault.action == "error" and fault.prevent_execution:
            invocation.settle(_injected_error(invocation.request_id))
            return None
        if invocation.future.done():  # timed out during the delay: the function never sees it
            return None
        env.api.deliver(invocation)
        if fault.action != "crash" or self.faults is None:
            return None
        return asyncio.get_running_loop().call_later(self.faults.crash_after_s(fault), self._crash, env)

    def _crash(self, env: Environment) -> None:
        if env.state == "dead":
            return
        if not self.fn.is_managed_instances:
            env.state = "dead-pending"
        self._background(env.terminate(grace_s=0))

    def _fault_outcome(
        self,
        env: Environment,
        invocation: Invocation,
        fault: FaultSpec,
        crash: asyncio.TimerHandle | None,
        outcome: RuntimeOutcome,
    ) -> RuntimeOutcome:
        """The outcome the caller sees: a crash that had not fired yet fires now (the answer is lost with the
        environment); an `error` fault replaces a success."""
        if crash is not None:
            crash.cancel()
        if crash is not None and outcome.ok:
            self._crash(env)
            return exit_error(invocation.request_id, "signal: killed")
        if fault.action == "error" and outcome.ok:
            return _injected_error(invocation.request_id)
        return outcome

    def _report(
        self, request_id: str, duration_ms: float, env: Environment, *, init_ms: float | None = None, extra: str = ""
    ) -> str:
        # The init phase is billed (custom runtimes always; every on-demand function since August 2025).
        billed = math.ceil(duration_ms + (init_ms or 0.0))
        used = max(1, math.ceil(env.max_memory_kb / 1024))
        line = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {max(billed, 1)} ms\t"
            f"Memory Size: {self.fn.memory_mb} MB\tMax Memory Used: {used} MB\t"
        )
        if init_ms is not None:
            line += f"Init Duration: {init_ms:.2f} ms\t"
        return line + extra

    def _log(self, request_id: str, text: str) -> None:
        self.sink.emit(self.fn.logical_id, request_id, text, console=self.settings.console_reports)

    # status ------------------------------------------------------------------------------------------------

    def status(self) -> dict[str, object]:
        ready = [e for e in self.envs if e.state == "ready"]
        return {
            "environments": len(self.envs),
            "warm": sum(1 for e in ready if e.active == 0),
            "busy": sum(1 for e in self.envs if e.active > 0 and e.state == "ready"),
            "cold": sum(1 for e in self.envs if e.state == "starting"),
            "draining": sum(1 for e in self.envs if e.draining),
            "in_flight": sum(e.active for e in self.envs),
            "invocations": self.invocations,
            "cold_starts": self.cold_starts,
            "throttles": self.throttles,
            "errors": self.errors,
            "init_durations_ms": [round(v, 2) for v in self.init_durations_ms],
            "concurrency_limit": self.concurrency_limit,
            "max_concurrency_per_env": self.fn.max_concurrency_per_env,
            "rss_kb": {str(e.pid): e.rss_kb() for e in self.envs if e.pid is not None},
            "faults": None if self.faults is None else self.faults.status(),
        }


TIMED_OUT = "Sandbox.Timedout"


def _time_out(invocation: Invocation, timeout_s: float) -> None:
    """The Timeout timer: settles the invocation as timed out (built only when it fires)."""
    if invocation.future.done():
        return
    invocation.timed_out = True
    message = f"RequestId: {invocation.request_id} Error: Task timed out after {timeout_s:.2f} seconds"
    invocation.settle(RuntimeOutcome.error(TIMED_OUT, message))


def _injected_error(request_id: str) -> RuntimeOutcome:
    return RuntimeOutcome.error(ERROR_TYPE, f"RequestId: {request_id} Error: fault injected by the local cloud")


def _rank(env: Environment) -> tuple[int, int, bool, float]:
    """Ready before starting; then the busiest (LMI packing); then one whose runtime is parked in `/next` (an
    environment that has just answered is free only once its runtime polls again, as in Lambda: handing it the
    invocation would wait for that round trip while another environment sits idle); then the most recently used
    (keeps the others' idle time growing, so the reaper can retire them)."""
    return (1 if env.state == "ready" else 0, env.active, env.api.polling, env.last_used)
