"""The prod guard and test-data tagging shared by contract, load and clean-test-data."""

from __future__ import annotations

import pytest

from devkit.targets.safety import ProdRefused, is_test_email, looks_like_prod, refuse_prod, tagged_email


@pytest.mark.parametrize(
    "target",
    [
        "prod",
        "Production",
        "live",
        "prod2",
        "eu-prod",
        "https://api.prod.example.com",
        "https://api-live.example.com/v1",
        "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
        "https://shop.example.com/production/",
    ],
)
def test_prod_looking_targets_are_recognised(target: str) -> None:
    assert looks_like_prod(target)


@pytest.mark.parametrize(
    "target",
    [
        "staging",
        "dev",
        "product-catalogue",
        "delivery",
        "http://127.0.0.1:3000",
        "https://abc123.execute-api.eu-west-1.amazonaws.com",
        "https://products.example.com/oliver",
    ],
)
def test_other_targets_are_not_prod(target: str) -> None:
    assert not looks_like_prod(target)


def test_refuse_prod_names_the_target_unless_i_know() -> None:
    with pytest.raises(ProdRefused, match=r"api\.prod\.example\.com"):
        refuse_prod(["http://127.0.0.1:1", "https://api.prod.example.com"], i_know=False)
    refuse_prod(["https://api.prod.example.com"], i_know=True)
    refuse_prod(["", "staging"], i_know=False)


def test_test_emails_are_tagged_unique_and_recognised() -> None:
    first, second = tagged_email("Contract Run 1"), tagged_email("contract run 1")
    assert first != second
    assert first.startswith("e2e-contract-run-1-") and first.endswith("@example.test")
    assert is_test_email(first) and is_test_email(" E2E-x@Example.Test ")
    for other in ("ada@example.com", "e2e-@example.test", "e2e-x@example.test.evil.com", "x-e2e-a@example.test"):
        assert not is_test_email(other), other
