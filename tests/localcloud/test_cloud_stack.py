"""The whole chain on a real SAM template: load_stack (template helper) → moto backend + provisioning (backend
helper) → LocalCloud running the probe for every function. Checks the contract between the three parts."""

from __future__ import annotations

import json
import time
from pathlib import Path

import aiohttp

from devkit.localcloud import free_port_block
from devkit.localcloud.backends import create_backend
from devkit.localcloud.backends.provision import provision
from devkit.localcloud.cloud import LocalCloud, api_urls_for
from devkit.localcloud.model import PoolSettings
from devkit.localcloud.template.loader import load_stack
from tests.localcloud.support import run, wait_until

FIXTURE = Path(__file__).parent / "fixtures" / "full.yaml"


def test_template_stack_runs_end_to_end(probe_bootstrap: Path, tmp_path: Path) -> None:
    port = free_port_block(2)
    backend = create_backend("moto", state_dir=tmp_path / "backend", cache_dir=tmp_path / "cache", region="us-east-1")
    backend.start()
    try:
        backend.wait_ready(time.monotonic() + 30)
        stack = load_stack(
            FIXTURE,
            stack_name="e2e",
            api_urls=api_urls_for(["HttpApi"], port=port),
            queue_url=backend.queue_url,
            cache_dir=tmp_path / "tpl",
        )
        provision(stack, backend)
        bootstraps = {name: probe_bootstrap for name in stack.functions}

        async def body() -> None:
            cloud = LocalCloud(
                stack,
                bootstraps,
                endpoint_url=backend.endpoint_url,
                extra_env=backend.env(),
                port=port,
                state_dir=tmp_path / "state",
                console=None,
                pool_settings=PoolSettings(shutdown_grace_s=1.0),
            )
            async with cloud:
                base = cloud.urls["HttpApi"]
                assert base == f"http://127.0.0.1:{port}"
                lmi = [n for n, f in stack.functions.items() if f.is_managed_instances]
                for name in lmi:
                    assert len(cloud.pools[name].envs) == stack.functions[name].min_environments
                async with aiohttp.ClientSession() as http:
                    item = await http.get(f"{base}/items/42")
                    assert item.status == 200
                    event = (await item.json())["event"]
                    assert event["routeKey"] == "GET /items/{id}" and event["pathParameters"] == {"id": "42"}
                    env = await (await http.get(f"{base}/env")).json()
                    assert env["function_name"] == stack.functions["Api"].physical_name
                    assert env["endpoint"] == backend.endpoint_url
                    # JWT-protected route: no token → 401 from the gateway, Convert never invoked.
                    denied = await http.get(f"{base}/convert")
                    assert denied.status == 401 and await denied.json() == {"message": "Unauthorized"}
                    assert cloud.pools["Convert"].invocations == 0
                    preflight = await http.options(
                        f"{base}/items/1",
                        headers={"Origin": "https://example.com", "Access-Control-Request-Method": "POST"},
                    )
                    assert preflight.status == 204
                    assert preflight.headers["access-control-allow-origin"] == "https://example.com"
                enabled = [m for m in stack.event_source_mappings if m.enabled]
                assert len(cloud.pollers) == len(enabled)
                fifo = next(p for p in cloud.pollers if p.queue.fifo)
                sqs = backend.boto3_client("sqs")
                sqs.send_message(QueueUrl=fifo.queue_url, MessageBody="hello", MessageGroupId="g")
                await wait_until(lambda: fifo.stats.deleted == 1, 20, "the FIFO mapping to process a message")
                status = await cloud.status()
                assert status["functions"][fifo.mapping.function]["invocations"] >= 1
                print(json.dumps(status["queues"], indent=1))

        run(body())
    finally:
        backend.stop()
