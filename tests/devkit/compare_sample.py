"""A small, deterministic result set shaped like `./inv compare`'s (three profiles, their topologies), so the
report can be rendered and checked in seconds without a run."""

from __future__ import annotations

import math
from typing import Any


def quantiles(p50: float, spread: float, tail: float) -> list[float]:
    """101 latency quantiles: log-normal-ish around `p50`, with a cold-start tail `tail` x p50 at the top."""
    out = []
    for q in range(101):
        z = (q - 50) / 50 * spread
        value = p50 * math.exp(z)
        if q >= 98:
            value *= 1 + (tail - 1) * (q - 97) / 3
        out.append(round(value, 2))
    return out


def topology(
    functions: dict[str, tuple[float, float, float, int, bool]],
    p50: float,
    tail: float,
    cold: int,
    rss: float,
    zip_mb: float,
    iam: int,
    requests: int = 300,
) -> dict[str, Any]:
    """`functions`: name → (invocations per request, warm billed ms, init ms, memory MB, managed instances)."""
    q = quantiles(p50, 0.6, tail)
    steps = [(0, 0)] + [(min(requests, 8 * (i + 1) + i * i), i + 1) for i in range(cold)] + [(requests, cold)]
    return {
        "api": "Api",
        "functions": sorted(functions),
        "requests": requests,
        "errors": 0,
        "error_rate": 0.0,
        "p50_ms": q[50],
        "p95_ms": q[95],
        "p99_ms": q[99],
        "latency_quantiles_ms": q,
        "rps": 100.0,
        "cold_starts": cold,
        "environments": cold,
        "timeline": steps,
        "rss_mb": rss,
        "billed_ms_mean": {f: v[1] for f, v in functions.items()},
        "uses": [
            {
                "function": f,
                "per_request": v[0],
                "warm_billed_ms": v[1],
                "init_ms": v[2],
                "memory_mb": v[3],
                "managed_instances": v[4],
            }
            for f, v in sorted(functions.items())
        ],
        "cost": {"total": 0.0},
        "iam_actions": dict.fromkeys(functions, iam),
        "iam_max_actions": iam,
        "deploy_bytes": int(zip_mb * 1e6),
    }


def sample_results() -> list[dict[str, Any]]:
    micro = {f"BlogMicro{n}": (share, 4.0, 35.0, 256, False) for n, share in
             (("GetPost", 0.6), ("ListPosts", 0.25), ("CreatePost", 0.15))}  # fmt: skip
    return [
        {
            "profile": "blog",
            "description": "browse-heavy blog: 60 % read a post, 25 % list posts, 15 % write a post",
            "monthly_requests": 10_000_000,
            "requests_per_topology": 300,
            "concurrency": 8,
            "topologies": {
                "lith": topology({"BlogManager": (1.0, 5.0, 40.0, 512, False)}, 4.0, 8.0, 8, 60.0, 3.1, 9),
                "micro": topology(micro, 3.6, 10.0, 18, 120.0, 8.4, 3),
                "fat": topology({"Fat": (1.0, 6.0, 60.0, 1024, False)}, 4.4, 9.0, 8, 80.0, 4.5, 31),
            },
        },
        {
            "profile": "currency",
            "description": "currency reads heavy, writes light: 90 % reads, 10 % admin writes (queued)",
            "monthly_requests": 10_000_000,
            "requests_per_topology": 300,
            "concurrency": 8,
            "topologies": {
                "split": topology(
                    {
                        "CurrencyReader": (0.9, 3.0, 30.0, 256, False),
                        "CurrencyWriter": (0.1, 6.0, 35.0, 256, False),
                        "CurrencyProjector": (0.1, 8.0, 35.0, 256, False),
                    },
                    3.0,
                    7.0,
                    12,
                    70.0,
                    6.2,
                    4,
                ),
                "fat": topology({"Fat": (1.0, 5.0, 60.0, 1024, False)}, 3.5, 9.0, 8, 80.0, 4.5, 31),
            },
        },
        {
            "profile": "convert",
            "description": "convert at high concurrency",
            "monthly_requests": 100_000_000,
            "requests_per_topology": 300,
            "concurrency": 32,
            "topologies": {
                "lmi": topology({"ConvertLmi": (1.0, 30.0, 0.0, 2048, True)}, 40.0, 6.0, 4, 90.0, 2.0, 2),
                "standard": topology({"Convert": (1.0, 30.0, 45.0, 1024, False)}, 45.0, 25.0, 32, 400.0, 2.0, 2),
                "fat": topology({"Fat": (1.0, 32.0, 60.0, 1024, False)}, 50.0, 24.0, 32, 700.0, 4.5, 31),
            },
        },
    ]
