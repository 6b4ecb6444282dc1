"""Which items `clean-test-data` deletes: only tagged accounts and what they own (pure selection)."""

from __future__ import annotations

from devkit.contract.cleanup import billing_keys, blog_keys, select_prefix, tagged_user_ids, user_keys


def item(pk: str, sk: str = "", **attributes: str) -> dict[str, dict[str, str]]:
    """A DynamoDB item of string attributes: `pk`, `sk` (when given) and `attributes`."""
    fields = {"pk": pk, **({"sk": sk} if sk else {}), **attributes}
    return {name: {"S": value} for name, value in fields.items()}


USERS = [
    item("EMAIL#e2e-contract-1-user-aa@example.test", user_id="u-test"),
    item("USER#u-test", email="e2e-contract-1-user-aa@example.test"),
    item("EMAIL#e2e-load-2-user-bb@example.test", user_id="u-load"),
    item("USER#u-load", email="e2e-load-2-user-bb@example.test"),
    item("EMAIL#ada@example.com", user_id="u-real"),
    item("USER#u-real", email="ada@example.com"),
]


def test_only_tagged_accounts_are_selected() -> None:
    ids = tagged_user_ids(USERS)
    assert ids == {"u-test": "e2e-contract-1-user-aa@example.test", "u-load": "e2e-load-2-user-bb@example.test"}
    keys = {k["pk"]["S"] for k in user_keys(USERS, ids)}
    assert keys == {
        "EMAIL#e2e-contract-1-user-aa@example.test",
        "USER#u-test",
        "EMAIL#e2e-load-2-user-bb@example.test",
        "USER#u-load",
    }


def test_a_prefix_limits_cleanup_to_one_run() -> None:
    ids = tagged_user_ids(USERS)
    assert select_prefix(ids, "e2e-contract-1-") == {"u-test": "e2e-contract-1-user-aa@example.test"}
    assert select_prefix(ids, "") == ids


def test_blog_posts_comments_and_pointers_of_test_users_go_real_ones_stay() -> None:
    ids = {"u-test": "e2e-x@example.test"}
    items = [
        item("POST#p1", "POST", author_id="u-test"),
        # a real user's comment under the test user's post: goes with the post
        item("POST#p1", "COMMENT#c1", author_id="u-real", post_author="u-test"),
        item("COMMENT#c1", "COMMENT", post_id="p1", post_author="u-test"),
        # the test user's comment under a real post: goes; the real post stays
        item("POST#p2", "POST", author_id="u-real"),
        item("POST#p2", "COMMENT#c2", author_id="u-test", post_author="u-real"),
        item("POST#p2", "COMMENT#c3", author_id="u-real", post_author="u-real"),
        item("COMMENT#c3", "COMMENT", post_id="p2", post_author="u-real"),
    ]
    keys = {(k["pk"]["S"], k["sk"]["S"]) for k in blog_keys(items, ids)}
    assert keys == {
        ("POST#p1", "POST"),
        ("POST#p1", "COMMENT#c1"),
        ("COMMENT#c1", "COMMENT"),
        ("POST#p2", "COMMENT#c2"),
    }


def test_billing_items_of_test_users_including_scoped_keys() -> None:
    ids = {"u-test": "e2e-x@example.test"}
    of_test_users = [
        ("USER#u-test", "INVOICE#i1"),
        ("USER#u-test", "PAYMENT#p1"),
        ("PAYKEY#6:u-test#key-1", "PAYKEY"),
        ("IDEMPOTENCY#6:u-test#key-1", "IDEMPOTENCY"),
    ]
    # a real user's invoice, and a real user's key that merely mentions the id
    of_real_users = [("USER#u-real", "INVOICE#i2"), ("PAYKEY#6:u-real#u-test", "PAYKEY")]
    items = [item(pk, sk) for pk, sk in of_test_users + of_real_users]
    keys = {(k["pk"]["S"], k["sk"]["S"]) for k in billing_keys(items, ids)}
    assert keys == set(of_test_users)
