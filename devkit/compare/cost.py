"""The list prices in infra/prices.toml (the cost model against volume is `devkit.compare.curve`)."""

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


def lmi_monthly_fixed(prices: Prices) -> float:
    return prices.lmi_min_instances * prices.lmi_instance_hour * (1 + prices.lmi_fee) * HOURS_PER_MONTH
