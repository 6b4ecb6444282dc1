"""Find and delete the data that contract and load tests (and the e2e suite) leave on a stage.

Test accounts are recognised by their email (`e2e-…@example.test`, see `devkit.targets.safety`); everything they
own is found through the services' table layouts (the `store/dynamo.rs` module docs):

- users: `EMAIL#<email>` → `user_id`, and the `USER#<id>` item;
- blog: posts and comments carry `author_id`, comments and comment pointers `post_author`; the comments under a
  test user's post share its `POST#<id>` partition;
- billing: invoices and payments live under `USER#<owner>`; payment-key markers and idempotency records embed
  `<owner length>:<owner>#` in their key.

The selection is pure (items in → keys out) so it is unit-tested without a table; `clean` applies it to the
tables of a `devkit.targets.Target` (the local cloud or a deployed stage).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from devkit.targets.safety import is_test_email

Item = dict[str, Any]  # a DynamoDB item in the low-level client's shape ({"pk": {"S": "…"}})
Key = dict[str, Any]


def _s(item: Item, name: str) -> str:
    value = item.get(name)
    return value.get("S", "") if isinstance(value, dict) else ""


def tagged_user_ids(user_items: Iterable[Item]) -> dict[str, str]:
    """user id → email for every tagged account (from the `EMAIL#` claims)."""
    found = {}
    for item in user_items:
        pk = _s(item, "pk")
        if pk.startswith("EMAIL#") and is_test_email(pk.removeprefix("EMAIL#")) and _s(item, "user_id"):
            found[_s(item, "user_id")] = pk.removeprefix("EMAIL#")
    return found


def select_prefix(ids: dict[str, str], prefix: str) -> dict[str, str]:
    """Only the accounts whose email starts with ``prefix`` (all of them for an empty prefix)."""
    return {user_id: email for user_id, email in ids.items() if email.startswith(prefix.lower())}


def user_keys(user_items: Iterable[Item], ids: dict[str, str]) -> list[Key]:
    """Keys of the email claims and user items of these accounts."""
    emails = {f"EMAIL#{email}" for email in ids.values()}
    users = {f"USER#{user_id}" for user_id in ids}
    return [{"pk": item["pk"]} for item in user_items if _s(item, "pk") in emails | users]


def blog_keys(blog_items: Iterable[Item], ids: dict[str, str]) -> list[Key]:
    """Posts, comments and comment pointers written by, or hanging under a post of, these accounts."""
    items = list(blog_items)
    owned_posts = {_s(item, "pk") for item in items if _s(item, "sk") == "POST" and _s(item, "author_id") in ids}
    keys = []
    for item in items:
        mine = _s(item, "author_id") in ids or _s(item, "post_author") in ids or _s(item, "pk") in owned_posts
        if mine:
            keys.append({"pk": item["pk"], "sk": item["sk"]})
    return keys


def billing_keys(billing_items: Iterable[Item], ids: dict[str, str]) -> list[Key]:
    """Invoices, payments, payment-key markers and idempotency records of these accounts."""
    partitions = {f"USER#{user_id}" for user_id in ids}
    scoped = tuple(f"{len(user_id)}:{user_id}#" for user_id in ids)
    keys = []
    for item in billing_items:
        pk = _s(item, "pk")
        if pk in partitions or (pk.startswith(("PAYKEY#", "IDEMPOTENCY#")) and any(s in pk for s in scoped)):
            keys.append({"pk": item["pk"], "sk": item["sk"]})
    return keys


@dataclass
class CleanupReport:
    accounts: int = 0
    deleted: dict[str, int] = field(default_factory=dict)  # table → items deleted

    def summary(self) -> str:
        parts = ", ".join(f"{n} from {table}" for table, n in self.deleted.items()) or "nothing"
        return f"{self.accounts} test account(s); deleted {parts}"


def _scan(client: Any, table: str) -> Iterator[Item]:
    for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        yield from page.get("Items", [])


def _delete(client: Any, table: str, keys: list[Key]) -> int:
    for start in range(0, len(keys), 25):
        requests = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]
        pending = {table: requests}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    return len(keys)


def clean(target: Any, *, only_prefix: str = "") -> CleanupReport:
    """Delete every tagged account and what it owns on ``target`` (or only accounts whose email starts with
    ``only_prefix``: one run's accounts, leaving a concurrent run's alone)."""
    client = target.client("dynamodb")
    users_table = target.output("UsersTableName")
    user_items = list(_scan(client, users_table))
    ids = tagged_user_ids(user_items)
    ids = select_prefix(ids, only_prefix)
    report = CleanupReport(accounts=len(ids))
    if not ids:
        return report
    for output, select in (("BlogTableName", blog_keys), ("BillingTableName", billing_keys)):
        table = target.outputs.get(output)
        if table:
            report.deleted[table] = _delete(client, table, select(_scan(client, table), ids))
    report.deleted[users_table] = _delete(client, users_table, user_keys(user_items, ids))
    return report


def clean_task(stage: str, *, i_know: bool) -> None:
    """`./inv clean-test-data`: refuses prod-looking stages, then :func:`clean` on the resolved target."""
    from devkit import targets
    from devkit.targets.safety import refuse_prod

    refuse_prod([stage], i_know=i_know)
    print(f"clean-test-data: {clean(targets.resolve(stage)).summary()}")
