"""`./inv compare`: traffic plans, the cost model, IAM breadth, the generated advice and the report files."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from devkit import paths
from devkit.compare import advice, cost, iam, report
from devkit.compare.profiles import BLOG, plan
from devkit.localcloud import expand

PRICES = cost.Prices(
    request_per_million=0.20, gb_second=0.0000166667, api_per_million=1.0, lmi_instance_hour=0.1, lmi_fee=0.15,
    lmi_min_instances=3, lmi_request_per_million=0.20, lmi_instance_type="test.large",
)  # fmt: skip


def test_plan_keeps_the_profile_proportions_and_interleaves() -> None:
    calls = plan(BLOG, 200)
    counts = {c.path: sum(1 for x in calls if x is c) for c in BLOG.calls}
    assert counts == {"/posts/{post}": 120, "/posts?limit=20": 50, "/posts": 30}
    assert {c.method for c in calls[:10]} == {"GET", "POST"}, "writes are spread, not bunched at the end"


def test_monthly_cost_scales_billed_gb_seconds_requests_and_the_api() -> None:
    usage = [cost.Usage("Fn", invocations=10, billed_ms_mean=100.0, memory_mb=1024)]
    monthly = cost.monthly_cost(usage, 1_000_000, PRICES)
    # 1M * 0.1 s * 1 GB * 0.0000166667 = 1.67; requests 0.20; API 1.00
    assert monthly == {"compute": 1.67, "requests": 0.2, "lmi_instances": 0.0, "api_gateway": 1.0, "total": 2.87}


def test_lmi_costs_its_instances_and_breaks_even_where_standard_gets_dearer() -> None:
    lmi = cost.monthly_cost([cost.Usage("L", 5, 10.0, 2048, managed_instances=True)], 1_000_000, PRICES)
    assert lmi["lmi_instances"] == round(3 * 0.1 * 1.15 * 730, 2) and lmi["compute"] == 0.0
    even = cost.lmi_break_even(100.0, 1024, PRICES)
    assert even is not None
    standard = cost.monthly_cost([cost.Usage("S", 1, 100.0, 1024)], round(even), PRICES)
    managed = cost.monthly_cost([cost.Usage("L", 1, 100.0, 1024, managed_instances=True)], round(even), PRICES)
    assert abs(standard["total"] - managed["total"]) < 0.05
    assert cost.lmi_break_even(0.0, 128, PRICES) is None, "no compute charge: standard is never dearer"


def test_iam_breadth_counts_each_functions_distinct_actions() -> None:
    expanded = expand(Path(paths.TEMPLATE), region="us-east-1", parameters={"Stage": "dev"})["template"]
    actions = iam.actions_per_function(expanded)
    assert actions["BlogMicroGetPost"] == ["dynamodb:GetItem", "secretsmanager:GetSecretValue"]
    assert len(actions["Fat"]) > len(actions["BlogManager"]) > len(actions["BlogMicroGetPost"])


def _topology(p99: float, total: float, envs: int, iam_max: int, size: int) -> dict[str, Any]:
    return {"requests": 100, "p99_ms": p99, "cost": {"total": total}, "environments": envs, "cold_starts": envs,
            "iam_max_actions": iam_max, "deploy_bytes": size}  # fmt: skip


def _results(micro_p99: float, lith_p99: float) -> list[dict[str, Any]]:
    return [{
        "profile": "blog", "description": "d", "monthly_requests": 1_000_000, "requests_per_topology": 100,
        "concurrency": 4,
        "topologies": {"lith": _topology(lith_p99, 10.0, 2, 8, 5_000_000),
                       "micro": _topology(micro_p99, 12.0, 6, 3, 15_000_000)},
    }]  # fmt: skip


def test_advice_follows_the_numbers() -> None:
    one = advice.advice(_results(micro_p99=90.0, lith_p99=30.0))
    other = advice.advice(_results(micro_p99=20.0, lith_p99=60.0))
    assert any(line.startswith("**blog**: lith has the lowest p99") for line in one)
    assert any(line.startswith("**blog**: micro has the lowest p99") for line in other)
    assert any("micro started 6 environments" in line and "lith started 2" in line for line in one)
    assert any("least privilege favours micro" in line for line in one)


def test_break_even_advice_depends_on_the_volume() -> None:
    base = _results(50.0, 40.0)[0]
    below = copy.deepcopy(base) | {"lmi_break_even_requests": 5e6, "lmi_break_even_basis_ms": 12.0}
    above = copy.deepcopy(below) | {"monthly_requests": 9e6}
    assert "keep standard functions" in advice.advice([below])[-1]
    assert "this profile is past it" in advice.advice([above])[-1]


def test_report_files_have_the_table_the_chart_and_the_advice(tmp_path: Path) -> None:
    results = [_results(90.0, 30.0)[0] | {"topologies": {
        name: t | {"functions": ["F"], "p50_ms": 1.0, "p95_ms": 2.0, "error_rate": 0.0, "rss_mb": 10.0}
        for name, t in _results(90.0, 30.0)[0]["topologies"].items()}}]  # fmt: skip
    md, page = report.write(results, "./inv compare --quick", root=tmp_path)
    text = md.read_text()
    assert "| blog | lith | 1 | 1.0 ms | 2.0 ms | 30.0 ms |" in text
    assert "## Which pattern when" in text and "lith has the lowest p99" in text
    html = page.read_text()
    assert "data:image/png;base64," in html and "<table>" in html
    assert (tmp_path / "latest.md").read_text() == text
