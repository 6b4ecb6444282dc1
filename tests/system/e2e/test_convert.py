"""Convert through the gateway, both topologies: GET /convert on HttpApi (ConvertLmi, Lambda Managed Instances) and
on ConvertStandardApi (Convert, standard Lambda) answer the same thing for the same read model.

The 200 tests write their currencies straight into the local cloud's read model (the backend named in the control
file), so they are `local_only`; the error tests run against any stage (`--base-url`).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
import requests

from tests.support import Stack, currency_item

# Codes no other suite uses: 2, 0 and 3 minor-unit digits. Rates are "1 major unit = this many base units".
SEED = {
    "FJD": ("Fiji Dollar", 2, "0.44"),
    "ISK": ("Iceland Krona", 0, "0.0072"),
    "TND": ("Tunisian Dinar", 3, "0.32"),
}


@pytest.fixture(scope="module")
def currencies(stack: Stack) -> Iterator[None]:
    assert stack.control is not None, "local_only: seeds the local cloud's backend"
    import boto3

    from devkit.localcloud import DUMMY_CREDENTIALS

    env = stack.control["backend_env"]
    client = boto3.client(  # as the functions see the backend: same endpoint, region and credentials
        "dynamodb",
        region_name=stack.control.get("region", "us-east-1"),
        endpoint_url=env.get("AWS_ENDPOINT_URL_DYNAMODB") or env["AWS_ENDPOINT_URL"],
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=DUMMY_CREDENTIALS["AWS_SESSION_TOKEN"],
    )
    table = stack.control["tables"]["CurrenciesTable"]
    for code, (name, minor_units, rate) in SEED.items():
        client.put_item(TableName=table, Item=currency_item(code, name, minor_units, rate))
    yield


def _standard(stack: Stack) -> str:
    return stack.urls.get("ConvertStandardApi", stack.api)


def _expected(body: dict) -> int:
    """Half-even rounding of amount * rate_from * 10^mu_to / (rate_to * 10^mu_from), from the reported rates."""
    rates = body["rates"]
    exact = (
        Decimal(body["amount"])
        * Decimal(rates["from"]["rate_to_base"])
        * Decimal(10) ** rates["to"]["minor_units"]
        / (Decimal(rates["to"]["rate_to_base"]) * Decimal(10) ** rates["from"]["minor_units"])
    )
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


@pytest.mark.local_only
@pytest.mark.parametrize(
    ("source", "target", "amount"),
    [("FJD", "ISK", 12_345), ("ISK", "TND", 1_000_000), ("TND", "FJD", 7), ("FJD", "FJD", 42)],
)
def test_lmi_and_standard_convert_identically(
    stack: Stack, http: requests.Session, currencies: None, source: str, target: str, amount: int
) -> None:
    query = {"from": source, "to": target, "amount": amount}
    lmi = http.get(f"{stack.api}/convert", params=query, timeout=10)
    standard = http.get(f"{_standard(stack)}/convert", params=query, timeout=10)
    assert lmi.status_code == 200, lmi.text
    assert standard.status_code == 200, standard.text
    assert lmi.json() == standard.json()
    body = lmi.json()
    assert (body["from"], body["to"], body["amount"]) == (source, target, amount)
    assert body["rounding"] == "half-even"
    assert body["converted"] == _expected(body)
    assert body["rates"]["from"]["version"] >= 1
    assert body["rates"]["from"]["rate_to_base"] == SEED[source][2], "the seeded rates were used"
    assert body["rates"]["to"]["minor_units"] == SEED[target][1]


@pytest.mark.local_only
def test_known_figures(stack: Stack, http: requests.Session, currencies: None) -> None:
    """Hand-computed on the seeded rates."""
    # 123.45 FJD * 0.44 / 0.0072 = 7544.1666… ISK → 7544; 1000 ISK * 0.0072 / 0.32 = 22.5 TND = 22 500 millimes
    for query, figure in (
        ({"from": "FJD", "to": "ISK", "amount": 12345}, 7544),
        ({"from": "ISK", "to": "TND", "amount": 1000}, 22_500),
    ):
        body = http.get(f"{stack.api}/convert", params=query, timeout=10).json()
        assert body["converted"] == figure, body


def test_errors_are_problems_on_both_topologies(stack: Stack, http: requests.Session) -> None:
    for base in (stack.api, _standard(stack)):
        missing = http.get(f"{base}/convert", params={"from": "USD", "to": "EUR"}, timeout=10)
        assert missing.status_code == 400, missing.text
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert missing.json()["parameter"] == "amount"
        bad = http.get(f"{base}/convert", params={"from": "USD", "to": "EUR", "amount": "ten"}, timeout=10)
        assert bad.status_code == 400
        unknown = http.get(f"{base}/convert", params={"from": "QQQ", "to": "EUR", "amount": 1}, timeout=10)
        assert unknown.status_code == 404
        assert unknown.headers["content-type"].startswith("application/problem+json")


@pytest.mark.local_only
def test_lmi_answers_a_burst_of_concurrent_requests(stack: Stack, currencies: None) -> None:
    def one(_: int) -> int:
        response = requests.get(f"{stack.api}/convert", params={"from": "TND", "to": "FJD", "amount": 7}, timeout=30)
        return response.status_code

    with ThreadPoolExecutor(max_workers=64) as pool:
        statuses = list(pool.map(one, range(128)))
    assert statuses == [200] * 128
    assert stack.control is not None
    status = requests.get(f"{stack.control['lambda_endpoint']}/_localcloud/status", timeout=10).json()
    lmi = status["functions"]["ConvertLmi"]
    assert 1 <= lmi["environments"] <= 4, lmi  # MaxExecutionEnvironments
    assert lmi["max_concurrency_per_env"] == 64
