"""devkit.localcloud.awslambda.spawn: environments start with vfork (no copy of the local cloud), their exit is
seen through a pidfd, and the reaper kills what a SIGKILLed local cloud leaves behind, without ever holding on to
environments that are gone."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from devkit import paths
from devkit.localcloud import process_alive
from devkit.localcloud.awslambda import spawn


def test_pidfds_are_available_here() -> None:
    assert spawn.PIDFDS, "Linux 5.3+ and Python 3.9+: without them environments outlive a SIGKILLed local cloud"


def _wait(condition: object, deadline_s: float = 10.0) -> bool:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.02)
    return False


def test_a_child_runs_in_its_own_session_and_its_exit_code_is_seen() -> None:
    async def body() -> tuple[int, int | None, int, int]:
        read, write = os.pipe()
        child = spawn.spawn(
            ["/bin/sh", "-c", "echo $$ $(ps -o sid= -p $$); exit 3"], cwd=Path("/"), env={}, stdout=write, stderr=write
        )
        os.close(write)
        code = await asyncio.wait_for(child.wait(), 10)
        pid, sid = os.read(read, 100).split()
        os.close(read)
        return code, child.returncode, int(pid), int(sid)

    code, returncode, pid, sid = asyncio.run(body())
    assert code == returncode == 3
    assert sid == pid, "a new session: its own process group, which terminate() signals"


def test_a_signalled_child_reports_the_signal_like_asyncio() -> None:
    async def body() -> int:
        child = spawn.spawn(["/bin/sleep", "30"], cwd=Path("/"), env={}, stdout=1, stderr=2)
        os.kill(child.pid, signal.SIGKILL)
        return await asyncio.wait_for(child.wait(), 10)

    assert asyncio.run(body()) == -signal.SIGKILL


def test_the_reaper_forgets_children_that_exited() -> None:
    async def body() -> int:
        for _ in range(20):
            child = spawn.spawn(["/bin/true"], cwd=Path("/"), env={}, stdout=1, stderr=2)
            await asyncio.wait_for(child.wait(), 10)
        return spawn.reaper().process.pid

    reaper = asyncio.run(body())
    # stdin, stdout, stderr, its socket: no pidfd of the 20 exited children left open (thousands of cold starts
    # over a day must not exhaust its descriptors).
    assert _wait(lambda: len(os.listdir(f"/proc/{reaper}/fd")) <= 4), os.listdir(f"/proc/{reaper}/fd")


SCRIPT = """
import asyncio, sys
from pathlib import Path
from devkit.localcloud.awslambda import spawn

async def main():
    child = spawn.spawn(["/bin/sleep", "60"], cwd=Path("/"), env={}, stdout=1, stderr=2)
    print(child.pid, spawn.reaper().process.pid, flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


def test_what_a_sigkilled_parent_started_is_killed_by_the_reaper() -> None:
    env = {**os.environ, "PYTHONPATH": str(paths.ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, text=True, env=env)
    child = reaper = 0
    try:
        assert parent.stdout is not None
        child, reaper = (int(v) for v in parent.stdout.readline().split())
        assert process_alive(child) and process_alive(reaper)
        parent.kill()  # no handler, no finally: only the reaper can act now
        parent.wait(10)
        assert _wait(lambda: not process_alive(child)), "the child outlived its SIGKILLed parent"
        assert _wait(lambda: not process_alive(reaper)), "the reaper exits once its work is done"
    finally:
        for pid in (child, reaper):
            if pid and process_alive(pid):
                os.kill(pid, signal.SIGKILL)
        if parent.poll() is None:
            parent.kill()
