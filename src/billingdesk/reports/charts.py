"""Server-rendered SVG bar charts: no script, printable, and always beside the table that
holds the same figures (the chart is ``aria-hidden``-free but labelled, the table is the
accessible version). Labels and amounts come in already written for the reader's locale."""

from __future__ import annotations

from collections.abc import Sequence

from billingdesk.core.html import SafeString, html, join

WIDTH, HEIGHT, PAD = 640, 180, 24


def bar_chart(
    *, title: str, labels: Sequence[str], values: Sequence[int], shown: Sequence[str]
) -> SafeString:
    """Bars for ``values`` (negative ones below the axis), each titled with its label and its
    amount as shown to the reader (``shown``)."""
    if not values:
        return SafeString("")
    top, bottom = max(max(values), 0), min(min(values), 0)
    span = (top - bottom) or 1
    usable = HEIGHT - 2 * PAD
    axis = PAD + usable * top // span
    step = (WIDTH - 2 * PAD) / len(values)
    bars = []
    for i, (label, value, text) in enumerate(zip(labels, values, shown, strict=True)):
        size = abs(value) * usable // span
        y = axis - size if value >= 0 else axis
        x = PAD + int(i * step) + 1
        bars.append(
            html(
                '<rect x="{}" y="{}" width="{}" height="{}" class="{}">'
                "<title>{}: {}</title></rect>",
                x,
                y,
                max(int(step) - 2, 1),
                max(size, 1),
                "bar" if value >= 0 else "bar negative",
                label,
                text,
            )
        )
    return html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'xmlns="http://www.w3.org/2000/svg"><title>{}</title>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" class="axis"/>{}</svg>',
        WIDTH,
        HEIGHT,
        title,
        title,
        PAD,
        axis,
        WIDTH - PAD,
        axis,
        join(bars),
    )
