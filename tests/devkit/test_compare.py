"""`./inv compare`: traffic plans, the cost model, IAM breadth and the report files."""

from __future__ import annotations

import json
from pathlib import Path

from devkit import paths
from devkit.compare import cost, iam, report
from devkit.compare.profiles import BLOG, plan
from devkit.localcloud import expand
from tests.devkit.compare_sample import sample_results

PRICES = cost.Prices(
    request_per_million=0.20, gb_second=0.0000166667, api_per_million=1.0, lmi_instance_hour=0.1, lmi_fee=0.15,
    lmi_min_instances=3, lmi_request_per_million=0.20, lmi_instance_type="test.large",
)  # fmt: skip


def test_plan_keeps_the_profile_proportions_and_interleaves() -> None:
    calls = plan(BLOG, 200)
    counts = {c.path: sum(1 for x in calls if x is c) for c in BLOG.calls}
    assert counts == {"/posts/{post}": 120, "/posts?limit=20": 50, "/posts": 30}
    assert {c.method for c in calls[:10]} == {"GET", "POST"}, "writes are spread, not bunched at the end"


def test_prices_load_from_infra_prices_toml() -> None:
    prices = cost.Prices.load()
    assert prices.gb_second == 0.0000166667 and prices.lmi_min_instances == 3
    assert cost.Prices.load(arch="arm64").gb_second < prices.gb_second
    assert abs(cost.lmi_monthly_fixed(PRICES) - 251.85) < 1e-9  # 3 instances x $0.1/h x 1.15 x 730 h


def test_iam_breadth_counts_each_functions_distinct_actions() -> None:
    expanded = expand(Path(paths.TEMPLATE), region="us-east-1", parameters={"Stage": "dev"})["template"]
    actions = iam.actions_per_function(expanded)
    assert actions["BlogMicroGetPost"] == ["dynamodb:GetItem", "secretsmanager:GetSecretValue"]
    assert len(actions["Fat"]) > len(actions["BlogManager"]) > len(actions["BlogMicroGetPost"])


def test_report_files_have_the_table_the_charts_and_the_decision(tmp_path: Path) -> None:
    md, page = report.write(sample_results(), "./inv compare --quick", root=tmp_path, prices=PRICES)
    text = md.read_text()
    assert "| blog | lith | 1 | 4.0 ms | 6.9 ms | 40.8 ms |" in text
    assert "## blog: decision" in text and "| least privilege | 9 actions | **3 actions** | 31 actions |" in text
    assert "- At 10 M requests/month, lith wins" in text
    html = page.read_text()
    assert html.count("<svg class='chart'") == 3 * 6, "five small multiples and a cost chart per profile"
    assert "<table class='decision'>" in html and "http" not in html.split("<details>")[0].replace("https://", "")
    assert (tmp_path / "latest.md").read_text() == text
    assert json.loads((page.parent / "results.json").read_text()) == json.loads(json.dumps(sample_results()))
