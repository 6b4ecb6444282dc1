""" "Which pattern when", written from the measured numbers (no fixed prose: change the numbers, the advice
changes)."""

from __future__ import annotations

from typing import Any


def _fmt_requests(n: float) -> str:
    for unit, size in (("billion", 1e9), ("million", 1e6), ("thousand", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f}"


def advice(results: list[dict[str, Any]]) -> list[str]:
    """One line per finding, per traffic profile, from `results` (see `devkit.compare.run`)."""
    lines: list[str] = []
    for profile in results:
        tops = {name: t for name, t in profile["topologies"].items() if t.get("requests")}
        if len(tops) < 2:
            continue
        name = profile["profile"]
        fastest = min(tops, key=lambda t: tops[t]["p99_ms"])
        slowest = max(tops, key=lambda t: tops[t]["p99_ms"])
        if tops[slowest]["p99_ms"] > tops[fastest]["p99_ms"]:
            lines.append(
                f"**{name}**: {fastest} has the lowest p99 ({tops[fastest]['p99_ms']:.1f} ms), "
                f"{tops[slowest]['p99_ms'] / max(tops[fastest]['p99_ms'], 1e-9):.1f}x better than {slowest} "
                f"({tops[slowest]['p99_ms']:.1f} ms) for this traffic."
            )
        cheapest = min(tops, key=lambda t: tops[t]["cost"]["total"])
        dearest = max(tops, key=lambda t: tops[t]["cost"]["total"])
        if tops[dearest]["cost"]["total"] > tops[cheapest]["cost"]["total"]:
            lines.append(
                f"**{name}**: at {_fmt_requests(profile['monthly_requests'])} requests/month {cheapest} is the "
                f"cheapest (${tops[cheapest]['cost']['total']:.2f}/month) and {dearest} the dearest "
                f"(${tops[dearest]['cost']['total']:.2f})."
            )
        most = max(tops, key=lambda t: tops[t]["environments"])
        fewest = min(tops, key=lambda t: tops[t]["environments"])
        if tops[most]["environments"] > tops[fewest]["environments"]:
            share = tops[most]["cold_starts"] / max(tops[most]["requests"], 1) * 100
            lines.append(
                f"**{name}**: {most} started {tops[most]['environments']} environments for the same traffic where "
                f"{fewest} started {tops[fewest]['environments']}; {share:.1f} % of {most}'s requests met a cold "
                "start. Fewer, busier functions keep more of the traffic warm."
            )
        narrow = min(tops, key=lambda t: tops[t]["iam_max_actions"])
        broad = max(tops, key=lambda t: tops[t]["iam_max_actions"])
        if tops[broad]["iam_max_actions"] > tops[narrow]["iam_max_actions"]:
            lines.append(
                f"**{name}**: least privilege favours {narrow} (its broadest function holds "
                f"{tops[narrow]['iam_max_actions']} actions) over {broad} ({tops[broad]['iam_max_actions']})."
            )
        big = max(tops, key=lambda t: tops[t]["deploy_bytes"])
        small = min(tops, key=lambda t: tops[t]["deploy_bytes"])
        if tops[big]["deploy_bytes"] > tops[small]["deploy_bytes"] * 1.2:
            lines.append(
                f"**{name}**: {big} ships {tops[big]['deploy_bytes'] / 1e6:.1f} MB of zips vs "
                f"{tops[small]['deploy_bytes'] / 1e6:.1f} MB for {small}."
            )
        break_even = profile.get("lmi_break_even_requests")
        if break_even:
            volume = profile["monthly_requests"]
            verdict = "below that, keep standard functions" if volume < break_even else "this profile is past it"
            lines.append(
                f"**{name}**: LMI becomes cheaper than standard Lambda above {_fmt_requests(break_even)} "
                f"requests/month (measured billed duration {profile['lmi_break_even_basis_ms']:.1f} ms); {verdict}."
            )
    return lines
