"""One execution environment: a bootstrap process with its own Runtime API server, the environment variables
Lambda gives it, init (spawn → first /next = Init Duration), output streaming, peak memory, SIGTERM/SIGKILL.

`pool.FunctionPool` owns a function's environments (cold starts, reuse, concurrency, throttling, timeouts,
reaping, LMI). An environment does not know its pool: it gets an `EnvironmentConfig` (what to run, how) and
`EnvironmentHooks` (where its output, init duration and death go).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devkit.localcloud.awslambda.output import OutputPipe, read_lines
from devkit.localcloud.awslambda.runtime_api import Invocation, RuntimeApi, RuntimeOutcome
from devkit.localcloud.awslambda.spawn import Child, spawn
from devkit.localcloud.model import DUMMY_CREDENTIALS, INIT_TIMEOUT_S, FunctionSpec


@dataclass(frozen=True)
class EnvironmentConfig:
    """What an environment runs and how: fixed for its life (a hot swap starts new environments)."""

    fn: FunctionSpec
    region: str
    bootstrap: Path
    endpoint_url: str | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)
    init_timeout_s: float = INIT_TIMEOUT_S
    batch_scheduling: bool = True  # run the bootstrap under SCHED_BATCH (see `batch_schedule`)


@dataclass(frozen=True)
class EnvironmentHooks:
    """Where an environment reports to (its owner, usually a `FunctionPool`)."""

    log: Callable[[str, str | None, str], None]  # (function logical id, request id, line): a `LogSink.emit`
    initialised: Callable[[float], None] = lambda init_duration_ms: None  # the runtime polled /next
    died: Callable[[Environment], None] = lambda env: None  # the process is gone: forget the environment


def lambda_environment(
    fn: FunctionSpec,
    *,
    region: str,
    bootstrap: Path,
    runtime_api: str,
    endpoint_url: str | None,
    extra_env: Mapping[str, str] | None = None,
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

    def __init__(self, config: EnvironmentConfig, index: int, hooks: EnvironmentHooks) -> None:
        self.config = config
        self.hooks = hooks
        self.index = index
        self.api = RuntimeApi()
        self.proc: Child | None = None
        self.state = "starting"  # starting | ready | dead
        self.active = 0  # invocations assigned (reserved slots), including while starting
        self.last_used = time.monotonic()
        self.init_duration_ms: float | None = None
        self.spawned_unix: float | None = None  # wall clock at spawn: lines up with the bootstrap's own clock
        self.init_reported = False
        self.exit_description: str | None = None
        self.max_memory_kb = 0
        self._started = asyncio.get_running_loop().create_future()  # result: None, or the init failure
        self._tasks: list[asyncio.Task[None]] = []  # [exit watcher, init watcher]
        self._outputs: list[OutputPipe] = []  # stdout, stderr
        self._status_fd: int | None = None
        self.draining = False  # replaced by a new bootstrap (`up --watch`): finishes its work, takes no more
        # Standard environments: output belongs to the latest invocation, even when the pipe is read after its
        # response arrived (the function printed before responding).
        self.last_request_id: str | None = None

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    async def start(self) -> None:
        config = self.config
        await self.api.start()
        env = lambda_environment(
            config.fn,
            region=config.region,
            bootstrap=config.bootstrap,
            runtime_api=self.api.address,
            endpoint_url=config.endpoint_url,
            extra_env=config.extra_env,
        )
        stdout, stdout_w = os.pipe()
        stderr, stderr_w = os.pipe()
        spawned = time.monotonic()
        self.spawned_unix = time.time()
        try:
            self.proc = spawn(  # vfork, and the reaper in place of a parent-death signal (see `spawn`)
                [str(config.bootstrap)], cwd=config.bootstrap.parent, env=env, stdout=stdout_w, stderr=stderr_w
            )
        except OSError as exc:
            os.close(stdout)
            os.close(stderr)
            self._finish_start(RuntimeOutcome.error("Runtime.InvalidEntrypoint", str(exc)))
            await self._mark_dead(f"could not start: {exc}")
            return
        finally:
            os.close(stdout_w)  # the bootstrap holds the write ends now: EOF when it (and its children) exit
            os.close(stderr_w)
        if config.batch_scheduling:
            batch_schedule(self.proc.pid)
        self._outputs = [await read_lines(fd, self._output_line) for fd in (stdout, stderr)]
        self._tasks = [
            asyncio.create_task(self._watch_exit()),
            asyncio.create_task(self._watch_init(spawned)),
        ]

    async def _watch_init(self, spawned: float) -> None:
        first = asyncio.create_task(self.api.first_next.wait())
        failed = asyncio.create_task(self.api.init_failed.wait())
        done, pending = await asyncio.wait(
            {first, failed}, timeout=self.config.init_timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        if failed in done and self.api.init_error is not None:
            self._finish_start(self.api.init_error)
            await self.terminate(grace_s=0)
        elif first in done and self.api.first_next_at is not None:
            self.init_duration_ms = (self.api.first_next_at - spawned) * 1000
            self.hooks.initialised(self.init_duration_ms)
            self.state = "ready"
            self._sample_memory()
            self._finish_start(None)
        elif not self._started.done():
            timeout = self.config.init_timeout_s
            self._finish_start(RuntimeOutcome.error("Runtime.Timeout", f"Init timed out after {timeout:.2f} seconds"))
            await self.terminate(grace_s=0)

    def _finish_start(self, failure: RuntimeOutcome | None) -> None:
        if not self._started.done():
            self._started.set_result(failure)

    @property
    def started(self) -> asyncio.Future[RuntimeOutcome | None]:
        """Settles when init ends: None once the runtime polls /next, else the init failure."""
        return self._started

    async def wait_started(self) -> RuntimeOutcome | None:
        """None once the runtime polls /next, else the init failure."""
        if self._started.done():  # the warm path: no shield, no extra future
            return self._started.result()
        return await asyncio.shield(self._started)

    def _output_line(self, line: bytes) -> None:
        """One line of the bootstrap's output, to the log under the invocation it belongs to."""
        in_flight = self.api.in_flight
        request_id = next(iter(in_flight)) if len(in_flight) == 1 else self.last_request_id
        self.hooks.log(self.config.fn.logical_id, request_id, line.decode("utf-8", "replace"))

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
        for task in self._tasks[1:]:  # the init watcher: nothing left to wait for
            if task is not current:
                task.cancel()
        self._finish_start(
            self.api.init_error
            or RuntimeOutcome.error("Runtime.ExitError", f"Runtime exited with error: {description}")
        )
        self.api.fail_all(
            {
                rid: exit_error(rid, description)
                for rid in list(self.api.in_flight) + [inv.request_id for inv in _queued(self.api)]
            }
        )
        self.hooks.died(self)
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
        await asyncio.gather(*(output.closed for output in self._outputs))  # every line read
        await self._mark_dead(self.exit_description or "signal: killed")


def exit_error(request_id: str, description: str) -> RuntimeOutcome:
    """What an invocation gets when its runtime process exits under it (Lambda's wording)."""
    return RuntimeOutcome.error(
        "Runtime.ExitError", f"RequestId: {request_id} Error: Runtime exited with error: {description}"
    )


def batch_schedule(pid: int) -> bool:
    """Puts every thread of `pid` under SCHED_BATCH (Linux; no privilege needed; False where it cannot).

    On AWS the Lambda service never shares a CPU with the functions it invokes. Here it does, and a function woken
    by the local cloud's write (its `/next` answer) would preempt the single event-loop thread that serves every
    other in-flight request: under concurrency that stalls them all. SCHED_BATCH only turns off that wakeup
    preemption: a bootstrap still runs at once on an idle CPU and gets its fair share of a busy one."""
    setscheduler = getattr(os, "sched_setscheduler", None)
    if setscheduler is None:
        return False
    param = os.sched_param(0)
    try:
        setscheduler(pid, os.SCHED_BATCH, param)  # threads the process starts from now on inherit the policy
        threads = [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]  # those it started before
    except OSError:  # exited already, or no such policy here
        return False
    for tid in threads:
        with contextlib.suppress(OSError):
            setscheduler(tid, os.SCHED_BATCH, param)
    return True


def _queued(api: RuntimeApi) -> list[Invocation]:
    return api.queued()


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
