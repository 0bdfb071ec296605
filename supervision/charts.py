"""Debt charts, drawn on the server as inline SVG like budget/'s (no scripts, no CDN)."""

from decimal import Decimal

from django.utils.html import escape

from budget.amounts import format_wan, to_wan
from budget.charts import FONT, PALETTE, _svg


def bar_chart(groups, series_labels, title: str, unit: str = "万元") -> str:
    """Grouped vertical bars: groups = [(label, [元 or None per series])]."""
    values = [to_wan(v) for _label, vs in groups for v in vs if v is not None]
    if not values:
        return ""
    width, height, left, right, top, bottom = 720, 320, 90, 20, 20, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    maximum = float(max(max(values), Decimal(1)))
    slot = plot_w / len(groups)
    bar_w = max(2.0, min(28.0, slot * 0.8 / len(series_labels)))

    def y(value):
        return top + plot_h - float(value) * plot_h / maximum

    parts = []
    for step in range(5):
        value = maximum * step / 4
        yy = y(value)
        parts.append(
            f'<line x1="{left}" y1="{yy:.1f}" x2="{width - right}" y2="{yy:.1f}" stroke="#d8dee4"/>'
            f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" {FONT}>{value:,.0f}</text>'
        )
    for g, (label, vs) in enumerate(groups):
        x0 = left + g * slot + (slot - bar_w * len(vs)) / 2
        for s, value in enumerate(vs):
            if value is None:
                continue
            top_y = y(to_wan(value))
            tip = escape(f"{label} {series_labels[s]}：{format_wan(value)} {unit}")
            parts.append(
                f'<rect x="{x0 + s * bar_w:.1f}" y="{top_y:.1f}" width="{bar_w - 1:.1f}" '
                f'height="{top + plot_h - top_y:.1f}" fill="{PALETTE[s % len(PALETTE)]}">'
                f"<title>{tip}</title></rect>"
            )
        parts.append(
            f'<text x="{left + g * slot + slot / 2:.1f}" y="{top + plot_h + 18}" '
            f'text-anchor="middle" {FONT}>{escape(str(label))}</text>'
        )
    for s, series in enumerate(series_labels):
        x = left + s * 150
        parts.append(
            f'<rect x="{x}" y="{height - 18}" width="12" height="10" '
            f'fill="{PALETTE[s % len(PALETTE)]}"/>'
            f'<text x="{x + 16}" y="{height - 9}" {FONT}>{escape(series)}</text>'
        )
    parts.append(f'<text x="4" y="{top + 4}" {FONT} fill="#59636e">{unit}</text>')
    return _svg(width, height, title, "".join(parts))
