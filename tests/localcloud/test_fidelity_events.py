"""The v2 and SQS events our gateway and SQS poller emit, checked against the `aws_lambda_events` crate.

The events are captured from the real Gateway and SqsPoller (a fake invoker records the payload; SQS is a moto
server), normalised (ids, times, ports) and compared with the committed files in fixtures/events/. The Rust
side (tests/fixtures/probe/tests/events.rs, run by `cargo test -p probe`) deserializes those files with
`aws_lambda_events` and checks nothing is lost in a round trip. Here we also check the field set against the
crate's own fixtures: no field AWS doesn't send, and no field AWS sends missing (bar documented cases).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec

from devkit import paths
from devkit.bench.loopback import serve
from devkit.localcloud.apigw.authorizer import JwksCache, JwtAuthorizer
from devkit.localcloud.apigw.gateway import Gateway
from devkit.localcloud.awslambda.runtime_api import RuntimeOutcome
from devkit.localcloud.backends import create_backend
from devkit.localcloud.backends.provision import provision
from devkit.localcloud.model import (
    EventSourceMappingSpec,
    HttpApiSpec,
    InvokeResult,
    JwtAuthorizerSpec,
    QueueSpec,
    RouteSpec,
)
from devkit.localcloud.sqs.poller import SqsPoller

EVENTS_DIR = Path(__file__).parent / "fixtures" / "events"
ACCOUNT = "123456789012"
REGION = "eu-west-1"
ISSUER = "http://127.0.0.1:9999"
# Maps whose keys are data, not fields.
DYNAMIC_MAPS = {
    "headers",
    "queryStringParameters",
    "pathParameters",
    "stageVariables",
    "claims",
    "attributes",
    "messageAttributes",
}
# Fields in the crate's fixtures that our events may lack, and why.
V2_ALLOWED_ABSENT = {
    "stageVariables": "the template configures no stage variables",
    "requestContext.authentication": "mutual TLS only",
    "requestContext.authentication.clientCert": "mutual TLS only",
    "requestContext.authentication.clientCert.clientCertPem": "mutual TLS only",
    "requestContext.authentication.clientCert.issuerDN": "mutual TLS only",
    "requestContext.authentication.clientCert.serialNumber": "mutual TLS only",
    "requestContext.authentication.clientCert.subjectDN": "mutual TLS only",
    "requestContext.authentication.clientCert.validity": "mutual TLS only",
    "requestContext.authentication.clientCert.validity.notAfter": "mutual TLS only",
    "requestContext.authentication.clientCert.validity.notBefore": "mutual TLS only",
}
SQS_KNOWN_GAPS: dict[str, str] = {}


def ok() -> InvokeResult:
    return InvokeResult("rid", RuntimeOutcome(True, b"{}"), "success")


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    async def __call__(self, function: str, payload: bytes, attempt: int = 1) -> InvokeResult:
        self.events.append(json.loads(payload))
        return ok()


# ---- HTTP API v2 -------------------------------------------------------------------------------------------------
async def _http_events() -> dict[str, dict[str, Any]]:
    key = ec.generate_private_key(ec.SECP256R1())
    app = web.Application()
    issuer_url = ""

    async def discovery(_: web.Request) -> web.Response:
        return web.json_response({"issuer": issuer_url, "jwks_uri": f"{issuer_url}/jwks.json"})

    async def jwks(_: web.Request) -> web.Response:
        jwk = json.loads(jwt.get_algorithm_by_name("ES256").to_jwk(key.public_key()))
        return web.json_response({"keys": [{**jwk, "kid": "k1", "alg": "ES256", "use": "sig"}]})

    app.router.add_get("/.well-known/openid-configuration", discovery)
    app.router.add_get("/jwks.json", jwks)
    runner, issuer_url = await serve(app)
    api = HttpApiSpec(
        "Api",
        routes=(
            RouteSpec("POST", "/items/{id}", "Fn"),
            RouteSpec("GET", "/me", "Fn", authorizer="Jwt", authorization_scopes=("read",)),
            RouteSpec("ANY", "$default", "Fn"),
        ),
        authorizers={"Jwt": JwtAuthorizerSpec("Jwt", issuer_url, ("blog",))},
    )
    recorder = Recorder()
    cache = JwksCache(ttl_s=60)
    gateway = Gateway(api, invoker=recorder, authorizer=JwtAuthorizer(cache), account_id=ACCOUNT, api_id="abcde12345")
    await gateway.start()
    now = int(time.time())
    claims = {"iss": issuer_url, "aud": "blog", "sub": "user-1", "scope": "read write", "exp": now + 300, "iat": now}
    token = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "k1"})
    common = {"User-Agent": "fidelity/1", "Accept": "*/*", "Accept-Encoding": "identity"}
    try:
        async with aiohttp.ClientSession(gateway.url, skip_auto_headers=("User-Agent", "Accept-Encoding")) as http:
            params = await http.post(
                "/items/7?a=1&a=2&b=",
                data=b'{"k":"v"}',
                headers=[*common.items(), ("Content-Type", "application/json"), ("Cookie", "c1=v1; c2=v2")],
            )
            binary = await http.put(
                "/upload/file.bin",
                data=bytes(range(256)),
                headers={**common, "Content-Type": "application/octet-stream"},
            )
            me = await http.get("/me", headers={**common, "Authorization": f"Bearer {token}"})
            assert (params.status, binary.status, me.status) == (200, 200, 200)
    finally:
        await gateway.stop()
        await cache.close()
        await runner.cleanup()
    names = ["apigw-v2-request-params", "apigw-v2-request-binary", "apigw-v2-request-jwt"]
    return {name: normalise_v2(event, issuer_url) for name, event in zip(names, recorder.events, strict=True)}


def normalise_v2(event: dict[str, Any], issuer_url: str) -> dict[str, Any]:
    event = json.loads(json.dumps(event).replace(issuer_url, ISSUER))
    headers = event["headers"]
    if "host" in headers:
        headers["host"] = "127.0.0.1:3000"
    if "x-forwarded-port" in headers:
        headers["x-forwarded-port"] = "3000"
    if "x-amzn-trace-id" in headers:
        headers["x-amzn-trace-id"] = "Root=1-6553f0a0-0123456789abcdef01234567"
    if "authorization" in headers:
        headers["authorization"] = "Bearer eyJ.test.token"
    ctx = event["requestContext"]
    ctx["requestId"] = "Aa1Bb2Cc3Dd4Ee5="
    ctx["time"] = "14/Nov/2023:22:13:20 +0000"
    ctx["timeEpoch"] = 1700000000000
    claims = ((ctx.get("authorizer") or {}).get("jwt") or {}).get("claims")
    if claims:
        claims["exp"], claims["iat"] = "1700000300", "1700000000"
    return event


# ---- SQS -----------------------------------------------------------------------------------------------------------
def _sqs_events(tmp: Path) -> dict[str, dict[str, Any]]:
    backend = create_backend("moto", state_dir=tmp / "moto", cache_dir=tmp, region=REGION)
    backend.start()
    try:
        queues = {
            "Events": QueueSpec("Events", "fidelity-events"),
            "Ordered": QueueSpec("Ordered", "fidelity-ordered.fifo", fifo=True),
        }
        from devkit.localcloud.model import StackSpec

        stack = StackSpec("fidelity", REGION, ACCOUNT, {}, {}, {}, queues, ())
        provision(stack, backend)
        sqs = backend.boto3_client("sqs")
        events_url = backend.queue_url("fidelity-events")
        sqs.send_message(QueueUrl=events_url, MessageBody="plain")
        sqs.send_message(
            QueueUrl=events_url,
            MessageBody='{"with":"attributes"}',
            MessageAttributes={
                "Text": {"DataType": "String", "StringValue": "hello"},
                "Count": {"DataType": "Number", "StringValue": "42"},
                "Blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
            },
        )
        sqs.send_message(
            QueueUrl=backend.queue_url("fidelity-ordered.fifo"),
            MessageBody="first",
            MessageGroupId="group-1",
            MessageDeduplicationId="dedup-1",
        )
        return {
            "sqs-event-standard": _poll_once(backend.endpoint_url, queues["Events"], 2),
            "sqs-event-fifo": _poll_once(backend.endpoint_url, queues["Ordered"], 1),
        }
    finally:
        backend.stop()


def _poll_once(endpoint: str | None, queue: QueueSpec, count: int) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        recorder = Recorder()
        mapping = EventSourceMappingSpec("Fn", queue.logical_id, batch_size=10, maximum_batching_window_s=1)
        with ThreadPoolExecutor(2) as executor:
            poller = SqsPoller(
                mapping, queue, invoker=recorder, region=REGION, endpoint_url=endpoint, executor=executor
            )
            await poller.start()
            deadline = time.monotonic() + 15
            while sum(len(e["Records"]) for e in recorder.events) < count:
                assert time.monotonic() < deadline, "the poller did not deliver the messages"
                await asyncio.sleep(0.02)
            await poller.stop()
        records = sorted((r for e in recorder.events for r in e["Records"]), key=lambda r: r["body"])
        return normalise_sqs({"Records": records})

    return asyncio.run(main())


def normalise_sqs(event: dict[str, Any]) -> dict[str, Any]:
    for i, record in enumerate(event["Records"]):
        record["messageId"] = f"00000000-0000-4000-8000-00000000000{i}"
        record["receiptHandle"] = f"AQEB-receipt-{i}"
        attributes = record["attributes"]
        for name in ("SentTimestamp", "ApproximateFirstReceiveTimestamp"):
            if name in attributes:
                attributes[name] = "1700000000000"
        if "SequenceNumber" in attributes:
            attributes["SequenceNumber"] = "18849496460467696128"
        if "SenderId" in attributes:
            attributes["SenderId"] = "AIDAIENQZJOLO23YVJ4VO"
    return event


# ---- checks --------------------------------------------------------------------------------------------------------
def emitted_events(tmp: Path) -> dict[str, dict[str, Any]]:
    return {**asyncio.run(_http_events()), **_sqs_events(tmp)}


def field_paths(node: Any, prefix: str = "") -> set[str]:
    out: set[str] = set()
    if isinstance(node, dict):
        last = prefix.rsplit(".", 1)[-1].removesuffix("[]")
        if last in DYNAMIC_MAPS:
            return out
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            out.add(path)
            out |= field_paths(value, path)
    elif isinstance(node, list):
        for value in node:
            out |= field_paths(value, f"{prefix}[]")
    return out


def v2_absent_by_rule(event: dict[str, Any]) -> set[str]:
    """Fields API Gateway itself omits for this request: no cookies, no query, no path parameters, no authorizer."""
    absent = set()
    if "cookie" not in {k.lower() for k in event["headers"]} and "cookies" not in event:
        absent.add("cookies")
    if not event["rawQueryString"]:
        absent.add("queryStringParameters")
    if "content-length" not in event["headers"] and "transfer-encoding" not in event["headers"]:
        absent.add("body")
    if "{" not in event["routeKey"]:
        absent.add("pathParameters")
    if "authorizer" not in event["requestContext"]:
        absent |= {"requestContext.authorizer", "requestContext.authorizer.jwt"}
        absent |= {"requestContext.authorizer.jwt.claims", "requestContext.authorizer.jwt.scopes"}
    return absent


def sqs_absent_by_rule(event: dict[str, Any]) -> set[str]:
    """SQS gives MD5OfMessageAttributes only for a message with attributes, so Lambda's record has none without."""
    if any(record["messageAttributes"] for record in event["Records"]):
        return set()
    return {"Records[].md5OfMessageAttributes"}


def crate_fixtures() -> Path:
    """The fixtures directory of the aws_lambda_events version in Cargo.lock (from cargo's registry cache)."""
    lock = (paths.ROOT / "Cargo.lock").read_text()
    version = re.search(r'name = "aws_lambda_events"\nversion = "([^"]+)"', lock)
    assert version, "aws_lambda_events is not in Cargo.lock"
    cargo_home = Path(os.environ.get("CARGO_HOME") or Path.home() / ".cargo")
    found = sorted(cargo_home.glob(f"registry/src/*/aws_lambda_events-{version.group(1)}/src/fixtures"))
    if found:
        return found[-1]
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1"], cwd=paths.ROOT, check=True, capture_output=True, text=True
    ).stdout
    (package,) = [p for p in json.loads(meta)["packages"] if p["name"] == "aws_lambda_events"]
    return Path(package["manifest_path"]).parent / "src" / "fixtures"


def test_emitted_events_match_the_committed_fixtures(tmp_path: Path) -> None:
    events = emitted_events(tmp_path)
    stale = []
    EVENTS_DIR.mkdir(parents=True, exist_ok=True)
    for name, event in events.items():
        path = EVENTS_DIR / f"{name}.json"
        text = json.dumps(event, indent=2, sort_keys=True) + "\n"
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
            stale.append(path.name)
    assert not stale, f"events changed; rewrote {stale}: run `cargo test -p probe --test events` and commit them"
    assert {p.stem for p in EVENTS_DIR.glob("*.json")} == set(events)


def test_event_shapes() -> None:
    params = json.loads((EVENTS_DIR / "apigw-v2-request-params.json").read_text())
    assert params["routeKey"] == "POST /items/{id}" and params["cookies"] == ["c1=v1", "c2=v2"]
    assert params["queryStringParameters"] == {"a": "1,2", "b": ""}
    binary = json.loads((EVENTS_DIR / "apigw-v2-request-binary.json").read_text())
    assert binary["isBase64Encoded"] is True and base64.b64decode(binary["body"]) == bytes(range(256))
    assert binary["routeKey"] == "$default"
    jwt_event = json.loads((EVENTS_DIR / "apigw-v2-request-jwt.json").read_text())
    granted = jwt_event["requestContext"]["authorizer"]["jwt"]
    assert granted["claims"]["sub"] == "user-1" and granted["claims"]["iss"] == ISSUER
    fifo = json.loads((EVENTS_DIR / "sqs-event-fifo.json").read_text())["Records"][0]
    assert fifo["attributes"]["MessageGroupId"] == "group-1"
    assert fifo["eventSourceARN"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:fidelity-ordered.fifo"


def test_field_sets_match_aws_lambda_events_fixtures() -> None:
    fixtures = crate_fixtures()
    v2_known = set().union(*(field_paths(json.loads(p.read_text())) for p in fixtures.glob("example-apigw-v2-*.json")))
    v2_full = field_paths(json.loads((fixtures / "example-apigw-v2-request-jwt-authorizer.json").read_text()))
    sqs_known = set().union(*(field_paths(json.loads(p.read_text())) for p in fixtures.glob("example-sqs-event*.json")))
    sqs_full = field_paths(json.loads((fixtures / "example-sqs-event.json").read_text()))
    for path in sorted(EVENTS_DIR.glob("*.json")):
        ours = field_paths(json.loads(path.read_text()))
        if path.name.startswith("apigw-v2"):
            assert ours <= v2_known, f"{path.name}: fields AWS doesn't send: {sorted(ours - v2_known)}"
            missing = v2_full - ours - set(V2_ALLOWED_ABSENT) - v2_absent_by_rule(json.loads(path.read_text()))
            assert not missing, f"{path.name}: fields AWS sends that we don't: {sorted(missing)}"
        else:
            assert ours <= sqs_known, f"{path.name}: fields AWS doesn't send: {sorted(ours - sqs_known)}"
            missing = sqs_full - ours - set(SQS_KNOWN_GAPS) - sqs_absent_by_rule(json.loads(path.read_text()))
            assert not missing, f"{path.name}: fields AWS sends that we don't: {sorted(missing)}"
