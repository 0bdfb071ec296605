"""Charts drawn on the server as inline SVG: nothing to load, works offline and prints.

Each chart comes with its table on the page; the SVG carries a <title> and role="img"
so screen readers get the gist, and every mark has its own <title> tooltip.
"""

from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import mark_safe

from .amounts import format_percent, format_wan, to_wan

PALETTE = ["#0b5cad", "#b40000", "#2e7d32", "#8e24aa", "#ef6c00"]
# 20 units: the charts are drawn 700–900 units wide and shown side by side about 470 px
# wide at 1366 px, so labels stay about 12 px on screen (12 units gave ~7–9 px).
FONT_SIZE = 20
FONT = f'font-family="sans-serif" font-size="{FONT_SIZE}"'


def _text_units(text: str) -> float:
    """Width of *text* in font units: CJK characters are square, others about half."""
    return sum(FONT_SIZE if ord(ch) > 0x2E7F else FONT_SIZE * 0.6 for ch in text)


def nice_ticks(minimum: float, maximum: float, most: int = 6) -> list[float]:
    """Round axis values (1, 2, 2.5 or 5 × 10^k apart) covering minimum..maximum."""
    import math

    span = (maximum - minimum) or 1.0
    raw = span / (most - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(minimum / step) * step
    ticks, value = [], first
    while value < maximum + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _svg(width, height, title, body) -> str:
    return mark_safe(
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def rate_chart(rows, time_progress: Decimal, title: str, url_for=None) -> str:
    """Horizontal bars of 执行率 per row, with the 序时进度 line across them."""
    rows = [r for r in rows if r.execution_rate is not None]
    if not rows:
        return ""
    labels = [f"{row.code} {row.name}" for row in rows]
    label_width = int(min(440, max(160, max(_text_units(t) for t in labels) + 12)))
    bar_width, row_height, top = 400, 36, 40
    maximum = max([Decimal(100), time_progress, *[r.execution_rate for r in rows]])
    scale = bar_width / float(maximum)
    height = top + row_height * len(rows) + 30
    parts = []
    for i, row in enumerate(rows):
        y = top + i * row_height
        rate = row.execution_rate
        width = max(0.0, float(rate) * scale)
        colour = "#b40000" if rate < time_progress else "#2e7d32"
        label = escape(labels[i])
        tip = escape(
            f"{row.code} {row.name}：执行率 {format_percent(rate)}，"
            f"序时进度 {format_percent(time_progress)}"
        )
        bar = (
            f'<rect x="{label_width}" y="{y + 4}" width="{width:.1f}" height="{row_height - 8}" '
            f'fill="{colour}"><title>{tip}</title></rect>'
        )
        if url_for and getattr(row, "has_children", False):
            bar = f'<a href="{escape(url_for(row))}">{bar}</a>'
        parts.append(
            f'<text x="{label_width - 6}" y="{y + row_height / 2 + 4}" text-anchor="end" {FONT}>'
            f"{label}</text>{bar}"
            f'<text x="{label_width + width + 4:.1f}" y="{y + row_height / 2 + 4}" {FONT}>'
            f"{escape(format_percent(rate))}</text>"
        )
    x = label_width + float(time_progress) * scale
    parts.append(
        f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 24}" stroke="#1f2328" '
        f'stroke-dasharray="4 3"/><text x="{x:.1f}" y="{top - 10}" text-anchor="middle" {FONT}>'
        f"序时进度 {escape(format_percent(time_progress))}</text>"
    )
    parts.append(
        f'<text x="{label_width}" y="{height - 6}" {FONT} fill="#59636e">'
        "红色：执行率低于序时进度；绿色：不低于序时进度</text>"
    )
    return _svg(label_width + bar_width + 110, height, title, "".join(parts))


def line_chart(series, title: str, unit: str = "万元") -> str:
    """Monthly cumulative lines: series = [(label, [(month, 元 or None)])]."""
    series = [(label, [(m, v) for m, v in points if v is not None]) for label, points in series]
    series = [(label, points) for label, points in series if points]
    if not series:
        return ""
    width, height, right, top, bottom = 720, 320, 20, 20, 50
    values = [to_wan(v) for _l, points in series for _m, v in points]
    maximum = float(max(max(values), Decimal(1)))
    minimum = float(min(min(values), Decimal(0)))
    ticks = nice_ticks(minimum, maximum)
    # room for the widest tick label (“125,000”), never less than 80 units
    left = int(max(80, max(_text_units(f"{t:,.0f}") for t in ticks) + 12))
    minimum, maximum = min(ticks[0], minimum), max(ticks[-1], maximum)
    span = maximum - minimum or 1.0
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(month):
        return left + (month - 1) * plot_w / 11

    def y(value):
        return top + plot_h - (float(value) - minimum) * plot_h / span

    parts = []
    for value in ticks:
        yy = y(value)
        parts.append(
            f'<line x1="{left}" y1="{yy:.1f}" x2="{width - right}" y2="{yy:.1f}" stroke="#d8dee4"/>'
            f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" {FONT}>{value:,.0f}</text>'
        )
    for month in range(1, 13):
        parts.append(
            f'<text x="{x(month):.1f}" y="{top + plot_h + 18}" text-anchor="middle" {FONT}>'
            f"{month}月</text>"
        )
    legend_x = left
    for index, (label, points) in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        path = " ".join(f"{x(m):.1f},{y(to_wan(v)):.1f}" for m, v in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for m, v in points:
            parts.append(
                f'<circle cx="{x(m):.1f}" cy="{y(to_wan(v)):.1f}" r="3" fill="{colour}">'
                f"<title>{escape(label)} {m}月：{escape(format_wan(v))} {unit}</title></circle>"
            )
        parts.append(
            f'<rect x="{legend_x}" y="{height - 16}" width="12" height="4" fill="{colour}"/>'
            f'<text x="{legend_x + 16}" y="{height - 10}" {FONT}>{escape(label)}</text>'
        )
        legend_x += int(16 + _text_units(label) + 24)  # each entry as wide as its label
    parts.append(f'<text x="4" y="{top + 4}" {FONT} fill="#59636e">{unit}</text>')
    return _svg(width, height, title, "".join(parts))


def _squarify(items, x, y, w, h):
    """Lay out (weight, payload) items, largest first, in rows of near-square cells."""
    laid = []
    items = [i for i in items if i[0] > 0]
    total = sum(weight for weight, _ in items)
    if not items or w <= 0 or h <= 0:
        return laid
    scale = w * h / total
    areas = [(weight * scale, payload) for weight, payload in items]

    def worst(row, side):
        s = sum(a for a, _ in row)
        return max(max(side * side * a / (s * s), (s * s) / (side * side * a)) for a, _ in row)

    while areas:
        side = min(w, h)
        row = [areas.pop(0)]
        while areas and worst(row + [areas[0]], side) <= worst(row, side):
            row.append(areas.pop(0))
        s = sum(a for a, _ in row)
        if w >= h:
            col_w = s / h
            yy = y
            for area, payload in row:
                cell_h = area / col_w
                laid.append((x, yy, col_w, cell_h, payload))
                yy += cell_h
            x, w = x + col_w, w - col_w
        else:
            row_h = s / w
            xx = x
            for area, payload in row:
                cell_w = area / row_h
                laid.append((xx, y, cell_w, row_h, payload))
                xx += cell_w
            y, h = y + row_h, h - row_h
    return laid


def treemap(rows, title: str, url_for=None) -> str:
    """Area = 调整预算数; colour = 进度差 (red behind time, green ahead). Cells drill down."""
    items = [
        (float(r.adjusted), r)
        for r in sorted(rows, key=lambda r: r.adjusted or 0, reverse=True)
        if r.adjusted and r.adjusted > 0
    ]
    if not items:
        return ""
    width, height = 720, 360
    parts = []
    for x, y, w, h, row in _squarify(items, 0, 0, width, height):
        gap = row.progress_gap
        if gap is None:
            colour = "#9aa5b1"
        elif gap < -10:
            colour = "#b40000"
        elif gap < 0:
            colour = "#e57373"
        elif gap < 10:
            colour = "#81c784"
        else:
            colour = "#2e7d32"
        gap_text = "" if gap is None else f"{gap:+.2f} 个百分点"
        tip = escape(
            f"{row.code} {row.name}：调整预算 {format_wan(row.adjusted)} 万元，"
            f"执行率 {format_percent(row.execution_rate)}，进度差 {gap_text}"
        )
        rect = (
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{colour}" '
            f'stroke="#fff" stroke-width="2"><title>{tip}</title></rect>'
        )
        if w > 60 and h > 36:
            # the name on as many lines as the cell holds (then “…”), the rate below it
            per_line = max(1, int((w - 12) / FONT_SIZE))
            room = max(1, int((h - 12) / (FONT_SIZE + 4)) - 1)
            lines = [row.name[i : i + per_line] for i in range(0, len(row.name), per_line)]
            if len(lines) > room:
                lines = lines[:room]
                lines[-1] = lines[-1][: max(1, per_line - 1)] + "…"
            text_y = y + FONT_SIZE + 4
            for line in [*lines, format_percent(row.execution_rate)]:
                rect += (
                    f'<text x="{x + 6:.1f}" y="{text_y:.1f}" {FONT} fill="#fff">'
                    f"{escape(line)}</text>"
                )
                text_y += FONT_SIZE + 4
        if url_for and getattr(row, "has_children", False):
            rect = f'<a href="{escape(url_for(row))}">{rect}</a>'
        parts.append(rect)
    return _svg(width, height, title, "".join(parts))
