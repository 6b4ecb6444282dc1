"""What the local cloud asks of the machine it runs on: free loopback ports, whether a process still runs, where
downloads and builds that outlive a run are cached, and children that die with it. The one implementation of
each for the repository."""

from __future__ import annotations

import ctypes
import os
import random
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def cache_dir() -> Path:
    """Downloads and builds that outlive a clone (DynamoDB Local, ElasticMQ, aws-lambda-rie, SAM expansions, the
    compiled hot path): `$XDG_CACHE_HOME/lambda-rust-reference`, else `~/.cache/lambda-rust-reference`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lambda-rust-reference"


def free_port() -> int:
    """A loopback port free right now (the kernel's choice, from the ephemeral range)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ephemeral_floor() -> int:
    """Lowest port the kernel hands out to outgoing connections (ours must never collide with those)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port_block(count: int, *, attempts: int = 200) -> int:
    """A base port such that `count` consecutive loopback ports are free (gateways take consecutive ports).

    Chosen below the ephemeral range: a port picked there could be taken by an outgoing connection (boto3,
    the backends) between choosing it and the gateway binding it.
    """
    rng = random.Random()
    ceiling = min(_ephemeral_floor(), 65535) - count
    for _ in range(attempts):
        base = rng.randrange(20000, max(20001, ceiling))
        held: list[socket.socket] = []
        try:
            for offset in range(count):
                sock = socket.socket()
                held.append(sock)
                sock.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
    raise RuntimeError(f"no block of {count} free loopback ports found")


def process_alive(pid: int) -> bool:
    """True while `pid` runs; a zombie (exited, not yet reaped by its parent) counts as gone."""
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no procfs (macOS): kill(0) is all we know
    return state != "Z"


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _prctl()
# False off Linux: a child then outlives a local cloud that is SIGKILLed (a clean stop still ends it).
PARENT_DEATH_SIGNAL = _PRCTL is not None


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` that has the kernel SIGKILL the child when its parent dies, SIGKILL included
    (`prctl(PR_SET_PDEATHSIG)`); None where the OS has no such thing (not Linux).

    The signal fires when the *thread* that forked the child exits, not the process: spawn from a thread that
    lives as long as the child should (the event loop's thread; `subprocess.Popen` and asyncio's and uvloop's
    subprocess functions fork in the calling thread). If the parent died before the child set the signal up,
    the child exits at once."""
    if _PRCTL is None:
        return None
    prctl, parent = _PRCTL, os.getpid()  # looked up before the fork: the child only calls

    def preexec() -> None:
        if prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0 or os.getppid() != parent:
            os._exit(1)

    return preexec
