"""Where a task acts: the running local cloud, or a deployed stage (its CloudFormation outputs).

Tasks that touch data (`grant-admin`, later `clean-test-data`, contract and load tests) resolve a `Target`
here, so `--stage NAME` works the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from devkit import paths
from devkit.localcloud import stack_name_for

LOCAL_CREDENTIALS = {"aws_access_key_id": "localcloud", "aws_secret_access_key": "localcloud"}


class TargetError(RuntimeError):
    """The target cannot be reached or lacks what the task needs; the message says what to do."""


@dataclass(frozen=True)
class Target:
    name: str
    region: str
    outputs: dict[str, str]  # output name → value (local: resolved by the local cloud)
    endpoint_env: dict[str, str] = field(default_factory=dict)  # AWS_ENDPOINT_URL* for a local backend

    def output(self, key: str) -> str:
        try:
            return self.outputs[key]
        except KeyError:
            have = ", ".join(sorted(self.outputs)) or "none"
            raise TargetError(f"{self.name} has no output {key!r} (outputs: {have})") from None

    def client(self, service: str) -> Any:
        if not self.endpoint_env:
            return boto3.client(service, region_name=self.region)
        endpoint = self.endpoint_env.get(f"AWS_ENDPOINT_URL_{service.upper()}") or self.endpoint_env.get(
            "AWS_ENDPOINT_URL"
        )
        return boto3.client(service, region_name=self.region, endpoint_url=endpoint, **LOCAL_CREDENTIALS)


def local(state_dir: Path = paths.STATE_DIR) -> Target:
    from devkit.stack import read_control

    control = read_control(state_dir)
    if control is None:
        raise TargetError("no local cloud is running: start it with `./inv up` (or pass --stage NAME)")
    return Target("the local cloud", "us-east-1", dict(control.get("outputs", {})), dict(control["backend_env"]))


def stage(name: str, *, region: str | None = None) -> Target:
    session = boto3.session.Session(region_name=region)
    stack = stack_name_for(name)
    try:
        described = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    except Exception as err:
        raise TargetError(f"cannot read stack {stack} (stage {name!r}): {err}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    return Target(f"stage {name}", session.region_name or "us-east-1", outputs)


def resolve(stage_name: str = "") -> Target:
    return stage(stage_name) if stage_name else local()
