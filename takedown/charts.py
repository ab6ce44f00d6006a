"""Server-side SVG charts for the dashboard: no JavaScript library, nothing from a CDN.

Pure functions from numbers to SVG markup; every label is escaped. Every chart uses the same
text sizes (TEXT, TITLE) and is drawn at its own pixel size: it shrinks only when its box is
narrower, so its text stays readable (12 px at 1366 px and wider).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#417690", "#e07b39", "#5b9a68", "#b85450", "#8e6fb5")
TEXT = 12  # px: axis labels, legends, values
TITLE = 14  # px: the chart's title
FONT = 'font-family="inherit"'


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000):
        if value <= step * 4:
            return float(step * 4)
    return float(value * 1.1)


def weekly_bars(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    width: int = 640,
    height: int = 220,
) -> str:
    """Grouped bars per week, one colour per series, with a legend and a y axis."""
    left, bottom, top, right = 40, 34, 28, 10
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_max(max((v for values in series.values() for v in values), default=0))
    n = max(len(labels), 1)
    group_w = plot_w / n
    bar_w = max(group_w / (len(series) + 1), 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" {FONT} '
        'style="max-width:100%;height:auto">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="16" font-size="{TITLE}" font-weight="bold">{escape(title)}</text>',
    ]
    for i in range(5):
        value = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="{TEXT}" text-anchor="end">{value:g}</text>'
        )
    for s, (name, values) in enumerate(series.items()):
        colour = PALETTE[s % len(PALETTE)]
        for i, value in enumerate(values):
            h = plot_h * value / top_value
            x = left + i * group_w + bar_w * (s + 0.5)
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(name)} {escape(labels[i])}: {value:g}</title></rect>'
            )
        lx = left + 230 + s * 130
        parts.append(f'<rect x="{lx}" y="6" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 14}" y="15" font-size="{TEXT}">{escape(name)}</text>')
    step = max(1, n // 8)
    for i, label in enumerate(labels):
        if i % step == 0:
            x = left + i * group_w + group_w / 2
            parts.append(
                f'<text x="{x:.1f}" y="{height - bottom + 14}" font-size="{TEXT}" text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def horizontal_bars(
    rows: Sequence[tuple[str, float | None, str]],
    *,
    title: str,
    maximum: float | None = None,
    width: int = 640,
) -> str:
    """One bar per row: (label, value or None, text shown after the bar)."""
    row_h, left, top = 22, 170, 26
    height = top + row_h * max(len(rows), 1) + 8
    top_value = maximum or _nice_max(max((v or 0 for _, v, _ in rows), default=0))
    plot_w = width - left - 90
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" {FONT} '
        'style="max-width:100%;height:auto">',
        f"<title>{escape(title)}</title>",
        f'<text x="4" y="16" font-size="{TITLE}" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, value, text) in enumerate(rows):
        y = top + i * row_h
        w = plot_w * (value or 0) / top_value if top_value else 0
        parts.append(
            f'<text x="{left - 6}" y="{y + 14}" font-size="{TEXT}" text-anchor="end">{escape(label[:28])}</text>'
        )
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{plot_w}" height="14" fill="#f2f2f2"/>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="14" fill="{PALETTE[0]}"/>')
        parts.append(f'<text x="{left + plot_w + 6}" y="{y + 14}" font-size="{TEXT}">{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
