"""CPU accounting per component (devkit/bench/cpu.py) and the currency sweep's rendering of it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter

from devkit.bench import cpu, currency


def test_components_are_named_from_command_lines() -> None:
    java = [
        "/usr/bin/java",
        "-cp",
        "/cache/dynamodb-local/lib/*",
        "software.amazon.dynamodb.services.local.main.ServerRunner",
    ]
    assert cpu.component(java) == "DynamoDB Local"
    assert cpu.component(["/usr/bin/java", "-cp", "/cache/elasticmq/lib/*", "org.elasticmq.server.Main"]) == "ElasticMQ"
    assert cpu.component(["/state/run/localcloud-x1/CurrencyWrite-12/bootstrap"]) == "fn CurrencyWrite"
    assert cpu.component(["/state/run/localcloud-x1/BlogMicroListPosts-3/bootstrap"]) == "fn BlogMicroListPosts"
    assert cpu.component(["/venv/bin/python", "-m", "moto.server"]) == "moto"


def test_a_busy_child_is_counted_under_its_component_and_per_unit_ranks_them() -> None:
    spin = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\ntime.sleep(30)"
    name = os.path.basename(sys.executable)
    before = cpu.snapshot(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", spin])
    try:
        deadline = time.monotonic() + 20
        while cpu.snapshot(os.getpid())[name] - before.get(name, 0.0) < 0.25:
            assert time.monotonic() < deadline, "the child's CPU time never showed up"
            time.sleep(0.05)
        after = cpu.snapshot(os.getpid())
    finally:
        child.kill()
        child.wait()
    shares = cpu.per_unit_ms(before, after, units=10)
    assert shares[name] >= 25.0, shares  # ≥ 0.25 s over 10 units
    assert list(shares) == sorted(shares, key=shares.get, reverse=True)
    assert cpu.per_unit_ms(Counter(), Counter({"x": 1.0}), units=0) == {}


def test_the_sweep_table_shows_each_rate_and_where_the_cpu_went() -> None:
    row = {"rate": 100.0, "seconds": 10.0, "warmup_s": 10.0, "sent": 1000, "readable": 1000, "unreadable": 0,
           "errors": 0, "p50_ms": 150.0, "p99_ms": 400.0, "max_ms": 500.0, "met": True,
           "cpu_ms_per_command": {"DynamoDB Local": 5.0, "fn CurrencyWrite": 3.0}}  # fmt: skip
    saturated = row | {"rate": 200.0, "p50_ms": 9000.0, "p99_ms": 15000.0, "met": False}
    result = saturated | {"backend": "dynamodb-local", "target_p99_ms": 1000.0, "sweep": [row, saturated],
                          "sustained_rate": 100.0}  # fmt: skip
    text = "\n".join(currency.render(result))
    assert "highest meeting p99 ≤ 1000 ms here: 100/s" in text
    assert "| 100/s | 150.0 ms | 400.0 ms | 0 | 0 | 8.0 ms (DynamoDB Local 5.0, fn CurrencyWrite 3.0) |" in text
    assert "MISSED" in currency.line(result) and "highest rate meeting it here: 100/s" in currency.line(result)
