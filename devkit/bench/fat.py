"""Fat vs lith on the local cloud: cold start, first-request latency, warm latency, memory and bootstrap size.

For each case (a path served by one lith function on HttpApi and by the Fat function on FatApi) and each round,
every idle environment of the function is reaped first, so the request starts a fresh one. Per function it
reports the local cloud's Init Duration (process spawn → first `/next`, as Lambda's REPORT line), the
client-side latency of that first request through the gateway (spawn + init + handler), the warm p50 of the
same request, the environment's RSS after it, and the bootstrap's size (binary and zip).

The backend is a fresh moto server with the template's tables, queue and secrets provisioned (and the signing key
seeded), exactly as `./inv up` does; nothing leaves loopback. Run it with `./inv bench-fat`.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from devkit import build, paths

FAT = "Fat"
# (path, the lith function that serves it on HttpApi): public routes, so no token is needed.
CASES: tuple[tuple[str, str], ...] = (
    ("/health/auth", "AuthManager"),
    ("/posts?limit=5", "BlogManager"),
    ("/health/billing", "BillingManager"),
    ("/currencies", "CurrencyRead"),
    ("/health/currency-write", "CurrencyWrite"),
)


@dataclass(frozen=True)
class ColdStart:
    path: str
    function: str
    binary: str
    rounds: int
    init_ms: float  # median Init Duration (spawn → first /next)
    first_request_ms: float  # median client latency of the request that started the environment
    warm_p50_ms: float
    rss_mb: float  # after the first request
    bootstrap_bytes: int
    zip_bytes: int

    def line(self) -> str:
        return (
            f"{self.function:<15} {self.path:<24} init {self.init_ms:7.1f} ms  first request "
            f"{self.first_request_ms:7.1f} ms  warm p50 {self.warm_p50_ms:5.2f} ms  RSS {self.rss_mb:5.1f} MB  "
            f"bootstrap {self.bootstrap_bytes / 1e6:5.1f} MB (zip {self.zip_bytes / 1e6:4.1f} MB)"
        )


def binaries() -> list[str]:
    """The bootstraps the benchmark runs (the Fat function's and the liths' of CASES), from the template."""
    from devkit.localcloud import load_stack

    stack = load_stack(paths.TEMPLATE, parameters=paths.LOCAL_PARAMETERS)
    wanted = {FAT, *(fn for _, fn in CASES)}
    return sorted({fn.binary or k for k, fn in stack.functions.items() if k in wanted})


def _zip_bytes(bootstrap: Path) -> int:
    zipped = bootstrap.with_name("bootstrap.zip")
    return zipped.stat().st_size if zipped.is_file() else 0


@dataclass(frozen=True)
class _Case:
    path: str
    url: str
    function: str
    binary: str
    profile: str


async def _measure(cloud: Any, session: aiohttp.ClientSession, case: _Case, rounds: int, warm: int) -> ColdStart:
    function, path, url = case.function, case.path, case.url
    pool = cloud.pools[function]
    inits: list[float] = []
    firsts: list[float] = []
    warms: list[float] = []
    rss: list[float] = []
    for _ in range(rounds):
        await pool.reap_idle()  # idle_timeout 0: every idle environment goes, so the next request is cold
        cold_starts = pool.cold_starts
        started = time.perf_counter()
        async with session.get(url) as response:
            await response.read()
            assert response.status < 500, f"{function} {path}: {response.status}"
        firsts.append((time.perf_counter() - started) * 1000)
        assert pool.cold_starts == cold_starts + 1, f"{function}: the measured request did not start an environment"
        inits.append(pool.init_durations_ms[-1])
        rss.append(sum(int(v or 0) for v in pool.status()["rss_kb"].values()) / 1024)
        for _ in range(warm):
            started = time.perf_counter()
            async with session.get(url) as response:
                await response.read()
            warms.append((time.perf_counter() - started) * 1000)
    bootstrap = build.bootstrap_path(case.binary, profile=case.profile)
    return ColdStart(
        path=path,
        function=function,
        binary=case.binary,
        rounds=rounds,
        init_ms=statistics.median(inits),
        first_request_ms=statistics.median(firsts),
        warm_p50_ms=statistics.median(warms) if warms else float("nan"),
        rss_mb=statistics.median(rss),
        bootstrap_bytes=bootstrap.stat().st_size,
        zip_bytes=_zip_bytes(bootstrap),
    )


async def fat_vs_lith_async(*, rounds: int = 10, warm: int = 20, profile: str = "release") -> list[ColdStart]:
    from devkit import seed
    from devkit.bench.cloud import bench_cloud
    from devkit.localcloud import create_backend, load_stack, provision

    results: list[ColdStart] = []
    with tempfile.TemporaryDirectory(prefix="bench-fat-") as tmp:
        backend = create_backend("moto", state_dir=Path(tmp), cache_dir=paths.cache_dir(), region="us-east-1")
        await asyncio.to_thread(backend.start)
        try:
            full = load_stack(paths.TEMPLATE, parameters=paths.LOCAL_PARAMETERS, queue_url=backend.queue_url)
            stack = full.only({FAT, *(fn for _, fn in CASES)})
            await asyncio.to_thread(provision, stack, backend)
            await asyncio.to_thread(seed.signing_keys, stack, backend)
            bootstraps = {k: build.bootstrap_path(fn.binary or k, profile=profile) for k, fn in stack.functions.items()}
            cloud = bench_cloud(stack, bootstraps, backend, control_port=None)
            async with cloud, aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
                for path, lith in CASES:
                    for api, function in (("HttpApi", lith), ("FatApi", FAT)):
                        binary = stack.functions[function].binary or function
                        case = _Case(path, cloud.urls[api] + path, function, binary, profile)
                        results.append(await _measure(cloud, session, case, rounds, warm))
        finally:
            await asyncio.to_thread(backend.stop)
    return results


def fat_vs_lith(**kwargs: Any) -> list[ColdStart]:
    """See `fat_vs_lith_async`; prints one line per function and path."""
    results = asyncio.run(fat_vs_lith_async(**kwargs))
    for row in results:
        print(row.line())
    return results


def run(*, rounds: int, profile: str) -> None:
    """`./inv bench-fat`: builds the bootstraps it needs, then :func:`fat_vs_lith`."""
    build.build_bootstraps(binaries(), profile=profile, quiet=True)
    fat_vs_lith(rounds=rounds, profile=profile)
