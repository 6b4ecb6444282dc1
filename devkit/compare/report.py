"""The comparison report: Markdown (tables, decision per profile) + one self-contained HTML page (`page`)."""

from __future__ import annotations

import html
import json
import time
from pathlib import Path
from typing import Any

from devkit import paths
from devkit.compare import decision, page
from devkit.compare.cost import Prices

HEADER = [
    "profile",
    "topology",
    "functions",
    "p50",
    "p95",
    "p99",
    "errors",
    "cold starts",
    "envs",
    "RSS",
    "$/month",
    "max IAM actions",
    "deploy size",
]


def rows(results: list[dict[str, Any]]) -> list[list[str]]:
    out = []
    for profile in results:
        for name, t in profile["topologies"].items():
            out.append(
                [
                    profile["profile"],
                    name,
                    str(len(t["functions"])),
                    f"{t['p50_ms']:.1f} ms",
                    f"{t['p95_ms']:.1f} ms",
                    f"{t['p99_ms']:.1f} ms",
                    f"{t['error_rate'] * 100:.1f} %",
                    str(t["cold_starts"]),
                    str(t["environments"]),
                    f"{t['rss_mb']:.0f} MB",
                    f"{t['cost']['total']:.2f}",
                    str(t["iam_max_actions"]),
                    f"{t['deploy_bytes'] / 1e6:.1f} MB",
                ]
            )
    return out


def markdown(results: list[dict[str, Any]], command: str, prices: Prices) -> str:
    lines = [
        f"# Patterns side by side ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
        f"`{command}` — one fresh deployment per traffic profile; cost from the measured billed durations "
        "(warm and init) and the list prices in `infra/prices.toml` (unverified), at each profile's monthly "
        "volume.",
        "",
    ]
    lines += ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows(results)]
    for p in results:
        names = list(decision.measured(p))
        if not names:
            continue
        lines += [
            "",
            f"## {p['profile']}: decision",
            "",
            f"{p['description']}; {p['requests_per_topology']} requests per topology at concurrency "
            f"{p['concurrency']}; priced at {p['monthly_requests']:,} requests/month. **bold** = winner.",
            "",
            "| row | " + " | ".join(names) + " | compared |",
            "|---|" + "---|" * len(names) + "---|",
        ]
        table = decision.table(p, prices)
        for row in table:
            cells = [
                f"**{row.cells[n]}**" if n in row.winners and len(row.winners) < len(names) else row.cells[n]
                for n in names
            ]
            tie = "; a tie" if len(row.winners) == len(names) else ""
            lines.append(f"| {row.criterion} | " + " | ".join(cells) + f" | {row.basis}{tie} |")
        lines += [""] + [f"- {s}" for s in decision.narrative(p, table, decision.crossings(p, prices))]
    return "\n".join(lines) + "\n"


def html_report(results: list[dict[str, Any]], command: str, prices: Prices) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADER)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows(results))
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return page.render(results, command, when, prices, f"<table><tr>{head}</tr>{body}</table>")


def write(
    results: list[dict[str, Any]], command: str, root: Path | None = None, prices: Prices | None = None
) -> tuple[Path, Path]:
    root = root or paths.ROOT / "reports" / "compare"
    prices = prices or Prices.load()
    folder = root / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    folder.mkdir(parents=True, exist_ok=True)
    text = markdown(results, command, prices)
    md = folder / "report.md"
    md.write_text(text)
    (root / "latest.md").write_text(text)
    html_path = folder / "report.html"
    html_path.write_text(html_report(results, command, prices))
    (folder / "results.json").write_text(json.dumps(results, indent=1))
    return md, html_path
