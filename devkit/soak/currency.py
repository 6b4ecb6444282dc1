"""Currency soak: thousands of commands through write fn → SQS → projector → DynamoDB while the local cloud injects
projector failures, then every command is counted, not assumed, to have been applied exactly once.

Faults (devkit/localcloud/awslambda/faults.py, on CurrencyProjector, seeded): answers lost after the batch was applied
(`error`, the function ran), batches refused before the function saw them (`error`, prevent_execution) and
environments SIGKILLed mid-batch (`crash`: some messages written, some not). Each is limited to the first
maxReceiveCount - 1 deliveries, so a healthy command never reaches the DLQ and must end applied.

The counts, once the commands queue is empty (nothing visible, nothing in flight):
- the commands table: every accepted command `applied`, none `accepted` or `rejected`;
- the projector's log (one line per message it handled, with command id and outcome): each command `written` at
  most once; exactly once when its status says `written`, never when it says `superseded` (a newer command of the
  same currency was already in place);
- the read model: every currency at the highest sequence (the last order key) accepted for it, with that command's
  rate;
- the DLQ empty; the faults the local cloud injected, and the batches and messages that came back because of them.

`./inv soak` runs it on a private local cloud (DynamoDB Local + ElasticMQ when Java is present) and writes
JSON + Markdown under reports/soak/.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import aiohttp

from devkit import build as builder
from devkit import paths
from devkit.bench import write_to_read
from devkit.bench.currency import default_backend
from devkit.localcloud import QueueSpec, read_records
from devkit.localcloud import run as run_loop
from devkit.stack import local_status, set_faults, wait_for_empty_queue
from devkit.targets import LOCAL_CREDENTIALS
from devkit.targets.endpoints import local_cloud

PROJECTOR, QUEUE, DLQ = "CurrencyProjector", "CommandsQueue", "CommandsDLQ"
RETRYABLE = {429, 500, 502, 503, 504}
SEND_ATTEMPTS = 6
QUEUE_COUNTERS = ("received", "deleted", "batches", "failed_batches", "partial_batches")


@dataclass(frozen=True)
class SoakSettings:
    commands: int = 10_000
    rate: float = 100.0  # commands per second, steady
    failure_percentage: float = 10.0  # of projector invocations (on early deliveries)
    seed: int = 1
    settle_s: float = 300.0  # after the last write, for the queue to drain (redeliveries wait out the visibility)


@dataclass
class Accepted:
    id: str
    code: str
    sequence: int
    rate_to_base: str


@dataclass
class _Sending:
    accepted: list[Accepted] = field(default_factory=list)
    retries: int = 0
    retry_reasons: Counter[str] = field(default_factory=Counter)  # status code or exception name → retries
    refused: list[str] = field(default_factory=list)


def fault_plan(settings: SoakSettings, max_receive_count: int) -> dict[str, Any]:
    """The faults on the projector: split 40/40/20 between lost answers, crashes and refused batches."""
    share = settings.failure_percentage
    early = {"max_attempt": max(1, max_receive_count - 1)}
    return {
        "seed": settings.seed,
        "faults": [
            {"action": "error", "percentage": share * 0.4, **early},
            {"action": "crash", "percentage": share * 0.4, "within_ms": 30, **early},
            {"action": "error", "percentage": share * 0.2, "prevent_execution": True, **early},
        ],
    }


async def _send_one(session: aiohttp.ClientSession, api: str, token: str, i: int, run: _Sending) -> None:
    codes = write_to_read.BENCH_CODES
    code = codes[i % len(codes)]
    rate = f"1.{i:06d}"
    body = {"name": f"Soak {code}", "minor_units": write_to_read.MINOR_UNITS[code], "rate_to_base": rate}
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"soak-{uuid.uuid4().hex}"}
    last = ""
    for attempt in range(SEND_ATTEMPTS):  # retries carry the same Idempotency-Key: one command however many tries
        if attempt:
            run.retries += 1
            await asyncio.sleep(0.2 * 2**attempt)  # backoff between retries of a refused or failed request
        try:
            async with session.put(f"{api}/currencies/{code}", json=body, headers=headers) as reply:
                payload = await reply.json(content_type=None)
                if reply.status == 202:
                    run.accepted.append(Accepted(payload["id"], code, int(payload["sequence"]), rate))
                    return
                last = f"{reply.status}: {payload}"
                if reply.status not in RETRYABLE:
                    break
                run.retry_reasons[str(reply.status)] += 1
        except (TimeoutError, aiohttp.ClientError, ValueError) as err:
            last = repr(err)
            run.retry_reasons[type(err).__name__] += 1
    run.refused.append(last)


async def _send_all(api: str, token: str, settings: SoakSettings, progress: Callable[[str], None]) -> _Sending:
    run = _Sending()
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256), timeout=timeout) as session:
        start, tasks = time.monotonic(), []
        for i in range(settings.commands):
            delay = start + i / settings.rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)  # the steady schedule: command i leaves at start + i/rate
            tasks.append(asyncio.create_task(_send_one(session, api, token, i, run)))
            if i and i % 1000 == 0:
                progress(f"soak: {i}/{settings.commands} commands sent, {len(run.accepted)} accepted")
        await asyncio.gather(*tasks)
    return run


def projector_outcomes(log_dir: Path) -> dict[str, list[str]]:
    """command id → the outcomes the projector logged for it, in log order."""
    found: dict[str, list[str]] = defaultdict(list)
    for record in read_records(log_dir, function=PROJECTOR):
        start = record.text.find("{")
        if start < 0:
            continue
        try:
            line = json.loads(record.text[start:])
        except ValueError:
            continue
        if isinstance(line, dict) and "outcome" in line and "command_id" in line:
            found[str(line["command_id"])].append(str(line["outcome"]))
    return found


def _scan(client: Any, table: str) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        yield from page.get("Items", [])


def count(
    accepted: list[Accepted],
    writes: Counter[tuple[str, int]],
    outcomes: dict[str, list[str]],
    statuses: dict[str, dict[str, str]],
    read_model: dict[str, tuple[int, str]],
) -> dict[str, Any]:
    """The exactly-once verdict from what the store, the command statuses and the projector's log say.

    `writes` counts the read model's changes per (code, version) from its change stream: a command's version is
    unique to it, so that is how many times the store accepted that command's write. Exactly once: at most one write
    per command, exactly one when its status says `written` (a `superseded` one may have been written before a newer
    command overtook it, when a crash lost its first answer), every command `applied`, every currency at its newest
    command. The log's `written` lines are checked against the writes (a crash can lose a line, never add one)."""
    status_of = {c.id: statuses.get(c.id, {}) for c in accepted}
    status_counts = Counter(s.get("status", "missing") for s in status_of.values())
    final_outcomes = Counter(s.get("outcome", "none") for s in status_of.values())
    stored = {c.id: writes.get((c.code, c.sequence), 0) for c in accepted}
    logged = {c.id: outcomes.get(c.id, []).count("written") for c in accepted}
    twice = [cid for cid, n in stored.items() if n > 1]
    unwritten = [cid for cid, n in stored.items() if n == 0 and status_of[cid].get("outcome") == "written"]
    phantom = [cid for cid in stored if logged[cid] > stored[cid]]
    unlogged = [c.id for c in accepted if not outcomes.get(c.id)]
    newest: dict[str, Accepted] = {}
    for command in accepted:
        if command.code not in newest or command.sequence > newest[command.code].sequence:
            newest[command.code] = command
    stale = {
        code: {"expected": [c.sequence, c.rate_to_base], "found": read_model.get(code)}
        for code, c in newest.items()
        if not _holds(read_model.get(code), c)
    }
    deliveries = Counter(len(outcomes.get(c.id, [])) for c in accepted)
    return {
        "accepted": len(accepted),
        "statuses": dict(status_counts),
        "final_outcomes": dict(final_outcomes),
        "store_writes_once": sum(1 for n in stored.values() if n == 1),
        "store_writes_more_than_once": len(twice),
        "written_status_without_store_write": len(unwritten),
        "written_lines_without_store_write": len(phantom),
        "written_lines_lost_in_crashes": sum(1 for cid in stored if logged[cid] < stored[cid]),
        "unlogged": len(unlogged),
        "stale_currencies": stale,
        "projector_lines_per_command": {str(k): v for k, v in sorted(deliveries.items())},
        "examples": {"twice": twice[:5], "unwritten": unwritten[:5], "phantom": phantom[:5], "unlogged": unlogged[:5]},
        "exactly_once": not (twice or unwritten or phantom or unlogged or stale)
        and status_counts.get("applied", 0) == len(accepted),
    }


def _holds(found: tuple[int, str] | None, command: Accepted) -> bool:
    """The read model's (version, rate) is `command`'s (rates compared as decimals: 1.000100 == 1.0001)."""
    if found is None or found[0] != command.sequence:
        return False
    try:
        return Decimal(found[1]) == Decimal(command.rate_to_base)
    except InvalidOperation:
        return False


def run_soak(
    settings: SoakSettings,
    *,
    profile: str,
    build: bool = True,
    backend: str | None = None,
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Builds the bootstraps (unless `build` is false), starts a private local cloud, runs the soak, counts, stops."""
    from devkit.localcloud import load_stack

    backend = backend or default_backend()
    stack = load_stack(paths.TEMPLATE, parameters=paths.LOCAL_PARAMETERS)
    if build:
        binaries = sorted({fn.binary for fn in stack.functions.values() if fn.binary})
        progress(f"soak: building {len(binaries)} bootstraps (profile {profile})…")
        builder.build_bootstraps(binaries, profile=profile)
    with local_cloud(build=False, backend=backend, profile=profile) as endpoints:
        urls = {"HttpApi": endpoints.api, "AuthApi": endpoints.auth}
        result = soak(urls, endpoints.control or {}, endpoints.target, settings, stack.queues[QUEUE], progress)
    return result | {"backend": backend}


def soak(
    urls: dict[str, str],
    control: dict[str, Any],
    target: Any,
    settings: SoakSettings,
    queue: QueueSpec,
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    """The soak on a running local cloud (`control`: its control file; `target`: devkit.targets.Target of it). Counts
    are deltas, so a stack other tests used works too; the faults are cleared afterwards."""
    plan = fault_plan(settings, queue.max_receive_count or 1)
    progress(f"soak: {settings.commands} commands at {settings.rate:.0f}/s, projector faults {plan['faults']}")
    token = write_to_read.admin_token(urls, target=target)
    sqs, dynamodb = target.client("sqs"), target.client("dynamodb")
    dlq_before = _depth(sqs, target.output("CommandsDLQUrl"))
    stream_arn = watch_writes(dynamodb, target.output("CurrenciesTableName"))
    before = local_status(control)["queues"][QUEUE]
    set_faults(control, PROJECTOR, plan)
    try:
        started = time.monotonic()
        sending = run_loop(_send_all(urls["HttpApi"], token, settings, progress))
        sent_s = time.monotonic() - started
        settle_s = settings.settle_s + queue.visibility_timeout_s * (queue.max_receive_count or 1)
        # stays empty for 2 s (several status reads): nothing is left waiting to be redelivered
        state = wait_for_empty_queue(
            control, QUEUE, deadline_s=settle_s, stable_s=2.0, progress=lambda text: progress(f"soak: {text}")
        )
        drained_s = time.monotonic() - started
    finally:
        set_faults(control, PROJECTOR, None)
    injected = state["functions"][PROJECTOR]["faults"]
    statuses = {
        item["id"]["S"]: {"status": item["status"]["S"], "outcome": item.get("outcome", {}).get("S", "none")}
        for item in _scan(dynamodb, target.output("CommandsTableName"))
        if "status" in item
    }
    read_model = {
        item["code"]["S"]: (int(item["version"]["N"]), item.get("rate_to_base", {}).get("S", ""))
        for item in _scan(dynamodb, target.output("CurrenciesTableName"))
    }
    writes = count_writes(target, stream_arn)
    outcomes = projector_outcomes(Path(control["state_dir"]) / "logs")
    verdict = count(sending.accepted, writes, outcomes, statuses, read_model)
    dlq_depth = _depth(sqs, target.output("CommandsDLQUrl")) - dlq_before
    after = state["queues"][QUEUE]
    delta = {k: int(after.get(k, 0)) - int(before.get(k, 0)) for k in QUEUE_COUNTERS}
    return verdict | {
        "ok": verdict["exactly_once"] and dlq_depth == 0 and not sending.refused,
        "settings": asdict(settings),
        "sent_s": round(sent_s, 1),
        "drained_s": round(drained_s, 1),
        "client_retries": sending.retries,
        "retry_reasons": dict(sending.retry_reasons),
        "refused": len(sending.refused),
        "first_refusals": sending.refused[:5],
        "dlq_depth": dlq_depth,
        "faults": injected,
        "queue": delta,
        "redelivered_messages": delta["received"] - len(sending.accepted),
    }


def watch_writes(dynamodb: Any, table: str) -> str:
    """Turns on the read model's change stream (NEW_IMAGE) if it is off, so every write the store accepts can be
    counted afterwards; returns the stream's ARN. The soak's own observer: the template does not need a stream."""
    table_description = dynamodb.describe_table(TableName=table)["Table"]
    spec = table_description.get("StreamSpecification") or {}
    if not spec.get("StreamEnabled"):
        stream = {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
        table_description = dynamodb.update_table(TableName=table, StreamSpecification=stream)["TableDescription"]
    elif spec.get("StreamViewType") not in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
        raise RuntimeError(f"soak: {table} has a {spec.get('StreamViewType')} stream; writes need NEW_IMAGE")
    return str(table_description["LatestStreamArn"])


def count_writes(target: Any, stream_arn: str) -> Counter[tuple[str, int]]:
    """(code, version) → how many INSERT/MODIFY records the stream holds with that new image."""
    streams = _streams_client(target)
    writes: Counter[tuple[str, int]] = Counter()
    shards, start = [], None
    while True:
        page = streams.describe_stream(StreamArn=stream_arn, **({"ExclusiveStartShardId": start} if start else {}))
        shards += page["StreamDescription"].get("Shards", [])
        start = page["StreamDescription"].get("LastEvaluatedShardId")
        if not start:
            break
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        ).get("ShardIterator")
        empty_pages = 0
        while iterator and empty_pages < 2:  # an open shard never ends: two empty pages mean it is read to the end
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            records = page.get("Records", [])
            empty_pages = 0 if records else empty_pages + 1
            for record in records:
                image = record.get("dynamodb", {}).get("NewImage") or {}
                if record.get("eventName") in ("INSERT", "MODIFY") and "code" in image and "version" in image:
                    writes[(image["code"]["S"], int(image["version"]["N"]))] += 1
            iterator = page.get("NextShardIterator")
    return writes


def _streams_client(target: Any) -> Any:
    """DynamoDB Streams on the same endpoint as DynamoDB (DynamoDB Local and moto serve both)."""
    import boto3

    endpoint = target.client("dynamodb").meta.endpoint_url if target.endpoint_env else None
    if endpoint is None:
        return boto3.client("dynamodbstreams", region_name=target.region)
    return boto3.client("dynamodbstreams", region_name=target.region, endpoint_url=endpoint, **LOCAL_CREDENTIALS)


def _depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def render(result: dict[str, Any], command: str) -> str:
    s, faults = result["settings"], result["faults"]
    verdict = "**every command applied exactly once**" if result["ok"] else "**FAILED**"
    lines = [
        "# Currency soak: exactly-once under injected projector failures",
        "",
        f"Command: `{command}`. {s['commands']} commands at {s['rate']:.0f}/s on {result.get('backend', '?')}, "
        f"projector faults on {s['failure_percentage']}% of early deliveries (seed {s['seed']}). Verdict: {verdict}.",
        "",
        "| counted | value |",
        "|---|---:|",
        f"| commands accepted (202) | {result['accepted']} |",
        f"| refused after {SEND_ATTEMPTS} tries / client retries (why) | {result['refused']} / "
        f"{result['client_retries']} {result.get('retry_reasons', {})} |",
        f"| statuses | {result['statuses']} |",
        f"| final outcomes | {result['final_outcomes']} |",
        f"| read-model writes (change stream): exactly one / more than one | "
        f"{result['store_writes_once']} / {result['store_writes_more_than_once']} |",
        f"| status `written` with no write / `written` log line with no write | "
        f"{result['written_status_without_store_write']} / {result['written_lines_without_store_write']} |",
        f"| `written` log lines lost with a crashed environment | {result['written_lines_lost_in_crashes']} |",
        f"| commands with no projector line | {result['unlogged']} |",
        f"| currencies not at their newest command | {len(result['stale_currencies'])} |",
        f"| DLQ depth | {result['dlq_depth']} |",
        f"| faults injected (of {faults['invocations_considered']} invocations) | {faults['injected']} |",
        f"| commands queue | {result['queue']} |",
        f"| messages delivered again | {result['redelivered_messages']} |",
        f"| projector lines per command | {result['projector_lines_per_command']} |",
        f"| sending took / drained after | {result['sent_s']} s / {result['drained_s']} s |",
        "",
    ]
    return "\n".join(lines)


def write_report(result: dict[str, Any], command: str, directory: Path | None = None) -> Path:
    directory = directory or paths.ROOT / "reports" / "soak"
    directory.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (directory / f"soak-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")
    page = directory / f"soak-{stamp}.md"
    page.write_text(render(result, command))
    (directory / "latest.md").write_text(render(result, command))
    return page


def soak_task(settings: SoakSettings, *, profile: str, build_first: bool, backend: str | None) -> None:
    """`./inv soak`: :func:`run_soak`, the report written and printed; TaskFailure when any count is off."""
    from devkit.errors import TaskFailure

    result = run_soak(settings, profile=profile, build=build_first, backend=backend)
    command = (
        f"./inv soak --commands {settings.commands} --rate {settings.rate:g} "
        f"--failures {settings.failure_percentage:g} --seed {settings.seed}"
    )
    page = write_report(result, command)
    print(render(result, command))
    print(f"soak: report {page}")
    if not result["ok"]:
        raise TaskFailure("not every command was applied exactly once (see the report)")
