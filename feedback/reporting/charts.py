"""Charts as inline SVG, drawn on the server: no charting library, no script, no CDN.

The pages send a few kilobytes of SVG that work under the Content-Security-Policy (scripts only
from 'self'), print, and follow the admin's light/dark theme through CSS classes
(static/cxcrm/dashboard.css). Every number drawn here was computed by feedback.reporting.metrics;
this
module only places it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext


@dataclass(frozen=True)
class Point:
    """One x position. `value` None leaves a gap (nothing measured); `weak` draws it hollow
    with dashed segments (too few answers to trust)."""

    label: str
    value: float | None
    weak: bool = False
    title: str = ""


def _fmt(number: float) -> str:
    return f"{number:.1f}".rstrip("0").rstrip(".")


# The charts scale with their card (width: 100%), and their text scales too. The viewBox is
# about as wide as a card on a laptop (three cards at 1366 px, ~390 px each) and the axis text
# is set in viewBox units (dashboard.css: 14), so labels stay at 11 px or more on screen from a
# phone's single column to a wide desktop.
CHART_WIDTH = 400
CHART_HEIGHT = 170


def _label_every(count: int, room: int) -> int:
    """Show one x label in this many so that at most `room` labels fit."""
    return max(1, math.ceil(count / max(room, 1)))


def line_chart(
    points: Sequence[Point],
    *,
    y_min: float,
    y_max: float,
    y_ticks: Sequence[float],
    label: str,
    reference: float | None = None,
    width: int = CHART_WIDTH,
    height: int = CHART_HEIGHT,
    y_suffix: str = "",
) -> SafeString:
    """A line over evenly spaced buckets, with a y axis (grid lines at `y_ticks`), thinned x
    labels, an optional reference line (NPS 0) and a tooltip (<title>) on every point."""
    left, right, top, bottom = 44, 14, 10, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    span = (y_max - y_min) or 1.0
    step = plot_w / max(len(points) - 1, 1)

    def x_of(i: int) -> float:
        return left + (i * step if len(points) > 1 else plot_w / 2)

    def y_of(v: float) -> float:
        clamped = min(max(v, y_min), y_max)
        return top + plot_h * (1 - (clamped - y_min) / span)

    parts: list[str] = [
        # direction="ltr": time runs left to right on the axes of an rtl (Arabic) page too.
        f'<svg class="cx-chart" viewBox="0 0 {width} {height}" direction="ltr" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
    ]
    for tick in y_ticks:
        y = y_of(tick)
        parts.append(
            f'<line class="cx-grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="cx-axis" x="{left - 6}" y="{y + 5:.1f}" text-anchor="end">'
            f"{escape(_fmt(tick) + y_suffix)}</text>"
        )
    if reference is not None:
        y = y_of(reference)
        parts.append(
            f'<line class="cx-reference" x1="{left}" x2="{width - right}" '
            f'y1="{y:.1f}" y2="{y:.1f}"/>'
        )
    parts.append(
        f'<line class="cx-axis-line" x1="{left}" x2="{width - right}" '
        f'y1="{top + plot_h}" y2="{top + plot_h}"/>'
    )
    # A label such as "28 Dec" is ~45 units wide at the axis font size.
    every = _label_every(len(points), plot_w // 70)
    for i, point in enumerate(points):
        if i % every == 0:
            parts.append(
                f'<text class="cx-axis" x="{x_of(i):.1f}" y="{height - 6}" '
                f'text-anchor="middle">{escape(point.label)}</text>'
            )
    # Segments one by one: a segment is solid only when both of its ends can be trusted.
    previous: tuple[int, Point] | None = None
    for i, point in enumerate(points):
        if point.value is None:
            previous = None
            continue
        if previous is not None:
            j, before = previous
            assert before.value is not None
            css = "cx-line-weak" if (before.weak or point.weak) else "cx-line"
            parts.append(
                f'<line class="{css}" x1="{x_of(j):.1f}" y1="{y_of(before.value):.1f}" '
                f'x2="{x_of(i):.1f}" y2="{y_of(point.value):.1f}"/>'
            )
        previous = (i, point)
    for i, point in enumerate(points):
        if point.value is None:
            continue
        css = "cx-dot-weak" if point.weak else "cx-dot"
        title = escape(point.title or f"{point.label}: {_fmt(point.value)}")
        parts.append(
            f'<circle class="{css}" cx="{x_of(i):.1f}" cy="{y_of(point.value):.1f}" r="3.5">'
            f"<title>{title}</title></circle>"
        )
    if not any(p.value is not None for p in points):
        parts.append(
            f'<text class="cx-empty" x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" '
            f'text-anchor="middle">{escape(gettext("No answers in this period"))}</text>'
        )
    parts.append("</svg>")
    # Safe: every interpolated text above went through escape().
    return mark_safe("".join(parts))


def sparkline(
    points: Sequence[Point],
    *,
    y_min: float,
    y_max: float,
    label: str,
    width: int = 132,
    height: int = 30,
) -> SafeString:
    """A small line without axes, for cards: the shape of the trend, hollow where weak."""
    pad = 3
    span = (y_max - y_min) or 1.0
    step = (width - 2 * pad) / max(len(points) - 1, 1)
    coords = [
        (
            i,
            pad + i * step,
            pad + (height - 2 * pad) * (1 - (min(max(p.value, y_min), y_max) - y_min) / span),
            p,
        )
        for i, p in enumerate(points)
        if p.value is not None
    ]
    parts = [
        f'<svg class="cx-spark" viewBox="0 0 {width} {height}" direction="ltr" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(label)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
        f'<line class="cx-grid" x1="0" x2="{width}" y1="{height / 2}" y2="{height / 2}"/>',
    ]
    # Segment by segment, like line_chart: dashed where an end has too few answers, and no
    # segment across an empty period (a line there would invent the missing value).
    for (i, x1, y1, a), (j, x2, y2, b) in itertools.pairwise(coords):
        if j != i + 1:
            continue
        css = "cx-line-weak" if (a.weak or b.weak) else "cx-spark-line"
        parts.append(
            f'<line class="{css}" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"/>'
        )
    for _i, x, y, point in coords:
        css = "cx-dot-weak" if point.weak else "cx-dot"
        title = escape(point.title or point.label)
        parts.append(
            f'<circle class="{css}" cx="{x:.1f}" cy="{y:.1f}" r="2"><title>{title}</title></circle>'
        )
    parts.append("</svg>")
    # Safe: every interpolated text above went through escape().
    return mark_safe("".join(parts))
