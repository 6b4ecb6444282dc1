"""SQS records as Lambda delivers them: `md5OfMessageAttributes` for a message with attributes."""

from __future__ import annotations

from pathlib import Path

from devkit.localcloud.backends import create_backend
from devkit.localcloud.backends.provision import provision
from devkit.localcloud.model import QueueSpec, StackSpec
from devkit.localcloud.sqs.poller import md5_of_message_attributes, sqs_record
from tests.localcloud.support import ACCOUNT, REGION

ATTRIBUTES = {
    "Text": {"DataType": "String", "StringValue": "hello"},
    "Count": {"DataType": "Number", "StringValue": "42"},
    "Blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    "Custom": {"DataType": "String.label", "StringValue": "ünïcode"},
}


def test_md5_of_message_attributes_is_what_sqs_answers(tmp_path: Path) -> None:
    # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html
    # ("Calculating the MD5 message digest for message attributes"); SQS returns the digest as
    # MD5OfMessageAttributes on SendMessage and ReceiveMessage, and Lambda passes it on as the record's
    # md5OfMessageAttributes (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html, example event).
    backend = create_backend("moto", state_dir=tmp_path / "moto", cache_dir=tmp_path, region=REGION)
    backend.start()
    try:
        queue = QueueSpec("Q", "md5-queue")
        provision(StackSpec("md5", REGION, ACCOUNT, {}, {}, {}, {"Q": queue}, ()), backend)
        sqs = backend.boto3_client("sqs")
        url = backend.queue_url("md5-queue")
        sent = sqs.send_message(QueueUrl=url, MessageBody="with", MessageAttributes=ATTRIBUTES)
        sqs.send_message(QueueUrl=url, MessageBody="without")
        received = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=1
        )["Messages"]
    finally:
        backend.stop()
    assert md5_of_message_attributes(ATTRIBUTES) == sent["MD5OfMessageAttributes"]
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:md5-queue"
    records = {m["Body"]: sqs_record(m, queue_arn=arn, region=REGION) for m in received}
    assert records["with"]["md5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert "md5OfMessageAttributes" not in records["without"], "only a message with attributes has one"
    computed = sqs_record(
        {"MessageId": "m", "ReceiptHandle": "r", "Body": "b", "MessageAttributes": ATTRIBUTES},
        queue_arn=arn,
        region=REGION,
    )
    assert computed["md5OfMessageAttributes"] == sent["MD5OfMessageAttributes"], "computed when not given"
