"""Execution environments of one function: cold start, reuse, concurrency, throttling, timeouts, crashes, reaping.

An `Environment` is one bootstrap process with its own Runtime API server. A `FunctionPool` owns a function's
environments and turns `invoke()` into an `InvokeResult`, printing START/END/REPORT lines as Lambda does.
Standard functions run one invocation per environment; Lambda Managed Instances functions
(`max_concurrency_per_env`) run many, pack them into the busiest environment that still has room, pre-start
`min_environments` and get SIGTERM with a grace period before SIGKILL on scale-in and shutdown.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
import os
import signal
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devkit.localcloud.logs import LogSink
from devkit.localcloud.model import FunctionSpec
from devkit.localcloud.runtime_api import Invocation, RuntimeApi, RuntimeOutcome, new_request_id, new_trace_id

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIALOCALCLOUDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "localcloud/secret/not-a-real-key",
    "AWS_SESSION_TOKEN": "localcloud-session-token",
}
INIT_TIMEOUT_S = 10.0  # Lambda's init phase limit for on-demand functions


@dataclass(frozen=True)
class InvokeResult:
    request_id: str
    outcome: RuntimeOutcome
    status: str  # success | error | timeout | crash | init_error | throttled
    duration_ms: float = 0.0
    init_duration_ms: float | None = None
    max_memory_mb: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == "success"

    @property
    def cold(self) -> bool:
        return self.init_duration_ms is not None


@dataclass(frozen=True)
class PoolSettings:
    account_concurrency: int = 1000  # used when the function has no ReservedConcurrentExecutions
    idle_timeout_s: float = 300.0
    reap_interval_s: float = 1.0
    init_timeout_s: float = INIT_TIMEOUT_S
    shutdown_grace_s: float = 2.0
    console_reports: bool = True  # START/END/REPORT lines on the console too (always in the log file)


def _now_iso() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


def lambda_environment(
    fn: FunctionSpec,
    *,
    region: str,
    bootstrap: Path,
    runtime_api: str,
    endpoint_url: str | None,
    extra_env: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment Lambda gives a provided.* runtime, the backend's variables (e.g. per-service endpoint
    URLs), then the template's Environment on top."""
    stream = time.strftime("%Y/%m/%d", time.gmtime()) + f"/[$LATEST]{os.urandom(16).hex()}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "AWS_LAMBDA_FUNCTION_NAME": fn.physical_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "lambda-managed-instances" if fn.is_managed_instances else "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.physical_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "_HANDLER": fn.handler,
        "LAMBDA_TASK_ROOT": str(bootstrap.parent),
        "LAMBDA_RUNTIME_DIR": str(bootstrap.parent),
        **DUMMY_CREDENTIALS,
    }
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    if fn.max_concurrency_per_env is not None:
        env["AWS_LAMBDA_MAX_CONCURRENCY"] = str(fn.max_concurrency_per_env)
    env.update(extra_env or {})
    env.update(fn.environment)
    return env


class Environment:
    """One bootstrap process and its Runtime API."""

    def __init__(self, pool: FunctionPool, index: int) -> None:
        self.pool = pool
        self.index = index
        self.api = RuntimeApi()
        self.proc: asyncio.subprocess.Process | None = None
        self.state = "starting"  # starting | ready | dead
        self.active = 0  # invocations assigned (reserved slots), including while starting
        self.last_used = time.monotonic()
        self.init_duration_ms: float | None = None
        self.init_reported = False
        self.exit_description: str | None = None
        self.max_memory_kb = 0
        self._started = asyncio.get_running_loop().create_future()  # result: None, or the init failure
        self._tasks: list[asyncio.Task[None]] = []
        self._status_fd: int | None = None
        self.draining = False  # replaced by a new bootstrap (`up --watch`): finishes its work, takes no more
        # Standard environments: output belongs to the latest invocation, even when the pipe is read after its
        # response arrived (the function printed before responding).
        self.last_request_id: str | None = None

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    async def start(self) -> None:
        pool = self.pool
        await self.api.start()
        env = lambda_environment(
            pool.fn,
            region=pool.region,
            bootstrap=pool.bootstrap,
            runtime_api=self.api.address,
            endpoint_url=pool.endpoint_url,
            extra_env=pool.extra_env,
        )
        spawned = time.monotonic()
        try:
            self.proc = await asyncio.create_subprocess_exec(
                str(pool.bootstrap),
                cwd=str(pool.bootstrap.parent),
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            self._finish_start(RuntimeOutcome.error("Runtime.InvalidEntrypoint", str(exc)))
            await self._mark_dead(f"could not start: {exc}")
            return
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._tasks = [
            asyncio.create_task(self._pump(self.proc.stdout)),
            asyncio.create_task(self._pump(self.proc.stderr)),
            asyncio.create_task(self._watch_exit()),
            asyncio.create_task(self._watch_init(spawned)),
        ]

    async def _watch_init(self, spawned: float) -> None:
        first = asyncio.create_task(self.api.first_next.wait())
        failed = asyncio.create_task(self.api.init_failed.wait())
        done, pending = await asyncio.wait(
            {first, failed}, timeout=self.pool.settings.init_timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        if failed in done and self.api.init_error is not None:
            self._finish_start(self.api.init_error)
            await self.terminate(grace_s=0)
        elif first in done and self.api.first_next_at is not None:
            self.init_duration_ms = (self.api.first_next_at - spawned) * 1000
            self.pool.init_durations_ms.append(self.init_duration_ms)
            self.state = "ready"
            self._sample_memory()
            self._finish_start(None)
        elif not self._started.done():
            timeout = self.pool.settings.init_timeout_s
            self._finish_start(RuntimeOutcome.error("Runtime.Timeout", f"Init timed out after {timeout:.2f} seconds"))
            await self.terminate(grace_s=0)

    def _finish_start(self, failure: RuntimeOutcome | None) -> None:
        if not self._started.done():
            self._started.set_result(failure)

    async def wait_started(self) -> RuntimeOutcome | None:
        """None once the runtime polls /next, else the init failure."""
        return await asyncio.shield(self._started)

    async def _pump(self, stream: asyncio.StreamReader) -> None:
        sink, name = self.pool.sink, self.pool.fn.logical_id
        while True:
            try:
                line = await stream.readline()
            except ValueError:  # a line over the stream limit: take what is buffered
                line = await stream.read(65536)
            if not line:
                return
            in_flight = self.api.in_flight
            request_id = next(iter(in_flight)) if len(in_flight) == 1 else self.last_request_id
            sink.emit(name, request_id, line.decode("utf-8", "replace"))

    async def _watch_exit(self) -> None:
        assert self.proc is not None
        code = await self.proc.wait()
        description = f"signal: {_signal_name(-code)}" if code < 0 else f"exit status {code}"
        await self._mark_dead(description)

    async def _mark_dead(self, description: str) -> None:
        if self.state == "dead":
            return
        self.state = "dead"
        self.exit_description = self.exit_description or description
        current = asyncio.current_task()
        for task in self._tasks[3:]:  # the init watcher: nothing left to wait for
            if task is not current:
                task.cancel()
        self._finish_start(
            self.api.init_error
            or RuntimeOutcome.error("Runtime.ExitError", f"Runtime exited with error: {description}")
        )
        self.api.fail_all(
            {
                rid: RuntimeOutcome.error(
                    "Runtime.ExitError", f"RequestId: {rid} Error: Runtime exited with error: {description}"
                )
                for rid in list(self.api.in_flight) + [inv.request_id for inv in _queued(self.api)]
            }
        )
        self.pool.forget(self)
        self._close_status()
        await self.api.stop()

    def _proc_status(self) -> bytes:
        """/proc/<pid>/status, read through a descriptor kept open (one pread per sample, no open/close)."""
        if self.proc is None:
            return b""
        try:
            if self._status_fd is None:
                self._status_fd = os.open(f"/proc/{self.proc.pid}/status", os.O_RDONLY)
            return os.pread(self._status_fd, 4096, 0)
        except OSError:
            return b""

    def _sample_memory(self) -> None:
        """Max Memory Used: the process's peak RSS (VmHWM), monotonic over the environment's life like Lambda's."""
        status = self._proc_status()
        start = status.find(b"VmHWM:")
        if start >= 0:
            self.max_memory_kb = max(self.max_memory_kb, int(status[start + 6 : status.index(b"kB", start)]))

    def rss_kb(self) -> int:
        status = self._proc_status()
        start = status.find(b"VmRSS:")
        return int(status[start + 6 : status.index(b"kB", start)]) if start >= 0 else 0

    def _close_status(self) -> None:
        if self._status_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._status_fd)
            self._status_fd = None

    async def terminate(self, grace_s: float) -> None:
        """SIGTERM, then SIGKILL after `grace_s` (0: SIGKILL at once). Idempotent."""
        proc = self.proc
        if proc is not None and proc.returncode is None:
            if grace_s > 0:
                self.exit_description = "signal: terminated"
                _signal_group(proc.pid, signal.SIGTERM)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(proc.wait()), grace_s)
            if proc.returncode is None:
                self.exit_description = self.exit_description or "signal: killed"
                _signal_group(proc.pid, signal.SIGKILL)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(proc.wait()), 5.0)
            _signal_group(proc.pid, signal.SIGKILL)  # stragglers in the process group
        current = asyncio.current_task()
        await asyncio.gather(*(t for t in self._tasks if t is not current), return_exceptions=True)
        await self._mark_dead(self.exit_description or "signal: killed")


def _queued(api: RuntimeApi) -> list[Invocation]:
    return list(api._queue._queue)  # type: ignore[attr-defined]


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _signal_name(number: int) -> str:
    try:
        return {signal.SIGKILL: "killed", signal.SIGTERM: "terminated"}.get(
            signal.Signals(number), signal.Signals(number).name.lower()
        )
    except ValueError:
        return str(number)


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
        env = Environment(self, self._next_index)
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
    ) -> InvokeResult:
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
            return await self._run(env, payload, request_id, client_context, cognito_identity)
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
    ) -> InvokeResult:
        failure = await env.wait_started()
        if failure is None and env.state != "ready":  # died between acquire and delivery
            failure = RuntimeOutcome.error("Runtime.ExitError", "")
        if failure is not None and failure.error_type == "Runtime.ExitError":
            failure = RuntimeOutcome.error(
                "Runtime.ExitError",
                f"RequestId: {request_id} Error: Runtime exited with error: {env.exit_description or 'unknown'}",
            )
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
        self._log(request_id, f"START RequestId: {request_id} Version: $LATEST")
        if self.per_env == 1:
            env.last_request_id = request_id
        env.api.deliver(invocation)
        status = "success"
        timed_out = RuntimeOutcome.error(
            "Sandbox.Timedout", f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds"
        )
        timer = asyncio.get_running_loop().call_later(timeout_s, invocation.settle, timed_out)  # no task per call
        outcome = await invocation.future
        timer.cancel()
        if outcome is timed_out:
            status = "timeout"
            self._log(request_id, f"{_now_iso()} {request_id} Task timed out after {timeout_s:.2f} seconds")
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
        env._sample_memory()
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
        self._log(request_id, f"END RequestId: {request_id}")
        self._log(request_id, self._report(request_id, duration_ms, env, init_ms=init_ms, extra=extra))
        memory_mb = math.ceil(env.max_memory_kb / 1024) if env.max_memory_kb else None
        return InvokeResult(request_id, outcome, status, duration_ms, init_ms, memory_mb)

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
        }


def _rank(env: Environment) -> tuple[int, int, float]:
    """Ready before starting; then the busiest (LMI packing); then the most recently used (keeps others cold)."""
    return (1 if env.state == "ready" else 0, env.active, env.last_used)
