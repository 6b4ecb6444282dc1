"""The `aws` backend, tested against a moto server standing in for AWS (there is no AWS account here).

A plain CloudFormation stack is deployed to the stand-in; the backend must find its outputs and resources,
give their real names and URLs, hand functions the caller's credentials, and never create anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.localcloud.backends import Backend, BackendError, create_backend, stack_name_for
from devkit.localcloud.backends.aws import AwsBackend
from devkit.localcloud.backends.provision import provision
from devkit.localcloud.template.loader import load_stack

FIXTURES = Path(__file__).parent / "fixtures"
REGION = "eu-west-1"


@pytest.fixture()
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    """A moto server with the stage `test` deployed from plain_cfn.yaml; dummy credentials in the environment."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSTANDIN")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "stand-in-secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    moto = create_backend("moto", state_dir=tmp_path / "moto", cache_dir=tmp_path, region=REGION)
    moto.start()
    try:
        cfn = moto.boto3_client("cloudformation")
        body = (FIXTURES / "plain_cfn.yaml").read_text()
        cfn.create_stack(StackName=stack_name_for("test"), TemplateBody=body, Parameters=[])
        yield moto
    finally:
        moto.stop()


def aws_backend(stand_in: Backend, tmp_path: Path, stage: str = "test") -> AwsBackend:
    backend = create_backend(
        "aws", state_dir=tmp_path, cache_dir=tmp_path, region=REGION, stage=stage, endpoint_url=stand_in.endpoint_url
    )
    assert isinstance(backend, AwsBackend)
    return backend


def test_aws_backend_reads_the_deployed_stack(stand_in: Backend, tmp_path: Path) -> None:
    backend = aws_backend(stand_in, tmp_path)
    assert backend.start() == stand_in.endpoint_url
    assert backend.is_running()
    assert backend.account_id == "123456789012"
    assert backend.outputs["ItemsTable"] == "items-test"
    assert backend.outputs["JobsQueueUrl"].endswith("/jobs-test")
    names = backend.physical_names()
    assert names == {"Items": "items-test", "Jobs": "jobs-test"}
    assert backend.queue_url("jobs-test") == backend.outputs["JobsQueueUrl"]
    env = backend.env()
    assert env["AWS_ENDPOINT_URL"] == stand_in.endpoint_url
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("AKIDSTANDIN", "stand-in-secret")
    backend.boto3_client("dynamodb").put_item(TableName="items-test", Item={"id": {"S": "1"}})
    assert stand_in.boto3_client("dynamodb").get_item(TableName="items-test", Key={"id": {"S": "1"}})["Item"]
    backend.stop()
    assert not backend.is_running()
    assert "items-test" in stand_in.boto3_client("dynamodb").list_tables()["TableNames"]  # never touched


def test_aws_backend_provision_only_verifies(stand_in: Backend, tmp_path: Path) -> None:
    backend = aws_backend(stand_in, tmp_path)
    backend.start()
    stack = load_stack(
        FIXTURES / "plain_cfn.yaml",
        parameters={"Stage": "test"},
        region=REGION,
        physical_names=backend.physical_names(),
        queue_url=backend.queue_url,
        cache_dir=tmp_path / "cache",
    )
    assert stack.outputs["JobsQueueUrl"] == backend.outputs["JobsQueueUrl"]
    said: list[str] = []
    warnings: list[str] = []
    provision(stack, backend, say=said.append, warn=warnings.append)
    assert said == [] and warnings == []
    other = load_stack(
        FIXTURES / "plain_cfn.yaml", parameters={"Stage": "missing"}, region=REGION, cache_dir=tmp_path / "cache"
    )
    provision(other, backend, say=said.append, warn=warnings.append)
    assert said == []
    assert sorted(warnings) == [
        "queue jobs-missing (Jobs) does not exist on the deployed stage",
        "table items-missing (Items) does not exist on the deployed stage",
    ]
    tables = stand_in.boto3_client("dynamodb").list_tables()["TableNames"]
    assert tables == ["items-test"]


def test_aws_backend_unknown_stage_is_a_clear_error(stand_in: Backend, tmp_path: Path) -> None:
    backend = aws_backend(stand_in, tmp_path, stage="nope")
    with pytest.raises(BackendError, match=r"stack 'lambda-rust-reference-nope' in eu-west-1: .*does not exist"):
        backend.start()


def test_physical_names_of_deployed_resources(tmp_path: Path) -> None:
    # (moto's CloudFormation doesn't create secrets, so the mapping itself is checked on listed resources)
    backend = AwsBackend(stack_name="s", state_dir=tmp_path, cache_dir=tmp_path, region=REGION)
    arn = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:AuthSigningKey-AbCdEf"
    backend.resources = {
        "Table": ("AWS::DynamoDB::Table", "s-Table-1ABC"),
        "Queue": ("AWS::SQS::Queue", f"https://sqs.{REGION}.amazonaws.com/123456789012/s-Queue-2DEF"),
        "Fn": ("AWS::Lambda::Function", "s-Fn-3GHI"),
        "Key": ("AWS::SecretsManager::Secret", arn),
        "Role": ("AWS::IAM::Role", "s-Role-4JKL"),
    }
    backend.account_id = "123456789012"
    assert backend.physical_names() == {"Table": "s-Table-1ABC", "Queue": "s-Queue-2DEF", "Fn": "s-Fn-3GHI", "Key": arn}
    assert backend.queue_url("s-Queue-2DEF") == f"https://sqs.{REGION}.amazonaws.com/123456789012/s-Queue-2DEF"
    assert backend.queue_url("other") == f"https://sqs.{REGION}.amazonaws.com/123456789012/other"
