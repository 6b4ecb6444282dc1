"""The comparison report: Markdown summary + HTML with charts (matplotlib PNGs embedded as data URIs)."""

from __future__ import annotations

import base64
import html
import io
import json
import time
from pathlib import Path
from typing import Any

from devkit import paths
from devkit.compare.advice import advice

HEADER = ["profile", "topology", "functions", "p50", "p95", "p99", "errors", "cold starts", "envs", "RSS",
          "$/month", "max IAM actions", "deploy size"]  # fmt: skip


def rows(results: list[dict[str, Any]]) -> list[list[str]]:
    out = []
    for profile in results:
        for name, t in profile["topologies"].items():
            out.append([
                profile["profile"], name, str(len(t["functions"])), f"{t['p50_ms']:.1f} ms", f"{t['p95_ms']:.1f} ms",
                f"{t['p99_ms']:.1f} ms", f"{t['error_rate'] * 100:.1f} %", str(t["cold_starts"]),
                str(t["environments"]), f"{t['rss_mb']:.0f} MB", f"{t['cost']['total']:.2f}",
                str(t["iam_max_actions"]), f"{t['deploy_bytes'] / 1e6:.1f} MB",
            ])  # fmt: skip
    return out


def markdown(results: list[dict[str, Any]], command: str) -> str:
    lines = [f"# Patterns side by side ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", "",
             f"`{command}` — one fresh local cloud per traffic profile (loopback, bounded); cost = Lambda-ish list "
             "prices from `infra/prices.toml` (unverified) scaled to each profile's monthly volume.", ""]  # fmt: skip
    lines += ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows(results)]
    lines += ["", "Traffic profiles:", ""]
    for p in results:
        lines.append(
            f"- **{p['profile']}**: {p['description']}; {p['requests_per_topology']} requests per topology at "
            f"concurrency {p['concurrency']}; cost at {p['monthly_requests']:,} requests/month"
        )
    lines += ["", "## Which pattern when (generated from the numbers above)", ""]
    lines += [f"- {line}" for line in advice(results)] or ["- (not enough topologies measured to compare)"]
    return "\n".join(lines) + "\n"


def _chart(results: list[dict[str, Any]]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    labels = [f"{p['profile']}\n{t}" for p in results for t in p["topologies"]]
    tops = [t for p in results for t in p["topologies"].values()]
    x = range(len(labels))
    for key, offset in (("p50_ms", -0.25), ("p95_ms", 0.0), ("p99_ms", 0.25)):
        axes[0].bar([i + offset for i in x], [t[key] for t in tops], width=0.25, label=key.split("_")[0])
    axes[0].set_title("latency (ms)")
    axes[0].legend()
    axes[1].bar(list(x), [t["cold_starts"] for t in tops], color="tab:orange")
    axes[1].set_title("cold starts (environments started)")
    axes[2].bar(list(x), [t["cost"]["total"] for t in tops], color="tab:green")
    axes[2].set_title("$ / month at the profile's volume")
    for ax in axes:
        ax.set_xticks(list(x))
        ax.set_xticklabels(labels, fontsize=7)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def html_report(results: list[dict[str, Any]], command: str) -> str:
    table = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows(results)
    )
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADER)
    items = "".join(f"<li>{html.escape(line.replace('**', ''))}</li>" for line in advice(results))
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Patterns side by side</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 8px;border-bottom:1px solid #ddd}</style>"
        f"</head><body><h1>Patterns side by side</h1><p><code>{html.escape(command)}</code></p>"
        f"<img alt='latency, cold starts and cost per topology' src='data:image/png;base64,{_chart(results)}'>"
        f"<table><tr>{head}</tr>{table}</table><h2>Which pattern when</h2><ul>{items}</ul>"
        f"<details><summary>raw figures</summary><pre>{html.escape(json.dumps(results, indent=1))}</pre></details>"
        "</body></html>"
    )


def write(results: list[dict[str, Any]], command: str, root: Path | None = None) -> tuple[Path, Path]:
    root = root or paths.ROOT / "reports" / "compare"
    folder = root / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    folder.mkdir(parents=True, exist_ok=True)
    text = markdown(results, command)
    md = folder / "report.md"
    md.write_text(text)
    (root / "latest.md").write_text(text)
    page = folder / "report.html"
    page.write_text(html_report(results, command))
    (folder / "results.json").write_text(json.dumps(results, indent=1))
    return md, page
