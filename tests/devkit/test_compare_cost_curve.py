"""Cost against monthly volume: the per-topology cost model (init priced), cold starts per month and the
break-even arithmetic, checked against values computed by hand."""

from __future__ import annotations

import math

import pytest

from devkit.compare import curve
from devkit.compare.cost import Prices

PRICES = Prices(
    request_per_million=0.20, gb_second=0.0000166667, api_per_million=1.0, lmi_instance_hour=0.1, lmi_fee=0.15,
    lmi_min_instances=3, lmi_request_per_million=0.20, lmi_instance_type="test.large",
)  # fmt: skip
ONE_PER_SECOND = 2_628_000  # requests/month at 1 request/s (730 h)


def use(warm: float, init: float = 0.0, *, memory: int = 1024, share: float = 1.0, lmi: bool = False):  # noqa: ANN201
    return curve.FunctionUse("Fn", share, warm, init, memory, lmi)


def test_standard_cost_is_api_plus_requests_plus_billed_gb_seconds() -> None:
    # 1 M requests: API $1.00 + requests $0.20 + 1 M x 0.1 s x 1 GB x $0.0000166667 = $1.66667
    assert curve.monthly_cost([use(100.0)], 1_000_000, PRICES) == pytest.approx(2.86667, abs=1e-5)


def test_the_init_phase_is_priced_per_cold_start() -> None:
    life = curve.Lifecycle(idle_s=600, lifetime_h=2)
    # 1 request/s, 10 ms warm: e^-600 ~ 0 idle cold starts; one environment kept, replaced every 2 h: 365/month
    assert curve.cold_starts(use(10.0, 200.0), ONE_PER_SECOND, life) == pytest.approx(365.0)
    with_init = curve.monthly_cost([use(10.0, 200.0)], ONE_PER_SECOND, PRICES, life)
    without = curve.monthly_cost([use(10.0, 0.0)], ONE_PER_SECOND, PRICES, life)
    # 365 x 0.2 s x 1 GB = 73 GB-s = $0.00121667
    assert with_init - without == pytest.approx(0.00121667, abs=1e-8)
    # API 2.628 + requests 0.5256 + warm 26,280 GB-s 0.43800 + init 0.00122
    assert with_init == pytest.approx(3.592818, abs=1e-5)


def test_idle_functions_start_cold_more_often_and_never_more_than_once_per_invocation() -> None:
    life = curve.Lifecycle(idle_s=10, lifetime_h=2)
    # 0.1 request/s, idle 10 s: e^-1 = 36.79 % of 262,800 invocations arrive cold, + 365 recycles
    assert curve.cold_starts(use(10.0), 262_800, life) == pytest.approx(96_678.72 + 365, abs=0.01)
    assert curve.cold_starts(use(10.0), 1_000, curve.Lifecycle(idle_s=0)) == 1_000, "reclaimed at once: all cold"
    assert curve.cold_share([use(10.0)], 1_000, curve.Lifecycle(idle_s=0)) == 1.0


def test_busy_functions_keep_more_environments_little_s_law() -> None:
    life = curve.Lifecycle(idle_s=600, lifetime_h=2)
    # 100 requests/s x 0.5 s = 50 environments kept, each replaced 365 times a month
    assert curve.cold_starts(use(500.0), 100 * ONE_PER_SECOND, life) == pytest.approx(50 * 365)


def test_lmi_costs_its_instances_and_request_fee_but_no_gb_seconds() -> None:
    # 3 x $0.1/h x 1.15 x 730 h = $251.85 fixed; requests $0.20/M; API $1/M
    assert curve.monthly_cost([use(100.0, 500.0, lmi=True)], 1_000_000, PRICES) == pytest.approx(253.05)


def test_break_even_of_lmi_and_standard_by_hand() -> None:
    standard, lmi = [use(100.0)], [use(100.0, lmi=True)]
    crossed = curve.crossings({"lmi": lmi, "standard": standard}, PRICES)
    # equal when 251.85 = V x 0.1 s x 1 GB x 0.0000166667  →  V = 151.11 M
    assert len(crossed) == 1
    assert crossed[0]["volume"] == pytest.approx(151_109_698, rel=2e-4)
    assert crossed[0]["cheaper_above"] == "lmi" and crossed[0]["pair"] == ["lmi", "standard"]


def test_break_even_finds_every_crossing_and_none_for_parallel_lines() -> None:
    assert curve.break_even(lambda v: 100 + v * 1e-6, lambda v: v * 2e-6, 1e6, 1e9) == [pytest.approx(1e8, rel=2e-4)]
    assert curve.break_even(lambda v: 1 + v, lambda v: 2 + v, 1e6, 1e9) == []
    assert curve.crossings({"a": [use(10.0)], "b": [use(20.0)]}, PRICES) == []


def test_curves_span_one_million_to_one_billion_on_a_log_grid() -> None:
    assert curve.volumes(1e6, 1e9, 4) == [pytest.approx(v) for v in (1e6, 1e7, 1e8, 1e9)]
    lines = curve.curves({"standard": [use(100.0)]}, PRICES, points=4)
    assert [round(c, 2) for _, c in lines["standard"]] == [2.87, 28.67, 286.67, 2866.67]
    assert all(b > a for (_, a), (_, b) in zip(lines["standard"], lines["standard"][1:], strict=False))


def test_a_topologys_cost_adds_its_functions_by_share() -> None:
    # A write (share 0.1) also runs a projector (share 0.1): 0.1 M invocations each at 1 M requests
    reader, writer = use(10.0, share=0.9), curve.FunctionUse("P", 0.1, 100.0, 0.0, 1024)
    total = curve.monthly_cost([reader, writer], 1_000_000, PRICES, curve.Lifecycle(idle_s=0.0001))
    # API 1.00; requests 1.0 M x 0.2/M = 0.20; GB-s 0.9 M x 0.01 + 0.1 M x 0.1 = 19,000 → 0.31667
    assert total == pytest.approx(1.0 + 0.2 + 19_000 * 0.0000166667, abs=1e-4)
    assert math.isclose(curve.cold_share([reader], 0, curve.LIFECYCLE), 0.0)
