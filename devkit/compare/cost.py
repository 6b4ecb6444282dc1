"""A Lambda-ish monthly cost from measured billed durations and the list prices in infra/prices.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from devkit import paths

HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class Prices:
    request_per_million: float
    gb_second: float
    api_per_million: float
    lmi_instance_hour: float
    lmi_fee: float
    lmi_min_instances: int
    lmi_request_per_million: float
    lmi_instance_type: str

    @staticmethod
    def load(path: Path | None = None, *, arch: str = "x86_64") -> Prices:
        data = tomllib.loads((path or paths.ROOT / "infra" / "prices.toml").read_text())
        lmi = data["lmi"]
        return Prices(
            request_per_million=data["lambda"]["requests_per_million"],
            gb_second=data["lambda"][f"{arch}_gb_second"],
            api_per_million=data["apigateway_http"]["requests_per_million"],
            lmi_instance_hour=lmi["instance_hour"],
            lmi_fee=lmi["management_fee"],
            lmi_min_instances=lmi["min_instances"],
            lmi_request_per_million=lmi["requests_per_million"],
            lmi_instance_type=lmi["instance_type"],
        )


@dataclass(frozen=True)
class Usage:
    """Per function: invocations seen, their mean billed duration and the function's memory."""

    function: str
    invocations: int
    billed_ms_mean: float
    memory_mb: int
    managed_instances: bool = False


def monthly_cost(usages: list[Usage], monthly_requests: int, prices: Prices) -> dict[str, float]:
    """Scales the measured mix to `monthly_requests` HTTP requests: Lambda requests + GB-s (standard functions),
    LMI requests + instances (managed-instances functions), and the HTTP API's request price."""
    total = sum(u.invocations for u in usages) or 1
    compute = requests_fee = lmi_fixed = 0.0
    for usage in usages:
        share = monthly_requests * usage.invocations / total
        if usage.managed_instances:
            requests_fee += share * prices.lmi_request_per_million / 1e6
            lmi_fixed = lmi_monthly_fixed(prices)
        else:
            requests_fee += share * prices.request_per_million / 1e6
            compute += share * usage.billed_ms_mean / 1000 * usage.memory_mb / 1024 * prices.gb_second
    api = monthly_requests * prices.api_per_million / 1e6
    return {
        "compute": round(compute, 2),
        "requests": round(requests_fee, 2),
        "lmi_instances": round(lmi_fixed, 2),
        "api_gateway": round(api, 2),
        "total": round(compute + requests_fee + lmi_fixed + api, 2),
    }


def lmi_monthly_fixed(prices: Prices) -> float:
    return prices.lmi_min_instances * prices.lmi_instance_hour * (1 + prices.lmi_fee) * HOURS_PER_MONTH


def lmi_break_even(billed_ms_mean: float, memory_mb: int, prices: Prices) -> float | None:
    """Requests/month above which LMI (fixed instances) costs less than standard Lambda at this billed duration
    and memory (None when standard is never dearer per request)."""
    standard_per_request = billed_ms_mean / 1000 * memory_mb / 1024 * prices.gb_second
    standard_per_request += prices.request_per_million / 1e6
    lmi_per_request = prices.lmi_request_per_million / 1e6
    margin = standard_per_request - lmi_per_request
    return None if margin <= 0 else lmi_monthly_fixed(prices) / margin
