"""Create the stack's tables and queues on a data backend, idempotently.

Running it twice is a no-op. A table whose definition changed is recreated when the backend is local and the
table is empty; otherwise (it holds data, or it is a deployed stage's) a warning says what differs. Queues are
created dead-letter queues first, so each RedrivePolicy can name its DLQ's real ARN on that backend; changed
mutable attributes are updated in place. On the `aws` backend nothing is created: missing resources are
reported.
"""

from __future__ import annotations

import json
import logging
import secrets as random_secrets
import string
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from devkit.localcloud.backends.base import Backend
from devkit.localcloud.model import QueueSpec, SecretSpec, StackSpec, TableSpec

log = logging.getLogger(__name__)
Say = Callable[[str], None]
DEFAULT_THROUGHPUT = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
TABLE_ACTIVE_TIMEOUT_S = 30.0


class ProvisionError(RuntimeError):
    """A table or queue could not be created; the message names it."""


def provision(stack: StackSpec, backend: Backend, *, say: Say | None = None, warn: Say | None = None) -> None:
    """Make every table, queue and secret of `stack` exist on `backend` as the template defines it."""
    say = say or log.info
    warn = warn or log.warning
    read_only = backend.kind == "aws"
    if stack.tables:
        ddb = backend.boto3_client("dynamodb")
        for table in stack.tables.values():
            _ensure_table(ddb, table, read_only=read_only, say=say, warn=warn)
    if stack.queues:
        sqs = backend.boto3_client("sqs")
        arns: dict[str, str] = {}
        for queue in queues_in_creation_order(stack.queues):
            arns[queue.logical_id] = _ensure_queue(sqs, queue, arns, read_only=read_only, say=say, warn=warn)
    if stack.secrets:
        client = backend.boto3_client("secretsmanager")
        for secret in stack.secrets.values():
            _ensure_secret(client, secret, read_only=read_only, say=say, warn=warn)


# ---- tables --------------------------------------------------------------------------------------------------------
def create_table_request(table: TableSpec) -> dict[str, Any]:
    """CreateTable parameters for a TableSpec (CloudFormation-only keys dropped)."""
    provisioned = table.billing_mode == "PROVISIONED"
    request: dict[str, Any] = {
        "TableName": table.physical_name,
        "KeySchema": [_key(k) for k in table.key_schema],
        "AttributeDefinitions": [
            {"AttributeName": a["AttributeName"], "AttributeType": a["AttributeType"]}
            for a in table.attribute_definitions
        ],
        "BillingMode": "PROVISIONED" if provisioned else "PAY_PER_REQUEST",
    }
    if provisioned:
        request["ProvisionedThroughput"] = _throughput(table.provisioned_throughput)
    if table.global_secondary_indexes:
        request["GlobalSecondaryIndexes"] = [
            _index(i) | ({"ProvisionedThroughput": _throughput(i.get("ProvisionedThroughput"))} if provisioned else {})
            for i in table.global_secondary_indexes
        ]
    if table.local_secondary_indexes:
        request["LocalSecondaryIndexes"] = [_index(i) for i in table.local_secondary_indexes]
    if table.stream_view_type:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream_view_type}
    return request


def _key(entry: dict[str, Any]) -> dict[str, str]:
    return {"AttributeName": entry["AttributeName"], "KeyType": entry["KeyType"]}


def _index(index: dict[str, Any]) -> dict[str, Any]:
    projection = index.get("Projection") or {"ProjectionType": "ALL"}
    out_projection: dict[str, Any] = {"ProjectionType": projection.get("ProjectionType", "ALL")}
    if projection.get("NonKeyAttributes"):
        out_projection["NonKeyAttributes"] = list(projection["NonKeyAttributes"])
    return {
        "IndexName": index["IndexName"],
        "KeySchema": [_key(k) for k in index["KeySchema"]],
        "Projection": out_projection,
    }


def _throughput(value: dict[str, Any] | None) -> dict[str, int]:
    value = value or DEFAULT_THROUGHPUT
    return {
        "ReadCapacityUnits": int(value["ReadCapacityUnits"]),
        "WriteCapacityUnits": int(value["WriteCapacityUnits"]),
    }


def table_shape(description: dict[str, Any]) -> dict[str, Any]:
    """The parts of a table that a template change can alter, normalised for comparison."""

    def indexes(key: str) -> list[tuple]:
        out = []
        for i in description.get(key) or ():
            projection = i.get("Projection") or {}
            out.append(
                (
                    i["IndexName"],
                    tuple((k["AttributeName"], k["KeyType"]) for k in i["KeySchema"]),
                    projection.get("ProjectionType", "ALL"),
                    tuple(sorted(projection.get("NonKeyAttributes") or ())),
                )
            )
        return sorted(out)

    stream = description.get("StreamSpecification") or {}
    return {
        "key": tuple((k["AttributeName"], k["KeyType"]) for k in description["KeySchema"]),
        "attributes": sorted((a["AttributeName"], a["AttributeType"]) for a in description["AttributeDefinitions"]),
        "gsi": indexes("GlobalSecondaryIndexes"),
        "lsi": indexes("LocalSecondaryIndexes"),
        "stream": stream.get("StreamViewType") if stream.get("StreamEnabled") else None,
    }


def _describe_table(ddb: Any, name: str) -> dict[str, Any] | None:
    try:
        return ddb.describe_table(TableName=name)["Table"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise


def _ensure_table(ddb: Any, table: TableSpec, *, read_only: bool, say: Say, warn: Say) -> None:
    name = table.physical_name
    request = create_table_request(table)
    existing = _describe_table(ddb, name)
    if existing is None:
        if read_only:
            warn(f"table {name} ({table.logical_id}) does not exist on the deployed stage")
            return
        _create_table(ddb, table, request)
        say(f"created table {name}")
    else:
        differences = _diff(table_shape(request), table_shape(existing))
        if differences:
            empty = not ddb.scan(TableName=name, Limit=1, Select="COUNT").get("Count")
            if read_only or not empty:
                why = "it is a deployed stage's" if read_only else "it holds data"
                warn(
                    f"table {name} ({table.logical_id}) differs from the template ({differences}); not recreated: {why}"
                )
                return
            ddb.delete_table(TableName=name)
            _wait_table(ddb, name, gone=True)
            _create_table(ddb, table, request)
            say(f"recreated table {name} ({differences})")
    if not read_only:
        _ensure_ttl(ddb, table, say)


def _diff(wanted: dict[str, Any], actual: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {actual[k]!r} → {wanted[k]!r}" for k in wanted if wanted[k] != actual.get(k))


def _create_table(ddb: Any, table: TableSpec, request: dict[str, Any]) -> None:
    try:
        ddb.create_table(**request)
    except ClientError as exc:
        raise ProvisionError(f"table {table.physical_name} ({table.logical_id}): {exc}") from exc
    _wait_table(ddb, table.physical_name, gone=False)


def _wait_table(ddb: Any, name: str, *, gone: bool) -> None:
    deadline = time.monotonic() + TABLE_ACTIVE_TIMEOUT_S
    while time.monotonic() < deadline:
        described = _describe_table(ddb, name)
        if (described is None) if gone else (described is not None and described["TableStatus"] == "ACTIVE"):
            return
        time.sleep(0.05)
    raise ProvisionError(f"table {name} did not become {'deleted' if gone else 'ACTIVE'} in time")


def _ensure_ttl(ddb: Any, table: TableSpec, say: Say) -> None:
    current = ddb.describe_time_to_live(TableName=table.physical_name).get("TimeToLiveDescription") or {}
    enabled = current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
    attribute = current.get("AttributeName") if enabled else None
    if attribute == table.ttl_attribute:
        return
    if attribute is not None:
        spec = {"Enabled": False, "AttributeName": attribute}
        ddb.update_time_to_live(TableName=table.physical_name, TimeToLiveSpecification=spec)
    if table.ttl_attribute is not None:
        spec = {"Enabled": True, "AttributeName": table.ttl_attribute}
        ddb.update_time_to_live(TableName=table.physical_name, TimeToLiveSpecification=spec)
        say(f"table {table.physical_name}: TTL on {table.ttl_attribute}")


# ---- queues --------------------------------------------------------------------------------------------------------
def queues_in_creation_order(queues: dict[str, QueueSpec]) -> list[QueueSpec]:
    """Dead-letter queues before the queues that redrive to them."""
    ordered: list[QueueSpec] = []
    placed: set[str] = set()

    def place(lid: str, path: tuple[str, ...]) -> None:
        if lid in placed:
            return
        if lid in path:
            raise ProvisionError(f"queues {' → '.join((*path, lid))} redrive to each other in a cycle")
        dlq = queues[lid].dead_letter_queue
        if dlq is not None and dlq in queues:
            place(dlq, (*path, lid))
        placed.add(lid)
        ordered.append(queues[lid])

    for lid in queues:
        place(lid, ())
    return ordered


def queue_attributes(queue: QueueSpec, dlq_arn: str | None) -> dict[str, str]:
    attributes = {
        "VisibilityTimeout": str(queue.visibility_timeout_s),
        "MessageRetentionPeriod": str(queue.message_retention_s),
        "ReceiveMessageWaitTimeSeconds": str(queue.receive_wait_time_s),
        "DelaySeconds": str(queue.delay_s),
    }
    if queue.max_message_size is not None:
        attributes["MaximumMessageSize"] = str(queue.max_message_size)
    if queue.fifo:
        attributes["FifoQueue"] = "true"
        attributes["ContentBasedDeduplication"] = "true" if queue.content_based_deduplication else "false"
    if dlq_arn is not None:
        policy = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": queue.max_receive_count or 1}
        attributes["RedrivePolicy"] = json.dumps(policy)
    return attributes


def _same(name: str, wanted: str, actual: str | None) -> bool:
    if actual is None:
        return False
    if name == "RedrivePolicy":
        a, b = json.loads(wanted), json.loads(actual)
        return a["deadLetterTargetArn"] == b.get("deadLetterTargetArn") and int(a["maxReceiveCount"]) == int(
            b.get("maxReceiveCount", -1)
        )
    return wanted.lower() == actual.lower()


def _queue_url_if_exists(sqs: Any, name: str) -> str | None:
    try:
        return sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as exc:
        if "NonExistentQueue" in exc.response["Error"]["Code"] or "QueueDoesNotExist" in exc.response["Error"]["Code"]:
            return None
        raise


def _ensure_queue(
    sqs: Any,
    queue: QueueSpec,
    arns: dict[str, str],
    *,
    read_only: bool,
    say: Say,
    warn: Say,
) -> str:
    """Create or update `queue`; return its ARN on the backend."""
    name = queue.physical_name
    dlq_arn = arns.get(queue.dead_letter_queue) if queue.dead_letter_queue else None
    wanted = queue_attributes(queue, dlq_arn)
    url = _queue_url_if_exists(sqs, name)
    if url is None:
        if read_only:
            warn(f"queue {name} ({queue.logical_id}) does not exist on the deployed stage")
            return ""
        try:
            url = sqs.create_queue(QueueName=name, Attributes=wanted)["QueueUrl"]
        except ClientError as exc:
            raise ProvisionError(f"queue {name} ({queue.logical_id}): {exc}") from exc
        say(f"created queue {name}")
    else:
        actual = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        changed = {
            k: v
            for k, v in wanted.items()
            if k not in ("FifoQueue",) and k in actual | {"RedrivePolicy": ""} and not _same(k, v, actual.get(k))
        }
        if changed and read_only:
            warn(f"queue {name} ({queue.logical_id}) differs from the template: {sorted(changed)}")
        elif changed:
            sqs.set_queue_attributes(QueueUrl=url, Attributes=changed)
            say(f"updated queue {name}: {sorted(changed)}")
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


# ---- secrets -------------------------------------------------------------------------------------------------------
def initial_secret_value(secret: SecretSpec) -> str:
    """SecretString, or a value generated as GenerateSecretString describes (length, exclusions, template)."""
    if secret.secret_string is not None:
        return secret.secret_string
    spec = secret.generate or {}
    alphabet = string.ascii_letters + string.digits + string.punctuation
    if spec.get("ExcludePunctuation") in (True, "true"):
        alphabet = string.ascii_letters + string.digits
    excluded = set(str(spec.get("ExcludeCharacters", "")))
    alphabet = "".join(c for c in alphabet if c not in excluded)
    value = "".join(random_secrets.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))
    if spec.get("SecretStringTemplate") and spec.get("GenerateStringKey"):
        document = json.loads(spec["SecretStringTemplate"])
        document[spec["GenerateStringKey"]] = value
        return json.dumps(document)
    return value


def _ensure_secret(client: Any, secret: SecretSpec, *, read_only: bool, say: Say, warn: Say) -> None:
    """Create the secret when missing; an existing secret keeps its value (it may hold seeded keys)."""
    try:
        client.describe_secret(SecretId=secret.physical_name)
        return
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
    if read_only:
        warn(f"secret {secret.physical_name} ({secret.logical_id}) does not exist on the deployed stage")
        return
    client.create_secret(Name=secret.physical_name, SecretString=initial_secret_value(secret))
    say(f"created secret {secret.physical_name}")
