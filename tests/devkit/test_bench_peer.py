"""devkit.bench.peer and its Python peer (tests/fixtures/python-blog-peer): the handler answers like the Rust route
on the same item layout, and the comparison's ratios, report lines and regression figures."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devkit.bench import peer
from devkit.bench.report import _fmt, metrics

TABLE = "bench-blog"


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.setenv("BLOG_TABLE", TABLE)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName=TABLE, Item=peer.post_item("0190b8a4-7c2e-7a61-9d2b-3f4e5a6b7c8d"))
        spec = importlib.util.spec_from_file_location("peer_handler", peer.PEER_DIR / "handler.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    sys.modules.pop("peer_handler", None)


def _get(handler: ModuleType, post_id: str) -> dict[str, Any]:
    return handler.get_post({"pathParameters": {"id": post_id}}, None)


def test_the_peer_answers_the_post_with_its_version_as_etag(handler: ModuleType) -> None:
    reply = _get(handler, "0190b8a4-7c2e-7a61-9d2b-3f4e5a6b7c8d")
    assert reply["statusCode"] == 200
    assert reply["headers"]["etag"] == '"1"'
    body = json.loads(reply["body"])
    assert body["id"] == "0190b8a4-7c2e-7a61-9d2b-3f4e5a6b7c8d"
    assert body["version"] == 1
    assert set(body) == {"id", "author_id", "title", "body", "version", "created_at", "updated_at"}


@pytest.mark.parametrize("post_id", ["0190b8a4-7c2e-7a61-9d2b-000000000000", "not-a-uuid"])
def test_an_unknown_or_malformed_id_is_a_404_problem(handler: ModuleType, post_id: str) -> None:
    reply = _get(handler, post_id)
    assert (reply["statusCode"], reply["headers"]["content-type"]) == (404, "application/problem+json")
    assert json.loads(reply["body"])["status"] == 404


def _row(function: str, init: float, p50: float, idle: float) -> dict[str, Any]:
    return {
        "function": function,
        "cold": {"init_ms": init, "first_request_ms": init * 2},
        "warm": {"p50_ms": p50, "p99_ms": p50 * 3},
        "rss": {"idle_mb": idle, "peak_mb": idle + 1},
    }


def test_ratios_take_cold_starts_from_the_paired_rounds() -> None:
    rust, python = _row(peer.RUST, 20.0, 1.0, 5.0), _row(peer.PEER, 999.0, 4.0, 50.0)
    paired = {
        peer.RUST: {"rounds": 3, "init_ms": 10.0, "first_request_ms": 15.0},
        peer.PEER: {"rounds": 3, "init_ms": 300.0, "first_request_ms": 330.0},
    }
    result = peer.compare(rust, python, paired)
    assert result["python_over_rust"]["init_ms"] == 30.0
    assert result["python_over_rust"]["first_request_ms"] == 22.0
    assert result["python_over_rust"]["p50_ms"] == 4.0
    assert result["python_over_rust"]["idle_mb"] == 10.0
    text = "\n".join(peer.render(result, _fmt))
    assert "| init | 10.00 ms | 300 ms | **30.0x** |" in text
    assert "3 of each taken in turns" in text
    found = metrics({"functions": {"python_peer": result}})
    assert found["peer.rust.cold.init_ms"] == (10.0, "ms")
    assert found["peer.rust.warm.p99_ms"] == (3.0, "ms")
    assert not any(name.startswith("peer.python") for name in found)  # the peer is the reference, not ours


def test_a_failed_side_is_reported_not_compared() -> None:
    result = peer.compare({"function": peer.RUST, "error": "boom"}, _row(peer.PEER, 1, 1, 1), None)
    assert "python_over_rust" not in result
    assert peer.render(result, _fmt)[-1] == "not measured: boom"
