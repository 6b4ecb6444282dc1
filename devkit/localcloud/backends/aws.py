"""The `aws` backend: functions run locally against the tables and queues of a deployed stage.

Nothing is started and nothing is created: the stack's resources are looked up with CloudFormation
(DescribeStacks for outputs, ListStackResources for logical → physical ids) using the current AWS credentials
(the default chain). `endpoint_url` points every client at a stand-in (tests use a moto server).
"""

from __future__ import annotations

import time
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from devkit.localcloud.backends.base import CLIENT_CONFIG, Backend, BackendError, BackendKind

# Resource types whose physical id gives what the local cloud calls the physical name (queues: the URL's last
# segment; secrets: the ARN, which `Ref` returns on AWS and every Secrets Manager call accepts as SecretId).
_NAMED_TYPES = {"AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::Lambda::Function", "AWS::SecretsManager::Secret"}


class AwsBackend(Backend):
    kind: BackendKind = "aws"

    def __init__(self, *, stack_name: str, endpoint_url: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("account_id", "")
        super().__init__(**kwargs)
        self.stack_name = stack_name
        self.endpoint_override = endpoint_url
        self.outputs: dict[str, str] = {}
        self.resources: dict[str, tuple[str, str]] = {}  # logical id → (type, physical id)
        self._session = boto3.session.Session(region_name=self.region)
        self._started = False

    def start(self) -> str:
        if self._started:
            return self.endpoint_override or ""
        try:
            cfn = self.boto3_client("cloudformation")
            stacks = cfn.describe_stacks(StackName=self.stack_name)["Stacks"]
            self.outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
            for page in cfn.get_paginator("list_stack_resources").paginate(StackName=self.stack_name):
                for res in page["StackResourceSummaries"]:
                    physical = res.get("PhysicalResourceId", "")
                    self.resources[res["LogicalResourceId"]] = (res["ResourceType"], physical)
            self.account_id = self.boto3_client("sts").get_caller_identity()["Account"]
        except ClientError as exc:
            raise BackendError(
                f"aws backend: stack {self.stack_name!r} in {self.region}: {exc.response['Error'].get('Message', exc)}"
            ) from exc
        except BotoCoreError as exc:
            raise BackendError(f"aws backend: can't reach AWS for stack {self.stack_name!r}: {exc}") from exc
        self._started = True
        return self.endpoint_override or ""

    def stop(self) -> None:
        self._started = False  # the deployed stage is never touched

    def is_running(self) -> bool:
        return self._started

    def wait_ready(self, deadline: float) -> None:
        if not self._started and time.monotonic() < deadline:
            self.start()

    def endpoint_for(self, service: str) -> str | None:
        return self.endpoint_override

    def credentials(self) -> dict[str, str]:
        return {}  # the default chain: whatever the developer's shell is logged in as

    def boto3_client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self.endpoint_override, config=CLIENT_CONFIG)

    def env(self) -> dict[str, str]:
        """The caller's credentials (frozen) so local functions act as the developer on the deployed stage."""
        env = {"AWS_ENDPOINT_URL": self.endpoint_override} if self.endpoint_override else {}
        creds = self._session.get_credentials()
        if creds is not None:
            frozen = creds.get_frozen_credentials()
            env |= {"AWS_ACCESS_KEY_ID": frozen.access_key, "AWS_SECRET_ACCESS_KEY": frozen.secret_key}
            if frozen.token:
                env["AWS_SESSION_TOKEN"] = frozen.token
        return env

    def physical_names(self) -> dict[str, str]:
        """Logical id → physical name of the deployed tables, queues, functions and secrets (for `load_stack`)."""
        names = {}
        for lid, (rtype, physical) in self.resources.items():
            if rtype in _NAMED_TYPES and physical:
                names[lid] = physical.rsplit("/", 1)[-1] if rtype == "AWS::SQS::Queue" else physical
        return names

    def queue_url(self, name: str) -> str:
        for rtype, physical in self.resources.values():
            if rtype == "AWS::SQS::Queue" and physical.rsplit("/", 1)[-1] == name:
                return physical
        base = self.endpoint_override or f"https://sqs.{self.region}.amazonaws.com"
        return f"{base.rstrip('/')}/{self.account_id}/{name}"
