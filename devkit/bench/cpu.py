"""CPU time per component of a running local cloud, read from /proc: the local cloud's own process, its data
backends (DynamoDB Local, ElasticMQ, moto) and each function's environments, so a benchmark can say where the
machine's cores went per unit of work.

`snapshot(root_pid)` sums user + system time of `root_pid` and every descendant, grouped by component; the
difference of two snapshots divided by the work done is the cost per unit. Environments that exited between the
snapshots count under the local cloud (their time moves into its children's time when it reaps them).
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

LOCAL_CLOUD = "local cloud (Python)"
_TICKS = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, float, float, list[str]]]:
    """pid → (parent pid, own CPU s, waited-for children's CPU s, argv) for every readable process."""
    out: dict[int, tuple[int, float, float, list[str]]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # exited while we looked
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        own = (int(fields[11]) + int(fields[12])) / _TICKS
        children = (int(fields[13]) + int(fields[14])) / _TICKS
        out[int(entry.name)] = (int(fields[1]), own, children, [a.decode(errors="replace") for a in argv if a])
    return out


def component(argv: list[str]) -> str:
    """The component a process belongs to, from its command line."""
    line = " ".join(argv)
    if "ServerRunner" in line or "DynamoDBLocal" in line:
        return "DynamoDB Local"
    if "elasticmq" in line:
        return "ElasticMQ"
    if "moto" in line:
        return "moto"
    if argv and Path(argv[0]).name == "bootstrap":
        # the pool stages each function's bootstrap as <run dir>/<LogicalId>-<n>/bootstrap
        return "fn " + Path(argv[0]).parent.name.rsplit("-", 1)[0]
    return Path(argv[0]).name if argv else "?"


def snapshot(root_pid: int) -> Counter[str]:
    """CPU seconds so far per component of `root_pid`'s process tree (the root itself is the local cloud)."""
    processes = _processes()
    children: dict[int, list[int]] = {}
    for pid, (ppid, *_rest) in processes.items():
        children.setdefault(ppid, []).append(pid)
    totals: Counter[str] = Counter()
    stack = [root_pid]
    while stack:
        pid = stack.pop()
        if pid not in processes:
            continue
        _ppid, own, waited, argv = processes[pid]
        totals[LOCAL_CLOUD if pid == root_pid else component(argv)] += own
        totals[LOCAL_CLOUD] += waited if pid == root_pid else 0.0
        stack.extend(children.get(pid, []))
    return totals


def per_unit_ms(before: Counter[str], after: Counter[str], units: int) -> dict[str, float]:
    """Milliseconds of CPU per unit of work per component (largest first), between two snapshots."""
    if units <= 0:
        return {}
    spent = {name: after[name] - before.get(name, 0.0) for name in after}
    ranked = sorted(((v, k) for k, v in spent.items() if v > 0), reverse=True)
    return {name: round(seconds * 1000 / units, 2) for seconds, name in ranked}
