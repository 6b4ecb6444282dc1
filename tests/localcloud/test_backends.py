"""backends.py + provision.py against a real moto server process: tables and queues really exist as defined."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from devkit.localcloud.backends import Backend, BackendError, create_backend, stop_leftovers
from devkit.localcloud.backends.moto import MotoBackend
from devkit.localcloud.backends.provision import provision
from devkit.localcloud.model import StackSpec
from devkit.localcloud.template.loader import load_stack

FIXTURES = Path(__file__).parent / "fixtures"
REGION = "eu-west-1"


@pytest.fixture()
def moto(tmp_path: Path) -> Iterator[Backend]:
    backend = create_backend("moto", state_dir=tmp_path / "state", cache_dir=tmp_path / "cache", region=REGION)
    backend.start()
    try:
        yield backend
    finally:
        backend.stop()


def full_stack(backend: Backend, cache: Path) -> StackSpec:
    return load_stack(
        FIXTURES / "full.yaml", stack_name="demo", region=REGION, queue_url=backend.queue_url, cache_dir=cache
    )


def port_open(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, int(port))) == 0


def test_moto_backend_starts_answers_and_stops(tmp_path: Path) -> None:
    backend = create_backend("moto", state_dir=tmp_path / "state", cache_dir=tmp_path, region=REGION)
    assert isinstance(backend, MotoBackend)
    endpoint = backend.start()
    try:
        assert endpoint.startswith("http://127.0.0.1:")
        assert backend.is_running()
        assert backend.env() == {"AWS_ENDPOINT_URL": endpoint}
        assert backend.endpoint_url == endpoint
        assert backend.queue_url("q") == f"{endpoint}/123456789012/q"
        assert (tmp_path / "state" / "moto.pid").is_file()
        assert backend.boto3_client("dynamodb").list_tables()["TableNames"] == []
        assert backend.start() == endpoint  # idempotent
    finally:
        backend.stop()
    assert not backend.is_running()
    assert not port_open(endpoint)
    assert not (tmp_path / "state" / "moto.pid").exists()


def test_provision_creates_tables_as_the_template_defines(moto: Backend, tmp_path: Path) -> None:
    stack = full_stack(moto, tmp_path)
    provision(stack, moto)
    ddb = moto.boto3_client("dynamodb")
    assert sorted(ddb.list_tables()["TableNames"]) == ["demo-Simple", "demo-Table", "dev-named"]
    table = ddb.describe_table(TableName="demo-Table")["Table"]
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [("pk", "HASH"), ("sk", "RANGE")]
    (gsi,) = table["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "by-author" and gsi["Projection"]["ProjectionType"] == "ALL"
    (lsi,) = table["LocalSecondaryIndexes"]
    assert lsi["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["title"]}
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = ddb.describe_time_to_live(TableName="demo-Table")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    named = ddb.describe_table(TableName="dev-named")["Table"]
    assert named["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    ddb.put_item(TableName="demo-Table", Item={"pk": {"S": "a"}, "sk": {"S": "b"}})
    assert ddb.get_item(TableName="demo-Table", Key={"pk": {"S": "a"}, "sk": {"S": "b"}})["Item"]["pk"] == {"S": "a"}


def test_provision_creates_queues_dlq_first_with_redrive(moto: Backend, tmp_path: Path) -> None:
    stack = full_stack(moto, tmp_path)
    provision(stack, moto)
    sqs = moto.boto3_client("sqs")
    url = stack.functions["Api"].environment["QUEUE_URL"]  # Ref Queue → the backend's URL
    assert url == moto.queue_url("demo-Commands.fifo")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["FifoQueue"] == "true" and attributes["ContentBasedDeduplication"] == "true"
    assert (attributes["VisibilityTimeout"], attributes["MessageRetentionPeriod"]) == ("60", "86400")
    assert attributes["ReceiveMessageWaitTimeSeconds"] == "5"
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == f"arn:aws:sqs:{REGION}:123456789012:demo-CommandsDlq.fifo"
    assert int(redrive["maxReceiveCount"]) == 3
    assert attributes["QueueArn"] == stack.functions["Api"].environment["QUEUE_ARN"]
    sqs.send_message(QueueUrl=url, MessageBody="hello", MessageGroupId="g")
    (message,) = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert message["Body"] == "hello"
    plain = sqs.get_queue_attributes(QueueUrl=moto.queue_url("demo-plain-dev"), AttributeNames=["All"])["Attributes"]
    assert "FifoQueue" not in plain or plain["FifoQueue"] == "false"


def test_provision_creates_secrets_and_keeps_existing_values(moto: Backend, tmp_path: Path) -> None:
    stack = full_stack(moto, tmp_path)
    provision(stack, moto)
    client = moto.boto3_client("secretsmanager")
    assert client.get_secret_value(SecretId="demo-SigningKey")["SecretString"] == "{}"
    generated = json.loads(client.get_secret_value(SecretId="dev/db-password")["SecretString"])
    assert generated["username"] == "app"
    assert len(generated["password"]) == 20 and generated["password"].isalnum()
    client.put_secret_value(SecretId="demo-SigningKey", SecretString='{"current": "seeded"}')
    provision(stack, moto)
    assert client.get_secret_value(SecretId="demo-SigningKey")["SecretString"] == '{"current": "seeded"}'


def test_provision_twice_is_a_no_op(moto: Backend, tmp_path: Path) -> None:
    stack = full_stack(moto, tmp_path)
    first: list[str] = []
    provision(stack, moto, say=first.append)
    assert len([m for m in first if m.startswith("created")]) == 8
    again: list[str] = []
    warnings: list[str] = []
    provision(stack, moto, say=again.append, warn=warnings.append)
    assert again == [] and warnings == []


def test_changed_table_is_recreated_when_empty_and_warned_when_it_holds_data(moto: Backend, tmp_path: Path) -> None:
    stack = full_stack(moto, tmp_path)
    provision(stack, moto)
    table = stack.tables["Simple"]
    changed = replace(
        table,
        attribute_definitions=(*table.attribute_definitions, {"AttributeName": "email", "AttributeType": "S"}),
        global_secondary_indexes=(
            {"IndexName": "by-email", "KeySchema": [{"AttributeName": "email", "KeyType": "HASH"}]},
        ),
        ttl_attribute="gone_at",
    )
    said: list[str] = []
    provision(replace(stack, tables={"Simple": changed}, queues={}), moto, say=said.append)
    assert any(m.startswith("recreated table demo-Simple") for m in said)
    ddb = moto.boto3_client("dynamodb")
    assert ddb.describe_table(TableName="demo-Simple")["Table"]["GlobalSecondaryIndexes"][0]["IndexName"] == "by-email"
    assert ddb.describe_time_to_live(TableName="demo-Simple")["TimeToLiveDescription"]["AttributeName"] == "gone_at"
    ddb.put_item(TableName="demo-Simple", Item={"id": {"S": "1"}, "email": {"S": "a@b"}})
    warnings: list[str] = []
    provision(replace(stack, tables={"Simple": table}, queues={}), moto, warn=warnings.append)
    (warning,) = warnings
    assert "demo-Simple" in warning and "holds data" in warning
    assert ddb.get_item(TableName="demo-Simple", Key={"id": {"S": "1"}}).get("Item")  # data kept


def test_changed_queue_attributes_are_updated_in_place(moto: Backend, tmp_path: Path) -> None:
    stack = full_stack(moto, tmp_path)
    provision(stack, moto)
    plain = replace(stack.queues["Plain"], visibility_timeout_s=90)
    said: list[str] = []
    provision(replace(stack, tables={}, queues={"Plain": plain}), moto, say=said.append)
    assert said == ["updated queue demo-plain-dev: ['VisibilityTimeout']"]
    sqs = moto.boto3_client("sqs")
    attrs = sqs.get_queue_attributes(QueueUrl=moto.queue_url("demo-plain-dev"), AttributeNames=["VisibilityTimeout"])
    assert attrs["Attributes"]["VisibilityTimeout"] == "90"


def test_create_backend_rejects_unknown_kinds_and_aws_without_stage(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="unknown backend 'redis'"):
        create_backend("redis", state_dir=tmp_path, cache_dir=tmp_path, region=REGION)  # type: ignore[arg-type]
    with pytest.raises(BackendError, match="needs --stage"):
        create_backend("aws", state_dir=tmp_path, cache_dir=tmp_path, region=REGION)


def test_stop_leftovers_stops_servers_a_crashed_run_left_behind(tmp_path: Path) -> None:
    state = tmp_path / "state"
    backend = create_backend("moto", state_dir=state, cache_dir=tmp_path, region=REGION)
    endpoint = backend.start()
    assert isinstance(backend, MotoBackend) and backend.process.proc is not None
    pid = backend.process.proc.pid
    (state / "elasticmq.pid").write_text(f"{pid}\n")  # a pid file whose pid isn't that server: left alone
    assert stop_leftovers(state) == [pid]
    assert backend.process.proc.wait(timeout=5) is not None
    assert not port_open(endpoint)
    assert not list(state.glob("*.pid"))
    assert stop_leftovers(state) == []
