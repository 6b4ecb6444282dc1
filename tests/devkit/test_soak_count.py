"""The soak's exactly-once count (devkit/soak_currency.count) on made-up store, stream and log contents: each way
a command can be applied twice, lost, or left stale is caught."""

from __future__ import annotations

from collections import Counter
from typing import Any

from devkit.soak.currency import Accepted, SoakSettings, count, fault_plan

A1, A2, B1 = Accepted("a1", "AED", 1, "1.5"), Accepted("a2", "AED", 2, "1.25"), Accepted("b1", "BRL", 1, "2")
ACCEPTED = [A1, A2, B1]
GOOD_WRITES = Counter({("AED", 1): 1, ("AED", 2): 1, ("BRL", 1): 1, ("BRL", 7): 3})  # BRL 7: another test's
GOOD_LOG = {"a1": ["written", "duplicate"], "a2": ["written"], "b1": ["written"]}


def _statuses(**outcomes: str) -> dict[str, dict[str, str]]:
    return {cid: {"status": "applied", "outcome": outcome} for cid, outcome in outcomes.items()}


GOOD = _statuses(a1="written", a2="written", b1="written")


def _verdict(
    log: dict[str, list[str]] = GOOD_LOG,
    statuses: dict[str, dict[str, str]] = GOOD,
    writes: Counter[tuple[str, int]] = GOOD_WRITES,
    **model: Any,
) -> dict[str, Any]:
    read_model = {"AED": (2, "1.2500"), "BRL": (1, "2.0")} | model
    return count(ACCEPTED, writes, log, statuses, read_model)


def test_a_clean_run_is_exactly_once_with_decimal_rates_compared_as_numbers() -> None:
    verdict = _verdict()
    assert verdict["exactly_once"] and verdict["store_writes_once"] == 3
    assert verdict["projector_lines_per_command"] == {"1": 2, "2": 1}


def test_a_superseded_command_was_written_at_most_once_and_a_crash_may_lose_a_log_line() -> None:
    superseded = GOOD | _statuses(a1="superseded")
    assert _verdict({**GOOD_LOG, "a1": ["superseded"]}, superseded, GOOD_WRITES - Counter({("AED", 1): 1}))[
        "exactly_once"
    ]
    lost_line = _verdict({**GOOD_LOG, "a1": ["duplicate"]})  # written, then the environment died before the line
    assert lost_line["exactly_once"] and lost_line["written_lines_lost_in_crashes"] == 1


def test_each_way_of_breaking_exactly_once_is_caught() -> None:
    twice = _verdict(writes=GOOD_WRITES + Counter({("AED", 2): 1}))
    assert not twice["exactly_once"] and twice["examples"]["twice"] == ["a2"]
    never = _verdict(writes=GOOD_WRITES - Counter({("BRL", 1): 1}))
    assert not never["exactly_once"] and never["written_status_without_store_write"] == 1
    phantom = _verdict({**GOOD_LOG, "a2": ["written", "written"]})
    assert not phantom["exactly_once"] and phantom["written_lines_without_store_write"] == 1
    lost = _verdict({k: v for k, v in GOOD_LOG.items() if k != "b1"})
    assert not lost["exactly_once"] and lost["unlogged"] == 1
    pending = _verdict(statuses=GOOD | {"b1": {"status": "accepted"}})
    assert not pending["exactly_once"] and pending["statuses"] == {"applied": 2, "accepted": 1}
    stale = _verdict(AED=(1, "1.5"))
    assert not stale["exactly_once"] and list(stale["stale_currencies"]) == ["AED"]
    assert not _verdict(BRL=(1, "2.01"))["exactly_once"], "the newest command's rate, not just its version"
    missing = _verdict(statuses={k: v for k, v in GOOD.items() if k != "a1"})
    assert not missing["exactly_once"] and missing["statuses"]["missing"] == 1


def test_fault_plan_stays_below_the_dlq() -> None:
    plan = fault_plan(SoakSettings(failure_percentage=10, seed=3), max_receive_count=3)
    assert plan["seed"] == 3 and sum(f["percentage"] for f in plan["faults"]) == 10
    assert {f["action"] for f in plan["faults"]} == {"error", "crash"}
    assert all(f["max_attempt"] == 2 for f in plan["faults"]), "a healthy message fails at most twice of three"
