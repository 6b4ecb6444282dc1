"""Data backends of the local cloud: where DynamoDB and SQS live while functions run on the laptop.

- `moto`: a `moto_server` subprocess on a free loopback port (pip only; the default).
- `dynamodb-local`: Amazon DynamoDB Local + ElasticMQ, fetched from Maven Central into the cache dir and run
  as Java processes (the real-engine option; see `backends_java.py`).
- `aws`: no process; the resources of a deployed stage, named by its CloudFormation stack.

Every backend answers the same questions: which endpoint(s) functions must use (`env()`), a queue's URL,
and a boto3 client for provisioning and tests. Functions are separate processes, hence servers, never
in-process mocks.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Literal

import boto3
from botocore.config import Config

BackendKind = Literal["moto", "dynamodb-local", "aws"]
LOCAL_CREDENTIALS = {"aws_access_key_id": "localcloud", "aws_secret_access_key": "localcloud"}
CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=30, retries={"max_attempts": 2, "mode": "standard"})


class BackendError(RuntimeError):
    """A backend could not start or answer; the message says why and where its log is."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_answers(url: str, timeout: float = 0.5) -> bool:
    """True once something speaks HTTP at `url` (any status: DynamoDB answers 400 to a bare GET)."""
    host_port = url.split("://", 1)[1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    conn = http.client.HTTPConnection(host, int(port or 80), timeout=timeout)
    try:
        conn.request("GET", "/")
        conn.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        conn.close()


class ManagedProcess:
    """A server subprocess with its log file and pid file under the state dir; stopped by its own pid only."""

    def __init__(self, name: str, state_dir: Path) -> None:
        self.name = name
        self.state_dir = state_dir
        self.log_path = state_dir / f"{name}.log"
        self.pid_path = state_dir / f"{name}.pid"
        self.cmd_path = state_dir / f"{name}.cmd.json"  # what `relaunch_server` starts again after an outage
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.cmd_path.write_text(json.dumps({"cmd": cmd, "env": env or {}, "cwd": str(cwd) if cwd else None}))
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
                cwd=cwd,
                start_new_session=True,  # Ctrl-C in the terminal reaches the local cloud, which stops us in order
            )
        self.pid_path.write_text(f"{self.proc.pid}\n")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def wait_http(self, url: str, deadline: float) -> None:
        while True:
            if not self.alive():
                code = self.proc.returncode if self.proc else None
                raise BackendError(
                    f"{self.name} exited (status {code}) before answering; log {self.log_path}:\n{self.log_tail()}"
                )
            if http_answers(url):
                return
            if time.monotonic() >= deadline:
                raise BackendError(f"{self.name} did not answer at {url} in time; log {self.log_path}")
            time.sleep(0.05)

    def stop(self, grace: float = 5.0) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=grace)
        with contextlib.suppress(FileNotFoundError):
            self.pid_path.unlink()


# Server processes a backend may leave behind, and a command-line fragment that identifies each.
_SERVER_SIGNATURES = {
    "moto": "moto.server",
    "dynamodb-local": "dynamodb.services.local.main.ServerRunner",  # DynamoDB Local's main class (no jar name)
    "elasticmq": "org.elasticmq.server.Main",
}


def stop_leftovers(state_dir: Path, *, grace: float = 5.0) -> list[int]:
    """Stop backend servers a crashed local cloud left running (found by their pid files in `state_dir`).

    A pid is only signalled when its command line still is that server's, so a recycled pid is left alone.
    Returns the pids stopped.
    """
    stopped = [stop_server(state_dir, name, grace=grace) for name in _SERVER_SIGNATURES]
    return [pid for pid in stopped if pid is not None]


def stop_server(state_dir: Path, name: str, *, grace: float = 5.0) -> int | None:
    """Stop one server ("moto", "dynamodb-local", "elasticmq") by its pid file in `state_dir`, whichever process
    started it: a crashed cloud's leftover, or a running cloud's backend for an outage (see `relaunch_server`).
    SIGTERM, SIGKILL after `grace`. Returns the pid stopped, None when no such server runs."""
    pid_path = Path(state_dir) / f"{name}.pid"
    try:
        pid = int(pid_path.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (OSError, ValueError):
        pid_path.unlink(missing_ok=True)
        return None
    pid_path.unlink(missing_ok=True)
    if _SERVER_SIGNATURES[name] not in cmdline:
        return None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while Path(f"/proc/{pid}").exists() and _state(pid) != "Z" and time.monotonic() < deadline:
        time.sleep(0.05)
    if Path(f"/proc/{pid}").exists() and _state(pid) != "Z":
        os.kill(pid, signal.SIGKILL)
    return pid


def relaunch_server(state_dir: Path, name: str, url: str, *, deadline: float) -> ManagedProcess:
    """Start server `name` again with the command line it last ran (same port, same data directory) and wait
    until it answers at `url`: the end of an outage begun with `stop_server`. A backend that keeps its data on
    disk (DynamoDB Local with a db path) comes back with it; moto comes back empty. The caller stops the
    returned process (the local cloud that started the first one no longer owns this one)."""
    if http_answers(url):
        raise BackendError(f"{name}: something still answers at {url}; stop it first (stop_server)")
    spec = json.loads((Path(state_dir) / f"{name}.cmd.json").read_text())
    process = ManagedProcess(name, Path(state_dir))
    process.start(spec["cmd"], env=spec["env"], cwd=Path(spec["cwd"]) if spec["cwd"] else None)
    try:
        process.wait_http(url, deadline)
    except BackendError:
        process.stop()
        raise
    return process


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][:1]
    except (OSError, IndexError):
        return "X"


class Backend(ABC):
    """What the local cloud needs from a data backend."""

    kind: BackendKind

    def __init__(self, *, state_dir: Path, cache_dir: Path, region: str, account_id: str) -> None:
        self.state_dir = Path(state_dir)
        self.cache_dir = Path(cache_dir)
        self.region = region
        self.account_id = account_id

    @abstractmethod
    def start(self) -> str:
        """Start (or attach to) the backend; return the endpoint URL for AWS_ENDPOINT_URL ("" for real AWS)."""

    @abstractmethod
    def stop(self) -> None: ...

    @abstractmethod
    def is_running(self) -> bool: ...

    @abstractmethod
    def wait_ready(self, deadline: float) -> None:
        """Block until the backend answers; `deadline` is a `time.monotonic()` value."""

    @property
    def endpoint_url(self) -> str | None:
        """The main endpoint (AWS_ENDPOINT_URL); `env()` adds per-service ones where a backend has several."""
        return self.endpoint_for("dynamodb")

    @abstractmethod
    def endpoint_for(self, service: str) -> str | None:
        """The endpoint URL for a boto3/SDK service name ("dynamodb", "sqs", ...), None for AWS's own."""

    @abstractmethod
    def env(self) -> dict[str, str]:
        """Environment variables that point a function's SDK at this backend."""

    @abstractmethod
    def queue_url(self, name: str) -> str:
        """The URL of queue `name` (physical name) on this backend, whether or not it exists yet."""

    def credentials(self) -> dict[str, str]:
        return dict(LOCAL_CREDENTIALS)

    def boto3_client(self, service: str) -> Any:
        return boto3.client(
            service,
            region_name=self.region,
            endpoint_url=self.endpoint_for(service),
            config=CLIENT_CONFIG,
            **self.credentials(),
        )

    def __enter__(self) -> Backend:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class MotoBackend(Backend):
    """`moto_server` on a free loopback port; one endpoint for every service."""

    kind: BackendKind = "moto"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.process = ManagedProcess("moto", self.state_dir)
        self.port: int | None = None

    @property
    def endpoint(self) -> str:
        if self.port is None:
            raise BackendError("moto backend not started")
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> str:
        if self.is_running():
            return self.endpoint
        for attempt in range(3):  # the free port may be taken before moto binds it: try another
            self.port = free_port()
            cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
            self.process.start(cmd, env={"MOTO_ACCOUNT_ID": self.account_id, "PYTHONUNBUFFERED": "1"})
            try:
                self.wait_ready(time.monotonic() + 30)
                return self.endpoint
            except BackendError:
                self.process.stop()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def wait_ready(self, deadline: float) -> None:
        self.process.wait_http(self.endpoint + "/moto-api/", deadline)

    def stop(self) -> None:
        self.process.stop()

    def is_running(self) -> bool:
        return self.process.alive()

    def endpoint_for(self, service: str) -> str | None:
        return self.endpoint

    def env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.endpoint}

    def queue_url(self, name: str) -> str:
        return f"{self.endpoint}/{self.account_id}/{name}"


def create_backend(
    kind: BackendKind,
    *,
    state_dir: Path,
    cache_dir: Path,
    region: str,
    stage: str | None = None,
    account_id: str = "123456789012",
    stack_name: str | None = None,
    endpoint_url: str | None = None,
) -> Backend:
    """The backend `kind`. `aws` needs `stage` (or `stack_name`); `endpoint_url` points it at a stand-in."""
    common: dict[str, Any] = {"state_dir": state_dir, "cache_dir": cache_dir, "region": region}
    if kind == "moto":
        return MotoBackend(account_id=account_id, **common)
    if kind == "dynamodb-local":
        from devkit.localcloud.backends_java import DynamoDbLocalBackend

        return DynamoDbLocalBackend(account_id=account_id, **common)
    if kind == "aws":
        from devkit.localcloud.backends_aws import AwsBackend

        if stack_name is None and stage is None:
            raise BackendError("the aws backend needs --stage (or a stack name) to find the deployed resources")
        return AwsBackend(stack_name=stack_name or stack_name_for(stage or ""), endpoint_url=endpoint_url, **common)
    raise BackendError(f"unknown backend {kind!r}: use moto, dynamodb-local or aws")


STACK_PREFIX = "lambda-rust-reference"


def stack_name_for(stage: str) -> str:
    """The CloudFormation stack of a deployed stage (infra/samconfig.toml names stacks this way)."""
    return f"{STACK_PREFIX}-{stage}"
