"""SQS event source mappings against moto (in-process server on loopback): event shape, batching, deletes,
ReportBatchItemFailures, redelivery after the visibility timeout and redrive to the DLQ."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from devkit.localcloud.awslambda.runtime_api import RuntimeOutcome
from devkit.localcloud.model import EventSourceMappingSpec, InvokeResult, QueueSpec
from devkit.localcloud.sqs.poller import SqsPoller, ids_to_delete, sqs_client
from tests.localcloud.support import REGION, function_spec, make_pool, run, wait_until


def _queues(endpoint: str, *, fifo: bool = False, max_receive: int = 2, visibility: int = 1) -> tuple[QueueSpec, str]:
    """A queue with a DLQ; returns its spec and the DLQ URL."""
    client = sqs_client(REGION, endpoint)
    suffix = uuid.uuid4().hex[:8]
    ext = ".fifo" if fifo else ""
    fifo_attrs = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    dlq_url = client.create_queue(QueueName=f"dlq-{suffix}{ext}", Attributes=fifo_attrs)["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    name = f"main-{suffix}{ext}"
    client.create_queue(
        QueueName=name,
        Attributes={
            **fifo_attrs,
            "VisibilityTimeout": str(visibility),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive)}),
        },
    )
    spec = QueueSpec(
        "Queue",
        name,
        fifo=fifo,
        visibility_timeout_s=visibility,
        dead_letter_queue="Dlq",
        max_receive_count=max_receive,
    )
    return spec, dlq_url


class Recorder:
    """Wraps an invoker and keeps every event it was given."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.events: list[dict[str, Any]] = []
        self.attempts: list[int] = []

    async def __call__(self, function: str, payload: bytes, attempt: int = 1) -> InvokeResult:
        self.events.append(json.loads(payload))
        self.attempts.append(attempt)
        return await self.inner(function, payload)


@contextlib.asynccontextmanager
async def _polling(endpoint: str, queue: QueueSpec, invoker: Any, **mapping: Any) -> AsyncIterator[SqsPoller]:
    """A started poller of `queue` for the function Probe (the mapping's settings from `mapping`), stopped after."""
    spec = EventSourceMappingSpec(function="Probe", queue="Queue", **mapping)
    executor = ThreadPoolExecutor(4)
    poller = SqsPoller(spec, queue, invoker=invoker, region=REGION, endpoint_url=endpoint, executor=executor)
    await poller.start()
    try:
        yield poller
    finally:
        await poller.stop()
        executor.shutdown()


def _answering(body: bytes) -> Callable[..., Awaitable[InvokeResult]]:
    """An invoker whose function always succeeds with `body`."""

    async def respond(function: str, payload: bytes, attempt: int = 1) -> InvokeResult:
        return InvokeResult("rid", RuntimeOutcome(True, body), "success")

    return respond


def _poll(
    endpoint: str,
    invoker: Any,
    body: Callable[[SqsPoller, Any], Awaitable[None]],
    queue_options: dict[str, Any] | None = None,
    **mapping: Any,
) -> None:
    """`body(poller, client)`: a started poller (see `_polling`) of a fresh queue (see `_queues`, given
    `queue_options`), and an SQS client to send with."""
    queue, _ = _queues(endpoint, **(queue_options or {}))
    client = sqs_client(REGION, endpoint)

    async def main() -> None:
        async with _polling(endpoint, queue, invoker, **mapping) as poller:
            await body(poller, client)

    run(main())


def _receive_all(endpoint: str, url: str) -> list[dict[str, Any]]:
    client = sqs_client(REGION, endpoint)
    response = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"])
    return response.get("Messages", [])


def test_partial_batch_failure_redelivers_only_failed_messages_until_the_dlq(
    moto_endpoint: str, probe_bootstrap: Path, tmp_path: Path
) -> None:
    queue, dlq_url = _queues(moto_endpoint, max_receive=2, visibility=1)
    client = sqs_client(REGION, moto_endpoint)

    async def body() -> None:
        pool, _ = make_pool(probe_bootstrap, function_spec(), tmp_path)
        await pool.start()
        recorder = Recorder(lambda fn, payload: pool.invoke(payload))
        try:
            async with _polling(
                moto_endpoint,
                queue,
                recorder,
                batch_size=10,
                maximum_batching_window_s=0,
                report_batch_item_failures=True,
            ) as poller:
                client.send_message_batch(
                    QueueUrl=poller.queue_url,
                    Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(["ok-1", "fail", "ok-2"])],
                )
                dlq: list[dict[str, Any]] = []

                def in_dlq() -> bool:
                    dlq.extend(_receive_all(moto_endpoint, dlq_url))
                    return bool(dlq)

                await wait_until(lambda: poller.stats.deleted == 2, 15, "the two good messages to be deleted")
                await wait_until(in_dlq, 20, "the failing message to reach the DLQ")
                await wait_until(lambda: poller.stats.batches == 2, 10, "the second (redelivery) batch to finish")
                assert [m["Body"] for m in dlq] == ["fail"]
                assert dlq[0]["Attributes"]["ApproximateReceiveCount"] in ("2", "3")
                bodies = [[r["body"] for r in e["Records"]] for e in recorder.events]
                assert sorted(bodies[0]) == ["fail", "ok-1", "ok-2"]
                assert all(b == ["fail"] for b in bodies[1:]), f"only the failed message comes back: {bodies}"
                assert len(bodies) == 2, "received maxReceiveCount (2) times, then redriven"
                assert recorder.events[1]["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"
                assert recorder.attempts == [1, 2], "the delivery attempt is the batch's highest receive count"
                assert poller.stats.partial_batches == 1
                assert await poller.depth() == {"visible": 0, "in_flight": 0}
        finally:
            await pool.stop()

    run(body())


def test_malformed_batch_response_fails_the_whole_batch(moto_endpoint: str) -> None:
    answers = iter(
        [
            b'{"batchItemFailures":[{"itemIdentifier":"not-in-this-batch"}]}',
            b'{"batchItemFailures":"nope"}',
            b"{}",
        ]
    )

    async def respond(fn: str, payload: bytes) -> InvokeResult:
        return InvokeResult("rid", RuntimeOutcome(True, next(answers, b"{}")), "success")

    recorder = Recorder(respond)

    async def body(poller: SqsPoller, client: Any) -> None:
        client.send_message_batch(
            QueueUrl=poller.queue_url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)]
        )
        await wait_until(lambda: poller.stats.deleted == 3, 20, "the batch to succeed on the third delivery")
        assert [sorted(r["body"] for r in e["Records"]) for e in recorder.events] == [["m0", "m1", "m2"]] * 3
        assert poller.stats.failed_batches == 2

    _poll(
        moto_endpoint,
        recorder,
        body,
        batch_size=10,
        maximum_batching_window_s=0,
        report_batch_item_failures=True,
        queue_options={"max_receive": 5, "visibility": 1},
    )


def test_function_error_without_report_failures_retries_everything(moto_endpoint: str) -> None:
    results = iter(
        [
            InvokeResult("rid", RuntimeOutcome.error("Unhandled", "boom"), "error"),
            InvokeResult("rid", RuntimeOutcome(True, b'{"batchItemFailures":[{"itemIdentifier":"x"}]}'), "success"),
        ]
    )

    async def respond(fn: str, payload: bytes) -> InvokeResult:
        return next(results, InvokeResult("rid", RuntimeOutcome(True, b"{}"), "success"))

    recorder = Recorder(respond)

    async def body(poller: SqsPoller, client: Any) -> None:
        client.send_message(QueueUrl=poller.queue_url, MessageBody="only")
        await wait_until(lambda: poller.stats.deleted == 1, 20, "success on the second delivery")
        assert len(recorder.events) == 2, (
            "an error keeps the message; without ReportBatchItemFailures a body is ignored"
        )

    _poll(moto_endpoint, recorder, body, batch_size=10, queue_options={"max_receive": 5, "visibility": 1})


def test_sqs_event_shape_and_batch_limits(moto_endpoint: str) -> None:
    recorder = Recorder(_answering(b"null"))

    async def body(poller: SqsPoller, client: Any) -> None:
        client.send_message(
            QueueUrl=poller.queue_url,
            MessageBody='{"hello":"world"}',
            MessageAttributes={
                "Kind": {"DataType": "String", "StringValue": "greeting"},
                "Count": {"DataType": "Number", "StringValue": "3"},
                "Blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
            },
        )
        for i in range(10):
            client.send_message(QueueUrl=poller.queue_url, MessageBody=f"m{i}")
        await wait_until(lambda: poller.stats.deleted == 11, 20, "all 11 messages processed")
        assert max(poller.stats.batch_sizes) <= 4
        record = next(r for e in recorder.events for r in e["Records"] if r["body"] == '{"hello":"world"}')
        assert set(record) == {
            "messageId",
            "receiptHandle",
            "body",
            "attributes",
            "messageAttributes",
            "md5OfBody",
            "md5OfMessageAttributes",  # it has attributes (see test_sqs_fidelity.py)
            "eventSource",
            "eventSourceARN",
            "awsRegion",
        }
        assert record["eventSource"] == "aws:sqs" and record["awsRegion"] == REGION
        assert record["eventSourceARN"] == poller.queue_arn and poller.queue_arn.endswith(poller.queue.physical_name)
        assert {"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(
            record["attributes"]
        )
        assert record["attributes"]["ApproximateReceiveCount"] == "1"
        assert len(record["md5OfBody"]) == 32
        assert record["messageAttributes"] == {
            "Kind": {
                "stringValue": "greeting",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            },
            "Count": {"stringValue": "3", "stringListValues": [], "binaryListValues": [], "dataType": "Number"},
            "Blob": {"binaryValue": "AAE=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"},
        }

    _poll(moto_endpoint, recorder, body, batch_size=4)


def test_batching_window_collects_messages_into_one_batch(moto_endpoint: str) -> None:
    recorder = Recorder(_answering(b"{}"))

    async def body(poller: SqsPoller, client: Any) -> None:
        loop = asyncio.get_running_loop()
        for i in range(3):  # one at a time, each a separate SendMessage well inside the 5 s window
            await loop.run_in_executor(
                None, lambda i=i: client.send_message(QueueUrl=poller.queue_url, MessageBody=f"w{i}")
            )
        await wait_until(lambda: poller.stats.deleted == 3, 20, "the batch")
        assert poller.stats.batch_sizes == [3], "BatchSize reached inside the window → one invocation"

    _poll(moto_endpoint, recorder, body, batch_size=3, maximum_batching_window_s=5)


def test_fifo_records_carry_group_sequence_and_dedup_ids(moto_endpoint: str) -> None:
    recorder = Recorder(_answering(b"{}"))

    async def body(poller: SqsPoller, client: Any) -> None:
        client.send_message(
            QueueUrl=poller.queue_url, MessageBody="f1", MessageGroupId="g1", MessageDeduplicationId="d1"
        )
        await wait_until(lambda: poller.stats.deleted == 1, 20, "the FIFO message")
        attributes = recorder.events[0]["Records"][0]["attributes"]
        assert attributes["MessageGroupId"] == "g1"
        assert attributes["MessageDeduplicationId"] == "d1"
        assert attributes["SequenceNumber"]

    _poll(moto_endpoint, recorder, body, batch_size=10, queue_options={"fifo": True})


def _result(body: bytes | None, status: str = "success") -> InvokeResult:
    outcome = RuntimeOutcome(True, body or b"") if status == "success" else RuntimeOutcome.error("E", "m")
    return InvokeResult("rid", outcome, status)


@pytest.mark.parametrize(
    ("body", "status", "report", "expected"),
    [
        (b'{"batchItemFailures":[{"itemIdentifier":"b"}]}', "success", True, ["a", "c"]),
        (b'{"batchItemFailures":[]}', "success", True, ["a", "b", "c"]),
        (b'{"batchItemFailures":null}', "success", True, ["a", "b", "c"]),
        (b"{}", "success", True, ["a", "b", "c"]),
        (b"null", "success", True, ["a", "b", "c"]),
        (b"", "success", True, ["a", "b", "c"]),
        (b'{"batchItemFailures":[{"itemIdentifier":"zzz"}]}', "success", True, []),
        (b'{"batchItemFailures":[{"itemIdentifier":""}]}', "success", True, []),
        (b'{"batchItemFailures":[{"itemIdentifier":null}]}', "success", True, []),
        (b'{"batchItemFailures":[{"id":"b"}]}', "success", True, []),
        (b'{"batchItemFailures":"b"}', "success", True, []),
        (b"not json", "success", True, []),
        (b'"a string"', "success", True, []),
        (None, "error", True, []),
        (None, "timeout", True, []),
        (None, "error", False, []),
        (b'{"batchItemFailures":[{"itemIdentifier":"b"}]}', "success", False, ["a", "b", "c"]),
    ],
)
def test_report_batch_item_failures_rules(body: bytes | None, status: str, report: bool, expected: list[str]) -> None:
    assert ids_to_delete(_result(body, status), ["a", "b", "c"], report_failures=report) == expected


def test_a_message_received_twice_in_one_window_is_one_record_with_the_newest_handle() -> None:
    from devkit.localcloud.sqs.poller import _merge

    first = [{"MessageId": "a", "ReceiptHandle": "h1"}, {"MessageId": "b", "ReceiptHandle": "h2"}]
    merged = _merge(first, [{"MessageId": "a", "ReceiptHandle": "h3"}, {"MessageId": "c", "ReceiptHandle": "h4"}])
    assert [(m["MessageId"], m["ReceiptHandle"]) for m in merged] == [("a", "h3"), ("b", "h2"), ("c", "h4")]


def test_a_message_deleted_from_the_queue_stays_in_hand_until_the_mapping_counts_it(moto_endpoint: str) -> None:
    """The queue stops counting a message as in flight when the delete reaches it; the mapping counts the delete
    only when the call returns. Between the two the message is `in_hand`, so "settled" (nothing visible, in flight
    or in hand) never sees a delete the counters have not caught up with."""
    import threading

    deleted_in_queue, release = threading.Event(), threading.Event()

    async def body(poller: SqsPoller, client: Any) -> None:
        real_delete = poller._client.delete_message_batch

        def delete_then_hold(**kwargs: Any) -> Any:
            answer = real_delete(**kwargs)
            deleted_in_queue.set()
            release.wait(10)
            return answer

        poller._client.delete_message_batch = delete_then_hold
        try:
            client.send_message(QueueUrl=poller.queue_url, MessageBody="one")
            await wait_until(deleted_in_queue.is_set, 15, "the delete to reach the queue")
            assert await poller.depth() == {"visible": 0, "in_flight": 0}
            assert (poller.stats.deleted, poller.stats.in_hand) == (0, 1)
            release.set()
            await wait_until(lambda: poller.stats.deleted == 1, 10, "the mapping to count the delete")
            assert poller.stats.in_hand == 0
        finally:
            release.set()

    _poll(moto_endpoint, _answering(b"{}"), body, batch_size=10, queue_options={"max_receive": 5, "visibility": 30})
