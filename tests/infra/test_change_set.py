"""`./inv deploy`'s change set: shown, refused on production for a table or queue replacement, confirmed, executed.

Two sources: DescribeChangeSet responses in the API's shape (tests/infra/fixtures; moto computes no Replacement),
and moto's CloudFormation (in process) for the create → describe → execute / delete round trip.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from devkit.deploy import changes
from devkit.deploy.changes import Change, ChangeSetRefused
from tests.support import moto_aws

FIXTURES = Path(__file__).parent / "fixtures"
PAGES = [
    json.loads((FIXTURES / name).read_text())
    for name in ("describe_change_set_prod_replaces_table.json", "describe_change_set_prod_replaces_table.page2.json")
]


def test_every_page_is_read_and_replacements_are_flagged() -> None:
    parsed = changes.parse(PAGES)
    assert [(c.action, c.logical_id) for c in parsed] == [
        ("Modify", "UsersTable"),
        ("Modify", "AuthManager"),
        ("Add", "AuthManagerErrorsAlarm"),
        ("Remove", "OldLogGroup"),
        ("Modify", "CommandsQueue"),
    ]
    assert {c.logical_id for c in parsed if c.replaces} == {"UsersTable", "CommandsQueue"}


def test_the_preview_groups_changes_and_highlights_replacements() -> None:
    text = changes.render(changes.parse(PAGES))
    lines = text.splitlines()
    assert [line.split()[1] for line in lines[:-1]] == ["Add", "Modify", "Modify", "Modify", "Remove"]
    users = next(line for line in lines if "UsersTable" in line)
    assert "<<< REPLACE (data or messages are lost)" in users
    assert "<<< MAY REPLACE" in next(line for line in lines if "CommandsQueue" in line)
    assert "<<<" not in next(line for line in lines if "AuthManager " in line)
    assert lines[-1] == "1 to add, 3 to modify (2 replaced), 1 to remove"
    assert "\033[1;31m" in changes.render(changes.parse(PAGES), color=True)
    assert changes.render([]) == "no changes"


@pytest.mark.parametrize("stage", ["prod", "production", "live-eu"])
def test_production_refuses_replacing_a_table_or_queue(stage: str) -> None:
    refused = changes.refusals(stage, changes.parse(PAGES), allow_replacement=False)
    assert len(refused) == 2 and "UsersTable" in refused[0] and "CommandsQueue" in refused[1]
    assert changes.refusals(stage, changes.parse(PAGES), allow_replacement=True) == []


def test_other_stages_and_stateless_replacements_are_not_refused() -> None:
    assert changes.refusals("staging", changes.parse(PAGES), allow_replacement=False) == []
    function = Change("Modify", "Fn", "AWS::Lambda::Function", replacement="True")
    assert changes.refusals("prod", [function], allow_replacement=False) == []


class RecordedCfn:
    """A CloudFormation client answering DescribeChangeSet with the recorded pages; records what it was asked."""

    class exceptions:  # boto3 names it so
        ClientError = Exception

    def __init__(self, status: str = "UPDATE_COMPLETE") -> None:
        self.calls: list[str] = []
        self.status = status

    def describe_stacks(self, **_: Any) -> dict[str, Any]:
        return {"Stacks": [{"StackName": "lambda-rust-reference-prod", "StackStatus": self.status}]}

    def create_change_set(self, **kwargs: Any) -> None:
        self.calls.append(f"create {kwargs['ChangeSetType']}")

    def describe_change_set(self, **kwargs: Any) -> dict[str, Any]:
        return PAGES[1] if kwargs.get("NextToken") == "page-2" else PAGES[0]

    def delete_change_set(self, **_: Any) -> None:
        self.calls.append("delete")

    def execute_change_set(self, **_: Any) -> None:
        self.calls.append("execute")


def _preview(cfn: Any, stage: str, **kwargs: Any) -> list[Change]:
    """preview_and_execute on `stage`'s stack; a fixed template URL, the Stage parameter and a silent `say` unless
    `kwargs` say otherwise."""
    defaults = {
        "template_url": "https://bucket.s3.amazonaws.com/t.json",
        "parameters": {"Stage": stage},
        "say": lambda _: None,
    }
    return changes.preview_and_execute(cfn, stage=stage, stack=f"lambda-rust-reference-{stage}", **defaults | kwargs)


def test_a_refused_change_set_is_deleted_and_never_executed() -> None:
    cfn = RecordedCfn()
    with pytest.raises(ChangeSetRefused, match=r"UsersTable.*--allow-replacement"):
        _preview(cfn, "prod", yes=True, allow_replacement=False)
    assert cfn.calls == ["create UPDATE", "delete"]


def test_an_unconfirmed_change_set_is_deleted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    cfn = RecordedCfn()
    with pytest.raises(ChangeSetRefused, match="not confirmed"):
        _preview(cfn, "prod", yes=False, allow_replacement=True, ask=lambda _: "n")
    assert cfn.calls == ["create UPDATE", "delete"]
    monkeypatch.setenv("CI", "true")
    with pytest.raises(ChangeSetRefused, match="--yes"):
        _preview(RecordedCfn(), "prod", yes=False, allow_replacement=True, ask=lambda _: "y")


# ---- moto: the round trip on a real (emulated) CloudFormation ----------------------------------------------------
TEMPLATE = {
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 30}},
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            },
        },
    },
    "Outputs": {"QueueUrl": {"Value": {"Ref": "Queue"}}},
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with moto_aws(monkeypatch):
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="artifacts")

        def upload(template: dict[str, Any], key: str) -> str:
            s3.put_object(Bucket="artifacts", Key=key, Body=json.dumps(template).encode())
            return f"https://artifacts.s3.amazonaws.com/{key}"

        yield {"cfn": boto3.client("cloudformation", region_name="us-east-1"), "upload": upload}


def test_moto_creates_then_updates_through_confirmed_change_sets(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfn = aws["cfn"]
    v1 = aws["upload"](TEMPLATE, "v1.json")
    created = _preview(cfn, "pr-7", template_url=v1, parameters={}, yes=True, allow_replacement=False)
    assert {(c.action, c.logical_id) for c in created} == {("Add", "Queue"), ("Add", "Table")}
    assert cfn.describe_stacks(StackName="lambda-rust-reference-pr-7")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"

    v2 = json.loads(json.dumps(TEMPLATE))
    v2["Resources"]["Queue"]["Properties"]["VisibilityTimeout"] = 60
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    shown: list[str] = []
    with pytest.raises(ChangeSetRefused, match="not confirmed"):
        _preview(
            cfn,
            "pr-7",
            template_url=aws["upload"](v2, "v2.json"),
            parameters={},
            yes=False,
            allow_replacement=False,
            say=shown.append,
            ask=lambda _: "no",
        )
    assert any("Modify" in line and "Queue" in line for line in "\n".join(shown).splitlines())
    name = re.search(r"change set (\S+) for", shown[0])
    listed = {c["ChangeSetName"] for c in cfn.list_change_sets(StackName="lambda-rust-reference-pr-7")["Summaries"]}
    assert name and name.group(1) not in listed  # deleted
    sqs = boto3.client("sqs", region_name="us-east-1")
    (url,) = sqs.list_queues()["QueueUrls"]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"] == {
        "VisibilityTimeout": "30"
    }  # not executed


def test_the_artifact_bucket_comes_from_the_packaged_template(tmp_path: Path) -> None:
    from devkit.deploy import stage

    packaged = tmp_path / "packaged.yaml"
    packaged.write_text("Resources:\n  Fn:\n    Properties:\n      CodeUri: s3://aws-sam-cli-managed-x1/stack/abc\n")
    assert stage.artifact_bucket(packaged) == "aws-sam-cli-managed-x1"
    packaged.write_text("Resources: {}\n")
    with pytest.raises(stage.DeployError, match="--s3-bucket"):
        stage.artifact_bucket(packaged)


def test_a_stack_whose_first_change_set_was_declined_is_still_created() -> None:
    # AWS keeps such a stack in REVIEW_IN_PROGRESS; only a CREATE change set applies to it. (moto would create a
    # second stack of the same name here, so this one is checked on the recorded client.)
    cfn = RecordedCfn(status="REVIEW_IN_PROGRESS")
    with pytest.raises(ChangeSetRefused):
        _preview(cfn, "prod", yes=True, allow_replacement=False)
    assert cfn.calls[0] == "create CREATE"
