"""Currency write-to-readable latency in `./inv bench` (issue 6): a private local cloud of the whole template,
admin PUTs at a steady rate, a poller on the read API (`devkit.bench_currency` does the measuring).

The stack runs on DynamoDB Local + ElasticMQ when Java is present (the engines the write path meets on AWS are
not Python servers), on moto otherwise; the report says which.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devkit import bench_currency, contract_stack


@dataclass(frozen=True)
class Settings:
    rate: float  # commands per second
    seconds: float  # measured
    warmup_s: float = 5.0  # same rate, not measured: starts the environments the rate needs
    drain_s: float = 10.0


QUICK = Settings(rate=200, seconds=10)
FULL = Settings(rate=200, seconds=30)
TARGET_P99_MS = 1000.0


def default_backend() -> str:
    return "dynamodb-local" if shutil.which("java") else "moto"


def write_to_readable(
    settings: Settings, *, profile: str, backend: str | None = None, say: Callable[[str], None] = print
) -> dict[str, Any]:
    """Starts the stack (bootstraps already built for `profile`), runs the steady write load, stops the stack."""
    backend = backend or default_backend()
    say(f"bench: currency write-to-readable, {settings.rate:.0f} commands/s for {settings.seconds:.0f} s ({backend})…")
    with contract_stack.local_cloud(build=False, backend=backend, profile=profile) as endpoints:
        urls = {"HttpApi": endpoints.api, "AuthApi": endpoints.auth}
        token = bench_currency.admin_token(urls, target=endpoints.target)
        result = bench_currency.write_to_readable(
            urls, settings.rate, settings.seconds, token=token, drain_s=settings.drain_s, warmup_s=settings.warmup_s
        )
    result["backend"] = backend
    result["target_p99_ms"] = TARGET_P99_MS
    result["met"] = bool(result["p99_ms"] is not None and result["p99_ms"] <= TARGET_P99_MS and not result["errors"])
    result["met"] = result["met"] and result["unreadable"] == 0
    return result


def line(result: dict[str, Any]) -> str:
    return (
        f"  currency write→readable at {result['rate']:.0f}/s for {result['seconds']:.0f} s ({result['backend']}): "
        f"p50 {result['p50_ms']} ms p99 {result['p99_ms']} ms max {result['max_ms']} ms; sent {result['sent']}, "
        f"readable {result['readable']}, unreadable {result['unreadable']}, errors {result['errors']} "
        f"(target p99 ≤ {result['target_p99_ms']:.0f} ms: {'met' if result['met'] else 'MISSED'})"
    )


def render(result: dict[str, Any]) -> list[str]:
    return [
        "",
        "## Currency write-to-readable (write fn → SQS → projector → DynamoDB → read fn)",
        "",
        f"{result['rate']:.0f} commands/s for {result['seconds']:.0f} s after {result['warmup_s']:.0f} s of warm-up "
        f"at the same rate, backend {result['backend']}, loopback. "
        "Latency from the start of each `PUT /currencies/{code}` to the first `GET /currencies` showing its version.",
        "",
        "| sent | readable | unreadable | errors | p50 | p99 | max | target p99 |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| {result['sent']} | {result['readable']} | {result['unreadable']} | {result['errors']} | "
        f"{result['p50_ms']} ms | {result['p99_ms']} ms | {result['max_ms']} ms | "
        f"≤ {result['target_p99_ms']:.0f} ms: {'met' if result['met'] else '**missed**'} |",
    ]
