"""Rust vs a realistic Python peer in `./inv bench`: the blog's `GET /posts/{id}` both ways, on the same table.

`PythonBlogGetPost` (tests/fixtures/python-blog-peer: boto3 imported and a DynamoDB client built at init, one
`GetItem` per request, run by awslambdaric) joins the per-function bench's stack on its bench-only API; the Rust
side is the template's `BlogMicroGetPost` (the same route, one function per operation). Both read one seeded post,
and are measured alike (`devkit.bench.functions`): cold start (Init Duration and first request, also taken in
turns so other load hits both alike), warm p50/p99 at concurrency 1, idle and peak RSS.
"""

from __future__ import annotations

import uuid
from typing import Any

from devkit import paths
from devkit.bench.python_functions import python_function
from devkit.localcloud import FunctionSpec, RouteSpec, StackSpec

PEER_DIR = paths.ROOT / "tests" / "fixtures" / "python-blog-peer"
PEER = "PythonBlogGetPost"
RUST = "BlogMicroGetPost"
RUST_API = "BlogMicroApi"
TABLE = "BlogTable"
ROUTE = RouteSpec("GET", "/posts/{id}", PEER)
FIGURES = (
    ("init_ms", "cold", "ms"),
    ("first_request_ms", "cold", "ms"),
    ("p50_ms", "warm", "ms"),
    ("p99_ms", "warm", "ms"),
    ("idle_mb", "rss", "MB"),
    ("peak_mb", "rss", "MB"),
)


def peer_function(stack: StackSpec) -> FunctionSpec:
    """The Python peer, reading the template's blog table (its physical name in this stack)."""
    memory_mb = stack.functions[RUST].memory_mb if RUST in stack.functions else 128
    table = stack.tables[TABLE].physical_name
    return python_function(PEER, PEER_DIR, "handler.get_post", memory_mb, {"BLOG_TABLE": table})


def post_item(post_id: str) -> dict[str, Any]:
    """A post as services/blog stores it (services/blog/src/store/dynamo.rs)."""
    at = "2026-01-01T00:00:00Z"
    return {
        "pk": {"S": f"POST#{post_id}"},
        "sk": {"S": "POST"},
        "id": {"S": post_id},
        "author_id": {"S": "bench-author"},
        "title": {"S": "A post both languages read"},
        "body": {"S": "Measured by ./inv bench: the same item, the same route, Rust and Python."},
        "version": {"N": "1"},
        "created_at": {"S": at},
        "updated_at": {"S": at},
        "gsi_feed": {"S": "POST"},
        "gsi_author": {"S": "bench-author"},
        "gsi_sort": {"S": post_id},
    }


def seed_post(stack: StackSpec, endpoint_url: str) -> str:
    """Puts one post in the blog table of the backend at `endpoint_url`; returns its id."""
    import boto3

    from devkit.targets import LOCAL_CREDENTIALS

    post_id = str(uuid.uuid4())
    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint_url, **LOCAL_CREDENTIALS)
    client.put_item(TableName=stack.tables[TABLE].physical_name, Item=post_item(post_id))
    return post_id


def compare(rust: dict[str, Any], python: dict[str, Any], paired: dict[str, Any] | None) -> dict[str, Any]:
    """Both rows, and Python ÷ Rust per figure (cold starts from the paired rounds when there are some)."""
    out: dict[str, Any] = {"request": "GET /posts/{id}", "rust": rust, "python": python, "paired_cold_starts": paired}
    if "error" in rust or "error" in python:
        return out

    def figure(row: dict[str, Any], key: str, group: str) -> float | None:
        if group == "cold" and paired and row["function"] in paired:
            return paired[row["function"]].get(key)
        value = row.get(group, {}).get(key)
        return float(value) if isinstance(value, int | float) else None

    ratios: dict[str, float | None] = {}
    figures: dict[str, dict[str, float | None]] = {"rust": {}, "python": {}}
    for key, group, _ in FIGURES:
        r, p = figure(rust, key, group), figure(python, key, group)
        figures["rust"][key], figures["python"][key] = r, p
        ratios[key] = p / r if r and p is not None else None
    return out | {"figures": figures, "python_over_rust": ratios}


def render(peer: dict[str, Any], fmt: Any) -> list[str]:
    """The report's section: one row per figure, Rust, Python and the ratio."""
    if not peer:
        return []
    lines = ["", "### Rust vs a realistic Python peer: `GET /posts/{id}` with boto3, same table, same runner", ""]
    figures = peer.get("figures")
    if not figures:
        errors = [row.get("error") for row in (peer.get("rust", {}), peer.get("python", {})) if row.get("error")]
        return [*lines, f"not measured: {'; '.join(str(e) for e in errors) or 'no figures'}"]
    labels = {"init_ms": "init", "first_request_ms": "first request", "p50_ms": "warm p50", "p99_ms": "warm p99",
              "idle_mb": "idle RSS", "peak_mb": "peak RSS"}  # fmt: skip
    lines += [f"| figure | Rust ({RUST}) | Python ({PEER}) | Python ÷ Rust |", "|---|---:|---:|---:|"]
    for key, _, unit in FIGURES:
        ratio = peer["python_over_rust"].get(key)
        lines.append(
            f"| {labels[key]} | {fmt(figures['rust'][key], unit)} | {fmt(figures['python'][key], unit)} | "
            f"**{fmt(ratio, 'x')}** |"
        )
    rounds = (peer.get("paired_cold_starts") or {}).get(PEER, {}).get("rounds")
    lines.append(
        "\nBoth read one seeded post with a strongly consistent `GetItem`; the Python peer imports boto3 and builds "
        "its client at init, the Rust function builds its SDK clients at init and reads its pagination key in "
        "the background. "
        + (f"Cold starts: {rounds} of each taken in turns. " if rounds else "")
        + "Warm: concurrency 1."
    )
    return lines


def metrics(peer: dict[str, Any]) -> dict[str, tuple[float, str]]:
    """The peer comparison's figures for the regression comparison (ours: the Rust side)."""
    out: dict[str, tuple[float, str]] = {}
    for key, group, unit in FIGURES:
        value = ((peer.get("figures") or {}).get("rust") or {}).get(key)
        if isinstance(value, int | float):
            out[f"peer.rust.{group}.{key}"] = (float(value), unit)
    return out
