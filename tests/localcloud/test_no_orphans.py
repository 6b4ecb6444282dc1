"""Nothing outlives a local cloud, even one that is SIGKILLed: its environments (bootstraps) and its backend
servers (moto, DynamoDB Local and ElasticMQ, Java processes) get the kernel's parent-death signal.

On AWS an execution environment cannot outlive the service running it; locally, a bootstrap or a Java server
left behind keeps ports, memory and CPU (a bootstrap spinning on a Runtime API that is gone)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devkit import paths
from devkit.localcloud import process_alive
from devkit.localcloud.host import PARENT_DEATH_SIGNAL, die_with_parent

SCRIPT = """
import json, sys
from pathlib import Path
from devkit.localcloud.backends import create_backend
from devkit.localcloud.cloud import LocalCloud, run, serve_until_signalled
from tests.localcloud.support import ACCOUNT, REGION, function_spec, probe_api, stack_spec

state, cache, bootstrap = (Path(a) for a in sys.argv[1:4])
backend = create_backend("dynamodb-local", state_dir=state / "backend", cache_dir=cache, region=REGION,
                         account_id=ACCOUNT)
backend.start()  # the main thread: the one whose death the servers' parent-death signal follows
stack = stack_spec(functions=[function_spec(), function_spec("Lmi", max_concurrency_per_env=4, min_environments=2)],
                   http_apis=[probe_api()])
cloud = LocalCloud(stack, {"Probe": bootstrap, "Lmi": bootstrap}, endpoint_url=backend.endpoint_url,
                   extra_env=backend.env(), state_dir=state, console=None)

async def main():
    async def ready(c):
        await c.invoke("Probe", {"action": "echo"})  # a standard environment too
        status = await c.status()
        environments = [int(p) for f in status["functions"].values() for p in f["rss_kb"]]
        servers = [backend.dynamodb.proc.pid, backend.elasticmq.proc.pid, backend.others.process.proc.pid]
        print(json.dumps({"environments": environments, "servers": servers}), flush=True)
    import asyncio
    tasks = []
    await serve_until_signalled(cloud, lambda c: tasks.append(asyncio.ensure_future(ready(c))))

run(main())
"""


def _wait_gone(pids: list[int], deadline_s: float) -> list[int]:
    deadline = time.monotonic() + deadline_s
    while True:
        alive = [p for p in pids if process_alive(p)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def test_parent_death_signal_is_available_here() -> None:
    # The test below relies on it; off Linux `die_with_parent` is None and a SIGKILLed cloud leaves children.
    assert sys.platform.startswith("linux") and PARENT_DEATH_SIGNAL and callable(die_with_parent())


@pytest.mark.slow
def test_a_sigkilled_local_cloud_leaves_no_environment_and_no_backend_server(
    probe_bootstrap: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(paths.ROOT)}
    args = [str(tmp_path), str(paths.cache_dir()), str(probe_bootstrap)]
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, *args], stdout=subprocess.PIPE, text=True, env=env)
    pids: dict[str, list[int]] = {}
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, f"the local cloud exited ({proc.wait()}) before it was ready"
        pids = json.loads(line)
        assert len(pids["environments"]) == 3 and len(pids["servers"]) == 3, pids
        assert all(process_alive(p) for p in pids["environments"] + pids["servers"])
        os.kill(proc.pid, signal.SIGKILL)  # no handler runs: only the kernel can clean up now
        assert proc.wait(10) == -signal.SIGKILL
        left = _wait_gone(pids["environments"] + pids["servers"], 15)
        assert not left, f"outlived their SIGKILLed local cloud: {left} of {pids}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in pids.get("environments", []) + pids.get("servers", []):  # only if the test failed
            if process_alive(pid):
                os.kill(pid, signal.SIGKILL)
