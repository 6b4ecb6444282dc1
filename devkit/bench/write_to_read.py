"""Currency write-to-readable latency: admin PUTs at a steady rate, a poller watching the read API.

`write_to_readable(stack_urls, rate, seconds)` sends `rate` commands per second for `seconds` (loopback only)
spread over a fixed set of currency codes, and measures for each command the time from the start of its
`PUT /currencies/{code}` to the first `GET /currencies` (polled every few milliseconds with `If-None-Match`)
that shows the code at a version >= the command's sequence. That covers the write function, SQS, the projector,
DynamoDB and the read function's in-environment cache. Returns p50/p99/max in milliseconds.

CLI (needs a running stack: `./inv up`): `python -m devkit.bench.write_to_read --rate 200 --seconds 30`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import requests

from devkit import paths, targets
from devkit.bench.stats import percentile
from devkit.localcloud import run as run_loop
from devkit.targets import admin

PASSWORD = "bench password: correct horse battery staple"
# Codes no test suite uses (tests own SGD, PLN, THB, MYR, CZK, NZD; convert seeds FJD, ISK, TND; billing EUR/USD…).
BENCH_CODES = ("AED", "ARS", "BDT", "BGN", "BRL", "CLP", "COP", "DKK", "EGP", "GHS", "HKD", "HUF",
               "IDR", "ILS", "INR", "KES", "KRW", "MAD", "MXN", "NGN", "NOK", "PEN", "PHP", "PKR",
               "QAR", "RON", "SAR", "SEK", "TRY", "TWD", "UAH", "VND", "ZAR", "UYU")  # fmt: skip
POLL_INTERVAL_S = 0.025  # the read side is polled 40 times a second: resolution well under the 1 s target


def admin_token(
    stack_urls: dict[str, str], state_dir: Path = paths.STATE_DIR, target: targets.Target | None = None
) -> str:
    """Registers a fresh account, makes it admin in the users table (of `target`, default: the local cloud in
    `state_dir`), and logs it in."""
    auth = stack_urls.get("AuthApi", stack_urls["HttpApi"])
    target = target or targets.local(state_dir)
    email = f"bench-{uuid.uuid4().hex[:12]}@example.test"
    with requests.Session() as http:
        http.post(f"{auth}/register", json={"email": email, "password": PASSWORD}, timeout=30).raise_for_status()
        admin.grant_admin(target.client("dynamodb"), target.output("UsersTableName"), email)
        login = http.post(f"{auth}/login", json={"email": email, "password": PASSWORD}, timeout=30)
        login.raise_for_status()
        return login.json()["access_token"]


@dataclass
class _Run:
    pending: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # code → [(sequence, t0)]
    latencies_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sent: int = 0  # measured commands sent
    warmup_sent: int = 0
    accepted_all: int = 0  # 202s, warm-up included
    writes_done: bool = False


async def _write(
    session: aiohttp.ClientSession, api: str, token: str, code: str, i: int, run: _Run, *, measured: bool = True
) -> None:
    t0 = time.monotonic()
    body = {"name": f"Bench {code}", "minor_units": MINOR_UNITS[code], "rate_to_base": f"1.{i:06d}"}
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"bench-{uuid.uuid4().hex}"}
    try:
        async with session.put(f"{api}/currencies/{code}", json=body, headers=headers) as reply:
            payload = await reply.json(content_type=None)
            if reply.status != 202:
                run.errors.append(f"{reply.status}: {payload}")
                return
            run.accepted_all += 1
            if measured:
                run.pending.setdefault(code, []).append((int(payload["sequence"]), t0))
    except (TimeoutError, aiohttp.ClientError, ValueError, KeyError) as err:
        run.errors.append(repr(err))


async def _poll(session: aiohttp.ClientSession, api: str, run: _Run, deadline: float) -> None:
    etag = None
    while time.monotonic() < deadline and not (run.writes_done and not any(run.pending.values())):
        headers = {"If-None-Match": etag} if etag else {}
        try:
            async with session.get(f"{api}/currencies", headers=headers) as reply:
                now = time.monotonic()
                if reply.status == 200:
                    etag = reply.headers.get("ETag")
                    versions = {c["code"]: c["version"] for c in (await reply.json())["items"]}
                    for code, waiting in run.pending.items():
                        version = versions.get(code, 0)
                        run.latencies_s += [now - t0 for sequence, t0 in waiting if sequence <= version]
                        waiting[:] = [(s, t0) for s, t0 in waiting if s > version]
        except (TimeoutError, aiohttp.ClientError, ValueError) as err:
            run.errors.append(f"poll: {err!r}")
        await asyncio.sleep(POLL_INTERVAL_S)  # poll interval, bounded by the deadline above


def send_times(rate: float, seconds: float, warmup_s: float) -> tuple[list[float], int]:
    """When each command leaves (seconds from the start) and how many of them are warm-up.

    The warm-up ramps linearly from a tenth of `rate` to `rate` (as traffic grows on a live service and as load
    tools ramp users), so the environments the steady rate needs start a few at a time instead of as one burst of
    cold starts; then `rate` per second for `seconds`."""
    start_rate = rate / 10
    slope = (rate - start_rate) / warmup_s if warmup_s > 0 else 0.0
    warmup = int(warmup_s * (start_rate + rate) / 2)
    times = []
    for i in range(warmup):  # solve start_rate*t + slope*t²/2 = i for t
        times.append((-start_rate + math.sqrt(start_rate**2 + 2 * slope * i)) / slope if slope else i / start_rate)
    times += [warmup_s + i / rate for i in range(int(rate * seconds))]
    return times, warmup


async def _bench(
    api: str, token: str, rate: float, seconds: float, codes: tuple[str, ...], drain_s: float, warmup_s: float = 0.0
) -> _Run:
    run = _Run()
    times, warmup = send_times(rate, seconds, warmup_s)
    connector = aiohttp.TCPConnector(limit=256)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        poller = asyncio.create_task(_poll(session, api, run, time.monotonic() + warmup_s + seconds + drain_s + 5))
        start = time.monotonic()
        writes = []
        for i, at in enumerate(times):
            delay = start + at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)  # the schedule: command i leaves at start + times[i]
            measured = i >= warmup
            writes.append(
                asyncio.create_task(_write(session, api, token, codes[i % len(codes)], i, run, measured=measured))
            )
            run.sent += measured
            run.warmup_sent += not measured
        await asyncio.gather(*writes)
        run.writes_done = True
        await poller
    return run


# ISO 4217 minor-unit digits of BENCH_CODES (the write API refuses any other value).
MINOR_UNITS: dict[str, int] = {code: 2 for code in BENCH_CODES} | {"CLP": 0, "KRW": 0, "VND": 0}


def write_to_readable(
    stack_urls: dict[str, str],
    rate: float,
    seconds: float,
    *,
    token: str | None = None,
    state_dir: Path = paths.STATE_DIR,
    codes: tuple[str, ...] = BENCH_CODES,
    drain_s: float = 10.0,
    warmup_s: float = 0.0,
) -> dict[str, Any]:
    """Write-to-readable latency at `rate` commands/s for `seconds`, after `warmup_s` of traffic ramping up to that
    rate that is not measured (the environments the steady rate needs start then, as on a live service); p50/p99/max
    in ms.

    `stack_urls` are the API base URLs (the control file's `urls`); without `token` an admin account is created on
    the local cloud in `state_dir`. Commands not readable within `drain_s` after the last write count as
    `unreadable` (and make p99 meaningless: check it is 0).
    """
    unknown = [code for code in codes if code not in MINOR_UNITS]
    if unknown:
        raise ValueError(f"no minor units known for {unknown}: add them to MINOR_UNITS (ISO 4217)")
    token = token or admin_token(stack_urls, state_dir)
    run = run_loop(_bench(stack_urls["HttpApi"], token, rate, seconds, codes, drain_s, warmup_s))
    latencies_ms = [s * 1000 for s in run.latencies_s]
    unreadable = sum(len(w) for w in run.pending.values())
    return {
        "rate": rate,
        "seconds": seconds,
        "warmup_s": warmup_s,
        "sent": run.sent,
        "warmup_sent": run.warmup_sent,
        "accepted": len(latencies_ms) + unreadable,
        "accepted_with_warmup": run.accepted_all,
        "readable": len(latencies_ms),
        "unreadable": unreadable,
        "errors": len(run.errors),
        "first_errors": run.errors[:5],
        "p50_ms": round(percentile(latencies_ms, 50), 1) if latencies_ms else None,
        "p99_ms": round(percentile(latencies_ms, 99), 1) if latencies_ms else None,
        "max_ms": round(max(latencies_ms), 1) if latencies_ms else None,
    }


def main(argv: list[str] | None = None) -> None:
    from devkit.stack import read_control

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds ramping up to the rate, unmeasured")
    parser.add_argument("--state-dir", type=Path, default=paths.STATE_DIR)
    args = parser.parse_args(argv)
    control = read_control(args.state_dir)
    if control is None:
        raise SystemExit("no local cloud is running: start it with `./inv up`")
    result = write_to_readable(control["urls"], args.rate, args.seconds, state_dir=args.state_dir, warmup_s=args.warmup)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
