"""Data backends of the local cloud: where DynamoDB and SQS live while functions run on the laptop.

- `moto`: a `moto_server` subprocess on a free loopback port (pip only; the default).
- `dynamodb-local`: Amazon DynamoDB Local + ElasticMQ, fetched from Maven Central into the cache dir and run
  as Java processes (the real-engine option; see `dynamodb_local.py`).
- `aws`: no process; the resources of a deployed stage, named by its CloudFormation stack.

Every backend answers the same questions: which endpoint(s) functions must use (`env()`), a queue's URL,
and a boto3 client for provisioning and tests. Functions are separate processes, hence servers, never
in-process mocks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devkit.localcloud.backends.aws import AwsBackend
from devkit.localcloud.backends.base import Backend, BackendError, BackendKind, stack_name_for
from devkit.localcloud.backends.dynamodb_local import DynamoDbLocalBackend
from devkit.localcloud.backends.moto import MotoBackend
from devkit.localcloud.backends.process import ManagedProcess, relaunch_server, stop_leftovers, stop_server

__all__ = [
    "Backend",
    "BackendError",
    "BackendKind",
    "ManagedProcess",
    "create_backend",
    "relaunch_server",
    "stack_name_for",
    "stop_leftovers",
    "stop_server",
]


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
        return DynamoDbLocalBackend(account_id=account_id, **common)
    if kind == "aws":
        if stack_name is None and stage is None:
            raise BackendError("the aws backend needs --stage (or a stack name) to find the deployed resources")
        return AwsBackend(stack_name=stack_name or stack_name_for(stage or ""), endpoint_url=endpoint_url, **common)
    raise BackendError(f"unknown backend {kind!r}: use moto, dynamodb-local or aws")
