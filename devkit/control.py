"""The running local cloud from the outside (`./inv down`, `status`, `invoke`, `fault`): everything goes through its
control file (.localcloud/control.json) and its control API; nothing here imports the local cloud itself."""

from __future__ import annotations

import base64
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from devkit.errors import TaskFailure


def require_control() -> dict[str, Any]:
    """The running local cloud's control file; TaskFailure when none runs."""
    from devkit.stack import read_control

    control = read_control()
    if control is None:
        raise TaskFailure("no local cloud is running: start one with `./inv up`")
    return control


def start(args: list[str]) -> None:
    """`./inv up`: runs the stack in this process (`devkit.stack`) unless one already runs."""
    from devkit import stack

    if stack.read_control() is not None:
        raise TaskFailure("a local cloud is already running (./inv status shows it; ./inv down stops it)")
    stack.main(args)


def stop(*, deadline_s: float = 60.0) -> None:
    """`./inv down`: SIGTERM to the running local cloud, then wait until its process is gone."""
    from devkit.localcloud import process_alive

    pid = int(require_control()["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if not process_alive(pid):
            print("down: stopped")
            return
        time.sleep(0.2)  # poll interval, bounded by the deadline above
    raise TaskFailure(f"pid {pid} is still running after {deadline_s:.0f} s")


def show_status(*, as_json: bool) -> None:
    """`./inv status`: environments per function, requests per API and queue depths, as tables or JSON."""
    from devkit.stack import local_status

    control = require_control()
    state = local_status(control, timeout_s=10)
    if as_json:
        print(json.dumps(state, indent=2))
        return
    for name, url in control["urls"].items():
        print(f"{name:<24} {url}")
    print(f"\n{'function':<24} {'envs':>5} {'busy':>5} {'invocations':>12} {'cold starts':>12}")
    for name, fn in state["functions"].items():
        print(
            f"{name:<24} {fn.get('environments', 0):>5} {fn.get('busy', 0):>5} "
            f"{fn.get('invocations', 0):>12} {fn.get('cold_starts', 0):>12}"
        )
    for name, queue in state.get("queues", {}).items():
        print(f"queue {name}: {json.dumps(queue)}")


def invoke(function: str, event: str) -> None:
    """`./inv invoke`: one direct invocation through the local cloud's Lambda API (boto3); the log tail goes to
    stderr, the payload to stdout."""
    import boto3

    from devkit.targets import LOCAL_CREDENTIALS

    control = require_control()
    payload = Path(event).read_bytes() if event else b"{}"
    client = boto3.client(
        "lambda", region_name="us-east-1", endpoint_url=control["lambda_endpoint"], **LOCAL_CREDENTIALS
    )
    try:
        result = client.invoke(FunctionName=function, Payload=payload, LogType="Tail")
    except client.exceptions.ResourceNotFoundException as err:
        raise TaskFailure(str(err)) from None
    print(base64.b64decode(result.get("LogResult", "")).decode(errors="replace"), file=sys.stderr)
    print(result["Payload"].read().decode(errors="replace"))
    if result.get("FunctionError"):
        raise TaskFailure(f"{function} failed ({result['FunctionError']})")


def faults(function: str, spec: dict[str, Any], *, seed: int, clear: bool) -> None:
    """`./inv fault`: installs one fault `spec` on `function` (or clears its faults); without a function, lists
    what is installed."""
    from devkit.stack import list_faults, set_faults

    control = require_control()
    if not function:
        print(json.dumps(list_faults(control), indent=2))
        return
    print(json.dumps(set_faults(control, function, None if clear else {"seed": seed, "faults": [spec]}), indent=2))
