"""The local cloud: function pools, one HTTP API gateway per API, SQS pollers, all from a `StackSpec`.

    async with LocalCloud(stack, bootstraps, endpoint_url=backend.endpoint_url, port=3000) as cloud:
        cloud.urls["HttpApi"]              # → "http://127.0.0.1:3000"
        await cloud.invoke("Probe", {...})  # like `sam local invoke`
        await cloud.status()

Gateways take the requested port for the first API and the next ports for the others, in template order
(port 0: random ports). The caller starts the data backend (`backends`) and builds the bootstraps; the local
cloud only needs the backend's endpoint URL and each function's bootstrap path. `stop()` SIGTERMs every
environment (SIGKILL after the grace period), closes the servers and the pollers, and leaves no process behind.

For `./inv up`: `api_urls_for` (before `load_stack`, so issuers and env URLs point at the local gateways),
`run(serve_until_signalled(cloud))` (Ctrl-C or `./inv down`'s SIGTERM stops it), `swap_bootstrap` for `--watch`.
With a `state_dir`, a running cloud writes `<state dir>/state.json` (pid, API URLs, `control_url`: Lambda Invoke
API and `/_localcloud/status`), `<state dir>/logs/<Function>.log` and, for an API
with AccessLogSettings, `<state dir>/logs/<access log group>.log` (one line per request, in its format).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TextIO

from devkit.localcloud.apigw.authorizer import JwksCache, JwtAuthorizer
from devkit.localcloud.apigw.gateway import Gateway, api_id_for
from devkit.localcloud.awslambda.artifact import ArtifactError, is_artifact, stage_artifact
from devkit.localcloud.awslambda.logs import LogSink
from devkit.localcloud.awslambda.pool import FunctionPool
from devkit.localcloud.control import ControlServer
from devkit.localcloud.model import InvokeResult, PoolSettings, StackSpec
from devkit.localcloud.sqs.poller import SqsPoller


def run(main: Coroutine[Any, Any, Any]) -> Any:
    """Runs `main` on the event loop the local cloud is fastest on: uvloop when installed (about 1.5x the gateway
    throughput of the default loop on a 2-core box), asyncio's own otherwise."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A loop for a thread that hosts the local cloud (same choice as `run`)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class LocalCloudError(RuntimeError):
    """The stack cannot run locally; the message says why."""


def api_urls_for(api_ids: list[str], *, port: int, host: str = "127.0.0.1") -> dict[str, str]:
    """The base URLs LocalCloud will give these APIs (template order), for `load_stack(api_urls=...)` so that a
    JWT issuer or an environment variable naming an API's execute-api URL points at the local gateway."""
    return {api_id: f"http://{host}:{port + index}" for index, api_id in enumerate(api_ids)}


class LocalCloud:
    def __init__(
        self,
        stack: StackSpec,
        bootstraps: Mapping[str, Path],
        *,
        endpoint_url: str | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        state_dir: Path | None = None,
        console: TextIO | None = sys.stderr,
        pool_settings: PoolSettings | None = None,
        sqs_wait_time_s: int = 1,
        extra_env: Mapping[str, str] | None = None,
        sqs_endpoint_url: str | None = None,
        control_port: int | None = 0,
    ) -> None:
        """`bootstraps` maps each function to its artifact: a .zip, a directory or a lone bootstrap, staged whole
        as the task root. `endpoint_url` becomes AWS_ENDPOINT_URL; `extra_env` (e.g. `backend.env()`, with per-service
        AWS_ENDPOINT_URL_<SERVICE>) is added to every function's environment; pollers use `sqs_endpoint_url`
        (default `endpoint_url`). The control endpoint (Lambda Invoke API + status, see control.py) listens on
        `control_port` (0: random; None: off)."""
        missing = sorted(set(stack.functions) - set(bootstraps))
        if missing:
            raise LocalCloudError(f"no bootstrap for function(s) {', '.join(missing)}: build them first")
        for logical_id, path in bootstraps.items():
            if logical_id in stack.functions and not is_artifact(Path(path)):
                raise LocalCloudError(f"bootstrap of {logical_id} not found at {path}: build it first")
        self.stack = stack
        self.bootstraps = {k: Path(v).resolve() for k, v in bootstraps.items()}
        self.endpoint_url = endpoint_url
        self.port = port
        self.host = host
        self.state_dir = state_dir
        self.sink = LogSink(state_dir / "logs" if state_dir else None, console=console)
        self.pool_settings = pool_settings or PoolSettings()
        self.sqs_wait_time_s = sqs_wait_time_s
        self.extra_env = dict(extra_env or {})
        self.sqs_endpoint_url = sqs_endpoint_url or endpoint_url
        self.pools: dict[str, FunctionPool] = {}
        self.gateways: dict[str, Gateway] = {}
        self.pollers: list[SqsPoller] = []
        self._jwks = JwksCache()
        self.control_port = control_port
        self.control: ControlServer | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._started = False
        self._run_dir: Path | None = None
        self._staged = 0

    @property
    def urls(self) -> dict[str, str]:
        return {logical_id: gw.url for logical_id, gw in self.gateways.items()}

    async def __aenter__(self) -> LocalCloud:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        stack = self.stack
        for logical_id, fn in stack.functions.items():
            self.pools[logical_id] = FunctionPool(
                fn,
                arn=stack.function_arn(logical_id),
                region=stack.region,
                bootstrap=self._stage(logical_id, self.bootstraps[logical_id]),
                sink=self.sink,
                endpoint_url=self.endpoint_url,
                settings=self.pool_settings,
                extra_env=self.extra_env,
            )
        for pool in self.pools.values():
            await pool.start()
        if self.control_port is not None:
            self.control = ControlServer(
                stack, self.pools, status=self.status, sink=self.sink, host=self.host, port=self.control_port
            )
            await self.control.start()
        authorizer = JwtAuthorizer(self._jwks)
        for index, (logical_id, api) in enumerate(stack.http_apis.items()):
            gateway = Gateway(
                api,
                invoker=self._invoke_bytes,
                authorizer=authorizer,
                account_id=stack.account_id,
                api_id=getattr(api, "api_id", "") or api_id_for(stack.stack_name, logical_id),
                port=self.port + index if self.port else 0,
                host=self.host,
                settles_within=self._settles_within,
                access_log=self._access_log,
            )
            for warning in gateway.warnings:
                self._report(f"warning: {warning}")
            await gateway.start()
            self.gateways[logical_id] = gateway
        mappings = [m for m in stack.event_source_mappings if m.enabled]
        if mappings:
            self._executor = ThreadPoolExecutor(max_workers=2 * len(mappings) + 2, thread_name_prefix="sqs-poller")
        for mapping in mappings:
            if mapping.queue not in stack.queues:
                raise LocalCloudError(f"event source mapping of {mapping.function} names unknown queue {mapping.queue}")
            poller = SqsPoller(
                mapping,
                stack.queues[mapping.queue],
                invoker=self._invoke_bytes,
                region=stack.region,
                endpoint_url=self.sqs_endpoint_url,
                executor=self._executor,  # type: ignore[arg-type]
                wait_time_s=self.sqs_wait_time_s,
            )
            await poller.start()
            self.pollers.append(poller)
        self._write_state()

    async def stop(self) -> None:
        if self.control is not None:
            await self.control.stop()
            self.control = None
        for poller in self.pollers:
            await poller.stop()
        self.pollers = []
        for gateway in self.gateways.values():
            await gateway.stop()
        for pool in self.pools.values():
            await pool.stop()
        await self._jwks.close()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self.sink.close()
        if self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)
            self._run_dir = None
        if self.state_dir is not None:
            (self.state_dir / "state.json").unlink(missing_ok=True)

    def _access_log(self, destination: str, request_id: str, line: str) -> None:
        """An HTTP API's access log line: `<state dir>/logs/<log group logical id>.log`, beside the functions' logs
        (so `./inv logs` reads it), not on the console."""
        self.sink.emit(destination, request_id, line, console=False)

    def _report(self, text: str) -> None:
        if self.sink.console is not None:
            self.sink.console.write(text + "\n")

    def _settles_within(self, function: str) -> float | None:
        """The longest an invocation of `function` can take: a cold start's init timeout plus its Timeout (the pool
        settles it by then), with a second of slack for the loop."""
        pool = self.pools.get(function)
        return None if pool is None else pool.settings.init_timeout_s + pool.fn.timeout_s + 1.0

    def _invoke_bytes(self, function: str, payload: bytes, attempt: int = 1) -> Coroutine[Any, Any, InvokeResult]:
        """The gateway's and the SQS pollers' invocations (their callers answer before the END/REPORT lines); the
        pool's own coroutine, not a wrapper around it: one frame fewer per request."""
        return self.pools[function].invoke(payload, attempt=attempt, report_after_caller=True)

    async def invoke(
        self, function: str, payload: bytes | str | dict[str, Any] | list[Any] | None = None
    ) -> InvokeResult:
        """One direct invocation, like `sam local invoke` / `aws lambda invoke` (RequestResponse)."""
        if function not in self.pools:
            raise LocalCloudError(f"unknown function {function}: choose one of {', '.join(sorted(self.pools))}")
        if payload is None:
            data = b"{}"
        elif isinstance(payload, bytes):
            data = payload
        elif isinstance(payload, str):
            data = payload.encode()
        else:
            data = json.dumps(payload).encode()
        return await self.pools[function].invoke(data)

    async def swap_bootstrap(self, function: str, bootstrap: Path) -> None:
        """Hot swap for `up --watch`: `function` runs the rebuilt `bootstrap` from its next cold start on; the
        environments of the old build drain (finish what they run, then stop)."""
        if function not in self.pools:
            raise LocalCloudError(f"unknown function {function}: choose one of {', '.join(sorted(self.pools))}")
        path = Path(bootstrap).resolve()
        if not is_artifact(path):
            raise LocalCloudError(f"bootstrap of {function} not found at {path}: build it first")
        self.bootstraps[function] = path
        await self.pools[function].swap_bootstrap(self._stage(function, path))

    def _stage(self, function: str, artifact: Path) -> Path:
        """A private copy of the function's whole artifact (a .zip unpacked, a directory, or a lone bootstrap) as
        its task root, and the bootstrap in it to execute (awslambda/artifact.py). Running the build output itself
        would make the next `cargo lambda build` fail with "Text file busy" (it rewrites the file in place), so
        `up --watch` could never rebuild a running function."""
        if self._run_dir is None:
            base = self.state_dir / "run" if self.state_dir else None
            if base is not None:
                base.mkdir(parents=True, exist_ok=True)
            self._run_dir = Path(tempfile.mkdtemp(prefix="localcloud-", dir=base))
        self._staged += 1
        task_root = self._run_dir / f"{function}-{self._staged}"
        task_root.mkdir()
        try:
            return stage_artifact(artifact, task_root)
        except ArtifactError as exc:
            raise LocalCloudError(f"{function}: {exc}") from None

    async def status(self) -> dict[str, Any]:
        queues: dict[str, Any] = {}
        for poller in self.pollers:
            try:
                depth: dict[str, Any] = await poller.depth()
            except Exception as exc:  # the backend is gone: say so instead of failing the whole status
                depth = {"error": str(exc)}
            stats = poller.stats
            queues[poller.queue.logical_id] = {
                **depth,
                "function": poller.mapping.function,
                "batches": stats.batches,
                "received": stats.received,
                "deleted": stats.deleted,
                "failed_batches": stats.failed_batches,
                "partial_batches": stats.partial_batches,
                "in_hand": stats.in_hand,
            }
        return {
            "functions": {name: pool.status() for name, pool in self.pools.items()},
            "apis": {name: {"url": gw.url, "requests": gw.requests} for name, gw in self.gateways.items()},
            "queues": queues,
        }

    def _write_state(self) -> None:
        if self.state_dir is None:
            return
        self.state_dir.mkdir(parents=True, exist_ok=True)
        state = {
            "pid": os.getpid(),
            "urls": self.urls,
            "control_url": self.control.url if self.control else None,
            "stack": self.stack.stack_name,
        }
        (self.state_dir / "state.json").write_text(json.dumps(state, indent=2) + "\n")


async def serve_until_signalled(cloud: LocalCloud, on_ready: Callable[[LocalCloud], None] | None = None) -> None:
    """`./inv up`: start, call `on_ready`, run until SIGINT (Ctrl-C) or SIGTERM (`./inv down` signals the pid in
    state.json), then stop cleanly: environments get SIGTERM and the grace period, nothing is left behind."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with cloud:
            if on_ready is not None:
                on_ready(cloud)
            await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
