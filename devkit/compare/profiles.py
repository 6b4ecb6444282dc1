"""Traffic profiles: what a request mix looks like, and which topology (API) serves it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Call:
    weight: int
    method: str
    path: str  # may contain {post} (a seeded post id) or {code} (a seeded currency)
    auth: str = ""  # "" | "user" | "admin"
    body: str = ""  # "post" | "currency" | ""


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    calls: tuple[Call, ...]
    topologies: dict[str, str]  # topology name → API logical id
    concurrency: int
    monthly_requests: int  # the volume the cost model scales to


BLOG = Profile(
    "blog",
    "browse-heavy blog: 60 % read a post, 25 % list posts, 15 % write a post",
    (
        Call(60, "GET", "/posts/{post}"),
        Call(25, "GET", "/posts?limit=20"),
        Call(15, "POST", "/posts", auth="user", body="post"),
    ),
    {"lith": "HttpApi", "micro": "BlogMicroApi", "fat": "FatApi"},
    concurrency=8,
    monthly_requests=10_000_000,
)
CURRENCY = Profile(
    "currency",
    "currency reads heavy, writes light: 90 % reads, 10 % admin writes (queued)",
    (
        Call(60, "GET", "/currencies/{code}"),
        Call(30, "GET", "/currencies"),
        Call(10, "PUT", "/currencies/{code}", auth="admin", body="currency"),
    ),
    {"split": "HttpApi", "fat": "FatApi"},
    concurrency=8,
    monthly_requests=10_000_000,
)
CONVERT = Profile(
    "convert",
    "convert at high concurrency",
    (Call(100, "GET", "/convert?from={code}&to=USD&amount=12345"),),
    {"lmi": "HttpApi", "standard": "ConvertStandardApi", "fat": "FatApi"},
    concurrency=32,
    monthly_requests=100_000_000,
)
PROFILES = {p.name: p for p in (BLOG, CURRENCY, CONVERT)}


def plan(profile: Profile, requests: int) -> list[Call]:
    """`requests` calls in the profile's proportions, interleaved (deterministic, no randomness)."""
    total = sum(c.weight for c in profile.calls)
    out: list[Call] = []
    credit = [0.0] * len(profile.calls)
    for _ in range(requests):
        for i, call in enumerate(profile.calls):
            credit[i] += call.weight / total
        best = max(range(len(credit)), key=lambda i: credit[i])
        credit[best] -= 1.0
        out.append(profile.calls[best])
    return out
