"""`cargo lambda watch` as the reference runner, serving a bootstrap we start ourselves.

`cargo lambda watch --only-lambda-apis` starts cargo-lambda's Lambda emulator (Runtime API under `/.rt`,
function URLs under `/lambda-url/<fn>/…`, the Invoke API under `/2015-03-31/functions/<fn>/invocations`)
without compiling or starting a function; we spawn the very same `bootstrap` the local cloud runs, with the same
environment, pointed at `AWS_LAMBDA_RUNTIME_API=http://127.0.0.1:<port>/.rt`. Its bare runtime paths serve the
default function `_`, so requests go to `/lambda-url/_/<path>` and `/2015-03-31/functions/_/invocations`.
`--ignore-changes` keeps its file watcher from reacting to builds running beside the benchmark.

The functions' stdout and stderr go to one pipe drained by a `cat` process: cargo lambda watch prints function
output on its terminal, so every line a function logs is read by someone, as the local cloud reads (and files)
every line on its side; /dev/null would spare the cargo side work that each real run does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping
from pathlib import Path

from devkit import paths
from devkit.bench.loopback import Started
from devkit.build import cargo_lambda
from devkit.localcloud import free_port

DEFAULT_FUNCTION = "_"


class CargoWatchError(RuntimeError):
    """cargo lambda watch could not start; the message says why."""


class CargoWatch(Started):
    def __init__(self, *, port: int = 0) -> None:
        self.port = port or free_port()
        self.server: asyncio.subprocess.Process | None = None
        self.functions: list[asyncio.subprocess.Process] = []
        self._terminal: asyncio.subprocess.Process | None = None  # `cat`, reading the functions' output
        self._terminal_fd: int | None = None  # the write end the functions share

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def runtime_api(self) -> str:
        return f"{self.base_url}/.rt"

    def function_url(self, path: str) -> str:
        """Function URL-style request to the default function (cargo-lambda builds an HTTP API v2 event)."""
        return f"{self.base_url}/lambda-url/{DEFAULT_FUNCTION}/{path.lstrip('/')}"

    @property
    def invoke_url(self) -> str:
        return f"{self.base_url}/2015-03-31/functions/{DEFAULT_FUNCTION}/invocations"

    async def start(self, timeout_s: float = 60.0) -> None:
        cmd = [*cargo_lambda(), "watch", "--only-lambda-apis", "--ignore-changes", "--quiet"]
        cmd += ["--invoke-address", "127.0.0.1", "--invoke-port", str(self.port)]
        self.server = await asyncio.create_subprocess_exec(
            *cmd,
            cwd=paths.ROOT,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        while not await _port_open(self.port):
            if self.server.returncode is not None:
                raise CargoWatchError(f"cargo lambda watch exited with {self.server.returncode} before listening")
            if time.monotonic() > deadline:
                await self.stop()
                raise CargoWatchError(f"cargo lambda watch did not listen on {self.port} within {timeout_s:.0f} s")
            await asyncio.sleep(0.05)

    async def spawn(self, bootstrap: Path, env: Mapping[str, str], count: int = 1) -> float:
        """Starts `count` more instances of `bootstrap`; returns the spawn time (time.perf_counter())."""
        env = {**env, "AWS_LAMBDA_RUNTIME_API": self.runtime_api}
        output = await self._terminal_pipe()
        spawned = time.perf_counter()
        for _ in range(count):
            proc = await asyncio.create_subprocess_exec(
                str(bootstrap),
                cwd=str(bootstrap.parent),
                env=dict(env),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                start_new_session=True,
            )
            self.functions.append(proc)
        return spawned

    async def stop_functions(self) -> None:
        procs, self.functions = self.functions, []
        await asyncio.gather(*(_kill(p) for p in procs))

    async def _terminal_pipe(self) -> int:
        if self._terminal_fd is None:
            read_end, self._terminal_fd = os.pipe()
            try:
                self._terminal = await asyncio.create_subprocess_exec(
                    "cat", stdin=read_end, stdout=asyncio.subprocess.DEVNULL, start_new_session=True
                )
            finally:
                os.close(read_end)
        return self._terminal_fd

    async def stop(self) -> None:
        await self.stop_functions()
        if self._terminal_fd is not None:
            os.close(self._terminal_fd)  # cat sees EOF once the functions' copies are gone too
            self._terminal_fd = None
        if self._terminal is not None:
            await _kill(self._terminal)
            self._terminal = None
        if self.server is not None:
            await _kill(self.server, sig=signal.SIGTERM, grace_s=3.0)
            self.server = None


async def _port_open(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def _kill(proc: asyncio.subprocess.Process, *, sig: signal.Signals = signal.SIGKILL, grace_s: float = 0) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            await asyncio.wait_for(proc.wait(), grace_s or 5.0)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
