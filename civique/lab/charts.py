"""Small server-rendered SVG charts (no script): horizontal bars and a line.

Each chart is an `<svg role="img">` with a `<title>` and a `<desc>` giving the values in words;
the page shows the same data as a table below it. Hidden values (None) are left out.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 640
BAR_HEIGHT = 22
LABEL_WIDTH = 200
PAD = 8


def _fmt(value: float) -> str:
    return f"{value:.1f}" if value != int(value) else f"{int(value)}"


def _describe(points: Sequence[tuple[str, float]]) -> str:
    return "; ".join(f"{label}: {_fmt(value)}" for label, value in points)


def _open(chart_id: str, title: str, height: int, points: Sequence[tuple[str, float]]) -> str:
    return (
        f'<svg class="chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d" '
        f'preserveAspectRatio="xMinYMin meet">'
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-d">{escape(_describe(points))}</desc>'
    )


def bar_chart(chart_id: str, title: str, data: Sequence[tuple[str, float | None]]) -> Markup:
    """Horizontal bars, one per label, scaled to the largest value."""
    points = [(label, float(v)) for label, v in data if v is not None]
    if not points:
        return Markup("")
    top = max(v for _, v in points) or 1.0
    height = PAD * 2 + BAR_HEIGHT * len(points)
    parts = [_open(chart_id, title, height, points)]
    room = WIDTH - LABEL_WIDTH - 70
    for i, (label, value) in enumerate(points):
        y = PAD + i * BAR_HEIGHT
        width = max(1.0, room * value / top)
        short = label if len(label) <= 28 else label[:27] + "…"
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end" class="chart-label">'
            f"{escape(short)}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{width:.1f}" height="{BAR_HEIGHT - 6}" '
            f'class="chart-bar"/>'
            f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 15}" class="chart-value">'
            f"{escape(_fmt(value))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label and value went through escape()


def line_chart(chart_id: str, title: str, data: Sequence[tuple[str, float | None]]) -> Markup:
    """A line through the values in order (e.g. weeks), with a dot and a label on each."""
    points = [(label, float(v)) for label, v in data if v is not None]
    if not points:
        return Markup("")
    height, left, bottom, room_top = 220, 40, 40, 24  # room above for the top value's label
    top = max(v for _, v in points) or 1.0
    step = (WIDTH - left - 40) / max(1, len(points) - 1)
    xy = [
        (left + i * step, room_top + (height - bottom - room_top) * (1 - value / top))
        for i, (_, value) in enumerate(points)
    ]
    parts = [_open(chart_id, title, height, points)]
    parts.append(
        f'<line x1="{left}" y1="{height - bottom}" x2="{WIDTH - 10}" y2="{height - bottom}" '
        f'class="chart-axis"/>'
    )
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    parts.append(f'<polyline points="{path}" class="chart-line" fill="none"/>')
    # A label every ~70 px at most under the axis (an ISO week label is about 60 px wide).
    every = max(1, -(-len(points) * 70 // int(WIDTH - left - 40)))
    for i, ((label, value), (x, y)) in enumerate(zip(points, xy, strict=True)):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" class="chart-dot"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle" class="chart-value">'
            f"{escape(_fmt(value))}</text>"
        )
        if i % every == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{height - bottom + 18}" text-anchor="middle" '
                f'class="chart-label">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label and value went through escape()


def _segments(label: str, values: Sequence[float], legend: Sequence[str]) -> str:
    parts = ", ".join(f"{name} {_fmt(v)}" for name, v in zip(legend, values, strict=True))
    return f"{label} ({parts})"


def stacked_bar_chart(
    chart_id: str,
    title: str,
    data: Sequence[tuple[str, Sequence[float]]],
    legend: Sequence[str],
) -> Markup:
    """Horizontal bars split into segments (one per legend entry, told apart by shade and a
    legend), scaled to the largest total; each bar's total is written after it."""
    if not data or not any(sum(values) for _, values in data):
        return Markup("")
    top = max(sum(values) for _, values in data) or 1.0
    legend_height = BAR_HEIGHT
    height = PAD * 2 + BAR_HEIGHT * len(data) + legend_height
    words = [(_segments(label, values, legend), sum(values)) for label, values in data]
    parts = [_open(chart_id, title, height, words)]
    room = WIDTH - LABEL_WIDTH - 70
    for i, (label, values) in enumerate(data):
        y = PAD + i * BAR_HEIGHT
        short = label if len(label) <= 28 else label[:27] + "…"
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end" class="chart-label">'
            f"{escape(short)}</text>"
        )
        x = float(LABEL_WIDTH)
        for k, value in enumerate(values):
            width = room * value / top
            if width > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{width:.1f}" '
                    f'height="{BAR_HEIGHT - 6}" class="chart-seg chart-seg-{k % 3}"/>'
                )
            x += width
        parts.append(
            f'<text x="{x + 6:.1f}" y="{y + 15}" class="chart-value">'
            f"{escape(_fmt(sum(values)))}</text>"
        )
    y = PAD + len(data) * BAR_HEIGHT + 4
    x = float(LABEL_WIDTH)
    for k, name in enumerate(legend):
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="12" height="12" '
            f'class="chart-seg chart-seg-{k % 3}"/>'
            f'<text x="{x + 16:.1f}" y="{y + 11}" class="chart-label">{escape(name)}</text>'
        )
        x += 16 + 8 * len(name) + 14
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label and value went through escape()
