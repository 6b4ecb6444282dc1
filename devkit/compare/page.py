"""The comparison report as one self-contained HTML page: per profile, small multiples (latency, environments
started, memory, deploy size, IAM breadth), cost against monthly volume with break-evens, and the decision table.

Charts are inline SVG; no script, font or stylesheet from anywhere else, so the file works offline and prints."""

from __future__ import annotations

import json
import math
from html import escape
from typing import Any

from devkit.compare import curve, decision, svg
from devkit.compare.cost import Prices

CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,sans-serif;color:#222;margin:0;background:#f6f7f9}
main{max-width:1220px;margin:0 auto;padding:20px 24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:20px;margin:0 0 2px}h3{font-size:15px;margin:14px 0 6px}
.lede{color:#444;margin:4px 0 14px;max-width:70em}
code{background:#eceef1;padding:1px 4px;border-radius:3px;overflow-wrap:anywhere}
.legend span{display:inline-block;margin-right:14px;white-space:nowrap}
.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;vertical-align:-1px}
section.profile{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:16px 18px;margin:18px 0}
.grid{display:grid;gap:12px;grid-template-columns:repeat(3,minmax(0,1fr))}
.grid.two{grid-template-columns:repeat(2,minmax(0,1fr))}.grid.wide{grid-template-columns:minmax(0,1fr) minmax(0,1fr)}
figure{margin:0;min-width:0}figure svg{display:block;width:100%;height:auto}
figcaption{font-size:12px;color:#555;margin-top:2px}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:4px 8px;border-bottom:1px solid #e3e6ea;text-align:left;vertical-align:top}
th{background:#f0f2f5;font-weight:600}
td.win{background:#e5f4ea;font-weight:600}td.win::after{content:" \\2714";color:#1a7f37}
th small{display:block;font-weight:normal;color:#666;font-size:11px}
.narrative{margin:8px 0 0;padding-left:18px}.narrative li{margin:2px 0}
details{margin-top:18px}pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:11px}
@media (max-width:900px){.grid,.grid.two,.grid.wide{grid-template-columns:minmax(0,1fr)}}
@page{size:A4 landscape;margin:10mm}
@media print{html{zoom:0.6}body{background:#fff}main{max-width:none;padding:0}
section.profile{break-inside:avoid-page;break-before:page;border:none;padding:0;margin:0}
section.profile:first-of-type{break-before:auto}details,.noprint{display:none}
td.win{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""


def latency_range(results: list[dict[str, Any]]) -> tuple[float, float]:
    """One log latency axis for every profile: from the lowest p1 to the highest max, widened to 1-2-5 steps."""
    qs = [
        t["latency_quantiles_ms"]
        for p in results
        for t in decision.measured(p).values()
        if t.get("latency_quantiles_ms")
    ]
    if not qs:
        return 1.0, 1000.0
    low, high = max(min(q[1] for q in qs), 0.01), max(max(q[100] for q in qs), 0.02)
    low = max(s * 10 ** math.floor(math.log10(low)) for s in (1, 2, 5) if s * 10 ** math.floor(math.log10(low)) <= low)
    top = 10 ** math.floor(math.log10(high))
    high = min(s * top for s in (1, 2, 5, 10) if s * top >= high)
    return low, high


def _figure(chart: str, caption: str) -> str:
    return f"<figure>{chart}<figcaption>{escape(caption)}</figcaption></figure>"


def _legend(names: list[str]) -> str:
    return (
        "<p class='legend'>"
        + "".join(f"<span><i style='background:{svg.colour(n)}'></i>{escape(n)}</span>" for n in names)
        + "</p>"
    )


def _decision_table(rows: list[decision.Row], names: list[str]) -> str:
    head = "<tr><th>row</th>" + "".join(f"<th>{escape(n)}</th>" for n in names) + "</tr>"
    body = ""
    for row in rows:
        cells = "".join(
            f"<td class='{'win' if n in row.winners and len(row.winners) < len(names) else ''}'>"
            f"{escape(row.cells[n])}</td>"
            for n in names
        )
        tie = "; a tie" if len(row.winners) == len(names) else ""
        body += f"<tr><th>{escape(row.criterion)}<small>{escape(row.basis + tie)}</small></th>{cells}</tr>"
    return f"<div class='scroll'><table class='decision'>{head}{body}</table></div>"


def profile_section(profile: dict[str, Any], prices: Prices, span: tuple[float, float]) -> str:
    tops = decision.measured(profile)
    names = list(tops)
    volume = profile["monthly_requests"]
    boxes = [svg.Box(n, t["latency_quantiles_ms"]) for n, t in tops.items() if t.get("latency_quantiles_ms")]
    envs = [svg.Series(n, t.get("timeline") or [(0, 0), (t["requests"], t["cold_starts"])]) for n, t in tops.items()]
    uses = {n: decision.uses_of(t) for n, t in tops.items()}
    lines = [svg.Series(n, points) for n, points in curve.curves(uses, prices).items()]
    crossed = decision.crossings(profile, prices)
    marks = [
        svg.Mark(c["volume"], c["cost"], f"{c['pair'][0]}={c['pair'][1]} {svg.short(c['volume'])}") for c in crossed
    ]
    rows = decision.table(profile, prices)
    small = [
        _figure(svg.latency_boxes(boxes, *span), "box p25-p75, thick bar p50, ticks p95 and p99, whiskers p1-max"),
        _figure(
            svg.step_lines(envs, "environments started", "requests completed", "environments"),
            "each step is a cold start; a flat line means the traffic ran warm",
        ),
        _figure(
            svg.bars(
                [svg.Bar(n, t["rss_mb"], f"{t['rss_mb']:.0f} MB") for n, t in tops.items()],
                "memory (RSS of all environments)",
            ),
            "resident memory at the end of the run",
        ),
        _figure(
            svg.bars(
                [svg.Bar(n, t["deploy_bytes"] / 1e6, f"{t['deploy_bytes'] / 1e6:.1f} MB") for n, t in tops.items()],
                "deploy size (one zip per function)",
            ),
            "what Lambda stores",
        ),
        _figure(
            svg.bars(
                [
                    svg.Bar(
                        n,
                        t["iam_max_actions"],
                        f"{decision.plural(t['iam_max_actions'], 'action')}, "
                        f"{decision.plural(len(t['functions']), 'function')}",
                    )
                    for n, t in tops.items()
                ],
                "IAM breadth (broadest function)",
            ),
            "fewer actions per role: less to misuse",
        ),
    ]
    cost = _figure(
        svg.cost_lines(lines, marks, volume, "cost against monthly volume"),
        "what a million requests cost at each monthly volume, from the run's billed durations (warm + init) and "
        "infra/prices.toml; circles: break-even volumes; dashed: this profile's volume (monthly totals in the table)",
    )
    story = "".join(f"<li>{escape(s)}</li>" for s in decision.narrative(profile, rows, crossed))
    return (
        f"<section class='profile' id='{escape(profile['profile'])}'>"
        f"<h2>{escape(profile['profile'])}</h2><p class='lede'>{escape(profile['description'])}; "
        f"{profile['requests_per_topology']} requests per topology at concurrency {profile['concurrency']}; "
        f"priced at {decision.curve_volume(volume)} requests/month.</p>{_legend(names)}"
        f"<div class='grid two'>{''.join(small[:2])}</div><div class='grid'>{''.join(small[2:])}</div>"
        f"<div class='grid wide'>{cost}<div><h3>Decision</h3>{_decision_table(rows, names)}"
        f"<ul class='narrative'>{story}</ul></div></div></section>"
    )


def render(results: list[dict[str, Any]], command: str, when: str, prices: Prices, summary_rows: str) -> str:
    span = latency_range(results)
    sections = "".join(profile_section(p, prices, span) for p in results if decision.measured(p))
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'><title>Patterns side by side</title>"
        f"<style>{CSS}</style></head><body><main><h1>Patterns side by side</h1>"
        f"<p class='lede'><code>{escape(command)}</code> &middot; {escape(when)}. The same traffic against every "
        "topology of one fresh deployment per profile. Each profile: latency (one log axis for all), cold starts "
        "against the request stream, memory, deploy size and IAM breadth; cost from 1 M to 1 B requests/month "
        "priced from the measured billed durations (init included: AWS bills it) and <code>infra/prices.toml</code>; "
        "a decision table with the winner per row (green).</p>"
        f"{sections}<details><summary>all figures</summary><div class='scroll'>{summary_rows}</div>"
        f"<pre>{escape(json.dumps(results, indent=1))}</pre></details></main></body></html>"
    )
