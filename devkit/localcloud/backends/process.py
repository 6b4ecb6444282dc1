"""Backend servers as subprocesses: started with a log file, a pid file and the command line under the state dir,
stopped by their own pid only; found again after a crash (`stop_leftovers`) or for an outage (`stop_server`,
`relaunch_server`)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import time
from pathlib import Path

from devkit.localcloud.backends.base import BackendError
from devkit.localcloud.host import die_with_parent


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
                preexec_fn=die_with_parent(),  # and we die with whoever started us, even when SIGKILLed (Linux)
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
    "dynamodb-local": "LoopbackDynamoDbLocal",  # the launcher binding DynamoDB Local to loopback (no jar name)
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
