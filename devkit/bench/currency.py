"""Currency write-to-readable latency in `./inv bench`: a private local cloud of the whole template,
admin PUTs at steady rates, a poller on the read API (`devkit.bench.write_to_read` does the measuring).

The rates are swept upwards on one stack (the queue drained between them) up to the headline rate (200/s), so the
report gives the verdict at the headline rate, the highest rate that met the target on this machine, and where the
CPU went per command at each rate (the local cloud, each backend, each function; devkit/bench/cpu.py): on a
laptop every component of the "cloud" shares the same cores, so the sustainable rate is a CPU budget.

The stack runs on DynamoDB Local + ElasticMQ when Java is present (the engines the write path meets on AWS are
not Python servers), on moto otherwise; the report says which.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devkit.bench import cpu, write_to_read
from devkit.localcloud import read_records
from devkit.stack import wait_for_empty_queue
from devkit.targets.endpoints import local_cloud


@dataclass(frozen=True)
class Settings:
    rates: tuple[float, ...]  # commands per second, ascending; the last is the headline rate
    seconds: float  # measured, per rate
    warmup_s: float = 10.0  # ramping up to the rate, not measured: starts the environments the rate needs
    drain_s: float = 10.0


QUICK = Settings(rates=(100, 200), seconds=10)
FULL = Settings(rates=(50, 100, 150, 200), seconds=30)
TARGET_P99_MS = 1000.0
SATURATED_P99_MS = 5 * TARGET_P99_MS  # beyond this the pipeline is queueing: higher rates only queue more
QUEUE_DRAIN_DEADLINE_S = 180.0


# The functions that write DynamoDB for a command; each reports its writes as the EMF count `DynamoDBWrites`
# (counted by an SDK interceptor: every write request sent, retries and transactions included).
WRITERS = ("CurrencyWrite", "CurrencyProjector")
WRITES_METRIC = "DynamoDBWrites"


def dynamodb_writes(log_dir: Path, functions: tuple[str, ...] = WRITERS) -> dict[str, float]:
    """The `DynamoDBWrites` each function reported so far in its log (EMF lines), by function."""
    totals = dict.fromkeys(functions, 0.0)
    for function in functions:
        for record in read_records(log_dir, function=function):
            start = record.text.find("{")
            if start < 0 or WRITES_METRIC not in record.text:
                continue
            try:
                document = json.loads(record.text[start:])
            except ValueError:
                continue
            value = document.get(WRITES_METRIC) if isinstance(document, dict) and "_aws" in document else None
            if isinstance(value, int | float):
                totals[function] += float(value)
    return totals


def writes_per_command(before: dict[str, float], after: dict[str, float], commands: int) -> dict[str, Any]:
    """Measured DynamoDB write requests per accepted command, in total and per function."""
    delta = {name: after.get(name, 0.0) - before.get(name, 0.0) for name in after}
    if commands <= 0:
        return {"dynamodb_writes_per_command": None, "dynamodb_writes_by_function": {}}
    return {
        "dynamodb_writes_per_command": round(sum(delta.values()) / commands, 2),
        "dynamodb_writes_by_function": {name: round(n / commands, 2) for name, n in delta.items()},
        "dynamodb_writes": int(sum(delta.values())),
    }


def default_backend() -> str:
    return "dynamodb-local" if shutil.which("java") else "moto"


def met(result: dict[str, Any]) -> bool:
    p99 = result.get("p99_ms")
    return p99 is not None and p99 <= TARGET_P99_MS and not result["errors"] and result["unreadable"] == 0


def write_to_readable(
    settings: Settings, *, profile: str, backend: str | None = None, say: Callable[[str], None] = print
) -> dict[str, Any]:
    """Starts the stack (bootstraps already built for `profile`), sweeps the rates, stops the stack. The headline
    rate's figures are the top-level keys; `sweep` holds every rate's, with CPU milliseconds per command."""
    backend = backend or default_backend()
    headline = settings.rates[-1]
    sweep: list[dict[str, Any]] = []
    with local_cloud(build=False, backend=backend, profile=profile) as endpoints:
        control = endpoints.control or {}
        urls = {"HttpApi": endpoints.api, "AuthApi": endpoints.auth}
        token = write_to_read.admin_token(urls, target=endpoints.target)
        log_dir = Path(control["state_dir"]) / "logs"
        for rate in settings.rates:
            if sweep and not met(sweep[-1]) and (sweep[-1]["p99_ms"] or 1e9) > SATURATED_P99_MS and rate != headline:
                continue  # saturated below this rate: go straight to the headline rate
            say(f"bench: currency write-to-readable, {rate:.0f} commands/s for {settings.seconds:.0f} s ({backend})…")
            # a rate starts once the previous one's commands are all projected
            wait_for_empty_queue(control, "CommandsQueue", deadline_s=QUEUE_DRAIN_DEADLINE_S)
            before, client_before = cpu.snapshot(int(control["pid"])), time.process_time()
            writes_before = dynamodb_writes(log_dir)
            result = write_to_read.write_to_readable(
                urls, rate, settings.seconds, token=token, drain_s=settings.drain_s, warmup_s=settings.warmup_s
            )
            after = cpu.snapshot(int(control["pid"]))
            # every command of this rate projected (and its batch's line written) before the writes are counted
            wait_for_empty_queue(control, "CommandsQueue", deadline_s=QUEUE_DRAIN_DEADLINE_S, stable_s=1.0)
            result |= writes_per_command(writes_before, dynamodb_writes(log_dir), result["accepted_with_warmup"])
            after["bench client (Python)"] = time.process_time() - client_before  # this process: not in the tree
            commands = result["sent"] + result.get("warmup_sent", 0)
            result["cpu_ms_per_command"] = cpu.per_unit_ms(before, after, commands)
            result["met"] = met(result)
            sweep.append(result)
            say(line(result | {"backend": backend, "target_p99_ms": TARGET_P99_MS}))
    top = dict(sweep[-1])
    sustained = [r["rate"] for r in sweep if r["met"]]
    return top | {
        "backend": backend,
        "target_p99_ms": TARGET_P99_MS,
        "sweep": sweep,
        "sustained_rate": max(sustained) if sustained else None,
    }


def line(result: dict[str, Any]) -> str:
    text = (
        f"  currency write→readable at {result['rate']:.0f}/s for {result['seconds']:.0f} s ({result['backend']}): "
        f"p50 {result['p50_ms']} ms p99 {result['p99_ms']} ms max {result['max_ms']} ms; sent {result['sent']}, "
        f"readable {result['readable']}, unreadable {result['unreadable']}, errors {result['errors']} "
        f"(target p99 ≤ {result['target_p99_ms']:.0f} ms: {'met' if result['met'] else 'MISSED'}); "
        f"DynamoDB writes per command {_writes(result)}"
    )
    if "sustained_rate" in result:
        sustained = result["sustained_rate"]
        text += f"; highest rate meeting it here: {f'{sustained:.0f}/s' if sustained else 'none'}"
    return text


def _writes(result: dict[str, Any]) -> str:
    per_command = result.get("dynamodb_writes_per_command")
    if per_command is None:
        return "n/a"
    by_function = ", ".join(f"{name} {n}" for name, n in (result.get("dynamodb_writes_by_function") or {}).items())
    return f"{per_command} ({by_function})" if by_function else str(per_command)


def _cpu_cell(result: dict[str, Any]) -> str:
    shares = result.get("cpu_ms_per_command") or {}
    total = sum(shares.values())
    top = ", ".join(f"{name} {ms:.1f}" for name, ms in list(shares.items())[:6])
    return f"{total:.1f} ms ({top})" if shares else "n/a"


def render(result: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "## Currency write-to-readable (write fn → SQS → projector → DynamoDB → read fn)",
        "",
        f"{result['rate']:.0f} commands/s for {result['seconds']:.0f} s after {result['warmup_s']:.0f} s of warm-up "
        f"ramping up to that rate, backend {result['backend']}, loopback. "
        "Latency from the start of each `PUT /currencies/{code}` to the first `GET /currencies` showing its version.",
        "",
        "| sent | readable | unreadable | errors | p50 | p99 | max | target p99 | DynamoDB writes per command |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---|",
        f"| {result['sent']} | {result['readable']} | {result['unreadable']} | {result['errors']} | "
        f"{result['p50_ms']} ms | {result['p99_ms']} ms | {result['max_ms']} ms | "
        f"≤ {result['target_p99_ms']:.0f} ms: {'met' if result['met'] else '**missed**'} | {_writes(result)} |",
        "",
        "DynamoDB writes per command: the write requests the currency functions sent (PutItem, UpdateItem, "
        "TransactWriteItems, …, counted by an SDK interceptor and reported as the EMF count `DynamoDBWrites`) "
        "divided by the commands accepted at this rate, warm-up included.",
    ]
    sweep = result.get("sweep") or []
    if sweep:
        sustained = result.get("sustained_rate")
        lines += [
            "",
            f"Rates swept on the same stack (highest meeting p99 ≤ {result['target_p99_ms']:.0f} ms here: "
            f"{f'{sustained:.0f}/s' if sustained else 'none'}). CPU per command is every process of the stack "
            "plus the bench client, per component (ms); when their sum times the rate nears the machine's cores "
            "(2 cores = 2000 ms per second), the pipeline queues.",
            "",
            "| rate | p50 | p99 | unreadable | errors | CPU per command |",
            "|---:|---:|---:|---:|---:|---|",
        ]
        lines += [
            f"| {r['rate']:.0f}/s | {r['p50_ms']} ms | {r['p99_ms']} ms | {r['unreadable']} | {r['errors']} | "
            f"{_cpu_cell(r)} |"
            for r in sweep
        ]
    return lines
