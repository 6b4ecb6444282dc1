"""The currency soak (`./inv soak`, devkit/soak/currency.py) on the reliability suite's stack: commands written
while the local cloud fails, refuses and crashes the projector's batches, then every command counted as applied
exactly once. Short here; `./inv soak` runs 10,000 commands."""

from __future__ import annotations

from devkit import targets
from devkit.localcloud import load_stack
from devkit.paths import LOCAL_PARAMETERS, TEMPLATE
from devkit.soak import currency as soak_currency
from tests.support import Stack
from tests.system.reliability.helpers import size


def test_soak_with_injected_projector_failures_applies_every_command_exactly_once(stack: Stack) -> None:
    assert stack.control is not None and stack.state_dir is not None
    settings = soak_currency.SoakSettings(
        commands=size(short=300, long=3000), rate=50, failure_percentage=30, seed=5, settle_s=120
    )
    queue = load_stack(TEMPLATE, parameters=LOCAL_PARAMETERS).queues[soak_currency.QUEUE]
    target = targets.local(stack.state_dir)
    result = soak_currency.soak(stack.urls, stack.control, target, settings, queue, progress=print)

    assert result["ok"], soak_currency.render(result, "tests/system/reliability/test_soak.py")
    assert result["accepted"] == settings.commands and result["statuses"] == {"applied": settings.commands}
    assert result["store_writes_once"] >= result["final_outcomes"].get("written", 0) >= 1
    injected = sum(result["faults"]["injected"].values())
    assert result["faults"]["injected"]["error"] >= 1 and result["faults"]["injected"]["crash"] >= 1, result["faults"]
    # every injected fault failed its whole batch, whose messages came back: the failures were real
    assert result["queue"]["failed_batches"] >= injected and result["redelivered_messages"] >= injected
    assert max(int(n) for n in result["projector_lines_per_command"]) >= 2, "some commands were delivered again"
    assert soak_currency.local_status(stack.control)["functions"]["CurrencyProjector"]["faults"] is None, "cleared"
