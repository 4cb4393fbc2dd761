"""The dense parts of the one-page provider card, laid out as text grids (see textgrid.py).

`card_parts(ctx)` turns a provider context (context.provider_context) into what card.html places: the
indicator grid (all secondary indicators grouped by dimension, each dimension a group row), the changes
grid, the data-quality grid, the adjustment grid and the radar figure. Column widths are in mm, sized for
an A4 page with 8 mm side margins: a left column of LEFT mm and a right column of RIGHT mm.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from pingyi.report.charts import radar_figure, radar_svg
from pingyi.report.textgrid import Col, Grid, Light, grid, place
from pingyi.report.textmetrics import MM, clip, text_width

PAGE = 194.0  # mm between the side margins
LEFT, RIGHT = 118.0, 72.0
TYPE = {"zh": (7.5, 9.4), "en": (6.7, 8.6)}  # pt: the grids' font size and line pitch (English names are longer)
QUALITY_ROWS = 4  # data-quality checks listed on the PDF card (all of them are in the workbook)
CASEMIX_ROWS = (
    1  # case-mix sentences under the PDF card's grid (all are in the HTML card; the values line has the rest)
)

WIDTHS: dict[
    str, dict[str, Any]
] = {  # per language: the indicator, changes, quality and adjustment grids (mm; each adds up to its column)
    "zh": {
        "ind": (9.5, 38.5, 14.0, 14.0, 10.5, 10.5, 12.0, 9.0),
        "chg": (27.0, 12.5, 12.5, 20.0),
        "q": (19.5, 17.5, 8.0, 14.5, 12.5),
        "adj": (18.5, 53.5),
        "side": 15.0,
    },
    "en": {
        "ind": (8.0, 54.2, 11.6, 11.6, 10.0, 7.2, 8.6, 6.8),
        "chg": (29.0, 13.0, 13.0, 17.0),
        "q": (20.0, 15.5, 10.5, 12.5, 13.5),
        "adj": (23.0, 49.0),
        "side": 19.0,
    },
}


def _light(light: Mapping) -> Light:
    return Light(light.get("key", "grey"), light.get("label", ""))


def _grid(ctx: Mapping, cols, rows, **kw) -> Grid:
    size, line = TYPE[ctx["lang"]]
    return grid(cols, rows, size=size, line=line, colours=ctx["light_colours"], lang=ctx["lang"], **kw)


def indicator_grid(
    ctx: Mapping, dimensions: list[Mapping] | None = None, *, head: bool = True, notes: bool = True
) -> Grid:
    """The indicators of `dimensions` (default: all), each dimension a group row, then its indicators, then
    (`notes`) the line of how many of them lack data and its two weights, across the grid."""
    L, w = ctx["L"], WIDTHS[ctx["lang"]]["ind"]
    cols = [
        Col(L["code"] if ctx["lang"] == "en" else "编号", w[0]),
        Col(L["indicator"], w[1], wrap=True, max_lines=3),
        Col(L["value"], w[2], "r"),
        Col(L["baseline"], w[3], "r"),
        Col(L["light"], w[4], indent=2.4 if ctx["lang"] == "zh" else 0.0),
        Col(L["score"], w[5], "r"),
        Col(L["weight"], w[6], "r"),
        Col(L["percentile"], w[7], "r"),
    ]
    rows = []
    for d in ctx["dimensions"] if dimensions is None else dimensions:
        rows.append(
            {
                "kind": "group",
                "cells": [
                    d["code"],
                    d["name"],
                    "",
                    "",
                    _light(d["light"]),
                    d["score_display"],
                    d["weight_display"],
                    "",
                ],
            }
        )
        for r in d["indicators"]:
            value = r["value_display"] + (CASEMIX_MARK if casemix_counted(r) else "")
            rows.append(
                {
                    "kind": "row",
                    "cls": f"status-{r['status']}",
                    "cells": [
                        r["code"],
                        r["name"],
                        value,
                        r["baseline_display"],
                        _light(r["light"]),
                        r["score_display"],
                        r["weight_display"],
                        r["peer_percentile_short"],
                    ],
                }
            )
        if notes:  # under the dimension: how many of its indicators lack data, its effective and nominal weight
            rows.append({"kind": "note", "cells": [(d["weights_line"], "dimnote")]})
    return _grid(ctx, cols, rows, head=head)


def lacking_note(ctx: Mapping) -> str:
    """The PDF card's one note under the indicator grid: for each dimension with indicators lacking data
    (only there do its effective and nominal weights differ), how many and its two weights. One A4 page
    has no room for a line under each of eight dimensions; the HTML card has them."""
    L = ctx["L"]
    items = [
        L["dim_lacking_item"].format(
            code=d["code"],
            n=len(d["indicators"]),
            m=d["lacking"],
            effective=d["weight_display"],
            nominal=d["nominal_weight_display"],
        )
        # the largest weight moves first: a note too long for its line loses the smallest
        for d in sorted(
            (d for d in ctx["dimensions"] if d["lacking"]),
            key=lambda d: (-abs((d["weight"] or 0) - (d["nominal_weight"] or 0)), d["code"]),
        )
    ]
    if not items:
        return ""
    sep = "；" if ctx["lang"] == "zh" else "; "
    return clip(L["dims_lacking"] + sep.join(items), sum(WIDTHS[ctx["lang"]]["ind"]), LACKING_PT, 2, ctx["lang"])


LACKING_PT = 6.2  # the note's type (card.css .lacking): small, at most two lines, so the card keeps its texts whole


CASEMIX_MARK = "*"  # after a value that is case-mix adjusted (the grid's note says so)


def casemix_counted(row: Mapping) -> bool:
    """The scored value is the case-mix-adjusted one."""
    return row.get("casemix") == "adjusted" and row.get("adjusted_value_display", "—") != "—"


def casemix_rows(ctx: Mapping, medium: str = "html") -> list[Mapping]:
    """The indicators with a case-mix sentence, in the order the card shows them: the PDF card, which has
    room for a few, first those whose light the adjustment changed, then the indicators' order."""
    rows = [r for r in ctx["indicators"] if r.get("casemix_note")]
    return sorted(rows, key=lambda r: not r.get("casemix_changed")) if medium == "pdf" else rows


def casemix_lines(ctx: Mapping, medium: str = "html") -> list[str]:
    """Under the indicator grid: for each indicator with a case-mix variant, both values and which counted."""
    sep = "：" if ctx["lang"] == "zh" else ": "  # the code only: the name is in the grid just above
    return [
        f"{CASEMIX_MARK if casemix_counted(r) else ''}{r['code']}{sep}{r['casemix_note']}"
        for r in casemix_rows(ctx, medium)
    ]


def casemix_values_line(ctx: Mapping, explained: int | None = None) -> str:
    """Both values of every indicator that has a case-mix-adjusted one and whose sentence (casemix_lines)
    is not shown ("D2.03 6.5%→6.2%*"), ending the note under the indicator grid: with the sentences
    shown below it, the card gives both values of every adjusted indicator even where it has room for
    only one sentence. `explained`: how many sentences are shown (None: all)."""
    sentences = [r["code"] for r in casemix_rows(ctx, "html" if explained is None else "pdf")]
    shown = set(sentences if explained is None else sentences[:explained])
    items = [
        f"{r['code']} {r['raw_value_display']}→{r['adjusted_value_display']}{CASEMIX_MARK if casemix_counted(r) else ''}"
        for r in ctx["indicators"]
        if r["code"] not in shown
        and r.get("adjusted_value_display", "—") != "—"
        and r.get("raw_value_display", "—") != "—"
    ]
    if not items:
        return ""
    return ctx["L"]["casemix_values"] + ("；" if ctx["lang"] == "zh" else "; ").join(items)


def changes_grid(ctx: Mapping) -> Grid:
    L, w = ctx["L"], WIDTHS[ctx["lang"]]["chg"]
    cols = [
        Col(L["indicator"], w[0], wrap=True, max_lines=2),
        Col(L["prior"], w[1], "r"),
        Col(L["value"], w[2], "r"),
        Col(L["change"], w[3], "r"),
    ]
    rows = [
        {
            "kind": "row",
            "cells": [
                f"{c['code']} {c['name']}",
                c["prior_display"],
                c["value_display"],
                [(c["delta_display"], c["trend"])] + ([(c["trend_label"], c["trend"])] if c["trend_label"] else []),
            ],
        }
        for c in ctx["changes"]["items"]
    ]
    if not rows:
        rows = [{"kind": "row", "cells": [L["no_prior"], "", "", ""]}]
    return _grid(ctx, cols, rows)


def quality_grid(ctx: Mapping, shown: int = QUALITY_ROWS) -> Grid:
    """The failed data-quality checks: what failed (the reason), in which table, rejected or flagged, how
    many rows. The checks' technical definitions are in the workbook and the HTML card."""
    L, w = ctx["L"], WIDTHS[ctx["lang"]]["q"]
    cols = [
        Col(L["reason_code"], w[0], wrap=True, max_lines=2),
        Col(L["table"], w[1]),
        Col(L["severity"], w[2]),
        Col(L["failed"], w[3], "r"),
        Col(L["fail_rate"], w[4], "r"),
    ]
    rows = [
        {
            "kind": "row",
            "cells": [
                c["reason"] or c["check"],
                c["table"],
                c["severity"],
                f"{c['failed']:,}/{c['checked']:,}",
                c["rate_display"],
            ],
        }
        for c in ctx["quality"]["checks"][:shown]
    ]
    return _grid(ctx, cols, rows)


def adjustment_grid(ctx: Mapping) -> Grid:
    L, w, a = ctx["L"], WIDTHS[ctx["lang"]]["adj"], ctx["adjustment"]
    cols = [Col("", w[0], wrap=True, max_lines=2), Col("", w[1], wrap=True, max_lines=4)]
    money = {"down": "money-down", "up": "money-up"}.get(a["direction"], "")
    paren = "（{}）" if ctx["lang"] == "zh" else " ({})"
    size, lang = TYPE[ctx["lang"]][0], ctx["lang"]

    def cut(text: str, lines: int) -> str:  # long rule texts stay within `lines` lines of the value column
        return clip(text, w[1] - 1.6, size, lines, lang)

    rows = [
        [L["prepayment"], a["prepayment_display"] + paren.format(a["prepayment_source"])],
        [L["rate"], (a["rate_display"], money)],
        [L["amount"], (a["amount_display"], money)],
        [L["new_prepayment"], a["new_prepayment_display"]],
        [L["rule"], cut(a["rule_text"], 3)],
        # the machine record of the rule is English (results.json, the workbook): the Chinese card says it
        # in words above and in the credit line
        *([[L["rule_raw"], cut(a["rule"] or "—", 1)]] if lang == "en" else []),
        [L["designation"], (cut(a["designation_label"], 2), "risk" if a["at_risk"] else "")],
    ]
    if a.get("credit_text"):  # the credit bonus is on: granted, or why not
        rows.insert(len(rows) - 1, [L["credit"], (cut(a["credit_text"], 2), "money-up" if a["credit_granted"] else "")])
    return _grid(ctx, cols, [{"kind": "row", "cells": r} for r in rows], head=False)


KPI_SHARES = (0.17, 0.19, 0.21, 0.20, 0.23)
KPI_LINES = ((7.0, 9.0, 1.1), (13.0, 15.5, 4.2), (6.8, 8.4, 9.9))  # label, value, note: size pt, line pt, top mm
KPI_HEIGHT = 13.6  # mm


def kpi_cells(ctx: Mapping) -> list[dict]:
    """The key figures: total, grade, ranks, adjustment (label, value, note and their css classes)."""
    L, a = ctx["L"], ctx["adjustment"]
    veto = (L["veto"] + "：" + "、".join(ctx["veto"])) if ctx["veto"] else ""
    if ctx.get("eligibility"):
        veto = "；".join(x for x in (veto, ctx["eligibility"]) if x)
    # the last years' grades: the history that revokes designation after revoke_after failing years
    past = (", " if ctx["lang"] == "en" else "、").join(f"{y} {g}" for y, g in ctx.get("grade_history", [])[:3])
    cells = [
        {
            "label": L["total"],
            "value": ctx["total_display"],
            "note": f"{L['peer_mean']} {ctx['peer_total_mean_display']}",
        },
        {
            "label": L["grade"],
            "value": ctx["grade"],
            "cls": f"grade-{ctx['light']['key']}",
            "light": ctx["light"],
            "note": veto or (L["history_kpi"].format(past=past) if past else ""),
            "note_cls": "risk" if veto else "",
        },
        {"label": L["rank_all"], "value": ctx["rank_display"], "note": ctx.get("rank_interval") or ""},
        {
            "label": L["rank_peers"],
            "value": ctx["peer_rank_display"],
            # the group and its size, then the percentile or, under five peers, the caution instead (the
            # rank says as much, and the cell is narrow)
            "note": peer_kpi_note(ctx),
        },
        {
            "label": L["adjustment"],
            "value": a["rate_display"],
            "cls": f"money-{a['direction']}",
            "note": a["amount_display"],
        },
    ]
    return [{"cls": "", "light": None, "note_cls": "", **c} for c in cells]


def peer_kpi_note(ctx: Mapping) -> str:
    """三级·综合（6家）·P83, or 妇幼（2家，仅供参考）under five peers."""
    p = ctx["provider"]
    name = ctx.get("peer_group_name") or f"{p['region_label']}·{p['level_label']}"
    n, caution, en = ctx["peer_n"], ctx.get("peer_caution"), ctx["lang"] == "en"
    if caution:
        return f"{name} ({n}, {caution})" if en else f"{name}（{n}家，{caution}）"
    size = f"{name} ({n})" if en else f"{name}（{n}家）"
    if ctx["peer_percentile_short"] == "—":
        return size
    return size + (" · " if en else "·") + ctx["peer_percentile_short"]


def kpi_strip(ctx: Mapping, cells: list[dict], width: float = PAGE) -> Markup:
    """The key figures for the PDF: boxes drawn by one SVG path, and three lines of text (labels, values,
    notes), each one pre-formatted line with the cells placed by padding (see textgrid.place)."""
    xs = [width * sum(KPI_SHARES[:i]) for i in range(len(cells))]
    inset = 2.0
    border = "".join(f"M{x:.2f},0V{KPI_HEIGHT:.2f}" for x in xs[1:])
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.2f}mm" height="{KPI_HEIGHT:.2f}mm" '
        f'viewBox="0 0 {width:.2f} {KPI_HEIGHT:.2f}"><path d="M0.1,0.1H{width - 0.1:.2f}V{KPI_HEIGHT - 0.1:.2f}'
        f'H0.1Z{border}" fill="none" stroke="#c9d3df" stroke-width="0.21"/>'
    ]
    values = []
    v_size = KPI_LINES[1][0]
    for x, c in zip(xs, cells):
        pieces = [(c["value"], c.get("cls", ""))]
        if c.get("light"):  # a disc before the grade
            r = 0.3 * v_size / MM
            cy = KPI_LINES[1][2] + KPI_LINES[1][1] / MM / 2 + 0.25
            colour = ctx["light_colours"].get(c["light"]["key"], "#9e9e9e")
            svg.append(f'<circle cx="{x + inset + r:.2f}" cy="{cy:.2f}" r="{r:.2f}" fill="{colour}"/>')
            values.append((x + inset + 2 * r + 1.0, "l", pieces))
        else:
            values.append((x + inset, "l", pieces))
    svg.append("</svg>")
    room = [width * share - 2 * inset for share in KPI_SHARES]  # mm of text in a cell: notes are cut to fit
    lang = ctx["lang"]
    lines = [
        [(x + inset, "l", [(clip(c["label"], w, KPI_LINES[0][0], 1, lang), "")]) for x, w, c in zip(xs, room, cells)],
        values,
        [
            (x + inset, "l", [(clip(c["note"], w, KPI_LINES[2][0], 1, lang), c.get("note_cls", ""))])
            for x, w, c in zip(xs, room, cells)
            if c["note"]
        ],
    ]
    out = [f'<div class="kpi-pdf" style="height:{KPI_HEIGHT}mm">', *svg]
    for cls, (size, pitch, top), segs in zip(("k", "v", "s"), KPI_LINES, lines):
        out.append(
            f'<div class="kl {cls}" style="top:{top}mm;font-size:{size}pt;line-height:{pitch}pt">'
            f"{place(segs, size, ctx['lang'])}</div>"
        )
    out.append("</div>")
    return Markup("".join(out))


# How much of the long texts the PDF card keeps, from roomy to tight. A card is laid out at level 0; the
# rare card that would run onto a second page (long reasons, several case-mix notes, a long English grid)
# is laid out again at the next level (pdf.PdfRenderer.card). Lines: fix-first reason ("why") and check
# hint, case-mix sentences shown, data-quality checks and other notes shown.
FIT_LEVELS = (
    # first with the small-sample intervals (the one note a full card gives up before anything else)
    {"why": 2, "hint": 2, "casemix": CASEMIX_ROWS, "quality": QUALITY_ROWS, "other": 2, "intervals": 1},
    {"why": 2, "hint": 2, "casemix": CASEMIX_ROWS, "quality": QUALITY_ROWS, "other": 2, "intervals": 0},
    {"why": 2, "hint": 1, "casemix": CASEMIX_ROWS, "quality": QUALITY_ROWS, "other": 2, "intervals": 0},
    # no case-mix sentence: the values line then lists both values of every adjusted indicator
    {"why": 2, "hint": 0, "casemix": 0, "quality": QUALITY_ROWS, "other": 1, "intervals": 0},
    {"why": 1, "hint": 0, "casemix": 0, "quality": 2, "other": 0, "intervals": 0},
)


def card_parts(ctx: Mapping, medium: str = "pdf", fit: int = 0) -> dict:
    """Everything card.html needs beyond the context itself. The HTML card lists up to 50 quality checks.
    `fit`: the PDF card's level in FIT_LEVELS."""
    radar = ctx["radar"]
    room = FIT_LEVELS[fit]
    shown = room["quality"] if medium == "pdf" else 50
    kpis = kpi_cells(ctx)
    # a long provider name gets a smaller type (down to 11 pt) before it wraps
    name_w = text_width(ctx["provider"]["name"], 15, ctx["lang"]) / MM
    name_size = 0 if name_w <= PAGE - 2 else max(11.0, round(15 * (PAGE - 2) / name_w, 1))
    return {
        "name_size": name_size,
        "kpis": kpis,
        "kpi_strip": kpi_strip(ctx, kpis) if medium == "pdf" else "",
        "ind": indicator_grid(ctx, notes=medium != "pdf"),
        "lacking_note": lacking_note(ctx) if medium == "pdf" else "",
        "chg": changes_grid(ctx),
        "qual": quality_grid(ctx, shown),
        "adj": adjustment_grid(ctx),
        "quality_shown": shown,
        "room": room,
        "casemix_lines": casemix_lines(ctx, medium),
        "casemix_values": casemix_values_line(ctx, room["casemix"] if medium == "pdf" else None),
        "casemix_marked": any(casemix_counted(r) for r in ctx["indicators"]),
        # the PDF: shapes in SVG, labels as text over it (cheap in weasyprint); the screen: SVG with its text
        "radar_figure": radar_figure(
            radar["axes"],
            radar["series_label"],
            radar["peer_label"],
            width=RIGHT,
            side_max=WIDTHS[ctx["lang"]]["side"],
            lang=ctx["lang"],
        )
        if medium == "pdf"
        else radar_svg(
            radar["axes"], radar["series_label"], radar["peer_label"], width_chars=6 if ctx["lang"] == "zh" else 14
        ),
    }
