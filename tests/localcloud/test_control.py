"""The control endpoint: the Lambda Invoke API (driven by boto3, as `aws lambda invoke` would) and status."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import aiohttp
import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from devkit.localcloud.cloud import LocalCloud
from tests.localcloud.support import REGION, function_spec, run, stack_spec, wait_until


def _lambda(url: str) -> Any:
    return boto3.client(
        "lambda",
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id="x",
        aws_secret_access_key="y",
        config=Config(retries={"total_max_attempts": 1}),
    )


def test_lambda_invoke_api_and_status(probe_bootstrap: Path, tmp_path: Path) -> None:
    stack = stack_spec(functions=[function_spec(), function_spec("Limited", reserved_concurrency=0)])

    async def body() -> None:
        async with LocalCloud(
            stack, {n: probe_bootstrap for n in stack.functions}, state_dir=tmp_path, console=None
        ) as cloud:
            assert cloud.control is not None
            url = cloud.control.url
            assert json.loads((tmp_path / "state.json").read_text())["control_url"] == url
            client = _lambda(url)
            loop = asyncio.get_running_loop()

            def call(**kw: Any) -> Any:
                return loop.run_in_executor(None, lambda: client.invoke(**kw))

            ok = await call(FunctionName="Probe", Payload=b'{"action":"echo","x":1}', LogType="Tail")
            assert ok["StatusCode"] == 200 and ok["ExecutedVersion"] == "$LATEST" and "FunctionError" not in ok
            assert json.loads(json.loads(ok["Payload"].read())["body"])["event"] == {"action": "echo", "x": 1}
            log = base64.b64decode(ok["LogResult"]).decode()
            assert "START RequestId:" in log and "REPORT RequestId:" in log

            by_name = await call(FunctionName="localtest-Probe", Payload=b"{}")
            by_arn = await call(FunctionName=cloud.stack.function_arn("Probe"), Payload=b"{}")
            assert by_name["StatusCode"] == by_arn["StatusCode"] == 200

            failed = await call(FunctionName="Probe", Payload=b'{"action":"error"}')
            assert failed["FunctionError"] == "Unhandled"
            assert json.loads(failed["Payload"].read())["errorMessage"] == "probe error on purpose"

            before = cloud.pools["Probe"].invocations
            event = await call(FunctionName="Probe", InvocationType="Event", Payload=b'{"action":"echo"}')
            assert event["StatusCode"] == 202
            await wait_until(lambda: cloud.pools["Probe"].invocations == before + 1, 5, "the async invocation")
            dry = await call(FunctionName="Probe", InvocationType="DryRun")
            assert dry["StatusCode"] == 204

            for name, code in (("Nope", "ResourceNotFoundException"), ("Limited", "TooManyRequestsException")):
                with pytest.raises(ClientError) as caught:
                    await call(FunctionName=name, Payload=b"{}")
                assert caught.value.response["Error"]["Code"] == code, name
            with pytest.raises(ClientError) as too_big:
                await call(FunctionName="Probe", Payload=b"x" * 6_300_000)
            assert too_big.value.response["Error"]["Code"] == "RequestTooLargeException"

            async with aiohttp.ClientSession() as http:
                status = await (await http.get(f"{url}/_localcloud/status")).json()
            assert status["functions"]["Probe"]["invocations"] >= 5
            assert status["functions"]["Limited"]["throttles"] == 1

    run(body())
