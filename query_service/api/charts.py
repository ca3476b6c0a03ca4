"""Line charts as server-rendered SVG for the status page: a pure function from series to markup.

No JavaScript library and nothing new in the browser: the page swaps the markup in. Every label is escaped, and the
only data a chart carries are numbers, times and its series' names.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from html import escape

WIDTH, HEIGHT = 640, 250
LEFT, RIGHT, TOP, BOTTOM = 64, 628, 34, 186  # the plot area, in the viewBox's units
Y_INTERVALS = 4  # grid lines above the zero line
NICE_STEPS = (1, 2, 4, 6, 8, 10)  # a y range is one of these times a power of ten (each splits into 4 round ticks)
TIME_STEPS = (60, 120, 300, 600, 900, 1800, 3600)  # seconds between time ticks: the first giving at most 6 ticks
MAX_TIME_TICKS = 6
PALETTE = (("#1f6feb", ""), ("#d9480f", "6 3"), ("#2b8a3e", "2 3"), ("#7048e8", "8 3 2 3"))  # colour, dashes
LEGEND_SPACING = 185  # three entries fit under the plot

Point = tuple[float, float]  # (seconds since the epoch, value)


def number_label(value: float) -> str:
    """A value as an axis or legend shows it: three significant digits, thousands grouped."""
    if abs(value) >= 999.5:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def nice_ceiling(value: float) -> float:
    """The smallest round number at least `value` (1, 2, 4, 6 or 8 times a power of ten); 1 for nothing to show."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    return next(step * magnitude for step in NICE_STEPS if value <= step * magnitude * (1 + 1e-9))


def _time_label(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%H:%M")


def _segments(points: Sequence[Point], max_gap: float) -> list[list[Point]]:
    """The points split where more than `max_gap` seconds pass without one (a line never bridges missing data)."""
    segments: list[list[Point]] = []
    for point in points:
        if segments and point[0] - segments[-1][-1][0] <= max_gap:
            segments[-1].append(point)
        else:
            segments.append([point])
    return segments


def _series(label: str, points: list[Point], colour: str, dash: str, max_gap: float, x: Callable, y: Callable) -> str:
    """One series' lines (a dot for a lone point) and a dot on its latest point."""
    last_at, last_value = points[-1]
    parts = [f'<g class="series" data-series="{label}" data-points="{len(points)}" '
             f'data-last-at="{datetime.fromtimestamp(last_at, UTC).isoformat()}" '
             f'data-last-value="{last_value:g}" stroke="{colour}" fill="{colour}">']  # fmt: skip
    for segment in _segments(points, max_gap):
        if len(segment) == 1:
            parts.append(f'<circle cx="{x(segment[0][0]):.1f}" cy="{y(segment[0][1]):.1f}" r="2"/>')
            continue
        coordinates = " ".join(f"{x(at):.1f},{y(value):.1f}" for at, value in segment)
        parts.append(f'<polyline points="{coordinates}" fill="none" stroke-width="2"{dash}/>')
    parts.append(f'<circle cx="{x(last_at):.1f}" cy="{y(last_value):.1f}" r="3"/></g>')
    return "".join(parts)


def _frame(title: str, unit: str, empty: bool) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(title)} ({escape(unit)})" class="chart" data-empty="{str(empty).lower()}">',
        f"<title>{escape(title)} ({escape(unit)})</title>",
        f'<text x="{LEFT}" y="18" font-size="14" font-weight="600">{escape(title)}</text>',
        f'<rect x="{LEFT}" y="{TOP}" width="{RIGHT - LEFT}" height="{BOTTOM - TOP}" fill="none" stroke="#ccc"/>',
    ]


def line_chart_svg(
    *, title: str, unit: str, series: Mapping[str, Sequence[Point]], start: float, end: float, max_gap: float
) -> str:
    """One chart: a line per series over [start, end] (seconds since the epoch), a y axis from 0 in `unit`.

    Points outside the window are left out, and a line breaks where its points are more than `max_gap` seconds
    apart. Each series is a `<g class="series">` whose `data-series`, `data-points`, `data-last-at` and
    `data-last-value` say what it shows. Without a single point the chart says "no data yet" instead.
    """
    shown = {name: sorted(p for p in points if start <= p[0] <= end) for name, points in series.items()}
    shown = {name: points for name, points in shown.items() if points}
    parts = _frame(title, unit, empty=not shown)
    if not shown:
        middle = (TOP + BOTTOM) // 2
        parts.append(f'<text x="{(LEFT + RIGHT) // 2}" y="{middle}" text-anchor="middle" fill="#777" '
                     f'class="empty">no data yet</text></svg>')  # fmt: skip
        return "".join(parts)
    top = nice_ceiling(max(value for points in shown.values() for _, value in points))
    span = max(end - start, 1e-9)

    def x(at: float) -> float:
        return LEFT + (at - start) / span * (RIGHT - LEFT)

    def y(value: float) -> float:
        return BOTTOM - max(0.0, value) / top * (BOTTOM - TOP)

    for tick in range(Y_INTERVALS + 1):
        value = top * tick / Y_INTERVALS
        parts.append(f'<line x1="{LEFT}" x2="{RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#eee"/>'
                     f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" font-size="11" text-anchor="end" '
                     f'class="y-tick">{number_label(value)}</text>')  # fmt: skip
    step = next((s for s in TIME_STEPS if span / s <= MAX_TIME_TICKS), TIME_STEPS[-1])
    for at in range(math.ceil(start / step) * step, math.floor(end) + 1, step):
        parts.append(f'<line x1="{x(at):.1f}" x2="{x(at):.1f}" y1="{BOTTOM}" y2="{BOTTOM + 4}" stroke="#999"/>'
                     f'<text x="{x(at):.1f}" y="{BOTTOM + 16}" font-size="11" text-anchor="middle" '
                     f'class="x-tick">{_time_label(at)}</text>')  # fmt: skip
    parts.append(f'<text x="{(LEFT + RIGHT) // 2}" y="{BOTTOM + 32}" font-size="11" text-anchor="middle" '
                 f'class="x-axis">time (UTC)</text>'
                 f'<text x="14" y="{(TOP + BOTTOM) // 2}" font-size="11" text-anchor="middle" class="y-axis" '
                 f'transform="rotate(-90 14 {(TOP + BOTTOM) // 2})">{escape(unit)}</text>')  # fmt: skip
    for index, name in enumerate(series):  # colours, dashes and legend places follow the order given
        colour, dashes = PALETTE[index % len(PALETTE)]
        dash = f' stroke-dasharray="{dashes}"' if dashes else ""
        label, points = escape(name), shown.get(name, [])
        latest = f"{number_label(points[-1][1])} {escape(unit)}" if points else "no data"
        legend_x = LEFT + index * LEGEND_SPACING
        parts.append(f'<g class="legend"><line x1="{legend_x}" x2="{legend_x + 18}" y1="{HEIGHT - 14}" '
                     f'y2="{HEIGHT - 14}" stroke="{colour}" stroke-width="2"{dash}/><text x="{legend_x + 24}" '
                     f'y="{HEIGHT - 10}" font-size="12">{label}: {latest}</text></g>')  # fmt: skip
        if points:
            parts.append(_series(label, points, colour, dash, max_gap, x, y))
    parts.append("</svg>")
    return "".join(parts)
