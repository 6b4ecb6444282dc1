"""What the fault tests share: suite sizes, the local cloud's status, execution environments to freeze or kill.

Accounts come from `tests.support`, admins and condition waits from `tests.system.e2e.test_currency`. The
`Backend` stops and restarts a server of the running stack's backend.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from devkit.localcloud import ManagedProcess, relaunch_server, stop_server
from devkit.stack import local_status
from tests.support import Stack, wait_for

LIMITED_FUNCTION = "Convert"  # ReservedConcurrentExecutions 1 in this stack (see fault_stack.py)

LONG = os.environ.get("FAULTS_LONG", "") not in ("", "0")


def size(short: int, long: int) -> int:
    """A count for the short suite (`./inv test`) or the long one (`./inv test --faults --long`)."""
    return long if LONG else short


def status(stack: Stack) -> dict[str, Any]:
    """The local cloud's `/_localcloud/status` (functions, APIs, queues)."""
    assert stack.control is not None, "the fault suite runs on the local cloud"
    return local_status(stack.control)


def function_status(stack: Stack, function: str) -> dict[str, Any]:
    return status(stack)["functions"][function]


def environment_pids(stack: Stack, function: str) -> list[int]:
    """The bootstrap processes of `function`'s execution environments (the local cloud started them)."""
    return [int(pid) for pid in function_status(stack, function)["rss_kb"]]


def signal_all(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        os.kill(pid, sig)


def wait_in_flight(stack: Stack, function: str, at_least: int = 1, deadline_s: float = 30.0) -> dict[str, Any]:
    """Waits until `function` has `at_least` invocations in flight; returns its status then."""

    def probe() -> dict[str, Any] | None:
        current = function_status(stack, function)
        return current if current["in_flight"] >= at_least else None

    return wait_for(f"{at_least} {function} invocation(s) in flight", probe, deadline_s=deadline_s)


def freeze_busy_environments(stack: Stack, function: str, deadline_s: float = 30.0) -> list[int]:
    """SIGSTOPs every environment of `function` at a moment when at least one invocation is in flight, and returns
    their pids: a frozen environment cannot finish, so what is in flight stays caught until it is killed (or
    continued). Waits for work, freezes, and thaws to try again if the work finished in between."""
    deadline = time.monotonic() + deadline_s
    while True:
        wait_in_flight(stack, function, deadline_s=max(0.1, deadline - time.monotonic()))
        pids = environment_pids(stack, function)
        signal_all(pids, signal.SIGSTOP)
        if function_status(stack, function)["in_flight"] >= 1:
            return pids
        signal_all(pids, signal.SIGCONT)


class Backend:
    """Stops a server of the running stack's backend and starts it again on the same port (same data on disk)."""

    def __init__(self, stack: Stack) -> None:
        assert stack.state_dir is not None and stack.control is not None
        self.state_dir = stack.state_dir
        self.env: dict[str, str] = stack.control["backend_env"]
        self.relaunched: list[ManagedProcess] = []

    def stop(self, server: str = "dynamodb-local") -> int:
        pid = stop_server(self.state_dir, server)
        assert pid is not None, f"no {server} server runs under {self.state_dir}"
        return pid

    def start(self, server: str = "dynamodb-local", deadline_s: float = 60.0) -> None:
        url = self.env["AWS_ENDPOINT_URL_DYNAMODB"] if server == "dynamodb-local" else self.env["AWS_ENDPOINT_URL"]
        self.relaunched.append(relaunch_server(self.state_dir, server, url, deadline=time.monotonic() + deadline_s))
