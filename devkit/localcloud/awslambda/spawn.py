"""Starting a bootstrap without copying the local cloud, and making sure it dies with the local cloud.

A cold start's first cost is the runner's. The event loop's own subprocess support forks the whole local cloud
(uvloop always; asyncio whenever a `preexec_fn` is given), and copying the page tables of a process of a hundred
megabytes or more takes 7 to 11 ms on a laptop: more than most functions spend on their own init. `subprocess.Popen`
without a `preexec_fn` starts the child with vfork (0.1 to 0.3 ms, whatever the parent's size), and a pidfd tells the
event loop when the child exits.

Without a `preexec_fn` there is no `prctl(PR_SET_PDEATHSIG)` in the child either. Its replacement is one `Reaper`
per local cloud process: a small process holding a pidfd of every environment, received over a socket, that
SIGKILLs their process groups when the socket reaches end of file, i.e. when the local cloud is gone, SIGKILL
included. A pidfd names one process for good, so a recycled pid is never signalled.

Where pidfds are missing (not Linux, or a kernel older than 5.3), `spawn` falls back to a thread waiting on the
child and no reaper: a child then outlives a SIGKILLed local cloud, as it would with no parent-death signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

PIDFDS = hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal") and hasattr(socket, "send_fds")

# The reaper's whole program (`python -S -c`): no import of this repository, nothing to start but the interpreter.
# Messages: b"+<pid>" with the pidfd attached when an environment starts, b"-<pid>" when it has exited.
_REAPER = r"""
import os, signal, socket, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
sock = socket.socket(fileno=int(sys.argv[1]))
held = {}
while True:
    try:
        message, fds, _flags, _address = socket.recv_fds(sock, 32, 1)
    except OSError:
        break
    if not message:
        break
    pid = int(message[1:])
    if message[:1] == b"+" and fds:
        held[pid] = fds[0]
    else:
        for fd in fds:
            os.close(fd)
        fd = held.pop(pid, None)
        if fd is not None:
            os.close(fd)
for pid, fd in held.items():
    try:
        signal.pidfd_send_signal(fd, 0)
    except OSError:
        continue
    for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: signal.pidfd_send_signal(fd, signal.SIGKILL)):
        try:
            kill()
        except OSError:
            pass
"""


class Reaper:
    """Kills the registered environments' process groups once this process is gone (see the module docstring)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-S", "-c", _REAPER, str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # no terminal signal reaches it: it outlives us by design
            )
        finally:
            theirs.close()
        self._socket = ours

    def watch(self, pid: int, pidfd: int) -> None:
        with contextlib.suppress(OSError):
            socket.send_fds(self._socket, [b"+%d" % pid], [pidfd])

    def forget(self, pid: int) -> None:
        with contextlib.suppress(OSError):
            self._socket.send(b"-%d" % pid)


_reaper: Reaper | None = None


def reaper() -> Reaper:
    """This process's reaper, started on first use."""
    global _reaper
    if _reaper is None or _reaper.process.poll() is not None:
        _reaper = Reaper()
    return _reaper


class Child:
    """A started bootstrap: `pid`, `returncode` (None while it runs; -N for signal N) and `wait()`."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self._popen = popen
        self.pid = popen.pid
        loop = asyncio.get_running_loop()
        self._exited: asyncio.Future[int] = loop.create_future()
        self._pidfd: int | None = None
        if PIDFDS:
            self._pidfd = os.pidfd_open(self.pid)
            reaper().watch(self.pid, self._pidfd)
            loop.add_reader(self._pidfd, self._reap)
        else:
            loop.run_in_executor(None, popen.wait).add_done_callback(lambda done: self._settle(done.result()))

    @property
    def returncode(self) -> int | None:
        return self._popen.returncode

    def _reap(self) -> None:
        assert self._pidfd is not None
        loop = asyncio.get_running_loop()
        loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        self._pidfd = None
        self._settle(self._popen.wait())  # readable pidfd: exited, so this wait does not block
        reaper().forget(self.pid)

    def _settle(self, code: int) -> None:
        if not self._exited.done():
            self._exited.set_result(code)

    async def wait(self) -> int:
        return await asyncio.shield(self._exited)


def spawn(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], stdout: int, stderr: int) -> Child:
    """Starts `argv` in a new session (its own process group) with vfork; raises OSError when it cannot."""
    popen = subprocess.Popen(
        list(argv),
        cwd=str(cwd),
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
    )
    return Child(popen)
