"""Run this project's stack on the local cloud: build → backend → template → provision → seed → serve.

This is the one place that composes the generic local cloud with project specifics (which bootstraps to build,
the seed step that puts a signing key in place). `./inv up` runs it in the foreground; e2e tests run it as a
subprocess (`python -m devkit.stack`) and read the URLs from the control file it writes.

While running, `<state_dir>/control.json` holds the pid (SIGTERM stops the stack), the API URLs, the local cloud's
Lambda endpoint (the Invoke API, so boto3 and `aws lambda invoke --endpoint-url` work, plus
`/_localcloud/status`), the backend's endpoints and the resolved outputs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devkit import build, paths
from devkit.build.watch import Watcher, source_fingerprint
from devkit.localcloud import (
    Backend,
    BackendError,
    LocalCloud,
    LocalCloudError,
    StackSpec,
    TemplateError,
    create_backend,
    free_port_block,
    load_stack,
    process_alive,
    provision,
)
from devkit.localcloud import run as run_loop
from devkit.progress import Phases, format_seconds

CONTROL_FILE = "control.json"


@dataclass
class StackOptions:
    backend: str = "moto"
    port: int = 3000
    profile: str = "ci"
    build: bool = True
    stage: str | None = None  # with backend "aws": the deployed stage whose resources are used
    state_dir: Path = paths.STATE_DIR
    template: Path = paths.TEMPLATE
    quiet: bool = False
    watch: bool = False
    parameters: dict[str, str] = field(default_factory=dict)  # template parameters over paths.LOCAL_PARAMETERS
    demo_data: bool = False  # seed the demo currencies once the APIs serve (devkit.demo); never with backend "aws"
    seeders: list[Callable[[StackSpec, Backend], None]] = field(default_factory=list)


def control_path(state_dir: Path) -> Path:
    return state_dir / CONTROL_FILE


def read_control(state_dir: Path = paths.STATE_DIR) -> dict[str, Any] | None:
    """The running stack's control file, or None when no stack runs (a stale file is ignored)."""
    path = control_path(state_dir)
    try:
        control = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    try:
        pid = int(control["pid"])
    except (KeyError, ValueError):
        return None
    return control if process_alive(pid) else None


def local_status(control: dict[str, Any], *, timeout_s: float = 30.0) -> dict[str, Any]:
    """A running local cloud's `GET /_localcloud/status` (functions, APIs, queues), from its control file."""
    import requests

    reply = requests.get(f"{control['lambda_endpoint']}/_localcloud/status", timeout=timeout_s)
    reply.raise_for_status()
    return reply.json()


def wait_for_empty_queue(
    control: dict[str, Any],
    queue: str,
    *,
    deadline_s: float,
    stable_s: float = 0.0,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Polls a running local cloud's status until `queue` (logical id) has nothing visible, nothing in flight and
    nothing in its event source mapping's hands (a deleted message leaves the queue before the mapping counts it), and
    has stayed so for `stable_s` (0: the first empty read); returns that status. RuntimeError after `deadline_s`;
    `progress`, when given, hears the queue's depth every 10 s."""
    deadline, last_report, empty_since = time.monotonic() + deadline_s, time.monotonic(), None
    while True:
        state = local_status(control)
        depth = state["queues"].get(queue, {})
        visible, in_flight = int(depth.get("visible", -1)), int(depth.get("in_flight", -1))
        now = time.monotonic()
        if visible == 0 and in_flight == 0 and depth.get("in_hand", 0) == 0:
            empty_since = empty_since or now
            if now - empty_since >= stable_s:
                return state
        else:
            empty_since = None
        if now > deadline:
            raise RuntimeError(f"the {queue} queue did not drain in {deadline_s:.0f} s: {state['queues']}")
        if progress is not None and now - last_report > 10:
            progress(f"draining: {visible} visible and {in_flight} in flight on {queue}")
            last_report = now
        time.sleep(0.5)  # poll interval, bounded by the deadline above


def list_faults(control: dict[str, Any]) -> dict[str, Any]:
    """The faults installed on a running local cloud's functions, with what they injected."""
    import requests

    return requests.get(f"{control['lambda_endpoint']}/_localcloud/faults", timeout=10).json()


class FaultsRefused(RuntimeError):
    """The control API refused a fault specification (the message says why)."""


def set_faults(control: dict[str, Any], function: str, body: dict[str, Any] | None) -> dict[str, Any]:
    """Installs `body` (`{"seed": .., "faults": [..]}`, see localcloud/faults.py) on `function` of a running local
    cloud, or clears its faults when `body` is None; returns what is installed now."""
    import requests

    url = f"{control['lambda_endpoint']}/_localcloud/faults"
    if body is None:
        reply = requests.delete(f"{url}/{function}", timeout=10)
    else:
        reply = requests.put(f"{url}/{function}", json=body, timeout=10)
    if reply.status_code in (400, 404):
        raise FaultsRefused(f"{function}: {reply.json().get('message', reply.text)}")
    reply.raise_for_status()
    return list_faults(control)


def stop_child(proc: subprocess.Popen[Any], *, grace_s: float = 30.0) -> None:
    """Stops a `python -m devkit.stack` child: SIGTERM (it stops its functions and backend), SIGKILL after `grace_s`."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class StackNotReady(RuntimeError):
    """A started stack exited, or wrote no control file before its deadline."""


@contextlib.contextmanager
def started(
    cmd: list[str], state_dir: Path, *, deadline_s: float, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[Any], dict[str, Any]]]:
    """Starts a stack (`cmd`, e.g. `python -m devkit.stack --state-dir …`), waits until it writes its control file
    under `state_dir` and yields (process, control); stops it on exit. StackNotReady when it exits first or is not
    ready within `deadline_s`."""
    proc = subprocess.Popen(cmd, cwd=paths.ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    try:
        yield proc, wait_for_control(state_dir, proc, deadline_s=deadline_s)
    finally:
        stop_child(proc)


def wait_for_control(state_dir: Path, proc: subprocess.Popen[Any], *, deadline_s: float) -> dict[str, Any]:
    """The control file a starting stack writes under `state_dir`, once it is complete."""
    control_file, deadline = control_path(state_dir), time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StackNotReady(f"the local cloud exited with {proc.returncode}; see its output above")
        if control_file.exists():
            try:
                return json.loads(control_file.read_text())
            except ValueError:
                pass  # half-written; read again
        time.sleep(0.1)  # poll interval, bounded by the deadline above
    raise StackNotReady(f"the local cloud was not ready within {deadline_s:.0f} s")


def _api_urls(stack: StackSpec, port: int) -> dict[str, str]:
    # The local cloud gives the first API `port` and the next ones the following ports, in template order.
    return {logical_id: f"http://127.0.0.1:{port + i}" for i, logical_id in enumerate(stack.http_apis)}


def _load(options: StackOptions, backend: Backend) -> tuple[StackSpec, int]:
    """The stack with API URLs resolved, and the first API's port (chosen here when options.port is 0)."""
    # With the aws backend, names are the deployed stack's own (its tables and queues are used as they are).
    physical_names = getattr(backend, "physical_names", None)
    names = physical_names() if callable(physical_names) else None
    stack_name = getattr(backend, "stack_name", None) or "local"

    def load(api_urls: dict[str, str] | None) -> StackSpec:
        return load_stack(
            options.template,
            stack_name=stack_name,
            parameters=paths.LOCAL_PARAMETERS | options.parameters,
            queue_url=backend.queue_url,
            api_urls=api_urls,
            physical_names=names,
        )

    first = load(None)  # the expansion is cached: the second load only re-resolves names
    port = options.port or free_port_block(max(1, len(first.http_apis)))
    return load(_api_urls(first, port)), port


def bootstraps_for(stack: StackSpec, profile: str, *, build_first: bool, task_root: Path) -> dict[str, Path]:
    """Builds (when asked) and stages each function's bootstrap as `<task_root>/<LogicalId>/bootstrap`.

    Running a staged copy, as Lambda runs the unpacked zip in /var/task, lets cargo rebuild the originals while
    the stack runs (no "text file busy") and makes a rebuild an explicit swap.
    """
    missing = [fn.logical_id for fn in stack.functions.values() if not fn.binary]
    if missing:
        raise build.BuildError(f"function(s) {', '.join(missing)} lack Metadata.BuildProperties.Binary in the template")
    binaries = sorted({fn.binary for fn in stack.functions.values() if fn.binary})
    if build_first and binaries:
        build.build_bootstraps(binaries, profile=profile)  # cargo's own progress: a first build takes minutes
    staged: dict[str, Path] = {}
    for fn in stack.functions.values():
        source = build.bootstrap_path(fn.binary or "", profile=profile)
        if not source.is_file():
            raise build.BuildError(f"{fn.logical_id}: no bootstrap at {source}; run without --no-build")
        target = task_root / fn.logical_id / "bootstrap"
        staged[fn.logical_id] = target
        if _same_file(source, target):
            continue  # staged by an earlier run from the same build (copy2 keeps size and mtime)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".new")
        shutil.copy2(source, tmp)
        tmp.replace(target)  # atomic: a running environment keeps its (unlinked) old file
    return staged


def _same_file(source: Path, copy: Path) -> bool:
    try:
        a, b = source.stat(), copy.stat()
    except OSError:
        return False
    return (a.st_size, a.st_mtime_ns) == (b.st_size, b.st_mtime_ns)


def template_binaries(options: StackOptions) -> list[str]:
    """The binaries the template's functions run (the expansion is cached: loading again later is cheap)."""
    stack = load_stack(options.template, parameters=paths.LOCAL_PARAMETERS | options.parameters)
    return sorted({fn.binary for fn in stack.functions.values() if fn.binary})


def describe(stack: StackSpec, urls: dict[str, str]) -> str:
    lines = []
    for logical_id, api in stack.http_apis.items():
        lines.append(f"{logical_id}: {urls.get(logical_id, '?')}")
        for route in sorted(api.routes, key=lambda r: (r.path, r.method)):
            auth = f"  [jwt: {route.authorizer}]" if route.authorizer else ""
            lines.append(f"    {route.route_key:<40} → {route.function}{auth}")
    for mapping in stack.event_source_mappings:
        lines.append(f"SQS {mapping.queue} → {mapping.function} (batch {mapping.batch_size})")
    for warning in stack.warnings:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


async def serve(options: StackOptions) -> None:
    phases = Phases("up", say=lambda text: print(text, flush=True))
    options.state_dir.mkdir(parents=True, exist_ok=True)
    backend = create_backend(
        options.backend,  # type: ignore[arg-type]
        state_dir=options.state_dir,
        cache_dir=paths.cache_dir(),
        region="us-east-1",
        stage=options.stage,
        # --backend aws against a stand-in (the deploy rehearsal points AWS_ENDPOINT_URL at moto): functions too.
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL") if options.backend == "aws" else None,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # The backend starts while cargo checks the bootstraps: neither needs the other.
    build_detail = f"cargo-lambda, profile {options.profile}" if options.build else "--no-build"
    try:
        with phases.phase("backend and bootstraps", f"{options.backend}; {build_detail}"):
            building = asyncio.create_task(asyncio.to_thread(_build, options))
            try:
                await asyncio.to_thread(backend.start)
            finally:
                await building  # never leave cargo running behind a failed backend
        stack, port = _load(options, backend)
        with phases.phase("staging", "each function's bootstrap, as Lambda unpacks its zip"):
            bootstraps = await asyncio.to_thread(
                bootstraps_for, stack, options.profile, build_first=False, task_root=options.state_dir / "functions"
            )
        with phases.phase("provision", f"{len(stack.tables)} tables, {len(stack.queues)} queues"):
            if options.backend != "aws":
                await asyncio.to_thread(provision, stack, backend)
            for seed in options.seeders:
                await asyncio.to_thread(seed, stack, backend)
        cloud = LocalCloud(
            stack,
            bootstraps,
            endpoint_url=backend.env().get("AWS_ENDPOINT_URL"),
            extra_env=backend.env(),
            sqs_endpoint_url=backend.endpoint_for("sqs"),
            port=port,
            state_dir=options.state_dir,
            console=None if options.quiet else sys.stderr,
        )
        async with contextlib.AsyncExitStack() as running:
            with phases.phase("local cloud", f"{len(stack.functions)} functions, {len(stack.http_apis)} APIs"):
                await running.enter_async_context(cloud)
            if options.demo_data and options.backend != "aws":
                with phases.phase("demo data", "currencies through the write path"):
                    await asyncio.to_thread(demo_data, stack, backend, cloud.urls)
            control = {
                "pid": os.getpid(),  # `./inv down` sends it SIGTERM
                "lambda_endpoint": cloud.control.url if cloud.control else None,  # Lambda Invoke API + status
                "urls": cloud.urls,
                "backend": options.backend,
                "backend_env": backend.env(),
                "outputs": stack.outputs,
                "tables": {k: t.physical_name for k, t in stack.tables.items()},
                "queues": {k: q.physical_name for k, q in stack.queues.items()},
                "state_dir": str(options.state_dir),
            }
            control_path(options.state_dir).write_text(json.dumps(control, indent=2) + "\n")
            print(describe(stack, cloud.urls), flush=True)
            print(f"up: ready in {format_seconds(phases.elapsed())}: {phases.summary()}", flush=True)
            print("up: Ctrl-C (or ./inv down) stops", flush=True)
            watcher = _watcher(options, stack, cloud, bootstraps) if options.watch else None
            watching = asyncio.create_task(watcher.run(stop)) if watcher else None
            try:
                await stop.wait()
                if watching:
                    await watching
            finally:
                print("up: stopping…", flush=True)
                control_path(options.state_dir).unlink(missing_ok=True)
    finally:
        await asyncio.to_thread(backend.stop)
    print("up: stopped", flush=True)


def _build(options: StackOptions) -> None:
    if options.build:
        binaries = template_binaries(options)
        if binaries:
            build.build_bootstraps(binaries, profile=options.profile)  # cargo's own progress on a first build


def _watcher(options: StackOptions, stack: StackSpec, cloud: LocalCloud, staged: dict[str, Path]) -> Watcher:
    def rebuild() -> dict[str, Path]:
        fresh = options.state_dir / "functions-next"
        return bootstraps_for(stack, options.profile, build_first=True, task_root=fresh)

    async def swap(function: str, built: Path) -> None:
        # Each swap gets its own file: environments of the old build keep running theirs until they drain.
        target = staged[function].with_name(f"bootstrap.{int(time.time() * 1000)}")
        shutil.copy2(built, target)
        await cloud.swap_bootstrap(function, target)

    watcher = Watcher(fingerprint=source_fingerprint, rebuild=rebuild, swap=swap)
    watcher.prime(staged)
    return watcher


def project_seeders() -> list[Callable[[StackSpec, Backend], None]]:
    """Project-specific steps after provisioning (the local cloud itself knows nothing about our services)."""
    from devkit import seed

    return [seed.signing_keys]


def demo_data(stack: StackSpec, backend: Backend, urls: dict[str, str]) -> None:
    """Seeds the demo currencies through the running APIs (see devkit.demo); idempotent."""
    from devkit import demo

    tables = demo.Tables(
        backend.boto3_client("dynamodb"),
        users=stack.tables["UsersTable"].physical_name,
        currencies=stack.tables["CurrenciesTable"].physical_name,
    )
    seeded = demo.seed(urls["HttpApi"], urls["AuthApi"], tables)
    print(f"up: demo data: {', '.join(seeded) if seeded else 'already there'}", flush=True)


def _parameter(text: str, parser: argparse.ArgumentParser) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        parser.error(f"--parameter takes NAME=VALUE, got {text!r}")
    return name.strip(), value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devkit.stack", description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="moto", choices=["moto", "dynamodb-local", "aws"])
    parser.add_argument("--port", type=int, default=3000, help="first API's port (0: random ports)")
    parser.add_argument("--profile", default="ci", help="cargo profile of the bootstraps (ci or release)")
    parser.add_argument("--no-build", action="store_true", help="use the bootstraps already built")
    parser.add_argument("--stage", default=None, help="with --backend aws: the deployed stage to use")
    parser.add_argument("--state-dir", type=Path, default=paths.STATE_DIR)
    parser.add_argument("--quiet", action="store_true", help="do not echo function output")
    parser.add_argument("--watch", action="store_true", help="rebuild and hot-swap functions when sources change")
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a template parameter for this stack (repeatable), e.g. KeyRefreshSeconds=10",
    )
    parser.add_argument(
        "--demo-data",
        action="store_true",
        help="seed a few currencies with rates once the APIs serve (idempotent; not with --backend aws)",
    )
    args = parser.parse_args(argv)
    from devkit.demo import DemoDataError

    parameters = dict(_parameter(text, parser) for text in args.parameter)
    options = StackOptions(
        backend=args.backend,
        port=args.port,
        profile=args.profile,
        build=not args.no_build,
        stage=args.stage,
        state_dir=args.state_dir.resolve(),
        quiet=args.quiet,
        watch=args.watch,
        parameters=parameters,
        seeders=project_seeders(),
        demo_data=args.demo_data,
    )
    try:
        with contextlib.suppress(KeyboardInterrupt):
            run_loop(serve(options))  # uvloop when installed, like every local cloud
    except (build.BuildError, LocalCloudError, BackendError, TemplateError, DemoDataError) as err:
        raise SystemExit(f"up: {err}") from None


if __name__ == "__main__":
    main()
