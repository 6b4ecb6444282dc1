"""Which items `clean-test-data` deletes: only tagged accounts and what they own (pure selection)."""

from __future__ import annotations

from devkit.contract.cleanup import billing_keys, blog_keys, select_prefix, tagged_user_ids, user_keys


def s(value: str) -> dict[str, str]:
    return {"S": value}


USERS = [
    {"pk": s("EMAIL#e2e-contract-1-user-aa@example.test"), "user_id": s("u-test")},
    {"pk": s("USER#u-test"), "email": s("e2e-contract-1-user-aa@example.test")},
    {"pk": s("EMAIL#e2e-load-2-user-bb@example.test"), "user_id": s("u-load")},
    {"pk": s("USER#u-load"), "email": s("e2e-load-2-user-bb@example.test")},
    {"pk": s("EMAIL#ada@example.com"), "user_id": s("u-real")},
    {"pk": s("USER#u-real"), "email": s("ada@example.com")},
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
        {"pk": s("POST#p1"), "sk": s("POST"), "author_id": s("u-test")},
        # a real user's comment under the test user's post: goes with the post
        {"pk": s("POST#p1"), "sk": s("COMMENT#c1"), "author_id": s("u-real"), "post_author": s("u-test")},
        {"pk": s("COMMENT#c1"), "sk": s("COMMENT"), "post_id": s("p1"), "post_author": s("u-test")},
        # the test user's comment under a real post: goes; the real post stays
        {"pk": s("POST#p2"), "sk": s("POST"), "author_id": s("u-real")},
        {"pk": s("POST#p2"), "sk": s("COMMENT#c2"), "author_id": s("u-test"), "post_author": s("u-real")},
        {"pk": s("POST#p2"), "sk": s("COMMENT#c3"), "author_id": s("u-real"), "post_author": s("u-real")},
        {"pk": s("COMMENT#c3"), "sk": s("COMMENT"), "post_id": s("p2"), "post_author": s("u-real")},
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
    items = [
        {"pk": s("USER#u-test"), "sk": s("INVOICE#i1")},
        {"pk": s("USER#u-test"), "sk": s("PAYMENT#p1")},
        {"pk": s("PAYKEY#6:u-test#key-1"), "sk": s("PAYKEY")},
        {"pk": s("IDEMPOTENCY#6:u-test#key-1"), "sk": s("IDEMPOTENCY")},
        {"pk": s("USER#u-real"), "sk": s("INVOICE#i2")},
        {"pk": s("PAYKEY#6:u-real#u-test"), "sk": s("PAYKEY")},  # a real user's key that merely mentions the id
    ]
    keys = {(k["pk"]["S"], k["sk"]["S"]) for k in billing_keys(items, ids)}
    assert keys == {
        ("USER#u-test", "INVOICE#i1"),
        ("USER#u-test", "PAYMENT#p1"),
        ("PAYKEY#6:u-test#key-1", "PAYKEY"),
        ("IDEMPOTENCY#6:u-test#key-1", "IDEMPOTENCY"),
    }
