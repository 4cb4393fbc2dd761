"""The Excel workbook (openpyxl, write-only/streaming): summary, indicators, adjustments, about, and
optionally one sheet per provider — all rendered from the same contexts as the PDF and HTML.

- Numbers are written as the numbers of results.json (the totals equal scores.csv exactly); number
  formats do the display: percent `0.0%`, yuan `#,##0.00`, scores `0.00`.
- Every text cell is written as an inline string (`data_type = "s"`), never as a formula: a provider
  named `=HYPERLINK(...)` stays text (OWASP CSV/formula injection), and so do `+`, `-`, `@` and
  error-code-like values such as `#N/A`.
- Traffic-light fills, frozen header row, autofilter, column widths that count a CJK character as two.
- Deterministic: zip entries carry a fixed date and docProps/core.xml no created/modified time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from pingyi import text as tx
from pingyi.report import labels as lb
from pingyi.report.xlsxbook import BookWriter

UNIT_FORMATS = {
    "percent": "0.0%",
    "yuan": "#,##0.00",
    "days": "0.0",
    "minutes": "0.0",
    "count": "#,##0",
    "per_10k": "0.00",
    "score": "0.0",
    "index": "0.000",
    "ratio": "0.000",
}
SCORE_FMT = "0.00"
TOTAL_FMT = "0.0000"
WEIGHT_FMT = "0.00%"
PERCENTILE_FMT = "0"  # 0-100: the share of same region-and-level peers a provider does better than
RATE_FMT = "0.00%"
YUAN_FMT = "#,##0.00"
PER_PROVIDER_SHEETS_MAX = 200  # one sheet per provider up to this many providers ("auto")
BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _fill(light: Mapping | None) -> str | None:
    return lb.LIGHT_FILLS.get((light or {}).get("key", ""))


def _sheet_title(title: str, used: set[str]) -> str:
    base = BAD_SHEET_CHARS.sub("_", title).strip("'")[:31] or "sheet"
    name, k = base, 2
    while name.lower() in used:
        suffix = f"~{k}"
        name, k = base[: 31 - len(suffix)] + suffix, k + 1
    used.add(name.lower())
    return name


def build_workbook(cards: Iterable[dict], committee: dict, *, per_provider: bool | None = None) -> BookWriter:
    cards = list(cards)
    L = committee["L"]
    zh = committee["lang"] == "zh"
    book = BookWriter()
    used: set[str] = set()
    dims = [(d["code"], d["name"]) for d in cards[0]["dimensions"]] if cards else []

    # ---- summary: one row per provider, in results order (the order of scores.csv)
    summary = book.sheet(
        _sheet_title("汇总" if zh else "Summary", used),
        [
            L["code"],
            L["name"],
            L["province"],
            L["region"],
            L["level"],
            L["type"],
            L["total"],
            L["grade"],
            L["rank"],
            L["rank_peers"],
            L["peer_percentile"],
            *[f"{c} {n}" for c, n in dims],
            *(f"{L['light']}:{tx.LIGHT_SHORT[committee['lang']][k]}" for k in ("red", "yellow", "green", "grey")),
            L["prepayment"],
            L["rate"],
            L["amount"],
            L["new_prepayment"],
            L["designation"],
        ],
        widths_max=40,
        freeze="C2",
    )
    for c in cards:
        p, a = c["provider"], c["adjustment"]
        fill = _fill(c["light"])
        summary.add(
            [
                summary.text(p["code"]),
                summary.text(p["name"]),
                summary.text(p["province_name"]),
                summary.text(p["region_label"]),
                summary.text(p["level_label"]),
                summary.text(p["type"]),
                summary.num(c["total"], TOTAL_FMT, fill, bold=True),
                summary.text(c["grade"], fill),
                c["rank"],
                c["peer_rank"],
                summary.num(c["peer_percentile"], PERCENTILE_FMT),
                *[summary.num(d["score"], SCORE_FMT, _fill(d["light"])) for d in c["dimensions"]],
                *(c["lights"][k] for k in ("red", "yellow", "green", "grey")),
                summary.num(a["prepayment"], YUAN_FMT),
                summary.num(a["rate"], RATE_FMT),
                summary.num(a["amount"], YUAN_FMT),
                summary.num(a["new_prepayment"], YUAN_FMT),
                summary.text(a["designation_short"], lb.LIGHT_FILLS["red"] if a["at_risk"] else None),
            ]
        )
    summary.close()

    # ---- indicators: one row per provider x indicator
    ind = book.sheet(
        _sheet_title("指标明细" if zh else "Indicators", used),
        [
            L["code"],
            L["name"],
            L["dimension"],
            L["indicator"] + " ID",
            L["indicator"],
            L["unit"],
            L["value"],
            L["baseline"],
            L["benchmark"],
            L["prior"],
            L["change"],
            L["light"],
            L["score"],
            L["weight"],
            L["nominal_weight"],
            L["contribution"],
            L["peer_percentile"],
            L["raw_value"],
            L["adjusted_value"],
            L["counted"],
            L["status"],
            L["reason"],
        ],
        widths_max=36,
        freeze="F2",
    )
    counted = {"raw": L["raw_value"], "adjusted": L["adjusted_value"]}  # which value was scored
    for c in cards:
        p = c["provider"]
        for d in c["dimensions"]:
            dim = f"{d['code']} {d['name']}"
            for r in d["indicators"]:
                fmt = UNIT_FORMATS.get(r["unit"])
                fill = _fill(r["light"])
                ind.add(
                    [  # a cell object is written once: never share one between rows (openpyxl reuses it)
                        ind.text(p["code"]),
                        ind.text(p["name"]),
                        ind.text(dim),
                        ind.text(r["code"]),
                        ind.text(r["name"]),
                        ind.text(r["unit_label"]),
                        ind.num(r["value"], fmt),
                        ind.num(r["baseline"], fmt),
                        ind.num(r["benchmark"], fmt),
                        ind.num(r["prior"], fmt),
                        ind.num(r["delta"], fmt),
                        ind.text(r["light"]["label"], fill),
                        ind.num(r["score"], SCORE_FMT, fill),
                        ind.num(r["weight"], WEIGHT_FMT),
                        ind.num(r["nominal_weight"], WEIGHT_FMT),
                        ind.num(r["contribution"], SCORE_FMT),
                        ind.num(r["peer_percentile"], PERCENTILE_FMT),
                        ind.num(r["raw_value"], fmt),
                        ind.num(r["adjusted_value"], fmt),
                        ind.text(counted.get(r["casemix"], "")) if r["adjusted_value"] is not None else None,
                        ind.text(r["status_label"] + (f"（{r['absence_label']}）" if r["absence_label"] else "")),
                        ind.text(r["reason"]),
                    ]
                )
    ind.close()

    # ---- adjustments
    adj = book.sheet(
        _sheet_title("预付金调整" if zh else "Adjustments", used),
        [
            L["code"],
            L["name"],
            L["total"],
            L["grade"],
            L["prepayment"],
            L["prepayment_source"],
            L["rate"],
            L["amount"],
            L["new_prepayment"],
            L["rule"],
            L["rule_raw"],
            L["designation"],
            L["credit_rating"],
            L["credit_status"],
            L["credit_amount"],
        ],
        widths_max=50,
        freeze="C2",
    )
    for c in cards:
        p, a = c["provider"], c["adjustment"]
        adj.add(
            [
                adj.text(p["code"]),
                adj.text(p["name"]),
                adj.num(c["total"], TOTAL_FMT),
                adj.text(c["grade"], _fill(c["light"])),
                adj.num(a["prepayment"], YUAN_FMT),
                adj.text(a["prepayment_source"]),
                adj.num(a["rate"], RATE_FMT),
                adj.num(a["amount"], YUAN_FMT),
                adj.num(a["new_prepayment"], YUAN_FMT),
                adj.text(a["rule_text"]),
                adj.text(a["rule"]),
                adj.text(a["designation_label"], lb.LIGHT_FILLS["red"] if a["at_risk"] else None),
                adj.text(a["credit_rating"]),
                adj.text(a["credit_text"]),
                adj.num(a["credit_amount"], YUAN_FMT),
            ]
        )
    adj.close()

    # ---- about: year, system, budget, legend
    b = committee["budget"]
    about = book.sheet(
        _sheet_title("说明" if zh else "About", used), [L["name"], L["value"]], widths_max=90, autofilter=False
    )
    for k, v in (
        (L["committee_title"], committee["year_title"]),
        ("system", f"{committee['system']} {committee['system_version']}"),
        ("pingyi", committee["version"]),
        (L["providers_n"], committee["n"]),
        (L["mode"], b["mode_label"]),
    ):
        about.add([about.text(k), about.text(v) if isinstance(v, str) else v])
    for key in ("penalties", "rewards", *(("credit",) if b["credit_on"] else ()), "net"):
        label = {"credit": "credit_total", "net": "net_credit" if b["credit_on"] else "net"}.get(key, key)
        about.add([about.text(L[label]), about.num(b[key], YUAN_FMT)])
    for key, label in tx.LIGHT_SHORT[committee["lang"]].items():
        about.add([about.text(f"{L['light']}: {label}", lb.LIGHT_FILLS[key]), about.text(key)])
    about.add([about.text(L["weight"]), about.text(L["weight_note"])])
    about.add([about.text(L["fix_first"]), about.text(L["fix_first_note"])])
    about.close()

    # ---- one sheet per provider
    if per_provider is None:
        per_provider = len(cards) <= PER_PROVIDER_SHEETS_MAX
    if per_provider:
        for c in cards:
            p = c["provider"]
            sh = book.sheet(
                _sheet_title(p["code"], used),
                [
                    L["indicator"] + " ID",
                    L["indicator"],
                    L["value"],
                    L["baseline"],
                    L["prior"],
                    L["change"],
                    L["light"],
                    L["score"],
                    L["weight"],
                    L["peer_mean"],
                    L["peer_percentile"],
                    L["reason"],
                ],
                widths_max=40,
                autofilter=False,
            )
            for d in c["dimensions"]:
                sh.add(
                    [
                        sh.text(d["code"], lb.LIGHT_FILLS["none"], bold=True),
                        sh.text(d["name"], lb.LIGHT_FILLS["none"], bold=True),
                        None,
                        None,
                        None,
                        None,
                        sh.text(d["light"]["label"], _fill(d["light"])),
                        sh.num(d["score"], SCORE_FMT, _fill(d["light"])),
                        sh.num(d["weight"], WEIGHT_FMT),
                        sh.num(d["peer_mean"], SCORE_FMT),
                        None,
                        None,
                    ]
                )
                for r in d["indicators"]:
                    fmt = UNIT_FORMATS.get(r["unit"])
                    fill = _fill(r["light"])
                    sh.add(
                        [
                            sh.text(r["code"]),
                            sh.text(r["name"]),
                            sh.num(r["value"], fmt),
                            sh.num(r["baseline"], fmt),
                            sh.num(r["prior"], fmt),
                            sh.num(r["delta"], fmt),
                            sh.text(r["light"]["label"], fill),
                            sh.num(r["score"], SCORE_FMT, fill),
                            sh.num(r["weight"], WEIGHT_FMT),
                            sh.num(r["peer_mean"], fmt),
                            sh.num(r["peer_percentile"], PERCENTILE_FMT),
                            sh.text(r["reason"]),
                        ]
                    )
            sh.add([])
            sh.add([sh.text(L["name"], bold=True), sh.text(p["name"])])
            sh.add([sh.text(L["total"], bold=True), sh.num(c["total"], TOTAL_FMT, _fill(c["light"]), bold=True)])
            sh.add([sh.text(L["grade"], bold=True), sh.text(c["grade"], _fill(c["light"]))])
            sh.add([sh.text(L["adjustment"], bold=True), sh.text(c["adjustment"]["rule_text"])])
            if c["adjustment"]["credit_text"]:
                sh.add([sh.text(L["credit"], bold=True), sh.text(c["adjustment"]["credit_text"])])
            for i, f in enumerate(c["fix_first"], 1):
                sh.add(
                    [
                        sh.text(f"{L['fix_first']} {i}", bold=True),
                        sh.text(f"{f['code']} {f['name']}"),
                        sh.num(f["gain"], SCORE_FMT),
                    ]
                )
            sh.close()
    return book


def write_workbook(cards: Iterable[dict], committee: dict, path: Path, *, per_provider: bool | None = None) -> Path:
    data = build_workbook(cards, committee, per_provider=per_provider).save()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
