"""Small charts drawn on the server as SVG: no script, styled by the site's CSS classes (the CSP forbids
inline styles), readable without colour (each line has a <title> and the page prints the numbers too)."""
from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 480, 220, 40, 28, 12


def line_chart(labels: Sequence[str], lines: Sequence[tuple[str, Sequence[int], str]], title: str) -> Markup:
    """An SVG line chart: `labels` under the x axis (first, middle, last shown), `lines` as
    (name, values, css class). Values are whole numbers; the y axis runs from 0 to the largest."""
    count = max(len(labels), 1)
    top = max([max(values, default=0) for _name, values, _css in lines] + [1])
    plot_w, plot_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_BOTTOM - PAD_TOP

    def x(i: int) -> float:
        return PAD_LEFT + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y(value: int) -> float:
        return PAD_TOP + plot_h - plot_h * value / top

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for fraction in (0, 0.5, 1):
        level = y(round(top * fraction))
        parts.append(f'<line class="chart-grid" x1="{PAD_LEFT}" x2="{WIDTH - 8}" y1="{level:.1f}" y2="{level:.1f}"/>')
        parts.append(f'<text class="chart-axis" x="{PAD_LEFT - 6}" y="{level + 4:.1f}" text-anchor="end">'
                     f'{round(top * fraction)}</text>')
    for i in sorted({0, (count - 1) // 2, count - 1}):
        if i < len(labels):
            anchor = "start" if i == 0 else ("end" if i == count - 1 else "middle")
            parts.append(f'<text class="chart-axis" x="{x(i):.1f}" y="{HEIGHT - 6}" text-anchor="{anchor}">'
                         f'{escape(labels[i])}</text>')
    for name, values, css in lines:
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline class="chart-line {escape(css)}" points="{points}"><title>{escape(name)}</title>'
                     f'</polyline>')
    parts.append("</svg>")
    return Markup("".join(parts))  # nosec B704 # -- every value put in above went through escape()
