"""devkit.targets.admin.grant_admin against an in-process moto DynamoDB table laid out like the auth service's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from devkit.targets import admin
from tests.support import moto_aws

TABLE = "users-test"


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with moto_aws(monkeypatch):
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def add_user(client: Any, email: str, user_id: str, roles: list[str] | None) -> None:
    item: dict[str, Any] = {
        "pk": {"S": f"USER#{user_id}"},
        "id": {"S": user_id},
        "email": {"S": email},
        "password_hash": {"S": "$argon2id$..."},
        "created_at": {"S": "2026-11-24T00:00:00Z"},
    }
    if roles is not None:
        item["roles"] = {"L": [{"S": r} for r in roles]}
    client.put_item(TableName=TABLE, Item=item)
    client.put_item(TableName=TABLE, Item={"pk": {"S": f"EMAIL#{email}"}, "user_id": {"S": user_id}})


def roles(client: Any, user_id: str) -> list[str]:
    item = client.get_item(TableName=TABLE, Key={"pk": {"S": f"USER#{user_id}"}})["Item"]
    return [r["S"] for r in item.get("roles", {}).get("L", [])]


def test_grants_admin_once_with_email_normalised(dynamodb: Any) -> None:
    add_user(dynamodb, "ada@example.com", "u1", [])
    assert admin.grant_admin(dynamodb, TABLE, "  ADA@Example.com ") is True
    assert roles(dynamodb, "u1") == ["admin"]
    assert admin.grant_admin(dynamodb, TABLE, "ada@example.com") is False
    assert roles(dynamodb, "u1") == ["admin"]


def test_keeps_existing_roles_and_handles_a_missing_roles_attribute(dynamodb: Any) -> None:
    add_user(dynamodb, "bob@example.com", "u2", ["editor"])
    add_user(dynamodb, "cy@example.com", "u3", None)
    admin.grant_admin(dynamodb, TABLE, "bob@example.com")
    admin.grant_admin(dynamodb, TABLE, "cy@example.com")
    assert roles(dynamodb, "u2") == ["editor", "admin"]
    assert roles(dynamodb, "u3") == ["admin"]


def test_unknown_email_raises(dynamodb: Any) -> None:
    with pytest.raises(admin.UnknownUser, match=r"nobody@example\.com"):
        admin.grant_admin(dynamodb, TABLE, "nobody@example.com")
    # An email claim whose user item is gone.
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "EMAIL#ghost@example.com"}, "user_id": {"S": "gone"}})
    with pytest.raises(admin.UnknownUser):
        admin.grant_admin(dynamodb, TABLE, "ghost@example.com")
