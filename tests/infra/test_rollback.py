"""`./inv rollback`: the aliases the last deploy moved go back one version (moto's Lambda, in process)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from devkit.deploy import rollback
from devkit.deploy.rollback import Moved, RollbackError
from tests.support import moto_aws


def _zip(text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("bootstrap", text)
    return buf.getvalue()


@pytest.fixture
def lam(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with moto_aws(monkeypatch):
        role = boto3.client("iam", region_name="us-east-1").create_role(
            RoleName="fn-role", AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}'
        )["Role"]["Arn"]
        client = boto3.client("lambda", region_name="us-east-1")
        # twice-released: versions 1 and 2, live on 2; new: only version 1; plain: no alias at all.
        for name, releases in (("twice-released", 2), ("new", 1), ("plain", 1)):
            client.create_function(
                FunctionName=name, Runtime="provided.al2023", Handler="bootstrap", Role=role,
                Code={"ZipFile": _zip("v1")}, Publish=True,
            )  # fmt: skip
            for n in range(2, releases + 1):
                client.update_function_code(FunctionName=name, ZipFile=_zip(f"v{n}"))
                client.publish_version(FunctionName=name)
            if name != "plain":
                client.create_alias(FunctionName=name, Name="live", FunctionVersion=str(releases))
        yield client


class Stack:
    """The two CloudFormation calls rollback makes, for a stack holding the three functions."""

    def __init__(self, last_update: datetime | None) -> None:
        self.last_update = last_update

    def describe_stacks(self, **_: Any) -> dict[str, Any]:
        stack: dict[str, Any] = {"StackName": "s"}
        if self.last_update:
            stack["LastUpdatedTime"] = self.last_update
        return {"Stacks": [stack]}

    def list_stack_resources(self, **_: Any) -> dict[str, Any]:
        fns = ["twice-released", "new", "plain"]
        rows = [{"ResourceType": "AWS::Lambda::Function", "PhysicalResourceId": f} for f in fns]
        return {"StackResourceSummaries": [*rows, {"ResourceType": "AWS::SQS::Queue", "PhysicalResourceId": "q"}]}


def test_previous_version_skips_latest_and_newer() -> None:
    assert rollback.previous_version(["$LATEST", "1", "2", "3"], "3") == "2"
    assert rollback.previous_version(["$LATEST", "1", "3", "4"], "3") == "1"
    assert rollback.previous_version(["$LATEST", "1"], "1") is None


def test_last_modified_in_aws_and_moto_forms() -> None:
    aws = rollback.published_at({"LastModified": "2026-12-07T02:35:19.000+0000"})
    moto = rollback.published_at({"LastModified": "2026-12-07T02:35:19.570397000Z"})
    assert aws == moto == datetime(2026, 12, 7, 2, 35, 19, tzinfo=UTC)
    with pytest.raises(RollbackError, match="unreadable"):
        rollback.published_at({"LastModified": "yesterday"})


def test_rollback_moves_the_aliases_the_last_update_published(lam: Any) -> None:
    past = datetime.now(UTC) - timedelta(days=1)
    moved = rollback.rollback(Stack(last_update=past), lam, "s", say=lambda _: None)
    assert moved == [Moved("twice-released", "2", "1")]  # "new" has nothing older; "plain" has no alias
    alias = lam.get_alias(FunctionName="twice-released", Name="live")
    assert alias["FunctionVersion"] == "1" and not alias.get("RoutingConfig", {}).get("AdditionalVersionWeights")
    assert lam.get_alias(FunctionName="new", Name="live")["FunctionVersion"] == "1"


def test_versions_older_than_the_last_update_stay(lam: Any) -> None:
    future = datetime.now(UTC) + timedelta(days=1)
    with pytest.raises(RollbackError, match="nothing to roll back"):
        rollback.rollback(Stack(last_update=future), lam, "s", say=lambda _: None)
    assert lam.get_alias(FunctionName="twice-released", Name="live")["FunctionVersion"] == "2"


def test_a_stack_never_updated_has_nothing_to_roll_back(lam: Any) -> None:
    with pytest.raises(RollbackError, match="never updated"):
        rollback.rollback(Stack(last_update=None), lam, "s", say=lambda _: None)
