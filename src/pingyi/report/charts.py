"""Vector charts as inline SVG text (pure functions of the context's chart data).

The SVG root carries the CJK font family itself: weasyprint resolves SVG text fonts separately from
the HTML, and without it embeds fallback fonts. Every label is XML-escaped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from markupsafe import Markup, escape

FONT = "Noto Sans CJK SC, sans-serif"  # attribute form (weasyprint strips quotes per family)
FONT_CSS = "'Noto Sans CJK SC', sans-serif"
SERIES = "#1f5fa8"
PEER = "#e07b00"


def _f(x: float) -> str:
    return f"{x:.1f}"


def _wrap(label: str, width: int) -> list[str]:
    """Split a label into lines of about `width` characters: at spaces for Latin text (at most three
    lines), in two halves for CJK."""
    if len(label) <= width:
        return [label]
    if " " in label:
        lines, cur = [], ""
        for word in label.split():
            if cur and len(cur) + 1 + len(word) > width:
                lines.append(cur)
                cur = word
            else:
                cur = f"{cur} {word}".strip()
        lines.append(cur)
        if len(lines) > 3:
            lines = [*lines[:2], " ".join(lines[2:])]
        return lines
    half = math.ceil(len(label) / 2)
    return [label[:half], label[half:]]


def _text_width(text: str, size: float) -> float:
    """Rough advance width of a label: CJK one em, Latin about 0.56 em."""
    return sum(size if ord(ch) > 0x2E7F else size * 0.56 for ch in text)


def polygon_points(point, values, fmt) -> str:
    """SVG `points` of a radar series: axis i at value v (a missing value at the centre)."""
    return " ".join(f"{fmt(x)},{fmt(y)}" for x, y in (point(i, v or 0) for i, v in enumerate(values)))


def series_polygons(axes: list[Mapping], point, fmt, peer_style: str, series_style: str) -> list[str]:
    """The radar's two polygons: the peer average (dashed, when any) and the provider's own scores."""
    out = []
    peer = [a.get("peer") for a in axes]
    if any(v is not None for v in peer):
        out.append(f'<polygon points="{polygon_points(point, peer, fmt)}" fill="none" stroke="{PEER}" {peer_style}/>')
    vals = [a.get("value") for a in axes]
    out.append(
        f'<polygon points="{polygon_points(point, vals, fmt)}" fill="{SERIES}" stroke="{SERIES}" {series_style}/>'
    )
    return out


def radar_svg(
    axes: list[Mapping], series_label: str, peer_label: str, *, size: float = 300.0, width_chars: int = 6
) -> Markup:
    """Radar chart: one axis per dimension (0-100), the provider's polygon and its peer average.
    A missing score (insufficient dimension) is drawn at 0 with an open marker. The canvas grows to fit
    the labels (Chinese names are short, English ones long), so nothing is clipped."""
    n = len(axes)
    fs, step = 11.0, 12.5
    r = size * 0.34
    angles = [-math.pi / 2 + 2 * math.pi * i / n for i in range(n)]
    labels = [_wrap(str(ax.get("label", "")), width_chars) for ax in axes]
    side = [
        max(_text_width(line, fs) for line in lines) for lines, a in zip(labels, angles) if abs(math.cos(a)) >= 0.3
    ] or [0.0]
    ends = [len(lines) + 1 for lines, a in zip(labels, angles) if abs(math.sin(a)) > 0.3] or [1]
    margin_x = max(side) + 16
    margin_y = max(ends) * step + 12
    w = 2 * (r + margin_x)
    legend_h = 18
    h = 2 * (r + margin_y) + legend_h
    cx, cy = w / 2, r + margin_y
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_f(w)} {_f(h)}" width="100%" '
        f'style="font-family: {FONT_CSS}" font-family="{FONT}" class="radar" role="img">'
    ]

    def point(i: int, v: float) -> tuple[float, float]:
        return cx + r * v / 100 * math.cos(angles[i]), cy + r * v / 100 * math.sin(angles[i])

    for ring in (20, 40, 60, 80, 100):
        pts = " ".join(f"{_f(x)},{_f(y)}" for x, y in (point(i, ring) for i in range(n)))
        out.append(
            f'<polygon points="{pts}" fill="none" stroke="#c9ced6" stroke-width="{0.8 if ring == 100 else 0.5}"/>'
        )
        x, y = point(0, ring)
        out.append(f'<text x="{_f(x + 2)}" y="{_f(y + 3)}" font-size="8" fill="#8a929c">{ring}</text>')
    for i in range(n):
        x, y = point(i, 100)
        out.append(f'<line x1="{_f(cx)}" y1="{_f(cy)}" x2="{_f(x)}" y2="{_f(y)}" stroke="#c9ced6" stroke-width="0.5"/>')
    vals = [a.get("value") for a in axes]
    out += series_polygons(
        axes, point, _f, 'stroke-width="1.4" stroke-dasharray="4,2"', 'fill-opacity="0.18" stroke-width="1.6"'
    )
    for i, v in enumerate(vals):
        x, y = point(i, v or 0)
        fill = SERIES if v is not None else "#ffffff"
        out.append(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="2.2" fill="{fill}" stroke="{SERIES}" stroke-width="0.8"/>')
    for i, ax in enumerate(axes):
        a = angles[i]
        lx, ly = cx + (r + 10) * math.cos(a), cy + (r + 10) * math.sin(a)
        c = math.cos(a)
        anchor = "middle" if abs(c) < 0.3 else ("start" if c > 0 else "end")
        lines = labels[i]
        score = "—" if ax.get("value") is None else f"{ax['value']:.1f}"
        block = len(lines) + 1
        if math.sin(a) < -0.3:  # above the chart: grow upwards
            top = ly - (block - 1) * step
        elif math.sin(a) > 0.3:  # below: grow downwards
            top = ly + fs
        else:  # sides: centre the block on the axis
            top = ly - (block - 2) * step / 2
        for k, line in enumerate(lines):
            out.append(
                f'<text x="{_f(lx)}" y="{_f(top + k * step)}" font-size="{fs:g}" fill="#222" '
                f'text-anchor="{anchor}">{escape(line)}</text>'
            )
        out.append(
            f'<text x="{_f(lx)}" y="{_f(top + len(lines) * step)}" font-size="{fs:g}" font-weight="bold" '
            f'fill="{SERIES}" text-anchor="{anchor}">{escape(score)}</text>'
        )
    # legend
    ly = h - 5
    out.append(
        f'<line x1="{_f(4)}" y1="{_f(ly - 3.5)}" x2="{_f(20)}" y2="{_f(ly - 3.5)}" stroke="{SERIES}" stroke-width="2"/>'
    )
    out.append(f'<text x="24" y="{_f(ly)}" font-size="10" fill="#222">{escape(series_label)}</text>')
    lx2 = 24 + _text_width(series_label, 10) + 14
    out.append(
        f'<line x1="{_f(lx2)}" y1="{_f(ly - 3.5)}" x2="{_f(lx2 + 16)}" y2="{_f(ly - 3.5)}" stroke="{PEER}" '
        f'stroke-width="1.6" stroke-dasharray="4,2"/>'
    )
    out.append(f'<text x="{_f(lx2 + 20)}" y="{_f(ly)}" font-size="10" fill="#222">{escape(peer_label)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def hbar_svg(
    rows: Iterable[Mapping],
    *,
    width: float = 360.0,
    bar_h: float = 14.0,
    label_w: float = 70.0,
    value_key: str = "count",
    label_key: str = "grade",
    text_key: str | None = None,
    colour_key: str | None = "colour",
    colour: str = SERIES,
    max_value: float | None = None,
) -> Markup:
    """Horizontal bars with the label on the left and the value text after the bar."""
    rows = list(rows)
    top = max([float(r.get(value_key) or 0) for r in rows] + [max_value or 0, 1e-9])
    h = len(rows) * (bar_h + 6) + 6
    span = width - label_w - 70
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_f(width)} {_f(h)}" width="100%" '
        f'style="font-family: {FONT_CSS}" font-family="{FONT}" class="bars" role="img">'
    ]
    for i, r in enumerate(rows):
        y = 6 + i * (bar_h + 6)
        v = float(r.get(value_key) or 0)
        bw = span * v / top
        fill = (r.get(colour_key) if colour_key else None) or colour
        out.append(
            f'<text x="{_f(label_w - 4)}" y="{_f(y + bar_h * 0.75)}" font-size="9" text-anchor="end" '
            f'fill="#222">{escape(str(r.get(label_key, "")))}</text>'
        )
        out.append(
            f'<rect x="{_f(label_w)}" y="{_f(y)}" width="{_f(max(bw, 0.5))}" height="{_f(bar_h)}" fill="{fill}"/>'
        )
        text = str(r.get(text_key)) if text_key else f"{v:g}"
        out.append(
            f'<text x="{_f(label_w + bw + 4)}" y="{_f(y + bar_h * 0.75)}" font-size="9" fill="#222">'
            f"{escape(text)}</text>"
        )
    out.append("</svg>")
    return Markup("".join(out))


def radar_figure(
    axes: list[Mapping],
    series_label: str = "",
    peer_label: str = "",
    *,
    width: float = 72.0,
    label_size: float = 7.0,
    label_line: float = 8.6,
    side_max: float = 13.0,
    lang: str = "zh",
) -> Markup:
    """The radar for the PDF card: the shapes as an SVG of a few elements and no text, the axis labels as
    one pre-formatted text block over it (see textgrid.py for why: weasyprint lays SVG text out one glyph
    at a time, and each SVG element, HTML box and line box costs about a millisecond; the HTML card uses
    radar_svg()). Sizes in mm, fonts in pt. Each label: the dimension's name, then its score (class rv)
    and the peer average. Label lines sit on the text block's line grid, so the chart is built around
    that grid; the top and bottom labels move away from the chart rather than touch a side label. The
    last line is the legend (line samples drawn in the SVG)."""
    from pingyi.report.textgrid import place
    from pingyi.report.textmetrics import MM, balanced_wrap, text_width

    n = len(axes)
    lh = label_line / MM  # mm per label line
    angles = [-math.pi / 2 + 2 * math.pi * i / n for i in range(n)]
    sides = [abs(math.cos(a)) >= 0.3 for a in angles]
    names = [
        balanced_wrap(str(ax.get("label", "")), (side_max if side else 2.2 * side_max) * MM, label_size, 3, lang)
        for ax, side in zip(axes, sides)
    ]
    scores = []
    for ax in axes:
        v, p = ax.get("value"), ax.get("peer")
        scores.append(("—" if v is None else f"{v:.1f}", "" if p is None else f" / {p:.1f}"))
    side_w = (
        max(
            [text_width(x, label_size, lang) / MM for lines, s in zip(names, sides) if s for x in lines]
            + [text_width(a + b, label_size, lang) / MM for a, b in scores]
        )
        + 0.6
    )
    gap = 1.4
    r = width / 2 - gap - side_w
    cx = width / 2
    # labels on the text block's line grid: first line, x of the anchor, alignment, lines of (text, class)
    blocks: list[dict[str, Any]] = []
    for i in range(n):
        c, s = math.cos(angles[i]), math.sin(angles[i])
        ax_x, ax_y = cx + (r + gap) * c, (r + gap) * s  # y from the centre
        rows = [[(t, "")] for t in names[i]] + [[(scores[i][0], "rv"), (scores[i][1], "")]]
        if s < -0.3:  # above: the block ends at the axis end
            top = ax_y - len(rows) * lh
        elif s > 0.3:  # below: it starts there
            top = ax_y
        else:  # beside: centred on it
            top = ax_y - len(rows) * lh / 2
        align = "c" if abs(c) < 0.3 else ("l" if c > 0 else "r")
        w = max(text_width("".join(t for t, _ in row), label_size, lang) / MM for row in rows)
        left = ax_x - (w if align == "r" else w / 2 if align == "c" else 0)
        blocks.append(
            {"first": round(top / lh), "x": ax_x, "align": align, "rows": rows, "span": (left, left + w), "s": s}
        )

    def clash(b: dict) -> bool:
        lines = set(range(b["first"], b["first"] + len(b["rows"])))
        return any(
            o is not b
            and lines & set(range(o["first"], o["first"] + len(o["rows"])))
            and b["span"][0] < o["span"][1] + 1.0
            and o["span"][0] < b["span"][1] + 1.0
            for o in blocks
        )

    for b in blocks:  # the top and bottom labels move away from the chart rather than touch a side label
        while b["align"] == "c" and clash(b):
            b["first"] += -1 if b["s"] < 0 else 1
    shift = -min(b["first"] for b in blocks)  # whole lines above the centre
    cy = shift * lh  # the centre of the chart
    for b in blocks:
        b["first"] += shift
    last = max(b["first"] + len(b["rows"]) for b in blocks)
    legend_row = last + 1 if (series_label or peer_label) else None  # after an empty line
    height = ((legend_row + 1) if legend_row is not None else last) * lh + 0.6

    def point(i: int, v: float) -> tuple[float, float]:
        return cx + r * v / 100 * math.cos(angles[i]), cy + r * v / 100 * math.sin(angles[i])

    def f(x: float) -> str:
        return f"{x:.2f}"

    grid_d = []
    for ring in (20, 40, 60, 80, 100):
        pts = [point(i, ring) for i in range(n)]
        grid_d.append("M" + "L".join(f"{f(x)},{f(y)}" for x, y in pts) + "Z")
    for i in range(n):
        x, y = point(i, 100)
        grid_d.append(f"M{f(cx)},{f(cy)}L{f(x)},{f(y)}")
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="radar" role="img" viewBox="0 0 {f(width)} {f(height)}" '
        f'width="{f(width)}mm" height="{f(height)}mm" font-family="{FONT}">',
        f'<path d="{"".join(grid_d)}" fill="none" stroke="#c4cbd4" stroke-width="0.18"/>',
    ]
    vals = [a.get("value") for a in axes]
    svg += series_polygons(
        axes, point, f, 'stroke-width="0.45" stroke-dasharray="1.2,0.7"', 'fill-opacity="0.16" stroke-width="0.5"'
    )
    marks = "".join(f"M{f(x)},{f(y)}h0" for x, y in (point(i, v or 0) for i, v in enumerate(vals)))
    svg.append(f'<path d="{marks}" stroke="{SERIES}" stroke-width="1.4" stroke-linecap="round"/>')  # dots
    sample = 5.0  # mm: a legend's line sample
    placed: dict[int, list[tuple[float, str, list]]] = {}
    for b in blocks:
        for k, row in enumerate(b["rows"]):
            placed.setdefault(b["first"] + k, []).append((b["x"], b["align"], row))
    if legend_row is not None:
        ly = (legend_row + 0.5) * lh
        peer_x = sample + 1.0 + text_width(series_label, label_size, lang) / MM + 4.0
        svg.append(f'<path d="M0.3,{f(ly)}H{f(sample)}" stroke="{SERIES}" stroke-width="0.6"/>')
        svg.append(
            f'<path d="M{f(peer_x)},{f(ly)}H{f(peer_x + sample - 0.3)}" stroke="{PEER}" stroke-width="0.5" '
            f'stroke-dasharray="1.2,0.7"/>'
        )
        placed.setdefault(legend_row, []).extend(
            [(sample + 1.0, "l", [(series_label, "")]), (peer_x + sample + 1.0, "l", [(peer_label, "")])]
        )
    svg.append("</svg>")
    lines = [place(placed.get(k, []), label_size, lang) for k in range(max(placed) + 1 if placed else 0)]
    text = Markup("\n").join(lines)
    return Markup(
        f'<div class="radar-box" style="height:{f(height)}mm">{"".join(svg)}'
        f'<div class="rl" style="font-size:{label_size:g}pt;line-height:{label_line:g}pt">{text}</div></div>'
    )
