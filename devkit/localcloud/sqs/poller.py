"""SQS event source mappings: long-poll a queue, invoke the function with Lambda's SQS event, delete what succeeded.

Rules, as Lambda applies them:
- BatchSize and MaximumBatchingWindowInSeconds bound a batch (at most 10 messages per ReceiveMessage call);
- success without ReportBatchItemFailures → delete the whole batch; any function error → delete nothing;
- with ReportBatchItemFailures: `batchItemFailures` empty/null, or an empty/null response → all succeeded;
  otherwise delete all but the listed ids; a malformed response, an empty/null `itemIdentifier` or an id not in
  the batch → the whole batch failed;
- messages not deleted come back after the queue's visibility timeout, and the queue's RedrivePolicy moves them to
  the DLQ after maxReceiveCount receives. That is the backend's job (moto, ElasticMQ and SQS all do it on
  receive); the poller never moves messages itself.
boto3 is synchronous, so its calls run in a small dedicated thread pool.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
import orjson

from devkit.localcloud.model import DUMMY_CREDENTIALS, EventSourceMappingSpec, InvokeResult, QueueSpec

Invoker = Callable[[str, bytes, int], Awaitable[InvokeResult]]  # (function, event, delivery attempt)
_SYSTEM_ATTRIBUTES = ["All"]
_RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)


def sqs_client(region: str, endpoint_url: str | None) -> Any:
    creds = (
        {}
        if endpoint_url is None
        else {
            "aws_access_key_id": DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        }
    )
    return boto3.session.Session().client("sqs", region_name=region, endpoint_url=endpoint_url, **creds)


def lambda_message_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """SQS MessageAttributes (boto3 shape) in the shape Lambda puts into records."""
    out: dict[str, Any] = {}
    for name, attr in attributes.items():
        item: dict[str, Any] = {}
        if "StringValue" in attr:
            item["stringValue"] = attr["StringValue"]
        if "BinaryValue" in attr:
            item["binaryValue"] = base64.b64encode(attr["BinaryValue"]).decode()
        item["stringListValues"] = list(attr.get("StringListValues", []))
        item["binaryListValues"] = [base64.b64encode(v).decode() for v in attr.get("BinaryListValues", [])]
        item["dataType"] = attr["DataType"]
        out[name] = item
    return out


def md5_of_message_attributes(attributes: dict[str, Any]) -> str:
    """SQS's MD5OfMessageAttributes, by the algorithm the SQS developer guide gives ("Calculating the MD5 message
    digest for message attributes"): attributes sorted by name; for each, the name, the data type (each as a
    4-byte big-endian length and UTF-8 bytes), one transport byte (1 string, 2 binary) and the value (length and
    bytes)."""
    digest = hashlib.md5(usedforsecurity=False)

    def put(data: bytes) -> None:
        digest.update(len(data).to_bytes(4, "big"))
        digest.update(data)

    for name in sorted(attributes):
        attr = attributes[name]
        put(name.encode())
        put(str(attr["DataType"]).encode())
        if "StringValue" in attr:
            digest.update(b"\x01")
            put(str(attr["StringValue"]).encode())
        else:
            digest.update(b"\x02")
            put(bytes(attr.get("BinaryValue", b"")))
    return digest.hexdigest()


def sqs_record(message: dict[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """One Lambda SQS record. `md5OfMessageAttributes` only for a message with attributes (as SQS answers
    ReceiveMessage): the backend's MD5OfMessageAttributes when it gives one, computed otherwise."""
    attrs = message.get("Attributes", {})
    message_attributes = message.get("MessageAttributes") or {}
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": {k: attrs[k] for k in _RECORD_ATTRIBUTES if k in attrs},
        "messageAttributes": lambda_message_attributes(message_attributes),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message_attributes:
        record["md5OfMessageAttributes"] = message.get("MD5OfMessageAttributes") or md5_of_message_attributes(
            message_attributes
        )
    return record


def ids_to_delete(result: InvokeResult, message_ids: list[str], *, report_failures: bool) -> list[str]:
    """Which messages of a batch count as processed, by Lambda's rules (see module doc)."""
    if not result.ok:
        return []
    if not report_failures:
        return list(message_ids)
    raw = result.outcome.body.strip()
    if raw in (b"", b"null"):
        return list(message_ids)
    try:
        response = json.loads(raw)
    except ValueError:
        return []
    if response is None or (isinstance(response, dict) and not response):
        return list(message_ids)
    if not isinstance(response, dict):
        return []
    failures = response.get("batchItemFailures")
    if failures is None:
        return list(message_ids)
    if not isinstance(failures, list):
        return []
    failed: set[str] = set()
    known = set(message_ids)
    for item in failures:
        if not isinstance(item, dict):
            return []
        identifier = item.get("itemIdentifier")
        if not isinstance(identifier, str) or not identifier or identifier not in known:
            return []
        failed.add(identifier)
    return [m for m in message_ids if m not in failed]


def _merge(messages: list[dict[str, Any]], more: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adds `more` to a batch; a message received again (its visibility timeout ran out inside the batching window)
    keeps one record, with the newest receipt handle (the only one that can still delete it)."""
    by_id = {m["MessageId"]: m for m in messages}
    for message in more:
        by_id[message["MessageId"]] = message
    return list(by_id.values())


@dataclass
class PollerStats:
    batches: int = 0
    received: int = 0
    deleted: int = 0
    failed_batches: int = 0
    partial_batches: int = 0
    # Messages of batches being handled: received and not yet deleted or given back. The queue stops counting a
    # message as in flight when the delete reaches it, before `deleted` moves, so "settled" needs both at zero.
    in_hand: int = 0
    batch_sizes: list[int] = field(default_factory=list)


class SqsPoller:
    """One event source mapping."""

    def __init__(
        self,
        mapping: EventSourceMappingSpec,
        queue: QueueSpec,
        *,
        invoker: Invoker,
        region: str,
        endpoint_url: str | None,
        executor: ThreadPoolExecutor,
        wait_time_s: int = 1,
    ) -> None:
        self.stats = PollerStats()
        self.queue_url = ""  # known once started
        self.queue_arn = ""
        self.mapping = mapping
        self.queue = queue
        self.invoker = invoker
        self.region = region
        self._client: Any = sqs_client(region, endpoint_url)  # its calls run on `executor`, from start() on
        self.executor = executor
        self.wait_time_s = wait_time_s
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    async def _call(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, lambda: fn(**kwargs))

    async def start(self) -> None:
        self.queue_url = (await self._call(self._client.get_queue_url, QueueName=self.queue.physical_name))["QueueUrl"]
        attrs = await self._call(
            self._client.get_queue_attributes, QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )
        self.queue_arn = attrs["Attributes"]["QueueArn"]
        if self.mapping.enabled:
            pollers = self.mapping.maximum_concurrency or 1
            self._tasks = [asyncio.create_task(self._poll_forever()) for _ in range(max(1, min(pollers, 4)))]

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    async def _poll_forever(self) -> None:
        while not self._stopping:
            try:
                messages = await self._gather_batch()
                if messages:
                    await self._process(messages)
            except asyncio.CancelledError:
                raise
            except Exception:  # the backend restarting, a queue being recreated: keep polling
                await asyncio.sleep(0.5)

    async def _receive(self, max_messages: int, wait_s: int) -> list[dict[str, Any]]:
        response = await self._call(
            self._client.receive_message,
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(10, max_messages)),
            WaitTimeSeconds=wait_s,
            MessageSystemAttributeNames=_SYSTEM_ATTRIBUTES,
            MessageAttributeNames=["All"],
        )
        return response.get("Messages", [])

    async def _gather_batch(self) -> list[dict[str, Any]]:
        batch_size = self.mapping.batch_size
        messages = await self._receive(batch_size, self.wait_time_s)
        if not messages:
            return []
        window = self.mapping.maximum_batching_window_s
        deadline = time.monotonic() + window
        while len(messages) < batch_size and window > 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            more = await self._receive(batch_size - len(messages), min(20, int(remaining)))
            if more:
                messages = _merge(messages, more)
            elif remaining < 1:
                await asyncio.sleep(min(remaining, 0.1))
        return messages

    async def _process(self, messages: list[dict[str, Any]]) -> None:
        stats = self.stats
        stats.batches += 1
        stats.received += len(messages)
        stats.batch_sizes.append(len(messages))
        stats.in_hand += len(messages)
        try:
            await self._handle(messages)
        finally:
            stats.in_hand -= len(messages)

    async def _handle(self, messages: list[dict[str, Any]]) -> None:
        stats = self.stats
        records = [sqs_record(m, queue_arn=self.queue_arn, region=self.region) for m in messages]
        payload = orjson.dumps({"Records": records})
        attempt = max(int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1")) for m in messages)
        result = await self.invoker(self.mapping.function, payload, attempt)
        ids = [m["MessageId"] for m in messages]
        done = ids_to_delete(result, ids, report_failures=self.mapping.report_batch_item_failures)
        if not done:
            stats.failed_batches += 1
            return
        if len(done) < len(ids):
            stats.partial_batches += 1
        handles = {m["MessageId"]: m["ReceiptHandle"] for m in messages}
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            entries = [{"Id": str(i), "ReceiptHandle": handles[mid]} for i, mid in enumerate(chunk)]
            await self._call(self._client.delete_message_batch, QueueUrl=self.queue_url, Entries=entries)
        stats.deleted += len(done)

    async def depth(self) -> dict[str, int]:
        attrs = await self._call(
            self._client.get_queue_attributes,
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )
        values = attrs.get("Attributes", {})
        return {
            "visible": int(values.get("ApproximateNumberOfMessages", 0)),
            "in_flight": int(values.get("ApproximateNumberOfMessagesNotVisible", 0)),
        }
