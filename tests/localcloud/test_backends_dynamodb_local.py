"""The dynamodb-local backend: DynamoDB Local + ElasticMQ from Maven Central, provisioned from the template.

The first run downloads both servers (~90 MB with dependencies) into the user cache dir; later runs are
offline. The cache is the real one (devkit.paths.cache_dir()), so CI and `./inv up --backend dynamodb-local`
share the download.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from devkit import paths
from devkit.localcloud.backends import create_backend
from devkit.localcloud.backends.dynamodb_local import DYNAMODB_LOCAL, ELASTICMQ, DynamoDbLocalBackend, elasticmq_config
from devkit.localcloud.backends.provision import provision
from devkit.localcloud.template.loader import load_stack

FIXTURES = Path(__file__).parent / "fixtures"
REGION = "eu-west-1"
ACCOUNT = "123456789012"


def test_elasticmq_config_uses_the_port_region_and_account() -> None:
    config = elasticmq_config(4321, REGION, ACCOUNT)
    assert 'host = "127.0.0.1", port = 4321' in config
    assert "bind-port = 4321" in config and 'bind-hostname = "127.0.0.1"' in config
    assert f'aws {{ region = "{REGION}", accountId = "{ACCOUNT}" }}' in config


@pytest.mark.slow
def test_dynamodb_local_backend_provisions_and_answers(tmp_path: Path) -> None:
    backend = create_backend(
        "dynamodb-local", state_dir=tmp_path / "state", cache_dir=paths.cache_dir(), region=REGION, account_id=ACCOUNT
    )
    assert isinstance(backend, DynamoDbLocalBackend)
    started = time.monotonic()
    backend.start()
    start_s = time.monotonic() - started
    try:
        for server in (DYNAMODB_LOCAL, ELASTICMQ):
            assert (paths.cache_dir() / server.name / server.version / ".complete").is_file()
        assert backend.is_running()
        env = backend.env()
        assert env["AWS_ENDPOINT_URL_DYNAMODB"] == backend.dynamodb_endpoint == backend.endpoint_for("dynamodb")
        assert env["AWS_ENDPOINT_URL_SQS"] == backend.sqs_endpoint == backend.endpoint_for("sqs")
        assert env["AWS_ENDPOINT_URL"] == backend.endpoint_url == backend.endpoint_for("secretsmanager")
        assert len(set(env.values())) == 3  # DynamoDB Local, ElasticMQ, moto for every other service

        stack = load_stack(
            FIXTURES / "full.yaml",
            stack_name="demo",
            region=REGION,
            account_id=ACCOUNT,
            queue_url=backend.queue_url,
            cache_dir=tmp_path / "cache",
        )
        said: list[str] = []
        provision(stack, backend, say=said.append)
        assert len([m for m in said if m.startswith("created")]) == 8
        again: list[str] = []
        provision(stack, backend, say=again.append)
        assert again == []

        ddb = backend.boto3_client("dynamodb")
        assert sorted(ddb.list_tables()["TableNames"]) == ["demo-Simple", "demo-Table", "dev-named"]
        table = ddb.describe_table(TableName="demo-Table")["Table"]
        assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "by-author"
        assert table["LocalSecondaryIndexes"][0]["Projection"]["NonKeyAttributes"] == ["title"]
        assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        ttl = ddb.describe_time_to_live(TableName="demo-Table")["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
        item = {"pk": {"S": "p"}, "sk": {"S": "s"}, "author": {"S": "ann"}, "created": {"N": "1"}}
        ddb.put_item(TableName="demo-Table", Item=item)
        by_author = ddb.query(
            TableName="demo-Table",
            IndexName="by-author",
            KeyConditionExpression="author = :a",
            ExpressionAttributeValues={":a": {"S": "ann"}},
        )
        assert by_author["Count"] == 1

        sqs = backend.boto3_client("sqs")
        url = stack.functions["Api"].environment["QUEUE_URL"]
        assert url == f"{backend.sqs_endpoint}/{ACCOUNT}/demo-Commands.fifo"
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attributes["QueueArn"] == stack.functions["Api"].environment["QUEUE_ARN"]
        assert attributes["FifoQueue"] == "true" and attributes["VisibilityTimeout"] == "60"
        redrive = json.loads(attributes["RedrivePolicy"])
        assert redrive == {
            "deadLetterTargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:demo-CommandsDlq.fifo",
            "maxReceiveCount": 3,
        }
        sqs.send_message(QueueUrl=url, MessageBody="hi", MessageGroupId="g")
        (message,) = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
        assert message["Body"] == "hi"

        secrets = backend.boto3_client("secretsmanager")
        assert secrets.get_secret_value(SecretId="demo-SigningKey")["SecretString"] == "{}"
    finally:
        backend.stop()
    assert not backend.is_running() and not backend.others.is_running()
    print(f"dynamodb-local backend start: {start_s:.2f} s (download included on a cold cache)")
