"""Funnel plot of one indicator as inline SVG (for the committee report).

`funnel_svg(results["funnels"][code], lang)` draws every provider's value against its volume n,
the target (baseline) and the 95 % / 99.8 % control limits with the indicator's overdispersion
correction (pingyi.score.funnel), points coloured by their light. Providers compared with different
targets (e.g. per level) get one panel per target, side by side. Pure: no I/O, deterministic text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from html import escape

from pingyi.score.funnel import FunnelFit

WIDTH = 720.0
HEIGHT = 360.0
COLOURS = {"green": "#2e7d32", "yellow": "#f9a825", "red": "#c62828", "grey": "#9e9e9e", "none": "#607d8b"}
TEXT = {
    "zh": {
        "title": "{code} {name}：漏斗图",
        "n": "样本量 n",
        "target": "基线",
        "l95": "95% 控制限",
        "l998": "99.8% 控制限",
        "od": "过度离散：φ = {phi}，τ² = {tau2}（{applied}）",
        "none": "无过度离散校正",
        "empty": "没有样本量达标的机构",
        "panel": "基线 {target}（{groups}）",
    },
    "en": {
        "title": "{code} {name}: funnel plot",
        "n": "volume n",
        "target": "baseline",
        "l95": "95 % limits",
        "l998": "99.8 % limits",
        "od": "overdispersion: φ = {phi}, τ² = {tau2} ({applied})",
        "none": "no correction",
        "empty": "no provider with enough volume",
        "panel": "baseline {target} ({groups})",
    },
}
LEVEL_EN = {"三级": "tertiary", "二级": "secondary", "一级及基层": "primary"}
APPLIED = {
    "zh": {"tau2": "加性随机效应τ²", "phi": "乘性φ", "none": "未校正"},
    "en": {"tau2": "additive τ²", "phi": "multiplicative φ", "none": "not applied"},
}


def _f(x: float) -> str:
    return f"{x:.1f}"


def _fmt(value: float, unit: str, step: float | None = None) -> str:
    if unit == "percent":
        pct = value * 100
        if step is None:
            dec = 2 if abs(pct) < 1 else 1
        else:
            dec = max(0, min(4, -math.floor(math.log10(step * 100))))
        return f"{pct:.{dec}f}%"
    if step is not None and step < 1:
        dec = max(0, min(4, -math.floor(math.log10(step))))
        return f"{value:.{dec}f}"
    return f"{value:,.1f}" if step is None else f"{value:,.0f}"


def _ticks(lo: float, hi: float, count: int = 4) -> tuple[list[float], float]:
    span = hi - lo
    if span <= 0:
        return [lo], 1.0
    raw = span / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    ticks = []
    t = first
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 12))
        t += step
    return ticks, step


def _fit(f: Mapping) -> FunnelFit:
    return FunnelFit(
        indicator=f.get("indicator", ""),
        method=f.get("method", "proportion"),
        overdispersion=f.get("overdispersion", "tau2"),
        applied=f.get("applied", "none"),
        phi=f.get("phi"),
        tau2=f.get("tau2"),
        units=int(f.get("units") or 0),
        trim=float(f.get("trim") or 0.1),
        note=f.get("note", ""),
    )


def funnel_svg(funnel: Mapping, lang: str = "zh") -> str:
    """Inline SVG of one indicator's funnel plot (a `funnels` entry of results.json)."""
    t = TEXT.get(lang, TEXT["zh"])
    unit = funnel.get("unit", "percent")
    name = funnel.get("name_zh" if lang == "zh" else "name_en") or ""
    points = list(funnel.get("points") or [])
    fit = _fit(funnel)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_f(WIDTH)} {_f(HEIGHT)}" width="{_f(WIDTH)}" '
        f'height="{_f(HEIGHT)}" font-family="Noto Sans CJK SC" font-size="11" role="img">'
    ]
    title = t["title"].format(code=funnel.get("indicator", ""), name=name)
    out.append(f"<title>{escape(title)}</title>")
    out.append(f'<text x="10" y="18" font-size="14" font-weight="bold" fill="#222">{escape(title)}</text>')
    if fit.phi is not None:
        od = t["od"].format(
            phi=f"{fit.phi:.3f}",
            tau2=f"{fit.tau2:.6f}" if fit.tau2 is not None else "—",
            applied=APPLIED.get(lang, APPLIED["zh"]).get(fit.applied, fit.applied),
        )
    else:
        od = f"{t['none']}: {fit.note}" if fit.note else t["none"]
    out.append(f'<text x="10" y="34" fill="#555">{escape(od)}</text>')
    if not points:
        out.append(
            f'<text x="{_f(WIDTH / 2)}" y="{_f(HEIGHT / 2)}" text-anchor="middle" fill="#777">'
            f"{escape(t['empty'])}</text></svg>"
        )
        return "".join(out)
    targets = sorted({float(p["target"]) for p in points})
    panel_w = (WIDTH - 20) / len(targets)
    for k, target in enumerate(targets):
        pts = [p for p in points if float(p["target"]) == target]
        groups = sorted({str(p.get("level") or "") for p in pts} - {""})
        if lang != "zh":
            groups = [LEVEL_EN.get(g, g) for g in groups]
        label = t["panel"].format(
            target=_fmt(target, unit), groups="、".join(groups) if lang == "zh" else ", ".join(groups)
        )
        out.append(_panel(fit, pts, target, unit, 10 + k * panel_w, 44, panel_w, HEIGHT - 74, label, t, k))
    # legend
    ly = HEIGHT - 12
    out.append(
        f'<line x1="12" y1="{_f(ly - 4)}" x2="36" y2="{_f(ly - 4)}" stroke="#333" stroke-width="1.5"/>'
        f'<text x="40" y="{_f(ly)}" fill="#333">{escape(t["target"])}</text>'
    )
    out.append(
        f'<line x1="110" y1="{_f(ly - 4)}" x2="134" y2="{_f(ly - 4)}" stroke="{COLOURS["yellow"]}" '
        f'stroke-width="1.5" stroke-dasharray="5 3"/><text x="138" y="{_f(ly)}" fill="#333">'
        f"{escape(t['l95'])}</text>"
    )
    out.append(
        f'<line x1="250" y1="{_f(ly - 4)}" x2="274" y2="{_f(ly - 4)}" stroke="{COLOURS["red"]}" '
        f'stroke-width="1.5"/><text x="278" y="{_f(ly)}" fill="#333">{escape(t["l998"])}</text>'
    )
    out.append("</svg>")
    return "".join(out)


def _panel(
    fit: FunnelFit,
    pts: list,
    target: float,
    unit: str,
    x0: float,
    y0: float,
    w: float,
    h: float,
    label: str,
    t: Mapping,
    k: int,
) -> str:
    left, bottom, right, top = 52.0, 30.0, 10.0, 18.0
    px0, py0, pw, ph = x0 + left, y0 + top, w - left - right, h - top - bottom
    n_max = max(float(p["n"]) for p in pts) * 1.1
    n_min = max(1.0, min(float(p["n"]) for p in pts) * 0.5)
    ns = [n_min + (n_max - n_min) * i / 79 for i in range(80)]
    curves: dict[str, tuple[list[tuple[float, float]], list[tuple[float, float]]]] = {"95": ([], []), "99.8": ([], [])}
    for n in ns:
        lim = fit.limits(n, target) or {}
        for key in curves:
            if key in lim:
                curves[key][0].append((n, lim[key][0]))
                curves[key][1].append((n, lim[key][1]))
    y_vals = [float(p["value"]) for p in pts] + [target]
    first = fit.limits(min(float(p["n"]) for p in pts), target)
    if first:
        y_vals.append(first["99.8"][1])
    y_hi = max(y_vals) * 1.1 if max(y_vals) > 0 else 1.0
    y_lo = 0.0
    yt, ystep = _ticks(y_lo, y_hi)
    y_hi = max(y_hi, yt[-1])
    xt, _ = _ticks(0.0, n_max)

    def sx(n: float) -> float:
        return px0 + pw * n / n_max

    def sy(v: float) -> float:
        return py0 + ph * (1 - (v - y_lo) / (y_hi - y_lo))

    clip = f"fclip{k}"
    out = [
        f'<g><text x="{_f(px0)}" y="{_f(y0 + 10)}" fill="#333">{escape(label)}</text>',
        f'<clipPath id="{clip}"><rect x="{_f(px0)}" y="{_f(py0)}" width="{_f(pw)}" height="{_f(ph)}"/></clipPath>',
        f'<rect x="{_f(px0)}" y="{_f(py0)}" width="{_f(pw)}" height="{_f(ph)}" fill="none" stroke="#bbb"/>',
    ]
    for v in yt:
        out.append(
            f'<line x1="{_f(px0 - 3)}" y1="{_f(sy(v))}" x2="{_f(px0)}" y2="{_f(sy(v))}" stroke="#999"/>'
            f'<text x="{_f(px0 - 5)}" y="{_f(sy(v) + 3)}" text-anchor="end" font-size="9" fill="#555">'
            f"{escape(_fmt(v, unit, ystep))}</text>"
        )
    for n in xt:
        out.append(
            f'<line x1="{_f(sx(n))}" y1="{_f(py0 + ph)}" x2="{_f(sx(n))}" y2="{_f(py0 + ph + 3)}" '
            f'stroke="#999"/><text x="{_f(sx(n))}" y="{_f(py0 + ph + 13)}" text-anchor="middle" font-size="9" '
            f'fill="#555">{n:,.0f}</text>'
        )
    out.append(
        f'<text x="{_f(px0 + pw / 2)}" y="{_f(py0 + ph + 26)}" text-anchor="middle" fill="#555">{escape(t["n"])}</text>'
    )
    out.append(f'<g clip-path="url(#{clip})">')
    out.append(
        f'<line x1="{_f(px0)}" y1="{_f(sy(target))}" x2="{_f(px0 + pw)}" y2="{_f(sy(target))}" '
        f'stroke="#333" stroke-width="1.5"/>'
    )
    for key, colour, dash in (("95", COLOURS["yellow"], ' stroke-dasharray="5 3"'), ("99.8", COLOURS["red"], "")):
        for side in curves[key]:
            if side:
                path = " ".join(f"{'M' if i == 0 else 'L'}{_f(sx(n))},{_f(sy(v))}" for i, (n, v) in enumerate(side))
                out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.5"{dash}/>')
    for p in sorted(pts, key=lambda p: str(p.get("fixmedins_code"))):
        colour = COLOURS.get(str(p.get("light")), COLOURS["grey"])
        tip = f"{p.get('fixmedins_name') or p.get('fixmedins_code')}: {_fmt(float(p['value']), unit)}, n = {float(p['n']):,.0f}"
        if p.get("z") is not None:
            tip += f", z = {float(p['z']):+.2f}"
        out.append(
            f'<circle cx="{_f(sx(float(p["n"])))}" cy="{_f(sy(float(p["value"])))}" r="4" fill="{colour}" '
            f'stroke="#fff" stroke-width="0.8"><title>{escape(tip)}</title></circle>'
        )
    out.append("</g></g>")
    return "".join(out)
