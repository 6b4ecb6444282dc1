"""The decision table per profile (rows, winners, ties) and the sentences beneath it follow the numbers."""

from __future__ import annotations

import copy
from typing import Any

from devkit.compare import decision
from devkit.compare.cost import Prices
from tests.devkit.compare_sample import sample_results

PRICES = Prices(
    request_per_million=0.20, gb_second=0.0000166667, api_per_million=1.0, lmi_instance_hour=0.1, lmi_fee=0.15,
    lmi_min_instances=3, lmi_request_per_million=0.20, lmi_instance_type="test.large",
)  # fmt: skip


def profile(name: str) -> dict[str, Any]:
    return next(p for p in sample_results() if p["profile"] == name)


def rows_by_criterion(p: dict[str, Any]) -> dict[str, decision.Row]:
    return {row.criterion: row for row in decision.table(p, PRICES)}


def test_the_table_has_the_six_rows_and_a_winner_in_each() -> None:
    rows = decision.table(profile("blog"), PRICES)
    assert [r.criterion for r in rows] == [
        "latency", "cost", "cold-start exposure", "least privilege", "deploy size", "operational load",
    ]  # fmt: skip
    assert all(r.winners and set(r.cells) == {"lith", "micro", "fat"} for r in rows)
    by = {r.criterion: r for r in rows}
    assert by["least privilege"].winners == ["micro"] and by["least privilege"].cells["micro"] == "3 actions"
    assert by["operational load"].winners == ["lith", "fat"], "one function each: a tie"
    assert by["deploy size"].winners == ["lith"] and by["deploy size"].cells["lith"] == "3.1 MB"
    assert by["cold-start exposure"].cells["micro"].endswith("(18 in run)")


def test_cost_row_is_priced_at_the_profiles_volume_with_init() -> None:
    blog = profile("blog")
    cost = rows_by_criterion(blog)["cost"]
    # lith at 10 M: API 10 + requests 2 + warm 10 M x 5 ms x 0.5 GB = 25,000 GB-s (0.41667) + init (tiny)
    assert 12.41 < cost.values["lith"] < 12.43
    blog["monthly_requests"] = 1_000_000_000
    assert rows_by_criterion(blog)["cost"].values["lith"] > 100 * cost.values["lith"] * 0.99


def test_winners_allow_a_tie_within_tolerance_only_where_asked() -> None:
    assert decision.winners({"a": 100.0, "b": 104.0, "c": 106.0}, 0.05) == ["a", "b"]
    assert decision.winners({"a": 100.0, "b": 104.0}) == ["a"]
    assert decision.winners({}) == []


def test_latency_winner_follows_the_measured_p99() -> None:
    blog = profile("blog")
    assert rows_by_criterion(blog)["latency"].winners == ["lith"]
    blog["topologies"]["micro"]["p99_ms"] = 5.0
    assert rows_by_criterion(blog)["latency"].winners == ["micro"]


def test_narrative_names_the_pick_what_the_others_buy_and_the_crossings() -> None:
    blog = profile("blog")
    rows = decision.table(blog, PRICES)
    story = decision.narrative(blog, rows, decision.crossings(blog, PRICES))
    assert story[0].startswith("At 10 M requests/month, lith wins")
    assert any(s.startswith("Choose micro when least privilege (3 actions vs 9 actions)") for s in story)
    assert not any(s.startswith("Choose fat") for s in story), "fat wins nothing lith does not"
    assert story[-1] == "Costs do not cross between 1 M and 1 B requests/month: micro is the cheapest at every volume."
    convert = profile("convert")
    crossed = decision.crossings(convert, PRICES)
    assert {tuple(c["pair"]) for c in crossed} >= {("lmi", "standard")}
    lines = decision.narrative(convert, decision.table(convert, PRICES), crossed)
    assert any("lmi vs standard; lmi cheaper above" in s for s in lines)


def test_narrative_changes_when_the_numbers_do() -> None:
    blog = profile("blog")
    other = copy.deepcopy(blog)
    for name in ("lith", "fat"):
        other["topologies"][name]["p99_ms"] = 500.0
        other["topologies"][name]["deploy_bytes"] = 50_000_000
        other["topologies"][name]["uses"][0]["warm_billed_ms"] = 500.0
    story = decision.narrative(other, decision.table(other, PRICES), decision.crossings(other, PRICES))
    assert story[0].startswith("At 10 M requests/month, micro wins")
    single = copy.deepcopy(blog)
    single["topologies"] = {"lith": blog["topologies"]["lith"]}
    assert decision.narrative(single, decision.table(single, PRICES), []) == [
        "Only one topology was measured: nothing to compare."
    ]
