"""REPORT lines (local log text or CloudWatch messages) → billing per function, and the cold-start timeline."""

from __future__ import annotations

import pytest

from devkit.compare import reportlines

COLD = ("REPORT RequestId: 8f5e\tDuration: 12.40 ms\tBilled Duration: 58 ms\tMemory Size: 512 MB\t"
        "Max Memory Used: 21 MB\tInit Duration: 45.10 ms\t")  # fmt: skip
WARM = "REPORT RequestId: 9a01\tDuration: 3.20 ms\tBilled Duration: 4 ms\tMemory Size: 512 MB\tMax Memory Used: 22 MB\t"


def test_parse_reads_billed_init_and_memory() -> None:
    cold = reportlines.parse(COLD, at=10.0)
    assert cold == reportlines.Report(12.4, 58.0, 512, 21, 45.1, 10.0)
    warm = reportlines.parse(WARM)
    assert warm is not None and warm.init_ms is None and warm.billed_ms == 4.0
    assert reportlines.parse("START RequestId: 9a01 Version: $LATEST") is None
    assert reportlines.parse('{"level":"INFO","msg":"REPORT RequestId: none"}') is None


def test_summarise_separates_warm_billing_from_init() -> None:
    reports = [reportlines.parse(COLD), reportlines.parse(WARM), reportlines.parse(WARM.replace("4 ms", "6 ms"))]
    billing = reportlines.summarise([r for r in reports if r])
    assert billing == reportlines.Billing(invocations=3, cold_starts=1, warm_billed_ms=5.0, init_ms=45.1,
                                          max_memory_mb=22)  # fmt: skip


def test_summarise_uses_cold_invocations_without_their_init_when_none_was_warm() -> None:
    billing = reportlines.summarise([r for r in [reportlines.parse(COLD)] if r])
    assert billing.warm_billed_ms == pytest.approx(58 - 45.1) and billing.cold_starts == 1
    assert reportlines.summarise([]) == reportlines.Billing(0, 0, 0.0, 0.0, 0)


def test_timeline_counts_requests_completed_at_each_cold_start() -> None:
    completions = [1.0, 1.1, 1.2, 2.0, 2.5, 3.0]
    assert reportlines.timeline(completions, [1.0, 2.2]) == [(0, 0), (1, 1), (4, 2), (6, 2)]
    assert reportlines.timeline([], []) == [(0, 0), (0, 0)]
