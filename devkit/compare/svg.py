"""Small inline SVG charts for the comparison report (no plotting library, no network): each function returns one
`<svg>` element that scales to its container (viewBox, width 100 %), with a <title> for screen readers."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from html import escape

# One colour per topology, the same in every chart and profile (colour-blind-safe Okabe-Ito hues).
COLOURS = {
    "lith": "#0072B2",
    "micro": "#D55E00",
    "fat": "#009E73",
    "split": "#CC79A7",
    "lmi": "#E69F00",
    "standard": "#56B4E9",
}
FALLBACK = "#555555"
FONT = "font-family='system-ui,sans-serif'"


def colour(name: str) -> str:
    return COLOURS.get(name, FALLBACK)


@dataclass(frozen=True)
class Frame:
    """Plot area inside a chart of `width` x `height` user units."""

    width: int = 360
    height: int = 220
    _: KW_ONLY  # the margins around the plot area
    left: int = 56
    right: int = 14
    top: int = 26
    bottom: int = 34

    @property
    def x0(self) -> float:
        return self.left

    @property
    def x1(self) -> float:
        return self.width - self.right

    @property
    def y0(self) -> float:
        return self.height - self.bottom

    @property
    def y1(self) -> float:
        return self.top


@dataclass(frozen=True)
class Bar:
    """One bar of a bar chart: its name, length and the label printed at its end."""

    name: str
    value: float
    label: str


@dataclass(frozen=True)
class Mark:
    """A labelled point on a cost chart (a break-even)."""

    x: float
    y: float
    label: str


class Scale:
    """Maps a data interval onto a pixel interval, linear or log10."""

    def __init__(self, low: float, high: float, start: float, end: float, *, log: bool = False) -> None:
        if log:
            low, high = math.log10(max(low, 1e-12)), math.log10(max(high, low * 1.0001, 1e-12))
        if high <= low:
            high = low + 1.0
        self.low, self.high, self.start, self.end, self.log = low, high, start, end, log

    def __call__(self, value: float) -> float:
        v = math.log10(max(value, 1e-12)) if self.log else value
        return self.start + (v - self.low) / (self.high - self.low) * (self.end - self.start)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (linear)."""
    if high <= low:
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        if value >= low - step * 1e-9:
            ticks.append(round(value, 10))
        value += step
    return ticks


def log_ticks(low: float, high: float) -> list[float]:
    """1, 2, 5 x 10^n ticks within [low, high]; only powers of ten when the range spans more than 3 decades."""
    out = []
    multipliers = (1,) if high / max(low, 1e-12) > 1e3 else (1, 2, 5)
    for exponent in range(math.floor(math.log10(max(low, 1e-12))), math.ceil(math.log10(max(high, 1e-12))) + 1):
        for m in multipliers:
            value = m * 10**exponent
            if low * 0.999 <= value <= high * 1.001:
                out.append(value)
    return out


def short(value: float, unit: str = "") -> str:
    """1500 → 1.5k, 2e6 → 2M; keeps small numbers readable."""
    for suffix, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            text = f"{value / size:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}{unit}"
    if abs(value) >= 10 or value == int(value):
        return f"{value:.0f}{unit}"
    return f"{value:.1f}{unit}" if abs(value) >= 1 else f"{value:.2g}{unit}"


def _open(frame: Frame, title: str, label: str) -> list[str]:
    return [
        f"<svg class='chart' viewBox='0 0 {frame.width} {frame.height}' width='100%' role='img' "
        f"preserveAspectRatio='xMidYMid meet' {FONT} font-size='11'>",
        f"<title>{escape(label or title)}</title>",
        f"<text x='4' y='14' font-size='12' font-weight='600' fill='#222'>{escape(title)}</text>",
    ]


def _close(out: list[str]) -> str:
    """The chart opened by `_open` with the elements of `out`, as one SVG document."""
    return "\n".join([*out, "</svg>"])


def _text(
    x: float, y: float, text: str, *, anchor: str = "middle", size: int = 10, fill: str = "#555", weight: str = "normal"
) -> str:
    return (
        f"<text x='{x:.1f}' y='{y:.1f}' text-anchor='{anchor}' font-size='{size}' fill='{fill}' "
        f"font-weight='{weight}'>{escape(text)}</text>"
    )


def _x_axis(frame: Frame, scale: Scale, ticks: Sequence[float], unit: str, caption: str) -> list[str]:
    out = [f"<line x1='{frame.x0}' y1='{frame.y0}' x2='{frame.x1}' y2='{frame.y0}' stroke='#999'/>"]
    for t in ticks:
        x = scale(t)
        out.append(f"<line x1='{x:.1f}' y1='{frame.y1}' x2='{x:.1f}' y2='{frame.y0}' stroke='#eee'/>")
        out.append(_text(x, frame.y0 + 12, short(t, unit)))
    if caption:
        out.append(_text((frame.x0 + frame.x1) / 2, frame.height - 4, caption, size=10, fill="#333"))
    return out


def _y_axis(frame: Frame, scale: Scale, ticks: Sequence[float], unit: str) -> list[str]:
    out = [f"<line x1='{frame.x0}' y1='{frame.y1}' x2='{frame.x0}' y2='{frame.y0}' stroke='#999'/>"]
    for t in ticks:
        y = scale(t)
        out.append(f"<line x1='{frame.x0}' y1='{y:.1f}' x2='{frame.x1}' y2='{y:.1f}' stroke='#eee'/>")
        out.append(_text(frame.x0 - 4, y + 3, short(t, unit), anchor="end"))
    return out


def spread(positions: Sequence[float], gap: float) -> list[float]:
    """Label positions moved apart (keeping their order) so that neighbours are at least `gap` apart."""
    order = sorted(range(len(positions)), key=lambda i: positions[i])
    out = list(positions)
    for previous, current in itertools.pairwise(order):
        out[current] = max(out[current], out[previous] + gap)
    return out


@dataclass(frozen=True)
class Box:
    """One row of a latency box plot: quantiles 0..100 of a topology's latencies."""

    name: str
    quantiles: Sequence[float]  # 101 values, q0..q100


def latency_boxes(boxes: Sequence[Box], low: float, high: float, title: str = "latency (ms, log scale)") -> str:
    """Horizontal box plots on a log axis shared by every profile (`low`..`high` ms): whiskers p1..max, box
    p25..p75, a bar at p50, ticks at p95 and p99, p99 written at the right."""
    frame = Frame(width=560, height=max(130, 60 + 38 * len(boxes)), left=64, right=118)
    scale = Scale(low, high, frame.x0, frame.x1, log=True)
    out = _open(frame, title, "latency distribution per topology: p1, p25, p50, p75, p95, p99, max")
    out += _x_axis(frame, scale, log_ticks(low, high), "", "")
    row = (frame.y0 - frame.y1) / max(len(boxes), 1)
    for i, box in enumerate(boxes):
        q = box.quantiles
        y = frame.y1 + row * (i + 0.5)
        c = colour(box.name)
        x = {p: scale(q[p]) for p in (1, 25, 50, 75, 95, 99, 100)}
        out.append(_text(frame.x0 - 6, y + 4, box.name, anchor="end", size=11, fill="#222", weight="600"))
        out.append(f"<line x1='{x[1]:.1f}' y1='{y:.1f}' x2='{x[100]:.1f}' y2='{y:.1f}' stroke='{c}'/>")
        height = min(16, row * 0.5)
        out.append(
            f"<rect x='{x[25]:.1f}' y='{y - height / 2:.1f}' width='{max(x[75] - x[25], 1.5):.1f}' "
            f"height='{height:.1f}' fill='{c}' fill-opacity='0.25' stroke='{c}'/>"
        )
        out.append(
            f"<line x1='{x[50]:.1f}' y1='{y - height / 2 - 2:.1f}' x2='{x[50]:.1f}' "
            f"y2='{y + height / 2 + 2:.1f}' stroke='{c}' stroke-width='3'/>"
        )
        close = x[99] - x[95] < 14  # one label for both ticks when they nearly touch
        for p, mark in ((95, "95"), (99, "95 99" if close else "99")):
            out.append(
                f"<line x1='{x[p]:.1f}' y1='{y - height / 2:.1f}' x2='{x[p]:.1f}' y2='{y + height / 2:.1f}' "
                f"stroke='#222' stroke-width='1.5'/>"
            )
            if not (close and p == 95):
                out.append(
                    _text(x[p], y - height / 2 - 3, mark, size=8, fill="#222", anchor="end" if close else "middle")
                )
        out.append(_text(frame.x1 + 8, y - 2, f"p50 {short(q[50])} ms", anchor="start", size=10, fill="#333"))
        out.append(
            _text(frame.x1 + 8, y + 11, f"p99 {short(q[99])} ms", anchor="start", size=10, fill="#222", weight="600")
        )
    out.append(
        _text(
            (frame.x0 + frame.x1) / 2,
            frame.height - 4,
            "ms per request (log scale, same in every profile)",
            size=10,
            fill="#333",
        )
    )
    return _close(out)


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[float, float]]


def _end_labels(frame: Frame, sy: Scale, series: Sequence[Series], value: str) -> list[str]:
    """Each line's name and last value (formatted by `value`) right of the plot, moved apart to stay legible."""
    ends = [(sy(s.points[-1][1]), s) for s in series if s.points]
    return [
        _text(
            frame.x1 + 4,
            y + 4,
            f"{s.name} {value.format(s.points[-1][1])}",
            anchor="start",
            size=10,
            fill=colour(s.name),
            weight="600",
        )
        for y, (_, s) in zip(spread([y for y, _ in ends], 12), ends, strict=True)
    ]


def step_lines(series: Sequence[Series], title: str, x_caption: str, y_caption: str) -> str:
    """Cumulative step lines (e.g. environments started against requests completed), linear axes."""
    frame = Frame(width=560, height=230, left=40, right=80)
    xs = [p[0] for s in series for p in s.points] or [1]
    ys = [p[1] for s in series for p in s.points] or [1]
    sx = Scale(0, max(max(xs), 1), frame.x0, frame.x1)
    sy = Scale(0, max(max(ys), 1) * 1.1, frame.y0, frame.y1 + 14)
    out = _open(frame, title, f"{title}: {y_caption} against {x_caption}")
    out += _x_axis(frame, sx, nice_ticks(0, max(max(xs), 1)), "", x_caption)
    out += _y_axis(frame, sy, [t for t in nice_ticks(0, max(max(ys), 1), 4) if t == int(t)], "")
    for s in series:
        c = colour(s.name)
        path = []
        previous_y = 0.0
        for n, (x, y) in enumerate(s.points):
            if n:
                path.append(f"L{sx(x):.1f},{sy(previous_y):.1f}")
            path.append(f"{'M' if not n else 'L'}{sx(x):.1f},{sy(y):.1f}")
            previous_y = y
        out.append(f"<path d='{' '.join(path)}' fill='none' stroke='{c}' stroke-width='2'/>")
    out += _end_labels(frame, sy, series, "{:.0f}")
    return _close(out)


def bars(items: Sequence[Bar], title: str, caption: str = "") -> str:
    """Horizontal bars, one per topology, each labelled with its value."""
    frame = Frame(height=max(96, 40 + 24 * len(items)), left=64, right=20, bottom=16 if not caption else 28)
    top = max((b.value for b in items), default=1) or 1
    scale = Scale(0, top, frame.x0, frame.x1)
    out = _open(frame, title, f"{title} per topology")
    row = (frame.y0 - frame.y1) / max(len(items), 1)
    for i, item in enumerate(items):
        y = frame.y1 + row * i + row * 0.2
        height = row * 0.6
        out.append(_text(frame.x0 - 6, y + height / 2 + 4, item.name, anchor="end", size=11, fill="#222", weight="600"))
        width = max(scale(item.value) - frame.x0, 1.0)
        out.append(
            f"<rect x='{frame.x0}' y='{y:.1f}' width='{width:.1f}' height='{height:.1f}' fill='{colour(item.name)}'/>"
        )
        if width > (frame.x1 - frame.x0) * 0.6:
            out.append(
                _text(
                    frame.x0 + width - 4,
                    y + height / 2 + 4,
                    item.label,
                    anchor="end",
                    size=10,
                    fill="#fff",
                    weight="600",
                )
            )
        else:
            out.append(
                _text(frame.x0 + width + 4, y + height / 2 + 4, item.label, anchor="start", size=10, fill="#222")
            )
    if caption:
        out.append(_text((frame.x0 + frame.x1) / 2, frame.height - 6, caption, size=10, fill="#333"))
    return _close(out)


def cost_lines(series: Sequence[Series], marks: Sequence[Mark], chosen: float, title: str) -> str:
    """Cost per million requests against requests/month (both log scale), one line per topology: where lines
    cross, the cheaper topology changes (circles: break-evens); the dashed line is the profile's volume.
    `series` and `marks` are in $/month; they are divided by the volume here."""
    frame = Frame(width=560, height=270, left=56, right=92, bottom=34)
    unit = [Series(s.name, [(v, c / (v / 1e6)) for v, c in s.points if v > 0]) for s in series]
    xs = [p[0] for s in unit for p in s.points] or [1e6, 1e9]
    ys = [p[1] for s in unit for p in s.points if p[1] > 0] or [1.0, 10.0]
    sx = Scale(min(xs), max(xs), frame.x0, frame.x1, log=True)
    low_y, high_y = min(ys) / 1.08, max(ys) * 1.08
    sy = Scale(low_y, high_y, frame.y0, frame.y1 + 12, log=True)
    ticks = log_ticks(low_y, high_y)
    if len(ticks) < 3:
        ticks = nice_ticks(low_y, high_y, 4)
    out = _open(frame, title, f"{title}: cost per million requests per topology against monthly requests")
    out += _x_axis(frame, sx, log_ticks(min(xs), max(xs)), "", "requests / month (log scale)")
    out += _y_axis(frame, sy, [t for t in ticks if t > 0], "")
    out.append(
        _text(frame.x0 + 4, frame.y1 + 2, "$ per million requests (log scale)", anchor="start", size=10, fill="#333")
    )
    if min(xs) <= chosen <= max(xs):
        x = sx(chosen)
        out.append(
            f"<line x1='{x:.1f}' y1='{frame.y1 + 12}' x2='{x:.1f}' y2='{frame.y0}' stroke='#222' "
            "stroke-dasharray='4 3'/>"
        )
        out.append(_text(x + 3, frame.y0 - 4, f"{short(chosen)}/month", anchor="start", size=9, fill="#222"))
    for s in unit:
        path = " ".join(f"{'M' if not n else 'L'}{sx(x):.1f},{sy(y):.1f}" for n, (x, y) in enumerate(s.points))
        out.append(f"<path d='{path}' fill='none' stroke='{colour(s.name)}' stroke-width='2.2'/>")
    out += _end_labels(frame, sy, unit, "${:.2f}")
    for n, mark in enumerate(marks):
        x, y = sx(mark.x), sy(mark.y / (mark.x / 1e6))
        label_y = frame.y1 + 28 + 13 * n
        out.append(
            f"<line x1='{x:.1f}' y1='{label_y + 3:.1f}' x2='{x:.1f}' y2='{y:.1f}' stroke='#222' "
            "stroke-dasharray='1 2'/>"
        )
        out.append(f"<circle cx='{x:.1f}' cy='{y:.1f}' r='4.5' fill='#fff' stroke='#222' stroke-width='1.8'/>")
        left = x > (frame.x0 + frame.x1) / 2
        out.append(
            _text(
                x + (-4 if left else 4),
                label_y,
                mark.label,
                anchor="end" if left else "start",
                size=10,
                fill="#222",
                weight="600",
            )
        )
    return _close(out)
