"""A small PNG for the bench report (matplotlib, Agg backend: no display needed).

Left: warm p50/p99 at concurrency 1, ours vs cargo lambda watch, per overhead case. Right: cold start (Init
Duration) per function, the Python baseline in its own colour.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def render(report: dict[str, Any], path: Path) -> Path | None:
    """Writes the chart to `path`; None when there is nothing to draw."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    overhead = (report.get("overhead") or {}).get("cases", {})
    rows = [r for r in (report.get("functions") or {}).get("functions", []) if "error" not in r]
    if not overhead and not rows:
        return None
    panels = [p for p in (overhead, rows) if p]
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4), squeeze=False)
    index = 0
    if overhead:
        ax = axes[0][index]
        index += 1
        names = [n for n, c in overhead.items() if "1" in c["ours"]["warm"]]
        width = 0.2
        for offset, (side, key, colour) in enumerate(
            (
                ("ours", "p50_ms", "#1f77b4"),
                ("ours", "p99_ms", "#aec7e8"),
                ("cargo", "p50_ms", "#ff7f0e"),
                ("cargo", "p99_ms", "#ffbb78"),
            )
        ):
            values = [overhead[n][side]["warm"]["1"][key] or 0 for n in names]
            label = f"{'local cloud' if side == 'ours' else 'cargo lambda watch'} {key.removesuffix('_ms')}"
            ax.bar([i + (offset - 1.5) * width for i in range(len(names))], values, width, label=label, color=colour)
        ax.set_xticks(range(len(names)), names)
        ax.set_ylabel("ms (concurrency 1)")
        ax.set_title("Warm latency: local cloud vs cargo lambda watch")
        ax.legend(fontsize=8)
    if rows:
        ax = axes[0][index]
        names = [r["function"] for r in rows]
        values = [r["cold"]["init_ms"] or 0 for r in rows]
        colours = ["#2ca02c" if r["runtime"].startswith("python") else "#7f7f7f" for r in rows]
        ax.barh(names, values, color=colours)
        ax.invert_yaxis()
        ax.set_xlabel("Init Duration, ms (spawn → first /next, median)")
        ax.set_title("Cold start per function (Python baseline in green)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
